using System.Net;

namespace Socks5UdpRelay.Cli.Tun;

/// <summary>What <c>tun</c> was asked to do, after parsing.</summary>
internal sealed record TunRequest(IReadOnlyList<IPNetwork> Routes, string DeviceName, int Mtu, bool CaptureForwarded, UplinkSettings Uplink);
