#!/usr/bin/env python3
"""Other agencies' log shapes from a generated log: DIR/log.csv -> DIR/log_ren.csv (actions named
as another agency might: `NID Verify`, `CDR_REQUEST`, `msisdnOwner`, `cell-site`) and
DIR/log_nounit.csv (the unit column emptied), DIR/log_nocase.csv (no case column) and
DIR/log_min.csv (only time, officer, action, subject). Usage: shapes.py DIR"""
import csv, sys

d = sys.argv[1]
RENAME = {"identity_lookup": "NID Verify", "cdr_query": "CDR_REQUEST",
          "subscriber_lookup": "msisdnOwner", "location_query": "cell-site"}
with open(f"{d}/log.csv", newline="") as f:
    rows = list(csv.reader(f))
head, body = rows[0], rows[1:]
act, unit = head.index("action"), head.index("unit")
for name, change in (("log_ren", lambda r: r.__setitem__(act, RENAME.get(r[act], r[act]))),
                     ("log_nounit", lambda r: r.__setitem__(unit, ""))):
    with open(f"{d}/{name}.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(head)
        for r in body:
            r = list(r)
            change(r)
            w.writerow(r)
keep = {"log_nocase": ["time", "officer", "unit", "action", "subject", "outcome", "records"],
        "log_min": ["time", "officer", "action", "subject"]}
for name, cols in keep.items():
    idx = [head.index(c) for c in cols]
    with open(f"{d}/{name}.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for r in body:
            w.writerow([r[i] for i in idx])
