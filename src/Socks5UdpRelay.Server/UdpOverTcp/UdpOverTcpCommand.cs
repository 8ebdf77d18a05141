using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Control;
using Socks5UdpRelay.Server.Logging;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Relay;
using Socks5UdpRelay.Server.Resolution;
using Socks5UdpRelay.Server.Transport;

namespace Socks5UdpRelay.Server.UdpOverTcp;

/// <summary>What UDP over TCP is allowed: on or off, the largest DATA, whether notices and which commands a client may opt in to.</summary>
internal sealed record UdpOverTcpSettings(bool Enabled, int MaxData, bool Notices, CommandSettings Commands);

/// <summary>
/// <c>CMD=0x05</c> (the README, "UDP over TCP"): an association like UDP ASSOCIATE's — the same
/// slot, policy, limits, destination sockets on one outbound port, ICMP errors and metrics — whose
/// client side is the control connection itself, carrying hev-socks5's frames. A client that asks
/// for notices in its request (<see cref="UdpOverTcpOptIn"/>) gets them, and may send commands,
/// as control frames; any other client sees datagram frames only.
/// </summary>
internal sealed class UdpOverTcpCommand(
    UdpOverTcpSettings settings,
    ClientTracker clients,
    IUdpTransport transport,
    AssociationFactory associations,
    AssociationLifetime lifetime,
    CachingResolver resolver,
    RelayMetrics metrics,
    TimeProvider time,
    ILogger logger)
{
    /// <summary>
    /// The kernel's share of a client that does not read: with the writer's own bound, what a
    /// stalled connection can hold. Large enough for a full-rate stream of the largest frames.
    /// </summary>
    private const int SendBufferSize = 256 * 1024;

    public async Task RunAsync(Socket control, IPEndPoint peer, Destination requested, byte[] early, CancellationToken stopping, string? user = null)
    {
        if (!settings.Enabled)
        {
            Log.UdpOverTcpOff(logger, peer);
            ReplyWriter.Failure(control, ReplyCode.CommandNotSupported);
            return;
        }

        if (!AssociationSlot.TryOpen(clients, control, peer, metrics, logger))
        {
            return;
        }

        try
        {
            bool extended = settings.Notices && requested is { Host: UdpOverTcpOptIn.Name, Port: UdpOverTcpOptIn.Version };
            control.NoDelay = true; // a frame is a datagram: it leaves at once
            control.Blocking = false;
            control.SendBufferSize = SendBufferSize;
            var writer = new FrameWriter(control, extended);
            var local = EndPoints.Normalize(control.LocalEndPoint);
            var channel = new StreamClientSocket(local, transport.PickLoop(), writer, extended, settings.MaxData);
            var association = associations.Create(channel, peer, 0, writer, user);
            await lifetime.RunAsync(control, association, writer, () =>
            {
                ReplyWriter.Send(control, static (b, s) => s.Extended
                    ? Socks5Reply.Write(b, ReplyCode.Succeeded, UdpOverTcpOptIn.Address)
                    : Socks5Reply.Write(b, ReplyCode.Succeeded, s.Local.Address, (ushort)s.Local.Port), (Extended: extended, Local: local));
                if (extended)
                {
                    association.AnnounceNotices(settings.Commands.Offered);
                }

                Log.UdpOverTcpOpened(logger, peer, extended ? "notices" : "datagrams only");
                var executor = extended && settings.Commands.Offered != OfferedCommands.None
                    ? new CommandExecutor(association, settings.Commands, resolver, metrics, time, logger, peer)
                    : null;
                return new FrameReader(control, channel, association, new ControlFrames(executor, writer), extended, settings.MaxData, peer, logger).RunAsync(early);
            }, stopping).ConfigureAwait(false);
        }
        finally
        {
            clients.CloseAssociation(peer.Address);
        }
    }
}
