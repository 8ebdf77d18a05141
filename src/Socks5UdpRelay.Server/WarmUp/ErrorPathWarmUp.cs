using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Notices;
using Socks5UdpRelay.Server.Policy;
using Socks5UdpRelay.Server.Relay;
using Socks5UdpRelay.Server.Resolution;
using Socks5UdpRelay.Server.Transport;

namespace Socks5UdpRelay.Server.WarmUp;

/// <summary>
/// Before the listener opens, one datagram goes through a private association to a closed
/// loopback port and its <c>UDP-ERROR</c> is written and read back: every type, stub and page
/// on that path is then loaded and compiled, so a client's first error after the server started
/// becomes a notice as fast as later ones (README, "Performance"). Private means invisible: its
/// own metrics (a meter no exporter reads, disposed at once), no logger, a policy of its own, a
/// relay port and an outbound port taken and given back as any association's are, loop counters
/// set back to 0, and the datagram and its notice sent and read on loopback sockets it made itself,
/// before any client can connect. A failure only leaves the server as it was.
/// </summary>
internal sealed class ErrorPathWarmUp(
    IUdpTransport transport, AssociationSettings settings, NoticeSettings notices, OutboundPortRegistry ports, CachingResolver resolver,
    LocalAddresses hostAddresses, TimeProvider time) : IHostedService
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(2);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await RunAsync().WaitAsync(Limit, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Nothing to warm on this host (no loopback, say): the first error is merely slower.
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The warm-up itself; completes once the notice was read (or throws).</summary>
    internal async Task RunAsync()
    {
        using var meters = new PrivateMeterFactory();
        var metrics = new RelayMetrics(meters);
        var service = new NoticeService(notices with { Enabled = true }, metrics, time, NullLoggerFactory.Instance);
        var policy = new DestinationPolicy(allowLoopback: true, allowLinkLocal: false);
        var factory = new AssociationFactory(
            settings, policy, ports, resolver, new ByteBudget(settings.Names.MaxPendingBytes), hostAddresses, service, metrics, time, NullLoggerFactory.Instance);

        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        using var reader = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await reader.ConnectAsync(listener.LocalEndPoint!).ConfigureAwait(false);
        using var control = await listener.AcceptAsync().ConfigureAwait(false);

        var relay = transport.BindClient(IPAddress.Loopback) ?? throw new InvalidOperationException("no relay port free");
        UdpAssociation association;
        try
        {
            association = factory.Create(relay, (IPEndPoint)control.RemoteEndPoint!, 0, service.OpenWriter(control));
        }
        catch
        {
            relay.Dispose();
            throw;
        }

        var run = association.RunAsync();
        try
        {
            using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var closed = ClosedPort();
            var datagram = new byte[Protocol.UdpRequestHeader.IPv4Length + 7];
            int header = Protocol.UdpRequestHeader.Write(datagram, closed.Address, (ushort)closed.Port);
            "warm-up"u8.CopyTo(datagram.AsSpan(header));
            await udp.SendToAsync(datagram, new IPEndPoint(IPAddress.Loopback, relay.LocalEndPoint.Port)).ConfigureAwait(false);
            var line = new byte[Protocol.NoticeFormat.MaxLineLength];
            int read = await reader.ReceiveAsync(line, SocketFlags.None).ConfigureAwait(false);
            if (read == 0 || !line.AsSpan(0, read).StartsWith("UDP-ERROR "u8))
            {
                throw new InvalidOperationException("the warm-up datagram brought no UDP-ERROR");
            }
        }
        finally
        {
            association.End(AssociationEnd.Shutdown);
            await run.ConfigureAwait(false);
            await transport.ResetStatisticsAsync().ConfigureAwait(false);
        }
    }

    /// <summary>A loopback UDP port nobody holds (bound, then closed).</summary>
    private static IPEndPoint ClosedPort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return (IPEndPoint)probe.LocalEndPoint!;
    }
}
