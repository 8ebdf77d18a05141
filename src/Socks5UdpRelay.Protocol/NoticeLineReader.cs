namespace Socks5UdpRelay.Protocol;

/// <summary>
/// Reads one notice line without allocating: the verb, then its fields in order. Tolerates any
/// trailing <c>\r</c> and <c>\n</c>; a token without '=' is skipped, as readers ignore what
/// they do not know.
/// </summary>
public ref struct NoticeLineReader
{
    private ReadOnlySpan<byte> _rest;

    public NoticeLineReader(ReadOnlySpan<byte> line)
    {
        line = line.TrimEnd("\r\n"u8);

        int space = line.IndexOf((byte)' ');
        Verb = space < 0 ? line : line[..space];
        _rest = space < 0 ? default : line[(space + 1)..];
    }

    public ReadOnlySpan<byte> Verb { get; }

    /// <summary>True when the line has a verb made of printable ASCII.</summary>
    public readonly bool IsWellFormed
    {
        get
        {
            if (Verb.IsEmpty)
            {
                return false;
            }

            foreach (byte b in Verb)
            {
                if (!NoticeFormat.IsValueByte(b))
                {
                    return false;
                }
            }

            return true;
        }
    }

    public bool TryReadField(out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        while (!_rest.IsEmpty)
        {
            int space = _rest.IndexOf((byte)' ');
            var token = space < 0 ? _rest : _rest[..space];
            _rest = space < 0 ? default : _rest[(space + 1)..];
            int eq = token.IndexOf((byte)'=');
            if (eq > 0)
            {
                key = token[..eq];
                value = token[(eq + 1)..];
                return true;
            }
        }

        key = default;
        value = default;
        return false;
    }
}
