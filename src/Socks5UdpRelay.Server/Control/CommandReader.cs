using System.Buffers;
using System.Net.Sockets;
using Socks5UdpRelay.Protocol;
using Socks5UdpRelay.Server.Notices;
using Socks5UdpRelay.Server.Relay;

namespace Socks5UdpRelay.Server.Control;

/// <summary>
/// Reads the command lines a client writes on its association's control connection (README,
/// "Client commands"), one at a time: frames each, has <see cref="CommandExecutor"/> carry it
/// out, and writes its one answer before reading the next. Answers are never dropped: a client
/// that does not read them is not read either. Until the connection ends (which ends the
/// association, as RFC 1928 §7 ties the two), nothing is held while the client is quiet but a
/// zero-byte receive, and the executor (with its buffers) exists only once a first line came.
/// </summary>
internal sealed class CommandReader(Socket control, UdpAssociation association, IControlWriter writer, Func<CommandExecutor> createExecutor)
{
    private CommandExecutor? _executor;

    /// <summary>Two lines: a whole one behind the tail of the one before.</summary>
    private const int BufferSize = NoticeFormat.MaxLineLength * 2;

    private ControlLineFramer _framer;

    /// <summary>Reads commands until the control connection ends, then ends the association.</summary>
    public async Task RunAsync()
    {
        byte[]? buffer = null;
        int have = 0;
        try
        {
            while (true)
            {
                // Waits without a buffer: an idle association holds none.
                await control.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);
                buffer ??= ArrayPool<byte>.Shared.Rent(BufferSize);
                int received = ClientStream.TakeAvailable(control, buffer.AsSpan(have, BufferSize - have), association);
                if (received < 0)
                {
                    return;
                }

                if (received == 0)
                {
                    continue;
                }

                have += received;
                int offset = 0;
                while (true)
                {
                    var status = _framer.TryReadLine(buffer.AsSpan(offset, have - offset), out var line, out int consumed);
                    offset += consumed;
                    if (status == OperationStatus.NeedMoreData)
                    {
                        break;
                    }

                    var executor = _executor ??= createExecutor();
                    if (status == OperationStatus.InvalidData)
                    {
                        executor.Malformed();
                    }
                    else if (executor.Take(line) == CommandStep.Execute)
                    {
                        await executor.ExecuteAsync().ConfigureAwait(false);
                    }

                    await writer.WriteAnswerAsync(executor.Answer).ConfigureAwait(false);
                }

                buffer.AsSpan(offset, have - offset).CopyTo(buffer);
                have -= offset;
                if (have == 0)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = null;
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            association.End(ClientStream.EndOf(e));
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}
