using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Socks5UdpRelay.Server.Hosting;

/// <summary>
/// Checks the <c>Limits</c> section, every error at once, and the one rule it shares with the
/// <c>Relay</c> section: one client may not hold more associations than there are relay ports.
/// </summary>
internal sealed class LimitsOptionsValidator(IConfiguration configuration) : IValidateOptions<LimitsOptions>
{
    public ValidateOptionsResult Validate(string? name, LimitsOptions o)
    {
        const string S = LimitsOptions.SectionName;
        var errors = new List<string>();
        if (o.MaxConnections < 1)
        {
            errors.Add($"{S}:MaxConnections = {o.MaxConnections}: must be at least 1.");
        }

        if (o.MaxConnectionsPerClient < 1)
        {
            errors.Add($"{S}:MaxConnectionsPerClient = {o.MaxConnectionsPerClient}: must be at least 1.");
        }

        if (o.MaxAssociationsPerClient < 1)
        {
            errors.Add($"{S}:MaxAssociationsPerClient = {o.MaxAssociationsPerClient}: must be at least 1.");
        }

        // Read raw, as the Relay section's own validator reports a range that does not parse.
        string? range = configuration[$"{RelayOptions.SectionName}:{nameof(RelayOptions.UdpPortRange)}"];
        if (EndpointText.TryParseRange(range, out int first, out int last) && o.MaxAssociationsPerClient > last - first + 1)
        {
            errors.Add($"{S}:MaxAssociationsPerClient = {o.MaxAssociationsPerClient} is more than the {last - first + 1} ports of "
                + $"{RelayOptions.SectionName}:UdpPortRange = '{range}': one client could hold every relay port and no one else get an association. "
                + $"Lower {S}:MaxAssociationsPerClient (to a share of the range) or enlarge {RelayOptions.SectionName}:UdpPortRange (and publish it).");
        }

        if (o.MaxHandshakesPerNetwork < 1)
        {
            errors.Add($"{S}:MaxHandshakesPerNetwork = {o.MaxHandshakesPerNetwork}: must be at least 1.");
        }

        if (o.ClientIPv6PrefixLength is < 1 or > 128)
        {
            errors.Add($"{S}:ClientIPv6PrefixLength = {o.ClientIPv6PrefixLength}: use 1 to 128 (64: a /64 is one client; 128: every address is).");
        }

        if (o.HandshakeNetworkIPv4PrefixLength is < 1 or > 32)
        {
            errors.Add($"{S}:HandshakeNetworkIPv4PrefixLength = {o.HandshakeNetworkIPv4PrefixLength}: use 1 to 32.");
        }

        if (o.HandshakeNetworkIPv6PrefixLength is < 1 or > 128)
        {
            errors.Add($"{S}:HandshakeNetworkIPv6PrefixLength = {o.HandshakeNetworkIPv6PrefixLength}: use 1 to 128.");
        }

        if (o.DatagramsPerSecond < 0)
        {
            errors.Add($"{S}:DatagramsPerSecond = {o.DatagramsPerSecond}: must be 0 (no limit) or positive.");
        }

        if (o.DatagramBurst < 1)
        {
            errors.Add($"{S}:DatagramBurst = {o.DatagramBurst}: must be at least 1.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
