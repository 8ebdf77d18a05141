using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Socks5UdpRelay.Gateway.Notices;
using Socks5UdpRelay.Gateway.Packets;
using Socks5UdpRelay.Gateway.Plane;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Gateway.Tests.Fakes;

/// <summary>
/// The SOCKS side replaced by test code: it answers each datagram at once on the gateway's reader
/// thread — an echo from the destination, or a notice line as the relay would write it, which the
/// gateway turns into the ICMP error the program sees.
/// </summary>
internal sealed class FakeUplink : IUplink
{
    public delegate void Behaviour(FakeUplink uplink, FlowId flow, in UdpPacket packet);

    public TunGateway? Gateway { get; set; }

    public Behaviour OnSend { get; set; } = Echo;

    public ConcurrentQueue<(FlowId Flow, IPEndPoint Source, IPEndPoint Destination, byte Ttl, int Length)> Seen { get; } = new();

    public ConcurrentQueue<NoticeMappingResult> NoticeResults { get; } = new();

    public ConcurrentQueue<FlowId> Closed { get; } = new();

    public void Send(FlowId flow, in UdpPacket packet)
    {
        Seen.Enqueue((flow, packet.GetSource(), packet.GetDestination(), packet.Ttl, packet.Packet.Length));
        OnSend(this, flow, packet);
    }

    public void FlowClosed(FlowId flow) => Closed.Enqueue(flow);

    public static void Echo(FakeUplink uplink, FlowId flow, in UdpPacket packet) =>
        uplink.Gateway!.WriteUdpReply(flow, packet.DestinationAddress, packet.DestinationPort, packet.Payload);

    /// <summary>Writes a notice line about the flow as the relay would send it.</summary>
    public void Notice(FlowId flow, string line)
    {
        if (!Protocol.Notice.TryParse(line, out var notice))
        {
            throw new ArgumentException($"Not a notice line: {line}", nameof(line));
        }

        NoticeResults.Enqueue(Gateway!.WriteNotice(flow, notice));
    }

    /// <summary>Port unreachable from the destination for <paramref name="closedPort"/>; echo otherwise.</summary>
    public static Behaviour Refusing(int closedPort) => (FakeUplink uplink, FlowId flow, in UdpPacket packet) =>
    {
        if (packet.DestinationPort == closedPort)
        {
            uplink.Notice(flow, PortUnreachable(packet));
        }
        else
        {
            Echo(uplink, flow, packet);
        }
    };

    /// <summary>
    /// A path of <paramref name="hops"/> routers to the destination: a datagram with a TTL below
    /// that draws time-exceeded from router N (10.204.N.1, fd00:204:N::1, arriving with TTL 65 − N);
    /// one that reaches the destination draws port unreachable. With <paramref name="mtu"/>, a packet
    /// larger than it draws fragmentation-needed from router 1 first.
    /// </summary>
    public static Behaviour Path(int hops, int? mtu = null) => (FakeUplink uplink, FlowId flow, in UdpPacket packet) =>
    {
        var dst = Endpoint(packet);
        string icmp = packet.IsIPv6 ? "icmp6" : "icmp";
        if (mtu is { } limit && packet.Packet.Length > limit)
        {
            string code = packet.IsIPv6 ? "2/0" : "3/4";
            uplink.Notice(flow, string.Create(CultureInfo.InvariantCulture,
                $"UDP-ERROR dst={dst} error=fragmentation-needed errno=EMSGSIZE {icmp}={code} from={Router(packet.IsIPv6, 1)} mtu={limit} rttl=64"));
        }
        else if (packet.Ttl < hops)
        {
            string code = packet.IsIPv6 ? "3/0" : "11/0";
            uplink.Notice(flow, string.Create(CultureInfo.InvariantCulture,
                $"UDP-ERROR dst={dst} error=ttl-exceeded errno=EHOSTUNREACH {icmp}={code} from={Router(packet.IsIPv6, packet.Ttl)} rttl={65 - packet.Ttl}"));
        }
        else
        {
            uplink.Notice(flow, PortUnreachable(packet) + string.Create(CultureInfo.InvariantCulture, $" rttl={65 - hops}"));
        }
    };

    public static string Router(bool v6, int n) => v6 ? $"fd00:204:{n}::1" : $"10.204.{n}.1";

    private static string PortUnreachable(in UdpPacket packet) =>
        $"UDP-ERROR dst={Endpoint(packet)} error=port-unreachable errno=ECONNREFUSED {(packet.IsIPv6 ? "icmp6=1/4" : "icmp=3/3")} from={new IPAddress(packet.DestinationAddress)}";

    private static string Endpoint(in UdpPacket packet) =>
        NoticeFormat.FormatEndpoint(new IPAddress(packet.DestinationAddress), packet.DestinationPort);
}
