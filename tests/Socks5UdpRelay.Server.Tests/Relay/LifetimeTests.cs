using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Relay;

/// <summary>The control connection owns the association: when it ends, every socket of the association is closed at once.</summary>
public sealed class LifetimeTests
{
    public static TheoryData<bool> CloseKinds => new() { false, true };

    [Theory]
    [MemberData(nameof(CloseKinds))]
    public async Task ControlConnectionEnds_EverySocketOfTheAssociationIsReleased(bool reset)
    {
        await using var server = await ServerProcess.StartAsync(["--Relay:Listen:0=127.0.0.1:0"]);
        await using var echoes = new EchoSet(3);

        // One full cycle first, so whatever the runtime opens once (epoll, eventfd) is in the baseline.
        await using (var warmUp = await RawAssociation.OpenAsync(server.EndPoint))
        {
            await echoes.RoundTripAllAsync(warmUp);
        }

        await server.WaitForLineAsync(l => l.Contains("UDP association closed", StringComparison.Ordinal));
        int baseline = await SettledFdCountAsync(server, expected: null);

        var association = await RawAssociation.OpenAsync(server.EndPoint);
        await echoes.RoundTripAllAsync(association);
        int during = server.CountOpenFileDescriptors();
        Assert.Equal(baseline + 1 + 1 + 3 + 1, during); // control TCP, client-facing UDP, one per destination, the mapping's inbound socket (address-dependent filtering)

        var relay = association.Relay;
        if (reset)
        {
            association.Control.Control.LingerState = new LingerOption(true, 0); // close sends RST
        }

        await association.DisposeAsync();
        Assert.Equal(baseline, await SettledFdCountAsync(server, expected: baseline));
        string reason = reset ? "client reset" : "client closed";
        await server.WaitForLineAsync(l => l.Contains($"UDP association closed ({reason})", StringComparison.Ordinal));

        // The relay port no longer answers: the kernel itself refuses.
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        probe.Connect(relay);
        probe.Send(RawSocks.Datagram(echoes.EndPoints[0], "late"u8));
        var error = await Assert.ThrowsAsync<SocketException>(async () => await probe.ReceiveAsync(new byte[16], SocketFlags.None, TestTimeout.Token));
        Assert.Equal(SocketError.ConnectionRefused, error.SocketErrorCode);
    }

    /// <summary>The fd count once it stops changing (or reaches <paramref name="expected"/>), bounded by the test timeout.</summary>
    private static async Task<int> SettledFdCountAsync(ServerProcess server, int? expected)
    {
        using var cts = new CancellationTokenSource(TestTimeout.Default);
        int last = server.CountOpenFileDescriptors();
        int stable = 0;
        while (!cts.IsCancellationRequested)
        {
            await Task.Delay(20, CancellationToken.None);
            int now = server.CountOpenFileDescriptors();
            if (expected is { } e ? now == e : (now == last && ++stable >= 5))
            {
                return now;
            }

            if (now != last)
            {
                stable = 0;
            }

            last = now;
        }

        return last;
    }

    private sealed class EchoSet(int count) : IAsyncDisposable
    {
        private readonly UdpResponder[] _echoes = Enumerable.Range(0, count).Select(_ => UdpResponder.Echo(IPAddress.Loopback)).ToArray();

        public IPEndPoint[] EndPoints => _echoes.Select(e => e.EndPoint).ToArray();

        public async Task RoundTripAllAsync(RawAssociation association)
        {
            foreach (var echo in _echoes)
            {
                await association.SendToAsync(echo.EndPoint, "ping"u8.ToArray());
                Assert.Equal(echo.EndPoint.ToString(), (await association.ReceiveAsync()).Source);
            }
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var echo in _echoes)
            {
                await echo.DisposeAsync();
            }
        }
    }
}
