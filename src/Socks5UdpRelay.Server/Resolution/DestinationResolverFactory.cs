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
        var options = services.GetRequiredService<IOptions<RelayOptions>>().Value;
        if (options.UsesSystemResolver)
        {
            ResolverLog.SystemResolver(logger);
            return new SystemDestinationResolver();
        }

        // The relay's deadline is also the resolver's own limit, so a lookup ends then even if a caller never cancels.
        return DnsDestinationResolver.FromSystemFiles(options.ResolveTimeout, services.GetRequiredService<TimeProvider>(), logger);
    }
}
