using System.Net;
using System.Text;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Client;

/// <summary>How a destination given as text goes on the wire.</summary>
internal static class HostText
{
    /// <summary>A host string and, when it is an IP literal, its address.</summary>
    public sealed record Literal(string Host, IPAddress? Address);

    public static bool TryParseIPLiteral(string host, out IPAddress? address)
    {
        ReadOnlySpan<char> text = host;
        if (text.Length > 2 && text[0] == '[' && text[^1] == ']')
        {
            text = text[1..^1];
        }

        return IPAddress.TryParse(text, out address);
    }

    /// <summary>A name's bytes as SOCKS5 sends it (ATYP 3): 1 to 255 ASCII characters; returns the length.</summary>
    /// <exception cref="ArgumentException">The name is empty, too long or not ASCII.</exception>
    public static int EncodeName(string host, Span<byte> destination)
    {
        if (host.Length is 0 or > SocksAddressCodec.MaxDomainNameLength || !Ascii.IsValid(host))
        {
            throw new ArgumentException("A SOCKS5 domain name has 1 to 255 ASCII characters (IDNA-encode other names first).", nameof(host));
        }

        return Encoding.ASCII.GetBytes(host, destination);
    }

    public static Socks5Endpoint ToEndpoint(string host, int port)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        Socks5Endpoint.CheckPort(port);
        return TryParseIPLiteral(host, out var address) ? new Socks5Endpoint(address!, port) : new Socks5Endpoint(host, port);
    }
}
