using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Socks5UdpRelay.Server.Metrics;

/// <summary>
/// Collects this server's meter with a <see cref="MeterListener"/> and writes it in the
/// Prometheus text exposition format (version 0.0.4): dots become underscores, counters get
/// <c>_total</c>, tags become labels.
/// </summary>
internal sealed class PrometheusExporter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<(Instrument Instrument, string Labels), double> _values = new();
    private readonly Lock _scrapeLock = new();

    public PrometheusExporter(RelayMetrics metrics)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, metrics.Meter))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>(OnMeasurement);
        _listener.SetMeasurementEventCallback<int>((i, v, t, s) => OnMeasurement(i, v, t, s));
        _listener.Start();
    }

    public string Scrape()
    {
        lock (_scrapeLock)
        {
            _listener.RecordObservableInstruments();
            var text = new StringBuilder();
            foreach (var group in _values.GroupBy(v => v.Key.Instrument).OrderBy(g => g.Key.Name, StringComparer.Ordinal))
            {
                var instrument = group.Key;
                bool counter = instrument is Counter<long> or ObservableCounter<long>;
                string name = instrument.Name.Replace('.', '_').Replace('-', '_') + (instrument.Unit == "By" ? "_bytes" : string.Empty) + (counter ? "_total" : string.Empty);
                text.Append("# HELP ").Append(name).Append(' ').Append(instrument.Description).Append('\n');
                text.Append("# TYPE ").Append(name).Append(' ').Append(counter ? "counter" : "gauge").Append('\n');
                foreach (var ((_, labels), value) in group.OrderBy(g => g.Key.Labels, StringComparer.Ordinal))
                {
                    text.Append(name).Append(labels).Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
                }
            }

            return text.ToString();
        }
    }

    public void Dispose() => _listener.Dispose();

    private void OnMeasurement(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        string labels = Labels(tags);
        var key = (instrument, labels);
        if (instrument is Counter<long>)
        {
            _values.AddOrUpdate(key, value, (_, old) => old + value);
        }
        else
        {
            _values[key] = value; // observable instruments report their current value
        }
    }

    private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.IsEmpty)
        {
            return string.Empty;
        }

        var text = new StringBuilder("{");
        for (int i = 0; i < tags.Length; i++)
        {
            if (i > 0)
            {
                text.Append(',');
            }

            string value = Convert.ToString(tags[i].Value, CultureInfo.InvariantCulture) ?? string.Empty;
            text.Append(tags[i].Key).Append("=\"").Append(value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n")).Append('"');
        }

        return text.Append('}').ToString();
    }
}
