namespace Socks5UdpRelay.Gateway.Notices;

/// <summary>What became of a notice handed to the gateway.</summary>
public enum NoticeMappingResult
{
    /// <summary>The ICMP error was written into the device.</summary>
    Injected,

    /// <summary>A line that reports no error for a datagram (<c>NOTICES</c>, <c>CLOSING</c>, an answer to a command …).</summary>
    NotAnError,

    /// <summary>
    /// An error with no ICMP counterpart: an <c>unknown</c> kind without a type/code of the flow's family, or
    /// <c>UDP-DENIED reason=rate-limit</c> (a drop under load, which a real path reports no more than loss).
    /// </summary>
    NoIcmpEquivalent,

    /// <summary>The notice's <c>dst</c>/<c>addr</c> is not an IP endpoint of the flow's family.</summary>
    NoDestination,

    /// <summary>The flow sent nothing to that destination that the gateway still holds (or the flow is gone).</summary>
    NoDatagram,

    /// <summary>Writing into the device failed.</summary>
    WriteFailed,
}
