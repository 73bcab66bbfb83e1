#!/usr/bin/env bash
# `nexori serve` measured end to end: game servers play Capture The Zone over the WebSocket bridge
# against a real `nexori serve` that reports to a real `nexori backend`; the generator prints
# events/s, serve's CPU per event (from /proc/PID/stat), event-to-command latency and serve's RSS.
# Figures and how to read them: BENCHMARKS.md.
#
#   cargo xtask build-mods && cargo build --release -p nexori --bin nexori --example serve_load
#   host/benches/serve-load.sh                      # 50 servers x 4 matches x 16 players at 20 Hz, 75 s
#   host/benches/serve-load.sh --servers 10 --duration 30 --warm-up 10   # other options
#   GENERATOR=java host/benches/serve-load.sh       # the Java arena bot (clients/java/bot) instead
#
# The default generator is host/examples/serve_load.rs: the arena bot's play on one thread, which
# leaves serve more of a small machine than the JVM does. NEXORI_BIN (default target/release/nexori)
# and NEXORI_MODS (default target/nexori-mods) say what runs; KEEP=1 keeps the work directory
# (serve.log, backend.log, the outbox) for a look afterwards.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin="${NEXORI_BIN:-$root/target/release/nexori}"
mods="${NEXORI_MODS:-$root/target/nexori-mods}"
[[ -x "$bin" ]] || { echo "serve-load: $bin not found: cargo build --release -p nexori --bin nexori" >&2; exit 2; }
[[ -f "$mods/capture_the_zone.wasm" ]] || { echo "serve-load: $mods/capture_the_zone.wasm not found: cargo xtask build-mods" >&2; exit 2; }

generator="${GENERATOR:-rust}"
case "$generator" in
    rust)
        load="$root/target/release/examples/serve_load"
        [[ -x "$load" ]] || { echo "serve-load: $load not found: cargo build --release -p nexori --example serve_load" >&2; exit 2; } ;;
    java)
        bash "$root/clients/java/build.sh" --no-tests >/dev/null
        classpath="$(cat "$root/clients/java/target/bot-classpath.txt")" ;;
    *) echo "serve-load: GENERATOR must be rust or java, got $generator" >&2; exit 2 ;;
esac

work="$(mktemp -d)"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [[ -n "${KEEP:-}" ]]; then echo "serve-load: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
await_healthy() {
    for _ in $(seq 600); do
        curl -fsS "$1" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "serve-load: $1 not healthy within 60 s; see $work" >&2
    KEEP=1
    exit 1
}

backend_port="$(free_port)"
bridge_port="$(free_port)"
mkdir -p "$work/mods"
cp "$mods/capture_the_zone.wasm" "$work/mods/"
cat > "$work/nexori.toml" <<EOF
serverId = "8d7c3a4e-0000-4000-8000-00000000100a"
modsDir = "$work/mods"
dataDir = "$work/data"
baseUrl = "http://127.0.0.1:$backend_port"
serverToken = "load-backend"
resultReportingEnabled = true
[bridge]
listen = "127.0.0.1:$bridge_port"
token = "load-bridge"
EOF

"$bin" backend --listen "127.0.0.1:$backend_port" --token load-backend --db "$work/backend.sqlite" \
    > "$work/backend.log" 2>&1 &
pids+=($!)
"$bin" serve --config "$work/nexori.toml" > "$work/serve.log" 2>&1 &
serve_pid=$!
pids+=("$serve_pid")
await_healthy "http://127.0.0.1:$backend_port/healthz"
await_healthy "http://127.0.0.1:$bridge_port/healthz"

defaults=(--uri "ws://127.0.0.1:$bridge_port/bridge" --token load-bridge --serve-pid "$serve_pid"
          --servers 50 --matches-per-server 4 --players 16 --hz 20 --duration 75 --warm-up 15)
if [[ "$generator" == rust ]]; then
    "$load" "${defaults[@]}" "$@"
else
    # The serial collector keeps the bot's own garbage collection to one thread on a 2-core machine.
    java -XX:+UseSerialGC -Xms512m -Xmx2g -cp "$classpath" gg.nexori.bot.ArenaBot "${defaults[@]}" "$@"
fi
