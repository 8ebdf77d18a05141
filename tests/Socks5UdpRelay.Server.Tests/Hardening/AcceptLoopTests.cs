using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Socks5UdpRelay.Server.Control;
using Socks5UdpRelay.Server.Hosting;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Resolution;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Server.Tests.Hosting;
using Socks5UdpRelay.Server.Tools;
using Socks5UdpRelay.Tests.Shared;
using Xunit;
using Xunit.Abstractions;

namespace Socks5UdpRelay.Server.Tests.Hardening;

/// <summary>
/// The accept loops go on through any failure, and the health answers say whether the server
/// accepts: <c>/healthz</c> 503 and the healthcheck command unhealthy once a listener is closed.
/// </summary>
public sealed partial class AcceptLoopTests(ITestOutputHelper output)
{
    private const string OtherNetwork = "192.0.2.0/24";

    /// <summary>
    /// A fault while a connection is taken on (here a logging provider that throws once, on the
    /// line for this host's health probe) closes that connection and nothing more. Before: the
    /// exception left the accept loop, and the server held its port without answering anyone.
    /// </summary>
    [Fact]
    public async Task AFaultWhileTakingOnAConnection_ClosesIt_AndAcceptingGoesOn()
    {
        var capture = new LogCapture();
        var builder = RelayHost.CreateBuilder([]);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Relay:Listen:0"] = "127.0.0.1:0",
            ["Policy:AllowClients:0"] = OtherNetwork, // this host gets the probe's answer, logged at Debug
        });
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Logging.AddProvider(capture);
        builder.Logging.AddProvider(new ThrowingOnceProvider(eventId: 2013));
        builder.Services.AddSingleton<IDestinationResolver>(new FakeResolver());
        using var host = builder.Build();
        await host.StartAsync(TestTimeout.Token);
        try
        {
            var endpoint = host.Services.GetRequiredService<IRelayEndpoints>().ListenEndpoints[0];
            await using (var first = await RawSocks.ConnectAsync(endpoint))
            {
                await first.SendAsync(0x05, 0x01, 0x00);
                Assert.True(await first.ClosedByServerAsync());
            }

            await using var second = await RawSocks.ConnectAsync(endpoint);
            await second.SendAsync(0x05, 0x01, 0x00);
            Assert.Equal(new byte[] { 0x05, 0xFF }, await second.ReadAsync(2));
            Assert.True(host.Services.GetRequiredService<IRelayEndpoints>().Accepting);
            Assert.Contains(capture.Events, e => e.Level == LogLevel.Error && e.Message.Contains("could not be taken on; closed, and accepting goes on", StringComparison.Ordinal));
        }
        finally
        {
            await host.StopAsync(TestTimeout.Token);
        }
    }

    /// <summary>
    /// With the SOCKS listener closed under a running server, <c>/healthz</c> answers 503 and the
    /// healthcheck command exits 1; before, both said healthy (the accept loop's task had ended
    /// quietly, and /healthz only looked at the endpoints bound at start).
    /// </summary>
    [Fact]
    public async Task ListenerClosed_HealthzIs503_AndTheHealthCheckUnhealthy()
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Metrics:Enabled"] = "true", ["Metrics:Listen"] = "127.0.0.1:0" });
        var metrics = server.Services.GetRequiredService<MetricsEndpoint>().EndPoint!;
        string[] check = [$"--Relay:Listen:0=127.0.0.1:{server.EndPoint.Port}"];
        Assert.StartsWith("HTTP/1.1 200 OK", await RawHttp.GetAsync(metrics, "/healthz"));
        Assert.Equal(0, await HealthCheckCommand.RunAsync(check, new StringWriter()));

        server.Services.GetRequiredService<Socks5Listener>().Listeners[0].Dispose();
        await Eventually.TrueAsync(() => !server.Endpoints.Accepting);

        string health = await RawHttp.GetAsync(metrics, "/healthz");
        Assert.StartsWith("HTTP/1.1 503", health);
        Assert.EndsWith("not accepting SOCKS connections\n", health);
        var said = new StringWriter();
        Assert.Equal(1, await HealthCheckCommand.RunAsync(check, said));
        Assert.StartsWith("unhealthy:", said.ToString());
        Assert.Contains(server.Logs.Events, e => e.Level == LogLevel.Critical && e.Message.Contains("stopped: the listener is closed", StringComparison.Ordinal));
    }

    /// <summary>
    /// The real server out of process, its file descriptors capped just above what it holds
    /// (prlimit on the running process): held connections exhaust them, accepting fails with
    /// EMFILE on both listeners, and once the connections go, both accept again: a new SOCKS
    /// client is served and <c>/healthz</c> answers 200 (also a request that waited in the backlog
    /// meanwhile). Before: the metrics endpoint's loop ended on the first EMFILE, and /healthz never
    /// answered again.
    /// </summary>
    [Fact]
    public async Task OutOfFileDescriptors_BothListenersRecover()
    {
        await using var server = await ServerProcess.StartAsync(["--Relay:Listen:0=127.0.0.1:0", "--Metrics:Enabled=true", "--Metrics:Listen=127.0.0.1:0"]);
        string metricsLine = await server.WaitForLineAsync(l => l.Contains("Metrics on http://", StringComparison.Ordinal));
        var metrics = IPEndPoint.Parse(MetricsRegex().Match(metricsLine).Groups[1].Value);
        Assert.StartsWith("HTTP/1.1 200 OK", await RawHttp.GetAsync(metrics, "/healthz"));

        int baseline = server.CountOpenFileDescriptors();
        int limit = baseline + 8;
        RunChecked("prlimit", "--pid", server.Pid.ToString(CultureInfo.InvariantCulture), $"--nofile={limit}:{limit}");
        var held = new List<Socket>();
        Task<string> waiting;
        try
        {
            for (int i = 0; i < 16; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                held.Add(socket);
                await socket.ConnectAsync(server.EndPoint, TestTimeout.Token); // completes in the backlog even when not accepted
            }

            await server.WaitForLineAsync(l => l.Contains("Accepting on", StringComparison.Ordinal) && l.Contains("Too many open files", StringComparison.Ordinal));

            // A health request while no descriptor is free: it waits in the backlog (and, before, ended the endpoint's loop).
            waiting = RawHttp.GetAsync(metrics, "/healthz");
            await server.WaitForLineAsync(l => l.Contains($"Accepting on {metrics}", StringComparison.Ordinal) && l.Contains("Too many open files", StringComparison.Ordinal));
        }
        finally
        {
            foreach (var socket in held)
            {
                socket.Dispose();
            }
        }

        // The held sessions read EOF and close: descriptors come back, accepting resumes.
        var clock = Stopwatch.StartNew();
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);
        Assert.StartsWith("HTTP/1.1 200 OK", await RawHttp.GetAsync(metrics, "/healthz"));
        Assert.StartsWith("HTTP/1.1 200 OK", await waiting);
        output.WriteLine($"descriptors: {baseline} at rest, capped at {limit}; served again {clock.ElapsedMilliseconds} ms after the connections closed; "
            + $"{server.CountLines(l => l.Contains("Too many open files", StringComparison.Ordinal))} EMFILE lines logged");
    }

    private static void RunChecked(string file, params string[] arguments)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', arguments)}: {error}");
    }

    [GeneratedRegex(@"Metrics on http://([0-9.]+:[0-9]+)/")]
    private static partial Regex MetricsRegex();

    /// <summary>A logging provider whose loggers throw the first time they see one event: a fault in the middle of taking a connection on.</summary>
    private sealed class ThrowingOnceProvider(int eventId) : ILoggerProvider
    {
        private readonly int _eventId = eventId;
        private int _thrown;

        public ILogger CreateLogger(string categoryName) => new Thrower(this);

        public void Dispose()
        {
        }

        private sealed class Thrower(ThrowingOnceProvider owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId id, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (id.Id == owner._eventId && Interlocked.Exchange(ref owner._thrown, 1) == 0)
                {
                    throw new InvalidOperationException("a logging provider failed");
                }
            }
        }
    }
}
