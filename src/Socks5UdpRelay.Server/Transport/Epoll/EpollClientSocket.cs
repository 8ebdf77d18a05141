using System.Net;
using System.Runtime.InteropServices;

namespace Socks5UdpRelay.Server.Transport.Epoll;

/// <summary>
/// An association's client-facing socket: unconnected (the client's port is learned from its
/// first datagram), read with sources and with GRO where the kernel has it, replies sent to the
/// client in batches, segmented (GSO) where consecutive replies have one size.
/// </summary>
internal sealed unsafe class EpollClientSocket : EpollSocket, IClientSocket
{
    // The largest reply (header included) this socket may still send segmented; lowered when the kernel or the path refuses.
    private int _maxSegment;

    public EpollClientSocket(SafeHandle handle, EventLoop loop)
        : base(handle, loop)
    {
        LocalEndPoint = UdpDescriptor.LocalEndPoint(handle);
        Coalesces = loop.Offload.EnableGro(handle);
        _maxSegment = loop.Offload.Gso ? UdpSegmentation.MaxBytes : 0;
        loop.ClientOpened();
    }

    public IPEndPoint LocalEndPoint { get; }

    IRelayLoop IClientSocket.Loop => Loop;

    protected override bool WithSources => true;

    public void Start(IDatagramHandler handler) => Register(handler);

    public int SendReplies(DatagramBatch batch, ReadOnlySpan<byte> client, out long payloadBytes)
    {
        var list = Loop.SendList;
        list.Begin(client);
        int headerLength = batch.ReplyHeaderLength;
        for (int i = 0; i < batch.Count; i++)
        {
            if (!batch.IsDropped(i))
            {
                list.Add(batch.ReplyHeaderPointer(i), headerLength, batch.PayloadPointer(i), batch.Payload(i).Length);
            }
        }

        // No error queue here, and an unconnected socket holds no ICMP error: a refused datagram concerns itself alone.
        var outcome = list.Send(Handle, ref _maxSegment, errors: null);
        Loop.CountSent(outcome.Sent);
        payloadBytes = outcome.Bytes - ((long)outcome.Sent * headerLength);
        return outcome.Sent;
    }

    // The client-facing socket is unconnected and has no error queue switched on: the kernel
    // surfaces nothing worth reporting here, and whatever it does concerns one datagram.
    protected override void OnErrorSignalled()
    {
    }

    protected override bool OnReadError(int errno) => !IsDisposed;

    protected override void OnDisposed() => Loop.ClientClosed();
}
