using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Socks5UdpRelay.Client;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Auth;
using Socks5UdpRelay.Tests.Shared;
using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Socks5UdpRelay.Tests.Shared.Topology;
using Xunit;
using Xunit.Abstractions;

namespace Socks5UdpRelay.Server.Tests.Hardening;

/// <summary>
/// The real server behind a nameserver that never answers (<see cref="BlackholeDnsLab"/>): a client
/// flooding it with names neither grows its memory past the name budgets nor slows other clients'
/// logins; what such a client sends (names with line feeds) stays on its log line; and IPv6
/// clients are counted per /64.
/// </summary>
[Collection(MeasuredCollection.Name)]
public sealed class UnansweredNamesTests(BlackholeDnsLab lab, ITestOutputHelper output) : MeasuredTest, IClassFixture<BlackholeDnsLab>
{
    private const long Budget = 32L * 1024 * 1024;

    /// <summary><c>UDP-UNRESOLVED reason=busy</c> (README, "Notices"): a name cap or byte budget was reached.</summary>
    private const string Busy = "busy";

    /// <summary>
    /// One association sends 1 000 datagrams of 64 000 bytes, each to a name of its own, to a server
    /// whose GC heap is capped at 384 MiB (<c>DOTNET_GCHeapHardLimit</c>): once with the default
    /// name limits, once with the lookup caps raised to 1 024 and the whole 32 MiB byte budget open
    /// to this one association, so that the byte budget is what bounds it. Either way the server's
    /// memory stays within the budget and some slack, each datagram is answered
    /// (<c>UDP-UNRESOLVED reason=busy</c> at once, or <c>reason=timeout</c> at the deadline), the
    /// listener keeps accepting, and /healthz stays 200.
    /// </summary>
    [RootFact]
    public async Task NameFlood_64KBDatagrams_UnderA384MiBHeap_MemoryStaysWithinTheBudget()
    {
        var defaults = await FloodAsync("default limits", TimeSpan.FromSeconds(3), []);
        Assert.True(defaults.Grown < Budget, $"RSS grew {Mib(defaults.Grown)} with the default limits");

        // A deadline longer than the sending takes, so every datagram is still waiting when the next comes: the budget fills.
        var raised = await FloodAsync("lookup caps 1024, whole budget per association", TimeSpan.FromSeconds(10),
        [
            "--Relay:MaxConcurrentLookups=1024", "--Relay:MaxLookupsPerAssociation=1024",
            $"--Relay:MaxPendingNameBytesPerAssociation={Budget}", $"--Relay:MaxPendingNameBytes={Budget}",
        ]);
        Assert.True(raised.Grown < Budget + (64L * 1024 * 1024), $"RSS grew {Mib(raised.Grown)}, more than the {Mib(Budget)} budget and 64 MiB of slack");
    }

    private async Task<(long Grown, int Busy, int Timeout)> FloodAsync(string what, TimeSpan deadline, string[] limits)
    {
        const int Names = 1000;
        var server = await lab.StartServerAsync(
        [
            "--Relay:Listen:0=127.0.0.1:0", "--Metrics:Enabled=true", "--Metrics:Listen=127.0.0.1:0",
            string.Create(CultureInfo.InvariantCulture, $"--Relay:ResolveTimeout={deadline:c}"),
            "--Relay:NoticeQueueLength=4096", "--Relay:NoticeBurst=1000", "--Relay:NoticesPerSecond=1000", .. limits,
        ], new Dictionary<string, string?> { ["DOTNET_GCHeapHardLimit"] = "0x18000000" });
        try
        {
            await using var flood = await OpenAsync(server);
            await ExpectUnresolvedAsync(flood, "warm-up.flood.test", "timeout", deadline + TimeSpan.FromSeconds(5)); // the resolver's code loaded before the baseline

            long before = server.ResidentBytes();
            long peak = before;
            using var sampling = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                while (!sampling.IsCancellationRequested)
                {
                    peak = Math.Max(peak, server.ResidentBytes());
                    await Task.Delay(20, CancellationToken.None);
                }
            });

            using var window = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var answers = CountAnswersAsync(flood, Names, window.Token);
            byte[] payload = new byte[64_000];
            string? healthDuringFlood = null;
            for (int i = 0; i < Names; i++)
            {
                await flood.SendAsync($"n{i}.flood.test", 9, payload);
                await Task.Delay(1); // a 212 992-byte socket buffer holds three of these: paced, the server sees them all
                if (i == Names / 2)
                {
                    await using var other = await OpenAsync(server); // the listener accepts and serves meanwhile
                    healthDuringFlood = await GetAsync(server, "/healthz");
                }
            }

