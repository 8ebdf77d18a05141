using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Cli.Tests.Fixtures;

/// <summary>
/// A fact that runs independent programs from Debian (a peer SOCKS server, stund). Without them
/// the test is skipped, saying which; with <c>SOCKS5UDPRELAY_REQUIRE_ALL=1</c> (as CI sets) it
/// runs and fails loudly instead. <c>.ci/run</c> installs every one of them.
/// </summary>
public sealed class PeerFactAttribute : FactAttribute
{
    public PeerFactAttribute(params string[] programs)
    {
        var missing = programs.Where(p => !File.Exists(p)).ToList();
        if (missing.Count > 0 && !PeerProcess.RequireAll)
        {
            Skip = $"{string.Join(", ", missing)} not installed (apt-get install dante-server hpsockd microsocks v2ray shadowsocks-libev stun-server); "
                + "set SOCKS5UDPRELAY_REQUIRE_ALL=1 to make this a failure instead of a skip.";
        }
    }
}
