using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Socks5UdpRelay.Server.Metrics;

namespace Socks5UdpRelay.Server.Admin;

/// <summary>Checks the <c>Admin</c> section, every problem at once; no message carries the token.</summary>
internal sealed class AdminOptionsValidator(IConfiguration configuration) : IValidateOptions<AdminOptions>
{
    private static readonly TimeSpan MinInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxInterval = TimeSpan.FromMinutes(1);

    public ValidateOptionsResult Validate(string? name, AdminOptions o)
    {
        var errors = new List<string>();
        const string S = AdminOptions.SectionName;
        if (!AdminToken.TryRead(o, out string? token, out string? error))
        {
            errors.Add(error!);
        }

        // Read raw: a Metrics:Enabled the binder cannot convert is reported by its own section, not here.
        string? metrics = configuration[$"{MetricsOptions.SectionName}:{nameof(MetricsOptions.Enabled)}"];
        bool metricsOff = metrics is null || (bool.TryParse(metrics, out bool on) && !on);
        if (token is not null && metricsOff)
        {
            errors.Add($"{S}:Token is set but {MetricsOptions.SectionName}:Enabled is not true: the flow view is served on the Metrics endpoint; set {MetricsOptions.SectionName}:Enabled=true.");
        }

        if (o.StreamInterval < MinInterval || o.StreamInterval > MaxInterval)
        {
            errors.Add($"{S}:StreamInterval = '{o.StreamInterval}': use 00:00:00.100 to 00:01:00; the default is 00:00:01.");
        }

        if (o.MaxStreams is < 1 or > 64)
        {
            errors.Add($"{S}:MaxStreams = {o.MaxStreams}: use 1 to 64; the default is 4.");
        }

        if (o.MaxPageSize is < 1 or > 10_000)
        {
            errors.Add($"{S}:MaxPageSize = {o.MaxPageSize}: use 1 to 10000; the default is 1000.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
