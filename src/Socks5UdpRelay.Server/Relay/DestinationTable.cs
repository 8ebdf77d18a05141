using System.Net;
using Microsoft.Extensions.Logging;
using Socks5UdpRelay.Server.Addressing;
using Socks5UdpRelay.Server.Logging;
using Socks5UdpRelay.Server.Transport;
using static Socks5UdpRelay.Server.Interop;

namespace Socks5UdpRelay.Server.Relay;

/// <summary>
/// An association's destinations, one flow per resolved address and port (so <c>localhost:7</c>
/// and <c>127.0.0.1:7</c> share one socket), all on one outbound port from the
/// <see cref="OutboundPortRegistry"/>: every destination sees the same source (endpoint-independent
/// mapping). Past its capacity the least recently used flow is closed, never a datagram refused;
/// idle flows are closed by <see cref="SweepIdle"/>. Loop thread only.
/// </summary>
internal sealed class DestinationTable(
    IRelayLoop loop, OutboundPortRegistry ports, Func<DestinationKey, DestinationFlow> createFlow, int capacity, ILogger logger, IPEndPoint peer)
{
    // Most associations talk to a handful of destinations.
    private readonly Dictionary<DestinationKey, DestinationFlow> _flows = new(capacity: 4);

    /// <summary>The shared local port of the association's destination sockets; 0 until the first is opened.</summary>
    public int OutboundPort { get; private set; }

    public int Count => _flows.Count;

    /// <summary>The most recent activity of any flow (timestamp), or <paramref name="since"/> when later.</summary>
    public long LastActivity(long since)
    {
        foreach (var flow in _flows.Values)
        {
            since = Math.Max(since, flow.LastActivity);
        }

        return since;
    }

    public bool TryGet(DestinationKey key, out DestinationFlow flow) => _flows.TryGetValue(key, out flow!);

    /// <summary>The open flows (loop thread only).</summary>
    public IEnumerable<DestinationFlow> Flows => _flows.Values;

    /// <summary>
    /// Opens the flow to <paramref name="key"/>; null when no socket could be made (the reason is
    /// logged; <paramref name="errno"/> is the kernel's, or 0 when no outbound port was free).
    /// </summary>
    public DestinationFlow? Open(DestinationKey key, out int errno)
    {
        errno = 0;
        if (_flows.Count >= capacity)
        {
            EvictLeastRecentlyUsed();
        }

        for (int attempt = 0; attempt < 2; attempt++)
        {
            if (OutboundPort == 0)
            {
                OutboundPort = ports.Allocate();
                if (OutboundPort == 0)
                {
                    Log.NoOutboundPort(logger, peer);
                    return null;
                }
            }

            var flow = createFlow(key);
            try
            {
                flow.Attach(loop.OpenDestination(key, OutboundPort, flow));
            }
            catch (TransportException e) when (e.Errno == Errno.EADDRINUSE && attempt == 0 && _flows.Count == 0)
            {
                // Someone took the port while no socket of ours held it: move the association to a
                // new one. With flows open it stays where they are (one outbound port per association),
                // and this destination fails below.
                ports.Release(OutboundPort);
                OutboundPort = 0;
                continue;
            }
            catch (TransportException e)
            {
                errno = e.Errno;
                Log.DestinationOpenFailed(logger, peer, new DestinationText(key), e.Message);
                return null;
            }

            _flows[key] = flow;
            Log.DestinationOpened(logger, peer, new DestinationText(key), OutboundPort);
            return flow;
        }

        return null;
    }

    /// <summary>Closes every flow idle for <paramref name="timeout"/> or longer.</summary>
    public void SweepIdle(long now, TimeSpan timeout, TimeProvider time)
    {
        List<DestinationFlow>? idle = null;
        foreach (var flow in _flows.Values)
        {
            if (time.GetElapsedTime(flow.LastActivity, now) >= timeout)
            {
                (idle ??= []).Add(flow);
            }
        }

        if (idle is null)
        {
            return;
        }

        foreach (var flow in idle)
        {
            Close(flow, FlowCloseReason.Idle);
        }
    }

    /// <summary>
    /// Takes the outbound port now if none is held yet (a new mapping reports it in <c>MAP-OK</c>);
    /// 0 when none was free.
    /// </summary>
    public int ReservePort()
    {
        if (OutboundPort == 0)
        {
            OutboundPort = ports.Allocate();
        }

        return OutboundPort;
    }

    /// <summary>Closes every flow and gives the outbound port back (the mapping or the association is closing).</summary>
    public void CloseAll()
    {
        foreach (var flow in _flows.Values)
        {
            flow.Close(FlowCloseReason.Owner);
            LogClosed(flow, "closed with its owner");
        }

        _flows.Clear();
        if (OutboundPort != 0)
        {
            ports.Release(OutboundPort);
            OutboundPort = 0;
        }
    }

    private void EvictLeastRecentlyUsed()
    {
        DestinationFlow? oldest = null;
        foreach (var flow in _flows.Values)
        {
            if (oldest is null || flow.LastActivity < oldest.LastActivity)
            {
                oldest = flow;
            }
        }

        if (oldest is not null)
        {
            Close(oldest, FlowCloseReason.Evicted);
        }
    }

    private void Close(DestinationFlow flow, FlowCloseReason reason)
    {
        if (_flows.Remove(flow.Key))
        {
            flow.Close(reason);
            LogClosed(flow, reason == FlowCloseReason.Evicted ? "evicted: destination cap" : "idle");
        }
    }

    private void LogClosed(DestinationFlow flow, string reason)
        => Log.DestinationClosed(logger, peer, new DestinationText(flow.Key), reason, flow.DatagramsSent, flow.BytesSent, flow.DatagramsReceived, flow.BytesReceived);
}
