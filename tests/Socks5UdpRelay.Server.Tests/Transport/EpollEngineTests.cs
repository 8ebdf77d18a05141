using System.Net;
using System.Net.Sockets;
using Socks5UdpRelay.Server.Addressing;
using Socks5UdpRelay.Server.Icmp;
using Socks5UdpRelay.Server.Transport;
using Socks5UdpRelay.Server.Transport.Epoll;
using Socks5UdpRelay.Tests.Shared;
using Xunit;
using static Socks5UdpRelay.Server.Interop;

namespace Socks5UdpRelay.Server.Tests.Transport;

/// <summary>The epoll engine itself on real loopback sockets, without a server: opening a destination, its datagrams and errors, posted work, a stopped loop.</summary>
public sealed class EpollEngineTests
{
    [Fact]
    public async Task Destination_SendsAndHandsRepliesAndErrorsToItsHandler_OnTheLoop()
    {
        var source = ErrorSource.Create();
        using var loop = new EventLoop(0, source, e => throw e, e => throw e);
        await using var echo = UdpResponder.Echo(IPAddress.Loopback);
        var handler = new RecordingHandler();
        var key = DestinationKey.From(IPAddress.Loopback, echo.Port);
        IDestinationSocket? socket = null;
        await loop.InvokeAsync(() =>
        {
            socket = loop.OpenDestination(key, 0, handler);
            Assert.Equal(SendResult.Sent, socket.Send("ping"u8));
        });

        Assert.Equal("ping", await handler.Replies.Reader.ReadAsync(TestTimeout.Token));
        Assert.Equal("socks5-udp-0", handler.Thread);

        var closed = DestinationKey.From(IPAddress.Loopback, FreePorts.ClosedUdp());
        await loop.InvokeAsync(() => Assert.Equal(SendResult.Sent, loop.OpenDestination(closed, 0, handler).Send("x"u8)));
        var error = await handler.Errors.Reader.ReadAsync(TestTimeout.Token);
        Assert.Equal(Errno.ECONNREFUSED, error.Errno);
        Assert.Equal(ErrorOrigin.Icmp, error.Origin);
        await loop.InvokeAsync(() => socket!.Dispose());
    }

    /// <summary>
    /// The reviewer's reproduction: while a socket is bound but not yet connected, an ICMP error
    /// for someone else and strangers' datagrams queue on it; after connect all of it is gone,
    /// the pending error included, so none of it is ever told or relayed as the destination's.
    /// </summary>
    [Fact]
    public void DiscardQueued_DropsStrangersAndForeignErrors_PastAPendingError()
    {
        var source = ErrorSource.Create();
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.SetRawSocketOption(SocketOptions.SOL_SOCKET, SocketOptions.SO_REUSEPORT, BitConverter.GetBytes(1));
        Assert.True(source.Enable(socket.SafeHandle, AddressFamily.InterNetwork));
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socket.SendTo("x"u8, FreePorts.ClosedUdpEndPoint(IPAddress.Loopback)); // someone else's destination: an ICMP error comes back
        Assert.True(socket.Poll(TestTimeout.Default, SelectMode.SelectError));
        using var stranger = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        for (int i = 0; i < 3; i++)
        {
            stranger.SendTo("stray"u8, socket.LocalEndPoint!); // on loopback, queued at the receiver when sendto returns
        }

        Assert.Equal(5, socket.Available); // FIONREAD: the first queued datagram's length

        socket.Connect(new IPEndPoint(IPAddress.Loopback, 9)); // the destination proper
        EpollDestinationSocket.DiscardQueued(socket.SafeHandle, source);

        Assert.Equal(0, socket.Available);
        Assert.Equal(0, source.Read(socket.SafeHandle, 0, []));
        Assert.Equal(0, (int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)!);
    }

    [Fact]
    public async Task StoppedLoop_StillRunsWhatIsPosted_OneAtATime_AndRefusesNewSockets()
    {
        var source = ErrorSource.Create();
        var loop = new EventLoop(0, source, e => throw e, e => throw e);
        var transport = new EpollTransport(1, ClientPortAllocator.Any, source, e => throw e, e => throw e);
        transport.Dispose();
        loop.Dispose();
        Assert.True(loop.IsStopped);

        int running = 0;
        int ran = 0;
        var posts = Enumerable.Range(0, 8).Select(_ => Task.Run(() => loop.InvokeAsync(() =>
        {
            Assert.Equal(1, Interlocked.Increment(ref running));
            Thread.Sleep(1); // widen the window a second concurrent run would need
            Interlocked.Decrement(ref running);
            Interlocked.Increment(ref ran);
        })));
        await Task.WhenAll(posts).Within();
        Assert.Equal(8, ran);
        Assert.Throws<TransportException>(() => transport.BindClient(IPAddress.Loopback));
    }

    private sealed class RecordingHandler : IDatagramHandler
    {
        public System.Threading.Channels.Channel<string> Replies { get; } = System.Threading.Channels.Channel.CreateUnbounded<string>();

        public System.Threading.Channels.Channel<ErrorReport> Errors { get; } = System.Threading.Channels.Channel.CreateUnbounded<ErrorReport>();

        public string? Thread { get; private set; }

        public void OnDatagrams(DatagramBatch batch)
        {
            Thread = System.Threading.Thread.CurrentThread.Name;
            for (int i = 0; i < batch.Count; i++)
            {
                Replies.Writer.TryWrite(System.Text.Encoding.ASCII.GetString(batch.Payload(i)));
            }
        }

        public void OnErrors(ReadOnlySpan<ErrorReport> errors)
        {
            foreach (var error in errors)
            {
                Errors.Writer.TryWrite(error);
            }
        }
    }
}
