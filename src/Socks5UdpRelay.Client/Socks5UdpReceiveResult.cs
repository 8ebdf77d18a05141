namespace Socks5UdpRelay.Client;

/// <summary>One datagram received through the relay.</summary>
/// <param name="Length">Bytes of payload copied to the caller's buffer.</param>
/// <param name="Source">The source the relay named in the datagram's header.</param>
public readonly record struct Socks5UdpReceiveResult(int Length, Socks5Endpoint Source);
