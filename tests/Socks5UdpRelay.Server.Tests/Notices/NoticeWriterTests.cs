using System.Net;
using System.Net.Sockets;
using System.Text;
using Socks5UdpRelay.Server.Notices;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Notices;

/// <summary>The notice writer on a real TCP connection: at once when there is room, queued in order when not, nothing lost that fits the queue.</summary>
public sealed class NoticeWriterTests
{
    [Fact]
    public async Task LinesThatFindNoRoom_AreQueued_AndArriveInOrderOnceTheClientReads()
    {
        var (server, client) = await ConnectedPairAsync();
        using var _ = server;
        using var __ = client;
        var writer = new NoticeWriter(server, capacity: 100_000, enabled: true);

        // Write until the kernel's buffers are full and lines wait in the queue, then some more.
        int count = 0;
        while (writer.Sent == count)
        {
            Assert.True(writer.TryEnqueue(Line(count++)));
            Assert.True(count < 1_000_000, "the socket never filled");
        }

        for (int i = 0; i < 100; i++)
        {
            Assert.True(writer.TryEnqueue(Line(count++)));
        }

        var completed = writer.CompleteAsync();
        Assert.False(writer.TryEnqueue(Line(count)), "a line after completion must be refused");

        using var reader = new StreamReader(new NetworkStream(client), Encoding.ASCII);
        for (int i = 0; i < count; i++)
        {
            Assert.Equal(Encoding.ASCII.GetString(Line(i)).TrimEnd('\n'), await reader.ReadLineAsync(TestTimeout.Token));
        }

        await completed.WaitAsync(TestTimeout.Token);
        Assert.Equal(count, writer.Sent);
        Assert.Equal(1, writer.Dropped);
    }

    [Fact]
    public async Task QueuedLines_AreCountedAsDropped_WhenTheConnectionIsClosed()
    {
        var (server, client) = await ConnectedPairAsync();
        using var __ = client;
        var writer = new NoticeWriter(server, capacity: 100_000, enabled: true);
        int count = 0;
        while (writer.Sent == count)
        {
            writer.TryEnqueue(Line(count++));
        }

        writer.TryEnqueue(Line(count++));
        var completed = writer.CompleteAsync();
        Assert.False(completed.IsCompleted, "lines were still queued");

        server.Dispose(); // what the session does when the flush time is over
        await completed.WaitAsync(TestTimeout.Token);
        Assert.Equal(count, writer.Sent + writer.Dropped);
        Assert.True(writer.Dropped >= 2, $"dropped {writer.Dropped}");
    }

    [Fact]
    public async Task NothingQueued_CompletesAtOnce_AndDisabledWriterSendsNothing()
    {
        var (server, client) = await ConnectedPairAsync();
        using var _ = server;
        using var __ = client;
        var writer = new NoticeWriter(server, capacity: 4, enabled: true);
        Assert.True(writer.TryEnqueue(Line(0)));
        Assert.True(writer.CompleteAsync().IsCompletedSuccessfully);
        Assert.Equal(1, writer.Sent);

        var off = new NoticeWriter(server, capacity: 4, enabled: false);
        Assert.False(off.TryEnqueue(Line(1)));
        Assert.True(off.CompleteAsync().IsCompletedSuccessfully);
        Assert.Equal(0, off.Sent);
    }

    private static byte[] Line(int i) => Encoding.ASCII.GetBytes($"UDP-ERROR dst=127.0.0.1:{i % 65536} error=port-unreachable seq={i}\n");

    /// <summary>A loopback connection whose server side is set up as a session sets up a control connection: non-blocking, small send buffer.</summary>
    private static async Task<(Socket Server, Socket Client)> ConnectedPairAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await client.ConnectAsync(listener.LocalEndPoint!, TestTimeout.Token);
        var server = await listener.AcceptAsync(TestTimeout.Token);
        server.Blocking = false;
        server.SendBufferSize = 16 * 1024;
        return (server, client);
    }
}
