using Microsoft.Extensions.Options;
using Socks5UdpRelay.Server.Metrics;

namespace Socks5UdpRelay.Server.Hosting;

/// <summary>Checks the <c>Metrics</c> section.</summary>
internal sealed class MetricsOptionsValidator : IValidateOptions<MetricsOptions>
{
    public ValidateOptionsResult Validate(string? name, MetricsOptions o)
        => !o.Enabled || EndpointText.TryParseEndpoint(o.Listen, out _)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"{MetricsOptions.SectionName}:Listen = '{o.Listen}' is not an endpoint: write address:port, e.g. 127.0.0.1:9180.");
}
