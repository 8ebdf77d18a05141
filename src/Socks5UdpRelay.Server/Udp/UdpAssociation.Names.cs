using System.Text;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Logging;
using Socks5UdpRelay.Server.Resolution;

namespace Socks5UdpRelay.Server.Udp;

/// <summary>
/// Domain destinations. A name is resolved once per association in the background while its
/// first datagrams wait in a small queue, so a slow lookup never stalls the association's other
/// destinations; after that, sending to a name reads an immutable snapshot without a lock.
/// </summary>
internal sealed partial class UdpAssociation
{
    private static readonly TimeSpan FailureMemory = TimeSpan.FromSeconds(5);

    private void SendToName(in SocksAddress destination, ReadOnlySpan<byte> payload)
    {
        Span<char> chars = stackalloc char[destination.AddressBytes.Length];
        Encoding.Latin1.GetChars(destination.AddressBytes, chars);
        if (!_nameLookup.TryGetValue(chars, out var state))
        {
            if (_names.Count >= MaxNames)
            {
                _names.Clear(); // bounded: a client spraying names costs lookups, not memory
            }

            state = _names.GetOrAdd(new string(chars), static n => new NameState(n));
        }

        long now = _context.Time.GetTimestamp();
        var resolved = state.Resolved;
        if (resolved is not null)
        {
            if (now >= resolved.ExpiresAt)
            {
                StartResolving(state, refresh: true);
            }

            SendTo(new DestinationKey(resolved.Address, destination.Port), state.Name, destination, payload);
            return;
        }

        lock (state)
        {
            resolved = state.Resolved;
            if (resolved is null)
            {
                if (state.Failure != ResolveFailure.None && now < state.FailedUntil)
                {
                    Counters.DroppedUnresolved++;
                    NoticeUnresolved(state, destination.Port, state.Failure);
                    return;
                }

                state.Pending ??= [];
                if (state.Pending.Count < MaxPendingPerName)
                {
                    state.Pending.Add((destination.Port, payload.ToArray()));
                }
                else
                {
                    Counters.DroppedUnresolved++;
                }

                StartResolvingLocked(state, refresh: false);
                return;
            }
        }

        SendTo(new DestinationKey(resolved.Address, destination.Port), state.Name, destination, payload);
    }

    private void StartResolving(NameState state, bool refresh)
    {
        lock (state)
        {
            StartResolvingLocked(state, refresh);
        }
    }

    private void StartResolvingLocked(NameState state, bool refresh)
    {
        if (state.Resolving)
        {
            return;
        }

        state.Resolving = true;
        _ = ResolveAsync(state, refresh);
    }

    private async Task ResolveAsync(NameState state, bool refresh)
    {
        System.Net.IPAddress? address;
        ResolveFailure failure;
        try
        {
            (address, failure) = await _context.Resolver.ResolveAsync(state.Name, _end.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        List<(ushort Port, byte[] Payload)>? pending;
        long now = _context.Time.GetTimestamp();
        lock (state)
        {
            state.Resolving = false;
            pending = state.Pending;
            state.Pending = null;
            if (address is not null)
            {
                var key = DestinationKey.From(address, 0);
                long expires = now + (long)(_context.Options.ResolverCacheTime.TotalSeconds * _context.Time.TimestampFrequency);
                state.Resolved = new ResolvedName(key.Address, expires);
                state.Failure = ResolveFailure.None;
            }
            else if (!refresh || state.Resolved is null)
            {
                state.Failure = failure;
                state.FailedUntil = now + (long)(FailureMemory.TotalSeconds * _context.Time.TimestampFrequency);
            }
        }

        if (pending is null || _end.IsCancellationRequested)
        {
            return;
        }

        Span<byte> nameBytes = stackalloc byte[SocksAddressCodec.MaxDomainNameLength];
        int nameLength = Encoding.Latin1.GetBytes(state.Name, nameBytes);
        foreach (var (port, payload) in pending)
        {
            if (address is null)
            {
                Interlocked.Increment(ref Counters.DroppedUnresolved);
                continue;
            }

            var addressedAs = new SocksAddress(AddressType.DomainName, nameBytes[..nameLength], port);
            SendTo(DestinationKey.From(address, port), state.Name, addressedAs, payload);
        }

        if (address is null && pending.Count > 0)
        {
            NoticeUnresolved(state, pending[0].Port, failure);
        }
    }

    private void NoticeUnresolved(NameState state, ushort port, ResolveFailure failure)
    {
        string reason = failure switch
        {
            ResolveFailure.NoSuchName => UnresolvedReasons.NoSuchName,
            ResolveFailure.NoAddress => UnresolvedReasons.NoAddress,
            ResolveFailure.Timeout => UnresolvedReasons.Timeout,
            _ => UnresolvedReasons.Failure,
        };
        if (_notices.Unresolved(state.Name, port, reason, (int)failure))
        {
            Log.Unresolved(_context.Logger, _peer, state.Name, reason);
        }
    }

    /// <summary>A name's resolution in this association. <see cref="Resolved"/> is replaced whole, never mutated, so readers need no lock.</summary>
    private sealed class NameState(string name)
    {
        public string Name { get; } = name;

        public volatile ResolvedName? Resolved;

        public ResolveFailure Failure;

        public long FailedUntil;

        public bool Resolving;

        public List<(ushort Port, byte[] Payload)>? Pending;
    }

    private sealed record ResolvedName(UInt128 Address, long ExpiresAt);
}
