#!/usr/bin/env bash
# Run python-scim's scim2-tester against a freshly started Roster server.
#
#   bash scim-conformance/scim2-tester.sh [sqlite|postgres] [extra run_scim2_tester.py args...]
#
# * venv ${ROSTER_VENV:-.venv/conformance} from scim-conformance/requirements.txt (created
#   once, re-created when requirements.txt changes);
# * binary: `cargo build` (debug) unless ROSTER_BIN names one;
# * a throwaway database: a temp SQLite file, or (postgres) a fresh database on
#   ROSTER_TEST_POSTGRES_URL (provisioned like scripts/test.sh does), dropped afterwards;
# * roster migrate / tenant create conformance / directory create scim2-tester, then
#   roster serve on a free 127.0.0.1 port, waits for /healthz, runs run_scim2_tester.py
#   against the directory's scim_base_url with its token, stops the server.
# Exit status: the tester's (0 = no ERROR/CRITICAL check), or 1 if the setup fails.
#
# Env: ROSTER_BIN, ROSTER_VENV, ROSTER_TEST_POSTGRES_URL, ROSTER_PG_THROWAWAY=1,
#      ROSTER_CONFORMANCE_OUT=DIR (keep scim2-tester-BACKEND.json + roster-BACKEND.log there),
#      ROSTER_HEALTH_TIMEOUT (seconds, default 60).
set -euo pipefail

backend=${1:-sqlite}
if [[ $# -gt 0 ]]; then shift; fi
case $backend in
sqlite | postgres) ;;
*)
    echo "usage: $0 [sqlite|postgres] [run_scim2_tester.py args...]" >&2
    exit 2
    ;;
esac

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
here=$repo/scim-conformance

log() { echo "scim2-tester.sh[$backend]: $*" >&2; }
die() {
    log "FATAL: $*"
    exit 1
}

# shellcheck source=scripts/pg-throwaway.sh
. "$repo/scripts/pg-throwaway.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/roster-conformance.XXXXXX")
server_pid=""
pg_db=""
server_log=$work/roster.log

stop_server() {
    [[ -n $server_pid ]] || return 0
    if kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.2
        done
        if kill -0 "$server_pid" 2>/dev/null; then
            log "server $server_pid ignored SIGTERM; killing it"
            kill -KILL "$server_pid" 2>/dev/null || true
        fi
    fi
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
}

# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
    local rc=$?
    set +e
    stop_server
    if [[ -n $pg_db ]]; then
        psql "$ROSTER_TEST_POSTGRES_URL" -XqAt -v ON_ERROR_STOP=1 \
            -c "DROP DATABASE IF EXISTS \"$pg_db\" WITH (FORCE)" >/dev/null ||
            log "could not drop database $pg_db"
    fi
    roster_pg_cleanup
    if [[ -n ${ROSTER_CONFORMANCE_OUT:-} ]]; then
        mkdir -p "$ROSTER_CONFORMANCE_OUT"
        cp "$server_log" "$ROSTER_CONFORMANCE_OUT/roster-$backend.log" 2>/dev/null
        cp "$work/scim2-tester.json" "$ROSTER_CONFORMANCE_OUT/scim2-tester-$backend.json" 2>/dev/null
    fi
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- Python venv with scim2-tester -------------------------------------------------------
venv=${ROSTER_VENV:-.venv/conformance}
req=$here/requirements.txt
stamp=$(sha256sum "$req" | cut -d' ' -f1)
if [[ -x $venv/bin/python && -f $venv/.requirements.sha256 && $(cat "$venv/.requirements.sha256") == "$stamp" ]] &&
    "$venv/bin/python" -c 'import scim2_tester, httpx2' 2>/dev/null; then
    log "reusing venv $venv"
else
    log "creating venv $venv from $req"
    python3 -m venv --clear "$venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$req" ||
        die "pip install -r $req failed"
    echo "$stamp" >"$venv/.requirements.sha256"
fi

# --- the roster binary --------------------------------------------------------------------
if [[ -n ${ROSTER_BIN:-} ]]; then
    bin=$ROSTER_BIN
