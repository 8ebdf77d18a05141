using System.Net;

namespace Socks5UdpRelay.Server.Control;

/// <summary>Addresses as the relay compares them: an IPv4-mapped IPv6 address is the IPv4 address it maps.</summary>
internal static class EndPoints
{
    public static IPAddress Normalize(IPAddress address)
        => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    public static IPEndPoint Normalize(EndPoint? endPoint)
    {
        var ip = (IPEndPoint)endPoint!;
        return ip.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(ip.Address.MapToIPv4(), ip.Port) : ip;
    }
}
