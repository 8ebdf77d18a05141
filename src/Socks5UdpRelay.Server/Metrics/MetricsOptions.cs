namespace Socks5UdpRelay.Server.Metrics;

/// <summary>The <c>Metrics</c> section: the optional HTTP endpoint with <c>/metrics</c> (Prometheus text) and <c>/healthz</c>.</summary>
internal sealed class MetricsOptions
{
    public const string SectionName = "Metrics";

    /// <summary>Off by default: one more open port is one more thing to secure.</summary>
    public bool Enabled { get; set; }

    /// <summary>Where the endpoint listens; loopback by default, so only the host (or a sidecar) can scrape it. Port 0 picks a free one.</summary>
    public string Listen { get; set; } = "127.0.0.1:9180";
}
