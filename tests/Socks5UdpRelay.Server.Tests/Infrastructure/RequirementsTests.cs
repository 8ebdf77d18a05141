using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Infrastructure;

/// <summary>The skip decision of [RootFact]/[RootTheory]/[RequiresDanteFact], checked without needing root or its absence.</summary>
public sealed class RequirementsTests
{
    [Fact]
    public void SkipReason_NothingMissing_Runs() =>
        Assert.Null(Requirements.SkipReason(missing: null, requireAll: false));

    [Fact]
    public void SkipReason_SomethingMissing_SkipsWithTheReasonAndTheWayOut()
    {
        var reason = Requirements.SkipReason("network namespaces need root (effective uid is 1000)", requireAll: false);

        Assert.NotNull(reason);
        Assert.Contains("need root", reason, StringComparison.Ordinal);
        Assert.Contains("SOCKS5UDPRELAY_REQUIRE_ALL=1", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void SkipReason_SomethingMissingButRequireAll_RunsSoTheTestFailsLoudly() =>
        Assert.Null(Requirements.SkipReason("network namespaces need root", requireAll: true));

    [Theory]
    [InlineData("1", true)]
    [InlineData(" 1 ", true)]
    [InlineData(null, false)]
    [InlineData("", false)]
    [InlineData("0", false)]
    [InlineData("true", false)]
    public void IsRequireAll_OnlyForOne(string? value, bool expected) =>
        Assert.Equal(expected, Requirements.IsRequireAll(value));

    [Fact]
    public void MissingReason_NotRoot_SaysSoWithoutTryingNamespaces()
    {
        var reason = Requirements.NetworkNamespacesMissingReason(true, 65534, [], () => throw new InvalidOperationException("must not probe"));

        Assert.Equal("network namespaces need root (effective uid is 65534)", reason);
    }

    [Fact]
    public void MissingReason_ToolMissing_NamesIt()
    {
        var reason = Requirements.NetworkNamespacesMissingReason(true, 0, ["nft"], () => null);

        Assert.Contains("nft", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingReason_NetnsAddFails_CarriesTheError()
    {
        var reason = Requirements.NetworkNamespacesMissingReason(true, 0, [], () => "mount --make-shared /run/netns failed: Operation not permitted");

        Assert.Contains("`ip netns add` failed: mount --make-shared", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingReason_NotLinux_Skips() =>
        Assert.NotNull(Requirements.NetworkNamespacesMissingReason(false, 0, [], () => null));

    [Fact]
    public void MissingReason_AllPresent_Runs() =>
        Assert.Null(Requirements.NetworkNamespacesMissingReason(true, 0, [], () => null));

    [Fact]
    public void Attributes_UseTheProcessWideDecision()
    {
        Assert.Equal(Requirements.NetworkNamespacesSkipReason, new RootFactAttribute().Skip);
        Assert.Equal(Requirements.NetworkNamespacesSkipReason, new RootTheoryAttribute().Skip);
        Assert.Equal(Requirements.DanteSkipReason, new RequiresDanteFactAttribute().Skip);
        Assert.Equal(Requirements.SkipReason(Requirements.ProgramsMissing(["/nonexistent/peer"], File.Exists), Requirements.RequireAll), new PeerFactAttribute("/nonexistent/peer").Skip);
    }

    [Fact]
    public void ProgramsMissing_NamesEachMissingOneAndTheirPackages()
    {
        var reason = Requirements.ProgramsMissing(["/usr/sbin/stund", "/usr/bin/v2ray", "/usr/bin/microsocks"], p => p == "/usr/bin/v2ray");

        Assert.StartsWith("/usr/sbin/stund, /usr/bin/microsocks not installed (apt-get install ", reason, StringComparison.Ordinal);
        Assert.Contains("stun-server", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ProgramsMissing_AllPresent_Runs() =>
        Assert.Null(Requirements.ProgramsMissing(["/usr/sbin/stund"], _ => true));

    [Theory]
    [InlineData("s5t1234x1-relay", 1234)]
    [InlineData("s5t99x12-r1", 99)]
    [InlineData("s5t42xprobe", 42)]
    [InlineData("s5t-relay", null)]
    [InlineData("other1234x1-relay", null)]
    [InlineData("s5t12345", null)]
    public void OwnerOf_ReadsThePidOfOurNames(string name, int? expected) =>
        Assert.Equal(expected, NamespaceNames.OwnerOf(name));

    [Fact]
    public void IsLeftover_OnlyOursWithADeadOwner()
    {
        Assert.True(NamespaceNames.IsLeftover("s5t1234x1-relay", _ => false));
        Assert.False(NamespaceNames.IsLeftover("s5t1234x1-relay", _ => true));
        Assert.False(NamespaceNames.IsLeftover("someone-elses", _ => false));
    }

    [Fact]
    public void NextPrefix_IsUniqueAndOwnedByThisProcess()
    {
        var first = NamespaceNames.NextPrefix();
        var second = NamespaceNames.NextPrefix();

        Assert.NotEqual(first, second);
        Assert.Equal(Environment.ProcessId, NamespaceNames.OwnerOf(first));
        Assert.EndsWith("-", first, StringComparison.Ordinal);
    }
}
