#!/usr/bin/env python3
"""A fifth access-log generator, of yet another agency: a telecom operator's lawful-request
portal used by officers of many agencies. Written to test `custos analyze` on a shape it was
not built on, not to tune it; normal work and abuse differ from the simulator's and the other
three generators'.

What differs: officers' activity is heavy-tailed (a few power users pull hundreds a day, most
a handful); joint task forces whose cases are worked by officers of several units (so
colleagues in different units pull the same people); a duty-officer roster that puts each
investigator on one night in ten; tower-dump follow-ups, where a case's analyst checks the
owners of 40-150 numbers once each in an afternoon, under the case; warrants that lapse, so
ordinary officers meet a few refusals in a row; actions and outcomes in the portal's own
words (`Subscriber Info`, `CDR Request`, `SUCCESS`, `NO_RECORD`, `DENIED`); a case file that
lists four cases in five. Abuse adds a first-time action (an identity desk that starts pulling
call records), a departing officer's last fortnight, and a random-number sweep at night.

Usage: generate.py DIR SEED. Writes log.csv (the issue's columns, times with +06:00),
log_portal.jsonl (the same rows in the portal's own field names, unix seconds), cases.csv,
watch.csv and truth.json in the form scripts/altgen/score.py reads."""
import csv, datetime, json, math, os, random, sys

out = sys.argv[1]
seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
R = random.Random(5000 + seed)
os.makedirs(out, exist_ok=True)
DAYS = 49
TZ = datetime.timezone(datetime.timedelta(hours=6))
T0 = int(datetime.datetime(2026, 9, 6, tzinfo=TZ).timestamp())  # a Sunday
DUMPS = float(os.environ.get("GEN5_DUMPS", "0.15"))  # share of cases with a tower dump
HOLIDAYS = {R.randint(10, 40)}
HOLIDAYS |= {min(HOLIDAYS) + 1}


def off_day(day):
    return day % 7 in (5, 6) or day in HOLIDAYS  # Friday, Saturday, holidays


def nid():
    return str(R.randint(10**9, 10**10 - 1)) if R.random() < 0.8 else str(R.randint(10**12, 10**13 - 1))


def msisdn():
    return "+8801" + str(R.choice([3, 4, 5, 6, 7, 8, 9])) + "%08d" % R.randint(0, 10**8 - 1)


AGENCIES = {"CTTC": ("investigator", 14), "DB-DMP": ("investigator", 22), "CID-CYBER": ("analyst", 10),
            "RAB-3": ("investigator", 12), "RAB-7": ("investigator", 9), "NSI-TECH": ("analyst", 8),
            "SB-IMMIG": ("desk", 6), "PBI": ("investigator", 11), "DMP-TRAFFIC": ("desk", 5)}
officers = []
for unit, (role, n) in AGENCIES.items():
    for i in range(n):
        o = dict(id="%s_%02d" % (unit.lower().replace("-", ""), i + 1), unit=unit, role=role,
                 rate=min(150.0, math.exp(R.gauss(math.log(4), 1.0))), cases=[], start=0, end=DAYS,
                 duty=R.randrange(10), start_h=R.choice([8, 9, 9, 9, 10]))
        if R.random() < 0.06:
            o["start"] = R.randint(10, 30)  # a new hire
        officers.append(o)
by_unit = {u: [o for o in officers if o["unit"] == u] for u in AGENCIES}

rows = []
WORDS = {"identity": "NID Verification", "subscriber": "Subscriber Info", "cdr": "CDR Request",
         "location": "Location Request"}


def emit(t, o, what, subject, case="", outcome="SUCCESS", records=None):
    if records is None:
        records = 1 if outcome == "SUCCESS" else 0
    rows.append((int(t), o["id"], o["unit"], WORDS[what], subject, case, outcome, records))


def at(day, h):
    return T0 + day * 86400 + int(h * 3600)


def office_time(o, day):
    return at(day, R.uniform(o["start_h"], o["start_h"] + 8.5) if R.random() < 0.95 else R.uniform(17.5, 20))


def working(o, day):
    return o["start"] <= day < o["end"] and not off_day(day) and R.random() < 0.9


cases = []


def new_case(units, day):
    team = []
    for u in units:
        staff = [o for o in by_unit[u] if o["role"] != "desk" and o["start"] <= max(day, 0)]
        team += R.sample(staff, min(len(staff), R.randint(1, 3)))
    c = dict(id="%s-%d-%04d" % (units[0], 2026, len(cases) + 101), units=units, officers=team,
             targets=[R.choice([nid, msisdn])() for _ in range(R.randint(2, 8))], assoc=[],
             open=day, close=day + R.randint(5, 35), listed=R.random() < 0.8, dump=R.random() < DUMPS)
    for o in team:
        o["cases"].append(c)
    cases.append(c)


