using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Socks5UdpRelay.Cli.Tests.Tun;

/// <summary>A logger that keeps every line (level and text), for tests of what the gateway says.</summary>
internal sealed class LogLines : ILogger
{
    public ConcurrentQueue<(LogLevel Level, string Text)> Lines { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Lines.Enqueue((logLevel, formatter(state, exception)));

    public int Count(string fragment) => Lines.Count(l => l.Text.Contains(fragment, StringComparison.Ordinal));
}
