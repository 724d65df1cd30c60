#!/usr/bin/env python3
"""Memory of a running server under SCIM filters of many shapes (stdlib only).

    python3 scripts/filter-shapes.py BASE_URL TOKEN SERVER_PID [K=150]

Sends GET {BASE_URL}/Users?count=1&filter=... three times over: or-chains of 2..K-1 tests,
each chain in four mixes of attributes (userName, name.givenName, emails.value, title), so
4 * (K - 2) distinct filter texts. Prints the server's RSS (from /proc/SERVER_PID/status)
before and after each pass. A server that kept a prepared statement per filter shape grows
with every new shape; one that does not stays flat after the first pass.
Loopback only; a bounded number of requests.
"""

import http.client
import sys
import urllib.parse

ATTRIBUTES = ['userName eq "u{}@x"', 'name.givenName eq "g{}"', 'emails.value co "{}"', 'title sw "t{}"']


def rss_mib(pid: str) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) // 1024
    raise SystemExit(f"no VmRSS for pid {pid}")


def main() -> None:
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    base, token, pid = sys.argv[1], sys.argv[2], sys.argv[3]
    k = int(sys.argv[4]) if len(sys.argv) > 4 else 150
    url = urllib.parse.urlsplit(base)
    if url.scheme != "http" or url.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"refusing non-loopback target {base}")
    conn = http.client.HTTPConnection(url.hostname, url.port or 80)
    path = url.path.rstrip("/") + "/Users?count=1&filter="
    before = rss_mib(pid)
    sent = failed = 0
    for n in range(1, 4):
        for tests in range(2, k):
            for mix in range(len(ATTRIBUTES)):
                chain = " or ".join(
                    ATTRIBUTES[(mix + i) % len(ATTRIBUTES)].format(i) for i in range(tests)
                )
                conn.request("GET", path + urllib.parse.quote(chain), headers={"Authorization": f"Bearer {token}"})
                response = conn.getresponse()
                response.read()
                sent += 1
                failed += response.status != 200
        print(f"pass {n}: {sent} requests ({failed} not 200), RSS {before} -> {rss_mib(pid)} MiB")


if __name__ == "__main__":
    main()
