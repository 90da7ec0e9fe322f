#!/usr/bin/env python3
"""An independent access-log generator (not the custos simulator): different volumes,
dispersion, shifts, case structure and abuse styles. Writes log.csv, cases.csv, watch.csv,
truth.json (insider -> onset unix time).

Usage: generate.py DIR SEED [rota]. With `rota`, five units work weekly rotas through day,
evening and night shifts (each officer at their own point of the cycle) instead of fixed shifts."""
import csv, json, math, random, sys, os

seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
out = sys.argv[1]
ROTA = len(sys.argv) > 3 and sys.argv[3] == "rota"
R = random.Random(seed)
os.makedirs(out, exist_ok=True)
DAYS = 45
T0 = 1767225600 - 6 * 3600  # 2026-01-01 00:00 +06:00
TZ = 6 * 3600

def nid():
    return str(R.randint(10**9, 10**10 - 1))

def msisdn():
    return "8801" + str(R.choice([3, 4, 5, 6, 7, 8, 9])) + "%08d" % R.randint(0, 10**8 - 1)

def gamma_poisson(mean, shape=2.5):
    if mean <= 0:
        return 0
    lam = R.gammavariate(shape, mean / shape)
    # Poisson by inversion for small, normal approx for large
    if lam < 30:
        L, k, p = math.exp(-lam), 0, 1.0
        while True:
            p *= R.random()
            if p < L:
                return k
            k += 1
    return max(0, int(round(R.gauss(lam, math.sqrt(lam)))))

units = []
officers = []
for u in range(14):
    name = "U%02d" % u
    size = max(4, int(R.lognormvariate(2.6, 0.6)))
    units.append(name)
    for i in range(size):
        role = R.choices(["investigator", "analyst", "desk"], [0.6, 0.2, 0.2])[0]
        shift = R.choices(["day", "evening", "night"], [0.7, 0.2, 0.1])[0]
        base = {"investigator": 18, "analyst": 45, "desk": 25}[role] * R.lognormvariate(0, 0.6)
        start = 0 if R.random() > 0.04 else R.randint(10, 30)
        leave0 = R.randint(0, DAYS - 8)
        leave = set(range(leave0, leave0 + R.randint(3, 7))) if R.random() < 0.7 else set()
        officers.append(dict(id="%s-%03d" % (name.lower(), i), unit=name, role=role, shift=shift,
                             base=base, start=start, leave=leave, cases=[]))

