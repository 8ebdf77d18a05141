namespace Socks5UdpRelay.Gateway.Tests.Host;

/// <summary>
/// The independent programs the gateway tests run, by the names their Debian packages install
/// (netcat-openbsd, traceroute, iputils-tracepath; installed by <c>.ci/run</c>), so that another
/// package's <c>nc</c> or <c>traceroute</c> behind the alternatives link cannot stand in for them.
/// </summary>
internal static class Programs
{
    public const string Netcat = "nc.openbsd";
    public const string Traceroute = "traceroute.db";
    public const string Tracepath = "tracepath";
}
