using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Fixtures;

/// <summary>
/// A UDP association opened with raw bytes: the control connection and a client UDP socket,
/// for tests that need to send what the client library never would.
/// </summary>
internal sealed class RawAssociation : IAsyncDisposable
{
    internal RawAssociation(RawSocks control, Socket udp, IPEndPoint relay)
    {
        Control = control;
        Udp = udp;
        Relay = relay;
    }

    public RawSocks Control { get; }

    public Socket Udp { get; }

    public IPEndPoint Relay { get; }

    public static async Task<RawAssociation> OpenAsync(IPEndPoint server, byte[]? request = null, Socket? udp = null, bool readNoticesLine = true)
    {
        var control = await RawSocks.ConnectAsync(server);
        var relay = await control.AssociateAsync(request);
        if (readNoticesLine)
        {
            Assert.Equal("NOTICES version=1 commands=set,map", await control.ReadLineAsync());
        }

        if (udp is null)
        {
            udp = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            udp.Bind(new IPEndPoint(server.Address, 0));
        }

        return new RawAssociation(control, udp, relay);
    }

    public Task SendAsync(byte[] datagram) => Udp.SendToAsync(datagram, SocketFlags.None, Relay, TestTimeout.Token).AsTask();

    public Task SendToAsync(IPEndPoint destination, byte[] payload) => SendAsync(RawSocks.Datagram(destination, payload));

    /// <summary>The next datagram from the relay, split into the source its header names and the payload.</summary>
    public async Task<(string Source, byte[] Payload)> ReceiveAsync(CancellationToken? cancellationToken = null)
    {
        byte[] buffer = new byte[65_536];
        var result = await Udp.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(Relay.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0), cancellationToken ?? TestTimeout.Token);
        Assert.Equal(Relay, (IPEndPoint)result.RemoteEndPoint);
        Assert.True(UdpRequestHeader.TryParse(buffer.AsSpan(0, result.ReceivedBytes), out byte fragment, out var source, out int headerLength));
        Assert.Equal(0, fragment);
        return (source.ToString(), buffer[headerLength..result.ReceivedBytes]);
    }

    public async ValueTask DisposeAsync()
    {
        Udp.Dispose();
        await Control.DisposeAsync();
    }
}

/// <summary>For tests that open the control connection themselves (to shape its socket first).</summary>
internal static class RawAssociationAccess
{
    public static RawAssociation Create(RawSocks control, Socket udp, IPEndPoint relay) => new(control, udp, relay);
}
