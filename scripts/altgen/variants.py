#!/usr/bin/env python3
"""One access log in ten other shapes an agency's export could have: DIR/log.csv -> OUT/*.
split.csv (`Date` dd/mm/yyyy and `Time` apart), bomcrlf.csv (byte-order mark, CRLF), extra.csv
(extra and reordered columns, a quoted field with commas), ms.csv (Unix milliseconds), names.csv
(`Event Time`, `User Name`, `Target ID`...), us.csv (mm/dd/yyyy 12-hour), bool.csv (a boolean
`granted`), array.json (one JSON array), semi.csv (semicolons, dd.mm.yyyy HH:MM), utc.csv (times
in UTC, `Z`). Each analysed with `--assume-offset` of the original's zone should give the same
report as the original. Usage: variants.py DIR/log.csv OUT"""
import csv, datetime, json, os, random, sys

src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
rows = list(csv.DictReader(open(src, newline="")))
R = random.Random(1)


def dt(r):
    return datetime.datetime.fromisoformat(r["time"])


def write(name, head, fn, enc="utf-8", nl="\n", delim=","):
    with open(f"{out}/{name}", "w", newline="", encoding=enc) as f:
        w = csv.writer(f, lineterminator=nl, delimiter=delim)
        w.writerow(head)
        for r in rows:
            w.writerow(fn(r))


rest = lambda r: [r["officer"], r["unit"], r["action"], r["subject"], r["case"], r["outcome"], r["records"]]
write("split.csv", ["Date", "Time", "User", "Unit", "Action", "Subject", "Case", "Outcome", "Records"],
      lambda r: [dt(r).strftime("%d/%m/%Y"), dt(r).strftime("%H:%M:%S")] + rest(r))
write("bomcrlf.csv", list(rows[0].keys()), lambda r: list(r.values()), enc="utf-8-sig", nl="\r\n")
write("extra.csv", ["session_id", "client_ip", "subject", "user_agent", "officer", "records", "time", "case",
                    "action", "outcome", "unit"],
      lambda r: [R.randrange(10**9), "10.0.%d.%d" % (R.randrange(255), R.randrange(255)), r["subject"],
                 "Mozilla/5.0 (X11, Linux)", r["officer"], r["records"], r["time"], r["case"], r["action"],
                 r["outcome"], r["unit"]])
write("ms.csv", ["ts", "officer", "unit", "action", "subject", "case", "outcome", "records"],
      lambda r: [int(dt(r).timestamp() * 1000)] + rest(r))
write("names.csv", ["Event Time", "User Name", "Department", "Operation", "Target ID", "Case No", "Result", "Rows"],
      lambda r: [dt(r).strftime("%Y-%m-%d %H:%M:%S")] + rest(r))
write("us.csv", ["timestamp", "username", "unit", "action", "subject", "case", "status", "records"],
      lambda r: [dt(r).strftime("%m/%d/%Y %I:%M:%S %p")] + rest(r))
write("bool.csv", ["time", "officer", "unit", "action", "subject", "case", "granted", "records"],
      lambda r: [r["time"]] + rest(r)[:5] + ["false" if r["outcome"].lower() in ("denied", "403") else "true",
                                             r["records"]])
json.dump([dict(r) for r in rows], open(f"{out}/array.json", "w"))
write("semi.csv", ["time", "officer", "unit", "action", "subject", "case", "outcome", "records"],
      lambda r: [dt(r).strftime("%d.%m.%Y %H:%M")] + rest(r), delim=";")
write("utc.csv", list(rows[0].keys()),
      lambda r: [dt(r).astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")] + list(r.values())[1:])
