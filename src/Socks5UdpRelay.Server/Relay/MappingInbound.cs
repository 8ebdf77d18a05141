using System.Net.Sockets;
using Socks5UdpRelay.Server.Addressing;
using Socks5UdpRelay.Server.Icmp;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Policy;
using Socks5UdpRelay.Server.Transport;

namespace Socks5UdpRelay.Server.Relay;

/// <summary>How unsolicited datagrams are let in: the filtering, and the budget per mapping.</summary>
internal sealed record InboundSettings(FilteringMode Filtering, int PerSecond, int Burst, int MaxAddresses);

/// <summary>
/// What reaches a mapping's outbound port from sources it has no destination socket for (README,
/// "NAT behaviour"): an unconnected socket per address family, opened when the mapping first
/// sends to that family, takes exactly the datagrams no destination socket matches. The
/// filtering decides (address-dependent: any port of an address the mapping sent to;
/// endpoint-independent: anyone), the destination policy applies to the source as to a
/// destination, a budget of its own bounds the rate, and what passes goes to the client with its
/// real source in the header, through the same batch path as replies. A stranger never touches a
/// destination the client opened (its own socket keeps its replies, errors and settings), and
/// the event loop's per-socket budget keeps a flood from starving the client's own replies.
/// Loop thread only.
/// </summary>
internal sealed class MappingInbound(
    ushort mapping, InboundSettings settings, DestinationPolicy policy, IRelayLoop loop, ClientReplies replies, AssociationCounters counters, TimeProvider time)
    : IDatagramHandler, IDisposable
{
    // When the mapping last sent to each address (address-dependent filtering admits those).
    private readonly Dictionary<UInt128, long> _sentTo = [];
    private TokenBucket _budget = new(settings.PerSecond, settings.Burst, time.GetTimestamp(), time.TimestampFrequency);
    private IInboundSocket? _v4;
    private IInboundSocket? _v6;
    private bool _closed;

    /// <summary>Addresses the mapping has sent to lately (what address-dependent filtering admits).</summary>
    public int KnownAddresses => _sentTo.Count;

    /// <summary>
    /// The mapping sent to <paramref name="destination"/> from <paramref name="port"/>: remember
    /// the address, and open the family's inbound socket if the filtering lets anyone new in.
    /// </summary>
    public void OnSent(in DestinationKey destination, int port, long now)
    {
        if (_closed || settings.Filtering == FilteringMode.AddressAndPortDependent)
        {
            return; // only the destination sockets themselves: nothing more to let in
        }

        if (_sentTo.Count < settings.MaxAddresses || _sentTo.ContainsKey(destination.Address))
        {
            _sentTo[destination.Address] = now;
        }

        if (destination.IsIPv4 ? _v4 is null : _v6 is null)
        {
            Open(destination.IsIPv4 ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6, port);
        }
    }

    public void OnDatagrams(DatagramBatch batch)
    {
        long now = time.GetTimestamp();
        int headerLength = 0;
        for (int i = 0; i < batch.Count; i++)
        {
            if (!RawSocketAddress.TryReadKey(batch.Source(i), out var source))
            {
                batch.Drop(i);
                continue;
            }

            if (Refusal(source, now) is { } refusal)
            {
                counters.Drop(refusal);
                batch.Drop(i);
                continue;
            }

            // One socket reads one family: every header here has the same length.
            headerLength = ReplyHeader.Length(source);
            ReplyHeader.Write(batch.ReplyHeader(i, headerLength), source, mapping);
            counters.InboundRelayed++;
        }

        if (headerLength != 0)
        {
            replies.Send(batch);
        }
    }

    /// <summary>Nothing is sent from these sockets, so nothing of theirs is ever reported.</summary>
    public void OnErrors(ReadOnlySpan<ErrorReport> errors)
    {
    }

    /// <summary>Forgets addresses not sent to within <paramref name="timeout"/> (they are filtered again).</summary>
    public void SweepIdle(long now, TimeSpan timeout)
    {
        List<UInt128>? stale = null;
        foreach (var (address, lastSent) in _sentTo)
        {
            if (time.GetElapsedTime(lastSent, now) >= timeout)
            {
                (stale ??= []).Add(address);
            }
        }

        foreach (var address in stale ?? [])
        {
            _sentTo.Remove(address);
        }
    }

    public void Dispose()
    {
        _closed = true;
        _v4?.Dispose();
        _v6?.Dispose();
        _v4 = _v6 = null;
    }

    /// <summary>Why a datagram from <paramref name="source"/> is not relayed, or null when it is.</summary>
    private DropReason? Refusal(in DestinationKey source, long now)
    {
        if (settings.Filtering == FilteringMode.AddressDependent && !_sentTo.ContainsKey(source.Address))
        {
            return DropReason.InboundFiltered;
        }

        if (!policy.IsAllowed(source))
        {
            return DropReason.InboundDenied;
        }

        return _budget.TryTake(now) ? null : DropReason.InboundRateLimited;
    }

    private void Open(AddressFamily family, int port)
    {
        try
        {
            var socket = loop.OpenInbound(family, port, this);
            if (family == AddressFamily.InterNetwork)
            {
                _v4 = socket;
            }
            else
            {
                _v6 = socket;
            }
        }
        catch (TransportException)
        {
            // Without it the mapping filters as address-and-port-dependent would: its own destinations still work.
        }
    }
}
