using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Tests.Shared;
using Socks5UdpRelay.Tests.Shared.Topology;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Topology;

/// <summary>Plain UDP sockets in a topology's relay namespace, and the error an ICMP message raises on them.</summary>
internal static class UdpFaults
{
    private const int SolIp = 0;
    private const int IpRecvErr = 11;
    private const int SolIpv6 = 41;
    private const int Ipv6RecvErr = 25;

    /// <summary>A UDP socket in the relay namespace, connected to <paramref name="destination"/>, optionally with IP_RECVERR/IPV6_RECVERR on.</summary>
    public static Socket ConnectedUdp(NetnsTopology topology, AddressFamily family, IPAddress destination, int port, bool recvErr = false)
    {
        var socket = topology.CreateSocket(topology.RelayNamespace, family, SocketType.Dgram, ProtocolType.Udp);
        if (recvErr)
        {
            socket.SetRawSocketOption(
                family == AddressFamily.InterNetwork ? SolIp : SolIpv6,
                family == AddressFamily.InterNetwork ? IpRecvErr : Ipv6RecvErr,
                BitConverter.GetBytes(1));
        }

        socket.Connect(new IPEndPoint(destination, port));
        return socket;
    }

    /// <summary>Posts a receive, sends one datagram, and awaits the receive faulting (bounded). Returns the socket's endpoints as they were before the fault.</summary>
    public static async Task<(SocketException Error, TimeSpan Elapsed, (EndPoint Local, EndPoint Remote) Flow)> SendAndAwaitFaultAsync(Socket socket, int size = 16)
    {
        var flow = (socket.LocalEndPoint!, socket.RemoteEndPoint!);
        var receive = socket.ReceiveAsync(new byte[2048].AsMemory(), SocketFlags.None).AsTask();
        var start = Stopwatch.GetTimestamp();
        await socket.SendAsync(Payload(size), SocketFlags.None);
        var error = await Assert.ThrowsAsync<SocketException>(() => receive.WaitAsync(TestTimeout.Default));
        return (error, Stopwatch.GetElapsedTime(start), flow);
    }

    /// <summary>A datagram of <paramref name="size"/> bytes.</summary>
    public static byte[] Payload(int size) => Enumerable.Repeat((byte)'x', size).ToArray();
}
