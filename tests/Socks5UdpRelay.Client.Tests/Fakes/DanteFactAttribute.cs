using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Client.Tests.Fakes;

/// <summary>
/// A fact that needs Dante (<c>/usr/sbin/danted</c>, apt package dante-server). Without it the
/// test is skipped, saying why; with <c>SOCKS5UDPRELAY_REQUIRE_ALL=1</c> (as CI sets) it is not
/// skipped, and fails loudly instead.
/// </summary>
public sealed class DanteFactAttribute : FactAttribute
{
    public DanteFactAttribute()
    {
        if (!File.Exists(DanteProcess.DantedPath) && !DanteProcess.RequireAll)
        {
            Skip = $"{DanteProcess.DantedPath} is not installed (apt-get install dante-server); "
                + "set SOCKS5UDPRELAY_REQUIRE_ALL=1 to make this a failure instead of a skip.";
        }
    }
}
