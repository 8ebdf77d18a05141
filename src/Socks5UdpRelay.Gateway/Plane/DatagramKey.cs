namespace Socks5UdpRelay.Gateway.Plane;

/// <summary>A flow's datagrams to one destination: the key of the last-datagram store.</summary>
internal readonly record struct DatagramKey(FlowId Flow, FlowKey Destination);
