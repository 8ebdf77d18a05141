using System.Net;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Relay;

/// <summary>Idle destination sockets and idle associations close on the injected clock.</summary>
public sealed class IdleTests
{
    [Fact]
    public async Task IdleDestination_IsClosed_AndReopenedByTheNextDatagram()
    {
        var time = new ManualTimeProvider();
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?>
        {
            ["Relay:DestinationIdleTimeout"] = "00:01:00",
            ["Relay:AssociationIdleTimeout"] = "00:00:00",
        }, time: time);
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);
        await association.SendToAsync(echo.EndPoint, "one"u8.ToArray());
        await association.ReceiveAsync();
        var state = server.SingleAssociation();
        Assert.Equal(1, state.DestinationCount);

        time.Advance(TimeSpan.FromSeconds(59));
        await server.SettleLoopsAsync();
        Assert.Equal(1, state.DestinationCount);
        time.Advance(TimeSpan.FromSeconds(16)); // past the timeout, within one sweep period
        await server.SettleLoopsAsync();
        Assert.Equal(0, state.DestinationCount);

        await association.SendToAsync(echo.EndPoint, "two"u8.ToArray());
        Assert.Equal("two"u8.ToArray(), (await association.ReceiveAsync()).Payload);
        Assert.Equal(2, state.Counters.DestinationsOpened);
        Assert.Single(echo.Senders.Select(s => s.Port).Distinct()); // same outbound port after reopening
    }

    [Fact]
    public async Task IdleAssociation_GetsClosingNotice_ThenEnds()
    {
        var time = new ManualTimeProvider();
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Relay:AssociationIdleTimeout"] = "00:05:00" }, time: time);
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);
        await association.SendToAsync(echo.EndPoint, "one"u8.ToArray());
        await association.ReceiveAsync();

        time.Advance(TimeSpan.FromMinutes(4));
        await server.SettleLoopsAsync();
        Assert.Equal(1, server.Endpoints.OpenAssociations);
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal("CLOSING reason=idle-timeout", await association.Control.ReadLineAsync());
        Assert.Null(await association.Control.ReadLineAsync()); // then the connection ends
        await server.WaitForNoAssociationsAsync();
    }

    [Fact]
    public async Task TrafficKeepsAnAssociationAlive()
    {
        var time = new ManualTimeProvider();
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Relay:AssociationIdleTimeout"] = "00:05:00" }, time: time);
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);
        for (int minute = 0; minute < 12; minute += 3)
        {
            await association.SendToAsync(echo.EndPoint, "tick"u8.ToArray());
            await association.ReceiveAsync();
            time.Advance(TimeSpan.FromMinutes(3));
            await server.SettleLoopsAsync();
        }

        Assert.Equal(1, server.Endpoints.OpenAssociations);
    }

    [Fact]
    public async Task IdleSweepRacingTheClientsSends_NeverStopsTheAssociation()
    {
        var time = new ManualTimeProvider();
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?>
        {
            ["Relay:DestinationIdleTimeout"] = "00:00:01",
            ["Relay:AssociationIdleTimeout"] = "00:00:00",
        }, time: time);
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);
        var closed = FreePorts.ClosedUdpEndPoint(IPAddress.Loopback);
        using var stop = new CancellationTokenSource();
        var sweeper = Task.Run(() =>
        {
            for (int i = 0; i < 2_000 && !stop.IsCancellationRequested; i++)
            {
                time.Advance(TimeSpan.FromSeconds(2)); // every sweep finds the destination idle and closes it
            }
        });
        for (int i = 0; i < 2_000 && !sweeper.IsCompleted; i++)
        {
            await association.SendToAsync(closed, "x"u8.ToArray()); // a destination socket that keeps being closed and reopened
        }

        await stop.CancelAsync();
        await sweeper.Within();

        // The burst overran the relay's receive buffer, as a burst may; a datagram sent while it
        // drains can be lost like any UDP datagram, so the proof is that one gets through.
        for (int attempt = 0; ; attempt++)
        {
            await association.SendToAsync(echo.EndPoint, "alive"u8.ToArray());
            using var wait = new CancellationTokenSource(TimeSpan.FromMilliseconds(250));
            try
            {
                Assert.Equal("alive"u8.ToArray(), (await association.ReceiveAsync(wait.Token)).Payload);
                break;
            }
            catch (OperationCanceledException) when (attempt < 40)
            {
            }
        }
    }
}
