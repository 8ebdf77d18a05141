using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Socks5UdpRelay.Server.Hosting;

/// <summary>
/// Checks the <c>Policy</c> section, including the guard against an open relay by accident: a
/// listener on a non-loopback address needs a client allow-list unless
/// <c>Policy:AllowOpenRelay</c> says otherwise in so many words.
/// </summary>
internal sealed class PolicyOptionsValidator(IConfiguration configuration) : IValidateOptions<PolicyOptions>
{
    public ValidateOptionsResult Validate(string? name, PolicyOptions o)
    {
        var errors = new List<string>();
        const string S = PolicyOptions.SectionName;
        for (int i = 0; i < o.AllowClients.Count; i++)
        {
            if (!Policy.Cidr.TryParse(o.AllowClients[i], out _))
            {
                errors.Add($"{S}:AllowClients:{i} = '{o.AllowClients[i]}' is not a CIDR: write e.g. 10.0.0.0/8 or fd00::/8 (host bits zero).");
            }
        }

        if (o.LoopbackDestinations is null || !new[] { "auto", "allow", "deny" }.Contains(o.LoopbackDestinations.ToLowerInvariant()))
        {
            errors.Add($"{S}:LoopbackDestinations = '{o.LoopbackDestinations}': use auto, allow or deny.");
        }

        for (int i = 0; i < o.Destinations.Count; i++)
        {
            var rule = o.Destinations[i];
            if (Policy.DestinationRule.TryParse(rule.Action, rule.Network, rule.Ports, out string? error) is null)
            {
                errors.Add($"{S}:Destinations:{i}:{error}");
            }
        }

        if (o.DefaultDestinationAction is null || (!o.DefaultDestinationAction.Equals("allow", StringComparison.OrdinalIgnoreCase)
            && !o.DefaultDestinationAction.Equals("deny", StringComparison.OrdinalIgnoreCase)))
        {
            errors.Add($"{S}:DefaultDestinationAction = '{o.DefaultDestinationAction}': use allow or deny.");
        }

        var listen = configuration.GetSection($"{RelayOptions.SectionName}:Listen").Get<string[]>() ?? [];
        var exposed = listen.Where(l => EndpointText.TryParseEndpoint(l, out var ep) && !IPAddress.IsLoopback(ep.Address)).ToArray();
        bool users = configuration.GetSection("Auth:Users").GetChildren().Any();
        if (exposed.Length > 0 && o.AllowClients.Count == 0 && !users && !o.AllowOpenRelay)
        {
            errors.Add($"Relay:Listen includes {string.Join(", ", exposed)}, reachable from other hosts, with neither users (Auth:Users) nor {S}:AllowClients: "
                + $"that is an open relay. Configure users or {S}:AllowClients (e.g. Policy__AllowClients__0=10.0.0.0/8), "
                + $"or set {S}:AllowOpenRelay=true if an open relay is really meant.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
