# Shared by the bench scripts (source it): a fresh database per run, dropped on exit, the
# processes a run started stopped on exit, and a free loopback port.
#
#   work=$(mktemp -d); source scripts/lib/bench-db.sh; trap bench_cleanup EXIT
#   bench_open_db "$backend" roster_bench || usage...
#   some_server & bench_pids+=($!)
#
# ROSTER_BENCH_KEEP_DB=1 keeps the PostgreSQL database afterwards, for EXPLAIN.

bench_pids=()
bench_pg_db=""

bench_cleanup() {
    local pid
    for pid in "${bench_pids[@]}"; do
        # `|| true`: a killed process's status would otherwise end the trap before the drop.
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null || true
    done
    if [[ -n "$bench_pg_db" && -z "${ROSTER_BENCH_KEEP_DB:-}" ]]; then
        psql "$ROSTER_TEST_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS $bench_pg_db WITH (FORCE)" >/dev/null
    fi
    rm -rf "$work"
}

# bench_open_db BACKEND PREFIX: exports ROSTER_DATABASE_URL for a new SQLite file in $work or a
# new PostgreSQL database PREFIX_PID on ROSTER_TEST_POSTGRES_URL. Fails on another backend.
bench_open_db() {
    case $1 in
    sqlite) export ROSTER_DATABASE_URL="sqlite://$work/bench.db" ;;
    postgres)
        : "${ROSTER_TEST_POSTGRES_URL:=postgres://postgres@127.0.0.1:5432/postgres}"
        bench_pg_db="${2}_$$"
        psql "$ROSTER_TEST_POSTGRES_URL" -qc "CREATE DATABASE $bench_pg_db" >/dev/null
        export ROSTER_DATABASE_URL="${ROSTER_TEST_POSTGRES_URL%/*}/$bench_pg_db"
        ;;
    *) return 2 ;;
    esac
}

bench_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
