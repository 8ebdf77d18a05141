using System.Net;
using System.Text;
using Socks5UdpRelay.Client;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Cli.Doctor;

/// <summary>
/// A destination doctor sends to (--target, --dns, --closed, --stun): an IP address, or a name the
/// proxy resolves (as every s5nc command sends names, like curl's socks5h).
/// </summary>
internal sealed record DoctorTarget(string Host, IPAddress? Address, int Port)
{
    public static DoctorTarget From(IPEndPoint endpoint) => new(endpoint.Address.ToString(), endpoint.Address, endpoint.Port);

    /// <summary>
    /// <c>HOST:PORT</c>, <c>[v6]:PORT</c>, or just <c>HOST</c> when <paramref name="defaultPort"/> is given.
    /// Null with the reason in <paramref name="error"/> when the text is none of these.
    /// </summary>
    public static DoctorTarget? TryParse(string text, int? defaultPort, out string? error)
    {
        error = null;
        if (NoticeFormat.TryParseEndpoint(text, out string host, out var address, out ushort port) && port != 0)
        {
            return Valid(host, address, port, out error);
        }

        if (defaultPort is { } fallback)
        {
            // HOST alone: a bare or bracketed IPv6 address, an IPv4 address, or a name.
            if (DestinationHost.ParseLiteral(text) is { } literal)
            {
                return Valid(literal.ToString(), literal, fallback, out error);
            }

            if (!text.Contains(':', StringComparison.Ordinal))
            {
                return Valid(text, null, fallback, out error);
            }
        }
        else if (IPAddress.TryParse(text, out var bare) && bare.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            error = $"'{text}': write an IPv6 address with a port as [{text}]:PORT.";
            return null;
        }

        error = defaultPort is null ? $"'{text}' is not HOST:PORT (as 192.0.2.7:7, [2001:db8::7]:7 or echo.example:7)." : $"'{text}' is not HOST or HOST:PORT.";
        return null;
    }

    /// <summary>The SOCKS header's address for this target, written into <paramref name="scratch"/> (16 bytes, or the name's length).</summary>
    public SocksAddress ToSocksAddress(Span<byte> scratch)
    {
        if (Address is { } address)
        {
            return SocksAddress.FromIPAddress(address, (ushort)Port, scratch);
        }

        int length = Encoding.ASCII.GetBytes(Host, scratch);
        return new SocksAddress(AddressType.DomainName, scratch[..length], (ushort)Port);
    }

    /// <summary>True when a datagram from <paramref name="source"/> is this target's answer (a name matches any address on the port).</summary>
    public bool IsSource(Socks5Endpoint source)
        => source.Port == Port && (Address is null || (source.Address is { } from && Unmap(from).Equals(Unmap(Address))));

    public override string ToString() => Address is { } a ? NoticeFormat.FormatEndpoint(a, Port) : $"{Host}:{Port}";

    private static IPAddress Unmap(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private static DoctorTarget? Valid(string host, IPAddress? address, int port, out string? error)
    {
        error = null;
        if (address is null)
        {
            try
            {
                DestinationHost.ValidateName(host);
            }
            catch (CliException e)
            {
                error = e.Message;
                return null;
            }
        }

        return new DoctorTarget(host, address, port);
    }
}