# cases: per unit, staggered, each with subjects (nids and msisdns)
cases = {}
for u in units:
    mem = [o for o in officers if o["unit"] == u and o["role"] != "desk"]
    if not mem:
        continue
    for c in range(max(2, len(mem) // 2 + 2)):
        cid = "%s/%d/%04d" % (u, 2026, R.randint(1, 9999))
        open_d = R.randint(-20, DAYS - 5)
        length = R.randint(5, 40)
        subj = [nid() if R.random() < 0.5 else msisdn() for _ in range(R.randint(3, 40))]
        team = R.sample(mem, min(len(mem), R.randint(1, 4)))
        cases[cid] = dict(unit=u, open=open_d, close=open_d + length, subjects=subj, team=team)
        for o in team:
            o["cases"].append(cid)

# surge: one unit, an incident on day 30: a big case with everyone
surge_unit = R.choice(units)
sc = "%s/2026/INCIDENT" % surge_unit
smem = [o for o in officers if o["unit"] == surge_unit and o["role"] != "desk"]
cases[sc] = dict(unit=surge_unit, open=30, close=36, subjects=[nid() for _ in range(250)], team=smem)
for o in smem:
    o["cases"].append(sc)

holidays = {R.randint(0, DAYS - 1) for _ in range(2)}
VIP = [nid() for _ in range(40)]
HONEY = [nid() for _ in range(15)]
rows = []

def emit(t, o, action, subject, case, outcome="allowed", records=None):
    if records is None:
        records = 0 if outcome == "denied" else (R.randint(5, 120) if action == "cdr_query" else (0 if R.random() < 0.02 else 1))
    rows.append((t, o["id"], o["unit"], action, subject, case, outcome, records))

ROTA_UNITS = set(R.sample(units, 5)) if ROTA else set()

def shift_time(o, day, night_ok=False):
    shift = o["shift"]
    if o["unit"] in ROTA_UNITS:
        shift = ("day", "evening", "night")[(day // 7 + int(o["id"][-3:])) % 3]
    h0 = {"day": 8, "evening": 14, "night": 22}[shift]
    h = h0 + min(8.5, abs(R.gauss(4, 2.2)))
    return T0 + day * 86400 + int(h * 3600) + R.randint(0, 59)

for day in range(DAYS):
    wd = (day + 3) % 7  # 2026-01-01 is a Thursday; 0 = Monday
    weekend = wd in (4, 5)  # Friday, Saturday
    for o in officers:
        if day < o["start"] or day in o["leave"]:
            continue
        m = o["base"]
        if weekend or day in holidays:
            m *= 0.15 if o["shift"] == "day" else 0.6
        if o["unit"] == surge_unit and 30 <= day < 36 and o["role"] != "desk":
            m *= 3
        if R.random() < 0.03:
            m *= 3  # a crunch day
        live0 = [c for c in o["cases"] if cases[c]["open"] <= day <= cases[c]["close"]]
        if o["role"] != "desk" and not live0:
            m *= 0.1  # between cases: a few routine checks
        n = gamma_poisson(m)
        live = [c for c in o["cases"] if cases[c]["open"] <= day <= cases[c]["close"]]
        for _ in range(n):
            t = shift_time(o, day)
            if o["role"] == "desk" or not live:
                # routine identity check without a case
                emit(t, o, "identity_lookup", nid() if R.random() < 0.7 else msisdn(), "")
                continue
            cid = R.choice(live)
            c = cases[cid]
            if R.random() < 0.08:
                s = nid() if R.random() < 0.5 else msisdn()  # associate not yet in the file
            else:
                k = min(len(c["subjects"]) - 1, int(R.paretovariate(1.2)) - 1)
                s = c["subjects"][k]
            if o["role"] == "analyst":
                a = R.choices(["cdr_query", "subscriber_lookup", "location_query", "identity_lookup"], [0.5, 0.2, 0.1, 0.2])[0]
            else:
                a = R.choices(["identity_lookup", "cdr_query", "subscriber_lookup", "location_query"], [0.6, 0.25, 0.1, 0.05])[0]
            if a in ("cdr_query", "location_query") and s.isdigit() and len(s) == 10:
                a = "identity_lookup"
            out_ = "denied" if R.random() < 0.015 else "allowed"
            emit(t, o, a, s, cid, out_)

# insiders
truth = {}
pool = [o for o in officers if o["role"] != "desk" and o["start"] == 0 and o["cases"]]
R.shuffle(pool)
def take(pred=lambda o: True):
    for i, o in enumerate(pool):
        if pred(o):
            return pool.pop(i)

a = take(); b = take(lambda o: o["unit"] != a["unit"])
buyer = [nid() if R.random() < 0.6 else msisdn() for _ in range(400)]
onset = 22
for o in (a, b):
    truth[o["id"]] = dict(kind="seed_pair", onset=T0 + onset * 86400)
for d in range(onset, DAYS):
    k = 1 + (d - onset) // 3
    for j in range(k):
        s = R.choice(buyer[: 20 + 6 * (d - onset)])
        for o in (a, b) if R.random() < 0.3 else (R.choice((a, b)),):
            after = R.random() < 0.6
            t = T0 + d * 86400 + (R.randint(19 * 3600, 23 * 3600) if after else R.randint(10 * 3600, 16 * 3600))
            act = "cdr_query" if (not s.isdigit() or len(s) != 10) and R.random() < 0.6 else "identity_lookup"
            live = [c for c in o["cases"] if cases[c]["open"] <= d <= cases[c]["close"]]
            emit(t, o, act, s, R.choice(live) if live and R.random() < 0.5 else "")
    if d == onset:
        truth[a["id"]]["onset"] = min(truth[a["id"]]["onset"], T0 + d * 86400 + 10 * 3600)

o = take(); truth[o["id"]] = dict(kind="vip_snoop", onset=None)
ds = sorted(R.sample(range(15, DAYS), 4))
for d in ds:
    t = shift_time(o, d); emit(t, o, "identity_lookup", R.choice(VIP), R.choice(o["cases"]))
    truth[o["id"]]["onset"] = truth[o["id"]]["onset"] or t

o = take(); truth[o["id"]] = dict(kind="sweep", onset=None)
d = R.randint(20, DAYS - 2); base = R.randint(10**9, 9 * 10**9)
t = T0 + d * 86400 + 23 * 3600
truth[o["id"]]["onset"] = t
for j in range(350):
    emit(t + j * 25, o, "identity_lookup", str(base + j), "")

desk = [x for x in officers if x["role"] == "desk" and x["start"] == 0]
o = R.choice(desk); truth[o["id"]] = dict(kind="stolen", onset=None)
d = R.randint(20, DAYS - 3)
truth[o["id"]]["onset"] = T0 + d * 86400 + 2 * 3600
for dd in (d, d + 1):
    for j in range(40):
        emit(T0 + dd * 86400 + 2 * 3600 + j * 120, o, "cdr_query", msisdn(), "")

o = take(); truth[o["id"]] = dict(kind="prober", onset=None)
d = R.randint(20, DAYS - 2); t = shift_time(o, d)
truth[o["id"]]["onset"] = t
for j in range(30):
    emit(t + j * 90, o, R.choice(["cdr_query", "location_query"]), msisdn(), R.choice(o["cases"]), "denied")

o = take(); truth[o["id"]] = dict(kind="low_slow", onset=T0 + 12 * 86400)
for d in range(12, DAYS):
    for j in range(R.choice([1, 2, 2, 3])):
        emit(shift_time(o, d), o, "identity_lookup", nid(), R.choice(o["cases"]))

o = take(); truth[o["id"]] = dict(kind="honeytoken", onset=None)
d = R.randint(15, DAYS - 1); t = shift_time(o, d)
truth[o["id"]]["onset"] = t
emit(t, o, "identity_lookup", R.choice(HONEY), R.choice(o["cases"]))

o = take(lambda o: o["role"] == "analyst") or take(); truth[o["id"]] = dict(kind="bulk", onset=None)
d0 = R.randint(20, DAYS - 6); truth[o["id"]]["onset"] = T0 + d0 * 86400 + 9 * 3600
for d in range(d0, d0 + 5):
    for j in range(int(o["base"] * 2) + 20):
        emit(shift_time(o, d), o, R.choice(["cdr_query", "subscriber_lookup"]), msisdn(), R.choice(o["cases"]))

rows.sort(key=lambda r: r[0])
def fmt(t):
    import datetime
    return datetime.datetime.fromtimestamp(t, datetime.timezone(datetime.timedelta(hours=6))).isoformat()
with open(f"{out}/log.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["time", "officer", "unit", "action", "subject", "case", "outcome", "records"])
    for r in rows:
        w.writerow((fmt(r[0]),) + r[1:])
with open(f"{out}/cases.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["case", "role", "value"])
    for cid, c in cases.items():
        for o in c["team"]:
            w.writerow([cid, "officer", o["id"]])
        for s in c["subjects"]:
            w.writerow([cid, "subject", s])
with open(f"{out}/watch.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["subject", "label"])
    for s in HONEY:
        w.writerow([s, "honeytoken"])
    for s in VIP:
        w.writerow([s, "vip"])
days = sum(1 for o in officers for d in range(DAYS) if d >= o["start"] and d not in o["leave"])
json.dump(dict(truth=truth, officer_days=days, officers=len(officers)), open(f"{out}/truth.json", "w"), indent=1)
print(len(rows), "rows", len(officers), "officers", days, "officer-days", file=sys.stderr)
