using Microsoft.Extensions.Options;

namespace Socks5UdpRelay.Server.Hosting;

/// <summary>Checks the <c>Limits</c> section, every error at once.</summary>
internal sealed class LimitsOptionsValidator : IValidateOptions<LimitsOptions>
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
