using System.Net;
using System.Text;

namespace Socks5UdpRelay.Protocol;

/// <summary>
/// Builds one notice line, <c>VERB key=value key=value\n</c>, in a caller's buffer without
/// allocating. A value that would break the line (space, '=', control bytes) or a line over
/// <see cref="NoticeFormat.MaxLineLength"/> makes <see cref="TryComplete"/> fail, so a bad line
/// is never sent half-written.
/// </summary>
public ref struct NoticeLineWriter
{
    private readonly Span<byte> _buffer;
    private int _position;
    private bool _failed;

    public NoticeLineWriter(Span<byte> buffer, string verb)
    {
        _buffer = buffer.Length > NoticeFormat.MaxLineLength ? buffer[..NoticeFormat.MaxLineLength] : buffer;
        _position = 0;
        _failed = false;
        AppendToken(verb);
    }

    public void Add(string key, ReadOnlySpan<char> value)
    {
        if (BeginField(key))
        {
            AppendToken(value, allowEmpty: true);
        }
    }

    public void Add(string key, long value)
    {
        if (BeginField(key) && !_failed)
        {
            if (value.TryFormat(_buffer[_position..], out int written))
            {
                _position += written;
            }
            else
            {
                _failed = true;
            }
        }
    }

    /// <summary>A value given as bytes (an echo of what a client wrote); it must be printable ASCII without space or '='.</summary>
    public void AddRaw(string key, ReadOnlySpan<byte> value)
    {
        if (!NoticeFormat.IsValue(value))
        {
            _failed = true;
        }

        if (BeginField(key))
        {
            AppendBytes(value);
        }
    }

    /// <summary>Bytes written as a name is: outside <c>A-Z a-z 0-9 . - _</c> as <c>%XX</c>.</summary>
    public void AddEscapedName(string key, ReadOnlySpan<byte> name)
    {
        if (name.Length > SocksAddressCodec.MaxDomainNameLength)
        {
            _failed = true;
        }

        if (BeginField(key))
        {
            Span<byte> text = stackalloc byte[SocksAddressCodec.MaxDomainNameLength * 3];
            AppendBytes(text[..NoticeFormat.EscapeName(text, name)]);
        }
    }

    /// <summary><c>icmp=3/3</c> style.</summary>
    public void AddTypeCode(string key, byte type, byte code)
    {
        if (BeginField(key))
        {
            Span<byte> text = stackalloc byte[7];
            int n = type.TryFormat(text, out int w) ? w : 0;
            text[n++] = (byte)'/';
            n += code.TryFormat(text[n..], out w) ? w : 0;
            AppendBytes(text[..n]);
        }
    }

    public void AddAddress(string key, IPAddress address)
    {
        if (BeginField(key))
        {
            Span<byte> text = stackalloc byte[NoticeFormat.MaxAddressLength];
            AppendBytes(text[..NoticeFormat.FormatAddress(text, address)]);
        }
    }

    public void AddEndpoint(string key, IPAddress address, int port)
    {
        if ((uint)port > ushort.MaxValue)
        {
            _failed = true;
        }

        if (BeginField(key))
        {
            Span<byte> text = stackalloc byte[NoticeFormat.MaxAddressLength + 6];
            AppendBytes(text[..NoticeFormat.FormatEndpoint(text, address, port)]);
        }
    }

    public void AddEndpoint(string key, in SocksAddress address)
    {
        if (BeginField(key))
        {
            Span<byte> text = stackalloc byte[NoticeFormat.MaxEndpointLength];
            AppendBytes(text[..NoticeFormat.FormatEndpoint(text, address)]);
        }
    }

    /// <summary>Appends <c>\n</c>; false (nothing usable written) if any field was bad or the line is too long.</summary>
    public bool TryComplete(out int length)
    {
        length = 0;
        if (_failed || !Has(1))
        {
            return false;
        }

        _buffer[_position++] = (byte)'\n';
        length = _position;
        return true;
    }

    private bool BeginField(string key)
    {
        if (_failed || key.Length == 0 || !Has(key.Length + 2))
        {
            _failed = true;
            return false;
        }

        _buffer[_position++] = (byte)' ';
        AppendToken(key);
        if (!_failed)
        {
            _buffer[_position++] = (byte)'=';
        }

        return !_failed;
    }

    private bool Has(int bytes)
    {
        if (_position + bytes > _buffer.Length)
        {
            _failed = true;
        }

        return !_failed;
    }

    // Formatted first and measured, so a line that fits is never refused for the room
    // the longest possible value would have needed.
    private void AppendBytes(scoped ReadOnlySpan<byte> text)
    {
        if (Has(text.Length))
        {
            text.CopyTo(_buffer[_position..]);
            _position += text.Length;
        }
    }

    /// <summary>Verbs, keys and values: printable ASCII without space or '=', so the line splits back exactly.</summary>
    private void AppendToken(ReadOnlySpan<char> text, bool allowEmpty = false)
    {
        if ((text.IsEmpty && !allowEmpty) || !Has(text.Length))
        {
            _failed = true;
            return;
        }

        foreach (char c in text)
        {
            if (c > 0x7F || !NoticeFormat.IsValueByte((byte)c))
            {
                _failed = true;
                return;
            }
        }

        Encoding.ASCII.GetBytes(text, _buffer[_position..]);
        _position += text.Length;
    }
}
