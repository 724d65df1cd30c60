#!/usr/bin/env bash
# A/B of two roster binaries under one write or read load, as alternating pairs:
#
#   bash scripts/ab.sh BIN_A BIN_B [TEST=post] [PAIRS=3] [N=10000]
#
# TEST is get, patch or post (the peers' wrk scripts, wrk -t1 -c16 -d10s). Starts both
# binaries on fresh SQLite databases seeded with N users, then runs TEST against A, B, A, B...
# and prints per run: req/s, the server's processor time per request, and that of the SQLite
# writer thread and of the HTTP workers (from /proc/PID/task/TID/stat). The writer thread
# runs the queued writes (a small POST /Users; other writes run on blocking threads, and show
# as 0 there); its time per request is the steadiest figure for POST (it is the one serial
# part), while req/s drifts ±10% on this machine. Loopback only, bounded runs; the databases
# are removed at the end.
set -euo pipefail

a=${1:?usage: ab.sh BIN_A BIN_B [TEST] [PAIRS] [N]}
b=${2:?usage: ab.sh BIN_A BIN_B [TEST] [PAIRS] [N]}
test=${3:-post}
pairs=${4:-3}
n=${5:-10000}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
peers="$repo/../shared/peers"
command -v wrk >/dev/null || { echo "ab.sh: wrk not found: apt-get install -y wrk" >&2; exit 2; }
case $test in
    get) script=get_user.lua ;;
    patch) script=patch_active.lua ;;
    post) script=post_users.lua ;;
    *) echo "ab.sh: TEST is get, patch or post" >&2; exit 2 ;;
esac
source "$repo/scripts/lib/bench-db.sh"
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT

# start NAME BIN: a server on a fresh database, seeded; sets $NAME_pid, $NAME_port, $NAME_token
start() {
    local name=$1 bin=$2 dir="$work/$1" port
    mkdir -p "$dir"
    port=$(bench_free_port)
    export ROSTER_DATABASE_URL="sqlite://$dir/roster.db"
    "$bin" migrate >/dev/null
    "$bin" tenant create ab >/dev/null
    local token
    token=$("$bin" --json directory create --tenant ab --kind generic load |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
    ROSTER_LOG=warn "$bin" serve --bind "127.0.0.1:$port" >"$dir/server.log" 2>&1 &
    pids+=($!)
    printf -v "${name}_pid" %s $!
    printf -v "${name}_port" %s "$port"
    printf -v "${name}_token" %s "$token"
    for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
    python3 "$peers/seed_users.py" "http://127.0.0.1:$port/scim/v2" "$token" "$n" --threads 4 \
        --ids-out "$dir/ids.txt" >/dev/null
}

ticks() { awk '{print $14 + $15}' "$1"; }
threads_named() {
    local pid=$1 comm=$2 t
    for t in /proc/"$pid"/task/*; do
        if [[ "$(cat "$t/comm")" == "$comm" ]]; then echo "$t/stat"; fi
    done
}
sum_ticks() { local s=0 f; for f in "$@"; do s=$((s + $(ticks "$f"))); done; echo "$s"; }

# run NAME: one wrk run against server NAME, then its figures
run() {
    local name=$1 pid port token
    pid=${name}_pid; pid=${!pid}
    port=${name}_port; port=${!port}
    token=${name}_token; token=${!token}
    local writer workers
    writer=$(threads_named "$pid" sqlite-writer)
    workers=$(threads_named "$pid" 'actix-rt|system')
    local t0 w0 h0 t1 w1 h1 out
    t0=$(ticks /proc/"$pid"/stat); w0=$(sum_ticks $writer); h0=$(sum_ticks $workers)
    out=$(SCIM_TOKEN=$token SCIM_BASE_PATH=/scim/v2 WRK_LUA_DIR="$peers/wrk" \
        timeout 70 wrk -t1 -c16 -d10s --timeout 10s -s "$peers/wrk/$script" \
        "http://127.0.0.1:$port/scim/v2/Users" -- "$work/$name/ids.txt" 2>&1)
    t1=$(ticks /proc/"$pid"/stat); w1=$(sum_ticks $writer); h1=$(sum_ticks $workers)
    local rps
    rps=$(awk '/Requests\/sec/{print $2}' <<<"$out")
    python3 -c "
r = $rps; n = r * 10; us = lambda d: d * 1e6 / 100 / n
print(f'$name: {r:7.0f} req/s  server {us($t1 - $t0):4.0f} us/req  writer {us($w1 - $w0):4.0f} us  workers {us($h1 - $h0):4.0f} us')"
    grep -E 'Non-2xx|Socket errors' <<<"$out" || true
}

start A "$a"
start B "$b"
echo "A = $a, B = $b, $test, $n users, $(nproc) cores"
for _ in $(seq "$pairs"); do
    run A
    run B
done
