"""Roster's req/s beside pgbench's tps from the same `scripts/bench.sh postgres` run.

    python3 scripts/lib/pgbench_share.py pair OUT TEST MODE     # one JSON line for TEST
    python3 scripts/lib/pgbench_share.py summary OUT N CLIENTS DURATION
"""
import json
import pathlib
import re
import sys


def pair(out, test, mode):
    text = pathlib.Path(out, f"pgbench-{test}.txt").read_text()
    found = re.search(r"^tps = ([0-9.]+)", text, re.M)
    rows = [json.loads(line) for line in pathlib.Path(out, test, "results.jsonl").read_text().splitlines() if line.strip()]
    row = rows[0] if rows else {"error": "no wrk output"}
    print(json.dumps({"test": test, "mode": mode, "tps": float(found.group(1)) if found else 0.0, **row}))


def summary(out, n, clients, duration):
    print(f"\n### roster-postgres beside pgbench (N={n}, wrk -t1 -c{clients} -d{duration}; "
          f"pgbench -c{clients} -j1 -T{duration.rstrip('s')} -M prepared)")
    print("| test | Roster req/s | p50 ms | p99 ms | non-2xx | pgbench | pgbench tps | share |")
    print("|---|---:|---:|---:|---:|---|---:|---:|")
    for line in pathlib.Path(out, "pairs.jsonl").read_text().splitlines():
        r = json.loads(line)
        if "error" in r:
            print(f"| {r['test']} | {r['error']} | | | | {r['mode']} | {r['tps']:.0f} | |")
            continue
        share = r["rps"] / r["tps"] if r["tps"] else 0.0
        print(f"| {r['test']} | {r['rps']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['err_status']} "
              f"| {r['mode']} | {r['tps']:.0f} | {share:.1%} |")


if __name__ == "__main__":
    {"pair": pair, "summary": summary}[sys.argv[1]](*sys.argv[2:])
