using Socks5UdpRelay.Client;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Cli.Doctor;

/// <summary>Stage 3 (and 7): the reply code and BND, or why there was no reply.</summary>
internal sealed record RequestOutcome(ReplyCode? Reply, Socks5Endpoint? Bound, string? Problem);
