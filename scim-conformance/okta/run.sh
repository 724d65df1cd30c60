#!/usr/bin/env bash
# Run Okta's "SCIM 2.0 SPEC Test" (Runscope export, run by run_okta.py) against a freshly
# started Roster server.
#
#   bash scim-conformance/okta/run.sh [sqlite|postgres] [extra run_okta.py args...]
#
# * server set-up from ../lib/serve.sh: tenant `okta`, directory `okta` of kind `okta`;
# * seeds one user (the suite's first step reads an existing user: it needs id, userName,
#   name.givenName, name.familyName, active and emails[0].value);
# * runs run_okta.py against the directory's scim_base_url and token.
# Exit status: run_okta.py's (1 when any assertion fails), or 1 when the set-up fails.
#
# Env: ROSTER_BIN, ROSTER_TEST_POSTGRES_URL, ROSTER_PG_THROWAWAY=1, ROSTER_HEALTH_TIMEOUT,
#      ROSTER_CONFORMANCE_OUT=DIR (keep okta-okta-BACKEND.json and roster-okta-BACKEND.log).
set -euo pipefail

backend=${1:-sqlite}
if [[ $# -gt 0 ]]; then shift; fi
case $backend in
sqlite | postgres) ;;
*)
    echo "usage: $0 [sqlite|postgres] [run_okta.py args...]" >&2
    exit 2
    ;;
esac

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

rs_tag=okta
# shellcheck source=scim-conformance/lib/serve.sh
. "$repo/scim-conformance/lib/serve.sh"
_rs_backend=$backend

rs_serve "$backend" okta okta okta

# --- the seed user ------------------------------------------------------------------------
seed='{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
  "userName":"seed.user@example.com","active":true,
  "name":{"givenName":"Seed","familyName":"User"},
  "emails":[{"value":"seed.user@example.com","type":"work","primary":true}]}'
status=$(curl -sS --noproxy '*' -m 30 -o "$RS_WORK/seed.json" -w '%{http_code}' -X POST "$RS_BASE_URL/Users" \
    -H "Authorization: Bearer $RS_TOKEN" -H 'Content-Type: application/scim+json' --data-binary "$seed") ||
    rs_die "could not POST the seed user"
[[ $status == 201 ]] || rs_die "seeding a user answered $status: $(head -c 500 "$RS_WORK/seed.json")"
rs_log "seeded user seed.user@example.com"

# --- the suite ----------------------------------------------------------------------------
rs_keep=(okta.json)
rc=0
python3 "$here/run_okta.py" "$RS_BASE_URL" "$RS_TOKEN" --json "$RS_WORK/okta.json" "$@" || rc=$?
rs_finish "$rc"
