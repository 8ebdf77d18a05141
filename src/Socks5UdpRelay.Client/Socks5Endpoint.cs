using System.Net;
using System.Text;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Client;

/// <summary>
/// An address as SOCKS5 carries it: an IP address (ATYP 1 or 4) or a name (ATYP 3), and a port.
/// Exactly one of <see cref="Address"/> and <see cref="Host"/> is set.
/// </summary>
public sealed record Socks5Endpoint
{
    /// <summary>An IP endpoint (an IPv4-mapped IPv6 address is kept as given).</summary>
    public Socks5Endpoint(IPAddress address, int port)
    {
        ArgumentNullException.ThrowIfNull(address);
        Address = address;
        Port = CheckPort(port);
    }

    /// <summary>A name endpoint; the name is kept byte for byte as the relay sent it (Latin-1).</summary>
    public Socks5Endpoint(string host, int port)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        Host = host;
        Port = CheckPort(port);
    }

    /// <summary>The IP address, or null for a name.</summary>
    public IPAddress? Address { get; }

    /// <summary>The name, or null for an IP address.</summary>
    public string? Host { get; }

    /// <summary>The port.</summary>
    public int Port { get; }

    /// <summary>As notices write endpoints: <c>1.2.3.4:53</c>, <c>[2001:db8::1]:53</c>, <c>name.example:53</c> with
    /// name bytes outside <c>A-Z a-z 0-9 . - _</c> as <c>%XX</c>.</summary>
    public override string ToString()
    {
        if (Address is not null)
        {
            return NoticeFormat.FormatEndpoint(Address, Port);
        }

        if (Host!.Length > SocksAddressCodec.MaxDomainNameLength)
        {
            return $"{Host}:{Port}";
        }

        var name = Encoding.Latin1.GetBytes(Host);
        Span<byte> text = stackalloc byte[NoticeFormat.MaxEndpointLength];
        int n = NoticeFormat.FormatEndpoint(text, new SocksAddress(AddressType.DomainName, name, (ushort)Port));
        return Encoding.ASCII.GetString(text[..n]);
    }

    /// <summary>
    /// The wire form, its bytes in <paramref name="scratch"/> (at least 255 bytes): an IP address
    /// as ATYP 1 or 4 (IPv4-mapped as IPv4), a name as ATYP 3.
    /// </summary>
    /// <exception cref="ArgumentException">The name is not 1 to 255 ASCII characters.</exception>
    internal SocksAddress ToWire(Span<byte> scratch)
    {
        if (Address is { } address)
        {
            return SocksAddress.FromIPAddress(address, (ushort)Port, scratch);
        }

        int n = HostText.EncodeName(Host!, scratch);
        return new SocksAddress(AddressType.DomainName, scratch[..n], (ushort)Port);
    }

    /// <summary>Returns <paramref name="port"/> when it is 0 to 65535; throws otherwise.</summary>
    internal static int CheckPort(int port)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);
        return port;
    }

    internal static Socks5Endpoint FromWire(in SocksAddress address) => address.Type == AddressType.DomainName
        ? new Socks5Endpoint(address.GetHostName(), address.Port)
        : new Socks5Endpoint(address.ToIPAddress(), address.Port);
}
