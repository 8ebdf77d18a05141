namespace Socks5UdpRelay.Cli.Doctor;

/// <summary>Stage 5's verdict, and what later stages need from it: the association that worked and whether --target echoes.</summary>
internal sealed record DatagramOutcome(StageResult Result, RelayChannel? Working, TimeSpan? RoundTrip, bool Echo);
