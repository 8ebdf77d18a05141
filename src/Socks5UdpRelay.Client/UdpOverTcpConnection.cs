using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Client;

/// <summary>
/// The TCP connection of a UDP-over-TCP association (the README, "UDP over TCP"): the request
/// <c>CMD=0x05</c> naming <c>NOTICES:1</c> (the opt-in to notices and commands), then frames both
/// ways. Writes are whole frames, one at a time, never cancelled half-way: half a frame would
/// garble every frame after it. <see cref="ReadAsync"/> hands each frame to a sink as it comes,
/// split across reads or many to a read.
/// </summary>
internal sealed class UdpOverTcpConnection
{
    /// <summary>
    /// Spare bytes a sender leaves in front of a SOCKS UDP datagram (RFC 1928 §7, RSV holding the
    /// mapping) handed to <see cref="SendDatagramAsync"/>: a mapped frame's header is that much
    /// longer than the SOCKS header, and the datagram becomes its frame in place, DATA unmoved.
    /// </summary>
    public const int FrameRoom = UdpOverTcpFrame.MappingLength;

    /// <summary>What the proxy's 0x07 to <c>CMD=0x05</c> means, said the same way wherever it shows.</summary>
    public const string NotOffered = "UDP over TCP is not offered by this proxy (it answered CMD 0x05 with REP 7, command not supported).";

    /// <summary>One whole frame of the largest kind fits, so a partial frame moved to the front always has room for its rest.</summary>
    private const int ReadBufferLength = UdpOverTcpFrame.MaxHeaderLength + UdpOverTcpFrame.MaxData;

    private readonly SemaphoreSlim _writer = new(1, 1);
    private readonly byte[] _controlFrame = new byte[UdpOverTcpFrame.ControlHeaderLength + NoticeFormat.MaxLineLength];

    private UdpOverTcpConnection(Socket socket, bool optedIn)
    {
        Socket = socket;
        OptedIn = optedIn;
    }

    /// <summary>The TCP connection to the proxy; the association owns it and closes it.</summary>
    public Socket Socket { get; }

    /// <summary>True when the reply named <c>NOTICES:1</c> back: notices, commands and mapped frames; false: datagram frames only.</summary>
    public bool OptedIn { get; }

    /// <summary>The endpoint a caller reads as the association's "relay": the proxy's TCP endpoint, where the frames go.</summary>
    public IPEndPoint RemoteEndPoint => (IPEndPoint)Socket.RemoteEndPoint!;

    /// <summary>Connects, negotiates, and asks for UDP over TCP with notices.</summary>
    /// <exception cref="Socks5Exception">The proxy could not be reached, refused (0x07: <see cref="NotOffered"/>), or broke the protocol.</exception>
    public static async Task<UdpOverTcpConnection> OpenAsync(Socks5ProxyOptions options, CancellationToken cancellationToken)
    {
        Socket socket;
        Socks5Endpoint bound;
        try
        {
            (socket, bound) = await Socks5Handshake.EstablishAsync(
                options, Socks5Command.UdpOverTcp, new Socks5Endpoint(UdpOverTcpOptIn.Name, UdpOverTcpOptIn.Version), cancellationToken).ConfigureAwait(false);
        }
        catch (Socks5Exception e) when (e.Reply == ReplyCode.CommandNotSupported)
        {
            throw new Socks5Exception(ReplyCode.CommandNotSupported, NotOffered);
        }

        // The opt-in is a name compared byte for byte; a server that ignores the request's address names its own.
        bool optedIn = bound.Host == UdpOverTcpOptIn.Name && bound.Port == UdpOverTcpOptIn.Version;
        return new UdpOverTcpConnection(socket, optedIn);
    }

    /// <summary>
    /// Sends one datagram as a frame: <paramref name="buffer"/> holds <see cref="FrameRoom"/> spare
    /// bytes, then the SOCKS UDP datagram of <paramref name="length"/> bytes (RSV = its mapping),
    /// which is rewritten into the frame where it lies. The token bounds only the wait for the writer.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask SendDatagramAsync(Memory<byte> buffer, int length, CancellationToken cancellationToken)
    {
        int start = ToFrame(buffer.Span, length, out int frameLength);
        await _writer.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await Socket.SendAsync(buffer.Slice(start, frameLength), SocketFlags.None, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _writer.Release();
        }
    }

    /// <summary>Sends one line of the text protocol (a command, its <c>\n</c> included) as a control frame.</summary>
    public async ValueTask SendLineAsync(ReadOnlyMemory<byte> line)
    {
        await _writer.WaitAsync().ConfigureAwait(false);
        try
        {
            int length = UdpOverTcpFrame.WriteControl(_controlFrame, line.Span);
            await Socket.SendAsync(_controlFrame.AsMemory(0, length), SocketFlags.None, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _writer.Release();
        }
    }

    /// <summary>
    /// Reads frames until the connection ends or a frame is malformed (after which a stream cannot
    /// be read on), handing each to <paramref name="sink"/>; returns why it ended. A frame from a
    /// proxy this connection did not opt in with may not be a control or mapped frame.
    /// </summary>
    public async Task<Socks5AssociationEnd> ReadAsync(IFrameSink sink)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ReadBufferLength);
        int have = 0;
        try
        {
            while (true)
            {
                int received = await Socket.ReceiveAsync(buffer.AsMemory(have, ReadBufferLength - have), SocketFlags.None).ConfigureAwait(false);
                if (received == 0)
                {
                    return Socks5AssociationEnd.ServerClosed;
                }

                have += received;
                int consumed = Deliver(buffer.AsSpan(0, have), sink);
                if (consumed < 0)
                {
                    return Socks5AssociationEnd.ProtocolError;
                }

                buffer.AsSpan(consumed, have - consumed).CopyTo(buffer);
                have -= consumed;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return Socks5AssociationEnd.ConnectionReset;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The datagram in <paramref name="buffer"/> at <see cref="FrameRoom"/> made a frame in place; returns where the frame starts.</summary>
    private static int ToFrame(Span<byte> buffer, int length, out int frameLength)
    {
        var datagram = buffer.Slice(FrameRoom, length);
        if (!UdpRequestHeader.TryParse(datagram, out ushort mapping, out _, out _, out int headerLength))
        {
            throw new ArgumentException("Not a SOCKS UDP datagram.", nameof(buffer));
        }

        int room = UdpOverTcpFrame.RoomFor(mapping);
        int start = FrameRoom - room;
        frameLength = UdpOverTcpFrame.RewriteUdpHeader(buffer[start..], room, headerLength, length - headerLength);
        return start;
    }

    /// <summary>Hands every whole frame at the start of <paramref name="buffered"/> on; returns the bytes they took, or -1 at a malformed frame.</summary>
    private int Deliver(ReadOnlySpan<byte> buffered, IFrameSink sink)
    {
        int offset = 0;
        while (true)
        {
            var status = UdpOverTcpFrame.TryRead(buffered[offset..], OptedIn, UdpOverTcpFrame.MaxData, out var frame, out int consumed);
            if (status == OperationStatus.NeedMoreData)
            {
                return offset;
            }

            if (status == OperationStatus.InvalidData)
            {
                return -1;
            }

            offset += consumed;
            if (frame.Kind == UdpFrameKind.Datagram)
            {
                sink.OnDatagram(frame.Mapping, frame.Address, frame.Data);
            }
            else if (frame.Data.Length <= NoticeFormat.MaxLineLength && frame.Data.IndexOf((byte)'\n') == frame.Data.Length - 1)
            {
                sink.OnLine(frame.Data);
            }
            else
            {
                sink.OnLineSkipped();
            }
        }
    }
}
