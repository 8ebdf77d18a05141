using System.Net;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Addressing;
using Socks5UdpRelay.Server.Relay;
using Socks5UdpRelay.Server.Tests.Fakes;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Relay;

/// <summary>The client side's gate, alone: source filter, header, budget, FRAG, size, in that order (README, "Association rules").</summary>
public sealed class ClientIngressTests
{
    private static readonly IPAddress Client = IPAddress.Parse("192.0.2.10");
    private static readonly IPEndPoint Target = new(IPAddress.Parse("198.51.100.7"), 53);

    [Fact]
    public void FirstAcceptedDatagram_LocksThePort_OthersFromTheSameAddressAreForeign()
    {
        var ingress = Ingress(fixedPort: 0);
        Assert.Equal(IngressVerdict.Accepted, Admit(ingress, From(5000), AssociationHarness.Datagram(Target, "a"u8), out _));
        Assert.Equal(IngressVerdict.ForeignSource, Admit(ingress, From(5001), AssociationHarness.Datagram(Target, "b"u8), out _));
        Assert.Equal(IngressVerdict.Accepted, Admit(ingress, From(5000), AssociationHarness.Datagram(Target, "c"u8), out _));
        Assert.Equal(5000, ingress.Filter.ExpectedPort);
    }

    [Fact]
    public void FixedPort_RefusesEveryOtherPort_FromTheFirstDatagram()
    {
        var ingress = Ingress(fixedPort: 6000);
        Assert.Equal(IngressVerdict.ForeignSource, Admit(ingress, From(5000), AssociationHarness.Datagram(Target, "a"u8), out _));
        Assert.Equal(IngressVerdict.Accepted, Admit(ingress, From(6000), AssociationHarness.Datagram(Target, "b"u8), out _));
    }

    [Fact]
    public void AnotherAddress_IsForeign_EvenBeforeAnyDatagramLockedThePort()
    {
        var ingress = Ingress(fixedPort: 0);
        var stranger = new IPEndPoint(IPAddress.Parse("192.0.2.99"), 5000);
        Assert.Equal(IngressVerdict.ForeignSource, Admit(ingress, stranger, AssociationHarness.Datagram(Target, "a"u8), out _));
        Assert.Equal(0, ingress.Filter.ExpectedPort); // a stranger never fixes the client's port
        Assert.True(ingress.Filter.Client.IsEmpty);
    }

    [Theory]
    [InlineData(new byte[] { })]
    [InlineData(new byte[] { 0, 0 })]
    [InlineData(new byte[] { 0, 0, 0, 9, 1, 2, 3, 4, 0, 53 })] // unknown ATYP
    [InlineData(new byte[] { 0, 0, 0, 1, 1, 2, 3 })] // address cut short
    [InlineData(new byte[] { 0, 0, 0, 3, 0, 0, 53 })] // empty name
    public void Malformed_IsSaidSo_AfterTheSourceWasAccepted(byte[] datagram)
        => Assert.Equal(IngressVerdict.Malformed, Admit(Ingress(0), From(5000), datagram, out _));

    [Fact]
    public void Fragment_IsRefused_WithItsDestinationNamed()
    {
        byte[] datagram = AssociationHarness.Datagram(Target, "x"u8);
        datagram[2] = 1; // FRAG
        Assert.Equal(IngressVerdict.Fragmented, Admit(Ingress(0), From(5000), datagram, out var parsed));
        Assert.Equal(AddressType.IPv4, parsed.Destination.Type);
        Assert.Equal(53, parsed.Destination.Port);
    }

    [Fact]
    public void PayloadOverTheLimit_IsTooLarge_AtTheLimitIsAccepted()
    {
        var ingress = Ingress(0, maxPayload: 100);
        Assert.Equal(IngressVerdict.Accepted, Admit(ingress, From(5000), AssociationHarness.Datagram(Target, new byte[100]), out var parsed));
        Assert.Equal(100, parsed.Payload.Length);
        Assert.Equal(IngressVerdict.TooLarge, Admit(ingress, From(5000), AssociationHarness.Datagram(Target, new byte[101]), out _));
    }

    [Fact]
    public void Budget_RefusesPastTheBurst_AndRefillsWithTime()
    {
        var ingress = new ClientIngress(new ClientSourceFilter(Client, 0), new TokenBucket(rate: 10, burst: 3, now: 0, frequency: 1000), 65_000);
        byte[] datagram = AssociationHarness.Datagram(Target, "x"u8);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(IngressVerdict.Accepted, ingress.Admit(datagram, Raw(From(5000)), now: 0, out _));
        }

        Assert.Equal(IngressVerdict.RateLimited, ingress.Admit(datagram, Raw(From(5000)), now: 0, out _));
        Assert.Equal(IngressVerdict.RateLimited, ingress.Admit(datagram, Raw(From(5000)), now: 50, out _)); // half a token
        Assert.Equal(IngressVerdict.Accepted, ingress.Admit(datagram, Raw(From(5000)), now: 100, out _)); // one token per 100 ms
    }

    [Fact]
    public void Accepted_CarriesTheDestinationAndThePayload()
    {
        Assert.Equal(IngressVerdict.Accepted, Admit(Ingress(0), From(5000), AssociationHarness.Datagram("name.test", 123, "hello"u8), out var parsed));
        Assert.Equal(AddressType.DomainName, parsed.Destination.Type);
        Assert.Equal("name.test", parsed.Destination.GetHostName());
        Assert.Equal(123, parsed.Destination.Port);
        Assert.Equal("hello"u8.ToArray(), parsed.Payload.ToArray());
    }

    private static ClientIngress Ingress(ushort fixedPort, int maxPayload = 65_000)
        => new(new ClientSourceFilter(Client, fixedPort), new TokenBucket(rate: 0, burst: 0, now: 0, frequency: 1), maxPayload);

    private static IPEndPoint From(int port) => new(Client, port);

    private static IngressVerdict Admit(ClientIngress ingress, IPEndPoint from, byte[] datagram, out ClientDatagram parsed)
        => ingress.Admit(datagram, Raw(from), 0, out parsed);

    private static byte[] Raw(IPEndPoint endPoint)
    {
        byte[] raw = new byte[RawSocketAddress.MaxLength];
        return raw[..RawSocketAddress.Write(raw, endPoint.Address, endPoint.Port)];
    }
}
