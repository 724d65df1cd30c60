#!/usr/bin/env bash
# Run python-scim's scim2-tester against a freshly started Roster server.
#
#   bash scim-conformance/scim2-tester.sh [sqlite|postgres] [extra run_scim2_tester.py args...]
#
# * venv ${ROSTER_VENV:-.venv/conformance} from scim-conformance/requirements.txt (created
#   once, re-created when requirements.txt changes);
# * server set-up from lib/serve.sh (binary, throwaway database, tenant, directory, serve):
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

rs_tag=scim2-tester
# shellcheck source=scim-conformance/lib/serve.sh
. "$repo/scim-conformance/lib/serve.sh"
_rs_backend=$backend

# --- Python venv with scim2-tester -------------------------------------------------------
venv=${ROSTER_VENV:-.venv/conformance}
req=$here/requirements.txt
stamp=$(sha256sum "$req" | cut -d' ' -f1)
if [[ -x $venv/bin/python && -f $venv/.requirements.sha256 && $(cat "$venv/.requirements.sha256") == "$stamp" ]] &&
    "$venv/bin/python" -c 'import scim2_tester, httpx2' 2>/dev/null; then
    rs_log "reusing venv $venv"
else
    rs_log "creating venv $venv from $req"
    python3 -m venv --clear "$venv" || rs_die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$req" ||
        rs_die "pip install -r $req failed"
    echo "$stamp" >"$venv/.requirements.sha256"
fi

# --- a server over a throwaway database, with directory `scim2-tester` --------------------
rs_serve "$backend" conformance generic scim2-tester

# --- the tester ---------------------------------------------------------------------------
rs_keep=(scim2-tester.json)
rc=0
"$venv/bin/python" "$here/run_scim2_tester.py" "$RS_BASE_URL" "$RS_TOKEN" \
    --json "$RS_WORK/scim2-tester.json" "$@" || rc=$?
rs_finish "$rc"
