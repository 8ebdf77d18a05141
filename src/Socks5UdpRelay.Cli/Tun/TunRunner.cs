using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Socks5UdpRelay.Client;
using Socks5UdpRelay.Gateway;

namespace Socks5UdpRelay.Cli.Tun;

/// <summary>
/// One run of <c>tun</c>: the device and its routing first (a host it cannot set up is exit 5, with
/// nothing left behind), then the proxy (exit 3 or 4 as for every command; <c>--udp-over-tcp</c>
/// settles the transport for the whole run, auto with an association of its own), then the packet plane,
/// until SIGINT/SIGTERM; on the way out the device, rules, routes and nftables table go, and the
/// associations close. SIGUSR1 prints the counters, as -v does at exit.
/// </summary>
internal sealed class TunRunner(CliConsole console)
{
    /// <summary>SIGUSR1 on Linux (x86-64 and arm64 alike); .NET takes raw signal numbers cast to <see cref="PosixSignal"/>.</summary>
    private const PosixSignal SignalUser1 = (PosixSignal)10;

    public async Task<int> RunAsync(TunRequest request, ProxySession session, CancellationToken cancellationToken)
    {
        var logger = new ConsoleLogger(console, session.Verbose ? LogLevel.Debug : LogLevel.Information);
        TunGateway gateway;
        try
        {
            gateway = TunGateway.Start(
                new TunGatewayOptions
                {
                    Routes = request.Routes,
                    DeviceName = request.DeviceName,
                    Mtu = request.Mtu,
                    CaptureForwarded = request.CaptureForwarded,
                    FlowIdleTimeout = request.Uplink.Idle,
                    MaxFlows = Math.Max(new TunGatewayOptions().MaxFlows, request.Uplink.MaxFlows),
                },
                logger,
                console.Time);
        }
        catch (GatewayException e)
        {
            console.Say($"tun: {e.Message}");
            return ExitCodes.GatewayFailed;
        }

        ProxyUplink? uplink = null;
        try
        {
            // Marked from the first datagram on: auto's check must not see its own probe taken by the device.
            var proxy = Marked(session.Options, gateway.SocketMark);
            var transport = await new ProxySession(proxy, console, session.Verbose, session.UdpOverTcp).ChooseTransportAsync(cancellationToken).ConfigureAwait(false);
            uplink = new ProxyUplink(gateway, proxy, request.Uplink with { Transport = transport }, logger, console.Time);
            try
            {
                await uplink.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Socks5Exception e)
            {
                throw session.ToCliException(e);
            }

            // Before the line that says it runs: a SIGUSR1 sent on that line must find its handler,
            // not the default action, which ends the process.
            using var counters = PosixSignalRegistration.Create(SignalUser1, context =>
            {
                context.Cancel = true;
                PrintCounters(logger, gateway, uplink);
            });
            gateway.Run(uplink);
            TunLog.Running(logger, gateway.DeviceName, string.Join(", ", request.Routes), session.ProxyText, uplink.Mode);
            var stopped = Task.Delay(Timeout.Infinite, cancellationToken);
            if (await Task.WhenAny(stopped, gateway.Completion).ConfigureAwait(false) == gateway.Completion && gateway.Completion.IsFaulted)
            {
                console.Say($"tun: the device's reader failed: {gateway.Completion.Exception!.InnerException!.Message}");
                return ExitCodes.GatewayFailed;
            }

            return ExitCodes.Success;
        }
        finally
        {
            // The reader stops first, so no datagram reaches an association being closed.
            gateway.Dispose();
            if (uplink is not null)
            {
                await uplink.DisposeAsync().ConfigureAwait(false);
                if (session.Verbose)
                {
                    PrintCounters(logger, gateway, uplink);
                }
            }
        }
    }

    /// <summary>The counters, and the bytes this process allocated so far (the load tool divides them by the datagrams between two readings).</summary>
    private static void PrintCounters(ILogger logger, TunGateway gateway, ProxyUplink uplink) =>
        TunLog.Counters(logger, $"device {gateway.Counters}; proxy {uplink.Counters} open-flows={uplink.FlowCount} open-associations={uplink.AssociationCount} " +
            $"allocated={GC.GetTotalAllocatedBytes(precise: true)}");

    /// <summary>The proxy options with every socket marked, so the gateway's own datagrams never enter its device.</summary>
    private static Socks5ProxyOptions Marked(Socks5ProxyOptions options, uint mark) => new()
    {
        Host = options.Host,
        Port = options.Port,
        Credentials = options.Credentials,
        ConnectTimeout = options.ConnectTimeout,
        HandshakeTimeout = options.HandshakeTimeout,
        SocketFactory = (family, type, protocol) =>
        {
            var socket = options.SocketFactory?.Invoke(family, type, protocol) ?? new Socket(family, type, protocol);
            try
            {
                TunGateway.MarkSocket(socket, mark);
                return socket;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };
}
