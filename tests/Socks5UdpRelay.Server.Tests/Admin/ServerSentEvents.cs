using System.Text.Json;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Admin;

/// <summary>A reader of <c>text/event-stream</c> as the HTML standard defines it, enough for the flow stream: <c>event:</c> and one <c>data:</c> line per event.</summary>
internal sealed class ServerSentEvents(HttpResponseMessage response, Stream body) : IAsyncDisposable
{
    private readonly StreamReader _reader = new(body);

    /// <summary>The next event, within the test timeout; null when the stream ends.</summary>
    public async Task<(string Name, JsonElement Data)?> NextAsync(CancellationToken? cancellationToken = null)
    {
        var token = cancellationToken ?? TestTimeout.Token;
        string name = "message";
        string? data = null;
        while (await _reader.ReadLineAsync(token) is { } line)
        {
            if (line.Length == 0)
            {
                Assert.NotNull(data);
                return (name, JsonDocument.Parse(data).RootElement.Clone());
            }

            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                name = line["event: ".Length..];
            }
            else
            {
                Assert.StartsWith("data: ", line);
                Assert.Null(data); // one data line per event: the JSON holds no newline
                data = line["data: ".Length..];
            }
        }

        return null;
    }

    /// <summary>Events until one satisfies <paramref name="match"/> (which it returns); fails at the test timeout.</summary>
    public async Task<(string Name, JsonElement Data)> UntilAsync(Func<string, JsonElement, bool> match)
    {
        using var cts = new CancellationTokenSource(TestTimeout.Default);
        while (true)
        {
            var next = await NextAsync(cts.Token) ?? throw new InvalidOperationException("the stream ended");
            if (match(next.Name, next.Data))
            {
                return next;
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        response.Dispose();
        return ValueTask.CompletedTask;
    }
}
