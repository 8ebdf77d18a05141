namespace Socks5UdpRelay.Cli.Doctor;

/// <summary>RFC 4787 §4.1 mapping and §5 filtering behaviours, as RFC 5780 §4.3/§4.4 tell them apart.</summary>
internal enum NatDependence
{
    EndpointIndependent,
    AddressDependent,
    AddressAndPortDependent,
}
