using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Socks5UdpRelay.Client;

/// <summary>Where the SOCKS5 proxy is and how to talk to it.</summary>
public sealed class Socks5ProxyOptions
{
    private const int DefaultPort = 1080;

    /// <summary>The proxy's address or name. Default <c>127.0.0.1</c>, where a local proxy listens out of the box.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>The proxy's TCP port. Default 1080, the port IANA assigned to SOCKS.</summary>
    public int Port { get; init; } = DefaultPort;

    /// <summary>
    /// Username and password for RFC 1929. When set, the greeting offers "no authentication" and
    /// "username/password"; when null (the default) it offers only "no authentication".
    /// </summary>
    public NetworkCredential? Credentials { get; init; }

    /// <summary>How long the TCP connect to the proxy may take, over all of its addresses. Default 5 s.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long method negotiation, authentication and the request may take together. Default 5 s.
    /// Also how long a command waits for the proxy's <c>NOTICES</c> greeting (a proxy that sends
    /// none takes no commands) and a mapping's dispose for its <c>UNMAP</c> answer.
    /// </summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// When set, every socket the library creates (TCP to the proxy, UDP to the relay) comes from
    /// this factory, e.g. to create them inside another network namespace. Default null: <c>new Socket(...)</c>.
    /// </summary>
    public Func<AddressFamily, SocketType, ProtocolType, Socket>? SocketFactory { get; init; }

    /// <summary>
    /// Parses <c>host:port</c>, <c>[v6]:port</c>, <c>socks5://[user[:pass]@]host:port</c> or
    /// <c>socks5h://...</c>; the port may be left out (1080). User and password are percent-decoded.
    /// Both schemes mean the same here: the library always sends names to the proxy as names.
    /// </summary>
    /// <exception cref="FormatException">The text is none of these forms.</exception>
    public static Socks5ProxyOptions Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        ReadOnlySpan<char> rest = value;
        NetworkCredential? credentials = null;

        int schemeEnd = rest.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd >= 0)
        {
            var scheme = rest[..schemeEnd];
            if (!scheme.Equals("socks5", StringComparison.OrdinalIgnoreCase) && !scheme.Equals("socks5h", StringComparison.OrdinalIgnoreCase))
            {
                throw Bad(value, "the scheme must be socks5:// or socks5h://");
            }

            rest = rest[(schemeEnd + 3)..];
            if (rest.EndsWith("/"))
            {
                rest = rest[..^1];
            }

            if (rest.ContainsAny('/', '?', '#'))
            {
                throw Bad(value, "a proxy address has no path, query or fragment");
            }

            int at = rest.LastIndexOf('@');
            if (at >= 0)
            {
                var userInfo = rest[..at];
                rest = rest[(at + 1)..];
                int colon = userInfo.IndexOf(':');
                string user = Uri.UnescapeDataString(colon < 0 ? userInfo : userInfo[..colon]);
                string password = colon < 0 ? string.Empty : Uri.UnescapeDataString(userInfo[(colon + 1)..]);
                if (user.Length == 0)
                {
                    throw Bad(value, "the user name is empty");
                }

                credentials = new NetworkCredential(user, password);
            }
        }
        else if (rest.Contains('@'))
        {
            throw Bad(value, "a user name needs the socks5:// form");
        }

        string host;
        ReadOnlySpan<char> port = default;
        if (rest.StartsWith("["))
        {
            int close = rest.IndexOf(']');
            if (close < 0 || !IPAddress.TryParse(rest[1..close], out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6)
            {
                throw Bad(value, "the text in brackets must be an IPv6 address");
            }

            host = v6.ToString();
            var after = rest[(close + 1)..];
            if (!after.IsEmpty)
            {
                if (after[0] != ':')
                {
                    throw Bad(value, "expected ':' and a port after ']'");
                }

                port = after[1..];
                if (port.IsEmpty)
                {
                    throw Bad(value, "the port is empty");
                }
            }
        }
        else
        {
            int colon = rest.IndexOf(':');
            if (colon >= 0 && rest[(colon + 1)..].Contains(':'))
            {
                throw Bad(value, "an IPv6 address must be written in brackets, as [::1]:1080");
            }

            host = (colon < 0 ? rest : rest[..colon]).ToString();
            if (colon >= 0)
            {
                port = rest[(colon + 1)..];
                if (port.IsEmpty)
                {
                    throw Bad(value, "the port is empty");
                }
            }

            if (Uri.CheckHostName(host) is not (UriHostNameType.Dns or UriHostNameType.IPv4))
            {
                throw Bad(value, "the host is not a name or an IPv4 address");
            }
        }

        int portNumber = DefaultPort;
        if (!port.IsEmpty
            && (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out portNumber) || portNumber is < 1 or > IPEndPoint.MaxPort))
        {
            throw Bad(value, "the port must be a number from 1 to 65535");
        }

        return new Socks5ProxyOptions { Host = host, Port = portNumber, Credentials = credentials };
    }

    // The text is not echoed when it may hold a password.
    private static FormatException Bad(string value, string why)
        => new(value.Contains('@') ? $"Not a SOCKS5 proxy address: {why}." : $"'{value}' is not a SOCKS5 proxy address: {why}.");
}
