using Microsoft.Extensions.Configuration;
using Socks5UdpRelay.Server.Hosting;

namespace Socks5UdpRelay.Server.Tests.Fixtures;

/// <summary>What the server's start-up validation says of a configuration, without starting it.</summary>
internal static class RelayHostValidation
{
    /// <summary>The failures the server would report at start for the shipped configuration with <paramref name="settings"/> over it (null values left out).</summary>
    public static IReadOnlyList<string> Validate(Dictionary<string, string?> settings)
    {
        var builder = RelayHost.CreateBuilder([]);
        builder.Configuration.AddInMemoryCollection(settings.Where(s => s.Value is not null));
        using var host = builder.Build();
        return RelayHost.Validate(host.Services);
    }
}
