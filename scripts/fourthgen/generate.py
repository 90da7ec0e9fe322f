#!/usr/bin/env python3
"""A fourth access-log generator, of yet another agency: the national ID registry's
verification service as used by district police units, an intelligence unit and a head-office
verification desk. Written to test `custos analyze` on a shape it was not built on, not to
tune it; its abuse styles and normal work differ from the simulator's and both other
generators'.

What differs: times in UTC (`...Z`) while the agency works on Bangladesh time, so its office
hours read as 03:00-11:00; outcomes as HTTP statuses (200, 403, 404); identifiers in every
written form (`+8801...`, `01...`, 13- and 17-digit NIDs); 24 small district units of 3-7
officers; a month of Ramadan, when office hours shorten and the intelligence unit works
after iftar into the night; an election week when the district units verify voters without
cases; officers transferred between units; many sparse officers; a case file that lists only
two cases in three.

Usage: generate.py DIR SEED. Writes log.csv, log.jsonl (the same rows as JSON Lines, fields in
another order, with an extra field), cases.csv, watch.csv and truth.json in the form
scripts/altgen/score.py reads."""
import csv, datetime, json, math, os, random, sys

out = sys.argv[1]
seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
R = random.Random(4000 + seed)
os.makedirs(out, exist_ok=True)
DAYS = 56
TZ = 6 * 3600
T0 = int(datetime.datetime(2026, 2, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=6))).timestamp())
RAMADAN = range(18, 48)
ELECTION = range(38, 44)


def weekend(day):
    # 2026-02-01 is a Sunday; Friday and Saturday are the weekend.
    return day % 7 in (5, 6)


def nid():
    k = R.random()
    if k < 0.7:
        return str(R.randint(10**9, 10**10 - 1))
    if k < 0.9:
        return str(R.randint(10**12, 10**13 - 1))
    return "19" + str(R.randint(10**14, 10**15 - 1))


def msisdn():
    return "8801" + str(R.choice([3, 4, 5, 6, 7, 8, 9])) + "%08d" % R.randint(0, 10**8 - 1)


def written(s):
    """An identifier as a clerk typed it."""
    if s.startswith("880"):
        k = R.random()
        return "+" + s if k < 0.5 else s[2:] if k < 0.8 else s
    return s


DISTRICTS = ["DHAKA", "CTG", "SYLHET", "KHULNA", "RAJSHAHI", "BARISAL", "RANGPUR", "MYMENSINGH",
             "COMILLA", "GAZIPUR", "NARAYANGANJ", "BOGURA", "JESSORE", "DINAJPUR", "PABNA", "TANGAIL",
             "FARIDPUR", "NOAKHALI", "FENI", "COXSBAZAR", "KUSHTIA", "SATKHIRA", "JAMALPUR", "SIRAJGANJ"]
officers = []
units = {}
for d in DISTRICTS:
    units["DSB-" + d] = [dict(id="%s.%d" % (d.lower()[:4], i), unit="DSB-" + d, role="investigator")
                         for i in range(R.randint(3, 7))]
units["RAB-INTEL"] = [dict(id="ri%03d" % i, unit="RAB-INTEL", role="analyst") for i in range(20)]
units["HQ-VERIFY"] = [dict(id="hq%03d" % i, unit="HQ-VERIFY", role="desk") for i in range(15)]
for u, os_ in units.items():
    for o in os_:
        o["rate"] = 0.4 if R.random() < 0.2 else math.exp(R.gauss(math.log(6), 0.7))
        o["leave"] = set()
        if R.random() < 0.12:
            a = R.randrange(DAYS - 8)
            o["leave"] = set(range(a, a + R.randint(4, 10)))
        o["cases"] = []
        o["moves"] = []  # (day, new unit)
        officers.append(o)
district = [o for o in officers if o["unit"].startswith("DSB-")]
for o in R.sample(district, 6):
    o["moves"].append((R.randint(20, 40), "DSB-" + R.choice(DISTRICTS)))


def unit_of(o, day):
    u = o["unit"]
    for d, nu in o["moves"]:
        if day >= d:
            u = nu
    return u


def on_duty(o, day):
    if day in o["leave"]:
        return False
    if weekend(day):
        return R.random() < 0.03
    return R.random() < 0.92


def work_time(o, day):
    """Local working time on `day` as unix seconds."""
    if day in RAMADAN:
        if o["unit"] == "RAB-INTEL" and R.random() < 0.55:
            h = R.uniform(21, 26)  # after iftar, into the night
        else:
            h = R.uniform(9, 15)
    else:
        h = R.uniform(9, 17) if R.random() < 0.92 else R.uniform(17, 20)
    return T0 + day * 86400 + int(h * 3600)


rows = []


