using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Text;

namespace Socks5UdpRelay.Protocol;

/// <summary>
/// An answer line, parsed for clients: <c>VERB-OK …</c> or <c>VERB-FAILED … reason=…</c> (the
/// README, "Client commands"), with typed views of its keys. Unknown keys are kept, as in notices.
/// </summary>
public sealed class CommandAnswer
{
    private readonly Notice _line;

    private CommandAnswer(Notice line, string command, bool succeeded)
    {
        _line = line;
        Command = command;
        Succeeded = succeeded;
    }

    /// <summary>The answer's verb, e.g. <c>SET-OK</c>.</summary>
    public string Verb => _line.Verb;

    /// <summary>The verb it answers: <c>SET</c>, <c>MAP</c>, <c>UNMAP</c>, or <c>COMMAND</c> for a line the server did not take for a command it offers.</summary>
    public string Command { get; }

    /// <summary>True for <c>-OK</c>, false for <c>-FAILED</c>.</summary>
    public bool Succeeded { get; }

    /// <summary>The line as received, without its <c>\n</c>.</summary>
    public string Line => _line.Line;

    public IReadOnlyDictionary<string, string> Fields => _line.Fields;

    public string? this[string key] => _line[key];

    /// <summary>The <c>reason</c> as written; null on success.</summary>
    public string? ReasonText => _line.Reason;

    /// <summary>The <c>reason</c>; <see cref="CommandFailureReason.Other"/> when absent or not one this reader knows.</summary>
    public CommandFailureReason Reason => _line.Reason is { } text ? CommandFailureReasons.FromWireName(text) : CommandFailureReason.Other;

    /// <summary><c>dst</c> as the server echoed it.</summary>
    public string? Destination => _line.Destination;

    /// <summary><c>addr</c>: the address a name resolved to, with its port; null when absent or not an IP endpoint.</summary>
    public IPEndPoint? Address
        => NoticeFormat.TryParseEndpoint(_line[NoticeKeys.Address], out _, out var address, out ushort port) && address is not null
            ? new IPEndPoint(address, port)
            : null;

    /// <summary><c>ttl</c>: 1-255, <see cref="ClientCommand.DefaultTtl"/> for <c>default</c>; null when absent or out of range.</summary>
    public int? Ttl => _line[CommandKeys.Ttl] switch
    {
        null => null,
        CommandKeys.DefaultTtl => ClientCommand.DefaultTtl,
        var text => byte.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out byte n) && n > 0 ? n : null,
    };

    /// <summary><c>map</c>; null when absent or not 0-65535.</summary>
    public ushort? Mapping => ushort.TryParse(_line[NoticeKeys.Mapping], NumberStyles.None, CultureInfo.InvariantCulture, out ushort m) ? m : null;

    /// <summary><c>port</c> (MAP-OK: the mapping's outbound port); null when absent or not 1-65535.</summary>
    public ushort? Port => ushort.TryParse(_line[CommandKeys.Port], NumberStyles.None, CultureInfo.InvariantCulture, out ushort p) && p > 0 ? p : null;

    /// <summary><c>verb</c> (COMMAND-FAILED reason=unknown) with <c>%XX</c> undone; null when absent or badly escaped.</summary>
    public string? UnknownVerb
    {
        get
        {
            if (_line[CommandKeys.Verb] is not { } text)
            {
                return null;
            }

            var escaped = Encoding.Latin1.GetBytes(text);
            var raw = new byte[escaped.Length];
            return NoticeFormat.TryUnescapeName(escaped, raw, out int n) ? Encoding.Latin1.GetString(raw, 0, n) : null;
        }
    }

    /// <summary>Parses a line (with or without its <c>\n</c>); false when it is not an answer (see <see cref="CommandVerbs.IsAnswer"/>).</summary>
    public static bool TryParse(ReadOnlySpan<byte> line, [NotNullWhen(true)] out CommandAnswer? answer)
    {
        answer = null;
        if (!CommandVerbs.IsAnswer(new NoticeLineReader(line).Verb) || !Notice.TryParse(line, out var notice))
        {
            return false;
        }

        bool succeeded = notice.Verb.EndsWith(CommandVerbs.OkSuffix, StringComparison.Ordinal);
        string command = notice.Verb[..^(succeeded ? CommandVerbs.OkSuffix.Length : CommandVerbs.FailedSuffix.Length)];
        answer = new CommandAnswer(notice, command, succeeded);
        return true;
    }

    public static bool TryParse(string line, [NotNullWhen(true)] out CommandAnswer? answer) => TryParse(Encoding.Latin1.GetBytes(line), out answer);

    public override string ToString() => Line;
}
