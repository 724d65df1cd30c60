# shellcheck shell=bash
# Start a throwaway Roster server for an IdP conformance suite. Source it; do not execute it.
# Used by scim-conformance/microsoft/run.sh and scim-conformance/okta/run.sh.
#
#   rs_tag=microsoft                       # prefix of log lines (optional)
#   . "$repo/scim-conformance/lib/serve.sh"
#   rs_serve BACKEND TENANT KIND DIRECTORY # BACKEND is sqlite or postgres
#   ... use $RS_BASE_URL, $RS_TOKEN, $RS_PORT, $RS_WORK (a temp dir, deleted at exit) ...
#   rs_finish "$rc"                        # stops the server, checks it did not die, exits
#
# rs_serve does, in order:
# * binary: ROSTER_BIN, else `cargo build --bin roster` in the repository and its debug binary;
# * database: a temp SQLite file, or (postgres) a fresh database on ROSTER_TEST_POSTGRES_URL
#   (default postgres://postgres@127.0.0.1:5432/postgres, provisioned by scripts/pg-throwaway.sh
#   exactly as scripts/test.sh and scim2-tester.sh do), dropped at exit;
# * roster migrate; roster --json tenant create TENANT;
#   roster --json directory create --tenant TENANT --kind KIND DIRECTORY (its token and
#   scim_base_url become RS_TOKEN and RS_BASE_URL);
# * roster serve --bind 127.0.0.1:PORT (a free port) with ROSTER_PUBLIC_URL=http://127.0.0.1:PORT,
#   then waits for GET /healthz (ROSTER_HEALTH_TIMEOUT seconds, default 60).
# An EXIT trap stops the server, drops the PostgreSQL database and deletes RS_WORK. With
# ROSTER_CONFORMANCE_OUT=DIR the server log and every file named in rs_keep (paths inside
# RS_WORK) are copied to DIR as NAME-$rs_tag-BACKEND.EXT first.
# Failures during set-up exit 1 (die).

rs_tag=${rs_tag:-conformance}
rs_keep=()
RS_WORK=""
RS_PORT=""
RS_BASE_URL=""
RS_TOKEN=""
RS_BIN=""
_rs_backend=""
_rs_server_pid=""
_rs_pg_db=""
_rs_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

rs_log() { echo "${rs_tag}[${_rs_backend:-?}]: $*" >&2; }
rs_die() {
    rs_log "FATAL: $*"
    exit 1
}

# shellcheck source=scripts/pg-throwaway.sh
. "$_rs_repo/scripts/pg-throwaway.sh"

rs_stop_server() {
    [[ -n $_rs_server_pid ]] || return 0
    if kill -0 "$_rs_server_pid" 2>/dev/null; then
        kill -TERM "$_rs_server_pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$_rs_server_pid" 2>/dev/null || break
            sleep 0.2
        done
        if kill -0 "$_rs_server_pid" 2>/dev/null; then
            rs_log "server $_rs_server_pid ignored SIGTERM; killing it"
            kill -KILL "$_rs_server_pid" 2>/dev/null || true
        fi
    fi
    wait "$_rs_server_pid" 2>/dev/null || true
    _rs_server_pid=""
}

# shellcheck disable=SC2317  # called from the EXIT trap
_rs_cleanup() {
    local rc=$?
    set +e
    rs_stop_server
    if [[ -n $_rs_pg_db ]]; then
        psql "$ROSTER_TEST_POSTGRES_URL" -XqAt -v ON_ERROR_STOP=1 \
            -c "DROP DATABASE IF EXISTS \"$_rs_pg_db\" WITH (FORCE)" >/dev/null ||
            rs_log "could not drop database $_rs_pg_db"
    fi
    roster_pg_cleanup
    if [[ -n ${ROSTER_CONFORMANCE_OUT:-} && -n $RS_WORK ]]; then
        mkdir -p "$ROSTER_CONFORMANCE_OUT"
        local f base
        for f in roster.log "${rs_keep[@]}"; do
            [[ -f $RS_WORK/$f ]] || continue
            base=$(basename "$f")
            cp "$RS_WORK/$f" "$ROSTER_CONFORMANCE_OUT/${base%.*}-$rs_tag-$_rs_backend.${base##*.}"
        done
    fi
    [[ -n $RS_WORK ]] && rm -rf "$RS_WORK"
    exit "$rc"
}

