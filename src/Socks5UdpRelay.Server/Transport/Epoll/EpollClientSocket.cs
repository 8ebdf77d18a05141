using System.Net;
using System.Runtime.InteropServices;

namespace Socks5UdpRelay.Server.Transport.Epoll;

/// <summary>
/// An association's client-facing socket: unconnected (the client's port is learned from its
/// first datagram), read with sources, replies sent to the client in batches.
/// </summary>
internal sealed class EpollClientSocket : EpollSocket, IClientSocket
{
    public EpollClientSocket(SafeHandle handle, EventLoop loop)
        : base(handle, loop)
    {
        LocalEndPoint = UdpDescriptor.LocalEndPoint(handle);
        loop.ClientOpened();
    }

    public IPEndPoint LocalEndPoint { get; }

    IRelayLoop IClientSocket.Loop => Loop;

    protected override bool WithSources => true;

    public void Start(IDatagramHandler handler) => Register(handler);

    public int SendReplies(DatagramBatch batch, int headerLength, ReadOnlySpan<byte> client, out long payloadBytes)
    {
        var list = Loop.SendList;
        list.Begin(client);
        for (int i = 0; i < batch.Count; i++)
        {
            if (!batch.IsDropped(i))
            {
                list.Add(batch.Frame(i, headerLength));
            }
        }

        int count = list.Send(Handle, out long bytes);
        Loop.CountSent(count);
        payloadBytes = bytes - ((long)count * headerLength);
        return count;
    }

    // The client-facing socket is unconnected and has no error queue switched on: the kernel
    // surfaces nothing worth reporting here, and whatever it does concerns one datagram.
    protected override void OnErrorSignalled()
    {
    }

    protected override bool OnReadError(int errno) => !IsDisposed;

    protected override void OnDisposed() => Loop.ClientClosed();
}
