
using Socks5UdpRelay.Tests.Shared.Infrastructure;

namespace Socks5UdpRelay.Cli.Tests.Doctor;

/// <summary>
/// What loopback cannot show: UDP to the relay dropped on the way, and a path MTU smaller than
/// the relay's link beyond it (<see cref="DoctorTopologyFixture"/>). Needs root; skips otherwise,
/// and fails instead under <c>SOCKS5UDPRELAY_REQUIRE_ALL=1</c>.
/// </summary>
public sealed class DoctorNamespaceTests(DoctorTopologyFixture fixture) : IClassFixture<DoctorTopologyFixture>
{
    [RootFact]
    public async Task UdpToRelayDropped_WithNotices_DatagramsDoNotReachTheRelay()
    {
        var run = await fixture.RunDoctorAsync("--proxy", fixture.DroppedProxy, "--target", fixture.Target);

        run.AssertMatches("ours-udp-dropped");
        Assert.Contains("datagrams do not reach the relay", run.Saw("datagrams"), StringComparison.Ordinal);
        Assert.Contains("Relay:UdpPortRange", run.Fix("datagrams"), StringComparison.Ordinal);
    }

    [RootFact]
    public async Task UdpToRelayDropped_WithoutNotices_UnknownNamesBothCauses()
    {
        var run = await fixture.RunDoctorAsync("--proxy", fixture.DroppedSilentProxy, "--target", fixture.Target);

        run.AssertMatches("ours-udp-dropped-notices-off");
        string saw = run.Saw("datagrams");
        Assert.Contains("dropped on the way", saw, StringComparison.Ordinal);
        Assert.Contains("the server drops the datagrams", saw, StringComparison.Ordinal);
    }

    [RootFact]
    public async Task PathMtu_SmallLinkBeyondTheRelay_FragmentationNeededWithItsMtu()
    {
        var run = await fixture.RunDoctorAsync("--proxy", fixture.OpenProxy, "--target", fixture.Target);

        run.AssertMatches("ours-path-mtu");
        var details = run.Stage("mtu").GetProperty("details");
        Assert.Equal(1280, details.GetProperty("frag_needed_mtu").GetInt32());
        Assert.Contains($"reported by {fixture.Topology.Router1.V4}", run.Saw("mtu"), StringComparison.Ordinal);
    }
}
