using Socks5UdpRelay.Protocol;

namespace Socks5UdpRelay.Cli.Doctor;

/// <summary>
/// Feeds what the control connection gave, in pieces of any size, through the protocol
/// library's <see cref="ControlLineFramer"/>: each whole line (its <c>\n</c> included) to
/// <c>onLine</c>, each over-long one to <c>onSkipped</c>.
/// </summary>
internal sealed class ControlLineFeed(ControlLineFramer.LineHandler onLine, Action onSkipped)
{
    private readonly byte[] _buffer = new byte[NoticeFormat.MaxLineLength * 2];
    private ControlLineFramer _framer;
    private int _have;

    public void Feed(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            int take = Math.Min(data.Length, _buffer.Length - _have);
            data[..take].CopyTo(_buffer.AsSpan(_have));
            data = data[take..];
            _have = _framer.ReadLines(_buffer, _have + take, onLine, onSkipped);
        }
    }
}
