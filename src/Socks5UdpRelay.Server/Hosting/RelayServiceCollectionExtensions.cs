using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Socks5UdpRelay.Server.Auth;
using Socks5UdpRelay.Server.Control;
using Socks5UdpRelay.Server.Icmp;
using Socks5UdpRelay.Server.Policy;
using Socks5UdpRelay.Server.Resolution;
using Socks5UdpRelay.Server.Udp;

namespace Socks5UdpRelay.Server.Hosting;

/// <summary>Registers the relay: validated options, its services (each replaceable by tests before this runs), and the listener.</summary>
internal static class RelayServiceCollectionExtensions
{
    /// <summary>
    /// A key the options do not have is an error, not a silence. <see cref="RelayHost.Validate"/> has
    /// already reported such keys (with the closest known one) before the host starts; this is the
    /// binder's own guard behind it.
    /// </summary>
    private static readonly Action<BinderOptions> Strict = o => o.ErrorOnUnknownConfiguration = true;

    public static IServiceCollection AddSocks5Relay(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RelayOptions>().Bind(configuration.GetSection(RelayOptions.SectionName), Strict).ValidateOnStart();
        services.AddOptions<PolicyOptions>().Bind(configuration.GetSection(PolicyOptions.SectionName), Strict).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RelayOptions>, RelayOptionsValidator>();
        services.AddSingleton<IValidateOptions<PolicyOptions>, PolicyOptionsValidator>();
        services.AddOptions<AuthOptions>().Bind(configuration.GetSection(AuthOptions.SectionName), Strict).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>();
        services.AddSingleton<UserDirectory>();
        services.AddOptions<LimitsOptions>().Bind(configuration.GetSection(LimitsOptions.SectionName), Strict).ValidateOnStart();
        services.AddSingleton<IValidateOptions<LimitsOptions>, LimitsOptionsValidator>();
        services.AddSingleton<ClientTracker>();

        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.AddSingleton<Metrics.RelayMetrics>();
        services.TryAddSingleton<IDestinationResolver, SystemDestinationResolver>();
        services.TryAddSingleton<IErrorQueueReader>(sp => ErrorQueueReaderFactory.Create(
            sp.GetRequiredService<IOptions<RelayOptions>>().Value, sp.GetRequiredService<ILoggerFactory>().CreateLogger("Socks5UdpRelay.Icmp")));
        services.TryAddSingleton<OutboundPortRegistry>();
        services.AddSingleton(sp => UdpEventLoopHolder.Create(
            sp.GetRequiredService<IOptions<RelayOptions>>().Value, sp.GetRequiredService<ILoggerFactory>().CreateLogger("Socks5UdpRelay.Udp")));
        services.AddSingleton<CachingResolver>();
        services.AddSingleton<ClientAllowList>();
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<RelayOptions>>().Value;
            return EndpointText.TryParseRange(options.UdpPortRange, out int first, out int last)
                ? new ClientPortAllocator(first, last)
                : ClientPortAllocator.Any;
        });
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<RelayOptions>>().Value;
            var listeners = options.Listen.Select(l => EndpointText.TryParseEndpoint(l, out var ep) ? ep : null).OfType<System.Net.IPEndPoint>().ToList();
            return DestinationPolicy.Create(sp.GetRequiredService<IOptions<PolicyOptions>>().Value, listeners);
        });
        services.AddSingleton(sp => new RelayContext(
            sp.GetRequiredService<IOptions<RelayOptions>>().Value,
            sp.GetRequiredService<IOptions<LimitsOptions>>().Value,
            sp.GetRequiredService<DestinationPolicy>(),
            sp.GetRequiredService<OutboundPortRegistry>(),
            sp.GetRequiredService<ClientPortAllocator>(),
            sp.GetRequiredService<CachingResolver>(),
            sp.GetRequiredService<IErrorQueueReader>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<Metrics.RelayMetrics>(),
            sp.GetRequiredService<UdpEventLoopHolder>().Loop,
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("Socks5UdpRelay.Udp")));
        services.AddSingleton(sp =>
        {
            var sessions = new SessionContext(
                sp.GetRequiredService<RelayContext>(),
                sp.GetRequiredService<IOptions<RelayOptions>>().Value.AdvertisedAddress.Select(a => System.Net.IPAddress.Parse(a.Trim())).ToList(),
                sp.GetRequiredService<UserDirectory>(),
                sp.GetRequiredService<ClientTracker>());
            var tracker = sp.GetRequiredService<ClientTracker>();
            sp.GetRequiredService<Metrics.RelayMetrics>().Observe(() => sessions.Associations, () => tracker.Connections);
            return sessions;
        });
        services.AddOptions<Metrics.MetricsOptions>().Bind(configuration.GetSection(Metrics.MetricsOptions.SectionName), Strict).ValidateOnStart();
        services.AddSingleton<IValidateOptions<Metrics.MetricsOptions>, MetricsOptionsValidator>();
        services.AddSingleton<Metrics.PrometheusExporter>();
        services.AddSingleton<Metrics.MetricsEndpoint>();
        services.AddSingleton<Socks5Listener>();
        services.AddSingleton<IRelayEndpoints>(sp => sp.GetRequiredService<Socks5Listener>());
        services.AddHostedService(sp => sp.GetRequiredService<Socks5Listener>());
        services.AddHostedService(sp => sp.GetRequiredService<Metrics.MetricsEndpoint>());
        return services;
    }
}
