#!/usr/bin/env python3
"""A Telegram channel's export (Telegram Desktop's result.json) made from any of the generators'
logs, to test `custos leak trace --log` on logs it was not built on: records that only the
planted insiders of one kind pulled (the seed pair by default), posted one hour to two days
after the pull, written as sellers write them (local `01...`, `+880 1711-...`, Bangla digits,
NIDs in groups of four), among 40 random numbers and 15 records that three or more officers
pulled. NPOST=N posts N records (default: three in five of them).
Usage: channel.py DIR OUT.json SEED [kind]. Writes OUT.json and OUT.json.truth (the insiders)."""
import collections, csv, datetime, json, os, random, sys
d, out, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]); kind = sys.argv[4] if len(sys.argv) > 4 else "seed_pair"
R = random.Random(seed)
tr = json.load(open(f"{d}/truth.json"))["truth"]
ins = [o for o, t in tr.items() if t["kind"] == kind]
onset = min(tr[o]["onset"] for o in ins)
def ts(s):
    try: return float(s)
    except: return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
pulls = collections.defaultdict(list); by = collections.defaultdict(set)
for r in csv.DictReader(open(f"{d}/log.csv")):
    if r.get("outcome", "") not in ("", "allowed", "200", "SUCCESS", "ok", "OK"):
        continue
    s = r["subject"]; t = ts(r["time"])
    by[s].add(r["officer"])
    if r["officer"] in ins and t >= onset: pulls[s].append(t)
# the insiders' pulls of people nobody else pulled
mine = [s for s in pulls if by[s] <= set(ins)]
NPOST = int(os.environ.get("NPOST", "0"))
posted = R.sample(mine, NPOST or int(0.6 * len(mine)))
common = [s for s, os in by.items() if len(os) >= 3]
legit = R.sample(common, min(15, len(common)))
BN = str.maketrans("0123456789", "০১২৩৪৫৬৭৮৯")
def write(s):
    digits = "".join(c for c in s if c.isdigit())
    if digits.startswith("880") and len(digits) == 13:
        loc = "0" + digits[3:]
        return R.choice([loc, "+880 " + digits[3:7] + "-" + digits[7:], loc.translate(BN), "+" + digits])
    return R.choice([digits, " ".join(digits[i:i+4] for i in range(0, len(digits), 4)), digits.translate(BN)])
msgs = []
for s in posted:
    t = min(pulls[s]) + R.uniform(3600, 2 * 86400)
    msgs.append((t, R.choice(["NID: {} নাম যাচাই করা হয়েছে", "ফোন {} এর কল লিস্ট পাওয়া যাবে", "Details for {} DM for price", "{} ✅"]).format(write(s))))
for s in legit:
    msgs.append((onset + R.uniform(0, 30 * 86400), "Wanted: {} শেয়ার করুন".format(write(s))))
for _ in range(40):
    num = "01" + R.choice("3456789") + "".join(R.choice("0123456789") for _ in range(8))
    msgs.append((onset + R.uniform(0, 30 * 86400), "Call {} for info".format(num)))
msgs.sort()
tz = datetime.timezone(datetime.timedelta(hours=6))
exp = {"name": "Data Bazaar", "type": "public_channel", "id": 1555000111, "messages": [
    {"id": i + 1, "type": "message", "date": datetime.datetime.fromtimestamp(t, tz).strftime("%Y-%m-%dT%H:%M:%S"),
     "date_unixtime": str(int(t)), "from": "Data Bazaar", "from_id": "channel1555000111", "text": txt,
     "text_entities": [{"type": "plain", "text": txt}]} for i, (t, txt) in enumerate(msgs)]}
json.dump(exp, open(out, "w"), ensure_ascii=False, indent=1)
json.dump({"insiders": ins, "posted": len(posted), "mine": len(mine)}, open(out + ".truth", "w"))
print(d, kind, ins, "insider-only subjects", len(mine), "posted", len(posted))
