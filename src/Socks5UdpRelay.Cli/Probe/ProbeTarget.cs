namespace Socks5UdpRelay.Cli.Probe;

/// <summary>One host and port to probe. <paramref name="Host"/> is what is sent (an IP literal or a name) and shown.</summary>
internal sealed record ProbeTarget(int HostIndex, string Host, int Port, byte[] Payload);