def emit(t, o, day, action, subject, case="", status="200", records=None):
    if records is None:
        records = 0 if status != "200" else 1
    rows.append((t, o["id"], unit_of(o, day), action, written(subject), case, status, records))


cases = []
cid = 0


def new_case(unit, day, team):
    global cid
    cid += 1
    c = dict(id="%s/%d/%03d" % (unit.replace("DSB-", "").replace("-", ""), 26, cid), unit=unit,
             officers=team, targets=[R.choice([nid, msisdn])() for _ in range(R.randint(1, 4))],
             assoc=[], open=day, close=day + R.randint(4, 30), listed=R.random() < 0.67)
    for o in team:
        o["cases"].append(c)
    cases.append(c)
    return c


for day in range(-8, DAYS):
    for u, os_ in units.items():
        if u == "HQ-VERIFY":
            continue
        rate = 0.8 if u == "RAB-INTEL" else 0.25
        for _ in range(sum(R.random() < rate for _ in range(2))):
            staff = [o for o in officers if unit_of(o, max(day, 0)) == u]
            if staff:
                new_case(u, day, R.sample(staff, min(len(staff), R.randint(1, 3))))
    if day < 0:
        continue
    for o in officers:
        if not on_duty(o, day):
            continue
        u = unit_of(o, day)
        if o["role"] == "desk":
            for _ in range(max(0, int(R.gauss(50, 15) * min(o["rate"], 8) / 6))):
                emit(work_time(o, day), o, day, "verify_nid", nid(), "",
                     "404" if R.random() < 0.03 else "200")
            continue
        mine = [c for c in o["cases"] if c["open"] <= day <= c["close"] and c["unit"] == u]
        n = int(R.expovariate(1 / o["rate"]))
        if u.startswith("DSB-") and day in ELECTION:
            for _ in range(int(R.expovariate(1 / 12))):
                emit(work_time(o, day), o, day, "verify_nid", nid())
        for _ in range(n):
            if not mine or R.random() < 0.12:
                if R.random() < 0.5:
                    emit(work_time(o, day), o, day, "verify_nid", nid())
                continue
            c = R.choice(mine)
            case = c["id"] if R.random() < 0.9 else ""
            t = work_time(o, day)
            if c["assoc"] and R.random() < 0.3:
                s = R.choice(c["assoc"])
            elif R.random() < 0.2:
                s = R.choice([nid, msisdn])()
                c["assoc"].append(s)
            else:
                s = R.choice(c["targets"])
            status = "403" if R.random() < 0.02 else "200"
            if s.startswith("880"):
                if o["role"] == "analyst" and R.random() < 0.7 or R.random() < 0.3:
                    emit(t, o, day, "call_records", s, case, status, R.randint(3, 500) if status == "200" else 0)
                    if o["role"] == "analyst" and R.random() < 0.25:
                        emit(t + 90, o, day, "tower_location", s, case, status, R.randint(1, 40) if status == "200" else 0)
                else:
                    emit(t, o, day, "sim_owner", s, case, status)
            else:
                emit(t, o, day, "verify_nid", s, case, "404" if status == "200" and R.random() < 0.02 else status)

links = []
for c in cases:
    if not c["listed"]:
        continue
    for o in c["officers"]:
        if R.random() < 0.9:
            links.append((c["id"], "officer", o["id"]))
    for s in c["targets"] + [a for a in c["assoc"] if R.random() < 0.3]:
        links.append((c["id"], "subject", s))

vips = [nid() for _ in range(25)]
honey = [nid() for _ in range(8)]
# Persons of public life who are lawful targets of a listed case, looked up in its work.
for v in vips[:5]:
    c = R.choice([c for c in cases if c["listed"] and c["open"] >= 0 and c["unit"].startswith("DSB-")])
    links.append((c["id"], "subject", v))
    o = c["officers"][0]
    emit(work_time(o, c["open"]), o, c["open"], "verify_nid", v, c["id"])

truth = {}
used = set()


def pick(cond):
    o = R.choice([o for o in officers if o["id"] not in used and not o["leave"] and not o["moves"]
                  and o["rate"] > 1 and cond(o)])
    used.add(o["id"])
    return o


def duty_days(o, a, b):
    return [d for d in range(a, b) if not weekend(d) and d not in o["leave"]]


