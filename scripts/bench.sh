#!/usr/bin/env bash
# Load figures for a release build of Roster, with the peers' harness so numbers compare:
#
#   bash scripts/bench.sh [sqlite|postgres] [N=10000]
#
# Builds `roster` (release), starts it on a fresh database (a temp SQLite file, or a new
# database on ROSTER_TEST_POSTGRES_URL, dropped afterwards), creates a directory, and runs
# ../shared/peers/load.sh against it: N seeded users, then 10 s wrk runs of GET by id,
# filtered GET by userName (fixed and random), PATCH, POST. Loopback only, bounded loops.
# Env: DURATION, THREADS, CONNECTIONS, TESTS (passed to load.sh), OUT_DIR.
set -euo pipefail

backend=${1:-sqlite}
n=${2:-10000}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
load="$repo/../shared/peers/load.sh"
[[ -x "$load" || -f "$load" ]] || { echo "bench.sh: $load not found (the peers harness lives in shared/)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "bench.sh: wrk not found: apt-get install -y wrk" >&2; exit 2; }

cd "$repo"
cargo build --release --quiet
bin="$repo/target/release/roster"
work=$(mktemp -d)
source "$repo/scripts/lib/bench-db.sh"
trap bench_cleanup EXIT
bench_open_db "$backend" roster_bench || { echo "usage: $0 [sqlite|postgres] [N]" >&2; exit 2; }

port=$(bench_free_port)
"$bin" migrate >/dev/null
"$bin" tenant create bench >/dev/null
token=$("$bin" --json directory create --tenant bench --kind generic load | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
ROSTER_LOG=warn "$bin" serve --bind "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server_pid=$!
bench_pids+=("$server_pid")
for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break
    sleep 0.1
done
echo "roster $("$bin" --version) on $backend, pid $server_pid, $(nproc) cores"
SERVER_PID=$server_pid bash "$load" "http://127.0.0.1:$port/scim/v2" "$token" "$n" "roster-$backend"
