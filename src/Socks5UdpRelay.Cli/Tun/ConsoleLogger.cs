using Microsoft.Extensions.Logging;

namespace Socks5UdpRelay.Cli.Tun;

/// <summary>
/// The gateway's log lines on stderr, one per line in s5nc's own voice (<c>s5nc: …</c>,
/// <c>s5nc: warning: …</c>): Information and above by default, Debug too with --verbose.
/// </summary>
internal sealed class ConsoleLogger(CliConsole console, LogLevel minimum) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && logLevel != LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
        {
            return;
        }

        string prefix = logLevel switch
        {
            LogLevel.Warning => "warning: ",
            >= LogLevel.Error => "error: ",
            _ => string.Empty,
        };
        string cause = exception is null ? string.Empty : $": {exception.Message} ({exception.GetType().Name})";
        console.Say(prefix + formatter(state, exception) + cause);
    }
}
