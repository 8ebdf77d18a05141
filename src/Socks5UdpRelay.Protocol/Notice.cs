using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Text;

namespace Socks5UdpRelay.Protocol;

/// <summary>
/// A notice line, parsed for clients: the verb, every field as text, and typed views of the keys
/// the README defines. Unknown verbs and keys are kept, not rejected, so the format can grow.
/// </summary>
public sealed class Notice
{
    private readonly Dictionary<string, string> _fields;

    private Notice(string verb, Dictionary<string, string> fields, string line)
    {
        Verb = verb;
        _fields = fields;
        Line = line;
    }

    public string Verb { get; }

    /// <summary>The line as received, without its <c>\n</c>.</summary>
    public string Line { get; }

    public IReadOnlyDictionary<string, string> Fields => _fields;

    public string? this[string key] => _fields.GetValueOrDefault(key);

    /// <summary><c>dst</c> as the server wrote it (names still escaped).</summary>
    public string? Destination => this[NoticeKeys.Destination];

    public string? Errno => this[NoticeKeys.Errno];

    public string? Reason => this[NoticeKeys.Reason];

    /// <summary>The <c>error</c> kind; null when absent, <see cref="UdpErrorKind.Unknown"/> for a kind this reader does not know.</summary>
    public UdpErrorKind? ErrorKind
    {
        get
        {
            string? value = this[NoticeKeys.Error];
            if (value is null)
            {
                return null;
            }

            return UdpErrorKinds.TryParseWireName(value, out var kind) ? kind : UdpErrorKind.Unknown;
        }
    }

    public (byte Type, byte Code)? Icmp => ParseTypeCode(this[NoticeKeys.Icmp]);

    public (byte Type, byte Code)? Icmp6 => ParseTypeCode(this[NoticeKeys.Icmp6]);

    /// <summary><c>from</c>: a bare address only (no port, brackets or shorthand such as <c>1</c> for 0.0.0.1).</summary>
    public IPAddress? From
    {
        get
        {
            string? text = this[NoticeKeys.From];
            return IPAddress.TryParse(text, out var a) && string.Equals(a.ToString(), text, StringComparison.OrdinalIgnoreCase) ? a : null;
        }
    }

    public int? Mtu => ParseInt(this[NoticeKeys.Mtu]);

    public int? Version => ParseInt(this[NoticeKeys.Version]);

    /// <summary><c>rttl</c>: the TTL / hop limit the ICMP error arrived with at the relay; null when absent or not 0-255.</summary>
    public int? ReceivedTtl => ParseInt(this[NoticeKeys.ReceivedTtl]) is int n and <= 255 ? n : null;

    /// <summary><c>map</c>: the mapping the notice is about; 0 (the association's first mapping) when absent or not 0-65535.</summary>
    public ushort Mapping => ushort.TryParse(this[NoticeKeys.Mapping], NumberStyles.None, CultureInfo.InvariantCulture, out ushort m) ? m : (ushort)0;

    /// <summary>On the greeting, <c>commands</c>: what the server accepts; <see cref="OfferedCommands.None"/> when absent.</summary>
    public OfferedCommands Commands => this[NoticeKeys.Commands] is { } value ? OfferedCommandsFormat.Parse(value) : OfferedCommands.None;

    public long Suppressed => long.TryParse(this[NoticeKeys.Suppressed], NumberStyles.None, CultureInfo.InvariantCulture, out long n) ? n : 0;

    /// <summary>Parses a line (with or without its <c>\n</c>); false when it has no well-formed verb.</summary>
    public static bool TryParse(ReadOnlySpan<byte> line, [NotNullWhen(true)] out Notice? notice)
    {
        notice = null;
        var reader = new NoticeLineReader(line);
        if (!reader.IsWellFormed)
        {
            return false;
        }

        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.TryReadField(out var key, out var value))
        {
            fields[Encoding.Latin1.GetString(key)] = Encoding.Latin1.GetString(value);
        }

        int end = line.Length;
        while (end > 0 && line[end - 1] is (byte)'\n' or (byte)'\r')
        {
            end--;
        }

        notice = new Notice(Encoding.ASCII.GetString(reader.Verb), fields, Encoding.Latin1.GetString(line[..end]));
        return true;
    }

    public static bool TryParse(string line, [NotNullWhen(true)] out Notice? notice) => TryParse(Encoding.Latin1.GetBytes(line), out notice);

    public override string ToString() => Line;

    private static (byte, byte)? ParseTypeCode(string? value)
    {
        if (value is null)
        {
            return null;
        }

        int slash = value.IndexOf('/');
        return slash > 0
            && byte.TryParse(value.AsSpan(0, slash), NumberStyles.None, CultureInfo.InvariantCulture, out byte t)
            && byte.TryParse(value.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out byte c)
            ? (t, c)
            : null;
    }

    private static int? ParseInt(string? value)
        => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : null;
}
