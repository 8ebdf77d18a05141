#!/usr/bin/env bash
# Starts Dante (/usr/sbin/danted) on loopback for the load tool: a temporary danted.conf with
# internal 127.0.0.1 PORT, external 127.0.0.1, no authentication, UDP ASSOCIATE and UDP replies
# allowed within 127.0.0.0/8. Stays in the foreground; Ctrl-C, SIGTERM or the end of the script
# stops danted and removes the temporary folder.
#
#   run-dante.sh [--port PORT] [--cpu N] [--processes N]
#
# Prints "run-dante: listening on 127.0.0.1:PORT pid PID" once danted accepts connections.
set -euo pipefail

port=""
cpu=""
processes=1
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="$2"; shift 2 ;;
    --cpu) cpu="$2"; shift 2 ;;
    --processes) processes="$2"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "run-dante: unknown argument $1" >&2; exit 2 ;;
  esac
done

danted=/usr/sbin/danted
[ -x "$danted" ] || { echo "run-dante: $danted missing (apt-get install dante-server)" >&2; exit 1; }

listening() { ss -Hltn "sport = :$1" | grep -q .; }

if [ -z "$port" ]; then
  # A free port: a few random tries in the range the kernel does not hand out itself.
  for _ in $(seq 1 50); do
    candidate=$((20000 + RANDOM % 12000))
    if ! listening "$candidate"; then port=$candidate; break; fi
  done
  [ -n "$port" ] || { echo "run-dante: no free port found" >&2; exit 1; }
fi

dir=$(mktemp -d /tmp/run-dante.XXXXXX)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cat >"$dir/danted.conf" <<CONF
logoutput: stderr
internal: 127.0.0.1 port = $port
external: 127.0.0.1
clientmethod: none
socksmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
socks pass { from: 127.0.0.0/8 to: 127.0.0.0/8 command: udpassociate }
socks pass { from: 127.0.0.0/8 to: 127.0.0.0/8 command: udpreply }
CONF

pin=()
[ -n "$cpu" ] && pin=(taskset -c "$cpu")
"${pin[@]}" "$danted" -f "$dir/danted.conf" -p "$dir/danted.pid" -N "$processes" &
pid=$!

for _ in $(seq 1 100); do
  if listening "$port"; then
    echo "run-dante: listening on 127.0.0.1:$port pid $pid"
    wait "$pid"
    exit $?
  fi
  kill -0 "$pid" 2>/dev/null || { echo "run-dante: danted exited during start-up" >&2; exit 1; }
  sleep 0.05
done
echo "run-dante: danted did not listen on $port within 5 s" >&2
exit 1
