#!/usr/bin/python3
"""Merges the JSON reports of `afptest matrix run --cells ...` from several
client hosts into one report of the whole matrix (contrib/ansible/matrix.yml).

    merge-results.py --out MERGED.json [--junit-out MERGED.xml]
                     [--assigned HOST=CELL,CELL...]... HOST=REPORT.json[:REPORT.xml]...
    merge-results.py --out MERGED.json [--junit-out MERGED.xml]
                     --assigned-file ASSIGNED.json --reports-dir DIR

ASSIGNED.json is {"HOST": "CELL,CELL...", ...} (the plan's matrix_cells of each
host); with --reports-dir the reports are DIR/HOST.json and DIR/HOST.xml.

Each client ran its share of the cells (the others are "excluded" in its
report with the reason "not selected by --cells").  For every cell the merged
report keeps the entry of the host that ran it (state "ran" or "error") and
adds "host"; cells the matrix itself excludes stay "excluded".  The outcomes
were computed on the clients by afptest against the same baseline; the
summary is counted again over the merged cells the way afptest counts it
(mx_summarise: ERROR and excluded cells apart, every result passed or failed
by whether its outcome gates).  The result reads back with
`afptest matrix compare` (same schema, "sharesfs.matrix/1", plus "hosts").

Checks: a cell ran by two hosts, a cell ran by none (not excluded by the
matrix), reports of different matrices or schemas, and with --assigned a host
that did not run exactly the cells it was given.  Exit status: 0 nothing
unexpected and every cell covered once, 1 something unexpected, an ERROR or a
coverage problem, 2 bad input.
"""
import argparse
import json
import os
import sys
import xml.etree.ElementTree as ET

SCHEMA = "sharesfs.matrix/1"
NOT_SELECTED = "not selected by --cells"
GATING = {"CHANGED", "UNEXPECTED(failure)", "UNEXPECTED(success)", "MISSING", "ERROR"}


def bad(msg):
    print(f"merge-results: {msg}", file=sys.stderr)
    sys.exit(2)


def load(spec):
    host, sep, files = spec.partition("=")
    if not sep or not host or not files:
        bad(f"expected HOST=REPORT.json[:REPORT.xml], not '{spec}'")
    path, _, junit = files.partition(":")
    try:
        with open(path, encoding="utf-8") as f:
            rep = json.load(f)
    except (OSError, ValueError) as e:
        bad(f"{path}: {e}")
    if rep.get("schema") != SCHEMA or not isinstance(rep.get("cells"), list):
        bad(f"{path}: not a matrix report (schema {SCHEMA})")
    return host, path, junit or None, rep


def summarise(cells, missing):
    s = {"passed": 0, "failed": 0, "errors": 0, "xfail": 0, "new": 0, "missing": 0, "changed": 0,
         "skipped_cells": 0, "flapping": []}
    results = []
    for c in cells:
        if c["state"] == "excluded":
            s["skipped_cells"] += 1
        elif c["state"] == "error":
            s["errors"] += 1
        results.extend(c.get("results") or [])
    results.extend(missing)
    for r in results:
        o = r.get("outcome")
        ex = r.get("expectation")
        if ex and ex.get("kind") == "flapping":
            s["flapping"].append(f"{r['id']}: {o} (flapping: {ex.get('reason')})")
        key = {"xfail": "xfail", "NEW": "new", "MISSING": "missing", "CHANGED": "changed"}.get(o)
        if key:
            s[key] += 1
        if r.get("gating", o in GATING):
            s["failed"] += 1
        else:
            s["passed"] += 1
    return s


