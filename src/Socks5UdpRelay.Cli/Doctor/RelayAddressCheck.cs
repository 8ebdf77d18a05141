using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Client;

namespace Socks5UdpRelay.Cli.Doctor;

/// <summary>What stage 4 makes of BND before sending anything: the relay to use, and a verdict when BND is unusable as it stands.</summary>
internal sealed record RelayPlan(IPEndPoint? Relay, StageResult? Problem, string Note, IPEndPoint? Fallback);

/// <summary>
/// Stage 4, the part that needs no traffic: is the relay address the proxy advertised (BND of the
/// UDP ASSOCIATE reply) one that this client can send to? RFC 1928 §6-§7 says only that the client
/// sends its datagrams there; the usual faults are a server behind NAT or in a container that
/// advertises its inside address, and 0.0.0.0, which servers send to mean "my own address".
/// </summary>
internal static class RelayAddressCheck
{
    public static RelayPlan Plan(IPAddress proxy, Socks5Endpoint bound, bool speaksNotices)
    {
        if (bound.Port == 0)
        {
            return new RelayPlan(null, StageResult.Fail(DoctorStage.RelayAddress, FailureSide.Proxy,
                $"the reply names port 0 ({bound}): there is nowhere to send datagrams", "the server breaks RFC 1928, section 6: report it to its maintainers"), string.Empty, null);
        }

        var address = bound.Address!;
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        var asProxy = new IPEndPoint(proxy, bound.Port);
        if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
        {
            return new RelayPlan(asProxy, null, $"BND {bound} taken as the proxy's own address, {Endpoint(asProxy)} (RFC 1928 leaves 0.0.0.0 open; clients read it so)", null);
        }

        var relay = new IPEndPoint(address, bound.Port);
        if (IPAddress.IsLoopback(address) && !IPAddress.IsLoopback(proxy))
        {
            return new RelayPlan(relay, StageResult.Fail(DoctorStage.RelayAddress, FailureSide.Proxy,
                $"the proxy at {proxy} advertises the loopback address {Endpoint(relay)}: datagrams sent there stay on this host",
                AdvertiseFix(speaksNotices, proxy)), string.Empty, asProxy);
        }

        if (IsPrivate(address) && !IsPrivate(proxy) && !IPAddress.IsLoopback(proxy))
        {
            return new RelayPlan(relay, StageResult.Fail(DoctorStage.RelayAddress, FailureSide.Proxy,
                $"the proxy at {proxy} (a public address) advertises the private address {Endpoint(relay)}: it sits behind NAT or in a container and names its inside address",
                AdvertiseFix(speaksNotices, proxy)), string.Empty, asProxy);
        }

        if (address.AddressFamily != proxy.AddressFamily)
        {
            return new RelayPlan(relay, null, $"{Endpoint(relay)} is {Family(address)} although the proxy was reached over {Family(proxy)}", asProxy);
        }

        return new RelayPlan(relay, null, address.Equals(proxy) ? $"{Endpoint(relay)}, the proxy's own address" : $"{Endpoint(relay)}, another address than the proxy's {proxy}", null);
    }

    /// <summary>The operator's fix for a wrong advertised address, named for our server when it is one (it speaks notices).</summary>
    public static string AdvertiseFix(bool speaksNotices, IPAddress proxy) => speaksNotices
        ? $"on the proxy, set Relay:AdvertisedAddress to the address clients reach it at (here {proxy})"
        : $"on the proxy, advertise the address clients reach it at (here {proxy}): its external/advertised address setting (Socks5UdpRelay: Relay:AdvertisedAddress; Dante: external)";

    /// <summary>RFC 1918, RFC 6598 shared space, link-local, and IPv6 unique-local and link-local: not reachable across the Internet.</summary>
    public static bool IsPrivate(IPAddress address)
    {
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return address.IsIPv6LinkLocal || address.IsIPv6UniqueLocal || address.IsIPv6SiteLocal;
        }

        Span<byte> b = stackalloc byte[4];
        address.TryWriteBytes(b, out _);
        return b[0] == 10
            || (b[0] == 172 && (b[1] & 0xF0) == 16)
            || (b[0] == 192 && b[1] == 168)
            || (b[0] == 100 && (b[1] & 0xC0) == 64)
            || (b[0] == 169 && b[1] == 254);
    }

    public static string Endpoint(IPEndPoint endpoint) => Protocol.NoticeFormat.FormatEndpoint(endpoint.Address, endpoint.Port);

    private static string Family(IPAddress address) => address.AddressFamily == AddressFamily.InterNetwork ? "IPv4" : "IPv6";
}
