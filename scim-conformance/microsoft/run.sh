#!/usr/bin/env bash
# Run Microsoft's SCIM reference Postman collection (AzureAD/SCIMReferenceCode) with newman
# against a freshly started Roster server.
#
#   bash scim-conformance/microsoft/run.sh [sqlite|postgres] [extra newman run args...]
#
# * newman from package-lock.json, installed with `npm ci` into scim-conformance/microsoft/
#   node_modules (re-installed when package-lock.json changes);
# * server set-up from ../lib/serve.sh: tenant `ms`, directory `entra` of kind `entra`;
# * the collection is ../../../shared/conformance/vendor/microsoft-scim-reference.postman_collection.json
#   less its "Get Token" folder (it belongs to Microsoft's sample server), run with the
#   variables Protocol/Server/Port/Api taken from the directory's scim_base_url and `token`
#   its bearer token.
# Exit status: newman's (non-zero when any request fails or any assertion fails), or 1 when the
# set-up fails.
#
# Env: ROSTER_BIN, ROSTER_TEST_POSTGRES_URL, ROSTER_PG_THROWAWAY=1, ROSTER_HEALTH_TIMEOUT,
#      ROSTER_CONFORMANCE_OUT=DIR (keep newman-microsoft-BACKEND.json and roster-microsoft-BACKEND.log).
set -euo pipefail

backend=${1:-sqlite}
if [[ $# -gt 0 ]]; then shift; fi
case $backend in
sqlite | postgres) ;;
*)
    echo "usage: $0 [sqlite|postgres] [newman run args...]" >&2
    exit 2
    ;;
esac

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
collection=$repo/../shared/conformance/vendor/microsoft-scim-reference.postman_collection.json

rs_tag=microsoft
# shellcheck source=scim-conformance/lib/serve.sh
. "$repo/scim-conformance/lib/serve.sh"
_rs_backend=$backend

[[ -f $collection ]] || rs_die "no collection at $collection"
command -v node >/dev/null || rs_die "node is needed (Node 18+)"
command -v npm >/dev/null || rs_die "npm is needed"

# --- newman -------------------------------------------------------------------------------
stamp=$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)
newman=$here/node_modules/.bin/newman
if [[ -x $newman && -f $here/node_modules/.package-lock.sha256 &&
    $(cat "$here/node_modules/.package-lock.sha256") == "$stamp" ]]; then
    rs_log "reusing $here/node_modules"
else
    rs_log "npm ci in $here"
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error) || rs_die "npm ci failed"
    echo "$stamp" >"$here/node_modules/.package-lock.sha256"
fi

# --- the server ---------------------------------------------------------------------------
rs_serve "$backend" ms entra entra

# The collection less its "Get Token" folder.
node -e '
const fs = require("fs");
const c = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
const before = c.item.length;
c.item = c.item.filter((i) => i.name !== "Get Token");
if (c.item.length !== before - 1) { console.error("no \"Get Token\" folder in the collection"); process.exit(1); }
fs.writeFileSync(process.argv[2], JSON.stringify(c));
' "$collection" "$RS_WORK/collection.json" || rs_die "could not prepare the collection"

# The collection builds URLs as {{Protocol}}://{{Server}}{{Port}}/{{Api}}/Users.
mapfile -t vars < <(python3 -c '
import sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
print(u.scheme)
print(u.hostname)
print(":%d" % u.port if u.port else "")
print(u.path.strip("/"))' "$RS_BASE_URL")

rs_keep=(newman.json)
rc=0
"$newman" run "$RS_WORK/collection.json" \
    --env-var "Protocol=${vars[0]}" \
    --env-var "Server=${vars[1]}" \
    --env-var "Port=${vars[2]}" \
    --env-var "Api=${vars[3]}" \
    --env-var "token=$RS_TOKEN" \
    --timeout-request 30000 \
    --color off \
    --reporters cli,json \
    --reporter-json-export "$RS_WORK/newman.json" \
    "$@" || rc=$?

# One line per failed assertion, then the totals; the run passes when the failures are exactly
# the documented exceptions (exceptions.tsv).
python3 - "$RS_WORK/newman.json" "$here/exceptions.tsv" <<'EOF' && rc=0 || rc=1
import json, sys
run = json.load(open(sys.argv[1]))["run"]
expected = set()
for line in open(sys.argv[2]):
    if line.strip() and not line.startswith("#"):
        request, assertion, _reason = line.rstrip("\n").split("\t", 2)
        expected.add((request, assertion))
failed = set()
for f in run.get("failures", []):
    src = f.get("source", {}).get("name", "?")
    err = f.get("error", {})
    test = err.get("test") or err.get("name")
    failed.add((src, test))
    note = "  (documented exception)" if (src, test) in expected else ""
    print("FAIL %s :: %s :: %s%s" % (src, test, err.get("message"), note))
for request, assertion in sorted(expected - failed):
    print("NOW PASSING %s :: %s -- remove it from exceptions.tsv" % (request, assertion))
s = run["stats"]
unexpected = failed - expected
print("microsoft-scim: requests %d (%d failed), assertions %d passed, %d failed"
      " (%d documented exceptions, %d unexpected)"
      % (s["requests"]["total"], s["requests"]["failed"],
         s["assertions"]["total"] - s["assertions"]["failed"], s["assertions"]["failed"],
         len(failed & expected), len(unexpected)))
sys.exit(1 if unexpected or expected - failed or s["requests"]["failed"] else 0)
EOF

rs_finish "$rc"
