namespace Socks5UdpRelay.Cli.Tests.Tun;

/// <summary>The tun tests run one class at a time: each holds a topology, a server and a gateway, and the machine has two cores.</summary>
[CollectionDefinition(Name)]
public sealed class TunCollection
{
    public const string Name = "s5nc tun in namespaces";
}
