using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Socks5UdpRelay.Server.Hosting;

namespace Socks5UdpRelay.Server.Resolution;

/// <summary>The resolver <c>Relay:Resolver</c> names: <c>dns</c> (default) or <c>system</c>.</summary>
internal static class DestinationResolverFactory
{
    public static IDestinationResolver Create(IServiceProvider services)
    {
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(ResolverLog.Category);
        if (services.GetRequiredService<IOptions<RelayOptions>>().Value.UsesSystemResolver)
        {
            ResolverLog.SystemResolver(logger);
            return new SystemDestinationResolver();
        }

        return DnsDestinationResolver.FromSystemFiles(services.GetRequiredService<TimeProvider>(), logger);
    }
}
