namespace Socks5UdpRelay.Server.Relay;

/// <summary>
/// Who besides the destinations a mapping sent to may send in through its outbound port
/// (<c>Relay:Filtering</c>; RFC 4787 §5 and REQ-8; README, "NAT behaviour").
/// </summary>
internal enum FilteringMode
{
    /// <summary><c>address-dependent</c> (default): any port of an address the mapping has sent to.</summary>
    AddressDependent,

    /// <summary><c>address-and-port-dependent</c>: only an address and port the mapping has sent to (the behaviour before this setting).</summary>
    AddressAndPortDependent,

    /// <summary><c>endpoint-independent</c>: anyone (full cone: STUN, WebRTC, games, P2P).</summary>
    EndpointIndependent,
}

internal static class FilteringModes
{
    public const string AddressDependent = "address-dependent";
    public const string AddressAndPortDependent = "address-and-port-dependent";
    public const string EndpointIndependent = "endpoint-independent";

    public static bool TryParse(string? text, out FilteringMode mode)
    {
        (mode, bool ok) = text?.ToLowerInvariant() switch
        {
            AddressDependent => (FilteringMode.AddressDependent, true),
            AddressAndPortDependent => (FilteringMode.AddressAndPortDependent, true),
            EndpointIndependent => (FilteringMode.EndpointIndependent, true),
            _ => (FilteringMode.AddressDependent, false),
        };
        return ok;
    }

    public static string WireName(this FilteringMode mode) => mode switch
    {
        FilteringMode.AddressAndPortDependent => AddressAndPortDependent,
        FilteringMode.EndpointIndependent => EndpointIndependent,
        _ => AddressDependent,
    };
}
