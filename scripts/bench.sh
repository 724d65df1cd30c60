#!/usr/bin/env bash
# Load figures for a release build of Roster, with the peers' harness so numbers compare:
#
#   bash scripts/bench.sh [sqlite|postgres] [N=10000]
#
# Builds `roster` (release), starts it on a fresh database (a temp SQLite file, or a new
# database on ROSTER_TEST_POSTGRES_URL, dropped afterwards), creates a directory, and runs
# the peers' load.sh against it: N seeded users, then 10 s wrk runs of GET by id,
# filtered GET by userName (fixed and random), PATCH, POST. Loopback only, bounded loops.
#
# On postgres each test runs right after pgbench's ceiling on the same cluster (the runs
# alternate, so a neighbour's build on the shared cores weighs on both alike): reads beside
# `pgbench -S -M prepared` (one indexed SELECT per transaction), writes beside
# `pgbench -N -M prepared` (three UPDATEs, a SELECT and an INSERT per commit), both with as
# many clients as wrk has connections. The summary gives Roster's req/s as a share of it.
#
# Env: DURATION, THREADS, CONNECTIONS, TESTS (passed to load.sh), OUT_DIR, PGBENCH_SCALE
# (default 10), ROSTER_PEERS_DIR (the peers' harness; default ../shared/peers beside the
# repository), ROSTER_BIN (a roster binary to measure instead of building one: a before and
# an after built once each).
set -euo pipefail

backend=${1:-sqlite}
n=${2:-10000}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
load="${ROSTER_PEERS_DIR:-$repo/../shared/peers}/load.sh"
[[ -x "$load" || -f "$load" ]] || { echo "bench.sh: $load not found (the peers harness lives in shared/; set ROSTER_PEERS_DIR)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "bench.sh: wrk not found: apt-get install -y wrk" >&2; exit 2; }

cd "$repo"
if [[ -n "${ROSTER_BIN:-}" ]]; then
    bin=$ROSTER_BIN
else
    cargo build --release --quiet
    bin="$repo/target/release/roster"
fi
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
base="http://127.0.0.1:$port/scim/v2"
if [[ "$backend" != postgres ]]; then
    SERVER_PID=$server_pid bash "$load" "$base" "$token" "$n" "roster-$backend"
    exit 0
fi

command -v pgbench >/dev/null || { echo "bench.sh: pgbench not found (postgresql-client)" >&2; exit 2; }
out=${OUT_DIR:-/tmp/roster-bench/postgres-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
pgbench_db="${bench_pg_db}_pgbench"
pgbench_url="${ROSTER_TEST_POSTGRES_URL%/*}/$pgbench_db"
bench_drop_pgbench() {
    psql "$ROSTER_TEST_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS $pgbench_db WITH (FORCE)" >/dev/null
    bench_cleanup
}
trap bench_drop_pgbench EXIT
psql "$ROSTER_TEST_POSTGRES_URL" -qc "CREATE DATABASE $pgbench_db" >/dev/null
pgbench -i -q -s "${PGBENCH_SCALE:-10}" "$pgbench_url" >"$out/pgbench-init.txt" 2>&1
echo "synchronous_commit = $(psql "$pgbench_url" -Atc 'show synchronous_commit'); out: $out"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out/load.txt"
SERVER_PID=$server_pid TESTS=" " OUT_DIR="$out/seed" bash "$load" "$base" "$token" "$n" roster-postgres >"$out/seed.log"
dur=${DURATION:-10s}
clients=${CONNECTIONS:-16}
: >"$out/pairs.jsonl"
for t in ${TESTS:-get_id filter_fixed filter_random patch post}; do
    case $t in
        get_id | filter_fixed | filter_random) mode=-S ;;
        *) mode=-N ;;
    esac
    timeout $((${dur%s} + 60)) pgbench "$mode" -M prepared -c "$clients" -j 1 -T "${dur%s}" -n "$pgbench_url" \
        >"$out/pgbench-$t.txt" 2>&1
    SERVER_PID=$server_pid TESTS=$t SKIP_SEED=1 IDS_FILE="$out/seed/ids.txt" OUT_DIR="$out/$t" \
        bash "$load" "$base" "$token" "$n" roster-postgres >"$out/$t.log"
    python3 "$repo/scripts/lib/pgbench_share.py" pair "$out" "$t" "$mode" >>"$out/pairs.jsonl"
    echo "   $t done, load average $(cut -d' ' -f1-3 /proc/loadavg)"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/load.txt"
python3 "$repo/scripts/lib/pgbench_share.py" summary "$out" "$n" "$clients" "$dur" | tee "$out/summary.md"
