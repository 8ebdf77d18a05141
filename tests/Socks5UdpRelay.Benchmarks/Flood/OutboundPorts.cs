using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Benchmarks.Load;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Benchmarks.Flood;

/// <summary>
/// Where each association's datagrams leave the relay, as a destination sees it: one datagram
/// through each flow to a socket of the tool's, whose source port is the association's outbound
/// port. Mapping is endpoint-independent (README, "NAT behaviour"), so the echo target sees the
/// same port.
/// </summary>
internal static class OutboundPorts
{
    public static IReadOnlyList<IPEndPoint> Learn(IReadOnlyList<Flow> flows)
    {
        using var observer = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 2_000 };
        observer.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var at = (IPEndPoint)observer.LocalEndPoint!;
        byte[] probe = new byte[UdpRequestHeader.MaxLength + 5];
        int header = UdpRequestHeader.Write(probe, at.Address, (ushort)at.Port);
        "probe"u8.CopyTo(probe.AsSpan(header));
        byte[] buffer = new byte[64];
        var ports = new List<IPEndPoint>();
        foreach (var flow in flows)
        {
            var relay = flow.Relay ?? throw new InvalidOperationException("--flood stranger needs a proxy: 'direct' has no outbound port");
            flow.Socket.SendTo(probe.AsSpan(0, header + 5), relay);
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            try
            {
                observer.ReceiveFrom(buffer, ref from);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
            {
                throw new InvalidOperationException($"flow {flow.Id}: no probe arrived through {relay} within 2 s");
            }

            ports.Add(new IPEndPoint(IPAddress.Loopback, ((IPEndPoint)from).Port));
        }

        return ports;
    }
}
