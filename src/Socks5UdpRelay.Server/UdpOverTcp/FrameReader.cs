using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks.Sources;
using Microsoft.Extensions.Logging;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Addressing;
using Socks5UdpRelay.Server.Control;
using Socks5UdpRelay.Server.Logging;
using Socks5UdpRelay.Server.Relay;

namespace Socks5UdpRelay.Server.UdpOverTcp;

/// <summary>
/// Reads a UDP-over-TCP connection's frames as they come, split across reads or many to a read:
/// runs of datagram frames go to the association's loop in one hop each (and the next read waits
/// for them, so a client faster than its destinations is slowed by TCP, not buffered for);
/// control frames, from a client that opted in, are command lines, carried out in order between
/// the datagrams around them, their answers written before the next frame is read. The first
/// malformed frame ends the association: a stream has no way back into frame after one.
/// </summary>
internal sealed class FrameReader : IValueTaskSource
{
    private readonly Socket _socket;
    private readonly StreamClientSocket _channel;
    private readonly UdpAssociation _association;
    private readonly ControlFrames _control;
    private readonly bool _extended;
    private readonly int _maxData;
    private int _bufferSize;
    private readonly byte[] _source = new byte[RawSocketAddress.MaxLength];
    private readonly int _sourceLength;
    private readonly ILogger _logger;
    private readonly IPEndPoint _peer;
    private ManualResetValueTaskSourceCore<bool> _delivered;
    private byte[]? _buffer;
    private int _runStart;
    private int _runEnd;

    public FrameReader(
        Socket socket, StreamClientSocket channel, UdpAssociation association, ControlFrames control, bool extended, int maxData, IPEndPoint peer, ILogger logger)
    {
        _socket = socket;
        _channel = channel;
        _association = association;
        _control = control;
        _extended = extended;
        _maxData = maxData;
        _peer = peer;
        _logger = logger;
        _sourceLength = RawSocketAddress.Write(_source, peer.Address, peer.Port);

        // Room for two of the largest frames: after a move to the front, a partial frame always leaves room for the rest of it.
        _bufferSize = 2 * (UdpOverTcpFrame.MaxHeaderLength + maxData);
        _delivered.RunContinuationsAsynchronously = true;
    }

    /// <summary>
    /// Reads frames until the connection ends (then ends the association) or a frame is malformed;
    /// <paramref name="early"/> is what the client sent behind its request, before the reply.
    /// </summary>
    public async Task RunAsync(byte[] early)
    {
        int have = 0;
        if (early.Length > 0)
        {
            // With a small Relay:MaxDatagramSize the buffer is smaller than what a pipelining client may have sent behind its request.
            _bufferSize = Math.Max(_bufferSize, early.Length + UdpOverTcpFrame.MaxHeaderLength + _maxData);
            _buffer = ArrayPool<byte>.Shared.Rent(_bufferSize);
            early.CopyTo(_buffer, 0);
            have = early.Length;
        }

        try
        {
            while (true)
            {
                if (have > 0)
                {
                    int consumed = await ProcessAsync(have).ConfigureAwait(false);
                    if (consumed < 0)
                    {
                        return; // malformed: the association is ending
                    }

                    _buffer.AsSpan(consumed, have - consumed).CopyTo(_buffer);
                    have -= consumed;
                }

                if (have == 0 && _buffer is not null)
                {
                    ArrayPool<byte>.Shared.Return(_buffer);
                    _buffer = null; // an idle connection holds no buffer
                }

                // Waits without a buffer, then takes what is there without waiting.
                await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);
                _buffer ??= ArrayPool<byte>.Shared.Rent(_bufferSize);
                int received = ClientStream.TakeAvailable(_socket, _buffer.AsSpan(have, _bufferSize - have), _association);
                if (received < 0)
                {
                    return;
                }

                have += received;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            _association.End(ClientStream.EndOf(e));
        }
        catch (Exception e)
        {
            // Anything else (a handler's fault passed back from the loop): nobody would read the
            // connection any more, so the association must not wait for its idle timeout.
            Log.FrameReaderFault(_logger, _peer, e);
            _association.End(AssociationEnd.Failed);
        }
        finally
        {
            if (_buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = null;
            }
        }
    }

    /// <summary>Acts on every whole frame in the first <paramref name="have"/> bytes; returns the bytes used, or -1 after a malformed frame.</summary>
    private async ValueTask<int> ProcessAsync(int have)
    {
        int offset = 0;
        int runStart = 0;
        while (true)
        {
            var status = UdpOverTcpFrame.TryRead(_buffer.AsSpan(offset, have - offset), _extended, _maxData, out var frame, out int consumed, out var error);
            if (status == OperationStatus.Done && frame.Kind == UdpFrameKind.Datagram)
            {
                offset += consumed;
                continue;
            }

            bool isControl = status == OperationStatus.Done;
            if (isControl)
            {
                // Taken before the datagrams ahead of it are delivered: the line is copied out, and the buffer stays as it is until then.
                _control.Take(frame.Data);
            }

            if (offset > runStart)
            {
                await DeliverAsync(runStart, offset).ConfigureAwait(false);
            }

            if (isControl)
            {
                await _control.AnswerAsync().ConfigureAwait(false);
                offset += consumed;
                runStart = offset;
                continue;
            }

            if (status == OperationStatus.NeedMoreData)
            {
                return offset;
            }

            Log.MalformedFrame(_logger, _peer, Describe(error));
            _association.End(AssociationEnd.Malformed);
            return -1;
        }
    }

    /// <summary>The datagram frames in [<paramref name="start"/>, <paramref name="end"/>) of the buffer, on the association's loop; returns once they were handled there.</summary>
    private ValueTask DeliverAsync(int start, int end)
    {
        _runStart = start;
        _runEnd = end;
        _delivered.Reset();
        _association.Loop.Post(static s => ((FrameReader)s!).DeliverOnLoop(), this);
        return new ValueTask(this, _delivered.Version);
    }

    private void DeliverOnLoop()
    {
        try
        {
            _channel.Deliver(_buffer.AsSpan(_runStart, _runEnd - _runStart), _source.AsSpan(0, _sourceLength));
        }
        catch (Exception e)
        {
            _delivered.SetException(e);
            return;
        }

        _delivered.SetResult(true);
    }

    private string Describe(UdpFrameError error) => error switch
    {
        UdpFrameError.TooLong => $"DATLEN over Relay:MaxDatagramSize ({_maxData})",
        UdpFrameError.UnknownType => "unknown ATYP",
        UdpFrameError.HeaderLength => "HDRLEN does not match ATYP",
        UdpFrameError.EmptyName => "a name of length 0",
        UdpFrameError.NotOptedIn => "a control or mapped frame from a client that did not opt in to notices",
        _ => "malformed",
    };

    void IValueTaskSource.GetResult(short token) => _delivered.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _delivered.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _delivered.OnCompleted(continuation, state, token, flags);
}
