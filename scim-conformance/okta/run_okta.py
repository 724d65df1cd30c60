#!/usr/bin/env python3
"""Run Okta's "SCIM 2.0 SPEC Test" (a Runscope test export) against a SCIM server.

    run_okta.py BASE_URL TOKEN [--suite FILE] [--initial-script FILE] [--pause-scale X]
                [--json OUT] [-v]

BASE_URL is the SCIM base (e.g. http://127.0.0.1:8080/scim/v2); TOKEN the bearer token.
Python 3 standard library only.

What it does, following the Runscope export format:
* variables: `SCIMBaseURL` = BASE_URL, `auth` = "Bearer TOKEN" (the Authorization header
  value, as in Okta's Runscope environment), plus what the suite's initial script sets
  (re-implemented in `initial_variables`: randomGivenName, randomFamilyName, randomEmail,
  randomUsername, randomUsernameCaps, InvalidUserEmail, UserIdThatDoesNotExist);
* each step in order: `pause` steps sleep `duration` x --pause-scale seconds (default 0: the
  pauses only let Runscope's hosted runner wait for eventually consistent servers);
  `request` steps substitute `{{name}}` in url, headers and body, send the request,
  evaluate every assertion (source response_status / response_json / response_time /
  response_text / response_headers; comparison as Runscope defines it), run the step's
  post-response script when it is one we know (see SCRIPTS), then extract `variables[]`;
* prints one line per assertion, PASS or FAIL with what was expected and what came back,
  then `okta-spec: N passed, M failed`. Exit 1 on any failure (or an unknown script), 2 on
  bad arguments.

A placeholder whose variable is not set (because the step that extracts it failed) stays
as `{{name}}` in the request; the step is still run, as Runscope does, so cascades show.
"""

import argparse
import json
import math
import os
import random
import re
import string
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
VENDOR = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "conformance", "vendor"))
DEFAULT_SUITE = os.path.join(VENDOR, "Okta-SCIM-20-SPEC-Test.json")
DEFAULT_INITIAL_SCRIPT = os.path.join(VENDOR, "Okta-SCIM-20-SPEC-Test.initial-script.txt")

MISSING = object()


# --- the initial script ------------------------------------------------------------------


def initial_variables(rng):
    """Python version of Okta-SCIM-20-SPEC-Test.initial-script.txt."""
    lastname = rng.choice(string.ascii_uppercase)
    lastname += "".join(rng.choice(string.ascii_lowercase) for _ in range(8))
    lastname += "".join(rng.choice(string.digits) for _ in range(3))
    firstname = "Runscope" + "".join(rng.choice(string.digits) for _ in range(3))
    email = firstname + lastname + "@atko.com"
    return {
        "randomGivenName": firstname,
        "randomFamilyName": lastname,
        "randomEmail": email,
        "randomUsername": email,
        "InvalidUserEmail": "abcdefgh@atko.com",
        "UserIdThatDoesNotExist": "010101001010101011001010101011",
        "randomUsernameCaps": email.upper(),
    }


# The variable names the initial script sets; checked against the file so that a changed
# script is noticed rather than silently half-implemented.
INITIAL_SCRIPT_SETS = {
    "randomGivenName",
    "randomFamilyName",
    "randomEmail",
    "randomUsername",
    "InvalidUserEmail",
    "UserIdThatDoesNotExist",
    "randomUsernameCaps",
}


