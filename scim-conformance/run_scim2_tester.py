#!/usr/bin/env python3
# Origin: adapted from the project's shared peer tooling, shared/peers/run_scim2_tester.py
# (the wrapper used for the SCIM peer comparison in shared/peers/README.md). This copy is
# Roster's own and is maintained here. Changes from the original: the ERROR/CRITICAL checks
# are listed again at the end, the closing line is a plain "N passed, N failed, N skipped",
# and the exit code is 1 also when the run itself breaks or yields no check at all.
"""Run python-scim's scim2-tester against a live SCIM server and report every check.

    python run_scim2_tester.py BASE_URL TOKEN [--json OUT.json] [--include TAG ...]
                               [--exclude TAG ...] [--resource-type User ...] [-v]

BASE_URL is the SCIM root (the URL under which /Users, /Schemas ... live), e.g.
http://127.0.0.1:8080/scim/v2. Exit code: 0 when no check is ERROR or CRITICAL, else 1
(also 1 when the run itself breaks or produces no check).

scim2-tester has no CLI of its own (scim2-cli's `scim2 test` wraps it, but paints every
non-SUCCESS status red and gives no counts); this calls the Python API
`scim2_tester.check_server()` directly and buckets the statuses:
  pass = SUCCESS | COMPLIANT | ACCEPTABLE, warn = DEVIATION,
  fail = ERROR | CRITICAL,                 skip = SKIPPED

Output: one line per check (`STATUS [ResourceType] title -- reason`), then the failures
again, then `by status: {...}`, then the closing line
`scim2-tester: P passed, F failed, S skipped` (warned checks are counted on the line before).
"""

import argparse
import collections
import json
import sys
import traceback

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status
from scim2_tester import check_server

PASS = {Status.SUCCESS, Status.COMPLIANT, Status.ACCEPTABLE}
FAIL = {Status.ERROR, Status.CRITICAL}


def bucket_of(status) -> str:
    if status in PASS:
        return "pass"
    if status in FAIL:
        return "fail"
    if status == Status.DEVIATION:
        return "warn"
    return "skip"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("base_url")
    p.add_argument("token", nargs="?", default="")
    p.add_argument("--json", dest="json_out", help="write every result to this JSON file")
    p.add_argument("--include", nargs="*", default=None, help="only checks with these tags")
    p.add_argument("--exclude", nargs="*", default=None, help="skip checks with these tags")
    p.add_argument("--resource-type", nargs="*", default=None)
    p.add_argument("-v", "--verbose", action="store_true", help="print debug data of failures")
    p.add_argument("--timeout", type=float, default=30.0)
    a = p.parse_args()

    headers = {"Authorization": f"Bearer {a.token}"} if a.token else {}
    # trust_env=False: never route loopback traffic through a proxy from the environment.
    http = Client(base_url=a.base_url, headers=headers, timeout=a.timeout, trust_env=False)
    client = SyncSCIMClient(http)
    try:
        results = check_server(
            client,
            include_tags=set(a.include) if a.include else None,
            exclude_tags=set(a.exclude) if a.exclude else None,
            resource_types=a.resource_type,
        )
    except Exception:  # the tester itself broke (server unreachable, unparseable discovery...)
        traceback.print_exc()
        print(f"scim2-tester: the run itself failed against {a.base_url}")
        return 1

    counts = collections.Counter(r.status.name for r in results)
    rows = []
    for r in results:
        bucket = bucket_of(r.status)
        rows.append({
            "status": r.status.name, "bucket": bucket, "resource_type": r.resource_type,
            "title": r.title, "reason": r.reason, "tags": sorted(r.tags or []),
            "data": repr(r.data)[:2000] if r.data is not None else None,
        })
        rt = f"[{r.resource_type}] " if r.resource_type else ""
        print(f"{r.status.name:<10} {rt}{r.title}" + (f" -- {r.reason}" if r.reason else ""))
        if a.verbose and r.data is not None and bucket in ("fail", "warn"):
            print(f"           data: {repr(r.data)[:500]}")

    n_pass = sum(1 for r in rows if r["bucket"] == "pass")
    n_fail = sum(1 for r in rows if r["bucket"] == "fail")
    n_warn = sum(1 for r in rows if r["bucket"] == "warn")
    n_skip = sum(1 for r in rows if r["bucket"] == "skip")

    if n_fail:
        print(f"\n{n_fail} ERROR/CRITICAL check(s):")
        for r in rows:
            if r["bucket"] == "fail":
                rt = f"[{r['resource_type']}] " if r["resource_type"] else ""
                print(f"  {r['status']:<8} {rt}{r['title']} -- {r['reason']}")
        print()

    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump({"base_url": a.base_url, "counts": dict(counts), "passed": n_pass,
                       "failed": n_fail, "warned": n_warn, "skipped": n_skip,
                       "results": rows}, f, indent=2)

    print(f"by status: {dict(sorted(counts.items()))}; {n_warn} warned (DEVIATION); "
          f"{len(rows)} checks against {a.base_url}")
    print(f"scim2-tester: {n_pass} passed, {n_fail} failed, {n_skip} skipped")
    if not rows:
        print("scim2-tester: no check was run; treating this as a failure")
        return 1
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
