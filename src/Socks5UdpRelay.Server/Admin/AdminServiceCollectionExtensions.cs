using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Socks5UdpRelay.Server.Admin;

/// <summary>The flow view's part of the composition root: the <c>Admin</c> section, validated at start, and the routes the HTTP endpoint serves.</summary>
internal static class AdminServiceCollectionExtensions
{
    public static IServiceCollection AddFlowView(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AdminOptions>().Bind(configuration.GetSection(AdminOptions.SectionName), o => o.ErrorOnUnknownConfiguration = true).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AdminOptions>, AdminOptionsValidator>();
        services.AddSingleton<AdminToken>();
        services.AddSingleton<FlowReader>();
        services.AddSingleton<FlowFeed>();
        services.AddSingleton<AdminRoutes>();
        return services;
    }
}
