#!/usr/bin/env python3
"""A third access-log generator, of a different agency than both others: a lawful-interception
centre. Written to test `custos analyze` on a shape it was not built on, not to tune it.

What differs from the simulator and from scripts/altgen: 60 days; unix-second timestamps;
other agencies' action names (`Subscriber Info`, `CDR Pull`, `Location Ping`, `NID Check`); an
operations unit on 12-hour day/night shifts in an eight-day cycle (two days, two nights, four
off) that fulfils other units' requests, citing their cases without being linked to them; case
files that list only the targets (the associates an investigation finds are mostly missing) and
not every officer who works the case; heavy-tailed officer activity; leave, new hires, a
holiday, a three-day unit-wide incident; and its own abuse styles.

Usage: generate.py DIR SEED. Writes log.csv, cases.csv, watch.csv and truth.json (the planted
officers with their kind and onset, and the officer-days worked) in the form
scripts/altgen/score.py reads."""
import csv, json, math, os, random, sys

out = sys.argv[1]
seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
R = random.Random(1000 + seed)
os.makedirs(out, exist_ok=True)
DAYS = 60
T0 = 1772301600  # 2026-03-01 00:00 +06:00
TZ = 6 * 3600
HOLIDAYS = {25, 30, 31, 32}


def nid():
    return str(R.randint(10**9, 10**10 - 1))


def msisdn():
    return "8801" + str(R.choice([3, 5, 6, 7, 8, 9])) + "%08d" % R.randint(0, 10**8 - 1)


def weekend(day):
    # 2026-03-01 is a Sunday; Friday and Saturday are the weekend.
    return (day + 0) % 7 in (5, 6)


UNITS = {"NTMC-OPS": 30, "CTTC": 35, "DB-CYBER": 25, "SB-VERIFY": 30}
officers = []
for unit, n in UNITS.items():
    for i in range(n):
        o = dict(id="%s/%02d" % (unit.split("-")[-1].lower(), i), unit=unit,
                 rate=math.exp(R.gauss(0, 0.6)), start=0, leave=set(), cases=[],
                 cycle=R.randrange(8))
        o["role"] = ("ops" if unit == "NTMC-OPS" else "desk" if unit == "SB-VERIFY"
                     else R.choices(["investigator", "analyst"], [0.7, 0.3])[0])
        if R.random() < 0.15:
            a = R.randrange(DAYS - 10)
            o["leave"] = set(range(a, a + R.randint(5, 12)))
        officers.append(o)
for o in R.sample([o for o in officers if o["unit"] in ("CTTC", "DB-CYBER")], 6):
    o["start"] = R.randint(20, 40)
by_unit = {u: [o for o in officers if o["unit"] == u] for u in UNITS}

# The 8-day rota of the operations unit: D D N N off off off off.
def ops_shift(o, day):
    return ("D", "D", "N", "N", None, None, None, None)[(day + o["cycle"]) % 8]


def on_duty(o, day):
    if day < o["start"] or day in o["leave"]:
        return False
    if o["role"] == "ops":
        return ops_shift(o, day) is not None and (day not in HOLIDAYS or R.random() < 0.7)
    if weekend(day) or day in HOLIDAYS:
        return R.random() < 0.04
    return R.random() < 0.93


def work_time(o, day):
    """A time in the officer's working hours on `day` (unix seconds)."""
    if o["role"] == "ops":
        if ops_shift(o, day) == "D":
            h = R.uniform(8, 20)
        else:
            h = R.uniform(20, 32)  # into the next morning
    elif o["role"] == "desk":
        h = R.uniform(10, 17)
    else:
        h = R.uniform(9, 18) if R.random() < 0.9 else R.uniform(18, 21.5)
    return T0 + day * 86400 + int(h * 3600)


rows = []


def emit(t, o, action, subject, case="", outcome="allowed", records=None):
    if records is None:
        records = 1 if outcome == "allowed" else 0
    rows.append((t, o["id"], o["unit"], action, subject, case, outcome, records))


ID_ACT = ["NID Check", "NID Check", "Citizen Profile"]
SUB_ACT = "Subscriber Info"
CDR_ACT = "CDR Pull"
LOC_ACT = "Location Ping"

# Cases of the investigating units: targets in the file, associates found along the way.
cases = []  # dict(id, unit, officers, listed_officers, targets, assoc, open, close)
links = []
cid = 0


def new_case(unit, day, n_targets=None, team=None):
    global cid
    cid += 1
    team = team or R.sample([o for o in by_unit[unit] if o["role"] != "desk"], R.randint(2, 5))
    c = dict(id="%s-%d/%04d" % (unit.split("-")[-1], 2026, cid), unit=unit, officers=team,
             targets=[R.choice([nid, msisdn])() for _ in range(n_targets or R.randint(1, 6))],
             assoc=[], open=day, close=day + R.randint(5, 25))
    for o in team:
        o["cases"].append(c)
    cases.append(c)
    return c


for d in range(-10, 0):
    for u in ("CTTC", "DB-CYBER"):
        for _ in range(4):
            new_case(u, d)

