using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Socks5UdpRelay.Cli.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Cli.Tests;

/// <summary><c>s5nc forward</c>: a plain UDP client, knowing nothing of SOCKS, through forward and the proxy.</summary>
public sealed partial class ForwardTests
{
    [Fact]
    public async Task Forward_PlainUdpClient_TalksToEchoThroughTheProxy_AndCtrlCEndsCleanly()
    {
        await using var server = await RelayServer.StartAsync();
        await using var echo = UdpResponder.Echo();
        var stderr = new LineWriter();
        using var stop = new CancellationTokenSource(TestTimeout.Default);

        var run = Cli.RunAsync(
            ["forward", "--listen", "127.0.0.1:0", "-x", server.Proxy, "127.0.0.1", $"{echo.Port}"],
            TextReader.Null, TextWriter.Null, stderr, new Dictionary<string, string>(), stop.Token);
        string banner = await stderr.WaitForAsync(l => l.Contains("forwarding udp", StringComparison.Ordinal)).Within();
        var listen = IPEndPoint.Parse(ListenRegex().Match(banner).Groups[1].Value);

        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        client.Connect(listen);
        var buffer = new byte[100];
        foreach (string text in new[] { "first", "second" })
        {
            await client.SendAsync(Encoding.ASCII.GetBytes(text));
            int n = await client.ReceiveAsync(buffer, TestTimeout.Token);
            Assert.Equal(text, Encoding.ASCII.GetString(buffer, 0, n));
        }

        await stop.CancelAsync();
        int exit = await run.Within();

        Assert.True(exit == 0, stderr.Text);
        Assert.Equal(2, echo.Received);
        Assert.Contains("s5nc: forward stopped.", stderr.Text);
    }

    [Fact]
    public async Task Forward_ToAClosedPort_LogsTheNoticeForThatPeer()
    {
        await using var server = await RelayServer.StartAsync();
        int closed = FreePorts.ClosedUdp();
        var stderr = new LineWriter();
        using var stop = new CancellationTokenSource(TestTimeout.Default);

        var run = Cli.RunAsync(
            ["forward", "-l", "127.0.0.1:0", "-x", server.Proxy, "127.0.0.1", $"{closed}"],
            TextReader.Null, TextWriter.Null, stderr, new Dictionary<string, string>(), stop.Token);
        var listen = IPEndPoint.Parse(ListenRegex().Match(await stderr.WaitForAsync(l => l.Contains("forwarding udp", StringComparison.Ordinal)).Within()).Groups[1].Value);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        client.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        await client.SendToAsync("x"u8.ToArray(), listen);

        string line = await stderr.WaitForAsync(l => l.Contains("Connection refused", StringComparison.Ordinal)).Within();
        await stop.CancelAsync();

        Assert.Equal($"s5nc: peer {client.LocalEndPoint}: 127.0.0.1:{closed}: Connection refused (port-unreachable, reported by 127.0.0.1)", line);
        Assert.Equal(0, await run.Within());
    }

    [Fact]
    public async Task Forward_ProxyNotListening_ExitsThreeAtOnce()
    {
        var result = await CliRun.InProcessAsync(string.Empty, "forward", "-l", "127.0.0.1:0", "-x", $"127.0.0.1:{FreePorts.Tcp()}", "127.0.0.1", "7");

        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.DoesNotContain("forwarding", result.Stderr);
    }

    [GeneratedRegex(@"forwarding udp (\S+) to")]
    internal static partial Regex ListenRegex();

    /// <summary>A stderr that tells when a line arrives.</summary>
    internal sealed class LineWriter : TextWriter
    {
        private readonly StringBuilder _text = new();
        private readonly SemaphoreSlim _changed = new(0);

        public override Encoding Encoding => Encoding.UTF8;

        public string Text
        {
            get
            {
                lock (_text)
                {
                    return _text.ToString();
                }
            }
        }

        public override void Write(char value)
        {
            lock (_text)
            {
                _text.Append(value);
            }

            if (value == '\n')
            {
                _changed.Release();
            }
        }

        public async Task<string> WaitForAsync(Func<string, bool> match)
        {
            while (true)
            {
                if (Text.Split('\n').FirstOrDefault(match) is { } line)
                {
                    return line;
                }

                await _changed.WaitAsync();
            }
        }
    }
}
