namespace Socks5UdpRelay.Gateway.Tests.Packets;

/// <summary>
/// Packets Linux 6.x built, read raw from a TUN device in a namespace (the same capture the
/// <c>KernelCaptureTests</c> repeat live): fixed vectors for the byte-level tests that run without root.
/// </summary>
internal static class KernelVectors
{
    /// <summary><c>sendto(b"hello")</c> from 10.50.0.1:40001 to 10.50.0.9:7: DF, id 0x02dd, TTL 64.</summary>
    public static readonly byte[] UdpV4 = Convert.FromHexString("4500002102dd4000401123820a3200010a3200099c410007000d0b4c68656c6c6f");

    /// <summary>The same from [fd50::1]:40002 to [fd50::9]:7: flow label 0xbcf7a, hop limit 64.</summary>
    public static readonly byte[] UdpV6 = Convert.FromHexString(
        "600bcf7a000d1140fd500000000000000000000000000001fd5000000000000000000000000000099c420007000d250d68656c6c6f");

    /// <summary>The outer IPv4 header of the kernel's port unreachable (576 bytes) from 10.50.0.1 to 10.50.0.9: TOS 0xC0, id 0x9b4f, DF clear.</summary>
    public static readonly byte[] IcmpErrorHeaderV4 = Convert.FromHexString("45c002409b4f00004001c8400a3200010a320009");
}
