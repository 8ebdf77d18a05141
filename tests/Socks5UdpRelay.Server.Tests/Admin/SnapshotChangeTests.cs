using System.Net;
using Socks5UdpRelay.Server.Admin;
using Socks5UdpRelay.Server.Relay;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Admin;

/// <summary>What the stream counts as a change: traffic, destinations, errors; not the durations that only grow with time.</summary>
public sealed class SnapshotChangeTests
{
    private static readonly ErrorSnapshot Error = new("port-unreachable", "ECONNREFUSED", "icmp 3/3", "192.0.2.1", null, 64, TimeSpan.FromSeconds(1), 1);

    private static readonly DestinationSnapshot Destination = new("svc.test:53", "192.0.2.1:53", null, 2, 20, 1, 10, TimeSpan.FromSeconds(3), Error);

    private static readonly AssociationSnapshot Base = new(
        7, "alice", IPEndPoint.Parse("127.0.0.1:5000"), IPEndPoint.Parse("127.0.0.1:5001"), IPEndPoint.Parse("127.0.0.1:40000"), "udp", "address-dependent",
        TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(9), 2, 20, 1, 10, 0, new Dictionary<string, long> { ["rate-limit"] = 1 },
        [new MappingSnapshot(0, 41000, 1, [Destination])]);

    [Fact]
    public void OnlyTimePassing_IsNoChange()
    {
        var later = Base with
        {
            Age = TimeSpan.FromSeconds(11), IdleTimeLeft = TimeSpan.FromSeconds(500),
            Drops = new Dictionary<string, long> { ["rate-limit"] = 1 },
            Mappings = [new MappingSnapshot(0, 41000, 1, [Destination with { LastSeen = TimeSpan.FromSeconds(4), LastError = Error with { Ago = TimeSpan.FromSeconds(2) } }])],
        };
        Assert.True(SnapshotChange.Same(Base, later));
    }

    private static readonly Dictionary<string, AssociationSnapshot> s_changes = new()
    {
        { "a datagram from the client", Base with { DatagramsFromClient = 3, BytesFromClient = 30 } },
        { "a reply", Base with { DatagramsToClient = 2 } },
        { "an unsolicited datagram", Base with { InboundRelayed = 1 } },
        { "a drop", Base with { Drops = new Dictionary<string, long> { ["rate-limit"] = 2 } } },
        { "a drop of another reason", Base with { Drops = new Dictionary<string, long> { ["policy"] = 1 } } },
        { "a new mapping", Base with { Mappings = [.. Base.Mappings, new MappingSnapshot(1, 41001, 0, [])] } },
        { "a new destination", Base with { Mappings = [new MappingSnapshot(0, 41000, 1, [Destination, Destination with { Address = "192.0.2.2:53" }])] } },
        { "a TTL set", Base with { Mappings = [new MappingSnapshot(0, 41000, 1, [Destination with { Ttl = 5 }])] } },
        { "a datagram to a destination", Base with { Mappings = [new MappingSnapshot(0, 41000, 1, [Destination with { DatagramsSent = 3 }])] } },
        { "the same error again", Base with { Mappings = [new MappingSnapshot(0, 41000, 1, [Destination with { LastError = Error with { Count = 2 } }])] } },
        { "another error", Base with { Mappings = [new MappingSnapshot(0, 41000, 1, [Destination with { LastError = Error with { Kind = "host-unreachable" } }])] } },
        { "a first error", Base with { Mappings = [new MappingSnapshot(0, 41000, 1, [Destination with { LastError = null }])] } },
    };

    public static TheoryData<string> Changes => [.. s_changes.Keys];

    [Theory]
    [MemberData(nameof(Changes))]
    public void Traffic_Destinations_AndErrors_AreChanges(string what)
    {
        var changed = s_changes[what];
        Assert.False(SnapshotChange.Same(Base, changed), what);
        Assert.False(SnapshotChange.Same(changed, Base), what);
    }
}
