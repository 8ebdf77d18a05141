using System.Net;
using Socks5UdpRelay.Cli.Doctor;
using Socks5UdpRelay.Client;

namespace Socks5UdpRelay.Cli.Tests.Doctor;

/// <summary>The decisions doctor makes without traffic: the relay address plan, the MTU search, NAT names, target parsing, exit codes.</summary>
public sealed class DoctorPlanningTests
{
    private static readonly IPAddress PublicProxy = IPAddress.Parse("198.51.100.7");

    [Fact]
    public void ZeroBnd_IsTheProxysOwnAddress()
    {
        var plan = RelayAddressCheck.Plan(PublicProxy, new Socks5Endpoint(IPAddress.Any, 40000), speaksNotices: false);

        Assert.Null(plan.Problem);
        Assert.Equal(new IPEndPoint(PublicProxy, 40000), plan.Relay);
        Assert.Contains("taken as the proxy's own address", plan.Note, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("127.0.0.1", "loopback")]
    [InlineData("172.17.0.2", "private")]
    [InlineData("10.1.2.3", "private")]
    [InlineData("fd00::5", "private")]
    public void InsideAddressFromAPublicProxy_FailsWithTheProxyAsFallback(string bnd, string word)
    {
        var proxy = IPAddress.Parse(bnd).AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? IPAddress.Parse("2001:db8::7") : PublicProxy;

        var plan = RelayAddressCheck.Plan(proxy, new Socks5Endpoint(IPAddress.Parse(bnd), 40000), speaksNotices: true);

        Assert.Equal(Verdict.Fail, plan.Problem!.Verdict);
        Assert.Equal(FailureSide.Proxy, plan.Problem.Side);
        Assert.Contains(word, plan.Problem.Saw, StringComparison.Ordinal);
        Assert.Contains("Relay:AdvertisedAddress", plan.Problem.Fix, StringComparison.Ordinal);
        Assert.Equal(new IPEndPoint(proxy, 40000), plan.Fallback);
    }

    [Fact]
    public void PrivateAddressFromAPrivateProxy_IsFine_AndTheGenericFixNamesOtherServers()
    {
        var plan = RelayAddressCheck.Plan(IPAddress.Parse("10.0.0.1"), new Socks5Endpoint(IPAddress.Parse("10.0.0.2"), 40000), speaksNotices: false);

        Assert.Null(plan.Problem);
        Assert.Contains("Dante: external", RelayAddressCheck.AdvertiseFix(false, PublicProxy), StringComparison.Ordinal);
    }

    [Fact]
    public void OtherFamily_IsAWarningWithTheProxyAsFallback_PortZeroFails()
    {
        var family = RelayAddressCheck.Plan(PublicProxy, new Socks5Endpoint(IPAddress.Parse("2001:db8::7"), 40000), speaksNotices: false);
        var portZero = RelayAddressCheck.Plan(PublicProxy, new Socks5Endpoint(PublicProxy, 0), speaksNotices: false);

        Assert.Null(family.Problem);
        Assert.NotNull(family.Fallback);
        Assert.Contains("IPv6", family.Note, StringComparison.Ordinal);
        Assert.Null(portZero.Relay);
        Assert.Equal(Verdict.Fail, portZero.Problem!.Verdict);
    }

    [Theory]
    [InlineData(0, 65_000, 65_000)]
    [InlineData(20, 65_497, 1_472)]
    [InlineData(20, 65_497, 2_038)]
    [InlineData(20, 65_497, 20)]
    public void MtuSearch_FindsTheLimitExactly_WithinItsStepBudget(int knownGood, int largest, int limit)
    {
        var search = new MtuSearch(knownGood, largest);

        while (search.Next() is int size)
        {
            search.Report(size, size <= limit);
        }

        Assert.Equal(limit, search.Largest);
        Assert.Equal(limit == largest ? null : limit + 1, search.SmallestLost);
        Assert.InRange(search.Steps, 1, MtuSearch.MaxSteps);
    }

    [Theory]
    [InlineData(true, true, "endpoint-independent")]
    [InlineData(false, true, "address-dependent")]
    [InlineData(false, false, "address-and-port-dependent")]
    public void Filtering_FromWhichChangeRequestsWereAnswered(bool otherAddressAndPort, bool otherPort, string expected)
        => Assert.Equal(expected, NatBehaviour.Filtering(otherAddressAndPort, otherPort).Name());

    [Fact]
    public void Mapping_FromTheMappedAddresses_AndTheClassicNames()
    {
        var a = new IPEndPoint(IPAddress.Parse("192.0.2.1"), 1000);
        var b = new IPEndPoint(IPAddress.Parse("192.0.2.1"), 2000);
        var c = new IPEndPoint(IPAddress.Parse("192.0.2.1"), 3000);

        Assert.Equal(NatDependence.EndpointIndependent, NatBehaviour.Mapping(a, a, null));
        Assert.Equal(NatDependence.AddressDependent, NatBehaviour.Mapping(a, b, b));
        Assert.Equal(NatDependence.AddressAndPortDependent, NatBehaviour.Mapping(a, b, c));
        Assert.Equal("port-restricted cone", NatBehaviour.ClassicName(NatDependence.EndpointIndependent, NatDependence.AddressAndPortDependent));
        Assert.Equal("symmetric", NatBehaviour.ClassicName(NatDependence.AddressAndPortDependent, NatDependence.EndpointIndependent));
    }

    [Theory]
    [InlineData("192.0.2.7:7", null, "192.0.2.7", 7)]
    [InlineData("[2001:db8::7]:7", null, "2001:db8::7", 7)]
    [InlineData("echo.example:7", null, "echo.example", 7)]
    [InlineData("192.0.2.53", 53, "192.0.2.53", 53)]
    [InlineData("2001:db8::53", 53, "2001:db8::53", 53)]
    [InlineData("dns.example", 53, "dns.example", 53)]
    public void Target_ParsesEveryForm(string text, int? defaultPort, string host, int port)
    {
        var target = DoctorTarget.TryParse(text, defaultPort, out string? error);

        Assert.Null(error);
        Assert.Equal((host, port), (target!.Host, target.Port));
    }

    [Theory]
    [InlineData("192.0.2.7", null)]
    [InlineData("2001:db8::7", null)]
    [InlineData("host:0", null)]
    [InlineData("host:70000", null)]
    [InlineData("bad host:7", null)]
    public void Target_BadTextSaysWhy(string text, int? defaultPort)
    {
        Assert.Null(DoctorTarget.TryParse(text, defaultPort, out string? error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void ExitCode_IsTheFirstFailingStagesSide()
    {
        Assert.Equal(0, DoctorReport.ExitCode(null));
        Assert.Equal(1, DoctorReport.ExitCode(StageResult.Fail(DoctorStage.Datagrams, FailureSide.Path, "x")));
        Assert.Equal(3, DoctorReport.ExitCode(StageResult.Unknown(DoctorStage.Datagrams, FailureSide.Proxy, "x")));
        Assert.Equal(4, DoctorReport.ExitCode(StageResult.Fail(DoctorStage.Authentication, FailureSide.Authentication, "x")));
    }

    [Fact]
    public void Json_OneObjectPerStage_WithDetails()
    {
        string json = DoctorReport.ToJson(StageResult.Ok(DoctorStage.Mtu, "it's fine", new Dictionary<string, object?> { ["largest_payload"] = 1472, ["frag_needed_mtu"] = null }));

        Assert.Equal("""{"number":9,"stage":"mtu","verdict":"ok","saw":"it's fine","fix":null,"details":{"largest_payload":1472,"frag_needed_mtu":null}}""", json);
    }
}
