using Microsoft.Extensions.Options;
using Socks5UdpRelay.Server.Admin;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Server.Tests.Hosting;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Admin;

/// <summary>The <c>Admin</c> section: checked at start with every error at once, none of them carrying the token; the token's own checks.</summary>
public sealed class AdminOptionsTests
{
    private const string Good = "a-good-token-0123456789";

    [Fact]
    public void ShippedConfiguration_LeavesTheFlowViewOff()
    {
        Assert.Empty(RelayHostValidation.Validate(new()));
        Assert.False(new AdminToken(Options.Create(new AdminOptions())).IsConfigured);
    }

    [Fact]
    public void AGoodToken_WithMetricsOn_IsValid()
        => Assert.Empty(RelayHostValidation.Validate(new() { ["Metrics:Enabled"] = "true", ["Admin:Token"] = Good }));

    [Theory]
    [InlineData("short-token", "Admin:Token is not a usable token: use at least 16 characters")]
    [InlineData("sixteen chars ok", "Admin:Token is not a usable token")] // a space is not a bearer token's character
    [InlineData("ÄÖÜäöüßÄÖÜäöüßÄÖÜ", "Admin:Token is not a usable token")]
    public void AnUnusableToken_IsRefused_WithoutEchoingIt(string token, string message)
    {
        var failures = RelayHostValidation.Validate(new() { ["Metrics:Enabled"] = "true", ["Admin:Token"] = token });
        var failure = Assert.Single(failures);
        Assert.StartsWith(message, failure);
        Assert.DoesNotContain(token, failure);
    }

    [Fact]
    public void ATokenWithoutTheMetricsEndpoint_IsAnError()
    {
        var failure = Assert.Single(RelayHostValidation.Validate(new() { ["Admin:Token"] = Good }));
        Assert.Equal("Admin:Token is set but Metrics:Enabled is not true: the flow view is served on the Metrics endpoint; set Metrics:Enabled=true.", failure);
        Assert.DoesNotContain(Good, failure);
    }

    [Fact]
    public void EveryAdminError_IsReportedTogether()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"no-such-token-{Guid.NewGuid():N}");
        var failures = RelayHostValidation.Validate(new()
        {
            ["Metrics:Enabled"] = "true",
            ["Admin:TokenFile"] = missing,
            ["Admin:StreamInterval"] = "00:00:00.010",
            ["Admin:MaxStreams"] = "0",
            ["Admin:MaxPageSize"] = "100000",
        });
        Assert.Contains(failures, f => f.StartsWith($"Admin:TokenFile = '{missing}' cannot be read", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Admin:StreamInterval = '00:00:00.0100000': use 00:00:00.100 to 00:01:00", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Admin:MaxStreams = 0: use 1 to 64", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Admin:MaxPageSize = 100000: use 1 to 10000", StringComparison.Ordinal));
    }

    [Fact]
    public void TokenAndTokenFile_AreOneOrTheOther()
        => Assert.Contains(RelayHostValidation.Validate(new() { ["Metrics:Enabled"] = "true", ["Admin:Token"] = Good, ["Admin:TokenFile"] = "/etc/hostname" }),
            f => f == "Admin:Token and Admin:TokenFile are both set: give one.");

    [Fact]
    public void ATokenFileWithAShortFirstLine_IsRefused_WithoutEchoingIt()
    {
        string file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "tiny\n" + Good + "\n");
            var failure = Assert.Single(RelayHostValidation.Validate(new() { ["Metrics:Enabled"] = "true", ["Admin:TokenFile"] = file }));
            Assert.StartsWith($"the first line of Admin:TokenFile ({file}) is not a usable token", failure);
            Assert.DoesNotContain("tiny", failure);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void AMisspeltKey_IsCaughtLikeEveryOtherSection()
        => Assert.Contains(RelayHostValidation.Validate(new() { ["Admin:Tokn"] = Good }), f => f.StartsWith("Admin:Tokn is not a setting: did you mean Admin:Token?", StringComparison.Ordinal));

    [Theory]
    [InlineData(null, "Missing")]
    [InlineData("", "Missing")]
    [InlineData("Bearer " + Good, "Granted")]
    [InlineData("BEARER " + Good, "Granted")]
    [InlineData("Bearer  " + Good + " ", "Granted")]
    [InlineData("Bearer " + Good + "x", "Invalid")]
    [InlineData("Bearer a-good-token-012345678", "Invalid")]
    [InlineData("Bearer", "Invalid")]
    [InlineData("Basic " + Good, "Invalid")]
    [InlineData(Good, "Invalid")]
    public void Check_SaysWhatAHeaderProves(string? header, string expected)
        => Assert.Equal(expected, new AdminToken(Options.Create(new AdminOptions { Token = Good })).Check(header).ToString());

    [Fact]
    public void WithoutAToken_NothingIsGranted()
        => Assert.Equal(AdminAccess.Invalid, new AdminToken(Options.Create(new AdminOptions())).Check("Bearer " + Good));
}
