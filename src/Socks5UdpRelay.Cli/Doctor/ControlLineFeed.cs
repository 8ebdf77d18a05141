using System.Buffers;
using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Cli.Doctor;

/// <summary>
/// Feeds what the control connection gave, in pieces of any size, through the protocol
/// library's <see cref="ControlLineFramer"/>: each whole line (its <c>\n</c> included) to
/// <c>onLine</c>, each over-long one to <c>onSkipped</c>.
/// </summary>
internal sealed class ControlLineFeed(ControlLineFeed.LineHandler onLine, Action onSkipped)
{
    private readonly byte[] _buffer = new byte[NoticeFormat.MaxLineLength * 2];
    private ControlLineFramer _framer;
    private int _have;

    public delegate void LineHandler(ReadOnlySpan<byte> line);

    public void Feed(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            int take = Math.Min(data.Length, _buffer.Length - _have);
            data[..take].CopyTo(_buffer.AsSpan(_have));
            data = data[take..];
            _have += take;
            while (true)
            {
                var status = _framer.TryReadLine(_buffer.AsSpan(0, _have), out var line, out int consumed);
                if (status == OperationStatus.Done)
                {
                    onLine(line);
                }
                else if (status == OperationStatus.InvalidData)
                {
                    onSkipped();
                }

                _buffer.AsSpan(consumed, _have - consumed).CopyTo(_buffer);
                _have -= consumed;
                if (status == OperationStatus.NeedMoreData)
                {
                    break;
                }
            }
        }
    }
}
