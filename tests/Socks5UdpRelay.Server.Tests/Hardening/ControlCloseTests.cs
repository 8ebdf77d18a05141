using System.Net.Sockets;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Hardening;

/// <summary>
/// The server ends an association's control connection with <c>CLOSING reason=…</c> and then a
/// FIN: the client reads the line and then end of stream (0), never ECONNRESET, also when it had
/// sent bytes on the connection. Before: .NET closed the socket with the watcher's receive pending,
/// which it does abortively (a RST).
/// </summary>
public sealed class ControlCloseTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task IdleTimeout_ClosingThenEndOfStream_NoReset(bool clientSentBytes)
    {
        var time = new ManualTimeProvider();
        await using var server = await RelayServer.StartAsync(new Dictionary<string, string?> { ["Relay:AssociationIdleTimeout"] = "00:05:00" }, time: time);
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);
        await SendBytesIfAsync(clientSentBytes, association.Control);

        time.Advance(TimeSpan.FromMinutes(6));

        Assert.Equal("CLOSING reason=idle-timeout", await association.Control.ReadLineAsync());
        await AssertEndOfStreamAsync(association.Control.Control);
        association.Control.Control.Shutdown(SocketShutdown.Send); // our FIN answers theirs, as a client does at end of stream
        await Eventually.TrueAsync(() => server.Endpoints.OpenSessions == 0); // the server has closed its end
        await AssertEndOfStreamAsync(association.Control.Control); // and no reset after the server's close either
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Shutdown_ClosingThenEndOfStream_NoReset(bool clientSentBytes)
    {
        var server = await RelayServer.StartAsync();
        await using var association = await RawAssociation.OpenAsync(server.EndPoint);
        await SendBytesIfAsync(clientSentBytes, association.Control);

        var stopping = server.DisposeAsync().AsTask();

        Assert.Equal("CLOSING reason=shutdown", await association.Control.ReadLineAsync());
        await AssertEndOfStreamAsync(association.Control.Control);
        association.Control.Control.Shutdown(SocketShutdown.Send);
        await stopping.Within();
        await AssertEndOfStreamAsync(association.Control.Control); // and no reset after the server's close either
    }

    /// <summary>Bytes on the control connection, without a line end: nothing the server answers, but bytes it must read before it closes.</summary>
    private static async Task SendBytesIfAsync(bool send, RawSocks control)
    {
        if (send)
        {
            await control.SendAsync("bytes the client sent, no line end"u8.ToArray());
        }
    }

    /// <summary>The next read is end of stream (0), not a reset.</summary>
    private static async Task AssertEndOfStreamAsync(Socket control)
    {
        byte[] one = new byte[1];
        try
        {
            Assert.Equal(0, await control.ReceiveAsync(one, SocketFlags.None, TestTimeout.Token));
        }
        catch (SocketException e)
        {
            Assert.Fail($"the server reset the connection ({e.SocketErrorCode}) instead of ending it");
        }
    }
}