else
    log "cargo build"
    cargo build --bin roster || die "cargo build failed"
    target_dir=$(cargo metadata --format-version 1 --no-deps |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
    bin=$target_dir/debug/roster
fi
[[ -x $bin ]] || die "no roster binary at $bin"
log "binary: $bin"

# --- a throwaway database -----------------------------------------------------------------
if [[ $backend == sqlite ]]; then
    db_url="sqlite://$work/roster.db"
else
    command -v psql >/dev/null || die "psql is needed for the postgres backend (apt-get install postgresql-client)"
    roster_pg_ensure || die "no PostgreSQL available"
    pg_db="roster_conformance_$$_${RANDOM}"
    psql "$ROSTER_TEST_POSTGRES_URL" -XqAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$pg_db\"" >/dev/null ||
        die "could not create database $pg_db on $(roster_pg_redact "$ROSTER_TEST_POSTGRES_URL")"
    db_url=$(python3 -c '
import sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
print(urllib.parse.urlunsplit(u._replace(path="/" + sys.argv[2])))' "$ROSTER_TEST_POSTGRES_URL" "$pg_db")
fi
log "database: $(roster_pg_redact "$db_url")"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
export ROSTER_DATABASE_URL=$db_url
export ROSTER_BIND=127.0.0.1:$port
export ROSTER_PUBLIC_URL=http://127.0.0.1:$port
# Loopback only: never let a proxy from the environment get in the way.
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
# Plain server logs (tracing-subscriber honours NO_COLOR).
export NO_COLOR=1

# Last JSON object printed on stdout ($1 = output, $2.. = keys to print, one per line).
json_field() {
    python3 -c '
import json, sys
out, keys = sys.argv[1], sys.argv[2:]
try:
    obj = json.loads(out)
except ValueError:
    obj = None
    for line in reversed(out.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                obj = json.loads(line)
                break
            except ValueError:
                pass
if not isinstance(obj, dict):
    sys.exit("no JSON object in output: %r" % out[:500])
for k in keys:
    if not obj.get(k):
        sys.exit("JSON output lacks %r: %r" % (k, sorted(obj)))
    print(obj[k])' "$@"
}

"$bin" migrate >"$work/migrate.log" 2>&1 || {
    cat "$work/migrate.log" >&2
    die "roster migrate failed"
}
out=$("$bin" --json tenant create conformance) || die "roster tenant create failed"
json_field "$out" id >/dev/null || die "unexpected output of tenant create"
out=$("$bin" --json directory create --tenant conformance --kind generic scim2-tester) ||
    die "roster directory create failed"
fields=$(json_field "$out" scim_base_url token) || die "unexpected output of directory create"
base_url=$(sed -n 1p <<<"$fields")
token=$(sed -n 2p <<<"$fields")
log "directory created; SCIM base URL $base_url"

# --- the server ---------------------------------------------------------------------------
"$bin" serve --bind "127.0.0.1:$port" >"$server_log" 2>&1 &
server_pid=$!
healthy() {
    if command -v curl >/dev/null; then
        curl -fsS --noproxy '*' -m 2 -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null
    else
        python3 -c 'import sys, urllib.request
urllib.request.install_opener(urllib.request.build_opener(urllib.request.ProxyHandler({})))
urllib.request.urlopen(sys.argv[1], timeout=2)' "http://127.0.0.1:$port/healthz" 2>/dev/null
    fi
}
deadline=$((SECONDS + ${ROSTER_HEALTH_TIMEOUT:-60}))
until healthy; do
    if ! kill -0 "$server_pid" 2>/dev/null; then
        tail -n 50 "$server_log" | cut -c1-400 >&2
        server_pid=""
        die "roster serve exited before answering /healthz (log above)"
    fi
    if ((SECONDS >= deadline)); then
        tail -n 50 "$server_log" | cut -c1-400 >&2
        die "roster serve did not answer http://127.0.0.1:$port/healthz within ${ROSTER_HEALTH_TIMEOUT:-60}s"
    fi
    sleep 0.3
done
log "server $server_pid up on 127.0.0.1:$port"

# --- the tester ---------------------------------------------------------------------------
rc=0
"$venv/bin/python" "$here/run_scim2_tester.py" "$base_url" "$token" \
    --json "$work/scim2-tester.json" "$@" || rc=$?

if ! kill -0 "$server_pid" 2>/dev/null; then
    log "the server died during the run"
    rc=1
fi
stop_server
if [[ $rc -ne 0 ]]; then
    # The tester's own clean-up DELETEs of already deleted resources (404) are noise here.
    log "scim2-tester failed (exit $rc); last 40 lines of the server log, less DELETE 404s, cut to 400 characters" \
        "(keep the whole log with ROSTER_CONFORMANCE_OUT=DIR):"
    grep -v -E 'http\.method=DELETE .*http\.status_code=404' "$server_log" | tail -n 40 | cut -c1-400 >&2 || true
fi
exit "$rc"
