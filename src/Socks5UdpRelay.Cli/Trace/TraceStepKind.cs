namespace Socks5UdpRelay.Cli.Trace;

internal enum TraceStepKind
{
    /// <summary>Send probe <see cref="TraceStep.Probe"/> now.</summary>
    Send,

    /// <summary>Nothing to send: wait for an answer, at most <see cref="TraceStep.Wait"/>.</summary>
    Wait,

    /// <summary>Every hop to report is complete.</summary>
    Done,
}
