#!/usr/bin/env bash
# What scraping GET /metrics costs a busy server, on a release build (docs/performance.md):
#
#   bash scripts/bench-metrics.sh [sqlite|postgres] [N=10000] [PAIRS=3]
#
# Starts `roster serve` on a fresh database, seeds N users (../shared/peers/seed_users.py),
# makes /metrics carry series for every route it has seen, then measures two ways:
#   1. processor time: the server's own CPU time (/proc/PID/stat) for 300 scrapes in a row,
#      and for the SCIM GET /Users/{id} load; the share is one scrape's CPU time over what
#      one second of that load costs, i.e. what a 1 s scrape interval takes from it. This
#      holds on a shared machine, where req/s does not.
#   2. throughput: PAIRS alternating wrk runs of GET /Users/{id} (-t1 -c16, 10 s) without
#      and with a scrape every second, medians side by side.
# Loopback only, bounded loops; the database is removed at the end.
set -euo pipefail

backend=${1:-sqlite}
n=${2:-10000}
pairs=${3:-3}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
peers="$repo/../shared/peers"
command -v wrk >/dev/null || { echo "bench-metrics.sh: wrk not found: apt-get install -y wrk" >&2; exit 2; }
cd "$repo"
cargo build --release --quiet --bin roster
bin="$repo/target/release/roster"
work=$(mktemp -d)
source "$repo/scripts/lib/bench-db.sh"
trap bench_cleanup EXIT
bench_open_db "$backend" roster_metrics || { echo "usage: $0 [sqlite|postgres] [N] [PAIRS]" >&2; exit 2; }

"$bin" migrate >/dev/null
"$bin" tenant create bench >/dev/null
token=$("$bin" --json directory create --tenant bench --kind generic load |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
port=$(bench_free_port)
origin="http://127.0.0.1:$port"
ROSTER_LOG=warn "$bin" serve --bind "127.0.0.1:$port" >"$work/server.log" 2>&1 &
pid=$!
bench_pids+=("$pid")
for _ in $(seq 100); do
    curl -fs "$origin/healthz" >/dev/null && break
    sleep 0.1
done
timeout 1800 python3 "$peers/seed_users.py" "$origin/scim/v2" "$token" "$n" --threads 4 \
    --ids-out "$work/ids.txt" | tail -1
export SCIM_TOKEN="$token" SCIM_BASE_PATH="/scim/v2" WRK_LUA_DIR="$peers/wrk"
# Every SCIM route once, so the scrape carries the series a server in use has.
for path in /Users /Groups /ServiceProviderConfig /Schemas /ResourceTypes "/Users/$(head -1 "$work/ids.txt")"; do
    curl -s -o /dev/null -H "Authorization: Bearer $token" "$origin/scim/v2$path"
done

# Clock ticks of the server process so far (user + system).
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
wrk_get() {
    timeout 70 wrk -t1 -c16 -d10s --timeout 10s -s "$peers/wrk/get_user.lua" \
        "$origin/scim/v2/Users" -- "$work/ids.txt" | sed -n 's/^WRKJSON //p' |
        python3 -c 'import json,sys
d = json.load(sys.stdin)
if d["err_status"] or d["err_timeout"]:
    sys.exit("wrk: %d non-2xx answers, %d timeouts" % (d["err_status"], d["err_timeout"]))
print(d["rps"])'
}

scrapes=300
size=$(curl -s "$origin/metrics" | wc -c)
series=$(curl -s "$origin/metrics" | grep -vc '^#')
before=$(ticks)
for _ in $(seq "$scrapes"); do curl -s -o /dev/null "$origin/metrics"; done
scrape_ticks=$(($(ticks) - before))
before=$(ticks)
load_rps=$(wrk_get)
load_ticks=$(($(ticks) - before))

echo "roster $("$bin" --version) on $backend, N=$n, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "/metrics: $size bytes, $series series"
python3 - "$scrapes" "$scrape_ticks" "$load_rps" "$load_ticks" "$hz" <<'EOF'
import sys
scrapes, scrape_ticks, rps, load_ticks, hz = sys.argv[1:]
scrape_ms = int(scrape_ticks) * 1000 / int(hz) / int(scrapes)
load_ms_per_s = int(load_ticks) * 1000 / int(hz) / 10
print(f"one scrape: {scrape_ms:.2f} ms of server CPU ({scrapes} scrapes)")
print(f"GET /Users/{{id}} load: {float(rps):.0f} req/s, {load_ms_per_s:.0f} ms of server CPU per second")
print(f"a scrape every second costs {100 * scrape_ms / load_ms_per_s:.3f}% of the server's CPU under that load")
EOF

without=()
with=()
for i in $(seq "$pairs"); do
    without+=("$(wrk_get)")
    (for _ in $(seq 12); do curl -s -o /dev/null "$origin/metrics"; sleep 1; done) &
    scraper=$!
    with+=("$(wrk_get)")
    wait "$scraper"
    echo "pair $i: without scraping ${without[-1]} req/s, scraped every second ${with[-1]} req/s"
done
python3 - "${without[*]}" "${with[*]}" <<'EOF'
import statistics, sys
a = [float(x) for x in sys.argv[1].split()]
b = [float(x) for x in sys.argv[2].split()]
ma, mb = statistics.median(a), statistics.median(b)
print(f"median GET /Users/{{id}}: {ma:.0f} req/s without, {mb:.0f} req/s scraped every second ({100 * (mb - ma) / ma:+.1f}%)")
EOF
