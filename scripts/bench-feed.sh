#!/usr/bin/env bash
# Figures for the application's feed (docs/performance.md), on a release build:
#
#   bash scripts/bench-feed.sh [sqlite|postgres]
#
# Starts `roster serve` on a fresh database (a temp SQLite file, or a new database on
# ROSTER_TEST_POSTGRES_URL, dropped afterwards) with 16 directories, then runs
# examples/bench_feed.rs phases against it (loopback only, every loop bounded):
#   writes     POST then PATCH for SECS s, 16 clients, one per directory
#   read       events read at limit=1000 for SECS s
#   latency    commit answered -> long-poll answered, SAMPLES samples
#   webhooks   deliveries/s to an in-process sink, DIRS directories, EVENTS events
#   endpoints  POST for SECS s with 0, 1 and 10 endpoints subscribed, twice
# Env: PHASES (default "writes read latency webhooks endpoints"), SECS (10), SAMPLES (300),
# DIRS (1000), EVENTS (20000), BIN (another roster binary to serve, e.g. an older build, for
# the writes phase).
set -euo pipefail

backend=${1:-sqlite}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
cargo build --release --quiet --bin roster --example bench_feed
bin=${BIN:-$repo/target/release/roster}
driver="$repo/target/release/examples/bench_feed"
phases=${PHASES:-writes read latency webhooks endpoints}
secs=${SECS:-10}

work=$(mktemp -d)
source "$repo/scripts/lib/bench-db.sh"
trap bench_cleanup EXIT
bench_open_db "$backend" roster_feed || { echo "usage: $0 [sqlite|postgres]" >&2; exit 2; }

"$bin" migrate >/dev/null
"$bin" tenant create bench >/dev/null
for d in $(seq 16); do
    "$bin" --json directory create --tenant bench --kind generic "d$d" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])' >>"$work/tokens.txt"
done
port=$(bench_free_port)
ROSTER_LOG=warn ROSTER_ALLOW_HTTP_WEBHOOKS=1 ROSTER_ALLOW_PRIVATE_WEBHOOK_TARGETS=1 \
    "$bin" serve --bind "127.0.0.1:$port" >"$work/server.log" 2>&1 &
bench_pids+=("$!")
for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break
    sleep 0.1
done
base="http://127.0.0.1:$port"
echo "roster $("$bin" --version) on $backend, $(nproc) cores"
for phase in $phases; do
    case $phase in
    writes) "$driver" writes "$base" "$work/tokens.txt" "$secs" ;;
    read)
        key=$("$bin" --json app-key issue | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
        "$driver" read "$base" "$key" "$secs"
        ;;
    latency)
        key=$("$bin" --json app-key issue | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
        "$driver" latency "$base" "$key" "$(head -1 "$work/tokens.txt")" "${SAMPLES:-300}"
        ;;
    webhooks) "$driver" webhooks "$base" "$ROSTER_DATABASE_URL" "${DIRS:-1000}" "${EVENTS:-20000}" ;;
    endpoints) "$driver" endpoints "$base" "$ROSTER_DATABASE_URL" "$work/tokens.txt" "$secs" ;;
    *) echo "unknown phase $phase" >&2; exit 2 ;;
    esac
done
