using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Server.Control;

/// <summary>A request lifted out of the handshake buffer, and the user who authenticated (RFC 1929), if any.</summary>
internal readonly record struct ParsedRequest(Socks5Command Command, Destination Destination, string? User = null);
