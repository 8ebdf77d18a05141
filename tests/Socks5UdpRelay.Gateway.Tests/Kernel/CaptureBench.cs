using System.Diagnostics;
using Socks5UdpRelay.Gateway.Tests.Host;
using Socks5UdpRelay.Gateway.Tun;
using Socks5UdpRelay.Tests.Shared;
using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Socks5UdpRelay.Tests.Shared.Topology;

namespace Socks5UdpRelay.Gateway.Tests.Kernel;

/// <summary>
/// A namespace where the kernel's packets can be read raw: TUN device <c>cap0</c> (10.50.0.1/24,
/// fd50::1/64) is the capture point; <c>cap1</c> (MTU 1280) is where 10.60.0.0/24 and fd60::/64
/// are routed, so forwarding through it draws frag-needed / packet-too-big; unreachable and
/// prohibit routes (10.61/10.62, fd61/fd62) draw those errors. Forwarding on, ICMP rate limits off.
/// Packets written into cap0 come "from" 10.50.0.9 / fd50::9.
/// </summary>
internal sealed class CaptureBench : IDisposable
{
    private readonly NetnsTopology _topology;
    private readonly TunDevice _cap1;
    private readonly byte[] _buffer = new byte[70000];

    private CaptureBench(NetnsTopology topology, TunDevice cap0, TunDevice cap1)
    {
        _topology = topology;
        Capture = cap0;
        _cap1 = cap1;
    }

    public TunDevice Capture { get; }

    public NetnsTopology Topology => _topology;

    public string Namespace => _topology.ClientNamespace;

    public static CaptureBench Create()
    {
        var topology = NetnsTopology.Create();
        try
        {
            var ns = topology.ClientNamespace;
            topology.Exec(ns, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1", "net.ipv4.icmp_ratelimit=0", "net.ipv6.icmp.ratelimit=0");
            var (cap0, cap1) = NamespaceThread.Run(ns, () => (TunDevice.Create("cap0"), TunDevice.Create("cap1")));
            CommandRunner.RunChecked(["ip", "-n", ns, "-batch", "-"], """
                link set cap0 addrgenmode none
                link set cap1 addrgenmode none
                address add 10.50.0.1/24 dev cap0
                address add fd50::1/64 dev cap0 nodad
                link set cap0 up
                link set cap1 mtu 1280 up
                route add 10.60.0.0/24 dev cap1
                route add fd60::/64 dev cap1
                route add unreachable 10.61.0.0/24
                route add prohibit 10.62.0.0/24
                route add unreachable fd61::/64
                route add prohibit fd62::/64

                """);
            return new CaptureBench(topology, cap0, cap1);
        }
        catch
        {
            topology.Dispose();
            throw;
        }
    }

    /// <summary>The next packet the kernel sends into cap0 that matches, within the test timeout.</summary>
    public byte[] Next(Func<byte[], bool> match)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TestTimeout.Default)
        {
            int n = Capture.Read(_buffer, 100);
            if (n > 0 && match(_buffer[..n]))
            {
                return _buffer[..n];
            }
        }

        throw new TimeoutException("The kernel sent no matching packet into cap0.");
    }

    public static bool IsIcmpError(byte[] packet) =>
        (packet[0] >> 4) == 4 ? packet[9] == 1 && packet[(packet[0] & 0xF) * 4] is 3 or 11 or 12
            : packet[6] == 58 && packet[40] < 128;

    public void Dispose()
    {
        Capture.Dispose();
        _cap1.Dispose();
        _topology.Dispose();
    }
}
