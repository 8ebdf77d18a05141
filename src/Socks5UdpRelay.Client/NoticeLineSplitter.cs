using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Client;

/// <summary>
/// Cuts the control connection's byte stream into notice lines of at most
/// <see cref="NoticeFormat.MaxLineLength"/> bytes, <c>\n</c> included (DESIGN.md, "Notices").
/// A longer line is skipped up to its <c>\n</c> and reported, never fatal. Parsing is the protocol
/// library's (<see cref="Notice.TryParse(ReadOnlySpan{byte}, out Notice?)"/>).
/// </summary>
internal sealed class NoticeLineSplitter
{
    private readonly byte[] _line = new byte[NoticeFormat.MaxLineLength];
    private readonly LineHandler _onLine;
    private readonly Action _onSkipped;
    private int _length;
    private bool _skipping;

    public NoticeLineSplitter(LineHandler onLine, Action onSkipped)
    {
        _onLine = onLine;
        _onSkipped = onSkipped;
    }

    /// <summary>Receives one complete line, <c>\n</c> included.</summary>
    public delegate void LineHandler(ReadOnlySpan<byte> line);

    public void Feed(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            int newline = data.IndexOf((byte)'\n');
            if (_skipping)
            {
                if (newline < 0)
                {
                    return;
                }

                data = data[(newline + 1)..];
                _skipping = false;
                _onSkipped();
                continue;
            }

            var chunk = newline < 0 ? data : data[..(newline + 1)];
            data = data[chunk.Length..];
            if (_length + chunk.Length > _line.Length)
            {
                _length = 0;
                if (newline < 0)
                {
                    _skipping = true;
                    return;
                }

                _onSkipped();
                continue;
            }

            chunk.CopyTo(_line.AsSpan(_length));
            _length += chunk.Length;
            if (newline >= 0)
            {
                int length = _length;
                _length = 0;
                _onLine(_line.AsSpan(0, length));
            }
        }
    }
}
