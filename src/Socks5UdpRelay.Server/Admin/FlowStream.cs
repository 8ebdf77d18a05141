using System.Buffers;
using System.Text.Json;
using Socks5UdpRelay.Server.Metrics;

namespace Socks5UdpRelay.Server.Admin;

/// <summary>
/// One <c>GET /flows/stream</c>: server-sent events (HTML Living Standard, "Server-sent events"),
/// first a <c>snapshot</c> of the associations the query selects, then at each tick a
/// <c>changes</c> event with those that changed or newly match (whole) and the ids that left.
/// What it last sent is remembered per association as the feed's version, so a tick costs a
/// reader nothing but the changed associations.
/// </summary>
internal sealed class FlowStream(FlowFeed feed, FlowQuery query, HttpExchange exchange)
{
    /// <summary>A reader that takes longer than this to take one event is dropped: the stream must not hold a tick's memory for it.</summary>
    public static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(10);

    // What the reader was last sent (id → version), and the one being built: swapped each event.
    private Dictionary<long, long> _sent = [];
    private Dictionary<long, long> _sending = [];

    /// <summary>Streams until the client leaves, a write times out, or <paramref name="stopping"/>; the caller has joined the feed with <paramref name="after"/>.</summary>
    public async Task RunAsync(long after, CancellationToken stopping)
    {
        using var gone = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var closed = exchange.WaitForCloseAsync(gone.Token);
        try
        {
            await exchange.StartStreamAsync("text/event-stream; charset=utf-8", gone.Token, AdminRoutes.NoStore, AdminRoutes.NoSniff).ConfigureAwait(false);
            var buffer = new ArrayBufferWriter<byte>(4096);
            bool first = true;
            while (true)
            {
                var next = feed.NextAsync(after, gone.Token);
                if (await Task.WhenAny(next, closed).ConfigureAwait(false) == closed)
                {
                    return;
                }

                var state = await next.ConfigureAwait(false);
                after = state.Seq;
                buffer.ResetWrittenCount();
                Write(buffer, state, first);
                first = false;
                using var write = CancellationTokenSource.CreateLinkedTokenSource(gone.Token);
                write.CancelAfter(WriteTimeout);
                await exchange.SendAsync(buffer.WrittenMemory, write.Token).ConfigureAwait(false);
            }
        }
        finally
        {
            await gone.CancelAsync().ConfigureAwait(false);
            await closed.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>One event: <c>event: NAME</c>, one <c>data:</c> line of JSON (it holds no newline), a blank line.</summary>
    private void Write(ArrayBufferWriter<byte> buffer, FlowState state, bool first)
    {
        buffer.Write(first ? "event: snapshot\ndata: "u8 : "event: changes\ndata: "u8);
        using (var w = new Utf8JsonWriter(buffer, FlowJson.Options))
        {
            w.WriteStartObject();
            w.WriteNumber("seq", state.Seq);
            FlowJson.WriteAt(w, state.At);
            var shown = new List<FlowEntry>();
            int total = 0;
            foreach (var entry in state.Entries)
            {
                if (query.Matches(entry.Snapshot) && total++ < query.Limit)
                {
                    shown.Add(entry);
                }
            }

            w.WriteNumber("total", total);
            _sending.Clear();
            w.WriteStartArray(first ? "associations" : "upserted");
            foreach (var entry in shown)
            {
                _sending[entry.Id] = entry.Version;
                if (first || !_sent.TryGetValue(entry.Id, out long version) || version != entry.Version)
                {
                    FlowJson.WriteAssociation(w, entry.Snapshot);
                }
            }

            w.WriteEndArray();
            if (!first)
            {
                w.WriteStartArray("removed");
                foreach (long id in _sent.Keys)
                {
                    if (!_sending.ContainsKey(id))
                    {
                        w.WriteNumberValue(id);
                    }
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();
            (_sent, _sending) = (_sending, _sent);
        }

        buffer.Write("\n\n"u8);
    }
}
