using System.Runtime.InteropServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Socks5UdpRelay.Server.Auth;

namespace Socks5UdpRelay.Server.Hosting;

/// <summary>
/// The lines an operator reads first: which build started with which configuration, and the policy
/// in force in one line (who may connect, how they authenticate, where datagrams may go, which
/// ports and address clients are given). The listen endpoints follow as the listener binds them.
/// </summary>
internal static partial class StartupReport
{
    public static void Write(IServiceProvider services, ILogger logger, (ulong Before, ulong After, ulong Hard) descriptors = default)
    {
        var relay = services.GetRequiredService<IOptions<RelayOptions>>().Value;
        var policy = services.GetRequiredService<IOptions<PolicyOptions>>().Value;
        var auth = services.GetRequiredService<IOptions<AuthOptions>>().Value;
        Starting(logger, Tools.ServerHelp.Version, RuntimeInformation.FrameworkDescription, RelayHost.FindConfigDirectory(), string.Join(", ", relay.Listen));
        PolicySummary(
            logger,
            policy.AllowClients.Count > 0 ? string.Join(", ", policy.AllowClients) : policy.AllowOpenRelay ? "anyone (Policy:AllowOpenRelay=true)" : "anyone who reaches the listener",
            auth.Users.Count > 0 ? $"{auth.Users.Count} user(s), RFC 1929" : "none",
            policy.LoopbackDestinations,
            policy.AllowLinkLocalDestinations ? "allowed" : "refused",
            policy.Destinations.Count,
            policy.DefaultDestinationAction,
            string.IsNullOrWhiteSpace(relay.UdpPortRange) ? "any free port" : relay.UdpPortRange,
            relay.AdvertisedAddress.Count > 0 ? string.Join(", ", relay.AdvertisedAddress) : "the address each client connected to",
            relay.Notices);
        if (descriptors.After > 0)
        {
            Descriptors(logger, descriptors.After, descriptors.Before == descriptors.After ? "as started" : $"raised from {descriptors.Before}", descriptors.Hard);
        }
    }

    [LoggerMessage(1022, LogLevel.Information,
        "File descriptors: up to {Limit} ({Origin}; hard limit {Hard}); an association holds 3 or 4 (control connection, relay socket, one per destination, one per mapping with Relay:Filtering other than address-and-port-dependent)")]
    private static partial void Descriptors(ILogger logger, ulong limit, string origin, ulong hard);

    [LoggerMessage(1020, LogLevel.Information, "Socks5UdpRelay.Server {Version} starting on {Runtime}; configuration from {ConfigDirectory}, environment and command line; SOCKS5 on {Listen}")]
    private static partial void Starting(ILogger logger, string version, string runtime, string configDirectory, string listen);

    [LoggerMessage(1021, LogLevel.Information,
        "Policy: clients {Clients}; authentication {Authentication}; loopback destinations {Loopback}; link-local {LinkLocal}; {Rules} destination rule(s), then {DefaultAction}; UDP ports {UdpPorts}; advertised {Advertised}; notices {Notices}")]
    private static partial void PolicySummary(
        ILogger logger, string clients, string authentication, string loopback, string linkLocal, int rules, string defaultAction, string udpPorts, string advertised, string notices);
}
