using Socks5UdpRelay.Tests.Shared.Topology;

namespace Socks5UdpRelay.Cli.Tests.Tun;

/// <summary>
/// Debian's Dante in the relay namespace, a SOCKS5 server without notices or commands: clients from
/// the client's subnet, UDP to and from the target's subnets only, leaving by the router-facing link.
/// The topology kills it; dispose kills it sooner and removes its configuration.
/// </summary>
internal sealed class DanteInNamespace : IAsyncDisposable
{
    private readonly NetnsProcess _process;
    private readonly string _directory;

    private DanteInNamespace(NetnsProcess process, string directory)
    {
        _process = process;
        _directory = directory;
    }

    public string Log => _process.Output;

    public static async Task<DanteInNamespace> StartAsync(NetnsTopology topology, int port)
    {
        string directory = Directory.CreateTempSubdirectory("s5-tun-dante-").FullName;
        string config = Path.Combine(directory, "danted.conf");
        await File.WriteAllTextAsync(config, $$"""
            logoutput: stderr
            internal: {{topology.Relay.V4}} port = {{port}}
            external: to-r1
            clientmethod: none
            socksmethod: none
            user.privileged: root
            user.unprivileged: nobody
            client pass { from: 10.201.1.0/24 to: 0.0.0.0/0 }
            socks pass { from: 10.201.1.0/24 to: 10.201.4.0/24 command: udpassociate }
            socks pass { from: 10.201.1.0/24 to: fd00:201:4::/64 command: udpassociate }
            socks pass { from: 0.0.0.0/0 to: 10.201.1.0/24 command: udpreply }
            """);
        var process = topology.StartProcess(topology.RelayNamespace, "/usr/sbin/danted", ["-f", config, "-p", Path.Combine(directory, "danted.pid"), "-N", "1"]);
        try
        {
            // Dante says so once it listens: "info: Dante/server[1/1] v1.4.2 running".
            await process.WaitForOutputAsync(" running");
            return new DanteInNamespace(process, directory);
        }
        catch
        {
            process.Dispose();
            Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}
