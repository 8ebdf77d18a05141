using System.Globalization;
using System.Net;
using System.Text;
using Serilog.Core;
using Serilog.Events;

namespace Socks5UdpRelay.Server.Logging;

/// <summary>
/// Escapes control characters in every property of every log event before the text format
/// renders it, so a value a client chose (a domain name, a user name, a CONNECT host) cannot end
/// a log line and forge the next one (README, "Security"). One place for every line, instead of
/// escaping at each call: <c>\n</c>, <c>\r</c>, <c>\t</c> and <c>\\</c> as such, other C0 and C1
/// controls, DEL and the Unicode line and paragraph separators as <c>\xHH</c> or <c>\uHHHH</c>.
/// The JSON format needs none of this: JSON escapes them itself, and a collector keeps the exact value.
/// </summary>
internal sealed class LogValueEscaper : ILogEventEnricher
{
    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        List<LogEventProperty>? escaped = null;
        foreach (var (name, value) in logEvent.Properties)
        {
            var safe = Escape(value);
            if (!ReferenceEquals(safe, value))
            {
                (escaped ??= []).Add(new LogEventProperty(name, safe));
            }
        }

        if (escaped is not null)
        {
            foreach (var property in escaped)
            {
                logEvent.AddOrUpdateProperty(property);
            }
        }
    }

    /// <summary>The value itself when nothing needs escaping (the usual case: no allocation), else an escaped copy.</summary>
    internal static LogEventPropertyValue Escape(LogEventPropertyValue value)
    {
        switch (value)
        {
            case ScalarValue { Value: string text }:
                return NeedsEscaping(text) ? new ScalarValue(EscapeText(text)) : value;
            case ScalarValue { Value: null or IFormattable or bool or IPAddress or IPEndPoint }:
                // Numbers, durations, times, enums and addresses format without control characters.
                return value;
            case ScalarValue { Value: var other }:
                // Anything else renders through ToString, which may carry what a client sent.
                string rendered = Convert.ToString(other, CultureInfo.InvariantCulture) ?? string.Empty;
                return NeedsEscaping(rendered) ? new ScalarValue(EscapeText(rendered)) : value;
            case SequenceValue sequence:
                var items = sequence.Elements.Select(Escape).ToList();
                return items.SequenceEqual(sequence.Elements) ? value : new SequenceValue(items);
            case StructureValue structure:
                var properties = structure.Properties.Select(p => new LogEventProperty(p.Name, Escape(p.Value))).ToList();
                return properties.Select(p => p.Value).SequenceEqual(structure.Properties.Select(p => p.Value)) ? value : new StructureValue(properties, structure.TypeTag);
            case DictionaryValue dictionary:
                var entries = dictionary.Elements.Select(e => KeyValuePair.Create((ScalarValue)Escape(e.Key), Escape(e.Value))).ToList();
                return entries.Zip(dictionary.Elements).All(p => ReferenceEquals(p.First.Key, p.Second.Key) && ReferenceEquals(p.First.Value, p.Second.Value))
                    ? value
                    : new DictionaryValue(entries);
            default:
                return value;
        }
    }

    internal static bool NeedsEscaping(string text)
    {
        foreach (char c in text)
        {
            if (IsEscaped(c))
            {
                return true;
            }
        }

        return false;
    }

    internal static string EscapeText(string text)
    {
        var builder = new StringBuilder(text.Length + 8);
        foreach (char c in text)
        {
            switch (c)
            {
                case '\n':
                    builder.Append("\\n");
                    break;
                case '\r':
                    builder.Append("\\r");
                    break;
                case '\t':
                    builder.Append("\\t");
                    break;
                case '\\':
                    builder.Append("\\\\");
                    break;
                case < '\u0100' when IsEscaped(c):
                    builder.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:X2}");
                    break;
                case '\u2028' or '\u2029':
                    builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
                    break;
                default:
                    builder.Append(c);
                    break;
            }
        }

        return builder.ToString();
    }

    /// <summary>C0 controls, DEL, C1 controls (U+0085 ends a line for some readers), the line and paragraph separators, and the escape character itself.</summary>
    private static bool IsEscaped(char c) => c < ' ' || c is '\\' or (>= '\u007F' and <= '\u009F') or '\u2028' or '\u2029';
}
