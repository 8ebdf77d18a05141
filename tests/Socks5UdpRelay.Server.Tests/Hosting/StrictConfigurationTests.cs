using Socks5UdpRelay.Server.Hosting;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Hosting;

/// <summary>
/// Strict configuration: a misspelt key, an enum-like value, a value of the wrong type, a bad log
/// level and a JSON syntax error each stop the start with a message that names the key (or the
/// file, line and column) and what would be accepted, every error of every section at once.
/// </summary>
public sealed class StrictConfigurationTests
{
    [Fact]
    public void MisspeltKey_IsAnError_NamingTheClosestKnownKey()
        => Assert.Contains("Relay:UdpPortRnage is not a setting: did you mean Relay:UdpPortRange?", RelayHostValidation.Validate(new() { ["Relay:UdpPortRnage"] = "41000-41010" }));

    [Fact]
    public void UnknownKeyFarFromAnyKnownOne_ListsTheSectionsKeys()
    {
        var failures = RelayHostValidation.Validate(new() { ["Limits:Bandwidth"] = "10" });
        Assert.Contains(failures, f => f.StartsWith("Limits:Bandwidth is not a setting: Limits has MaxConnections, MaxConnectionsPerClient", StringComparison.Ordinal));
    }

    [Fact]
    public void MisspeltKeyInsideAListItem_IsAnError()
        => Assert.Contains(
            "Auth:Users:0:PasswordHsah is not a setting: did you mean Auth:Users:0:PasswordHash?",
            RelayHostValidation.Validate(new() { ["Auth:Users:0:Name"] = "alice", ["Auth:Users:0:PasswordHsah"] = "x" }));

    [Fact]
    public void LogFormatTypo_ListsWhatIsAccepted()
        => Assert.Contains("LogFormat = 'jsn': use text or json (did you mean json?).", RelayHostValidation.Validate(new() { ["LogFormat"] = "jsn" }));

    [Fact]
    public void ValueOfTheWrongType_SaysWhatIsAccepted_AndHidesNoOtherErrorOfItsSection()
    {
        var failures = RelayHostValidation.Validate(new()
        {
            ["Relay:HandshakeTimeout"] = "10s",
            ["Relay:MaxDatagramSize"] = "big",
            ["Relay:Notices"] = "loud",
            ["Relay:PreferIPv6"] = "yes",
            ["Limits:DatagramBurst"] = "0",
        });

        Assert.Contains("Relay:HandshakeTimeout = '10s' is not a duration: write [d.]hh:mm:ss, e.g. 00:00:10 for ten seconds; the default is 00:00:10.", failures);
        Assert.Contains(failures, f => f.StartsWith("Relay:MaxDatagramSize = 'big' is not a whole number", StringComparison.Ordinal));
        Assert.Contains("Relay:PreferIPv6 = 'yes' is not true or false; the default is false.", failures);
        Assert.Contains("Relay:Notices = 'loud': use on or off.", failures); // the section's validator ran despite the conversion errors
        Assert.Contains(failures, f => f.StartsWith("Limits:DatagramBurst = 0", StringComparison.Ordinal));
        Assert.Equal(5, failures.Count);
    }

    [Fact]
    public void ListGivenWithoutAnIndex_SaysHowToWriteIt()
        => Assert.Contains(
            "Relay:AdvertisedAddress = '203.0.113.10': Relay:AdvertisedAddress is a list; write Relay:AdvertisedAddress:0=203.0.113.10 (environment: Relay__AdvertisedAddress__0).",
            RelayHostValidation.Validate(new() { ["Relay:AdvertisedAddress"] = "203.0.113.10" }));

    [Fact]
    public void SerilogLevelTypo_IsAValidationError()
        => Assert.Contains(
            "Serilog:MinimumLevel:Default = 'Infromation' is not a log level: use Verbose, Debug, Information, Warning, Error, Fatal (did you mean Information?).",
            RelayHostValidation.Validate(new() { ["Serilog:MinimumLevel:Default"] = "Infromation" }));

    [Fact]
    public void SerilogOverrideLevelTypo_IsAValidationError()
        => Assert.Contains(RelayHostValidation.Validate(new() { ["Serilog:MinimumLevel:Override:Microsoft"] = "Warn" }), f => f.StartsWith("Serilog:MinimumLevel:Override:Microsoft = 'Warn' is not a log level", StringComparison.Ordinal));

    [Fact]
    public async Task ServerProcess_MisspeltKeyOnTheCommandLine_DoesNotStart()
    {
        await using var server = ServerProcess.Launch(["--Relay:Listen:0=127.0.0.1:0", "--Relay:UdpPortRnage=41000-41010"]);

        Assert.Equal(1, await server.WaitForExitAsync(TestTimeout.Default));
        Assert.Contains(server.Output, l => l.Contains("Invalid configuration: Relay:UdpPortRnage is not a setting: did you mean Relay:UdpPortRange?", StringComparison.Ordinal));
        Assert.DoesNotContain(server.Output, l => l.Contains("Listening for SOCKS5", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ServerProcess_UnknownSectionOnTheCommandLine_DoesNotStart()
    {
        await using var server = ServerProcess.Launch(["--Realy:Listen:0=127.0.0.1:0"]);

        Assert.Equal(1, await server.WaitForExitAsync(TestTimeout.Default));
        Assert.Contains(server.Output, l => l.Contains("Realy (on the command line) is not a section or setting of this server (did you mean Relay?)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ServerProcess_SerilogLevelTypo_ExitsOneWithoutAStackTrace()
    {
        await using var server = ServerProcess.Launch(["--Relay:Listen:0=127.0.0.1:0", "--Serilog:MinimumLevel:Default=Infromation"]);

        Assert.Equal(1, await server.WaitForExitAsync(TestTimeout.Default));
        Assert.Contains(server.Output, l => l.Contains("Serilog:MinimumLevel:Default = 'Infromation' is not a log level", StringComparison.Ordinal));
        Assert.DoesNotContain(server.Output, l => l.Contains("   at ", StringComparison.Ordinal) || l.Contains("Unhandled exception", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ServerProcess_JsonSyntaxError_NamesFileLineAndColumn()
    {
        var folder = Directory.CreateTempSubdirectory("s5r-config-");
        try
        {
            string file = Path.Combine(folder.FullName, "appsettings.json");
            await File.WriteAllTextAsync(file, "{\n  \"Relay\": {\n    \"Listen\": [ \"127.0.0.1:0\" ],\n    \"Notices\": \"on\"\n    \"ErrorQueue\": \"auto\"\n  }\n}\n");
            await using var server = ServerProcess.Launch([], new Dictionary<string, string> { [RelayHost.ConfigDirectoryVariable] = folder.FullName });

            Assert.Equal(1, await server.WaitForExitAsync(TestTimeout.Default));
            await server.WaitForLineAsync(l => l.StartsWith($"{file}:5:5: ", StringComparison.Ordinal) && l.Contains("is invalid after a value", StringComparison.Ordinal));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("UdpPortRnage", "UdpPortRange")]
    [InlineData("listen", "Listen")]
    [InlineData("Noticse", "Notices")]
    [InlineData("AdvertisedAdress", "AdvertisedAddress")]
    [InlineData("Nonsense", null)]
    public void ClosestName_FindsTypos_NotStrangers(string typed, string? expected)
        => Assert.Equal(expected, ClosestName.Find(typed, ["Listen", "AdvertisedAddress", "UdpPortRange", "Notices", "MaxDatagramSize"]));
}
