using System.Net;

namespace Socks5UdpRelay.Client;

/// <summary>How a destination given as text goes on the wire.</summary>
internal static class HostText
{
    public static bool TryParseIPLiteral(string host, out IPAddress? address)
    {
        ReadOnlySpan<char> text = host;
        if (text.Length > 2 && text[0] == '[' && text[^1] == ']')
        {
            text = text[1..^1];
        }

        return IPAddress.TryParse(text, out address);
    }

    public static Socks5Endpoint ToEndpoint(string host, int port)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);
        return TryParseIPLiteral(host, out var address) ? new Socks5Endpoint(address!, port) : new Socks5Endpoint(host, port);
    }
}
