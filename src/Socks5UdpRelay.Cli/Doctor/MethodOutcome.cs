using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Cli.Doctor;

/// <summary>Stage 2: what was offered, what the proxy chose, the RFC 1929 status when it ran, or why the exchange broke.</summary>
internal sealed record MethodOutcome(IReadOnlyList<AuthMethod> Offered, AuthMethod? Chosen, byte? AuthStatus, string? Problem);
