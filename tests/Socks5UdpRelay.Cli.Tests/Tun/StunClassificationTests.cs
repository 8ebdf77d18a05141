using Socks5UdpRelay.Tests.Shared.Infrastructure;

namespace Socks5UdpRelay.Cli.Tests.Tun;

/// <summary>
/// Debian's <c>stun</c> client (stun-client 0.97, the RFC 3489 NAT-type test), unmodified, in the
/// client namespace behind <c>s5nc tun</c>, against <c>stund</c> on the target's two addresses: it
/// names each <c>Relay:Filtering</c> mode of the server (README "NAT behaviour", RFC 4787 REQ-8)
/// and sees it hairpin (REQ-9). Its line ends in a tab; its exit code is the classification's bits
/// (0x02, 0x04, 0x06 for the three filters; +0x10 without hairpin, +0x01 when ports are preserved).
/// </summary>
[Collection(TunCollection.Name)]
public sealed class StunClassificationTests(StunLab lab) : IClassFixture<StunLab>
{
    [RootFact]
    public void Direct_TheRelayOnlyRoutes_StunSeesNoNat()
    {
        Assert.True(PrimaryLine(lab.Direct) == "Primary: Open\t" && lab.Direct.ExitCode == 0x01, lab.Direct.ToString());
    }

    [RootTheory]
    [InlineData("endpoint-independent", "Independent Mapping, Independent Filter", 0x02)]
    [InlineData("address-dependent", "Independent Mapping, Address Dependent Filter", 0x04)]
    [InlineData("address-and-port-dependent", "Independent Mapping, Port Dependent Filter", 0x06)]
    public async Task ThroughTheGateway_StunNamesTheFiltering_AndHairpins(string filtering, string classification, int exitCode)
    {
        // The relay's outside address is routed into the device too: stun's hairpin test sends to the
        // mapped address it learned, which would otherwise go straight to the relay host, around the proxy.
        var (stun, log) = await RunBehindTheGatewayAsync(filtering, [.. TunLab.Routes, $"{lab.Topology.RelayEgress.V4}/32"]);

        // "random port": stun binds in 16384-32767, the relay's mapping port comes from the kernel's
        // ephemeral range (32768-60999), so the two never coincide.
        AssertPrimary($"Primary: {classification}, random port, will hairpin\t", exitCode, stun, log);
    }

    [RootFact]
    public async Task WithOnlyTheTargetRouted_TheHairpinProbeGoesAroundTheProxy()
    {
        // Even with endpoint-independent filtering: the probe reaches the relay host from the client's
        // own address, and what the relay sends back as that source the client's kernel drops as martian.
        var (stun, log) = await RunBehindTheGatewayAsync("endpoint-independent", TunLab.Routes);

        AssertPrimary("Primary: Independent Mapping, Independent Filter, random port, no hairpin\t", 0x12, stun, log);
    }

    /// <summary>Starts the gateway to the server of <paramref name="filtering"/> for <paramref name="routes"/>, runs stun, stops the gateway.</summary>
    private async Task<(ProgramOutput Stun, string GatewayLog)> RunBehindTheGatewayAsync(string filtering, IEnumerable<string> routes)
    {
        var tun = await lab.StartTunAsync(["--proxy", lab.ProxyFor(filtering), .. routes.SelectMany(r => new[] { "--route", r })]);
        ProgramOutput stun;
        try
        {
            stun = lab.RunStun();
        }
        finally
        {
            await TunLab.StopAsync(tun);
        }

        return (stun, tun.Output);
    }

    private void AssertPrimary(string expected, int exitCode, ProgramOutput stun, string gatewayLog) =>
        Assert.True(PrimaryLine(stun) == expected && stun.ExitCode == exitCode,
            $"expected `{expected}` and exit {exitCode}; stun printed:\n{stun}\nthe gateway:\n{gatewayLog}\nstund:\n{lab.StunServer.Output}");

    private static string? PrimaryLine(ProgramOutput stun) =>
        stun.Stdout.Split('\n').FirstOrDefault(line => line.StartsWith("Primary: ", StringComparison.Ordinal));
}
