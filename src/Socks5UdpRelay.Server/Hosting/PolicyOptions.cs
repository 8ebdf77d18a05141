namespace Socks5UdpRelay.Server.Hosting;

/// <summary>The <c>Policy</c> configuration section: who may use the relay and where it may send.</summary>
internal sealed class PolicyOptions
{
    public const string SectionName = "Policy";

    /// <summary>Client CIDRs allowed to connect. Empty: everyone who can reach the listener.</summary>
    public List<string> AllowClients { get; set; } = [];

    /// <summary><c>auto</c> (default: allowed when every listener is on loopback), <c>allow</c> or <c>deny</c>: destinations on the proxy host's own loopback.</summary>
    public string LoopbackDestinations { get; set; } = "auto";

    /// <summary>Link-local destinations (169.254.0.0/16, fe80::/10) and the cloud metadata addresses are refused unless this is true.</summary>
    public bool AllowLinkLocalDestinations { get; set; }

    /// <summary>False (default): a listener on a non-loopback address with no client allow-list refuses to start.</summary>
    public bool AllowOpenRelay { get; set; }
}