def check_initial_script(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    sets = set(re.findall(r'variables\.set\(\s*"([^"]+)"', text))
    if sets != INITIAL_SCRIPT_SETS:
        sys.exit(
            "the initial script sets %s, run_okta.py re-implements %s: update initial_variables()"
            % (sorted(sets), sorted(INITIAL_SCRIPT_SETS))
        )


# --- values ----------------------------------------------------------------------------


def js_string(v):
    """String(v) as JavaScript would print a JSON value (how Runscope compares)."""
    if v is MISSING:
        return "undefined"
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e21:
            return str(int(v))
        return repr(v)
    if isinstance(v, (dict, list)):
        return json.dumps(v, separators=(",", ":"))
    return str(v)


def as_number(v):
    if isinstance(v, bool) or v is None or v is MISSING:
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            x = float(v.strip())
        except ValueError:
            return None
        return x if math.isfinite(x) else None
    return None


def short(v, n=120):
    s = "<missing>" if v is MISSING else json.dumps(v) if not isinstance(v, str) else repr(v)
    return s if len(s) <= n else s[: n - 3] + "..."


PATH_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def json_property(doc, prop):
    """Runscope property syntax: `Resources[0].name.familyName`."""
    if prop is None or prop == "":
        return doc
    cur = doc
    for m in PATH_TOKEN.finditer(prop):
        key, index = m.group(1), m.group(2)
        if key is not None:
            if isinstance(cur, dict) and key in cur:
                cur = cur[key]
            else:
                return MISSING
        else:
            i = int(index)
            if isinstance(cur, list) and i < len(cur):
                cur = cur[i]
            else:
                return MISSING
    return cur


def is_empty(v):
    return v is MISSING or v is None or (isinstance(v, (str, list, dict)) and len(v) == 0)


def compare(comparison, actual, expected):
    """Returns (ok, why) for one Runscope comparison."""
    c = comparison
    if c == "equal":
        return js_string(actual) == expected, None
    if c == "not_equal":
        return js_string(actual) != expected, None
    if c == "empty":
        return is_empty(actual), None
    if c == "not_empty":
        return not is_empty(actual), None
    if c == "is_null":
        return actual is None, None
    if c == "is_a_number":
        return as_number(actual) is not None, None
    if c in ("equal_number", "is_less_than", "is_less_than_or_equal", "is_greater_than",
             "is_greater_than_or_equal"):
        a, e = as_number(actual), as_number(expected)
        if a is None or e is None:
            return False, "not a number"
        return {
            "equal_number": a == e,
            "is_less_than": a < e,
            "is_less_than_or_equal": a <= e,
            "is_greater_than": a > e,
            "is_greater_than_or_equal": a >= e,
        }[c], None
    if c in ("contains", "does_not_contain"):
        if isinstance(actual, list):
            found = any(js_string(x) == expected for x in actual)
        elif isinstance(actual, dict):
            found = expected in json.dumps(actual)
        elif actual is MISSING or actual is None:
            found = False
        else:
            found = expected in js_string(actual)
        return found if c == "contains" else not found, None
    if c == "has_key":
        return isinstance(actual, dict) and expected in actual, None
    if c == "has_value":
        if isinstance(actual, list):
            return any(js_string(x) == expected for x in actual), None
        if isinstance(actual, dict):
            return any(js_string(x) == expected for x in actual.values()), None
        return False, "not an array or object"
    return False, "comparison %r is not implemented" % c


# --- HTTP ------------------------------------------------------------------------------

VAR = re.compile(r"\{\{\s*([A-Za-z0-9_.\-]+)\s*\}\}")


def substitute(text, variables):
    if text is None:
        return None
    return VAR.sub(lambda m: variables.get(m.group(1), m.group(0)), text)


def encode_url(url):
    """Percent-encode what a browser-like client (Runscope) would: spaces, quotes, etc."""
    parts = urllib.parse.urlsplit(url)
    path = urllib.parse.quote(parts.path, safe="/%:@!$&'()*+,;=-._~")
    query = urllib.parse.quote(parts.query, safe="=&%/:@!$'()*+,;?-._~")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, query, parts.fragment))


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect())


class Response:
    def __init__(self, status, headers, text, elapsed_ms, error=None):
        self.status = status
        self.headers = headers
        self.text = text
        self.elapsed_ms = elapsed_ms
        self.error = error
        try:
            self.json = json.loads(text) if text else MISSING
        except ValueError:
            self.json = MISSING


def send(method, url, headers, body, timeout):
    data = body.encode("utf-8") if body is not None and body != "" else None
    req = urllib.request.Request(url, data=data, method=method)
    for k, v in headers.items():
        req.add_header(k, v)
    start = time.monotonic()
    try:
        with OPENER.open(req, timeout=timeout) as r:
            text = r.read().decode("utf-8", "replace")
            status, hdrs = r.status, dict(r.headers.items())
    except urllib.error.HTTPError as e:
        text = e.read().decode("utf-8", "replace")
        status, hdrs = e.code, dict(e.headers.items())
    except (urllib.error.URLError, OSError) as e:
        return Response(None, {}, "", (time.monotonic() - start) * 1000, error=str(e))
    return Response(status, hdrs, text, (time.monotonic() - start) * 1000)


# --- post-response scripts -------------------------------------------------------------


def groups_script(resp):
    """Step "Verify Groups endpoint": JSON.parse(response.body); if totalResults === 0 it
    asserts a truthy string; if totalResults >= 1 and Resources is an array it asserts
    true; otherwise it asserts nothing. So it fails only when the body is not JSON."""
    if resp.json is MISSING or not isinstance(resp.json, (dict, list)):
        return False, "JSON.parse(response.body) throws: body %s" % short(resp.text)
    data = resp.json if isinstance(resp.json, dict) else {}
    mx, res = data.get("totalResults"), data.get("Resources")
    if mx == 0:
        return True, "totalResults === 0 (\"No Groups found in the endpoint\")"
    if isinstance(mx, (int, float)) and not isinstance(mx, bool) and mx >= 1 and isinstance(res, list):
        return True, "totalResults %s and Resources is an array" % mx
    return True, "no assertion reached (totalResults %s)" % short(mx)


# (a fragment that identifies the script, its Python equivalent)
SCRIPTS = [
    ("var exists = false;\n\nif (max === 0)\n\tassert(\"nogroups\"", groups_script),
]


