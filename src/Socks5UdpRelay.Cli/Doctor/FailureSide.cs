namespace Socks5UdpRelay.Cli.Doctor;

/// <summary>Which side of the relay a failure lies on: it picks the exit code from the CLI's table.</summary>
internal enum FailureSide
{
    None,

    /// <summary>Beyond the relay: the target, the STUN server, the path to them (exit 1).</summary>
    Path,

    /// <summary>The proxy or the way to it: TCP, the request, the relay address, datagrams to the relay (exit 3).</summary>
    Proxy,

    /// <summary>No acceptable method, or credentials refused (exit 4).</summary>
    Authentication,
}
