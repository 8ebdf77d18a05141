using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Socks5UdpRelay.Server.Hosting;
using Socks5UdpRelay.Server.Resolution;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Resolution;

/// <summary><c>Relay:Resolver</c>: dns by default, system on request, anything else refused at start.</summary>
public sealed class ResolverOptionTests
{
    [Theory]
    [InlineData(null, typeof(DnsDestinationResolver))]
    [InlineData("dns", typeof(DnsDestinationResolver))]
    [InlineData("System", typeof(SystemDestinationResolver))]
    public void Factory_BuildsTheNamedResolver(string? value, Type expected)
    {
        var options = new RelayOptions();
        if (value is not null)
        {
            options.Resolver = value;
        }

        using var services = new ServiceCollection()
            .AddSingleton(Options.Create(options))
            .AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance)
            .AddSingleton(TimeProvider.System)
            .BuildServiceProvider();

        Assert.IsType(expected, DestinationResolverFactory.Create(services));
    }

    [Theory]
    [InlineData("dns", true)]
    [InlineData("SYSTEM", true)]
    [InlineData("getaddrinfo", false)]
    [InlineData("", false)]
    public void Validator_AcceptsDnsAndSystemOnly(string value, bool valid)
    {
        var result = new RelayOptionsValidator().Validate(null, new RelayOptions { Listen = ["127.0.0.1:0"], Resolver = value });

        Assert.Equal(valid, result.Succeeded);
        if (!valid)
        {
            Assert.Contains($"Relay:Resolver = '{value}': use dns", result.FailureMessage, StringComparison.Ordinal);
        }
    }
}