# 1-2. The seed pair: a district investigator and an intelligence analyst selling to one buyer,
# a rising trickle; the investigator mostly in the evening, the analyst in the unit's hours
# (after iftar in Ramadan, as the whole unit works).
a = pick(lambda o: o["unit"].startswith("DSB-"))
b = pick(lambda o: o["unit"] == "RAB-INTEL")
onset = R.randint(12, 24)
first = {}
for k, day in enumerate(duty_days(a, onset, DAYS)):
    for _ in range(1 + k // 4):
        person = nid()
        phone = msisdn()
        if R.random() < 0.7:
            t = T0 + day * 86400 + int(R.uniform(19.5, 23.5) * 3600) if R.random() < 0.6 else work_time(a, day)
            own = [c for c in a["cases"] if c["open"] <= day <= c["close"]]
            emit(t, a, day, "verify_nid", person, own[0]["id"] if own and R.random() < 0.3 else "")
            emit(t + R.randint(30, 300), a, day, "sim_owner", phone, "")
            first.setdefault(a["id"], t)
        if R.random() < 0.8:
            t = work_time(b, day)
            own = [c for c in b["cases"] if c["open"] <= day <= c["close"]]
            emit(t, b, day, "call_records", phone, own[0]["id"] if own and R.random() < 0.5 else "",
                 records=R.randint(20, 400))
            first.setdefault(b["id"], t)
for o in (a, b):
    truth[o["id"]] = dict(kind="seed_pair", onset=first[o["id"]])

# 3. Snooping on persons of public life in the election week, among the surge.
o = pick(lambda o: o["unit"].startswith("DSB-"))
ts = []
for v in R.sample(vips[5:], 3):
    d = R.choice(duty_days(o, ELECTION.start, ELECTION.stop))
    t = work_time(o, d)
    emit(t, o, d, "verify_nid", v)
    ts.append(t)
truth[o["id"]] = dict(kind="vip_snoop", onset=min(ts))

# 4. Low and slow: the officer's own volume, a third of it people no case holds.
o = pick(lambda o: o["unit"].startswith("DSB-") and o["rate"] > 3)
onset = R.randint(10, 20)
ts = []
for d in duty_days(o, onset, onset + 30):
    for _ in range(max(1, int(o["rate"] / 3))):
        t = work_time(o, d)
        emit(t, o, d, "verify_nid" if R.random() < 0.7 else "sim_owner", R.choice([nid, msisdn])())
        ts.append(t)
truth[o["id"]] = dict(kind="low_slow", onset=min(ts))

# 5. A sweep of consecutive numbers by an analyst, one afternoon at a normal pace.
o = pick(lambda o: o["unit"] == "RAB-INTEL")
d = R.choice(duty_days(o, 20, 50))
t = T0 + d * 86400 + 12 * 3600
base = R.randint(10**7, 9 * 10**7)
for k in range(250):
    t += R.randint(30, 90)
    base += 1 if R.random() < 0.85 else 2
    found = R.random() < 0.5
    emit(t, o, d, "sim_owner", "8801%d%08d" % (R.choice([7, 8, 9]), base), "",
         "200" if found else "404", 1 if found else 0)
truth[o["id"]] = dict(kind="sweep", onset=T0 + d * 86400 + 12 * 3600)

# 6. A stolen desk credential: two nights, identity lookups and call records the desk never pulls.
o = pick(lambda o: o["role"] == "desk")
d = R.choice(duty_days(o, 20, 50))
ts = []
for night in (d, d + 1):
    t = T0 + night * 86400 + 3600
    for _ in range(40):
        t += R.randint(60, 240)
        if R.random() < 0.7:
            emit(t, o, night, "verify_nid", nid())
        else:
            emit(t, o, night, "call_records", msisdn(), records=R.randint(5, 300))
        ts.append(t)
truth[o["id"]] = dict(kind="stolen", onset=min(ts))

# 7. A honeytoken, looked up once citing the officer's own case.
o = pick(lambda o: o["cases"] != [])
c = R.choice(o["cases"])
d = max(0, c["open"])
while weekend(d) or d in o["leave"]:
    d += 1
t = work_time(o, d)
emit(t, o, d, "verify_nid", R.choice(honey), c["id"])
truth[o["id"]] = dict(kind="honeytoken", onset=t)

# 8. A prober: call records of numbers no warrant covers, refused, in one day.
o = pick(lambda o: o["unit"].startswith("DSB-") and o["cases"] != [])
d = R.choice(duty_days(o, 15, 50))
ts = []
for _ in range(12):
    t = work_time(o, d)
    emit(t, o, d, "call_records", msisdn(), R.choice(o["cases"])["id"], "403", 0)
    ts.append(t)
truth[o["id"]] = dict(kind="prober", onset=min(ts))

rows.sort()


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


with open(os.path.join(out, "log.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["time", "officer", "unit", "action", "subject", "case", "outcome", "records"])
    for r in rows:
        w.writerow((iso(r[0]),) + r[1:])
with open(os.path.join(out, "log.jsonl"), "w") as f:
    for i, r in enumerate(rows):
        f.write(json.dumps(dict(id=i, officer=r[1], action=r[3], subject=r[4], time=iso(r[0]), unit=r[2],
                                case=r[5] or None, outcome=r[6], records=r[7])) + "\n")
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
