using System.Net.Sockets;

namespace Socks5UdpRelay.Server.Control;

/// <summary>
/// The one buffer of a control connection's handshake, sized for the largest message a client
/// sends: an RFC 1929 request (513 bytes), so a request pipelined behind it still fits. Bytes a
/// client sends ahead of time stay here for the next parse.
/// </summary>
internal sealed class HandshakeBuffer
{
    /// <summary>513 bytes of RFC 1929 request plus a 262-byte request pipelined behind it.</summary>
    public const int Size = Protocol.UsernamePasswordAuth.MaxRequestLength + Protocol.Socks5Request.MaxLength;

    private byte[] _buffer = new byte[Size];
    private int _start;
    private int _end;

    public ReadOnlySpan<byte> Data => _buffer.AsSpan(_start, _end - _start);

    public void Consume(int count) => _start += count;

    /// <summary>Gives up the buffer once the handshake is over (an association lives long; its handshake buffer need not), returning what was left unread.</summary>
    public byte[] Release()
    {
        byte[] rest = Data.ToArray();
        _buffer = [];
        _start = _end = 0;
        return rest;
    }

    /// <summary>Reads more bytes; false when the peer closed or the buffer is full (a message longer than any valid one).</summary>
    public async ValueTask<bool> ReadMoreAsync(Socket socket, CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            return false;
        }

        int read = await socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, cancellationToken).ConfigureAwait(false);
        _end += read;
        return read > 0;
    }
}
