#!/usr/bin/env bash
# Page load times of the admin console with a large directory (docs/performance.md):
#
#   bash scripts/bench-console.sh [sqlite|postgres] [N=100000]
#
# Seeds N users and one group holding all of them into one directory with examples/seed.rs
# (the domain commands), records a few SCIM requests so the request log has entries, starts
# `roster serve`, signs in with an admin key and times each console page ROUNDS times, one
# request at a time (examples/bench_console.rs). PROFILE=release (default) or debug.
# Env: ROUNDS (20), PROFILE.
set -euo pipefail

backend=${1:-sqlite}
n=${2:-100000}
profile=${PROFILE:-release}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
flag=()
if [[ $profile == release ]]; then
    flag=(--release)
fi
cargo build "${flag[@]}" --quiet --bin roster --example seed --example bench_console
bin="$repo/target/$profile/roster"
work=$(mktemp -d)
source "$repo/scripts/lib/bench-db.sh"
trap bench_cleanup EXIT
bench_open_db "$backend" roster_console || { echo "usage: $0 [sqlite|postgres] [N]" >&2; exit 2; }

"$bin" migrate >/dev/null
"$bin" tenant create bench >/dev/null
created=$("$bin" --json directory create --tenant bench --kind generic load)
token=$(echo "$created" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
directory=$(echo "$created" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
key=$("$bin" --json admin-key issue | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
"$repo/target/$profile/examples/seed" "$ROSTER_DATABASE_URL?statement_timeout=0" load "$n" "$work" "$n" 2>&1 |
    tr '\r' '\n' | grep -v '^seeded [0-9]* users$'
group=$(awk -v s="$n" '$1 == s {print $2}' "$work/groups.txt")
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
for i in $(seq 50); do
    curl -fs -o /dev/null -H "Authorization: Bearer $token" \
        "http://127.0.0.1:$port/scim/v2/Users?count=10&startIndex=$i"
done
sleep 2
echo "roster $("$bin" --version) ($profile) on $backend, N=$n users, one group of $n, $(nproc) cores, ${ROUNDS:-20} rounds"
"$repo/target/$profile/examples/bench_console" "http://127.0.0.1:$port" "$key" "$directory" \
    "$group" "$work/ids.txt" "${ROUNDS:-20}"
