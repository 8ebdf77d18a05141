using System.Net;

namespace Socks5UdpRelay.Cli.Trace;

/// <summary>One probe's answer as a hop line shows it: its kind, who sent it, the round trip from the probe's send.</summary>
internal sealed record TraceReply(string Kind, IPAddress? From, TimeSpan RoundTrip, string? Flag, bool Final);
