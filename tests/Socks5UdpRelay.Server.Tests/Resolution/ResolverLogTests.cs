using System.Net;
using Microsoft.Extensions.Logging;
using Socks5UdpRelay.Server.Resolution;
using Socks5UdpRelay.Server.Tests.Fixtures;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Resolution;

/// <summary>What an operator reads about the resolver's configuration.</summary>
public sealed class ResolverLogTests
{
    [Fact]
    public void Configuration_NamesServersSearchAndOptions()
    {
        var capture = new LogCapture();
        var c = ResolvConfParser.Parse("nameserver 10.96.0.10\nnameserver 2001:db8::53\nsearch svc.cluster.local\noptions ndots:5 timeout:2\n", null);

        ResolverLog.Configuration(capture.CreateLogger(ResolverLog.Category), "/etc/resolv.conf", c);

        var (level, message) = Assert.Single(capture.Events);
        Assert.Equal(LogLevel.Information, level);
        Assert.Equal("Name resolution: /etc/hosts, then DNS from /etc/resolv.conf: nameservers 10.96.0.10 2001:db8::53, search svc.cluster.local, ndots 5, timeout 2 s, attempts 2", message);
    }

    [Fact]
    public void Configuration_NoNameServer_Warns()
    {
        var capture = new LogCapture();

        ResolverLog.Configuration(capture.CreateLogger(ResolverLog.Category), "/etc/resolv.conf", new ResolverConfiguration());

        var (level, message) = Assert.Single(capture.Events);
        Assert.Equal(LogLevel.Warning, level);
        Assert.Contains("names not in /etc/hosts do not resolve", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Configuration_ATestServerOnAnotherPort_ShowsThePort()
    {
        var capture = new LogCapture();
        var c = new ResolverConfiguration { NameServers = [new IPEndPoint(IPAddress.Loopback, 5353)] };

        ResolverLog.Configuration(capture.CreateLogger(ResolverLog.Category), "test", c);

        Assert.Contains("nameservers 127.0.0.1:5353, search (none)", Assert.Single(capture.Events).Message, StringComparison.Ordinal);
    }
}
