using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Cli.Tests.Fixtures;

namespace Socks5UdpRelay.Cli.Tests;

/// <summary><c>s5nc send --any-source</c> through a server with endpoint-independent filtering: datagrams from a source never sent to, printed with their source.</summary>
public sealed class SendAnySourceTests
{
    [Fact]
    public async Task AnySource_PrintsTheDestinationsReplyAndAStrangersDatagram_EachWithItsSource()
    {
        await using var server = await RelayServer.StartAsync(settings: new Dictionary<string, string?> { ["Relay:Filtering"] = "endpoint-independent" });
        using var destination = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        destination.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var elsewhere = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        elsewhere.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));

        // The destination answers, and tells a third party where the proxy's mapping is (a STUN
        // server's "changed address" answer, or a peer's hole punch).
        var answering = Task.Run(async () =>
        {
            var buffer = new byte[64];
            var received = await destination.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0)).WaitAsync(TimeSpan.FromSeconds(10));
            await destination.SendToAsync("reply\n"u8.ToArray(), received.RemoteEndPoint);
            await elsewhere.SendToAsync("unsolicited\n"u8.ToArray(), received.RemoteEndPoint);
        });

        var result = await CliRun.InProcessAsync(string.Empty, "send", "--proxy", server.Proxy, "127.0.0.1", $"{((IPEndPoint)destination.LocalEndPoint!).Port}",
            "--data", "hello", "--any-source", "--wait", "1");
        await answering;

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"{destination.LocalEndPoint}: reply\n", result.Stdout);
        Assert.Contains($"{elsewhere.LocalEndPoint}: unsolicited\n", result.Stdout);
    }
}
