#!/usr/bin/env bash
# Roster and the open-source SCIM servers of ../shared/peers, measured one after another in one
# run with the same load (../shared/peers/load.sh: N seeded users, then 10 s wrk runs), so the
# ratios hold even where absolute numbers drift between machines.
#
#   bash scripts/bench-peers.sh [N=10000] [PEER ...]   # default peers: scimmy-idx scim2-uvicorn
#
# Env: ROUNDS (default 1) repeats the whole sequence, every server again on a fresh store, and
# then prints each server's median per test and Roster's ratio to the best peer: this machine's
# speed drifts by a fifth within minutes, and alternating servers spreads the drift over all of
# them. BACKENDS (default "sqlite postgres") picks Roster's backends.
#
# Needs `../shared/peers/peers.sh install` once. Each server runs alone while it is measured.
# Results land in $OUT_DIR (default /tmp/peers/load/side-by-side-<time>/), one folder per round.
set -euo pipefail

n=${1:-10000}
shift || true
peers=("$@")
[[ ${#peers[@]} -gt 0 ]] || peers=(scimmy-idx scim2-uvicorn)
rounds=${ROUNDS:-1}
read -r -a backends <<<"${BACKENDS:-sqlite postgres}"
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
peers_dir="$repo/../shared/peers"
out=${OUT_DIR:-/tmp/peers/load/side-by-side-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"

trap 'bash "$peers_dir/peers.sh" stop "${peers[@]}" >/dev/null 2>&1 || true' EXIT
for round in $(seq "$rounds"); do
    dir="$out/round-$round"
    for peer in "${peers[@]}"; do
        bash "$peers_dir/peers.sh" start "$peer"
        sleep 2
        SERVER_PID=$(bash "$peers_dir/peers.sh" pid "$peer") OUT_DIR="$dir/$peer" \
            bash "$peers_dir/load.sh" "$(bash "$peers_dir/peers.sh" url "$peer")" "${SCIM_TOKEN:-secret}" "$n" "$peer"
        bash "$peers_dir/peers.sh" stop "$peer"
    done
    for backend in "${backends[@]}"; do
        OUT_DIR="$dir/roster-$backend" bash "$repo/scripts/bench.sh" "$backend" "$n"
    done
done
echo
echo "== side by side (N=$n, $rounds round(s)): $out"
cat "$out"/round-*/*/summary.md
python3 "$repo/scripts/lib/peer_ratios.py" "$out"
