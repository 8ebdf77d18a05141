using System.Net;

namespace Socks5UdpRelay.Cli.Trace;

/// <summary>One TTL's probes, in the order they were sent: a reply each, or null for silence (<c>*</c>).</summary>
internal sealed record TraceHop(int Ttl, IReadOnlyList<TraceReply?> Probes)
{
    /// <summary>The first probe's reporter that answered; null when all were silent.</summary>
    public IPAddress? From => Probes.FirstOrDefault(p => p?.From is not null)?.From;

    /// <summary>
    /// What the hop said: a final kind if any probe got one (it ends the trace), else the first
    /// answer's kind, else <c>silence</c>.
    /// </summary>
    public string Kind => (Probes.FirstOrDefault(p => p is { Final: true }) ?? Probes.FirstOrDefault(p => p is not null))?.Kind ?? "silence";

    public bool IsFinal => Probes.Any(p => p is { Final: true });
}
