namespace Socks5UdpRelay.Cli;

/// <summary>
/// One line of progress on stderr, for a terminal only: rewritten in place, and cleared before
/// anything else is written, so neither stdout nor the messages on stderr ever carry it.
/// </summary>
internal sealed class ProgressLine(CliConsole console)
{
    private bool _shown;

    public void Show(string text)
    {
        if (!console.IsErrorTerminal)
        {
            return;
        }

        console.Error.Write($"\r\e[K{text}");
        console.Error.Flush();
        _shown = true;
    }

    public void Clear()
    {
        if (_shown)
        {
            _shown = false;
            console.Error.Write("\r\e[K");
            console.Error.Flush();
        }
    }
}