            window.CancelAfter(deadline + TimeSpan.FromSeconds(3)); // the last lookups' deadline and some
            var (busy, timedOut) = await answers;
            await sampling.CancelAsync();
            await sampler;
            long after = server.ResidentBytes();
            output.WriteLine($"{what}: RSS {Mib(before)} before, {Mib(peak)} at most during, {Mib(after)} after ({Mib(peak - before)} grown at most; budget {Mib(Budget)}); "
                + $"{Names} names: {busy} busy, {timedOut} timeout, {Names - busy - timedOut} unanswered (the client dropped {flood.DroppedNotices} notices)");

            Assert.StartsWith("HTTP/1.1 200 OK", healthDuringFlood);
            Assert.True(busy > 0 && timedOut > 0, $"busy {busy}, timeout {timedOut}");
            Assert.True(busy + timedOut >= Names * 0.95, $"only {busy + timedOut} of {Names} datagrams answered");
            Assert.False(server.Process.HasExited);
            Assert.DoesNotContain("OutOfMemory", server.Process.Output, StringComparison.Ordinal);
            Assert.StartsWith("HTTP/1.1 200 OK", await GetAsync(server, "/healthz"));
            await using var afterwards = await OpenAsync(server);
            return (peak - before, busy, timedOut);
        }
        finally
        {
            await server.Process.DisposeAsync();
        }
    }

    /// <summary>
    /// One association sends 50 new names a second for 30 s (all unanswered); meanwhile 20 other
    /// clients (each from an address of its own) log in (RFC 1929, the default hash cost), open an
    /// association, relay a datagram and close, over and over. Every login succeeds, the 99th percentile under 1 s; the flooding
    /// association gets its answers (<c>reason=timeout</c> or <c>busy</c>).
    /// </summary>
    [RootFact]
    public async Task LoginsBesideANameFlood_StayFast()
    {
        const int Clients = 20;
        string hash = PasswordHash.Create("right");
        var settings = new List<string> { "--Relay:Listen:0=127.0.0.1:0", "--Auth:Users:0:Name=flooder", $"--Auth:Users:0:PasswordHash={hash}" };
        for (int i = 1; i <= Clients; i++)
        {
            settings.Add($"--Auth:Users:{i}:Name=user{i}");
            settings.Add($"--Auth:Users:{i}:PasswordHash={hash}");
        }

        var server = await lab.StartServerAsync(settings);
        using var echo = StartEcho(out var echoEndPoint);
        await using var flood = await OpenAsync(server, "flooder");
        var window = TimeSpan.FromSeconds(30);
        using var answerWindow = new CancellationTokenSource(window + TimeSpan.FromSeconds(6)); // the last names' deadline (5 s) and some
        var answers = CountAnswersAsync(flood, int.MaxValue, answerWindow.Token);
        var clock = Stopwatch.StartNew();
        int sent = 0;
        var flooding = Task.Run(async () =>
        {
            while (clock.Elapsed < window)
            {
                await flood.SendAsync($"f{sent++}.flood.test", 9, "x"u8.ToArray());
                var due = TimeSpan.FromSeconds(sent / 50.0);
                if (due > clock.Elapsed)
                {
                    await Task.Delay(due - clock.Elapsed);
                }
            }
        });

        var logins = new System.Collections.Concurrent.ConcurrentBag<TimeSpan>();
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        var clients = Enumerable.Range(1, Clients).Select(c => Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromMilliseconds(150 * c)); // clients arrive one by one, as they do
            while (clock.Elapsed < window)
            {
                try
                {
                    var started = Stopwatch.StartNew();
                    await using var association = await OpenAsync(server, $"user{c}", IPAddress.Parse($"127.0.1.{c}"));
                    logins.Add(started.Elapsed);
                    await association.SendAsync(echoEndPoint, "ping"u8.ToArray());
                    using var timeout = new CancellationTokenSource(TestTimeout.Default);
                    await association.ReceiveAsync(new byte[16], timeout.Token);
                }
                catch (Exception e)
                {
                    failures.Add($"user{c}: {e.GetType().Name}: {e.Message}");
                }

                await Task.Delay(500);
            }
        })).ToList();

        await Task.WhenAll(clients);
        await flooding;
        var (busy, timedOut) = await answers;
        var times = logins.ToList();
        output.WriteLine($"{times.Count} logins beside {sent} names in {window.TotalSeconds:0} s: p50 {RawLogin.Percentile(times, 0.5).TotalMilliseconds:0} ms, "
            + $"p99 {RawLogin.Percentile(times, 0.99).TotalMilliseconds:0} ms, max {times.Max().TotalMilliseconds:0} ms; the flood got {busy} busy and {timedOut} timeout answers");

        Assert.Empty(failures);
        Assert.True(RawLogin.Percentile(times, 0.99) < TimeSpan.FromSeconds(1), $"p99 {RawLogin.Percentile(times, 0.99).TotalMilliseconds:0} ms");
        Assert.True(busy + timedOut >= sent * 0.95, $"{busy + timedOut} answers to {sent} names");
    }

    /// <summary>
    /// Names with a line feed in them, in a UDP datagram and in a CONNECT, logged at Debug as the
    /// lookups fail: each stays on one escaped line.
    /// </summary>
    [RootFact]
    public async Task NamesWithLineFeeds_InDatagramsAndConnect_StayOnTheirLines()
    {
        var server = await lab.StartServerAsync(["--Relay:Listen:0=127.0.0.1:0", "--Serilog:MinimumLevel:Default=Debug", "--Relay:ResolveTimeout=00:00:01"]);
        string name = $"udp\n{LogEscapingTests.Forged}";
        await using (var association = await OpenAsync(server))
        {
            await association.SendAsync(name, 9, "x"u8.ToArray());
            using var timeout = new CancellationTokenSource(TestTimeout.Default);
            while ((await association.Notices.ReadAsync(timeout.Token)).Verb != NoticeVerbs.UdpUnresolved)
            {
            }
        }

        using (var connect = lab.CreateSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await connect.ConnectAsync(server.Socks);
            byte[] host = Encoding.ASCII.GetBytes($"tcp\r\n{LogEscapingTests.Forged}");
            await connect.SendAsync((byte[])[0x05, 0x01, 0x00, 0x05, 0x01, 0x00, 0x03, (byte)host.Length, .. host, 0, 80], SocketFlags.None);
            byte[] reply = new byte[12];
            int read = 0;
            using var timeout = new CancellationTokenSource(TestTimeout.Default);
            while (read < reply.Length && await connect.ReceiveAsync(reply.AsMemory(read), SocketFlags.None, timeout.Token) is int n and > 0)
            {
                read += n;
            }

            Assert.NotEqual(0x00, reply[3]); // refused: the name does not resolve
        }

        await server.Process.WaitForOutputAsync($"tcp\\r\\n{LogEscapingTests.Forged}");
        await server.Process.WaitForOutputAsync($"udp\\n{LogEscapingTests.Forged}");
        Assert.DoesNotContain(server.Process.Output.Split('\n'), l => l.StartsWith(LogEscapingTests.Forged, StringComparison.Ordinal));
    }

    /// <summary>
    /// With <c>Limits:MaxConnectionsPerClient=2</c>: two connections from fd00:64::a and a third from
    /// fd00:64::b (the same /64) is one too many; fd00:65::a (another /64) is served.
    /// </summary>
    [RootFact]
    public async Task PerClientLimits_CountIPv6ClientsPer64()
    {
        var server = await lab.StartServerAsync(["--Relay:Listen:0=[fd00:64::1]:0", "--Policy:AllowClients:0=fd00::/8", "--Limits:MaxConnectionsPerClient=2"]);
        var held = new List<Socket>();
        try
        {
            held.Add(await ConnectFromAsync(server, "fd00:64::a"));
            held.Add(await ConnectFromAsync(server, "fd00:64::a"));
            Assert.True(await GreetsAsync(held[0]));
            Assert.True(await GreetsAsync(held[1]));

            using (var sameNetwork = await ConnectFromAsync(server, "fd00:64::b"))
            {
                Assert.False(await GreetsAsync(sameNetwork));
            }

            using var otherNetwork = await ConnectFromAsync(server, "fd00:65::a");
            Assert.True(await GreetsAsync(otherNetwork));
            await server.Process.WaitForOutputAsync("Limits:MaxConnectionsPerClient=2 for fd00:64::/64");
        }
        finally
        {
            held.ForEach(s => s.Dispose());
        }
    }

    private async Task<Socket> ConnectFromAsync(LabServer server, string source)
    {
        var socket = lab.CreateSocket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Parse(source), 0));
        await socket.ConnectAsync(server.Socks).WaitAsync(TestTimeout.Default);
        return socket;
    }

    /// <summary>True when the server answers a greeting (05 00); false when it closed the connection on accept.</summary>
    private static async Task<bool> GreetsAsync(Socket socket)
    {
        await socket.SendAsync(new byte[] { 0x05, 0x01, 0x00 }, SocketFlags.None);
        byte[] reply = new byte[2];
        using var timeout = new CancellationTokenSource(TestTimeout.Default);
        try
        {
            int read = 0;
            while (read < 2 && await socket.ReceiveAsync(reply.AsMemory(read), SocketFlags.None, timeout.Token) is int n and > 0)
            {
                read += n;
            }

            return read == 2 && reply[1] == 0x00;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>An association from inside the namespace; from <paramref name="source"/> (a client of its own) when given.</summary>
    private async Task<Socks5UdpAssociation> OpenAsync(LabServer server, string? user = null, IPAddress? source = null)
        => await Socks5UdpAssociation.OpenAsync(new Socks5ProxyOptions
        {
            Host = server.Socks.Address.ToString(),
            Port = server.Socks.Port,
            Credentials = user is null ? null : new NetworkCredential(user, "right"),
            SocketFactory = (family, type, protocol) =>
            {
                var socket = lab.CreateSocket(family, type, protocol);
                if (source is not null && type == SocketType.Stream)
                {
                    socket.Bind(new IPEndPoint(source, 0)); // the library binds its UDP socket to this address itself
                }

                return socket;
            },
        }).WaitAsync(TestTimeout.Default);

    private static async Task ExpectUnresolvedAsync(Socks5UdpAssociation association, string name, string reason, TimeSpan within)
    {
        await association.SendAsync(name, 9, "x"u8.ToArray());
        using var timeout = new CancellationTokenSource(within);
        while (true)
        {
            var notice = await association.Notices.ReadAsync(timeout.Token);
            if (notice.Verb == NoticeVerbs.UdpUnresolved)
            {
                Assert.Equal($"UDP-UNRESOLVED dst={name}:9 reason={reason}", notice.Line);
                return;
            }
        }
    }

    /// <summary>Reads notices until <paramref name="expected"/> UDP-UNRESOLVED have come or <paramref name="window"/> is cancelled: how many said busy, how many timeout.</summary>
    private static async Task<(int Busy, int Timeout)> CountAnswersAsync(Socks5UdpAssociation association, int expected, CancellationToken window)
    {
        int busy = 0, timedOut = 0;
        try
        {
            while (busy + timedOut < expected)
            {
                var notice = await association.Notices.ReadAsync(window);
                if (notice.Verb != NoticeVerbs.UdpUnresolved)
                {
                    continue;
                }

                Assert.True(notice.Reason is Busy or UnresolvedReasons.Timeout, notice.Line);
                _ = notice.Reason == Busy ? busy++ : timedOut++;
            }
        }
        catch (OperationCanceledException) when (window.IsCancellationRequested)
        {
            // The window closed: the counts say how far it got.
        }

        return (busy, timedOut);
    }

    /// <summary>A UDP echo on the namespace's 127.0.0.1, answering until disposed.</summary>
    private IDisposable StartEcho(out IPEndPoint endPoint)
    {
        var socket = lab.CreateSocket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        endPoint = (IPEndPoint)socket.LocalEndPoint!;
        _ = Task.Run(async () =>
        {
            byte[] buffer = new byte[2048];
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            try
            {
                while (true)
                {
                    var received = await socket.ReceiveFromAsync(buffer, SocketFlags.None, from);
                    await socket.SendToAsync(buffer.AsMemory(0, received.ReceivedBytes), SocketFlags.None, received.RemoteEndPoint);
                }
            }
            catch (Exception e) when (e is ObjectDisposedException or SocketException)
            {
                // Disposed: the test is over.
            }
        });
        return socket;
    }

    private static async Task<string> GetAsync(LabServer server, string path)
    {
        using var socket = server.Lab.CreateSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(TestTimeout.Default);
        await socket.ConnectAsync(server.Metrics!, timeout.Token);
        await socket.SendAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n"), SocketFlags.None, timeout.Token);
        var response = new MemoryStream();
        byte[] buffer = new byte[4096];
        int n;
        while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
        {
            response.Write(buffer, 0, n);
        }

        return Encoding.UTF8.GetString(response.ToArray());
    }

    private static string Mib(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.0} MiB");
}
