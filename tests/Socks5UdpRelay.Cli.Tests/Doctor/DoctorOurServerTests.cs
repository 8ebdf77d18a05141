using System.Globalization;
using Socks5UdpRelay.Cli.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Socks5UdpRelay.Tests.Shared.Infrastructure;

namespace Socks5UdpRelay.Cli.Tests.Doctor;

/// <summary>
/// <c>s5nc doctor</c> against the project's server on loopback, healthy and broken in the ways
/// the README's doctor section names; each run is checked against its row of <see cref="DoctorExpectations"/>.
/// </summary>
public sealed class DoctorOurServerTests
{
    [PeerFact(PeerServers.Stund)]
    public async Task Healthy_EveryStageOkOrWarn_WithNatAndPathMtuAndIdle()
    {
        await using var server = await RelayServer.StartAsync();
        await using var echo = UdpResponder.Echo();
        int stunPort = FreePorts.TcpAndUdp();
        await using var stund = await PeerServers.StartStundAsync(stunPort);

        var run = await DoctorRun.InProcessAsync(null, "--proxy", server.Proxy, "--target", $"127.0.0.1:{echo.Port}", "--stun", $"127.0.0.1:{stunPort}", "--idle", "1");

        run.AssertMatches("ours");
        Assert.StartsWith(DoctorExpectations.Nat["ours"], run.Saw("nat"), StringComparison.Ordinal);
        Assert.Contains("NOTICES version=1", run.Saw("notices"), StringComparison.Ordinal);
        Assert.Contains("`s5nc trace` works", run.Saw("notices"), StringComparison.Ordinal);
        Assert.True(run.Stage("udp-over-tcp").GetProperty("details").GetProperty("offered").GetBoolean());
        Assert.Equal(0, run.Stage("udp-over-tcp").GetProperty("details").GetProperty("reply").GetInt32());
        Assert.True(run.Stage("datagrams").GetProperty("details").GetProperty("echo").GetBoolean());
        // Relay:MaxDatagramSize is 65 000 by default, and the proxy says so for anything larger.
        Assert.Equal(65_000, run.Stage("mtu").GetProperty("details").GetProperty("largest_payload").GetInt32());
        Assert.Contains("UDP-DENIED reason=too-large", run.Saw("mtu"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoticesOff_DatagramsStillRelayed_NoticesStageWarns()
    {
        await using var server = await RelayServer.StartAsync(settings: new Dictionary<string, string?> { ["Relay:Notices"] = "off" });
        await using var echo = UdpResponder.Echo();

        var run = await DoctorRun.InProcessAsync(null, "--proxy", server.Proxy, "--target", $"127.0.0.1:{echo.Port}");

        run.AssertMatches("ours-notices-off");
        Assert.Contains("no NOTICES line", run.Saw("notices"), StringComparison.Ordinal);
        Assert.Contains("Relay:Notices=on", run.Fix("notices"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongAdvertisedAddress_RelayAddressFails_NamesTheSettingAndGoesOnWithTheProxyAddress()
    {
        await using var server = await RelayServer.StartAsync(settings: new Dictionary<string, string?> { ["Relay:AdvertisedAddress:0"] = "127.0.0.2" });
        await using var echo = UdpResponder.Echo();

        var run = await DoctorRun.InProcessAsync(null, "--proxy", server.Proxy, "--target", $"127.0.0.1:{echo.Port}");

        run.AssertMatches("ours-wrong-advertised");
        Assert.Contains("127.0.0.2", run.Saw("relay-address"), StringComparison.Ordinal);
        Assert.Contains("ICMP port unreachable", run.Saw("relay-address"), StringComparison.Ordinal);
        Assert.Contains("Relay:AdvertisedAddress", run.Fix("relay-address"), StringComparison.Ordinal);
        Assert.Contains("through the relay 127.0.0.1:", run.Saw("datagrams"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Authentication_WrongPasswordOrNoneFailsWithExit4_RightPasswordPasses()
    {
        string passwordFile = Path.GetTempFileName();
        await File.WriteAllTextAsync(passwordFile, "right horse");
        try
        {
            await using var server = await RelayServer.StartAsync(settings: new Dictionary<string, string?>
            {
                ["Auth:Users:0:Name"] = "alice",
                ["Auth:Users:0:PasswordFile"] = passwordFile,
                ["Auth:FailureDelay"] = "00:00:00.010",
            });
            await using var echo = UdpResponder.Echo();
            string proxyAsAlice = $"socks5://alice@{server.Proxy}";

            var wrong = await DoctorRun.InProcessAsync(new Dictionary<string, string> { ["SOCKS5_PASSWORD"] = "wrong horse" }, "--proxy", proxyAsAlice);
            var none = await DoctorRun.InProcessAsync(null, "--proxy", server.Proxy);
            var right = await DoctorRun.InProcessAsync(new Dictionary<string, string> { ["SOCKS5_PASSWORD"] = "right horse" },
                "--proxy", proxyAsAlice, "--target", $"127.0.0.1:{echo.Port}");

            wrong.AssertMatches("ours-wrong-password");
            Assert.Contains("rejected the username and password for alice", wrong.Saw("auth"), StringComparison.Ordinal);
            none.AssertMatches("ours-no-credentials");
            Assert.Contains("accepted none of them (0xFF)", none.Saw("auth"), StringComparison.Ordinal);
            Assert.Contains("socks5://USER@", none.Fix("auth"), StringComparison.Ordinal);
            right.AssertMatches("ours-right-password");
            Assert.Equal("username-password", right.Stage("auth").GetProperty("details").GetProperty("method").GetString());
        }
        finally
        {
            File.Delete(passwordFile);
        }
    }

    [Fact]
    public async Task Idle_AssociationEndedByTheProxy_IdleStageFailsWithTheClosingNotice()
    {
        await using var server = await RelayServer.StartAsync(settings: new Dictionary<string, string?> { ["Relay:AssociationIdleTimeout"] = "00:00:02" });
        await using var echo = UdpResponder.Echo();

        var run = await DoctorRun.InProcessAsync(null, "--proxy", server.Proxy, "--target", $"127.0.0.1:{echo.Port}", "--idle", "5");

        run.AssertMatches("ours-idle-timeout");
        Assert.Contains("CLOSING reason=idle-timeout", run.Saw("idle"), StringComparison.Ordinal);
        Assert.Contains("Relay:AssociationIdleTimeout", run.Fix("idle"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClosedPortOnly_PortUnreachableNoticeProvesThePath()
    {
        await using var server = await RelayServer.StartAsync();
        int closed = FreePorts.ClosedUdp();

        var run = await DoctorRun.InProcessAsync(null, "--proxy", server.Proxy, "--closed", $"127.0.0.1:{closed}");

        run.AssertMatches("ours-closed-port");
        Assert.Contains($"reported 127.0.0.1:{closed.ToString(CultureInfo.InvariantCulture)} closed", run.Saw("datagrams"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoTarget_FragmentNoticeShowsDatagramsReachTheRelay()
    {
        await using var server = await RelayServer.StartAsync();

        var run = await DoctorRun.InProcessAsync(null, "--proxy", server.Proxy);

        run.AssertMatches("ours-no-target");
        Assert.Contains("UDP-DENIED reason=fragmented", run.Saw("datagrams"), StringComparison.Ordinal);
        Assert.Contains("--target", run.Fix("datagrams"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TextOutput_OneLinePerStage_LastLineNamesTheFailingStage()
    {
        await using var server = await RelayServer.StartAsync(settings: new Dictionary<string, string?> { ["Relay:AdvertisedAddress:0"] = "127.0.0.2" });

        var result = await CliRun.InProcessAsync(string.Empty, "doctor", "--proxy", server.Proxy);

        Assert.True(result.ExitCode == 3, result.ToString());
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var stageLines = lines.Where(l => !l.StartsWith(' ') && !l.StartsWith("s5nc", StringComparison.Ordinal)).ToList();
        Assert.Equal(10, stageLines.Count);
        Assert.StartsWith("fail     4  relay address", stageLines[3], StringComparison.Ordinal);
        Assert.Matches(@"^s5nc doctor: fail at stage 4 \(relay address\) after [0-9.]+ s, exit 3$", lines[^1]);
        Assert.Empty(result.Stderr);
    }
}
