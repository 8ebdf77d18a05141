using Socks5UdpRelay.Tests.Shared.Infrastructure;
using Socks5UdpRelay.Tests.Shared.Topology;

namespace Socks5UdpRelay.Cli.Tests.Tun;

/// <summary>
/// A <see cref="TunLab"/> for the side-by-side tests: the client namespace's rp_filter set, every
/// program's and socket's direct result taken first (without the gateway: the client routed through
/// the relay, or, for a TTL the program chose, from the relay namespace itself), then the relay's
/// forwarding switched off and <c>s5nc tun</c> started, to stay up for every test of the class.
/// </summary>
public abstract class TunProgramsLab : TunLab
{
    /// <summary>The kinds of error a socket check provokes, each with its port and datagram size.</summary>
    public static readonly IReadOnlyDictionary<string, (int Port, int Size)> Kinds = new Dictionary<string, (int, int)>
    {
        ["port-unreachable"] = (ClosedPort, 16),
        ["host-unreachable"] = (HostUnreachablePort, 16),
        ["net-unreachable"] = (NetUnreachablePort, 16),
        ["admin-prohibited"] = (ProhibitedPort, 16),
        ["protocol-unreachable"] = (ProtocolUnreachablePort, 16),
        ["fragmentation-needed"] = (EchoPort, 1400),
    };

    private readonly Dictionary<string, object> _direct = [];

    /// <summary>rp_filter in the client namespace (all and default) for the whole class.</summary>
    protected abstract int ReversePathFilter { get; }

    /// <summary>The gateway, running.</summary>
    public NetnsProcess Tun { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        if (Requirements.NetworkNamespacesSkipReason is not null)
        {
            return; // the tests skip: nothing was built
        }

        SetClientReversePathFilter(ReversePathFilter);
        SetRelayForwarding(true);
        foreach (bool v6 in new[] { false, true })
        {
            _direct[Key("nc-echo", v6)] = TunChecks.NcEcho(this, v6);
            _direct[Key("nc-closed", v6)] = TunChecks.NcScan(this, v6, ClosedPort);
            _direct[Key("nc-open", v6)] = TunChecks.NcScan(this, v6, EchoPort);
            _direct[Key("dig", v6)] = TunChecks.DigName(this, v6);
            foreach (var (kind, (port, size)) in Kinds)
            {
                foreach (bool recvErr in new[] { false, true })
                {
                    FlushPathMtus();
                    _direct[Key($"socket {kind} {recvErr}", v6)] = TunChecks.Socket(this, Topology.ClientNamespace, v6, port, recvErr, size);
                }
            }

            foreach (bool recvErr in new[] { false, true })
            {
                // A TTL the program chose: the proxy's own path, from the relay namespace.
                _direct[Key($"socket ttl-exceeded {recvErr}", v6)] = TunChecks.Socket(this, Topology.RelayNamespace, v6, EchoPort, recvErr, ttl: 1);
            }
        }

        // From now on nothing reaches the target from the client but through the gateway: a check that
        // passed because its datagrams went around it would have had to be forwarded by the relay.
        SetRelayForwarding(false);
        FlushPathMtus();
        Tun = await StartTunAsync();
    }

    /// <summary>The direct result of a check.</summary>
    public T Direct<T>(string check, bool v6) => (T)_direct[Key(check, v6)];

    private static string Key(string check, bool v6) => $"{check} {(v6 ? "IPv6" : "IPv4")}";
}