# Last JSON object in $1; prints the keys $2.. one per line (each must be non-empty).
rs_json_field() {
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

rs_healthy() {
    curl -fsS --noproxy '*' -m 2 -o /dev/null "http://127.0.0.1:$RS_PORT/healthz" 2>/dev/null
}

rs_serve() {
    local backend=$1 tenant=$2 kind=$3 directory=$4 out fields db_url deadline
    _rs_backend=$backend
    case $backend in
    sqlite | postgres) ;;
    *) rs_die "backend must be sqlite or postgres, not '$backend'" ;;
    esac
    command -v curl >/dev/null || rs_die "curl is needed"
    command -v python3 >/dev/null || rs_die "python3 is needed"

    RS_WORK=$(mktemp -d "${TMPDIR:-/tmp}/roster-$rs_tag.XXXXXX")
    trap _rs_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    # --- the roster binary ----------------------------------------------------------------
    if [[ -n ${ROSTER_BIN:-} ]]; then
        RS_BIN=$ROSTER_BIN
    else
        rs_log "cargo build"
        (cd "$_rs_repo" && cargo build --bin roster) || rs_die "cargo build failed"
        RS_BIN=$(cd "$_rs_repo" && cargo metadata --format-version 1 --no-deps |
            python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/debug/roster
    fi
    [[ -x $RS_BIN ]] || rs_die "no roster binary at $RS_BIN"
    rs_log "binary: $RS_BIN"

    # --- a throwaway database -------------------------------------------------------------
    if [[ $backend == sqlite ]]; then
        db_url="sqlite://$RS_WORK/roster.db"
    else
        command -v psql >/dev/null || rs_die "psql is needed for the postgres backend (apt-get install postgresql-client)"
        roster_pg_ensure || rs_die "no PostgreSQL available"
        _rs_pg_db="roster_${rs_tag//[^a-z0-9]/_}_$$_${RANDOM}"
        psql "$ROSTER_TEST_POSTGRES_URL" -XqAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$_rs_pg_db\"" >/dev/null ||
            rs_die "could not create database $_rs_pg_db on $(roster_pg_redact "$ROSTER_TEST_POSTGRES_URL")"
        db_url=$(python3 -c '
import sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
print(urllib.parse.urlunsplit(u._replace(path="/" + sys.argv[2])))' "$ROSTER_TEST_POSTGRES_URL" "$_rs_pg_db")
    fi
    rs_log "database: $(roster_pg_redact "$db_url")"

    RS_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
    export ROSTER_DATABASE_URL=$db_url
    export ROSTER_BIND=127.0.0.1:$RS_PORT
    export ROSTER_PUBLIC_URL=http://127.0.0.1:$RS_PORT
    # Loopback only: never let a proxy from the environment get in the way (newman, urllib, curl).
    export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
    unset HTTP_PROXY HTTPS_PROXY http_proxy https_proxy ALL_PROXY all_proxy
    export NO_COLOR=1

    "$RS_BIN" migrate >"$RS_WORK/migrate.log" 2>&1 || {
        cat "$RS_WORK/migrate.log" >&2
        rs_die "roster migrate failed"
    }
    out=$("$RS_BIN" --json tenant create "$tenant") || rs_die "roster tenant create failed"
    rs_json_field "$out" id >/dev/null || rs_die "unexpected output of tenant create"
    out=$("$RS_BIN" --json directory create --tenant "$tenant" --kind "$kind" "$directory") ||
        rs_die "roster directory create failed"
    fields=$(rs_json_field "$out" scim_base_url token) || rs_die "unexpected output of directory create"
    RS_BASE_URL=$(sed -n 1p <<<"$fields")
    # shellcheck disable=SC2034  # read by the script that sources this file
    RS_TOKEN=$(sed -n 2p <<<"$fields")
    rs_log "tenant $tenant, directory $directory (kind $kind); SCIM base URL $RS_BASE_URL"

    # --- the server -----------------------------------------------------------------------
    "$RS_BIN" serve --bind "127.0.0.1:$RS_PORT" >"$RS_WORK/roster.log" 2>&1 &
    _rs_server_pid=$!
    deadline=$((SECONDS + ${ROSTER_HEALTH_TIMEOUT:-60}))
    until rs_healthy; do
        if ! kill -0 "$_rs_server_pid" 2>/dev/null; then
            tail -n 50 "$RS_WORK/roster.log" | cut -c1-400 >&2
            _rs_server_pid=""
            rs_die "roster serve exited before answering /healthz (log above)"
        fi
        if ((SECONDS >= deadline)); then
            tail -n 50 "$RS_WORK/roster.log" | cut -c1-400 >&2
            rs_die "roster serve did not answer http://127.0.0.1:$RS_PORT/healthz within ${ROSTER_HEALTH_TIMEOUT:-60}s"
        fi
        sleep 0.3
    done
    rs_log "server $_rs_server_pid up on 127.0.0.1:$RS_PORT"
}

# Stop the server and exit with $1 (1 if the server died during the run). On failure, print
# the tail of the server log.
rs_finish() {
    local rc=$1
    if [[ -n $_rs_server_pid ]] && ! kill -0 "$_rs_server_pid" 2>/dev/null; then
        rs_log "the server died during the run"
        rc=1
    fi
    rs_stop_server
    if [[ $rc -ne 0 ]]; then
        rs_log "suite failed (exit $rc); last 30 lines of the server log, cut to 400 characters" \
            "(keep the whole log with ROSTER_CONFORMANCE_OUT=DIR):"
        tail -n 30 "$RS_WORK/roster.log" | cut -c1-400 >&2 || true
    fi
    exit "$rc"
}
