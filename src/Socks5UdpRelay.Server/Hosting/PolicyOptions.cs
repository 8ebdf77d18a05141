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

    /// <summary>Destination rules after the built-in ones (loopback, link-local): the first that matches decides; none: <see cref="DefaultDestinationAction"/>.</summary>
    public List<DestinationRuleOptions> Destinations { get; set; } = [];

    /// <summary><c>allow</c> (default) or <c>deny</c>: what happens to a destination no rule matches.</summary>
    public string DefaultDestinationAction { get; set; } = "allow";

    /// <summary>False (default): a listener on a non-loopback address with no client allow-list refuses to start.</summary>
    public bool AllowOpenRelay { get; set; }
}

/// <summary>One destination rule: <c>Action</c> allow/deny, <c>Network</c> a CIDR, <c>Ports</c> e.g. <c>53,1000-2000</c> (empty: all).</summary>
internal sealed class DestinationRuleOptions
{
    public string? Action { get; set; }

    public string? Network { get; set; }

    public string? Ports { get; set; }
}
