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
        string[] routes = [.. TunLab.Routes, $"{lab.Topology.RelayEgress.V4}/32"];
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

        // "random port": stun binds in 16384-32767, the relay's mapping port comes from the kernel's
        // ephemeral range (32768-60999), so the two never coincide.
        string expected = $"Primary: {classification}, random port, will hairpin\t";
        Assert.True(PrimaryLine(stun) == expected && stun.ExitCode == exitCode,
            $"expected `{expected}` and exit {exitCode}; stun printed:\n{stun}\nthe gateway:\n{tun.Output}\nstund:\n{lab.StunServer.Output}");
    }

    private static string? PrimaryLine(ProgramOutput stun) =>
        stun.Stdout.Split('\n').FirstOrDefault(line => line.StartsWith("Primary: ", StringComparison.Ordinal));
}
