#!/usr/bin/env python3
"""A sixth access-log generator, of yet another agency: a metropolitan police's verification and
tracking system used by its police stations. Written to test `custos analyze` on a shape it was
not built on, not to tune it; normal work and abuse differ from the simulator's and the other
four generators'.

What differs: officers are transferred between stations during the period (the unit of one
account changes); a station's desk verifies citizens for police clearance, now and then the same
person twice; investigators track a fugitive's phone for weeks under a listed case (one person,
many days: persistence that is explained); cases numbered as the stations write them
(`Gulshan PS GD-0412/26`, `Mirpur PS Case 17(09)26`); times in UTC; the log's own column names
and words (`LoginID`, `PoliceStation`, `ServiceType`, `Live Location`, `OK`, `NOT FOUND`,
`REJECTED`). Abuse adds officers who follow one or two people of their private life for weeks
(the ex-partner's phone, a rival's location), an enumeration of consecutive NIDs in office
hours, and an officer who, after a transfer, keeps pulling people of the old station's cases.

Usage: generate.py DIR SEED. Writes log.csv (the issue's columns, times in UTC),
log_native.csv (the same rows in the system's own column names), cases.csv, watch.csv and
truth.json in the form scripts/altgen/score.py reads."""
import csv, datetime, json, math, os, random, sys

out = sys.argv[1]
seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
R = random.Random(6000 + seed)
os.makedirs(out, exist_ok=True)
DAYS = 56
LOCAL = datetime.timezone(datetime.timedelta(hours=6))
T0 = int(datetime.datetime(2026, 8, 2, tzinfo=LOCAL).timestamp())  # a Sunday, local midnight
HOLIDAYS = {R.randint(5, 50)}


def off_day(day):
    return day % 7 in (5, 6) or day in HOLIDAYS


def nid():
    return str(R.randint(10**9, 10**10 - 1)) if R.random() < 0.85 else str(R.randint(10**12, 10**13 - 1))


def msisdn():
    return "+8801" + str(R.choice([3, 5, 6, 7, 8, 9])) + "%08d" % R.randint(0, 10**8 - 1)


STATIONS = ["Gulshan PS", "Mirpur PS", "Dhanmondi PS", "Motijheel PS", "Uttara PS", "Tejgaon PS",
            "Ramna PS", "Pallabi PS"]
officers = []
for st in STATIONS:
    for i in range(R.randint(9, 14)):
        role = "desk" if i < 3 else ("analyst" if i == 3 else "investigator")
        officers.append(dict(id="%s.%s%d" % (R.choice(["si", "asi", "insp", "const"]), st.split()[0][:3].lower(),
                                              100 + len(officers)),
                             unit=st, role=role, rate=min(60.0, math.exp(R.gauss(math.log(5), 0.7))),
                             cases=[], transfer=None, start_h=R.choice([8, 9, 9, 10]),
                             evening=R.random() < 0.15))
for o in R.sample([o for o in officers if o["role"] == "investigator"], 6):
    o["transfer"] = (R.randint(15, 40), R.choice([s for s in STATIONS if s != o["unit"]]))


def unit_on(o, day):
    return o["transfer"][1] if o["transfer"] and day >= o["transfer"][0] else o["unit"]


rows = []
WORDS = {"identity": "NID Verification", "subscriber": "Mobile Owner", "cdr": "CDR",
         "location": "Live Location"}


def at(day, h):
    return T0 + day * 86400 + int(h * 3600)


def office_time(o, day):
    if o["evening"]:
        return at(day, R.uniform(14, 22))
    return at(day, R.uniform(o["start_h"], o["start_h"] + 8) if R.random() < 0.94 else R.uniform(17, 21))


def emit(t, o, what, subject, case="", outcome="OK", records=None):
    if records is None:
        records = 1 if outcome == "OK" else 0
    day = (t - T0) // 86400
    rows.append((int(t), o["id"], unit_on(o, day), WORDS[what], subject, case, outcome, records))


cases = []
numbers = {s: 0 for s in STATIONS}


