using System.Globalization;
using Serilog.Events;
using Serilog.Formatting;
using Serilog.Formatting.Display;
using Serilog.Formatting.Json;

namespace Socks5UdpRelay.Server.Logging;

/// <summary>
/// <c>LogFormat=json</c>: one JSON object per line with the fields of Serilog's own
/// <c>JsonFormatter</c> (Timestamp, Level, MessageTemplate, RenderedMessage, Exception,
/// Properties), except that RenderedMessage is rendered as the text format renders it
/// (<c>{Message:lj}</c>): Serilog's formatter quotes every string inside the message, which turned
/// <c>http://127.0.0.1:9180/metrics</c> into <c>http://"127.0.0.1:9180"/metrics</c>.
/// </summary>
internal sealed class JsonLogFormatter : ITextFormatter
{
    private readonly MessageTemplateTextFormatter _message = new("{Message:lj}", CultureInfo.InvariantCulture);
    private readonly JsonValueFormatter _values = new(typeTagName: "$type");

    public void Format(LogEvent logEvent, TextWriter output)
    {
        output.Write("{\"Timestamp\":\"");
        output.Write(logEvent.Timestamp.ToString("o", CultureInfo.InvariantCulture));
        output.Write("\",\"Level\":\"");
        output.Write(logEvent.Level);
        output.Write("\",\"MessageTemplate\":");
        JsonValueFormatter.WriteQuotedJsonString(logEvent.MessageTemplate.Text, output);
        output.Write(",\"RenderedMessage\":");
        using (var message = new StringWriter(CultureInfo.InvariantCulture))
        {
            _message.Format(logEvent, message);
            JsonValueFormatter.WriteQuotedJsonString(message.ToString(), output);
        }

        if (logEvent.Exception is not null)
        {
            output.Write(",\"Exception\":");
            JsonValueFormatter.WriteQuotedJsonString(logEvent.Exception.ToString(), output);
        }

        if (logEvent.Properties.Count > 0)
        {
            output.Write(",\"Properties\":{");
            string separator = string.Empty;
            foreach (var (name, value) in logEvent.Properties)
            {
                output.Write(separator);
                separator = ",";
                JsonValueFormatter.WriteQuotedJsonString(name, output);
                output.Write(':');
                _values.Format(value, output);
            }

            output.Write('}');
        }

        output.Write('}');
        output.WriteLine();
    }
}
