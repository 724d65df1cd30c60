#!/usr/bin/env bash
# Figures for the application's read API beside SCIM's own reads of the same users, in one run,
# on a release build (docs/performance.md):
#
#   bash scripts/bench-read.sh [sqlite|postgres] [N=10000]
#
# Seeds N users into one directory with examples/seed.rs (the domain commands, 2,000 users per
# transaction), starts `roster serve` on that database (a temp SQLite file, or a new database
# on ROSTER_TEST_POSTGRES_URL, dropped afterwards), then runs examples/bench_read.rs: GET a
# random user by id and a 100-user page through /api/v1 and through /scim/v2, each for SECS
# with CLIENTS concurrent clients. With GROUP=SIZE (at most N), the seed also makes a group of
# SIZE members, and the run first reads all of it through /api/v1/groups/{id}/users a page of
# 1,000 at a time, checking every member comes once, in order. Loopback only, bounded runs.
# Env: SECS (10), CLIENTS (16), GROUP.
set -euo pipefail

backend=${1:-sqlite}
n=${2:-10000}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
cargo build --release --quiet --bin roster --example seed --example bench_read
bin="$repo/target/release/roster"
work=$(mktemp -d)
source "$repo/scripts/lib/bench-db.sh"
trap bench_cleanup EXIT
bench_open_db "$backend" roster_read || { echo "usage: $0 [sqlite|postgres] [N]" >&2; exit 2; }

"$bin" migrate >/dev/null
"$bin" tenant create bench >/dev/null
created=$("$bin" --json directory create --tenant bench --kind generic load)
token=$(echo "$created" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
directory=$(echo "$created" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
key=$("$bin" --json app-key issue --tenant bench | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
# No statement limit for the seed: one group of 100,000 members is one write.
"$repo/target/release/examples/seed" "$ROSTER_DATABASE_URL?statement_timeout=0" load "$n" "$work" ${GROUP:-} 2>&1 |
    tr '\r' '\n' | grep -v '^seeded [0-9]* users$'
group_args=()
if [[ -n ${GROUP:-} ]]; then
    group_args=("$(awk -v s="$GROUP" '$1 == s {print $2}' "$work/groups.txt")" "$GROUP")
fi
if [[ $backend == postgres ]]; then
    psql "$ROSTER_DATABASE_URL" -qc "VACUUM ANALYZE" >/dev/null
fi
port=$(bench_free_port)
ROSTER_LOG=warn "$bin" serve --bind "127.0.0.1:$port" >"$work/server.log" 2>&1 &
bench_pids+=("$!")
for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break
    sleep 0.1
done
echo "roster $("$bin" --version) on $backend, N=$n, $(nproc) cores, ${CLIENTS:-16} clients, ${SECS:-10} s each"
"$repo/target/release/examples/bench_read" "http://127.0.0.1:$port" "$token" "$key" "$directory" \
    "$work/ids.txt" "${SECS:-10}" "${CLIENTS:-16}" "${group_args[@]}"
