using System.Text.RegularExpressions;
using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Socks5UdpRelay.Cli.Tests.Doctor;
using Socks5UdpRelay.Cli.Tests.Fixtures;

namespace Socks5UdpRelay.Cli.Tests;

/// <summary>
/// The case UDP over TCP is for: UDP from the client to the proxy's relay dropped by a firewall
/// (the nftables rule on the relay host of <see cref="DoctorTopologyFixture"/>, which drops the
/// relay ports of its <see cref="DoctorTopologyFixture.DroppedProxy"/> and goes with its
/// namespaces) while TCP passes. <c>s5nc send</c> and <c>probe</c> with the default
/// <c>--udp-over-tcp=auto</c> fall back on their own, say so once, and still get the echo and tell
/// a closed port; with <c>=off</c> they get nothing, as documented. s5nc runs as a process in the
/// client namespace.
/// </summary>
public sealed partial class UdpOverTcpNamespaceTests(DoctorTopologyFixture fixture) : IClassFixture<DoctorTopologyFixture>
{
    private const int ClosedPort = 9;

    private string Target => fixture.Topology.Target.V4.ToString();

    [RootFact]
    public async Task Send_Auto_FallsBackOnce_AndGetsTheEcho()
    {
        var (exit, output) = await RunS5ncAsync("send", Target, $"{DoctorTopologyFixture.EchoPort}", "--data", "through the firewall\n", "--wait", "2");

        Assert.True(exit == 0, output);
        Assert.Contains("through the firewall\n", output, StringComparison.Ordinal);
        Assert.Single(FallbackRegex().Matches(output));
        Assert.Contains($"to the relay {fixture.Topology.Relay.V4}:", output, StringComparison.Ordinal);
    }

    [RootFact]
    public async Task Probe_Auto_FallsBackOnce_AndTellsOpenFromClosed()
    {
        var (exit, output) = await RunS5ncAsync("probe", Target, $"{DoctorTopologyFixture.EchoPort},{ClosedPort}", "--json", "-r", "0", "-t", "2");

        Assert.True(exit == 0, output);
        Assert.Single(FallbackRegex().Matches(output));
        Assert.Contains($"{{\"host\":\"{Target}\",\"port\":{DoctorTopologyFixture.EchoPort},\"state\":\"open\",\"reason\":\"reply\"", output, StringComparison.Ordinal);
        Assert.Contains($"{{\"host\":\"{Target}\",\"port\":{ClosedPort},\"state\":\"closed\",\"reason\":\"port-unreachable\",\"from\":\"{Target}\"", output, StringComparison.Ordinal);
    }

    [RootFact]
    public async Task Off_SendGetsNoEcho_ProbeCannotTellAClosedPort()
    {
        var send = await RunS5ncAsync("send", "--udp-over-tcp=off", Target, $"{DoctorTopologyFixture.EchoPort}", "--data", "lost\n", "--wait", "1");
        var probe = await RunS5ncAsync("probe", "--udp-over-tcp=off", Target, $"{ClosedPort}", "--json", "-r", "0", "-t", "0.5");

        // As nc -u: nothing came back, which is no error of its own.
        Assert.True(send.Exit == 0, send.Output);
        Assert.Equal(string.Empty, send.Output);
        Assert.True(probe.Exit == 0, probe.Output);
        Assert.Contains($"{{\"host\":\"{Target}\",\"port\":{ClosedPort},\"state\":\"open|filtered\",\"reason\":\"silence\"", probe.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("falling back", send.Output + probe.Output, StringComparison.Ordinal);
    }

    [RootFact]
    public async Task Auto_ServerWithoutNotices_NeverFallsBack_AndSaysWhyWithVerbose()
    {
        var (exit, output) = await RunS5ncThroughAsync(fixture.DroppedSilentProxy, "send", "-v", Target, $"{DoctorTopologyFixture.EchoPort}", "--data", "lost\n", "--wait", "1");

        Assert.True(exit == 0, output);
        Assert.Contains("sent no NOTICES greeting within", output, StringComparison.Ordinal);
        Assert.Contains("--udp-over-tcp=auto cannot tell whether UDP reaches its relay (silence proves nothing there), and stays with UDP.", output, StringComparison.Ordinal);
        Assert.DoesNotContain("lost", output, StringComparison.Ordinal);
        Assert.Empty(FallbackRegex().Matches(output));
    }

    [GeneratedRegex(@"s5nc: no notice answered a datagram sent to the relay [0-9.]+:[0-9]+ within [0-9.]+ s \(UDP to it looks blocked\): falling back to UDP over TCP \(--udp-over-tcp=off keeps UDP\)\.")]
    private static partial Regex FallbackRegex();

    /// <summary>Runs s5nc against the proxy whose relay ports are dropped (or <paramref name="proxy"/>), as a process in the client namespace; stdout and stderr interleaved.</summary>
    private Task<(int Exit, string Output)> RunS5ncAsync(params string[] args) => RunS5ncThroughAsync(fixture.DroppedProxy, args);

    private async Task<(int Exit, string Output)> RunS5ncThroughAsync(string proxy, params string[] args)
    {
        await using var s5nc = fixture.Topology.StartDotNet(fixture.Topology.ClientNamespace, CliRun.S5ncDll, [.. args, "--proxy", proxy],
            new Dictionary<string, string?> { ["SOCKS5_PROXY"] = null, ["SOCKS5_PASSWORD"] = null });
        s5nc.StandardInput.Close();
        int exit = await s5nc.WaitForExitAsync();
        return (exit, s5nc.Output);
    }
}
