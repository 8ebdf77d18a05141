using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Logging;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Notices;
using Socks5UdpRelay.Server.Relay;
using Socks5UdpRelay.Server.Transport;

namespace Socks5UdpRelay.Server.Control;

/// <summary>
/// UDP ASSOCIATE (RFC 1928 §7): a slot of the client's, a client-facing UDP socket, the
/// association around it, the reply, and the control connection watched until it ends, since
/// RFC 1928 ties the association to it.
/// </summary>
internal sealed class AssociateCommand(
    ClientTracker clients,
    IUdpTransport transport,
    AssociationFactory associations,
    AssociationLifetime lifetime,
    AdvertisedAddresses advertised,
    NoticeService notices,
    RelayMetrics metrics,
    string? udpPortRange,
    CommandSettings commands,
    Resolution.CachingResolver resolver,
    TimeProvider time,
    ILogger logger)
{
    /// <summary>What clients send on an association's control connection is read and thrown away; one buffer serves every connection.</summary>
    private static readonly byte[] DiscardBuffer = new byte[256];

    /// <summary>Opens the association, answers the client, and runs it until it ends; <paramref name="user"/> authenticated (RFC 1929), if any.</summary>
    public async Task RunAsync(Socket control, IPEndPoint peer, Destination requested, CancellationToken stopping, string? user = null)
    {
        if (!AssociationSlot.TryOpen(clients, control, peer, metrics, logger))
        {
            return;
        }

        try
        {
            ushort fixedPort = FixedClientPort(peer, requested);
            var writer = notices.OpenWriter(control);
            var association = Open(control, peer, fixedPort, writer, user);
            if (association is null)
            {
                return;
            }

            await lifetime.RunAsync(control, association, writer, () =>
            {
                var relay = association.RelayEndPoint;
                ReplyWriter.Send(control, static (b, s) => Socks5Reply.Write(b, ReplyCode.Succeeded, s.Address, s.Port), (Address: advertised.For(relay.Address), Port: (ushort)relay.Port));
                association.AnnounceNotices(commands.Offered);
                Log.AssociationOpened(logger, peer, relay, fixedPort == 0 ? $"{peer.Address}:any" : $"{peer.Address}:{fixedPort}");
                return commands.Offered == Protocol.OfferedCommands.None
                    ? WatchAsync(control, association)
                    : new CommandReader(control, association, writer, () => new CommandExecutor(association, commands, resolver, metrics, time, logger, peer)).RunAsync();
            }, stopping).ConfigureAwait(false);
        }
        finally
        {
            clients.CloseAssociation(peer.Address);
        }
    }

    /// <summary>The client's UDP port when the request named the client's own address and a port; 0 (any) otherwise.</summary>
    private ushort FixedClientPort(IPEndPoint peer, Destination requested)
    {
        if (requested.Address is { } address && EndPoints.Normalize(address).Equals(peer.Address))
        {
            return (ushort)requested.Port;
        }

        if (!requested.IsUnspecified)
        {
            Log.RequestAddressIgnored(logger, peer, requested.ToString());
        }

        return 0;
    }

    /// <summary>The client-facing socket and the association around it; null (the client told why) when no port is free.</summary>
    private UdpAssociation? Open(Socket control, IPEndPoint peer, ushort fixedPort, NoticeWriter writer, string? user)
    {
        var local = EndPoints.Normalize(control.LocalEndPoint);
        IClientSocket? client;
        try
        {
            client = transport.BindClient(local.Address);
        }
        catch (TransportException e)
        {
            Log.AssociationFailed(logger, peer, e.Message);
            client = null;
        }

        if (client is null)
        {
            // Port range exhausted (README, "Configuration"): counted and named, so an operator sees which setting to raise.
            metrics.RecordRefusedAssociation(RefusalReasons.UdpPortRange);
            Log.AssociationFailed(logger, peer, $"every port of Relay:UdpPortRange={udpPortRange} is in use; enlarge the range (and publish it)");
            ReplyWriter.Failure(control, ReplyCode.GeneralFailure);
            return null;
        }

        try
        {
            return associations.Create(client, peer, fixedPort, writer, user);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Reads the control connection until it ends, without commands: whatever a client sends there is read and discarded.</summary>
    private static async Task WatchAsync(Socket control, UdpAssociation association)
    {
        try
        {
            while (await control.ReceiveAsync(DiscardBuffer, SocketFlags.None).ConfigureAwait(false) > 0)
            {
            }

            association.End(AssociationEnd.ClientClosed);
        }
        catch (SocketException)
        {
            association.End(AssociationEnd.ClientReset);
        }
        catch (ObjectDisposedException)
        {
            association.End(AssociationEnd.ClientClosed);
        }
    }
}
