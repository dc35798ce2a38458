#!/usr/bin/env python3
"""Checks the spans the OTLP receiver got (GET /api/spans, JSON list) for
one connected trace per CLI operation.

usage: check_traces.py SPANS_URL OP_ID... [--wait SECONDS] [--require-consumers]
                        [--services SVC,SVC...] [--min-connected FRACTION] [--quiet]

For every OP_ID (the command id: `taonet transfer --id`, or the "op" a
`subnet create` or `stake add/remove` prints):
  - a `cli.command` span carries attribute id == OP_ID (more than one when
    the id was resent: each is checked);
  - its trace has exactly one root, and that root is the cli.command span;
  - every other span's parent is a span of the same trace (no broken links);
  - the trace holds spans from taonet-cli and taonet-ledger (and, when the
    services exported them in time, the consume spans of the amm and
    governance; those are reported, and required with --require-consumers);
    with --services, exactly the listed services are required (and waited
    for) besides taonet-cli, e.g. all four for a subnet registration.
Prints one JSON line per operation (per failed one with --quiet) and a
summary line; exits non-zero unless at least FRACTION (default 1.0: all)
of the operations have connected traces. A fraction below 1 is for
operations in flight while a service was killed: spans it had not exported
yet are lost with it, which leaves its children without their parent.
"""
import json
import sys
import time
import urllib.request


def fetch(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        data = json.load(r)
    if isinstance(data, dict):
        data = data.get("spans", data.get("data", []))
    return data


def check(spans, op, need):
    """Checks the trace of every `cli.command` span with id == op (a resent
    command id is a second operation, with its own trace)."""
    roots = sorted((s for s in spans if s["name"] == "cli.command" and s["attributes"].get("id") == op),
                   key=lambda s: s["start_unix_nanos"])
    if not roots:
        return False, {"op": op, "error": f"no cli.command span with id={op}"}
    results = [check_one(spans, op, r, need) for r in roots]
    bad = [r for r in results if not r[0]]
    ok, info = bad[0] if bad else results[0]
    info["traces_with_this_id"] = len(roots)
    return ok, info


def check_one(spans, op, root, need):
    trace = [s for s in spans if s["trace_id"] == root["trace_id"]]
    ids = {s["span_id"] for s in trace}
    trace_roots = [s for s in trace if not s["parent_span_id"]]
    broken = [s["name"] + "@" + s["service_name"] for s in trace
              if s["parent_span_id"] and s["parent_span_id"] not in ids]
    services = sorted({s["service_name"] for s in trace})
    info = {
        "op": op,
        "trace_id": root["trace_id"],
        "spans": len(trace),
        "services": services,
        "names": sorted({s["name"] for s in trace}),
    }
    if len(trace_roots) != 1 or trace_roots[0]["span_id"] != root["span_id"]:
        info["error"] = f"{len(trace_roots)} roots"
        return False, info
    if broken:
        info["error"] = f"broken parent links: {broken}"
        return False, info
    missing = need - set(services)
    if missing:
        info["error"] = f"missing services {sorted(missing)}"
        return False, info
    return True, info


def main(argv):
    wait = 45.0
    require_consumers = False
    min_connected = 1.0
    quiet = False
    services = None
    args = []
    it = iter(argv[1:])
    for a in it:
        if a == "--wait":
            wait = float(next(it))
        elif a == "--min-connected":
            min_connected = float(next(it))
        elif a == "--quiet":
            quiet = True
        elif a == "--require-consumers":
            require_consumers = True
        elif a == "--services":
            services = {x for x in next(it).split(",") if x}
        else:
            args.append(a)
    url, ops = args[0], args[1:]
    if services is not None:
        need = {"taonet-cli"} | services
        wait_for = services
    else:
        need = {"taonet-cli", "taonet-ledger"}
        if require_consumers:
            need |= {"taonet-amm", "taonet-governance"}
        wait_for = {"taonet-amm", "taonet-governance"}
    deadline = time.time() + wait
    while True:
        try:
            spans = fetch(url)
        except Exception as e:  # receiver restarting or not up yet
            spans, err = [], e
        results = [check(spans, op, need) for op in ops]
        # The consumers' batch exporters flush on a timer: wait for them too,
        # but accept a trace without them when the wait runs out.
        full = all(ok and wait_for <= set(i["services"])
                   for ok, i in results)
        if full or time.time() > deadline:
            break
        time.sleep(2)
    connected = 0
    for ok, info in results:
        if not (quiet and ok):
            print(json.dumps(info))
        connected += ok
    passed = connected >= min_connected * len(ops)
    print(json.dumps({"spans_received": len(spans), "operations": len(ops),
                      "connected": connected, "pass": passed}))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
