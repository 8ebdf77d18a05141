using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Socks5UdpRelay.Cli.Tests.Fixtures;
using Socks5UdpRelay.Server.Control;
using Socks5UdpRelay.Server.Hosting;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Resolution;
using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Cli.Tests;

/// <summary>
/// s5nc's associations cannot be taken over: another program on the same host sprays SOCKS
/// datagrams at every port of the server's <c>Relay:UdpPortRange</c> while s5nc's association is
/// open and before it sends, and none is relayed (s5nc names its UDP port in the request, the
/// server takes datagrams from that port alone), while s5nc's own datagrams and answers flow.
/// Had s5nc asked for 0.0.0.0:0, the first sprayed datagram would have taken the association
/// (see the server's Hardening/HijackTests).
/// </summary>
public sealed class HijackTests : IAsyncLifetime
{
    private const int SprayedPerPort = 3;
    private IHost _host = null!;
    private int _first;
    private int _last;

    private IPEndPoint Proxy => _host.Services.GetRequiredService<IRelayEndpoints>().ListenEndpoints[0];

    public async Task InitializeAsync()
    {
        (_first, _last) = FreePorts.UdpRange(16);
        var builder = RelayHost.CreateBuilder([]);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Relay:Listen:0"] = "127.0.0.1:0",
            ["Relay:UdpPortRange"] = $"{_first}-{_last}",
            ["Limits:MaxAssociationsPerClient"] = "16",
        });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IDestinationResolver>(new FakeResolver().Map("localhost", IPAddress.Loopback));
        _host = builder.Build();
        await _host.StartAsync(TestTimeout.Token);
    }

    public async Task DisposeAsync()
    {
        await _host.StopAsync(TestTimeout.Token);
        _host.Dispose();
    }

    [Fact]
    public async Task Send_SprayedBeforeItsFirstDatagram_StillGetsItsEcho_NothingInjected()
    {
        await using var echo = UdpResponder.Echo();
        await using var sink = UdpResponder.Echo(); // where the sprayer wants its datagrams relayed
        using var sprayer = Sprayer();
        var stdin = new Pipe();
        var output = new StringWriter();
        var error = new StringWriter();
        var send = Cli.RunAsync(
            ["send", "--proxy", Proxy.ToString(), "127.0.0.1", $"{echo.Port}", "--wait", "1"],
            new StreamReader(stdin.Reader.AsStream()), output, error, new Dictionary<string, string>(), TestTimeout.Token);

        // s5nc's association is open and waits for its first line: spray it now.
        var registry = _host.Services.GetRequiredService<AssociationRegistry>();
        await TestTimeout.UntilAsync(() => registry.Count == 1);
        await SprayAsync(sprayer, sink.EndPoint);
        await TestTimeout.UntilAsync(() => registry.Associations.Single().Counters.Dropped(DropReason.ForeignSource) == SprayedPerPort);

        await stdin.Writer.WriteAsync(Encoding.ASCII.GetBytes("mine\n"));
        await stdin.Writer.CompleteAsync();
        int exit = await send.Within();

        Assert.True(exit == 0, $"exit {exit}: {error}");
        Assert.Equal("mine\n", output.ToString());
        Assert.Equal(1, echo.Received);
        Assert.Equal(0, sink.Received);
        Assert.Equal(0, sprayer.Available);
    }

    [Fact]
    public async Task Probe_SprayedThroughout_GivesTheRightVerdicts_NothingInjected()
    {
        await using var echo = UdpResponder.Echo();
        await using var sink = UdpResponder.Echo();
        int closed = FreePorts.ClosedUdp();
        using var sprayer = Sprayer();
        using var stop = new CancellationTokenSource();
        var spraying = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await SprayAsync(sprayer, sink.EndPoint);
                await Task.Delay(1);
            }
        });

        var result = await CliRun.InProcessAsync(string.Empty, ["probe", "-x", Proxy.ToString(), "127.0.0.1", $"{echo.Port},{closed}", "--json", "--timeout", "0.5", "--retries", "1"]);
        await stop.CancelAsync();
        await spraying.Within();

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = ProbeLine.ParseAll(result.Stdout).ToDictionary(l => l.Port);
        Assert.Equal("open", lines[echo.Port].State);
        Assert.Equal(("closed", "port-unreachable"), (lines[closed].State, lines[closed].Reason));
        Assert.Equal(0, sink.Received);
        Assert.Equal(0, sprayer.Available);
    }

    /// <summary>Another program on the client's host: the same address, a port of its own.</summary>
    private static Socket Sprayer()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }

    /// <summary>SOCKS datagrams (RSV RSV FRAG ATYP=1 ADDR PORT DATA) for <paramref name="destination"/> to every port of the relay range.</summary>
    private async Task SprayAsync(Socket sprayer, IPEndPoint destination)
    {
        byte[] datagram = [0, 0, 0, 0x01, .. destination.Address.GetAddressBytes(), (byte)(destination.Port >> 8), (byte)destination.Port, .. "injected"u8];
        for (int round = 0; round < SprayedPerPort; round++)
        {
            for (int port = _first; port <= _last; port++)
            {
                await sprayer.SendToAsync(datagram, SocketFlags.None, new IPEndPoint(IPAddress.Loopback, port));
            }
        }
    }
}
