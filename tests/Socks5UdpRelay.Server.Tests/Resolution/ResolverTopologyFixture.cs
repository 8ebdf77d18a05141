using System.Net;
using Socks5UdpRelay.Tests.Shared;
using Socks5UdpRelay.Tests.Shared.Topology;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Resolution;

/// <summary>
/// The topology with: in the relay namespace a pod-like resolv.conf, dnsmasq on 127.0.0.1:53
/// answering for <c>echo.svc.cluster.local</c> (the target, IPv4) and
/// <c>echo6.svc.cluster.local</c> (the target, IPv6 only), a hosts file naming
/// <c>target.test</c>, and the server; in the client namespace a resolv.conf whose nameserver,
/// an address of that namespace, drops every query.
/// </summary>
public sealed class ResolverTopologyFixture : IAsyncLifetime
{
    public const int EchoPort = 7;

    private static readonly IPAddress Blackhole = IPAddress.Parse("10.53.0.53");
    private NetnsTopology? _topology;
    private UdpResponder? _echo;
    private NamespaceServer? _server;
    private Dnsmasq? _dns;

    public NetnsTopology Topology => _topology ?? throw new InvalidOperationException("The topology was not built.");

    internal NamespaceServer Server => _server ?? throw new InvalidOperationException("The server was not started.");

    internal Dnsmasq Dns => _dns ?? throw new InvalidOperationException("dnsmasq was not started.");

    public async Task InitializeAsync()
    {
        if (new DnsmasqFactAttribute(inNamespace: true).Skip is not null)
        {
            return;
        }

        _topology = NetnsTopology.Create();
        var t = _topology;
        _echo = UdpResponder.EchoIn(t, t.TargetNamespace, EchoPort);

        NamespaceServer.WriteResolvConf(t.RelayNamespace, "# a pod's\nnameserver 127.0.0.1\nsearch svc.cluster.local\noptions ndots:5 timeout:2 attempts:1\n");
        t.WriteHosts(t.RelayNamespace, [$"{t.Target.V4} target.test"]);
        _dns = await Dnsmasq.StartInAsync(t, t.RelayNamespace, IPAddress.Loopback,
            $"--host-record=echo.svc.cluster.local,{t.Target.V4}",
            $"--host-record=echo6.svc.cluster.local,{t.Target.V6}");
        _server = await NamespaceServer.StartAsync(t, t.RelayNamespace);

        NamespaceServer.WriteResolvConf(t.ClientNamespace, $"nameserver {Blackhole}\n");
        t.Exec(t.ClientNamespace, "ip", "addr", "add", $"{Blackhole}/32", "dev", "lo");
        t.Nft(t.ClientNamespace, """
            table inet blackhole {
                chain input {
                    type filter hook input priority 0;
                    udp dport 53 drop
                    tcp dport 53 drop
                }
            }

            """);
    }

    public async Task DisposeAsync()
    {
        if (_echo is not null)
        {
            await _echo.DisposeAsync();
        }

        // Stops dnsmasq and the servers, deletes the namespaces and their /etc/netns files.
        _topology?.Dispose();
    }
}
