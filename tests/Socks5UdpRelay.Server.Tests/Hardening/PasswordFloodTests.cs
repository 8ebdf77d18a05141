using System.Net;
using Socks5UdpRelay.Server.Auth;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Xunit;
using Xunit.Abstractions;

namespace Socks5UdpRelay.Server.Tests.Hardening;

/// <summary>
/// Password checks cannot be turned against other clients: derivations run on their own few
/// threads behind a bounded queue, one client holds at most a few places in it, and an unknown
/// user costs what the costliest known one does.
/// </summary>
[Collection(MeasuredCollection.Name)]
public sealed class PasswordFloodTests(ITestOutputHelper output) : MeasuredTest
{
    private static readonly IPAddress Attacker = IPAddress.Parse("127.0.2.1");

    /// <summary>
    /// 250 connections at once from one address, each trying a wrong password, again and again,
    /// with the default hash cost (210 000 iterations, about 0.1 s each here); meanwhile 30 logins
    /// of 10 users from 127.0.0.1. Before: derivations ran on the shared thread pool, and a login
    /// waited behind the attacker's (17 s, or timed out). The handshake cap per network is raised
    /// here so that all 250 reach the password check (it would close most at accept otherwise).
    /// </summary>
    [Fact]
    public async Task WrongPasswords250AtOnceFromOneAddress_LoginsFromAnotherStayFast()
    {
        const int Users = 10;
        string hash = PasswordHash.Create("right");
        var settings = new Dictionary<string, string?> { ["Limits:MaxHandshakesPerNetwork"] = "1024" };
        for (int i = 0; i < Users; i++)
        {
            settings[$"Auth:Users:{i}:Name"] = $"user{i}";
            settings[$"Auth:Users:{i}:PasswordHash"] = hash;
        }

        await using var server = await RelayServer.StartAsync(settings);
        using var stop = new CancellationTokenSource();
        long attempts = 0;
        var flood = Enumerable.Range(0, 250).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var bounded = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
                bounded.CancelAfter(TimeSpan.FromSeconds(30));
                try
                {
                    await RawLogin.RunAsync(server.EndPoint, Attacker, "user0", "wrong", bounded.Token);
                    Interlocked.Increment(ref attempts);
                }
                catch (Exception e) when (e is OperationCanceledException or System.Net.Sockets.SocketException)
                {
                    // Stopped, or refused at accept: try again until the test is over.
                }
            }
        })).ToList();

        // Let the flood build up before the first login.
        await Eventually.TrueAsync(() => server.Endpoints.OpenSessions >= 200);
        var times = new List<TimeSpan>();
        for (int round = 0; round < 3; round++)
        {
            for (int i = 0; i < Users; i++)
            {
                var (status, elapsed) = await RawLogin.RunAsync(server.EndPoint, IPAddress.Loopback, $"user{i}", "right", TestTimeout.Token);
                Assert.True(status == 0, $"login {round}/{i} failed with status {status} after {elapsed.TotalSeconds:0.00} s");
                times.Add(elapsed);
                await Task.Delay(300); // logins spread over some 10 s of flood
            }
        }

        await stop.CancelAsync();
        await Task.WhenAll(flood).WaitAsync(TimeSpan.FromSeconds(40));

        var p50 = RawLogin.Percentile(times, 0.5);
        var p99 = RawLogin.Percentile(times, 0.99);
        var first = times.Take(Users).ToList();
        output.WriteLine($"30 logins beside 250 concurrent wrong-password connections ({attempts} attempts answered): p50 {p50.TotalMilliseconds:0} ms, p99 {p99.TotalMilliseconds:0} ms; "
            + $"the 10 first logins (a derivation each, the rest are recognised): p50 {RawLogin.Percentile(first, 0.5).TotalMilliseconds:0} ms, max {first.Max().TotalMilliseconds:0} ms");
        Assert.True(p99 < TimeSpan.FromSeconds(2), $"p99 {p99.TotalSeconds:0.00} s");
    }

    /// <summary>
    /// With one check of a client allowed at a time, a second attempt of that client is answered
    /// at once (after the failure delay, here 0), without waiting for a derivation; another client's
    /// attempt is checked. Before: every attempt was derived.
    /// </summary>
    [Fact]
    public async Task PastTheClientsCap_AnAttemptFailsAtOnce_WithoutADerivation_OtherClientsAreChecked()
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:Users:0:Name"] = "alice",
            // About 1 s to derive on this machine: long enough to be sure the second attempt did not wait for it.
            ["Auth:Users:0:PasswordHash"] = PasswordHash.Create("right", iterations: 2_000_000),
            ["Auth:FailureDelay"] = "00:00:00",
            ["Auth:MaxConcurrentAttemptsPerClient"] = "1",
            ["Auth:DerivationThreads"] = "2",
        });

        var first = RawLogin.RunAsync(server.EndPoint, IPAddress.Loopback, "alice", "wrong", TestTimeout.Token);
        await Eventually.TrueAsync(() => DerivationStarted(server));
        var second = await RawLogin.RunAsync(server.EndPoint, IPAddress.Loopback, "alice", "right", TestTimeout.Token);

        Assert.Equal(1, second.Status);
        Assert.False(first.IsCompleted, "the first attempt's derivation should still be running");
        Assert.Contains(server.Logs.Events, e => e.Message.Contains("authentication failed", StringComparison.Ordinal) && e.Message.Contains("Auth:MaxConcurrentAttemptsPerClient", StringComparison.Ordinal));

        var other = await RawLogin.RunAsync(server.EndPoint, IPAddress.Parse("127.0.3.1"), "alice", "right", TestTimeout.Token);
        Assert.Equal(0, other.Status);
        Assert.Equal(1, (await first).Status);
    }

    /// <summary>A full queue fails the next attempt at once too (any client), instead of queueing without bound.</summary>
    [Fact]
    public async Task FullQueue_NextAttemptFailsAtOnce()
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:Users:0:Name"] = "alice",
            ["Auth:Users:0:PasswordHash"] = PasswordHash.Create("right", iterations: 2_000_000),
            ["Auth:FailureDelay"] = "00:00:00",
            ["Auth:DerivationThreads"] = "1",
            ["Auth:MaxQueuedDerivations"] = "1",
        });

        var running = RawLogin.RunAsync(server.EndPoint, IPAddress.Parse("127.0.4.1"), "alice", "wrong", TestTimeout.Token);
        await Eventually.TrueAsync(() => DerivationStarted(server));
        var queued = RawLogin.RunAsync(server.EndPoint, IPAddress.Parse("127.0.4.2"), "alice", "wrong", TestTimeout.Token);
        await Eventually.TrueAsync(() => Pool(server).Queued == 1);

        var refused = await RawLogin.RunAsync(server.EndPoint, IPAddress.Parse("127.0.4.3"), "alice", "right", TestTimeout.Token);

        Assert.Equal(1, refused.Status);
        Assert.False(queued.IsCompleted);
        Assert.Contains(server.Logs.Events, e => e.Message.Contains("authentication failed", StringComparison.Ordinal) && e.Message.Contains("Auth:MaxQueuedDerivations", StringComparison.Ordinal));
        Assert.Equal(1, (await running).Status);
        Assert.Equal(1, (await queued).Status);
    }

    /// <summary>
    /// The derivation thread serves waiting clients in turns: a client with three checks waiting
    /// holds a later client back by one of them, not all three. Before (one queue, first come first
    /// served), the later client's check came after all of them.
    /// </summary>
    [Fact]
    public async Task WaitingClientsAreServedInTurns()
    {
        var directory = Directory(PasswordHash.Create("right", iterations: 200_000));
        using var pool = new KeyDerivationPool(directory, threads: 1, capacity: 8);
        var a = IPAddress.Parse("192.0.2.1");
        var b = IPAddress.Parse("192.0.2.2");
        var finished = new System.Collections.Concurrent.ConcurrentQueue<string>();
        Task Queue(IPAddress client, string name)
        {
            Assert.True(pool.TryQueue(client, "u0"u8.ToArray(), "wrong"u8.ToArray(), CancellationToken.None, out var verdict));
            return verdict.ContinueWith(_ => finished.Enqueue(name), TaskScheduler.Default);
        }

        var first = Queue(a, "a1");
        await Eventually.TrueAsync(() => pool.Running == 1); // a1 is being derived; the rest wait
        var rest = new[] { Queue(a, "a2"), Queue(a, "a3"), Queue(b, "b1") };
        await Task.WhenAll([first, .. rest]).Within();

        Assert.Equal(["a1", "a2", "b1", "a3"], finished);
    }

    /// <summary>
    /// The decoy an unknown user's password is derived against costs what the costliest configured
    /// hash costs (iterations times 32-byte blocks). Before: a fixed 210 000 iterations, so a user
    /// hashed with 400 000 answered visibly later than a name that does not exist.
    /// </summary>
    [Fact]
    public void UnknownUsersDecoy_CostsAsMuchAsTheCostliestHash()
    {
        string cheap = PasswordHash.Create("a", iterations: 10_000);
        string dear = PasswordHash.Create("b", iterations: 400_000);
        var directory = Directory(cheap, dear);
        Assert.Equal(400_000, directory.Decoy.Iterations);
        Assert.Equal(32, directory.Decoy.Hash.Length);

        // 300 000 iterations for 64 bytes (two blocks) cost more than 400 000 for 32.
        string twoBlocks = $"{PasswordHash.Prefix}300000${Convert.ToBase64String(new byte[16])}${Convert.ToBase64String(new byte[64])}";
        var wide = Directory(cheap, dear, twoBlocks);
        Assert.Equal(300_000, wide.Decoy.Iterations);
        Assert.Equal(64, wide.Decoy.Hash.Length);
        Assert.False(wide.Derive("mallory"u8, "b"u8));
    }

    private static UserDirectory Directory(params string[] hashes) => new(Microsoft.Extensions.Options.Options.Create(new AuthOptions
    {
        Users = hashes.Select((h, i) => new UserOptions { Name = $"u{i}", PasswordHash = h }).ToList(),
    }));

    private static KeyDerivationPool Pool(RelayServer server)
        => (KeyDerivationPool)server.Services.GetService(typeof(KeyDerivationPool))!;

    /// <summary>A derivation is under way: a thread took it from the queue (nothing waits in it, and the client was not answered yet).</summary>
    private static bool DerivationStarted(RelayServer server) => Pool(server).Running > 0;
}
