using System.Runtime.InteropServices;
using static Socks5UdpRelay.Server.Interop;

namespace Socks5UdpRelay.Server.Transport.Epoll;

/// <summary>
/// Whether the kernel offers UDP segmentation offload (ARCHITECTURE.md, "Segmentation offload"):
/// GSO, one send of many datagrams of one size (<c>UDP_SEGMENT</c>, Linux 4.18), and GRO, one read
/// of many (<c>UDP_GRO</c>, Linux 5.0). Probed once on a throwaway socket: a kernel that does not
/// know UDP_SEGMENT would ignore the control message and send the whole buffer as one datagram,
/// so GSO is only ever used where the option is known.
/// </summary>
internal sealed record UdpOffload(bool Gso, bool Gro, string Description)
{
    /// <summary>Neither: one datagram per send and per read (<c>Relay:Offload=off</c>, or a kernel without them).</summary>
    public static UdpOffload Off(string why) => new(false, false, $"off ({why})");

    /// <summary>What this kernel offers, probed once per process.</summary>
    public static UdpOffload Detected => LazyDetected.Value;

    private static readonly Lazy<UdpOffload> LazyDetected = new(Probe);

    private static unsafe UdpOffload Probe()
    {
        using var probe = Sys.UdpSocket(AddressFamilies.AF_INET);
        if (probe.IsInvalid)
        {
            return Off($"no probe socket: errno {Marshal.GetLastPInvokeError()}");
        }

        int zero = 0;
        int one = 1;
        bool gso = Sys.SetSockOpt(probe, SocketOptions.SOL_UDP, SocketOptions.UDP_SEGMENT, &zero, sizeof(int)) == 0;
        bool gro = Sys.SetSockOpt(probe, SocketOptions.SOL_UDP, SocketOptions.UDP_GRO, &one, sizeof(int)) == 0;
        return new UdpOffload(gso, gro, (gso, gro) switch
        {
            (true, true) => "GSO and GRO",
            (true, false) => "GSO (the kernel refused UDP_GRO)",
            (false, true) => "GRO (the kernel refused UDP_SEGMENT)",
            _ => "off (the kernel refused UDP_SEGMENT and UDP_GRO)",
        });
    }

    /// <summary>Switches GRO on for <paramref name="socket"/> where offered; false when not (reads then hold one datagram each).</summary>
    public unsafe bool EnableGro(SafeHandle socket)
    {
        int one = 1;
        return Gro && Sys.SetSockOpt(socket, SocketOptions.SOL_UDP, SocketOptions.UDP_GRO, &one, sizeof(int)) == 0;
    }
}