INCIDENT = (40, "CTTC")
requests = []  # (day, case): the operations unit pulls call records for other units' cases
for day in range(DAYS):
    for u in ("CTTC", "DB-CYBER"):
        for _ in range(sum(R.random() < 0.6 for _ in range(3))):
            new_case(u, day)
    if day == INCIDENT[0]:
        big = new_case(INCIDENT[1], day, n_targets=60,
                       team=R.sample([o for o in by_unit["CTTC"] if o["start"] <= day], 5))
        big["close"] = day + 10
        big["incident"] = True
    open_cases = [c for c in cases if c["open"] <= day <= c["close"]]
    for c in open_cases:
        if R.random() < 0.35:
            requests.append((day, c))
    # Investigators and analysts.
    for o in officers:
        if not on_duty(o, day):
            continue
        if o["role"] in ("investigator", "analyst"):
            mine = [c for c in o["cases"] if c["open"] <= day <= c["close"]]
            surge = 3.0 if o["unit"] == INCIDENT[1] and INCIDENT[0] <= day < INCIDENT[0] + 3 else 1.0
            if surge > 1:
                inc = next(c for c in cases if c.get("incident"))
                mine = mine + [inc]
            n = int(R.expovariate(1 / (8 * o["rate"] * surge))) + (1 if mine else 0)
            for _ in range(n):
                if not mine:
                    # Background checks without a case (a visitor, a complaint).
                    if R.random() < 0.5:
                        emit(work_time(o, day), o, R.choice(ID_ACT), nid())
                    continue
                c = R.choice(mine)
                t = work_time(o, day)
                denied = R.random() < 0.03
                res = "denied" if denied else "allowed"
                if c["assoc"] and R.random() < 0.35:
                    s = R.choice(c["assoc"])
                elif R.random() < 0.25:
                    s = msisdn() if R.random() < 0.7 else nid()
                    c["assoc"].append(s)
                else:
                    s = R.choice(c["targets"])
                if s.startswith("880"):
                    if o["role"] == "analyst" and R.random() < 0.6:
                        emit(t, o, CDR_ACT, s, c["id"], res, None if denied else R.randint(5, 400))
                    else:
                        emit(t, o, SUB_ACT, s, c["id"], res)
                else:
                    emit(t, o, R.choice(ID_ACT), s, c["id"], res,
                         None if denied else (0 if R.random() < 0.02 else 1))
        elif o["role"] == "desk":
            n = int(R.gauss(45, 12) * o["rate"])
            for _ in range(max(n, 0)):
                r = R.random()
                emit(work_time(o, day), o, "NID Check", nid(), "",
                     "denied" if r < 0.004 else "allowed", 0 if r < 0.02 else 1)
    # Operations: the requests of the day (and yesterday's backlog) by whoever is on duty.
    duty = [o for o in by_unit["NTMC-OPS"] if on_duty(o, day)]
    for rd, c in [r for r in requests if r[0] in (day, day - 1)]:
        if not duty or (rd == day - 1 and R.random() < 0.7):
            continue
        o = R.choice(duty)
        for s in R.sample(c["targets"] + c["assoc"][:3], min(3, len(c["targets"]) + min(3, len(c["assoc"])))):
            if not s.startswith("880"):
                emit(work_time(o, day), o, "Subscriber Info", s, c["id"])
                continue
            t = work_time(o, day)
            emit(t, o, CDR_ACT, s, c["id"], records=R.randint(10, 600))
            if R.random() < 0.3:
                emit(t + 60, o, LOC_ACT, s, c["id"], records=R.randint(1, 30))

# The case file: targets and a few associates (most are never written in); some officers who
# work a case are missing from it.
for c in cases:
    for o in c["officers"]:
        if R.random() < 0.85:
            links.append((c["id"], "officer", o["id"]))
    for s in c["targets"] + [a for a in c["assoc"] if R.random() < 0.2]:
        links.append((c["id"], "subject", s))

# Watch list: persons of public life (some looked up in ordinary work) and honeytokens.
vips = [nid() for _ in range(20)]
honey = [nid() for _ in range(10)]
for v in vips[:6]:
    c = R.choice([c for c in cases if c["unit"] == "CTTC"])
    c["targets"].append(v)
    links.append((c["id"], "subject", v))
    o = c["officers"][0]
    emit(work_time(o, max(c["open"], 0)), o, "NID Check", v, c["id"])

truth = {}
used = set()


def pick(unit, role=None, cond=lambda o: True):
    o = R.choice([o for o in by_unit[unit] if o["id"] not in used and o["start"] == 0
                  and (role is None or o["role"] == role) and not o["leave"] and cond(o)])
    used.add(o["id"])
    return o


def after_hours(o, day):
    return T0 + day * 86400 + int(R.uniform(19.5, 23.5) * 3600)


