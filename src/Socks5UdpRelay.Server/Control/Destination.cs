using System.Net;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Server.Control;

/// <summary>A request's DST as an owned value (the control path may allocate; the datagram path never uses this).</summary>
internal readonly record struct Destination(IPAddress? Address, string? Host, int Port)
{
    public bool IsUnspecified => Address is not null && (Address.Equals(IPAddress.Any) || Address.Equals(IPAddress.IPv6Any));

    public static Destination From(in SocksAddress address) => address.Type == AddressType.DomainName
        ? new Destination(null, address.GetHostName(), address.Port)
        : new Destination(address.ToIPAddress(), null, address.Port);

    public override string ToString() => Address is not null ? NoticeFormat.FormatEndpoint(Address, Port) : $"{Host}:{Port}";
}