investigative = [u for u, (r, _) in AGENCIES.items() if r != "desk"]
for day in range(-10, DAYS):
    for u in investigative:
        if R.random() < 0.35:
            new_case([u], day)
    if R.random() < 0.12:  # a joint task force across agencies
        new_case(R.sample(investigative, R.randint(2, 3)), day)
    if day < 0:
        continue
    for o in officers:
        if o["role"] == "desk":
            if working(o, day):
                for _ in range(int(R.gauss(25, 6) * min(o["rate"], 10) / 4)):
                    emit(office_time(o, day), o, "identity", nid(), "",
                         "NO_RECORD" if R.random() < 0.04 else "SUCCESS")
            continue
        mine = [c for c in o["cases"] if c["open"] <= day <= c["close"]]
        night = o["role"] == "investigator" and day % 10 == o["duty"] and o["start"] <= day < o["end"]
        if not working(o, day) and not night:
            continue
        n = int(R.expovariate(1 / o["rate"])) + (R.randint(2, 6) if night else 0)
        lapsed = R.random() < 0.03  # a warrant lapsed: the day's first pulls are refused
        for k in range(n):
            if not mine:
                if R.random() < 0.3:
                    emit(office_time(o, day), o, "identity", nid())
                continue
            c = R.choice(mine)
            t = at(day, R.uniform(20, 30)) if night and k < 4 else office_time(o, day)
            if c["dump"] and o["role"] == "analyst" and R.random() < 0.05 and not c.get("dumped"):
                c["dumped"] = True  # the owners of a tower dump's numbers, once each
                for _ in range(R.randint(40, 150)):
                    t += R.randint(20, 120)
                    emit(t, o, "subscriber", msisdn(), c["id"], "SUCCESS" if R.random() < 0.85 else "NO_RECORD")
                continue
            if c["assoc"] and R.random() < 0.35:
                s = R.choice(c["assoc"])
            elif R.random() < 0.2:
                s = R.choice([nid, msisdn])()
                c["assoc"].append(s)
            else:
                s = R.choice(c["targets"])
            case = c["id"] if R.random() < 0.85 else ""
            outcome = "DENIED" if lapsed and k < 3 or R.random() < 0.01 else "SUCCESS"
            if s.startswith("+"):
                what = R.choices(["subscriber", "cdr", "location"], [0.4, 0.45, 0.15])[0]
                recs = {"subscriber": 1, "cdr": R.randint(5, 800), "location": R.randint(1, 60)}[what]
                emit(t, o, what, s, case, outcome, recs if outcome == "SUCCESS" else 0)
            else:
                emit(t, o, "identity", s, case, outcome)

links = []
for c in cases:
    if not c["listed"]:
        continue
    for o in c["officers"]:
        links.append((c["id"], "officer", o["id"]))
    for s in c["targets"] + [a for a in c["assoc"] if R.random() < 0.5]:
        links.append((c["id"], "subject", s))

vips = [nid() for _ in range(30)]
honey = [nid() for _ in range(6)] + [msisdn() for _ in range(4)]
truth = {}
used = set()


def pick(cond):
    o = R.choice([o for o in officers if o["id"] not in used and o["start"] == 0 and 1.5 < o["rate"] < 40
                  and cond(o)])
    used.add(o["id"])
    return o


def days_of(o, a, b):
    return [d for d in range(a, min(b, DAYS)) if not off_day(d)]


def own_case(o, day):
    mine = [c for c in o["cases"] if c["open"] <= day <= c["close"]]
    return R.choice(mine)["id"] if mine else ""


