namespace Socks5UdpRelay.Cli.Doctor;

/// <summary>Stage 1: the dialog when connected, and every failure before it.</summary>
internal sealed record ConnectOutcome(ProxyDialog? Dialog, IReadOnlyList<ConnectFailure> Failures, string? ResolveProblem, TimeSpan Elapsed);
