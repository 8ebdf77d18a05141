using System.Net;
using System.Text;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Addressing;
using Socks5UdpRelay.Server.Resolution;
using Socks5UdpRelay.Server.Transport;

namespace Socks5UdpRelay.Server.Relay;

/// <summary>What <see cref="NameTable.Lookup"/> found for a datagram to a name.</summary>
internal enum NameLookup
{
    /// <summary>The name has an address: send there now.</summary>
    Resolved,

    /// <summary>The datagram waits for the name's lookup.</summary>
    Queued,

    /// <summary>Too many datagrams already wait for this name: this one is dropped.</summary>
    QueueFull,

    /// <summary>The name failed lately and is not asked again yet: the datagram is dropped.</summary>
    Failed,

    /// <summary>Too many lookups in flight for the association, or too many bytes waiting: the datagram is dropped, the client may try again.</summary>
    Busy,
}

/// <summary>
/// An association's domain destinations. A name is resolved once per association in the
/// background while its first datagrams wait in a small queue, so a slow lookup never stalls the
/// association's other destinations; the lookup's result comes back on the association's loop,
/// where the waiting datagrams are handed to <c>onCompleted</c>. Bounded three ways: lookups in
/// flight for the association, bytes waiting for the association, and bytes waiting server-wide
/// (<see cref="ByteBudget"/>); past any of them a datagram is refused at once. Loop thread only,
/// except the lookup itself.
/// </summary>
internal sealed class NameTable
{
    private const int MaxPendingPerName = 16;
    private const int MaxNames = 1024;
    private static readonly TimeSpan FailureMemory = TimeSpan.FromSeconds(5);

    private readonly Dictionary<string, NameState> _names = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, NameState>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly CachingResolver _resolver;
    private readonly IRelayLoop _loop;
    private readonly TimeProvider _time;
    private readonly TimeSpan _cacheTime;
    private readonly Action<NameResolution> _onCompleted;
    private readonly CancellationToken _end;
    private readonly NameLimits _limits;
    private readonly ByteBudget _serverBudget;
    private int _lookupsInFlight;
    private long _pendingBytes;

