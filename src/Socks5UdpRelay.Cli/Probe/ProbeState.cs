namespace Socks5UdpRelay.Cli.Probe;

/// <summary>The verdict on one port (the README, "s5nc probe").</summary>
internal enum ProbeState
{
    /// <summary>Any reply.</summary>
    Open,

    /// <summary>A port-unreachable notice.</summary>
    Closed,

    /// <summary>Any other unreachable notice, or UDP-DENIED.</summary>
    Filtered,

    /// <summary>Silence after every retry.</summary>
    OpenFiltered,

    /// <summary>The host could not be probed at all (UDP-UNRESOLVED): no verdict, reported per host.</summary>
    Error,
}

internal static class ProbeStates
{
    public static string ToText(this ProbeState state) => state switch
    {
        ProbeState.Open => "open",
        ProbeState.Closed => "closed",
        ProbeState.Filtered => "filtered",
        ProbeState.OpenFiltered => "open|filtered",
        _ => "error",
    };
}