def new_case(st, day):
    staff = [o for o in officers if unit_on(o, max(day, 0)) == st and o["role"] != "desk"]
    numbers[st] += 1
    n = numbers[st]
    cid = "%s GD-%04d/26" % (st, 400 + n) if R.random() < 0.6 else "%s Case %d(%02d)26" % (st, n, 8 + max(day, 0) // 30)
    c = dict(id=cid, unit=st, officers=R.sample(staff, min(len(staff), R.randint(1, 3))),
             targets=[R.choice([nid, msisdn])() for _ in range(R.randint(1, 6))], assoc=[],
             open=day, close=day + R.randint(4, 40), listed=R.random() < 0.85,
             fugitive=R.random() < 0.2)
    for o in c["officers"]:
        o["cases"].append(c)
    cases.append(c)


clearance = {s: [] for s in STATIONS}
for day in range(-14, DAYS):
    for st in STATIONS:
        if R.random() < 0.45:
            new_case(st, day)
    if day < 0:
        continue
    for o in officers:
        if off_day(day) or R.random() < 0.08:
            continue
        st = unit_on(o, day)
        if o["role"] == "desk":
            for _ in range(max(0, int(R.gauss(18, 5) * o["rate"] / 5))):
                seen = clearance[st]
                s = R.choice(seen) if seen and R.random() < 0.05 else nid()
                seen.append(s)
                emit(office_time(o, day), o, "identity", s, "",
                     "NOT FOUND" if R.random() < 0.03 else "OK")
            continue
        mine = [c for c in o["cases"] if c["open"] <= day <= c["close"] and c["unit"] == st]
        for c in mine:
            if c["fugitive"] and R.random() < 0.4:  # tracking a fugitive's phone under the case
                phone = next((s for s in c["targets"] if s.startswith("+")), None)
                if phone:
                    emit(office_time(o, day), o, "location", phone, c["id"], records=R.randint(1, 12))
        for _ in range(int(R.expovariate(1 / o["rate"]))):
            if not mine:
                if R.random() < 0.25:
                    emit(office_time(o, day), o, "identity", nid())
                continue
            c = R.choice(mine)
            if c["assoc"] and R.random() < 0.3:
                s = R.choice(c["assoc"])
            elif R.random() < 0.2:
                s = R.choice([nid, msisdn])()
                c["assoc"].append(s)
            else:
                s = R.choice(c["targets"])
            case = c["id"] if R.random() < 0.9 else ""
            outcome = "REJECTED" if R.random() < 0.015 else "OK"
            if s.startswith("+"):
                what = R.choices(["subscriber", "cdr", "location"], [0.45, 0.4, 0.15])[0]
                recs = {"subscriber": 1, "cdr": R.randint(3, 500), "location": R.randint(1, 30)}[what]
                emit(office_time(o, day), o, what, s, case, outcome, recs if outcome == "OK" else 0)
            else:
                emit(office_time(o, day), o, "identity", s, case, outcome)

links = []
for c in cases:
    if not c["listed"]:
        continue
    for o in c["officers"]:
        links.append((c["id"], "officer", o["id"]))
    for s in c["targets"] + [a for a in c["assoc"] if R.random() < 0.6]:
        links.append((c["id"], "subject", s))

vips = [nid() for _ in range(25)] + [msisdn() for _ in range(10)]
honey = [nid() for _ in range(5)] + [msisdn() for _ in range(5)]
truth = {}
used = set()


def pick(cond):
    o = R.choice([o for o in officers if o["id"] not in used and not o["transfer"] and cond(o)])
    used.add(o["id"])
    return o


def days_of(a, b):
    return [d for d in range(a, min(b, DAYS)) if not off_day(d)]


def own_case(o, day):
    mine = [c for c in o["cases"] if c["open"] <= day <= c["close"]]
    return R.choice(mine)["id"] if mine else ""


# 1-2. The seed pair: officers of two stations serving one buyer, a rising trickle of people
# nobody's case holds, identity and call records, the first often in the evening.
a = pick(lambda o: o["role"] == "investigator")
b = pick(lambda o: o["role"] == "investigator" and o["unit"] != a["unit"])
onset = R.randint(8, 25)
first = {}
for k, day in enumerate(days_of(onset, DAYS)):
    for _ in range(1 + k // 4):
        person, phone = nid(), msisdn()
        for o in R.choice([(a,), (b,), (a, b)]):
            t = at(day, R.uniform(19, 23)) if o is a and R.random() < 0.5 else office_time(o, day)
            case = own_case(o, day) if R.random() < 0.4 else ""
            emit(t, o, "identity", person, case)
            emit(t + R.randint(30, 900), o, R.choice(["subscriber", "cdr"]), phone, case, records=R.randint(1, 300))
            first.setdefault(o["id"], t)
for o in (a, b):
    truth[o["id"]] = dict(kind="seed_pair", onset=first[o["id"]])

# 3. Following an ex-partner: one phone, where it is and whom it calls, two to four evenings a
# week for weeks; no case, or the officer's own case as cover.
o = pick(lambda o: o["role"] == "investigator")
target = msisdn()
ts = []
for d in days_of(R.randint(5, 20), DAYS):
    if R.random() < 0.5:
        t = at(d, R.uniform(18, 23)) if R.random() < 0.6 else office_time(o, d)
        what = R.choice(["location", "location", "cdr", "subscriber"])
        emit(t, o, what, target, own_case(o, d) if R.random() < 0.3 else "", records=R.randint(1, 40))
        ts.append(t)
truth[o["id"]] = dict(kind="stalker", onset=min(ts))

# 4. A family dispute: an analyst keeps an eye on two or three people (a brother-in-law, a
# neighbour), identity and location, once or twice a week, in office hours.
o = pick(lambda o: o["role"] in ("analyst", "investigator"))
people = [msisdn() for _ in range(R.randint(2, 3))]
ts = []
for d in days_of(R.randint(5, 20), DAYS):
    if R.random() < 0.3:
        t = office_time(o, d)
        emit(t, o, R.choice(["location", "subscriber", "cdr"]), R.choice(people), "", records=R.randint(1, 60))
        ts.append(t)
truth[o["id"]] = dict(kind="follow_few", onset=min(ts))

# 5. Enumeration: consecutive NIDs in office hours, one afternoon, most found.
o = pick(lambda o: o["role"] == "investigator")
d = R.choice(days_of(15, DAYS - 1))
start = R.randint(10**9, 10**10 - 500)
t = at(d, 14)
for i in range(R.randint(60, 160)):
    t += R.randint(15, 90)
    emit(t, o, "identity", str(start + i), "", "OK" if R.random() < 0.7 else "NOT FOUND")
truth[o["id"]] = dict(kind="enumeration", onset=at(d, 14))

# 6. After a transfer, an officer keeps pulling people of the old station's cases, citing none.
o = next(x for x in officers if x["transfer"] and x["transfer"][0] < DAYS - 10)
used.add(o["id"])
old = [c for c in cases if c["unit"] == o["unit"]]
pool = [s for c in old for s in c["targets"]]
ts = []
for d in days_of(o["transfer"][0] + 2, DAYS):
    for _ in range(R.randint(1, 3)):
        s = R.choice(pool)
        t = office_time(o, d)
        emit(t, o, "identity" if not s.startswith("+") else R.choice(["subscriber", "cdr"]), s, "",
             records=R.randint(1, 100))
        ts.append(t)
truth[o["id"]] = dict(kind="after_transfer", onset=min(ts))

# 7. Watch-listed people looked up out of curiosity after a news story, in one morning.
o = pick(lambda o: o["role"] != "desk")
d = R.choice(days_of(10, DAYS))
ts = []
for v in R.sample(vips, 3):
    t = at(d, R.uniform(10, 12))
    emit(t, o, "identity" if not v.startswith("+") else "subscriber", v, own_case(o, d))
    ts.append(t)
truth[o["id"]] = dict(kind="vip_snoop", onset=min(ts))

# 8. A honeytoken, as an identity check at a desk.
o = pick(lambda o: o["role"] == "desk")
d = R.choice(days_of(10, DAYS))
t = office_time(o, d)
emit(t, o, "identity", R.choice(honey[:5]))
truth[o["id"]] = dict(kind="honeytoken", onset=t)

rows.sort()


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


with open(os.path.join(out, "log.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["time", "officer", "unit", "action", "subject", "case", "outcome", "records"])
    for r in rows:
        w.writerow((iso(r[0]),) + r[1:])
with open(os.path.join(out, "log_native.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["EventTimeUTC", "LoginID", "PoliceStation", "ServiceType", "SearchKey", "RefNo", "Result",
                "RecordCount"])
    for r in rows:
        w.writerow((iso(r[0]),) + r[1:])
with open(os.path.join(out, "cases.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["case", "role", "value"])
    w.writerows(links)
with open(os.path.join(out, "watch.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["subject", "label"])
    w.writerows([(v, "vip") for v in vips] + [(h, "honeytoken") for h in honey])
od = len({(r[1], (r[0] + 6 * 3600) // 86400) for r in rows})
with open(os.path.join(out, "truth.json"), "w") as f:
    json.dump(dict(truth=truth, officer_days=od, officers=len({r[1] for r in rows})), f, indent=1)
print(f"{len(rows)} rows, {od} officer-days, {len(truth)} planted: {sorted(t['kind'] for t in truth.values())}")
