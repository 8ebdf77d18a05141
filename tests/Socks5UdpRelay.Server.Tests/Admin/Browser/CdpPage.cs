using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Socks5UdpRelay.Tests.Shared;

namespace Socks5UdpRelay.Server.Tests.Admin.Browser;

/// <summary>
/// A small Chrome DevTools Protocol client for one page (https://chromedevtools.github.io/devtools-protocol/):
/// commands with their results, JavaScript dialogs accepted as they open, and the few things a
/// test of a page needs: navigate, wait for an element, click it as a mouse would, take a screenshot.
/// </summary>
internal sealed class CdpPage : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly CancellationTokenSource _closing = new();
    private readonly SemaphoreSlim _sending = new(1, 1);
    private readonly ConcurrentQueue<string> _dialogs = new();
    private Task _receiving = Task.CompletedTask;
    private int _nextId;

    private CdpPage(ClientWebSocket socket) => _socket = socket;

    /// <summary>The messages of the dialogs the page opened (each was accepted).</summary>
    public IReadOnlyCollection<string> Dialogs => _dialogs;

    public static async Task<CdpPage> ConnectAsync(Uri endpoint)
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        await socket.ConnectAsync(endpoint, TestTimeout.Token);
        var page = new CdpPage(socket);
        page._receiving = Task.Run(page.ReceiveAsync);
        await page.SendAsync("Page.enable");
        await page.SendAsync("Runtime.enable");
        return page;
    }

    /// <summary>Runs a command; its result, or an exception with the protocol's error.</summary>
    public async Task<JsonElement> SendAsync(string method, JsonObject? parameters = null)
    {
        int id = Interlocked.Increment(ref _nextId);
        var result = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = result;
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? [] };
        byte[] bytes = Encoding.UTF8.GetBytes(message.ToJsonString());
        await _sending.WaitAsync(TestTimeout.Token);
        try
        {
            await _socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, TestTimeout.Token);
        }
        finally
        {
            _sending.Release();
        }

        return await result.Task.WaitAsync(TestTimeout.Default);
    }

    public Task NavigateAsync(string url) => SendAsync("Page.navigate", new JsonObject { ["url"] = url });

    /// <summary>Evaluates <paramref name="expression"/> in the page (awaiting a promise), returning its value.</summary>
    public async Task<JsonElement> EvaluateAsync(string expression)
    {
        var reply = await SendAsync("Runtime.evaluate", new JsonObject { ["expression"] = expression, ["awaitPromise"] = true, ["returnByValue"] = true });
        if (reply.TryGetProperty("exceptionDetails", out var exception))
        {
            throw new InvalidOperationException($"in the page: {exception}");
        }

        return reply.GetProperty("result").TryGetProperty("value", out var value) ? value.Clone() : default;
    }

    /// <summary>
    /// Waits until <paramref name="selector"/> matches (or, with <paramref name="present"/> false,
    /// no longer matches), watching the DOM as it changes; returns the page's clock (ms since the
    /// epoch) at the change, so a test can time what it waited for against its own clock, and the
    /// value of <paramref name="read"/> (a JavaScript expression) at that moment.
    /// </summary>
    public async Task<long> WaitForAsync(string selector, bool present = true) => (await WaitForAsync(selector, present, "null")).At;

    /// <inheritdoc cref="WaitForAsync(string, bool)"/>
    public async Task<(long At, JsonElement Read)> WaitForAsync(string selector, bool present, string read)
    {
        string js = $$"""
            new Promise((resolve, reject) => {
              const met = () => (document.querySelector({{JsonSerializer.Serialize(selector)}}) !== null) === {{(present ? "true" : "false")}};
              let timer;
              const done = () => ({ at: Date.now(), read: ({{read}}) });
              const observer = new MutationObserver(() => { if (met()) { const d = done(); observer.disconnect(); clearTimeout(timer); resolve(d); } });
              if (met()) { resolve(done()); return; }
              observer.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
              timer = setTimeout(() => { observer.disconnect(); reject(new Error('not met in time: ' + {{JsonSerializer.Serialize(selector)}})); }, {{(int)(TestTimeout.Default.TotalMilliseconds - 1000)}});
            })
            """;
        var result = await EvaluateAsync(js);
        return (result.GetProperty("at").GetInt64(), result.GetProperty("read").Clone());
    }

    /// <summary>Clicks the middle of the element <paramref name="selector"/> matches, with mouse events, as a person would.</summary>
    public async Task ClickAsync(string selector)
    {
        var point = await EvaluateAsync($$"""
            (() => {
              const e = document.querySelector({{JsonSerializer.Serialize(selector)}});
              e.scrollIntoView({ block: 'center' });
              const r = e.getBoundingClientRect();
              return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
            })()
            """);
        double x = point.GetProperty("x").GetDouble(), y = point.GetProperty("y").GetDouble();
        await SendAsync("Input.dispatchMouseEvent", new JsonObject { ["type"] = "mouseMoved", ["x"] = x, ["y"] = y });
        await SendAsync("Input.dispatchMouseEvent", new JsonObject { ["type"] = "mousePressed", ["x"] = x, ["y"] = y, ["button"] = "left", ["clickCount"] = 1 });
        await SendAsync("Input.dispatchMouseEvent", new JsonObject { ["type"] = "mouseReleased", ["x"] = x, ["y"] = y, ["button"] = "left", ["clickCount"] = 1 });
    }

    public async Task<byte[]> ScreenshotAsync()
        => Convert.FromBase64String((await SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png" })).GetProperty("data").GetString()!);

    public async ValueTask DisposeAsync()
    {
        await _closing.CancelAsync();
        try
        {
            await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, TestTimeout.Token);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            // the browser went first
        }

        await _receiving.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _socket.Dispose();
    }

    private async Task ReceiveAsync()
    {
        byte[] buffer = new byte[64 * 1024];
        var message = new MemoryStream();
        try
        {
            while (!_closing.IsCancellationRequested)
            {
                var result = await _socket.ReceiveAsync(buffer, _closing.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage)
                {
                    continue;
                }

                using var document = JsonDocument.Parse(message.ToArray());
                message.SetLength(0);
                Dispatch(document.RootElement);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            // closed
        }
        finally
        {
            foreach (var pending in _pending.Values)
            {
                pending.TrySetException(new InvalidOperationException("the DevTools connection closed"));
            }
        }
    }

    private void Dispatch(JsonElement message)
    {
        if (message.TryGetProperty("id", out var id))
        {
            if (_pending.TryRemove(id.GetInt32(), out var pending))
            {
                if (message.TryGetProperty("error", out var error))
                {
                    pending.TrySetException(new InvalidOperationException($"DevTools: {error}"));
                }
                else
                {
                    pending.TrySetResult(message.GetProperty("result").Clone());
                }
            }

            return;
        }

        if (message.GetProperty("method").GetString() == "Page.javascriptDialogOpening")
        {
            // The dialog blocks the page (and the click that opened it) until answered: answer from here, not awaited.
            _dialogs.Enqueue(message.GetProperty("params").GetProperty("message").GetString() ?? "");
            _ = SendAsync("Page.handleJavaScriptDialog", new JsonObject { ["accept"] = true });
        }
    }
}
