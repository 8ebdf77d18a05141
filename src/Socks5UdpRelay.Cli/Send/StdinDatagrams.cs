using System.Text;

namespace Socks5UdpRelay.Cli.Send;

/// <summary>
/// Datagrams from standard input: one per line, the newline included (as nc -u sends them), or
/// with --raw one per read, as nc does for binary input. The last line goes out without a
/// newline if it had none.
/// </summary>
internal sealed class StdinDatagrams(TextReader reader, Encoding encoding, bool raw)
{
    /// <summary>The proxy's default MaxDatagramSize: longer input is cut into datagrams of this size.</summary>
    public const int MaxPayload = 65_000;

    private readonly char[] _read = new char[MaxPayload];
    private readonly StringBuilder _pending = new();
    private bool _eof;

    /// <summary>The next datagram, or null at end of input.</summary>
    public async ValueTask<byte[]?> ReadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            int newline = IndexOfNewline();
            if (newline >= 0)
            {
                return Take(newline + 1);
            }

            if (_pending.Length > 0 && (raw || _eof || _pending.Length >= MaxPayload))
            {
                return Take(_pending.Length);
            }

            if (_eof)
            {
                return null;
            }

            int n = await reader.ReadAsync(_read, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                _eof = true;
            }
            else
            {
                _pending.Append(_read, 0, n);
            }
        }
    }

    private int IndexOfNewline()
    {
        if (raw)
        {
            return -1;
        }

        for (int i = 0; i < _pending.Length; i++)
        {
            if (_pending[i] == '\n')
            {
                return i;
            }
        }

        return -1;
    }

    private byte[] Take(int chars)
    {
        string text = _pending.ToString(0, chars);
        // A line longer than one datagram goes out in pieces rather than being refused by the proxy.
        while (encoding.GetByteCount(text) > MaxPayload)
        {
            text = text[..(text.Length * 3 / 4)];
        }

        _pending.Remove(0, text.Length);
        return encoding.GetBytes(text);
    }
}
