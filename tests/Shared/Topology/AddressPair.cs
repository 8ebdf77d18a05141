using System.Net;
using System.Net.Sockets;

namespace Socks5UdpRelay.Tests.Shared.Topology;

/// <summary>One interface's (or one role's) IPv4 and IPv6 address, picked by family in theories.</summary>
public sealed record AddressPair(IPAddress V4, IPAddress V6)
{
    public IPAddress For(AddressFamily family) => family switch
    {
        AddressFamily.InterNetwork => V4,
        AddressFamily.InterNetworkV6 => V6,
        _ => throw new ArgumentOutOfRangeException(nameof(family), family, "IPv4 or IPv6 only."),
    };

    /// <summary><c>10.201.{subnet}.{host}</c> and <c>fd00:201:{subnet}::{host}</c> (the numbers reused as hex digits).</summary>
    internal static AddressPair In(int subnet, int host) =>
        new(IPAddress.Parse($"10.201.{subnet}.{host}"), IPAddress.Parse($"fd00:201:{subnet}::{host}"));

    public override string ToString() => $"{V4} / {V6}";
}