def merge_junit(sources, owner, out):
    """One <testsuites>: each cell's <testsuite> from the host that ran it."""
    merged = ET.Element("testsuites", name="sharesfs matrix (merged)")
    seen = set()
    for host, path in sources:
        try:
            root = ET.parse(path).getroot()
        except (OSError, ET.ParseError) as e:
            bad(f"{path}: {e}")
        for ts in root.iter("testsuite"):
            name = ts.get("name")
            if name in seen:
                continue
            if name in owner and owner[name] != host:
                continue
            seen.add(name)
            ts.set("hostname", owner.get(name, host))
            merged.append(ts)
    totals = {k: 0 for k in ("tests", "failures", "errors", "skipped")}
    t = 0.0
    for ts in merged:
        for k in totals:
            totals[k] += int(ts.get(k, "0"))
        t += float(ts.get("time", "0") or 0)
    for k, v in totals.items():
        merged.set(k, str(v))
    merged.set("time", f"{t:.3f}")
    ET.ElementTree(merged).write(out, encoding="UTF-8", xml_declaration=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--junit-out")
    ap.add_argument("--assigned", action="append", default=[], metavar="HOST=CELL,CELL...")
    ap.add_argument("--assigned-file", metavar="ASSIGNED.json")
    ap.add_argument("--reports-dir", metavar="DIR")
    ap.add_argument("reports", nargs="*", metavar="HOST=REPORT.json[:REPORT.xml]")
    a = ap.parse_args()
    if a.assigned_file:
        try:
            with open(a.assigned_file, encoding="utf-8") as f:
                shares = json.load(f)
        except (OSError, ValueError) as e:
            bad(f"{a.assigned_file}: {e}")
        a.assigned += [f"{h}={c}" for h, c in shares.items()]
        if a.reports_dir:
            for h in shares:
                j, x = f"{a.reports_dir}/{h}.json", f"{a.reports_dir}/{h}.xml"
                # a host that failed sent nothing: --assigned reports it, its cells ran nowhere
                if os.path.exists(j):
                    a.reports.append(f"{h}={j}" + (f":{x}" if os.path.exists(x) else ""))
    if not a.reports:
        bad("no reports")

    reports = [load(s) for s in a.reports]
    matrices = {r["matrix"] for _, _, _, r in reports}
    if len(matrices) != 1:
        bad(f"reports of different matrices: {', '.join(sorted(matrices))}")
    order, by_cell, owner, problems, hosts, missing = [], {}, {}, [], {}, {}
    for host, path, _, rep in reports:
        if host in hosts:
            bad(f"host {host} given twice")
        hosts[host] = {"report": path, "cells": [], "seconds": rep.get("seconds", 0), "jobs": rep.get("jobs", 1),
                       "version": rep.get("version")}
        for c in rep["cells"]:
            cid = c["cell"]
            if cid not in by_cell:
                order.append(cid)
            if c["state"] in ("ran", "error"):
                if cid in owner:
                    problems.append(f"cell {cid} ran on both {owner[cid]} and {host}")
                    continue
                owner[cid] = host
                by_cell[cid] = dict(c, host=host)
                hosts[host]["cells"].append(cid)
            elif cid not in by_cell or (by_cell[cid]["state"] == "excluded"
                                        and by_cell[cid].get("reason") == NOT_SELECTED):
                by_cell[cid] = dict(c)
        for r in rep.get("missing") or []:
            missing.setdefault(r["id"], r)

    for cid in order:
        c = by_cell[cid]
        if c["state"] == "excluded" and c.get("reason") == NOT_SELECTED:
            problems.append(f"cell {cid} ran on no host")
            c["state"], c["reason"] = "error", "ran on no host of the fleet (merge-results.py)"

    for spec in a.assigned:
        host, _, cells = spec.partition("=")
        want = {x for x in cells.split(",") if x}
        if host not in hosts:
            problems.append(f"host {host} was given {len(want)} cell(s) but sent no report")
            continue
        got = set(hosts[host]["cells"])
        for cid in sorted(want - got):
            problems.append(f"host {host} did not run its cell {cid}")
        for cid in sorted(got - want):
            problems.append(f"host {host} ran {cid}, which was not its share")

    cells = [by_cell[c] for c in order]
    miss = list(missing.values())
    s = summarise(cells, miss)
    first = reports[0][3]
    merged = {
        "schema": SCHEMA,
        "version": first.get("version"),
        "generated": max(r.get("generated", "") for _, _, _, r in reports),
        "matrix": first["matrix"],
        "baseline": first.get("baseline"),
        "jobs": sum(h["jobs"] for h in hosts.values()),
        "seconds": max(h["seconds"] for h in hosts.values()),
        "hosts": hosts,
        "cells": cells,
        "missing": miss,
        "summary": s,
        "merge_problems": problems,
    }
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(merged, f, indent=1)
        f.write("\n")
    if a.junit_out:
        merge_junit([(h, j) for h, _, j, _ in reports if j], owner, a.junit_out)

    for cid in order:
        c = by_cell[cid]
        if c["state"] == "error":
            print(f"ERROR {cid} ({c.get('host', '-')}): {c.get('reason')}")
        for r in c.get("results") or []:
            if r.get("gating"):
                print(f"{r['outcome']} {r['id']} ({c.get('host')})")
    for r in miss:
        print(f"{r['outcome']} {r['id']} (cell gone from the matrix)")
    for p in problems:
        print(f"merge: {p}")
    for h, v in hosts.items():
        print(f"{h}: {len(v['cells'])} cells in {v['seconds']:.1f} s")
    ran = sum(1 for c in cells if c["state"] == "ran")
    print(f"merged {len(reports)} reports: {ran} cells ran, {s['skipped_cells']} excluded, "
          f"{s['errors']} ERROR; {s['passed']} passed, {s['failed']} failed "
          f"({s['changed']} changed, {s['missing']} missing; {s['xfail']} xfail, {s['new']} new)")
    print(f"flapping: {len(s['flapping'])}" + "".join(f"\n  {x}" for x in s["flapping"]))
    unexpected = s["failed"] or s["errors"] or problems
    print("FAILED" if unexpected else "ALL OK")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
