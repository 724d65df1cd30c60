# shellcheck shell=bash
# PostgreSQL provisioning shared by scripts/test.sh, scim-conformance/scim2-tester.sh
# and .ci/run. Source it; do not execute it.
#
#   . scripts/pg-throwaway.sh
#   trap roster_pg_cleanup EXIT      # (or call roster_pg_cleanup from your own EXIT trap)
#   roster_pg_ensure                 # exports ROSTER_TEST_POSTGRES_URL, or returns 1
#
# roster_pg_ensure makes sure ROSTER_TEST_POSTGRES_URL (default
# postgres://postgres@127.0.0.1:5432/postgres, an admin URL that may CREATE/DROP databases)
# points at a PostgreSQL that answers:
#   * the URL answers                      -> it is used as is;
#   * it does not, and it is the default   -> a throwaway cluster is started: initdb into a
#     mktemp dir owned by the `postgres` user, trust auth, listening on a free port of
#     127.0.0.1 with its unix socket inside the temp dir; roster_pg_cleanup stops it and
#     deletes the dir;
#   * it does not, and it was set by hand  -> error (we never silently swap a URL you chose);
#   * no PostgreSQL can be had             -> error with a message. Nothing is ever skipped.
#
# Knobs:
#   ROSTER_PG_THROWAWAY=1   always start a throwaway cluster, even if the URL answers.
#                           A child script reuses a throwaway its parent started (it inherits
#                           ROSTER_PG_THROWAWAY_URL) instead of starting another one.
#   ROSTER_PG_BINDIR=DIR    where initdb/pg_ctl/postgres live (default: newest
#                           /usr/lib/postgresql/*/bin, else the ones on PATH).
#   ROSTER_PG_USER=NAME     OS user that runs the throwaway server when we are root
#                           (default postgres; initdb refuses to run as root).

ROSTER_PG_DEFAULT_URL="postgres://postgres@127.0.0.1:5432/postgres"
_roster_pg_dir=""   # set only in the shell that started the throwaway cluster
_roster_pg_owner_pid=""

_roster_pg_log() { echo "pg: $*" >&2; }

# URL with any password replaced by ***, for printing.
roster_pg_redact() { sed -E 's#^([a-z]+://[^:/@]*):[^@]*@#\1:***@#' <<<"$1"; }

# Does URL accept a connection (and a query, when psql is installed)?
roster_pg_reachable() {
    local url=$1
    if command -v psql >/dev/null 2>&1; then
        PGCONNECT_TIMEOUT=3 psql "$url" -XAtqc 'select 1' >/dev/null 2>&1
    elif command -v pg_isready >/dev/null 2>&1; then
        pg_isready -q -t 3 -d "$url" >/dev/null 2>&1
    else
        _roster_pg_log "neither psql nor pg_isready is installed (apt-get install postgresql-client)"
        return 1
    fi
}

_roster_pg_bindir() {
    if [[ -n ${ROSTER_PG_BINDIR:-} ]]; then
        echo "$ROSTER_PG_BINDIR"
        return
    fi
    local d
    d=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
    if [[ -n $d && -x $d/initdb ]]; then
        echo "$d"
    elif command -v initdb >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v initdb)")"
    fi
}

_roster_pg_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Run a command as the server's OS user (root may not run initdb/postgres).
_roster_pg_as() {
    if [[ $(id -u) -ne 0 ]]; then
        "$@"
    elif command -v runuser >/dev/null 2>&1; then
        runuser -u "$_roster_pg_user" -- "$@"
    else
        su -s /bin/sh "$_roster_pg_user" -c "$(printf '%q ' "$@")"
    fi
}

