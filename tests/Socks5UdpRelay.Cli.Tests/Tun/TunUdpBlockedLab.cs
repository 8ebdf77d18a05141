using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Socks5UdpRelay.Tests.Shared.Topology;

namespace Socks5UdpRelay.Cli.Tests.Tun;

/// <summary>
/// A <see cref="TunLab"/> where a firewall on the client drops all UDP to the relay host (an nftables
/// table in the client namespace, gone with it) while TCP passes: the case <c>--udp-over-tcp</c> is
/// for. A second server, on <see cref="NoUdpOverTcpPort"/>, answers <c>CMD=0x05</c> with REP 7.
/// The relay does not forward, so the client reaches the target only through the gateway.
/// </summary>
public sealed class TunUdpBlockedLab : TunLab
{
    /// <summary>The server started with <c>Relay:UdpOverTcp=off</c>.</summary>
    public const int NoUdpOverTcpPort = 1081;

    /// <summary>The nftables table that drops the UDP.</summary>
    public const string Table = "tun_udp_blocked";

    /// <summary>The proxy without UDP over TCP, as <c>--proxy</c> takes it.</summary>
    public string ProxyWithoutUdpOverTcp => $"{Topology.Relay.V4}:{NoUdpOverTcpPort}";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        if (Requirements.NetworkNamespacesSkipReason is not null)
        {
            return; // the tests skip: nothing was built
        }

        SetRelayForwarding(false);
        Topology.Nft(Topology.ClientNamespace, $$"""
            table inet {{Table}} {
              chain output {
                type filter hook output priority 0; policy accept;
                ip daddr {{Topology.Relay.V4}} meta l4proto udp counter drop
                ip6 daddr {{Topology.Relay.V6}} meta l4proto udp counter drop
              }
            }
            """);
        await StartServerAsync(NoUdpOverTcpPort, "--Relay:UdpOverTcp=off");
    }

    /// <summary>UDP datagrams the client's firewall dropped so far (the IPv4 rule's counter).</summary>
    public long DroppedDatagrams()
    {
        string listing = Topology.Exec(Topology.ClientNamespace, "nft", "list", "table", "inet", Table);
        var match = System.Text.RegularExpressions.Regex.Match(listing, @"ip daddr \S+ meta l4proto udp counter packets (\d+)");
        Assert.True(match.Success, listing);
        return long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Starts <c>s5nc tun -v</c> with <paramref name="arguments"/> and waits for it to exit; its exit code and output.</summary>
    public async Task<(int Exit, string Output)> RunTunToExitAsync(params string[] arguments)
    {
        await using NetnsProcess tun = Topology.StartDotNet(Topology.ClientNamespace, Fixtures.CliRun.S5ncDll, ["tun", "-v", .. arguments],
            new Dictionary<string, string?> { ["SOCKS5_PROXY"] = null, ["SOCKS5_PASSWORD"] = null });
        int exit = await tun.WaitForExitAsync(TimeSpan.FromSeconds(30));
        return (exit, tun.Output);
    }
}
