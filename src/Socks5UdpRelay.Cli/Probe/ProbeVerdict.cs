using System.Net;

namespace Socks5UdpRelay.Cli.Probe;

/// <summary>
/// What was concluded about one target and why: <paramref name="Reason"/> is <c>reply</c>,
/// <c>silence</c>, a notice's error kind (<c>port-unreachable</c>, ...) or <c>denied</c>.
/// </summary>
internal sealed record ProbeVerdict(ProbeState State, string Reason, IPAddress? From, TimeSpan? RoundTrip);
