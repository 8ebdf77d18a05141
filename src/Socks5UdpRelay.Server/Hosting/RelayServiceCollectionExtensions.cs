using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Admin;
using Socks5UdpRelay.Server.Auth;
using Socks5UdpRelay.Server.Control;
using Socks5UdpRelay.Server.Icmp;
using Socks5UdpRelay.Server.Logging;
using Socks5UdpRelay.Server.Metrics;
using Socks5UdpRelay.Server.Notices;
using Socks5UdpRelay.Server.Policy;
using Socks5UdpRelay.Server.Relay;
using Socks5UdpRelay.Server.Resolution;
using Socks5UdpRelay.Server.Transport;
using Socks5UdpRelay.Server.UdpOverTcp;
using Socks5UdpRelay.Server.WarmUp;
using Socks5UdpRelay.Server.Transport.Epoll;

namespace Socks5UdpRelay.Server.Hosting;

/// <summary>
/// The composition root: validated options, the relay's services (each replaceable by tests
/// before this runs), and the listener. Every piece gets the settings it uses, not the options.
/// </summary>
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
        AddOptions(services, configuration);
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.AddSingleton<RelayMetrics>();
        services.AddSingleton<UserDirectory>();
        services.AddSingleton(sp =>
        {
            var auth = sp.GetRequiredService<IOptions<AuthOptions>>().Value;
            return new KeyDerivationPool(sp.GetRequiredService<UserDirectory>(), auth.EffectiveDerivationThreads, auth.MaxQueuedDerivations);
        });
        services.AddSingleton(sp => new PasswordChecker(
            sp.GetRequiredService<UserDirectory>(), sp.GetRequiredService<KeyDerivationPool>(), sp.GetRequiredService<IOptions<AuthOptions>>().Value.MaxConcurrentAttemptsPerClient));
        services.AddSingleton<ClientTracker>();
        services.AddSingleton<ClientAllowList>();
        services.TryAddSingleton(DestinationResolverFactory.Create);
        services.AddSingleton(sp =>
        {
            var o = Relay(sp);
            return new ResolverSettings(o.ResolverCacheTime, o.ResolveTimeout, o.PreferIPv6, o.MaxConcurrentLookups);
        });
        services.AddSingleton<CachingResolver>();
        services.AddSingleton(sp => new ByteBudget(Relay(sp).MaxPendingNameBytes));
        services.TryAddSingleton<OutboundPortRegistry>();
        services.AddSingleton<LocalAddresses>();
        services.AddSingleton<OwnEndpoints>();
        services.AddSingleton(sp =>
        {
            var options = Relay(sp);
            var listeners = options.Listen.Select(l => EndpointText.TryParseEndpoint(l, out var ep) ? ep : null).OfType<System.Net.IPEndPoint>().ToList();
            return DestinationPolicy.Create(sp.GetRequiredService<IOptions<PolicyOptions>>().Value, listeners, sp.GetRequiredService<OwnEndpoints>(), sp.GetRequiredService<LocalAddresses>());
        });

        AddTransport(services);
        services.AddSingleton(sp =>
        {
            var o = Relay(sp);
            return new NoticeSettings(o.NoticesEnabled, o.NoticeQueueLength, o.NoticesPerSecond, o.NoticeBurst);
        });
        services.AddSingleton(sp => new NoticeService(
            sp.GetRequiredService<NoticeSettings>(), sp.GetRequiredService<RelayMetrics>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton(sp =>
        {
            var o = Relay(sp);
            var limits = sp.GetRequiredService<IOptions<LimitsOptions>>().Value;
            return new AssociationSettings(o.MaxDatagramSize, o.DestinationIdleTimeout, o.AssociationIdleTimeout, o.MaxDestinationsPerAssociation,
                o.ResolverCacheTime, limits.DatagramsPerSecond, limits.DatagramBurst,
                new NameLimits(o.MaxLookupsPerAssociation, o.MaxPendingNameBytesPerAssociation),
                new InboundSettings(FilteringModes.TryParse(o.Filtering, out var filtering) ? filtering : FilteringMode.AddressDependent,
                    o.InboundDatagramsPerSecond, o.InboundBurst, MaxAddresses: 4096),
                o.MaxMappingsPerAssociation);
        });
        services.AddSingleton<AssociationFactory>();

        AddControl(services);
        services.AddSingleton<PrometheusExporter>();
        services.AddFlowView(configuration);
        services.AddSingleton<MetricsEndpoint>();
        services.AddSingleton<Socks5Listener>();
        services.AddSingleton<IRelayEndpoints>(sp => sp.GetRequiredService<Socks5Listener>());
        services.AddSingleton<ErrorPathWarmUp>();
        services.AddHostedService(sp => sp.GetRequiredService<ErrorPathWarmUp>()); // before the listener: the first client meets a warm error path
        services.AddHostedService(sp => sp.GetRequiredService<Socks5Listener>());
        services.AddHostedService(sp => sp.GetRequiredService<MetricsEndpoint>());
        return services;
    }

    private static void AddOptions(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RelayOptions>().Bind(configuration.GetSection(RelayOptions.SectionName), Strict).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RelayOptions>, RelayOptionsValidator>();
        services.AddOptions<PolicyOptions>().Bind(configuration.GetSection(PolicyOptions.SectionName), Strict).ValidateOnStart();
        services.AddSingleton<IValidateOptions<PolicyOptions>, PolicyOptionsValidator>();
        services.AddOptions<AuthOptions>().Bind(configuration.GetSection(AuthOptions.SectionName), Strict).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>();
        services.AddOptions<LimitsOptions>().Bind(configuration.GetSection(LimitsOptions.SectionName), Strict).ValidateOnStart();
        services.AddSingleton<IValidateOptions<LimitsOptions>, LimitsOptionsValidator>();
        services.AddOptions<MetricsOptions>().Bind(configuration.GetSection(MetricsOptions.SectionName), Strict).ValidateOnStart();
        services.AddSingleton<IValidateOptions<MetricsOptions>, MetricsOptionsValidator>();
    }

    /// <summary>The UDP engine: the kernel's error queue unless switched off, and one epoll loop.</summary>
    private static void AddTransport(IServiceCollection services)
    {
        services.TryAddSingleton(sp =>
        {
            var source = string.Equals(Relay(sp).ErrorQueue, "off", StringComparison.OrdinalIgnoreCase)
                ? ErrorSource.ErrnoOnly("Relay:ErrorQueue=off")
                : ErrorSource.Create();
            Log.ErrorQueueMode(sp.GetRequiredService<ILoggerFactory>().CreateLogger("Socks5UdpRelay.Icmp"), source.Description);
            return source;
        });
        services.AddSingleton(sp => EndpointText.TryParseRange(Relay(sp).UdpPortRange, out int first, out int last)
            ? new ClientPortAllocator(first, last)
            : ClientPortAllocator.Any);
        services.AddSingleton<IUdpTransport>(sp =>
        {
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger("Socks5UdpRelay.Udp");
            var offload = string.Equals(Relay(sp).Offload, "off", StringComparison.OrdinalIgnoreCase)
                ? UdpOffload.Off("Relay:Offload=off")
                : UdpOffload.Detected;
            Log.OffloadMode(logger, offload.Description);
            var lifetime = sp.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>();
            var transport = new EpollTransport(Relay(sp).EventLoopCount, sp.GetRequiredService<ClientPortAllocator>(), sp.GetRequiredService<ErrorSource>(), e => Log.EventLoopFault(logger, e), e =>
            {
                // Nothing reads that loop's sockets any more: better a restart than a server that accepts and relays nothing.
                Log.EventLoopStopped(logger, e);
                lifetime.StopApplication();
            }, offload);
            sp.GetRequiredService<RelayMetrics>().ObserveLoops(() => transport.Loops);
            return transport;
        });
    }

    private static void AddControl(IServiceCollection services)
    {
        services.AddSingleton(sp => new AdvertisedAddresses(
            Relay(sp).AdvertisedAddress.Select(a => System.Net.IPAddress.Parse(a.Trim())).ToList()));
        services.AddSingleton<AssociationRegistry>();
        services.AddSingleton<AssociationLifetime>();
        services.AddSingleton(sp => new Handshake(
            Relay(sp).HandshakeTimeout, sp.GetRequiredService<UserDirectory>(), sp.GetRequiredService<PasswordChecker>(),
            sp.GetRequiredService<IOptions<AuthOptions>>().Value, sp.GetRequiredService<RelayMetrics>(), sp.GetRequiredService<TimeProvider>(),
            ControlLogger(sp)));
        services.AddSingleton(sp => new ClientPortRule(Relay(sp).RequireClientPort, sp.GetRequiredService<RelayMetrics>(), ControlLogger(sp)));
        services.AddSingleton(sp => new AssociateCommand(
            sp.GetRequiredService<ClientTracker>(), sp.GetRequiredService<IUdpTransport>(), sp.GetRequiredService<AssociationFactory>(),
            sp.GetRequiredService<AssociationLifetime>(), sp.GetRequiredService<AdvertisedAddresses>(), sp.GetRequiredService<NoticeService>(),
            sp.GetRequiredService<RelayMetrics>(), Relay(sp).UdpPortRange, CommandSettings(Relay(sp)), sp.GetRequiredService<CachingResolver>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>().CreateLogger("Socks5UdpRelay.Udp")));
        services.AddSingleton(sp => new UdpOverTcpCommand(
            new UdpOverTcpSettings(Relay(sp).UdpOverTcpEnabled, Relay(sp).MaxDatagramSize, Relay(sp).NoticesEnabled, CommandSettings(Relay(sp))),
            sp.GetRequiredService<ClientTracker>(), sp.GetRequiredService<IUdpTransport>(), sp.GetRequiredService<AssociationFactory>(),
            sp.GetRequiredService<AssociationLifetime>(), sp.GetRequiredService<CachingResolver>(), sp.GetRequiredService<RelayMetrics>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>().CreateLogger("Socks5UdpRelay.Udp")));
        services.AddSingleton(sp => new ConnectRelay(
            sp.GetRequiredService<CachingResolver>(), sp.GetRequiredService<DestinationPolicy>(), Relay(sp).ConnectTimeout, ControlLogger(sp)));
        services.AddSingleton<ControlSessionFactory>();
    }

    private static CommandSettings CommandSettings(RelayOptions o)
        => new(o.CommandsEnabled ? OfferedCommands.Set | OfferedCommands.Map : OfferedCommands.None, o.CommandsPerSecond, o.CommandBurst);

    private static RelayOptions Relay(IServiceProvider sp) => sp.GetRequiredService<IOptions<RelayOptions>>().Value;

    private static ILogger ControlLogger(IServiceProvider sp) => sp.GetRequiredService<ILoggerFactory>().CreateLogger("Socks5UdpRelay.Control");
}
