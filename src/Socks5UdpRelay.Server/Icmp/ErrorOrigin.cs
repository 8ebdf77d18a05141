namespace Socks5UdpRelay.Server.Icmp;

/// <summary>Where a reported error came from (sock_extended_err.ee_origin).</summary>
internal enum ErrorOrigin : byte
{
    /// <summary>Only an errno is known: the fallback without the kernel's error queue.</summary>
    None = 0,
    Local = 1,
    Icmp = 2,
    Icmp6 = 3,
}
