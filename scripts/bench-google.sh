#!/usr/bin/env bash
# Wall time and peak memory of `roster google sync` against the fake Google:
#
#   bash scripts/bench-google.sh [sqlite|postgres] [USERS=100000] [GROUPS=2000] [SHAPE=realistic]
#
# e.g. `bash scripts/bench-google.sh sqlite 1000000 2000` for the flatness check.
#
# Builds `roster` and the fake (examples/fake_google.rs, the tests' fake as a process) in
# release mode, starts the fake on a loopback port with USERS users and GROUPS groups of SHAPE
# (`realistic`: heavy-tailed group sizes up to 5,000, nested groups, external members, custom
# schemas, several domains, Unicode names; `uniform`: user i in group i mod GROUPS), creates a Google directory on a fresh database (a temp SQLite file, or a
# new database on ROSTER_TEST_POSTGRES_URL, dropped afterwards), then runs, each under
# /usr/bin/time -v: the first sync (everything created), a second sync (nothing changed, so
# nothing written). Prints wall time and peak RSS of each.
# ROSTER_BENCH_KEEP_DB=1 keeps the PostgreSQL database afterwards, for EXPLAIN.
set -euo pipefail

backend=${1:-sqlite}
users=${2:-100000}
groups=${3:-2000}
shape=${4:-realistic}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[[ -x /usr/bin/time ]] || { echo "bench-google.sh: /usr/bin/time not found: apt-get install -y time" >&2; exit 2; }

cd "$repo"
# ROSTER_BENCH_BIN / ROSTER_BENCH_FAKE: measure binaries built earlier (e.g. a copy of a
# previous commit's) instead of building.
if [[ -z "${ROSTER_BENCH_BIN:-}" ]]; then
    cargo build --release --quiet --bin roster --example fake_google
fi
bin="${ROSTER_BENCH_BIN:-$repo/target/release/roster}"
fake="${ROSTER_BENCH_FAKE:-$repo/target/release/examples/fake_google}"
work=$(mktemp -d)
source "$repo/scripts/lib/bench-db.sh"
trap bench_cleanup EXIT
bench_open_db "$backend" roster_bench_google || { echo "usage: $0 [sqlite|postgres] [USERS] [GROUPS] [realistic|uniform]" >&2; exit 2; }

port=$(bench_free_port)
"$fake" --bind "127.0.0.1:$port" --users "$users" --groups "$groups" --shape "$shape" --key-file "$work/key.json" >"$work/fake.log" 2>&1 &
fake_pid=$!
bench_pids+=("$fake_pid")
for _ in $(seq 600); do
    grep -q "listening" "$work/fake.log" 2>/dev/null && break
    sleep 0.1
done
grep -q "listening" "$work/fake.log" || { echo "the fake did not start:" >&2; cat "$work/fake.log" >&2; exit 1; }

export ROSTER_SECRET_KEY=$(openssl rand -hex 32)
export ROSTER_GOOGLE_API_URL="http://127.0.0.1:$port"
export ROSTER_LOG=warn
"$bin" migrate >/dev/null
"$bin" tenant create bench >/dev/null
"$bin" directory create --tenant bench --kind google gw --service-account-key "$work/key.json" \
    --admin admin@example.com --customer my_customer >/dev/null

echo "roster $("$bin" --version) at $(git rev-parse --short HEAD) on $backend, $(nproc) cores; fake: $users users, $groups groups, $shape"
for run in first no-change; do
    /usr/bin/time -v "$bin" google sync --directory gw >"$work/$run.out" 2>"$work/$run.time"
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/$run.time")
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/$run.time")
    echo "$run sync: wall $wall, peak RSS $((rss / 1024)) MiB, load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "  $(cat "$work/$run.out")"
done
