#!/usr/bin/env python3
"""Score a `custos analyze --format json` report against the second generator's truth.json:
AUC, recall within 2x the insiders, false alerts per 1,000 officer-days, hours to first high."""
import json, sys, datetime
rep = json.load(open(sys.argv[1])); tr = json.load(open(sys.argv[2]))
truth = tr["truth"]; od = tr["officer_days"]
offs = rep["officers"]
ins = set(truth)
scores = [(o["score"], o["officer"] in ins) for o in offs]
pos = [s for s, t in scores if t]; neg = [s for s, t in scores if not t]
auc = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg) / (len(pos) * len(neg))
k = 2 * len(ins)
top = [o["officer"] for o in offs[:k]]
rec = len([x for x in top if x in ins]) / len(ins)
sev = lambda a: a["severity"] in ("high", "critical")
fa = [a for a in rep["alerts"] if a["officer"] not in ins]
print(f"AUC {auc:.3f} recall@{k} {rec:.2f} false alerts/1000 od {1000*len(fa)/od:.2f} (high+ {1000*len([a for a in fa if sev(a)])/od:.2f}) n={len(fa)}")
rank = {o["officer"]: i + 1 for i, o in enumerate(offs)}
def ts(s): return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
for oid, t in sorted(truth.items(), key=lambda x: x[1]["kind"]):
    o = next(x for x in offs if x["officer"] == oid)
    ff = o["first_flagged"]
    lat = f"{(ts(ff) - t['onset'])/3600:.0f} h" if ff else "never"
    print(f"  {t['kind']:10} {oid:10} rank {rank[oid]:3} score {o['score']:.1f} first high {lat}  {[r['code'] for r in o['reasons']][:5]}")
from collections import Counter
print(" false alerts by detector/severity:", Counter((a["detector"], a["severity"]) for a in fa).most_common(12))
