#!/usr/bin/env bash
# Scale figures: the same requests against a small and a large directory, and single-member
# changes on a small and a large group, on a release build.
#
#   bash scripts/bench-scale.sh [sqlite|postgres] [N=10000] [LARGE_GROUP=100000]
#
# Seeds N users with examples/seed.rs (the domain commands, 2,000 users per transaction), and
# two groups of 10 and min(LARGE_GROUP, N-1000) members; starts `roster serve`; then runs, with
# wrk -t1 -c16 -d$DURATION: the peers' load.sh tests (GET by id, filter userName fixed and
# random, PATCH, POST), a random `emails.value eq` filter, and add-then-remove of one member on
# each group (scripts/wrk/group_member.lua). Loopback only, bounded runs. Prints one table.
# Env: DURATION (10s), OUT_DIR, ROSTER_TEST_POSTGRES_URL.
set -euo pipefail

backend=${1:-sqlite}
n=${2:-10000}
large=${3:-100000}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
peers="$repo/../shared/peers"
[[ -f "$peers/load.sh" ]] || { echo "bench-scale.sh: $peers/load.sh not found" >&2; exit 2; }
command -v wrk >/dev/null || { echo "bench-scale.sh: wrk not found: apt-get install -y wrk" >&2; exit 2; }
(( n > 1000 )) || { echo "bench-scale.sh: N must exceed 1000" >&2; exit 2; }
(( large > n - 1000 )) && large=$((n - 1000))
DURATION=${DURATION:-10s}

cd "$repo"
cargo build --release --quiet --bin roster --example seed
bin="$repo/target/release/roster"
seed="$repo/target/release/examples/seed"
work=$(mktemp -d)
out=${OUT_DIR:-/tmp/roster-scale/$backend-$n-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
source "$repo/scripts/lib/bench-db.sh"
trap bench_cleanup EXIT
bench_open_db "$backend" roster_scale || { echo "usage: $0 [sqlite|postgres] [N] [LARGE_GROUP]" >&2; exit 2; }

"$bin" migrate >/dev/null
"$bin" tenant create bench >/dev/null
token=$("$bin" --json directory create --tenant bench --kind generic load |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
"$seed" "$ROSTER_DATABASE_URL" load "$n" "$out" 10 "$large" 2>&1 | tr '\r' '\n' | grep -v '^seeded [0-9]* users$' | tee "$out/seed.txt"
if [[ $backend == postgres ]]; then
    psql "$ROSTER_DATABASE_URL" -qc "VACUUM ANALYZE" >/dev/null
fi
tail -n 1000 "$out/ids.txt" >"$out/pool.txt"
small_group=$(awk '$1 == 10 {print $2}' "$out/groups.txt")
large_group=$(awk -v s="$large" '$1 == s {print $2}' "$out/groups.txt")

port=$(bench_free_port)
ROSTER_LOG=warn "$bin" serve --bind "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server_pid=$!
bench_pids+=("$server_pid")
for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break
    sleep 0.1
done
base="http://127.0.0.1:$port/scim/v2"
echo "roster $("$bin" --version) on $backend, N=$n, groups of 10 and $large, $(nproc) cores, out=$out"

SKIP_SEED=1 IDS_FILE="$out/ids.txt" OUT_DIR="$out/load" DURATION=$DURATION SERVER_PID=$server_pid \
    TESTS="get_id filter_fixed filter_random patch" bash "$peers/load.sh" "$base" "$token" "$n" "roster-$backend-$n" >"$out/load.txt"

export SCIM_TOKEN="$token" SCIM_BASE_PATH=/scim/v2 WRK_LUA_DIR="$peers/wrk"
dur_s=${DURATION%s}
extra() {  # name script args...
    local name=$1 script=$2 target=$3; shift 3
    timeout $((dur_s + 60)) wrk -t1 -c16 -d"$DURATION" --timeout 10s --latency \
        -s "$repo/scripts/wrk/$script" "http://127.0.0.1:$port$target" -- "$@" >"$out/$name.txt" 2>&1 || true
    sed -n 's/^WRKJSON //p' "$out/$name.txt" |
        python3 -c "import sys,json; d=json.load(sys.stdin); d['test']='$name'; print(json.dumps(d))" >>"$out/load/results.jsonl"
}
extra filter_email filter_email.lua /scim/v2/Users "$n" 10000
extra member_small group_member.lua /scim/v2/Groups "$small_group" "$out/pool.txt"
extra member_large group_member.lua /scim/v2/Groups "$large_group" "$out/pool.txt"
# POST last: it grows the directory.
SKIP_SEED=1 IDS_FILE="$out/ids.txt" OUT_DIR="$out/post" DURATION=$DURATION \
    TESTS="post" bash "$peers/load.sh" "$base" "$token" "$n" "roster-$backend-$n" >"$out/post.txt"
cat "$out/post/results.jsonl" >>"$out/load/results.jsonl"
rss=$(awk '/VmRSS/{printf "%.0f MiB", $2/1024}' "/proc/$server_pid/status")

python3 - "$out/load/results.jsonl" "$backend" "$n" "$large" "$rss" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
backend, n, large, rss = sys.argv[2:]
names = {"get_id": "GET by id", "filter_fixed": "filter userName (fixed)",
         "filter_random": "filter userName (random)", "filter_email": "filter emails.value (random)",
         "patch": "PATCH user", "post": "POST user", "member_small": "member add/remove, group of 10",
         "member_large": f"member add/remove, group of {int(large):,}"}
print(f"\n### {backend}, {int(n):,} users (wrk -t1 -c16), server RSS at end {rss}")
print("| test | req/s | p50 ms | p99 ms | non-2xx |")
print("|---|---:|---:|---:|---:|")
for r in rows:
    if "rps" not in r:
        print(f"| {names.get(r['test'], r['test'])} | no output | | | |"); continue
    print(f"| {names.get(r['test'], r['test'])} | {r['rps']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['err_status']} |")
PY
