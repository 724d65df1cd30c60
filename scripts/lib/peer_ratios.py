"""Median req/s per server and test over the rounds of a bench-peers.sh run, and Roster's
ratio to the best peer on each test.

    python3 scripts/lib/peer_ratios.py OUT_DIR
"""
import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

TESTS = ["get_id", "filter_fixed", "filter_random", "patch", "post"]

rps = defaultdict(lambda: defaultdict(list))
for results in sorted(Path(sys.argv[1]).glob("round-*/*/results.jsonl")):
    server = results.parent.name
    for line in results.read_text().splitlines():
        row = json.loads(line)
        rps[server][row["test"]].append(row["rps"])

median = {s: {t: statistics.median(v) for t, v in tests.items()} for s, tests in rps.items()}
servers = sorted(median)
print("\n| median req/s | " + " | ".join(TESTS) + " |")
print("|---|" + "---:|" * len(TESTS))
for s in servers:
    cells = [f"{median[s][t]:,.0f}" if t in median[s] else "-" for t in TESTS]
    print(f"| {s} ({len(rps[s][TESTS[0]])} rounds) | " + " | ".join(cells) + " |")
peers = [s for s in servers if not s.startswith("roster-")]
for roster in (s for s in servers if s.startswith("roster-")):
    cells = []
    for t in TESTS:
        best = max((median[p][t] for p in peers if t in median[p]), default=None)
        cells.append(f"{median[roster][t] / best:.1f}×" if best and t in median[roster] else "-")
    print(f"| {roster} ÷ best peer | " + " | ".join(cells) + " |")
