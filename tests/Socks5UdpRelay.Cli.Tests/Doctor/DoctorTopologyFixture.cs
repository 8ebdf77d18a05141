using System.Globalization;
using System.Text.RegularExpressions;
using Socks5UdpRelay.Tests.Shared;
using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Socks5UdpRelay.Tests.Shared.Topology;

namespace Socks5UdpRelay.Cli.Tests.Doctor;

/// <summary>
/// The server tests' five-namespace chain (client ─ relay ─ router1 ═ 1280-byte link ═ router2 ─
/// target) with an echo responder on the target and three of our servers in the relay namespace:
/// two whose relay ports (40000-40199) an nftables rule on the relay host drops for UDP (one
/// with notices, one without), and one whose ports are not dropped. Doctor runs as its own
/// process in the client namespace. Nothing is built where the tests would skip.
/// </summary>
public sealed partial class DoctorTopologyFixture : IAsyncLifetime
{
    public const int EchoPort = 7;

    private NetnsTopology? _topology;
    private UdpResponder? _echo;

    public NetnsTopology Topology => _topology ?? throw new InvalidOperationException($"No topology: {Requirements.NetworkNamespacesMissing ?? "it was not built"}.");

    /// <summary>Notices on; UDP to its relay ports dropped.</summary>
    public string DroppedProxy { get; private set; } = string.Empty;

    /// <summary>Notices off; UDP to its relay ports dropped.</summary>
    public string DroppedSilentProxy { get; private set; } = string.Empty;

    /// <summary>Nothing dropped: for the path MTU beyond the relay.</summary>
    public string OpenProxy { get; private set; } = string.Empty;

    public string Target => $"{Topology.Target.V4}:{EchoPort}";

    public async Task InitializeAsync()
    {
        if (Requirements.NetworkNamespacesSkipReason is not null)
        {
            return;
        }

        _topology = NetnsTopology.Create();
        _echo = UdpResponder.EchoIn(_topology, _topology.TargetNamespace, EchoPort);
        _topology.Nft(_topology.RelayNamespace, """
            table inet doctor {
              chain input {
                type filter hook input priority 0; policy accept;
                udp dport 40000-40199 drop
              }
            }
            """);
        DroppedProxy = await StartServerAsync("--Relay:UdpPortRange=40000-40099", "--Limits:MaxAssociationsPerClient=25");
        DroppedSilentProxy = await StartServerAsync("--Relay:UdpPortRange=40100-40199", "--Limits:MaxAssociationsPerClient=25", "--Relay:Notices=off");
        OpenProxy = await StartServerAsync("--Relay:UdpPortRange=41000-41099", "--Limits:MaxAssociationsPerClient=25");
    }

    /// <summary>Runs <c>s5nc doctor … --json</c> in the client namespace as a process of its own.</summary>
    internal async Task<DoctorRun> RunDoctorAsync(params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "s5nc.dll");
        await using var doctor = Topology.StartDotNet(Topology.ClientNamespace, dll, ["doctor", .. args, "--json"],
            new Dictionary<string, string?> { ["SOCKS5_PROXY"] = null, ["SOCKS5_PASSWORD"] = null });
        int exit = await doctor.WaitForExitAsync(DoctorRun.DoctorTimeout);
        return new DoctorRun(exit, doctor.Output, string.Empty);
    }

    public async Task DisposeAsync()
    {
        if (_echo is not null)
        {
            await _echo.DisposeAsync();
        }

        // Kills the servers too.
        _topology?.Dispose();
    }

    private async Task<string> StartServerAsync(params string[] settings)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Socks5UdpRelay.Server.dll");
        var server = Topology.StartDotNet(Topology.RelayNamespace, dll,
            [$"--Relay:Listen:0={Topology.Relay.V4}:0", $"--Policy:AllowClients:0={Topology.Client.V4}/32", .. settings]);
        try
        {
            await server.WaitForOutputAsync($"Listening for SOCKS5 on {Topology.Relay.V4}:");
        }
        catch (TimeoutException e)
        {
            // Once (of many runs, with other namespace tests running on the machine) the relay's
            // address was missing here: say what the namespace held, for whoever sees it next.
            throw new InvalidOperationException($"The server did not start; {Topology.RelayNamespace} had:\n{Topology.Exec(Topology.RelayNamespace, "ip", "addr")}", e);
        }

        var match = ListeningRegex().Matches(server.Output)[^1];
        return $"{Topology.Relay.V4}:{int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)}";
    }

    [GeneratedRegex(@"Listening for SOCKS5 on [0-9.]+:([0-9]+)")]
    private static partial Regex ListeningRegex();
}
