using Socks5UdpRelay.Tests.Shared;
using Socks5UdpRelay.Tests.Shared.Infrastructure;

namespace Socks5UdpRelay.Cli.Tests.Doctor;

/// <summary>
/// <c>s5nc doctor</c> against other SOCKS5 servers from Debian, each run unmodified on loopback,
/// with an echo responder and stund: doctor must work against any SOCKS5 server, and say for
/// each what it can and cannot do (rows of <see cref="DoctorExpectations"/>).
/// </summary>
public sealed class DoctorPeerServerTests
{
    [PeerFact(ExternalTools.DanteServerPath, PeerServers.Stund)]
    public async Task Dante_RelaysWithoutNotices()
    {
        await using var dante = await DanteProcess.StartAsync();
        var run = await RunWithEchoAndStunAsync(dante.EndPoint.ToString());

        run.AssertMatches("dante");
        Assert.StartsWith(DoctorExpectations.Nat["dante"], run.Saw("nat"), StringComparison.Ordinal);
        Assert.Contains("no NOTICES line", run.Saw("notices"), StringComparison.Ordinal);
    }

    [PeerFact(PeerServers.Microsocks)]
    public async Task Microsocks_NoUdpAssociate_FailsAtStage3With0x07()
    {
        int port = FreePorts.TcpAndUdp();
        await using var microsocks = await PeerServers.StartMicrosocksAsync(port);
        await using var echo = UdpResponder.Echo();

        var run = await DoctorRun.InProcessAsync(null, "--proxy", $"127.0.0.1:{port}", "--target", $"127.0.0.1:{echo.Port}");

        run.AssertMatches("microsocks");
        Assert.Contains("0x07 (command not supported)", run.Saw("associate"), StringComparison.Ordinal);
        Assert.Equal(7, run.Stage("associate").GetProperty("details").GetProperty("reply").GetInt32());
        Assert.Equal(3, run.Summary.GetProperty("failed_stage_number").GetInt32());
    }

    [PeerFact(PeerServers.Hpsockd, PeerServers.Stund)]
    public async Task Hpsockd_RelaysRepliesOnlyToAClientThatNamesItsAddress()
    {
        int port = FreePorts.TcpAndUdp();
        await using var hpsockd = await PeerServers.StartHpsockdAsync(port);
        var run = await RunWithEchoAndStunAsync($"127.0.0.1:{port}");

        run.AssertMatches("hpsockd");
        Assert.Contains("no answer when the request named 0.0.0.0:0", run.Saw("datagrams"), StringComparison.Ordinal);
        Assert.True(run.Stage("datagrams").GetProperty("details").GetProperty("needs_client_address").GetBoolean());
        Assert.StartsWith(DoctorExpectations.Nat["hpsockd"], run.Saw("nat"), StringComparison.Ordinal);
    }

    [PeerFact(PeerServers.V2ray, PeerServers.Stund)]
    public async Task V2raySocksInbound_RelaysWithAMappingPerDestination()
    {
        int port = FreePorts.TcpAndUdp();
        await using var v2ray = await PeerServers.StartV2rayAsync(port);
        var run = await RunWithEchoAndStunAsync($"127.0.0.1:{port}");

        run.AssertMatches("v2ray");
        Assert.StartsWith(DoctorExpectations.Nat["v2ray"], run.Saw("nat"), StringComparison.Ordinal);
    }

    [PeerFact(PeerServers.SsLocal, PeerServers.SsServer, PeerServers.Stund)]
    public async Task ShadowsocksLocalInFrontOfServer_Relays()
    {
        int port = FreePorts.TcpAndUdp();
        var (server, local) = await PeerServers.StartShadowsocksAsync(port);
        await using (server)
        await using (local)
        {
            var run = await RunWithEchoAndStunAsync($"127.0.0.1:{port}");

            run.AssertMatches("shadowsocks");
            Assert.StartsWith(DoctorExpectations.Nat["shadowsocks"], run.Saw("nat"), StringComparison.Ordinal);
        }
    }

    private static async Task<DoctorRun> RunWithEchoAndStunAsync(string proxy)
    {
        await using var echo = UdpResponder.Echo();
        int stunPort = FreePorts.TcpAndUdp();
        await using var stund = await PeerServers.StartStundAsync(stunPort);
        return await DoctorRun.InProcessAsync(null, "--proxy", proxy, "--target", $"127.0.0.1:{echo.Port}", "--stun", $"127.0.0.1:{stunPort}");
    }
}