# 1-2. The seed pair: an investigator and an analyst of other agencies, one buyer's list, a
# rising trickle; the investigator late in the evening, the analyst during the day; half the
# time they cite a case of their own the person is not in.
a = pick(lambda o: o["role"] == "investigator")
b = pick(lambda o: o["role"] == "analyst")
onset = R.randint(10, 22)
first = {}
for k, day in enumerate(days_of(a, onset, DAYS)):
    for _ in range(1 + k // 3):
        person, phone = nid(), msisdn()
        who = R.choice([(a,), (b,), (a, b)])
        for o in who:
            t = at(day, R.uniform(20, 23.5)) if o is a and R.random() < 0.6 else office_time(o, day)
            case = own_case(o, day) if R.random() < 0.5 else ""
            if o is a:
                emit(t, o, "identity", person, case)
                emit(t + R.randint(40, 400), o, "subscriber", phone, case)
            else:
                emit(t, o, "cdr", phone, case, records=R.randint(10, 600))
            first.setdefault(o["id"], t)
for o in (a, b):
    truth[o["id"]] = dict(kind="seed_pair", onset=first[o["id"]])

# 3. Snooping on watch-listed persons (journalists, politicians) under the officer's own case.
o = pick(lambda o: o["cases"])
ts = []
for v in R.sample(vips, 4):
    d = R.choice(days_of(o, 8, DAYS))
    t = office_time(o, d)
    emit(t, o, "identity", v, own_case(o, d))
    ts.append(t)
truth[o["id"]] = dict(kind="vip_snoop", onset=min(ts))

# 4. Low and slow: two people a day no case holds, in office hours, citing the officer's case.
o = pick(lambda o: o["role"] == "investigator" and o["rate"] > 3)
ts = []
for d in days_of(o, R.randint(8, 15), DAYS):
    for _ in range(2):
        t = office_time(o, d)
        emit(t, o, "identity" if R.random() < 0.6 else "subscriber", R.choice([nid, msisdn])(), own_case(o, d))
        ts.append(t)
truth[o["id"]] = dict(kind="low_slow", onset=min(ts))

# 5. A sweep of random numbers one night, most finding no one.
o = pick(lambda o: o["role"] != "desk")
d = R.choice(days_of(o, 15, DAYS - 2))
t = at(d, 22.5)
for _ in range(R.randint(120, 300)):
    t += R.randint(10, 60)
    hit = R.random() < 0.35
    emit(t, o, "subscriber", msisdn(), "", "SUCCESS" if hit else "NO_RECORD")
truth[o["id"]] = dict(kind="sweep", onset=at(d, 22.5))

# 6. A stolen credential: three nights between two and four, identity and call records.
o = pick(lambda o: o["role"] == "investigator")
d = R.choice(days_of(o, 15, DAYS - 4))
ts = []
for night in (d, d + 1, d + 2):
    t = at(night, 2)
    for _ in range(R.randint(15, 30)):
        t += R.randint(60, 300)
        if R.random() < 0.5:
            emit(t, o, "identity", nid())
        else:
            emit(t, o, "cdr", msisdn(), records=R.randint(5, 300))
        ts.append(t)
truth[o["id"]] = dict(kind="stolen", onset=min(ts))

# 7. A honeytoken pulled once, as call records, under the officer's own case.
o = pick(lambda o: o["cases"] and o["role"] != "desk")
d = R.choice(days_of(o, 10, DAYS))
t = office_time(o, d)
emit(t, o, "cdr", R.choice(honey[6:]), own_case(o, d), records=R.randint(5, 90))
truth[o["id"]] = dict(kind="honeytoken", onset=t)

# 8. A prober: refusals across actions over two days.
o = pick(lambda o: o["role"] == "investigator" and o["cases"])
d = R.choice(days_of(o, 12, DAYS - 2))
ts = []
for day in (d, d + 1):
    for _ in range(R.randint(10, 16)):
        t = office_time(o, day)
        what = R.choice(["identity", "cdr", "location"])
        emit(t, o, what, nid() if what == "identity" else msisdn(), own_case(o, day), "DENIED", 0)
        ts.append(t)
truth[o["id"]] = dict(kind="prober", onset=min(ts))

# 9. A first-time action: an immigration desk officer who never pulled call records starts to,
# a few a day in office hours.
o = pick(lambda o: o["unit"] == "SB-IMMIG")
ts = []
for d in days_of(o, R.randint(15, 30), DAYS)[:12]:
    for _ in range(R.randint(2, 5)):
        t = office_time(o, d)
        emit(t, o, "cdr", msisdn(), "", records=R.randint(5, 300))
        ts.append(t)
truth[o["id"]] = dict(kind="first_time", onset=min(ts))

# 10. A departing officer: the last fortnight before leaving, three times the usual volume, most
# of it people no case holds, in office hours; then the account goes quiet.
o = pick(lambda o: o["role"] != "desk" and o["rate"] > 2)
leave = R.randint(35, DAYS - 1)
o["end"] = leave
rows[:] = [r for r in rows if not (r[1] == o["id"] and r[0] >= at(leave, 0))]
ts = []
for d in days_of(o, leave - 14, leave):
    for _ in range(int(2 * o["rate"]) + 2):
        t = office_time(o, d)
        emit(t, o, R.choice(["identity", "subscriber", "cdr"]), R.choice([nid, msisdn])(), "",
             records=R.randint(1, 200))
        ts.append(t)
truth[o["id"]] = dict(kind="departing", onset=min(ts))

rows.sort()


def iso(t):
    return datetime.datetime.fromtimestamp(t, TZ).isoformat()


with open(os.path.join(out, "log.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["time", "officer", "unit", "action", "subject", "case", "outcome", "records"])
    for r in rows:
        w.writerow((iso(r[0]),) + r[1:])
with open(os.path.join(out, "log_portal.jsonl"), "w") as f:
    for i, r in enumerate(rows):
        f.write(json.dumps({"request_no": 900000 + i, "timestamp": r[0], "user_id": r[1], "agency": r[2],
                            "request_type": r[3], "target": r[4], "case_ref": r[5], "status": r[6],
                            "rows_returned": r[7]}) + "\n")
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
