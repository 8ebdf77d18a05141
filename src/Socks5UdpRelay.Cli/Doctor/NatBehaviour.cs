using System.Net;

namespace Socks5UdpRelay.Cli.Doctor;

/// <summary>Names and classification of <see cref="NatDependence"/> (RFC 4787, RFC 5780, RFC 3489).</summary>
internal static class NatBehaviour
{
    public static string Name(this NatDependence dependence) => dependence switch
    {
        NatDependence.EndpointIndependent => "endpoint-independent",
        NatDependence.AddressDependent => "address-dependent",
        NatDependence.AddressAndPortDependent => "address-and-port-dependent",
        _ => throw new ArgumentOutOfRangeException(nameof(dependence)),
    };

    /// <summary>The RFC 3489 name of the same behaviour, which STUN tools and forums still use.</summary>
    public static string ClassicName(NatDependence mapping, NatDependence filtering) => (mapping, filtering) switch
    {
        (NatDependence.EndpointIndependent, NatDependence.EndpointIndependent) => "full cone",
        (NatDependence.EndpointIndependent, NatDependence.AddressDependent) => "restricted cone",
        (NatDependence.EndpointIndependent, NatDependence.AddressAndPortDependent) => "port-restricted cone",
        _ => "symmetric",
    };

    /// <summary>Mapping from three mapped addresses (RFC 5780 §4.3): tests II and III are only needed when the earlier ones differ.</summary>
    public static NatDependence Mapping(IPEndPoint first, IPEndPoint? otherAddress, IPEndPoint? otherAddressAndPort)
        => first.Equals(otherAddress) ? NatDependence.EndpointIndependent
            : otherAddress is not null && otherAddress.Equals(otherAddressAndPort) ? NatDependence.AddressDependent
            : NatDependence.AddressAndPortDependent;

    /// <summary>Filtering from which change requests were answered (RFC 5780 §4.4).</summary>
    public static NatDependence Filtering(bool answeredFromOtherAddressAndPort, bool answeredFromOtherPort)
        => answeredFromOtherAddressAndPort ? NatDependence.EndpointIndependent
            : answeredFromOtherPort ? NatDependence.AddressDependent
            : NatDependence.AddressAndPortDependent;
}
