namespace Socks5UdpRelay.Cli.Tests.Doctor;

/// <summary>
/// The one table of what doctor must conclude, set-up by set-up: the verdicts of stages 1 to 10
/// in order (proxy, auth, associate, relay-address, datagrams, notices, udp-over-tcp, nat, mtu,
/// idle) and the exit code. Each row is written from what the server documents or does; when a
/// server changes (our server's commands and UDP over TCP are coming), change its row here.
/// </summary>
internal static class DoctorExpectations
{
    public static readonly IReadOnlyDictionary<string, (string Verdicts, int Exit)> Table = new Dictionary<string, (string, int)>
    {
        // Socks5UdpRelay with its defaults, --target echo, --stun stund, --idle 1. Notices with
        // commands=set,map, so `trace` works: ok. CMD 0x05 answered with success (UDP over TCP offered): ok.
        ["ours"] = ("ok ok ok ok ok ok ok ok ok ok", 0),

        // Relay:Notices=off: datagrams still relayed; no greeting: warn.
        ["ours-notices-off"] = ("ok ok ok ok ok warn ok skip ok skip", 0),

        // Relay:AdvertisedAddress=127.0.0.2 while it listens (and binds its relay sockets) on
        // 127.0.0.1: our own socket gets port unreachable there (stage 4 fails, exit 3); doctor goes
        // on with the proxy's own address, where the round trip works.
        ["ours-wrong-advertised"] = ("ok ok ok fail ok ok ok skip ok skip", 3),

        // Auth:Users with a password file, and the client sends another password: RFC 1929 status ≠ 0.
        ["ours-wrong-password"] = ("ok fail skip skip skip skip skip skip skip skip", 4),

        // The same server, and the client offers no credentials: 0xFF, no acceptable method.
        ["ours-no-credentials"] = ("ok fail skip skip skip skip skip skip skip skip", 4),

        // The right password: username/password, then everything as usual.
        ["ours-right-password"] = ("ok ok ok ok ok ok ok skip ok skip", 0),

        // Relay:AssociationIdleTimeout=2 s and --idle 5: CLOSING reason=idle-timeout during the quiet period.
        ["ours-idle-timeout"] = ("ok ok ok ok ok ok ok skip ok fail", 3),

        // --closed on a closed loopback port, no --target: the port-unreachable notice proves the path.
        ["ours-closed-port"] = ("ok ok ok ok ok ok ok skip skip skip", 0),

        // Nothing to send to: the relay's UDP-DENIED reason=fragmented notice shows datagrams reach it.
        ["ours-no-target"] = ("ok ok ok ok warn ok ok skip skip skip", 0),

        // In namespaces, UDP to the relay's port range dropped by nftables on the relay host: no
        // answer, no ICMP, and no notice for the fragment: datagrams do not reach the relay (exit 3).
        // UDP over TCP is offered (CMD 0x05 answered with success), the way around the drop: ok.
        ["ours-udp-dropped"] = ("ok ok ok ok fail ok ok skip skip skip", 3),

        // The same with notices off: silence cannot tell an unreachable relay from a server that
        // drops datagrams: unknown, exit 3.
        ["ours-udp-dropped-notices-off"] = ("ok ok ok ok unknown warn ok skip skip skip", 3),

        // In namespaces, the echo beyond a 1280-byte link: a full 1500-byte packet draws
        // fragmentation-needed with mtu=1280, reported in stage 9.
        ["ours-path-mtu"] = ("ok ok ok ok ok ok ok skip ok skip", 0),

        // Dante 1.4.2 (dante-server): relays, no notices; it closes the connection on CMD 0x05.
        ["dante"] = ("ok ok ok ok ok warn warn ok ok skip", 0),

        // microsocks: no UDP ASSOCIATE, 0x07 at stage 3.
        ["microsocks"] = ("ok ok fail skip skip skip skip skip skip skip", 3),

        // hpsockd: with 0.0.0.0:0 in the request it forwards the datagram but sends the reply
        // nowhere; naming the client's address works: warn at stage 5. Its rules (client { permit
        // ... }) know no command 0x05, so it answers 0x02, not allowed: warn at stage 7.
        ["hpsockd"] = ("ok ok ok ok warn warn warn ok ok skip", 0),

        // v2ray's socks inbound with udp on: relays; a new outbound port per destination (STUN:
        // address-and-port-dependent mapping): warn at stage 8.
        ["v2ray"] = ("ok ok ok ok ok warn ok warn ok skip", 0),

        // shadowsocks-libev ss-local in front of ss-server, -u: relays; answers CMD 0x05 with 0x07
        // cut short (it closes before the reply's end): warn.
        ["shadowsocks"] = ("ok ok ok ok ok warn warn ok ok skip", 0),
    };

    /// <summary>What stage 8 finds through each server, with stund as the STUN server.</summary>
    public static readonly IReadOnlyDictionary<string, string> Nat = new Dictionary<string, string>
    {
        // Our server with its defaults: one outbound port per mapping (endpoint-independent mapping),
        // and Relay:Filtering=address-dependent relays any port of an address the mapping sent to.
        ["ours"] = "endpoint-independent mapping, address-dependent filtering",
        ["dante"] = "endpoint-independent mapping, endpoint-independent filtering",
        ["hpsockd"] = "endpoint-independent mapping, endpoint-independent filtering",
        ["v2ray"] = "address-and-port-dependent mapping, endpoint-independent filtering",
        ["shadowsocks"] = "endpoint-independent mapping, endpoint-independent filtering",
    };
}
