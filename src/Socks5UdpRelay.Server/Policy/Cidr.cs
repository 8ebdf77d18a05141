using System.Net;

namespace Socks5UdpRelay.Server.Policy;

/// <summary>
/// CIDR parsing that refuses host bits (<c>10.0.0.1/8</c>): .NET masks them silently, but in a
/// policy they are almost always a typo for a /32 or a wrong prefix, and guessing is not safe.
/// </summary>
internal static class Cidr
{
    public static bool TryParse(string? text, out IPNetwork network)
    {
        network = default;
        if (string.IsNullOrWhiteSpace(text) || !IPNetwork.TryParse(text.Trim(), out network))
        {
            return false;
        }

        string address = text.Trim().Split('/')[0];
        return IPAddress.TryParse(address, out var given) && given.Equals(network.BaseAddress);
    }
}
