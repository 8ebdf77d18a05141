using System.Net;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.UdpOverTcp;

/// <summary>
/// A malformed frame ends its association, logged with the reason, nothing sent (README, "UDP over
/// TCP"): each kind of the README's list, sent as the few bytes that show it and no DATA, so the
/// server must see it without waiting for more. Another association beside it goes on.
/// </summary>
public sealed class UdpOverTcpMalformedFrameTests
{
    public static TheoryData<string, string, bool> Cases => new()
    {
        { "DATLEN over Relay:MaxDatagramSize (1000)", "03 E9", false },
        { "DATLEN over Relay:MaxDatagramSize, opted in", "03 E9", true },
        { "unknown ATYP", "00 05 0A 02", false },
        { "unknown ATYP with the mapped flag, opted in", "00 05 0C 82", true },
        { "a name of length 0", "00 05 07 03 00", false },
        { "HDRLEN 9 for IPv4", "00 05 09 01", false },
        { "HDRLEN 10 for IPv6", "00 05 0A 04", false },
        { "HDRLEN 15 for a 9-byte name", "00 05 0F 03 09", false },
        { "HDRLEN 10 for a mapped IPv4 frame, opted in", "00 05 0A 81", true },
        { "HDRLEN 5 for a control frame, opted in", "00 05 05 FF", true },
        { "a control frame without the opt-in", "00 04 04 FF", false },
        { "a mapped frame without the opt-in", "00 05 0C 81", false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task MalformedFrame_EndsItsAssociation_Logged_NothingSent_OthersUnaffected(string what, string hex, bool optIn)
    {
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Relay:MaxDatagramSize"] = "1000" });
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var bystander = await RawUdpOverTcp.OpenAsync(server.EndPoint);
        await using var client = await RawUdpOverTcp.OpenAsync(server.EndPoint, optIn);
        await client.SendAsync(HevFrame.Datagram(echo.EndPoint, "valid first"u8));
        Assert.Equal("valid first"u8.ToArray(), (await client.ReadDatagramAsync()).Data);

        await client.SendAsync(Convert.FromHexString(hex.Replace(" ", string.Empty, StringComparison.Ordinal)));

        Assert.True(await client.ClosedByServerAsync(), what);
        await Eventually.TrueAsync(() => server.Endpoints.OpenAssociations == 1);
        Assert.Contains(server.Logs.Events, e => e.Message.Contains("UDP over TCP ended by a malformed frame", StringComparison.Ordinal));
        await bystander.SendAsync(HevFrame.Datagram(echo.EndPoint, "still here"u8));
        Assert.Equal("still here"u8.ToArray(), (await bystander.ReadDatagramAsync()).Data);
    }

    [Fact]
    public async Task MalformedFrameBehindValidOnesInOneWrite_TheValidOnesAreRelayedFirst()
    {
        await using var server = await RelayServer.StartAsync();
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        await using var client = await RawUdpOverTcp.OpenAsync(server.EndPoint);

        await client.SendAsync(HevFrame.Datagram(echo.EndPoint, "a"u8), HevFrame.Datagram(echo.EndPoint, "b"u8), [0x00, 0x01, 0x0A, 0x09]);

        await Eventually.TrueAsync(() => echo.Received == 2);
        await server.WaitForNoAssociationsAsync();
    }
}
