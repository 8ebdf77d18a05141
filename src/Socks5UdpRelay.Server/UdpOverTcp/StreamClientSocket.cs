using System.Net;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Transport;

namespace Socks5UdpRelay.Server.UdpOverTcp;

/// <summary>
/// The client side of an association whose datagrams ride its TCP connection (<c>CMD=0x05</c>):
/// to the association it is a client socket like any other. Frames the reader parsed come in
/// as datagrams with SOCKS UDP headers from the TCP peer's address, so the association judges,
/// routes and counts them as it does UDP; replies leave as frames, each written in place in front
/// of its payload from the SOCKS header the batch keeps for it. A client that did not opt in never gets DATA longer than hev-socks5 accepts.
/// </summary>
internal sealed class StreamClientSocket(IPEndPoint local, IRelayLoop loop, FrameWriter writer, bool extended, int maxData) : IClientSocket
{
    private IDatagramHandler? _handler;
    private DatagramBatch? _batch;
    private bool _disposed;

    public IPEndPoint LocalEndPoint => local;

    public IRelayLoop Loop => loop;

    public ClientTransport Transport => ClientTransport.Tcp;

    public int MaxReplyPayload => extended ? UdpOverTcpFrame.MaxData : UdpOverTcpFrame.CompatibleMaxData;

    public void Start(IDatagramHandler handler) => Volatile.Write(ref _handler, handler);

    /// <summary>
    /// On the loop: the datagram frames in <paramref name="frames"/> (whole ones, already read once
    /// by the reader) to the association, as datagrams from <paramref name="source"/> (the TCP
    /// peer's raw socket address), a batch at a time.
    /// </summary>
    public void Deliver(ReadOnlySpan<byte> frames, ReadOnlySpan<byte> source)
    {
        var handler = Volatile.Read(ref _handler);
        if (_disposed || handler is null)
        {
            return; // the association is closed, or was never started: nothing reads what it would be given
        }

        var batch = _batch ??= new DatagramBatch(segmented: false);
        batch.Clear();
        while (!frames.IsEmpty)
        {
            UdpOverTcpFrame.TryRead(frames, extended, maxData, out var frame, out int consumed);
            frames = frames[consumed..];
            int headerLength = UdpRequestHeader.GetLength(frame.Address);
            if (!batch.TryAppend(headerLength + frame.Data.Length, source, out var datagram))
            {
                handler.OnDatagrams(batch);
                batch.Clear();
                batch.TryAppend(headerLength + frame.Data.Length, source, out datagram);
            }

            UdpRequestHeader.Write(datagram, frame.Address, frame.Mapping);
            frame.Data.CopyTo(datagram[headerLength..]);
        }

        if (batch.Count > 0)
        {
            handler.OnDatagrams(batch);
        }
    }

    /// <summary>
    /// Each reply not dropped, as a frame on the connection, in order (a frame is written over the
    /// end of the replies before it, already sent, when they came in one GRO read); what the
    /// writer has no room for is lost, and not counted as sent.
    /// </summary>
    public int SendReplies(DatagramBatch batch, ReadOnlySpan<byte> client, out long payloadBytes)
    {
        int sent = 0;
        payloadBytes = 0;
        for (int i = 0; i < batch.Count; i++)
        {
            if (batch.IsDropped(i))
            {
                continue;
            }

            var header = batch.ReplyHeaderOf(i);
            ushort mapping = UdpRequestHeader.ReadMapping(header);
            if (mapping != 0 && !extended)
            {
                continue; // a mapping only a client that opted in can have made: never sent to one that could not read it
            }

            int payload = batch.Payload(i).Length;
            int room = UdpOverTcpFrame.RoomFor(mapping);
            var frame = batch.Frame(i, header.Length + room);
            header.CopyTo(frame[room..]);
            int length = UdpOverTcpFrame.RewriteUdpHeader(frame, room, header.Length, payload);
            if (writer.TryWriteDatagram(frame[..length]))
            {
                sent++;
                payloadBytes += payload;
            }
        }

        return sent;
    }

    /// <summary>On the loop, when the association closes: nothing more is delivered. The connection is the command's to close.</summary>
    public void Dispose()
    {
        _disposed = true;
        _batch?.Dispose();
        _batch = null;
    }
}
