#!/usr/bin/env bash
# A slow destination for `load --flood slow-destination` (needs root, iproute2 and nftables).
#
# On loopback the relay's send buffer never fills: the loopback device hands each datagram
# straight to the receiver (and a receiver with a full or tiny buffer just drops it), so the
# sender never waits. What fills a UDP socket's send buffer is a queue in front of a slow link:
# a datagram waiting in a qdisc is still charged to its socket. So this makes two network
# namespaces joined by a veth, shapes the relay side's egress with tc tbf (rate RATE, a queue
# long enough that the socket's buffer fills before the qdisc drops: sendto then fails with
# EAGAIN, the relay's `buffer-full`), and drops UDP at the far end without an ICMP answer:
#
#   s5slow-relay: lo (server, load tool, echo target) -- 10.254.254.1 ==tbf RATE==> 10.254.254.2 s5slow-sink
#
# The root namespace is not touched. Run the load tool inside s5slow-relay, e.g.
#   tests/Socks5UdpRelay.Benchmarks/slow-link.sh up
#   ip netns exec s5slow-relay dotnet tests/Socks5UdpRelay.Benchmarks/bin/Release/net10.0/Socks5UdpRelay.Benchmarks.dll \
#       load --flood slow-destination --slow-destination 10.254.254.2:9 --server-cpu 0 --load-cpu 1
#   tests/Socks5UdpRelay.Benchmarks/slow-link.sh down
#
# usage: slow-link.sh up [RATE] | down      (RATE: a tc rate, default 1mbit)
set -euo pipefail

RELAY=s5slow-relay
SINK=s5slow-sink

down() {
    for ns in "$RELAY" "$SINK"; do
        if ip netns list | grep -qw "$ns"; then
            ip netns pids "$ns" | xargs -r kill 2>/dev/null || true
            ip netns delete "$ns"
        fi
    done
}

case "${1:-}" in
up)
    rate="${2:-1mbit}"
    down
    trap 'down' ERR
    ip netns add "$RELAY"
    ip netns add "$SINK"
    ip link add to-sink netns "$RELAY" type veth peer name to-relay netns "$SINK"
    ip -n "$RELAY" link set lo up
    ip -n "$RELAY" addr add 10.254.254.1/30 dev to-sink
    ip -n "$RELAY" link set to-sink up
    ip -n "$SINK" link set lo up
    ip -n "$SINK" addr add 10.254.254.2/30 dev to-relay
    ip -n "$SINK" link set to-relay up
    ip netns exec "$RELAY" tc qdisc add dev to-sink root tbf rate "$rate" burst 1600 limit 1000000
    printf 'table inet sink {\n  chain input {\n    type filter hook input priority 0; policy accept;\n    udp dport != 0 drop\n  }\n}\n' \
        | ip netns exec "$SINK" nft -f -
    echo "slow-link: up; flood 10.254.254.2:9 from inside $RELAY (rate $rate); 'slow-link.sh down' removes it"
    ;;
down)
    down
    echo "slow-link: down"
    ;;
*)
    echo "usage: slow-link.sh up [RATE] | down" >&2
    exit 2
    ;;
esac
