using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Socks5UdpRelay.Server.Tests.Fixtures;

/// <summary>
/// Keeps every log event of the server under test (level and rendered text), so tests can assert on
/// what an operator would read. Event ids are left out on purpose: tests assert behaviour, not ids.
/// </summary>
internal sealed class LogCapture : ILoggerProvider
{
    private ConcurrentQueue<(LogLevel Level, string Message)> _events = new();

    public IReadOnlyList<(LogLevel Level, string Message)> Events => _events.ToArray();

    public void Adopt(LogCapture other) => _events = other._events;

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => owner._events.Enqueue((logLevel, formatter(state, exception)));
    }
}
