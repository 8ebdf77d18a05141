namespace Socks5UdpRelay.Cli.Doctor;

/// <summary>What one stage concluded.</summary>
internal enum Verdict
{
    /// <summary>Works.</summary>
    Ok,

    /// <summary>Works, with a limit worth knowing (no notices, relays only for clients that name their address, ...).</summary>
    Warn,

    /// <summary>Does not work, and the line says why.</summary>
    Fail,

    /// <summary>Silence that cannot tell two causes apart; the line names both. Counts as a failure for the exit code.</summary>
    Unknown,

    /// <summary>Not run: an earlier stage failed, or it needs an option that was not given.</summary>
    Skip,
}

internal static class Verdicts
{
    public static string Name(this Verdict verdict) => verdict switch
    {
        Verdict.Ok => "ok",
        Verdict.Warn => "warn",
        Verdict.Fail => "fail",
        Verdict.Unknown => "unknown",
        Verdict.Skip => "skip",
        _ => throw new ArgumentOutOfRangeException(nameof(verdict)),
    };
}
