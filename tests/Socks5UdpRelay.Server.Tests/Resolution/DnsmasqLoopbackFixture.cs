using Socks5UdpRelay.Tests.Shared;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Resolution;

/// <summary>
/// One dnsmasq on a loopback port for a test class, with the records the resolver tests ask for.
/// Where the tests would skip nothing is started.
/// </summary>
public sealed class DnsmasqLoopbackFixture : IAsyncLifetime
{
    private Dnsmasq? _server;

    internal Dnsmasq Server => _server ?? throw new InvalidOperationException($"No DNS server: {Dnsmasq.Missing ?? "it was not started"}.");

    public async Task InitializeAsync()
    {
        if (new DnsmasqFactAttribute().Skip is not null)
        {
            return;
        }

        _server = await Dnsmasq.StartOnLoopbackAsync(
            "--host-record=api.svc.cluster.local,10.96.0.10",
            "--host-record=api,10.0.0.99",
            "--host-record=abs.svc.cluster.local,10.96.0.12",
            "--host-record=web.svc.cluster.local,10.96.0.13",
            "--host-record=a.b.c.d.e.f,10.0.0.6",
            "--host-record=a.b.c.d.e.f.svc.cluster.local,10.0.0.7",
            "--host-record=v6only.svc.cluster.local,fd00::53",
            "--host-record=dual.svc.cluster.local,10.96.0.11,fd00::11",
            "--host-record=hosted.test,10.0.0.1",
            "--txt-record=txtonly.svc.cluster.local,no address here");
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