# 1-2. The seed case: a CTTC investigator and an operations officer serving one buyer, a
# rising trickle from a few a day; the investigator after hours, the operator on shift.
a, b = pick("CTTC", "investigator"), pick("NTMC-OPS")
onset = R.randint(22, 35)
first = {}
for k, day in enumerate(range(onset, DAYS)):
    wanted = [R.choice([nid, msisdn])() for _ in range(1 + k // 3)]
    for s in wanted:
        if R.random() < 0.6 and on_duty(a, day):
            t = after_hours(a, day) if R.random() < 0.6 else work_time(a, day)
            case = R.choice(a["cases"])["id"] if a["cases"] and R.random() < 0.4 else ""
            emit(t, a, "NID Check" if not s.startswith("880") else SUB_ACT, s, case)
            first.setdefault(a["id"], t)
        if (R.random() < 0.5 or s.startswith("880")) and ops_shift(b, day):
            t = work_time(b, day)
            openc = [c for c in cases if c["open"] <= day <= c["close"]]
            act = CDR_ACT if s.startswith("880") else "NID Check"
            emit(t, b, act, s, R.choice(openc)["id"] if R.random() < 0.5 else "",
                 records=R.randint(20, 300) if act == CDR_ACT else 1)
            first.setdefault(b["id"], t)
for o in (a, b):
    truth[o["id"]] = dict(kind="seed_pair", onset=first[o["id"]])

# 3. A curious analyst: a couple of people a day, looked up without a case, in office hours,
# and two persons of public life.
o = pick("DB-CYBER", "analyst")
onset = R.randint(15, 30)
ts = []
for day in range(onset, onset + 21):
    if not on_duty(o, day):
        continue
    for _ in range(R.randint(1, 3)):
        t = work_time(o, day)
        emit(t, o, "NID Check", nid())
        ts.append(t)
for v in R.sample(vips[6:], 2):
    t = work_time(o, onset + R.randint(3, 15))
    emit(t, o, "Citizen Profile", v)
    ts.append(t)
truth[o["id"]] = dict(kind="curious", onset=min(ts))

# 4. A honeytoken among a handful of lookups citing the officer's own case.
o = pick("CTTC", "investigator", lambda o: len(o["cases"]) > 0)
day = R.randint(20, 50)
while not on_duty(o, day):
    day += 1
t = work_time(o, day)
c = R.choice(o["cases"])["id"]
emit(t, o, "NID Check", R.choice(honey), c)
for _ in range(5):
    emit(t + R.randint(60, 3000), o, "NID Check", nid(), c)
truth[o["id"]] = dict(kind="honeytoken", onset=t)

# 5. An evening sweep by a desk officer: consecutive national IDs.
o = pick("SB-VERIFY", "desk")
day = R.randint(20, 50)
t = T0 + day * 86400 + 21 * 3600
start = R.randint(10**9, 9 * 10**9)
for k in range(400):
    t += R.randint(5, 40)
    start += 1 if R.random() < 0.9 else R.randint(2, 5)
    emit(t, o, "NID Check", str(start), "", records=1 if R.random() < 0.7 else 0)
truth[o["id"]] = dict(kind="sweep", onset=T0 + day * 86400 + 21 * 3600)

# 6. A prober: call records of numbers outside the warrant, refused, over two days.
o = pick("DB-CYBER", "investigator", lambda o: len(o["cases"]) > 0)
day = R.randint(20, 50)
ts = []
for d in (day, day + 1):
    for _ in range(15):
        t = work_time(o, d)
        emit(t, o, CDR_ACT, msisdn(), R.choice(o["cases"])["id"], "denied")
        ts.append(t)
    for _ in range(3):
        emit(work_time(o, d), o, CDR_ACT, msisdn(), R.choice(o["cases"])["id"], records=R.randint(5, 80))
truth[o["id"]] = dict(kind="prober", onset=min(ts))

# 7. A stolen credential: an operator's account, on a day off, at three in the morning.
o = pick("NTMC-OPS")
day = next(d for d in range(R.randint(25, 45), DAYS) if ops_shift(o, d) is None and ops_shift(o, d - 1) is None)
t = T0 + day * 86400 + 3 * 3600
for _ in range(60):
    t += R.randint(20, 120)
    emit(t, o, R.choice([LOC_ACT, CDR_ACT]), msisdn(), "", records=R.randint(1, 200))
truth[o["id"]] = dict(kind="stolen", onset=T0 + day * 86400 + 3 * 3600)

rows.sort()
with open(os.path.join(out, "log.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["time", "officer", "unit", "action", "subject", "case", "outcome", "records"])
    w.writerows(rows)
with open(os.path.join(out, "cases.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["case", "role", "value"])
    w.writerows(links)
with open(os.path.join(out, "watch.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["subject", "label"])
    w.writerows([(v, "vip") for v in vips] + [(h, "honeytoken") for h in honey])
od = len({(r[1], (r[0] + TZ) // 86400) for r in rows})
with open(os.path.join(out, "truth.json"), "w") as f:
    json.dump(dict(truth=truth, officer_days=od, officers=len({r[1] for r in rows})), f, indent=1)
print(f"{len(rows)} rows, {od} officer-days, {len(truth)} planted: {sorted(t['kind'] for t in truth.values())}")
