using System.Globalization;
using System.Net;

namespace Socks5UdpRelay.Server.Hosting;

/// <summary>Parses the configuration's <c>address:port</c> / <c>[v6]:port</c> endpoints and <c>first-last</c> ranges.</summary>
internal static class EndpointText
{
    public static bool TryParseEndpoint(string? text, out IPEndPoint endPoint)
    {
        endPoint = null!;
        if (string.IsNullOrWhiteSpace(text) || !IPEndPoint.TryParse(text.Trim(), out var parsed))
        {
            return false;
        }

        // IPEndPoint.TryParse takes "::1" as address ::1 port... 1; demand brackets for IPv6 so "::1:1080" is not misread.
        if (parsed.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && !text.TrimStart().StartsWith('['))
        {
            return false;
        }

        endPoint = parsed;
        return true;
    }

    public static bool TryParseRange(string? text, out int first, out int last)
    {
        first = last = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var parts = text.Split('-', 2, StringSplitOptions.TrimEntries);
        return parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out first)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out last)
            && first is >= 1 and <= 65535 && last is >= 1 and <= 65535 && first <= last;
    }
}
