using Socks5UdpRelay.Cli.Tun;
using Socks5UdpRelay.Gateway.Plane;

namespace Socks5UdpRelay.Cli.Tests.Tun;

/// <summary>When a flow's exchange looks finished (the shorter idle timeout), and its TTL bookkeeping.</summary>
public sealed class UplinkFlowTests
{
    [Theory]
    [InlineData(new ushort[] { 53 }, new[] { false }, 1, true)] // a DNS query and its answer (REQ-5a)
    [InlineData(new ushort[] { 53, 53 }, new[] { false, false }, 2, true)] // A and AAAA from one socket, both answered
    [InlineData(new ushort[] { 53, 53 }, new[] { false, false }, 1, false)] // one still unanswered
    [InlineData(new ushort[] { 33434 }, new[] { true }, 1, true)] // a trace probe that drew its error
    [InlineData(new ushort[] { 7000 }, new[] { false }, 1, false)] // an ordinary socket to a high port
    [InlineData(new ushort[] { 53, 7000 }, new[] { false, false }, 2, false)] // not only well-known ports
    [InlineData(new ushort[] { 33434, 33435 }, new[] { true, false }, 2, false)] // a probe, then an ordinary datagram
    [InlineData(new ushort[] { 123 }, new[] { false }, 0, false)] // nothing answered yet
    public void LooksFinished_OnlyWhenEveryDatagramWasAnswered_AndAllWentToWellKnownPortsOrWereProbes(ushort[] ports, bool[] chosenTtl, int answers, bool finished)
    {
        var flow = new UplinkFlow(new FlowId(1), now: 0);
        for (int i = 0; i < ports.Length; i++)
        {
            flow.NoteSent(ports[i], chosenTtl[i], now: i);
        }

        for (int i = 0; i < answers; i++)
        {
            flow.NoteAnswer(now: 10);
        }

        Assert.Equal(finished, flow.LooksFinished);
    }

    [Fact]
    public void TtlInForce_IsPerDestination_AndANewMappingStartsAtTheDefault()
    {
        var flow = new UplinkFlow(new FlowId(1), now: 0);
        var a = FlowKey.From([10, 0, 0, 1], 53);
        var b = FlowKey.From([10, 0, 0, 1], 54);

        flow.SetTtlInForce(a, 5);

        Assert.Equal(5, flow.TtlInForce(a));
        Assert.Equal(0, flow.TtlInForce(b));
        flow.SetTtlInForce(a, 0);
        Assert.Equal(0, flow.TtlInForce(a));
        flow.SetTtlInForce(b, 7);
        flow.Attach(new UplinkMapping(null!, 1, 4000, ownsAssociation: false));
        Assert.Equal(0, flow.TtlInForce(b));
    }

    [Fact]
    public void Queue_HoldsAtMost64_InOrder_AndCloseDropsThem()
    {
        var flow = new UplinkFlow(new FlowId(1), now: 0);
        var key = FlowKey.From([10, 0, 0, 1], 53);
        for (int i = 0; i < UplinkFlow.MaxQueued; i++)
        {
            Assert.True(flow.TryEnqueue(key, [(byte)i], 0));
        }

        Assert.False(flow.TryEnqueue(key, [0xFF], 0));
        Assert.True(flow.TryDequeue(out var first));
        Assert.Equal(0, first.Buffer[QueuedDatagram.PayloadOffset]);
        first.Return();
        Assert.Null(flow.Close(out int dropped));
        Assert.Equal(UplinkFlow.MaxQueued - 1, dropped);
        Assert.True(flow.Closed);
    }
}
