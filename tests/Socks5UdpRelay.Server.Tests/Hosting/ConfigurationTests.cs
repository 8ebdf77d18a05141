using Microsoft.Extensions.Configuration;
using Socks5UdpRelay.Server.Hosting;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Hosting;

/// <summary>Bad configuration fails at start with every error at once, each naming its key; the open-relay guard.</summary>
public sealed class ConfigurationTests
{
    [Fact]
    public void EveryErrorOfEverySection_IsReportedTogether_NamingItsKey()
    {
        var failures = RelayHostValidation.Validate(new()
        {
            ["Relay:Listen:0"] = "localhost:1080",
            ["Relay:Notices"] = "sometimes",
            ["Relay:MaxDatagramSize"] = "70000",
            ["Relay:UdpPortRange"] = "600-500",
            ["Relay:AdvertisedAddress:0"] = "not-an-ip",
            ["Policy:AllowClients:0"] = "10.0.0.1/8",
            ["Policy:LoopbackDestinations"] = "maybe",
            ["Policy:Destinations:0:Action"] = "permit",
            ["Auth:Users:0:Name"] = "alice",
            ["Limits:MaxConnections"] = "0",
            ["Metrics:Enabled"] = "true",
            ["Metrics:Listen"] = "nowhere",
        });

        foreach (string key in new[]
        {
            "Relay:Listen:0", "Relay:Notices", "Relay:MaxDatagramSize", "Relay:UdpPortRange", "Relay:AdvertisedAddress:0",
            "Policy:AllowClients:0", "Policy:LoopbackDestinations", "Policy:Destinations:0:Action", "Auth:Users:0", "Limits:MaxConnections", "Metrics:Listen",
        })
        {
            Assert.Contains(failures, f => f.StartsWith(key, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void ValueThatDoesNotConvert_NamesItsKey()
        => Assert.Contains(RelayHostValidation.Validate(new() { ["Relay:HandshakeTimeout"] = "soon" }), f => f.StartsWith("Relay:HandshakeTimeout = 'soon'", StringComparison.Ordinal));

    [Fact]
    public void ShippedConfiguration_IsValid()
        => Assert.Empty(RelayHostValidation.Validate(new()));

    [Theory]
    [InlineData(null, null, null, false)]
    [InlineData("10.0.0.0/8", null, null, true)]
    [InlineData(null, "alice", null, true)]
    [InlineData(null, null, "true", true)]
    public void NonLoopbackListener_NeedsUsersOrAllowListOrExplicitOpenRelay(string? allowClients, string? user, string? openRelay, bool valid)
    {
        var failures = RelayHostValidation.Validate(new()
        {
            ["Relay:Listen:0"] = "0.0.0.0:0",
            ["Policy:AllowClients:0"] = allowClients,
            ["Auth:Users:0:Name"] = user,
            ["Auth:Users:0:PasswordHash"] = user is null ? null : Server.Auth.PasswordHash.Create("pw", 10_000),
            ["Policy:AllowOpenRelay"] = openRelay,
        });
        if (valid)
        {
            Assert.Empty(failures);
        }
        else
        {
            Assert.Contains(failures, f => f.Contains("open relay") && f.Contains("Policy:AllowOpenRelay"));
        }
    }

    [Fact]
    public async Task ServerProcess_WithBadConfiguration_ExitsOneListingEveryError()
    {
        await using var server = ServerProcess.Launch(["--Relay:Listen:0=0.0.0.0:0", "--Relay:Notices=loud", "--Limits:DatagramBurst=0"]);
        Assert.Equal(1, await server.WaitForExitAsync(TestTimeout.Default));
        await server.WaitForLineAsync(l => l.Contains("Not started: 3 configuration error(s)", StringComparison.Ordinal));
        Assert.Contains(server.Output, l => l.Contains("Policy:AllowOpenRelay", StringComparison.Ordinal));
        Assert.Contains(server.Output, l => l.Contains("Relay:Notices = 'loud'", StringComparison.Ordinal));
        Assert.Contains(server.Output, l => l.Contains("Limits:DatagramBurst = 0", StringComparison.Ordinal));
        Assert.DoesNotContain(server.Output, l => l.Contains("   at ", StringComparison.Ordinal)); // no stack trace
    }
}