# --- the runner ------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("base_url")
    ap.add_argument("token")
    ap.add_argument("--suite", default=DEFAULT_SUITE)
    ap.add_argument("--initial-script", default=DEFAULT_INITIAL_SCRIPT)
    ap.add_argument("--pause-scale", type=float, default=0.0,
                    help="multiply each pause step's duration by this (default 0: no pauses)")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    ap.add_argument("--seed", type=int, help="seed for the random variables")
    ap.add_argument("--json", metavar="OUT", help="write every step and assertion result here")
    ap.add_argument("-v", "--verbose", action="store_true", help="print each response body")
    args = ap.parse_args()

    with open(args.suite, encoding="utf-8") as f:
        suite = json.load(f)
    check_initial_script(args.initial_script)

    variables = {"SCIMBaseURL": args.base_url.rstrip("/"), "auth": "Bearer " + args.token}
    variables.update(initial_variables(random.Random(args.seed)))
    print("suite: %s (%d steps)" % (suite.get("name"), len(suite.get("steps", []))))
    print("variables: " + ", ".join(
        "%s=%s" % (k, "Bearer ***" if k == "auth" else v) for k, v in sorted(variables.items())))

    passed = failed = 0
    results = []
    for n, step in enumerate(suite.get("steps", [])):
        kind = step.get("step_type")
        if step.get("skipped"):
            print("SKIP step %d (%s, marked skipped)" % (n, kind))
            continue
        if kind == "pause":
            secs = float(step.get("duration", 0)) * args.pause_scale
            print("-- step %d: pause %ss (sleeping %.1fs)" % (n, step.get("duration"), secs))
            if secs > 0:
                time.sleep(secs)
            continue
        if kind != "request":
            print("FAIL step %d: step type %r is not supported" % (n, kind))
            failed += 1
            continue

        method = step.get("method", "GET")
        url = encode_url(substitute(step.get("url", ""), variables))
        headers = {k: ", ".join(substitute(x, variables) for x in v) if isinstance(v, list)
                   else substitute(v, variables) for k, v in (step.get("headers") or {}).items()}
        body = substitute(step.get("body"), variables)
        shown_url = url[len(variables["SCIMBaseURL"]):] if url.startswith(variables["SCIMBaseURL"]) else url
        label = "step %d [%s %s]" % (n, method, shown_url)
        unset = sorted(set(VAR.findall(url + json.dumps(headers) + (body or ""))))
        print("-- %s: %s%s" % (label, step.get("note", ""),
                               ("  (unset variables: %s)" % ", ".join(unset)) if unset else ""))
        resp = send(method, url, headers, body, args.timeout)
        if resp.error:
            print("   request failed: %s" % resp.error)
        else:
            ctype = next((v for k, v in resp.headers.items() if k.lower() == "content-type"), None)
            print("   -> %s in %.0f ms, Content-Type %s" % (resp.status, resp.elapsed_ms, ctype))
        if args.verbose:
            print("   body: %s" % resp.text[:2000])
        step_result = {"step": n, "method": method, "url": url, "note": step.get("note"),
                       "status": resp.status, "body": resp.text[:4000], "assertions": []}

        for a in step.get("assertions", []):
            source, prop, comp = a.get("source"), a.get("property"), a.get("comparison")
            expected = substitute(a.get("value"), variables)
            expected = "" if expected is None else str(expected)
            if resp.error:
                actual = MISSING
            elif source == "response_status":
                actual = resp.status
            elif source == "response_time":
                actual = round(resp.elapsed_ms)
            elif source == "response_json":
                actual = json_property(resp.json, prop) if resp.json is not MISSING else MISSING
            elif source == "response_text":
                actual = resp.text
            elif source == "response_headers":
                actual = next((v for k, v in resp.headers.items() if k.lower() == (prop or "").lower()),
                              MISSING)
            else:
                actual = MISSING
            ok, why = compare(comp, actual, expected)
            if source == "response_json" and resp.json is MISSING and not resp.error:
                why = "response is not JSON: %s" % short(resp.text)
            what = "%s%s %s%s" % (source, ("." + prop) if prop else "", comp,
                                  (" " + repr(expected)) if a.get("value") is not None else "")
            line = "%s %s: %s -- got %s%s" % ("PASS" if ok else "FAIL", label, what, short(actual),
                                             ("; " + why) if why and not ok else "")
            print(line)
            step_result["assertions"].append({"ok": ok, "assertion": what, "actual": js_string(actual)})
            passed += ok
            failed += not ok

        for script in step.get("scripts") or []:
            if not script.strip():
                continue
            impl = next((fn for frag, fn in SCRIPTS if frag in script), None)
            if impl is None:
                ok, why = False, "run_okta.py has no Python equivalent of this script: %s" % short(script, 80)
            elif resp.error:
                ok, why = False, "no response"
            else:
                ok, why = impl(resp)
            print("%s %s: script -- %s" % ("PASS" if ok else "FAIL", label, why))
            step_result["assertions"].append({"ok": ok, "assertion": "script", "actual": why})
            passed += ok
            failed += not ok

        for v in step.get("variables") or []:
            if v.get("source") != "response_json" or resp.json is MISSING:
                continue
            val = json_property(resp.json, v.get("property"))
            if val is not MISSING and val is not None:
                variables[v["name"]] = js_string(val)
                print("   set %s = %s" % (v["name"], variables[v["name"]]))
            else:
                print("   could not set %s: no %s in the response" % (v["name"], v.get("property")))
        results.append(step_result)

    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"passed": passed, "failed": failed, "steps": results}, f, indent=1)
    print("okta-spec: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