    public NameTable(
        CachingResolver resolver, IRelayLoop loop, TimeProvider time, TimeSpan cacheTime, NameLimits limits, ByteBudget serverBudget,
        Action<NameResolution> onCompleted, CancellationToken end)
    {
        _resolver = resolver;
        _loop = loop;
        _time = time;
        _cacheTime = cacheTime;
        _limits = limits;
        _serverBudget = serverBudget;
        _onCompleted = onCompleted;
        _end = end;
        _lookup = _names.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>Bytes of datagrams waiting for names now.</summary>
    public long PendingBytes => _pendingBytes;

    /// <summary>Lookups this association has in flight now.</summary>
    public int LookupsInFlight => _lookupsInFlight;

    /// <summary>
    /// Where a datagram to the name in <paramref name="destination"/> goes: <paramref name="key"/>
    /// when <see cref="NameLookup.Resolved"/>; otherwise queued (a lookup started) or dropped,
    /// with <paramref name="failure"/> saying why for <see cref="NameLookup.Failed"/>.
    /// <paramref name="name"/> is the association's one string for the name.
    /// </summary>
    public NameLookup Lookup(in SocksAddress destination, ushort mapping, ReadOnlySpan<byte> payload, long now, out DestinationKey key, out string name, out ResolveFailure failure)
    {
        key = default;
        failure = ResolveFailure.None;
        Span<char> chars = stackalloc char[destination.AddressBytes.Length];
        Encoding.Latin1.GetChars(destination.AddressBytes, chars);
        if (!_lookup.TryGetValue(chars, out var state))
        {
            if (_names.Count >= MaxNames)
            {
                _names.Clear(); // bounded: a client spraying names costs lookups, not memory
            }

            state = new NameState(new string(chars));
            _names[state.Name] = state;
        }

        name = state.Name;
        if (state.Address is { } address)
        {
            if (now >= state.ExpiresAt)
            {
                Start(state, refresh: true); // the old address serves meanwhile
            }

            key = DestinationKey.From(address, destination.Port);
            return NameLookup.Resolved;
        }

        if (state.Failure != ResolveFailure.None && now < state.FailedUntil)
        {
            failure = state.Failure;
            return NameLookup.Failed;
        }

        if (!state.Resolving && !Start(state, refresh: false))
        {
            failure = ResolveFailure.Busy;
            return NameLookup.Busy;
        }

        state.Pending ??= [];
        if (state.Pending.Count >= MaxPendingPerName)
        {
            return NameLookup.QueueFull;
        }

        if (_pendingBytes + payload.Length > _limits.MaxPendingBytes || !_serverBudget.TryTake(payload.Length))
        {
            failure = ResolveFailure.Busy;
            return NameLookup.Busy;
        }

        _pendingBytes += payload.Length;
        state.Pending.Add(new PendingDatagram(destination.Port, mapping, payload.ToArray()));
        return NameLookup.Queued;
    }

    /// <summary>Starts a lookup unless one runs; false when the association has as many in flight as it may.</summary>
    private bool Start(NameState state, bool refresh)
    {
        if (state.Resolving)
        {
            return true;
        }

        if (_lookupsInFlight >= _limits.MaxLookups)
        {
            return false;
        }

        _lookupsInFlight++;
        state.Resolving = true;
        _ = ResolveAsync(state, refresh);
        return true;
    }

    private async Task ResolveAsync(NameState state, bool refresh)
    {
        (IPAddress? Address, ResolveFailure Failure) result;
        try
        {
            result = await _resolver.ResolveAsync(state.Name, _end).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            result = (null, ResolveFailure.Failure); // the association is ending: only its bookkeeping is left to do
        }

        // Always back to the loop, even when ending: the waiting bytes go back to the budgets there.
        _loop.Post(static s => ((Completion)s!).Apply(), new Completion(this, state, refresh, result.Address, result.Failure));
    }

    private void Complete(NameState state, bool refresh, IPAddress? address, ResolveFailure failure)
    {
        long now = _time.GetTimestamp();
        state.Resolving = false;
        _lookupsInFlight--;
        var pending = state.Pending;
        state.Pending = null;
        if (pending is not null)
        {
            long bytes = 0;
            foreach (var datagram in pending)
            {
                bytes += datagram.Payload.Length;
            }

            _pendingBytes -= bytes;
            _serverBudget.Return(bytes);
        }

        if (address is not null)
        {
            state.Address = address;
            state.ExpiresAt = now + (long)(_cacheTime.TotalSeconds * _time.TimestampFrequency);
            state.Failure = ResolveFailure.None;
        }
        else if (!refresh || state.Address is null)
        {
            state.Failure = failure;
            state.FailedUntil = now + (long)(FailureMemory.TotalSeconds * _time.TimestampFrequency);
        }

        if (pending is not null && !_end.IsCancellationRequested)
        {
            _onCompleted(new NameResolution(state.Name, address, failure, pending));
        }
    }

    /// <summary>A name's state in this association.</summary>
    private sealed class NameState(string name)
    {
        public string Name { get; } = name;

        public IPAddress? Address;
        public long ExpiresAt;
        public ResolveFailure Failure;
        public long FailedUntil;
        public bool Resolving;
        public List<PendingDatagram>? Pending;
    }

    /// <summary>A finished lookup on its way back to the loop.</summary>
    private sealed class Completion(NameTable table, NameState state, bool refresh, IPAddress? address, ResolveFailure failure)
    {
        public void Apply() => table.Complete(state, refresh, address, failure);
    }
}

/// <summary>An association's share of name resolution: lookups in flight at once, and bytes of datagrams waiting for them.</summary>
internal sealed record NameLimits(int MaxLookups, long MaxPendingBytes);

/// <summary>A datagram that waited for its name.</summary>
internal readonly record struct PendingDatagram(ushort Port, ushort Mapping, byte[] Payload);

/// <summary>A lookup's result with the datagrams that waited for it: <paramref name="Address"/> null when it failed, for <paramref name="Failure"/>.</summary>
internal sealed record NameResolution(string Name, IPAddress? Address, ResolveFailure Failure, List<PendingDatagram> Pending);