_roster_pg_start_throwaway() {
    local bindir port attempt
    bindir=$(_roster_pg_bindir)
    if [[ -z $bindir || ! -x $bindir/initdb || ! -x $bindir/pg_ctl ]]; then
        _roster_pg_log "no PostgreSQL server binaries (initdb, pg_ctl) found; install the Debian package 'postgresql', set ROSTER_PG_BINDIR, or point ROSTER_TEST_POSTGRES_URL at a running server"
        return 1
    fi
    _roster_pg_user=${ROSTER_PG_USER:-postgres}
    if [[ $(id -u) -eq 0 ]] && ! id -u "$_roster_pg_user" >/dev/null 2>&1; then
        _roster_pg_log "running as root and OS user '$_roster_pg_user' does not exist (initdb refuses to run as root); set ROSTER_PG_USER"
        return 1
    fi

    _roster_pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/roster-pg.XXXXXX") || return 1
    _roster_pg_owner_pid=$BASHPID
    chmod 700 "$_roster_pg_dir"
    if [[ $(id -u) -eq 0 ]] && ! chown "$_roster_pg_user" "$_roster_pg_dir"; then
        roster_pg_cleanup
        return 1
    fi

    _roster_pg_log "starting a throwaway PostgreSQL ($bindir) in $_roster_pg_dir"
    if ! (cd "$_roster_pg_dir" && _roster_pg_as "$bindir/initdb" -D "$_roster_pg_dir/data" \
        -U postgres -A trust -E UTF8 --locale=C --no-sync >"$_roster_pg_dir/initdb.log" 2>&1); then
        _roster_pg_log "initdb failed:"
        tail -n 30 "$_roster_pg_dir/initdb.log" >&2 || true
        roster_pg_cleanup
        return 1
    fi

    # The port is picked, then bound by postgres: retry if someone took it in between.
    for attempt in 1 2 3; do
        port=$(_roster_pg_free_port)
        if (cd "$_roster_pg_dir" && _roster_pg_as "$bindir/pg_ctl" -D "$_roster_pg_dir/data" \
            -l "$_roster_pg_dir/server.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $_roster_pg_dir -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=200" \
            start >/dev/null 2>&1); then
            export ROSTER_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
            export ROSTER_PG_THROWAWAY_URL=$ROSTER_TEST_POSTGRES_URL
            if roster_pg_reachable "$ROSTER_TEST_POSTGRES_URL"; then
                return 0
            fi
            _roster_pg_log "throwaway server started but does not answer on port $port"
            break
        fi
        _roster_pg_log "pg_ctl start on port $port failed (attempt $attempt)"
    done
    tail -n 30 "$_roster_pg_dir/server.log" >&2 2>/dev/null || true
    roster_pg_cleanup
    return 1
}

# Stop and delete the throwaway cluster this shell started, if any. Safe to call twice,
# and a no-op in subshells or when no throwaway was started.
roster_pg_cleanup() {
    [[ -n $_roster_pg_dir ]] || return 0
    [[ $_roster_pg_owner_pid == "$BASHPID" ]] || return 0
    local dir=$_roster_pg_dir bindir
    _roster_pg_dir=""
    bindir=$(_roster_pg_bindir)
    if [[ -f $dir/data/postmaster.pid ]]; then
        (cd "$dir" && _roster_pg_as "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1) ||
            _roster_pg_log "pg_ctl stop failed for $dir"
    fi
    rm -rf "$dir"
    _roster_pg_log "throwaway PostgreSQL stopped and $dir removed"
    if [[ ${ROSTER_PG_THROWAWAY_URL:-} == "${ROSTER_TEST_POSTGRES_URL:-}" ]]; then
        unset ROSTER_PG_THROWAWAY_URL
    fi
}

roster_pg_ensure() {
    local url=${ROSTER_TEST_POSTGRES_URL:-$ROSTER_PG_DEFAULT_URL}
    local version

    if [[ ${ROSTER_PG_THROWAWAY:-0} == 1 ]]; then
        # A parent script's throwaway is reused rather than nested.
        if [[ -n ${ROSTER_PG_THROWAWAY_URL:-} && $url == "$ROSTER_PG_THROWAWAY_URL" ]] &&
            roster_pg_reachable "$url"; then
            export ROSTER_TEST_POSTGRES_URL=$url
        else
            _roster_pg_log "ROSTER_PG_THROWAWAY=1: starting a throwaway cluster"
            _roster_pg_start_throwaway || {
                _roster_pg_log "FATAL: could not start a throwaway PostgreSQL"
                return 1
            }
        fi
    elif roster_pg_reachable "$url"; then
        export ROSTER_TEST_POSTGRES_URL=$url
    elif [[ $url == "$ROSTER_PG_DEFAULT_URL" ]]; then
        _roster_pg_log "no PostgreSQL answers at $url; starting a throwaway cluster"
        _roster_pg_start_throwaway || {
            _roster_pg_log "FATAL: no PostgreSQL at $url and could not start a throwaway one; tests need PostgreSQL and are never skipped"
            return 1
        }
    else
        _roster_pg_log "FATAL: ROSTER_TEST_POSTGRES_URL=$(roster_pg_redact "$url") does not answer. Start that server, or unset ROSTER_TEST_POSTGRES_URL (the default $ROSTER_PG_DEFAULT_URL is then used, or a throwaway cluster when it is down), or set ROSTER_PG_THROWAWAY=1"
        return 1
    fi

    version=$(PGCONNECT_TIMEOUT=3 psql "$ROSTER_TEST_POSTGRES_URL" -XAtqc 'show server_version' 2>/dev/null || echo "version unknown")
    _roster_pg_log "using PostgreSQL $version at $(roster_pg_redact "$ROSTER_TEST_POSTGRES_URL")$([[ -n $_roster_pg_dir ]] && echo " (throwaway, $_roster_pg_dir)")"
}
