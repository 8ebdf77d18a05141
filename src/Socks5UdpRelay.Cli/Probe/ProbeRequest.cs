using System.Net.Sockets;

namespace Socks5UdpRelay.Cli.Probe;

/// <summary>What <c>probe</c> was asked to do, after parsing.</summary>
internal sealed record ProbeRequest(
    string Host,
    IReadOnlyList<int> Ports,
    AddressFamily? Family,
    int MaxHosts,
    byte[]? Payload,
    bool Builtin,
    ProbePacing Pacing,
    bool All,
    bool Json);
