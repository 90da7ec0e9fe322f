//! A deterministic simulator of an agency's access log, with planted abuse and ground truth.
//!
//! Normal work: units of officers with roles and shifts (day, evening, night), the
//! Bangladeshi Friday–Saturday weekend and public holidays, cases that bring lookups of
//! suspects and associates over days and warranted call-record pulls, desk officers' routine
//! ID checks, incomplete case records (associates missing from the case file), a unit-wide
//! surge after an incident, new hires and leave.
//!
//! Planted abuse (each insider labelled with its scenario and onset): the seed case (two
//! officers of one anti-terrorism unit with a rising trickle of unexplained ID and CDR
//! lookups, often after hours), two colluding officers in different units serving one buyer,
//! snooping on watch-listed persons, low-and-slow mimicry of normal volume, a one-night sweep
//! of enumerated IDs, a stolen credential used at night, and a policy prober.
//!
//! Pure: it returns values; the caller writes files. Deterministic for a seed.

use custos_detect::input::{Action, CaseLinks, WatchLabel};
use custos_detect::Event;

/// SplitMix64.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seeded generator.
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }
    /// Next 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Bernoulli.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    /// Poisson(λ) by inversion (small λ) or normal approximation.
    pub fn poisson(&mut self, lambda: f64) -> u64 {
        if lambda <= 0.0 {
            return 0;
        }
        if lambda > 30.0 {
            let z = (-2.0 * self.unit().max(1e-12).ln()).sqrt()
                * (2.0 * std::f64::consts::PI * self.unit()).cos();
            return (lambda + z * lambda.sqrt()).round().max(0.0) as u64;
        }
        let l = (-lambda).exp();
        let (mut k, mut p) = (0u64, 1.0);
        loop {
            p *= self.unit();
            if p <= l {
                return k;
            }
            k += 1;
        }
    }
    /// Pick from a slice.
    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
}

/// A synthetic citizen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Citizen {
    /// 10-digit smart-card NID (or 13/17-digit old form for some).
    pub nid: String,
    /// Registered mobile number, `8801XXXXXXXXX`.
    pub msisdn: String,
}

/// Officer roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Works cases: identity and call records.
    Investigator,
    /// Telecom-monitoring analyst: call records for cases.
    Analyst,
    /// Desk officer: routine ID checks.
    Desk,
    /// Supervisor: light case work.
    Supervisor,
}

/// A simulated officer.
#[derive(Debug, Clone)]
pub struct SimOfficer {
    /// Account ID.
    pub id: String,
    /// Unit.
    pub unit: String,
    /// Role.
    pub role: Role,
    /// Shift start hour (local).
    pub shift_start: u8,
    /// First working day (new hires start later).
    pub start_day: u32,
    /// Days on leave.
    pub leave: Option<(u32, u32)>,
}

/// Ground truth for one insider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Insider {
    /// Officer account.
    pub officer: String,
    /// Scenario name.
    pub scenario: &'static str,
    /// Unix time of the first abusive access.
    pub onset: i64,
}

/// A record an insider pulled to sell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeakedRecord {
    /// The insider.
    pub officer: String,
    /// Identifier pulled (NID or MSISDN).
    pub subject: String,
    /// When.
    pub time: i64,
}

/// The simulated world and its log.
#[derive(Debug, Clone)]
pub struct World {
    /// Citizens.
    pub citizens: Vec<Citizen>,
    /// Officers.
    pub officers: Vec<SimOfficer>,
    /// Access events in time order.
    pub events: Vec<Event>,
    /// Case links as an agency would export them (incomplete on purpose).
    pub cases: CaseLinks,
    /// Watch list.
    pub watch: Vec<(String, WatchLabel)>,
    /// Planted insiders.
    pub insiders: Vec<Insider>,
    /// Records the sellers pulled to sell: officer, identifier pulled, unix time.
    pub leaked: Vec<LeakedRecord>,
    /// Days simulated.
    pub days: u32,
}

/// Simulation size.
#[derive(Debug, Clone, Copy)]
pub struct Params {
    /// Seed.
    pub seed: u64,
    /// Citizens (at least one: fewer are taken as one).
    pub citizens: usize,
    /// Officers (at least one).
    pub officers: usize,
    /// Days (at least one).
    pub days: u32,
}

impl Default for Params {
    fn default() -> Self {
        Self { seed: 1, citizens: 50_000, officers: 240, days: 60 }
    }
}

const OFFSET: i32 = 6 * 3600; // Asia/Dhaka
/// 2026-01-04 00:00 in Dhaka (a Sunday, the first working day of the week).
pub const EPOCH_LOCAL: i64 = 1_767_484_800 - 6 * 3600;
const UNITS: [&str; 10] =
    ["ATU", "RAB-1", "RAB-4", "DB-DMP", "CID", "SB", "NTMC", "DP-Sylhet", "DP-Khulna", "DP-Rajshahi"];
const OPERATORS: [&str; 7] = ["13", "14", "15", "16", "17", "18", "19"];
/// Public holidays in the simulated period (day numbers from the epoch).
const HOLIDAYS: [u32; 4] = [11, 44, 45, 70];

fn citizen(rng: &mut Rng, i: usize) -> Citizen {
    let nid = if i.is_multiple_of(20) {
        // Old 17-digit form: birth year + 13 digits.
        format!("19{:02}{:013}", 50 + rng.below(50), rng.below(10_000_000_000_000))
    } else {
        format!("{}{:09}", 1 + rng.below(9), rng.below(1_000_000_000))
    };
    let msisdn = format!("880{}{:08}", rng.pick(&OPERATORS), rng.below(100_000_000));
    let _ = i;
    Citizen { nid, msisdn }
}

struct Builder {
    rng: Rng,
    p: Params,
    world: World,
    case_seq: u32,
}

impl Builder {
    fn t(day: u32, hour: f64) -> i64 {
        EPOCH_LOCAL + i64::from(day) * 86_400 + (hour * 3600.0) as i64
    }

    #[expect(clippy::too_many_arguments, reason = "one field per access-log column")]
    fn push(
        &mut self,
        o: usize,
        t: i64,
        action: Action,
        subject: &str,
        case: &str,
        allowed: bool,
        records: u64,
    ) {
        let off = &self.world.officers[o];
        self.world.events.push(Event {
            time: t,
            offset: OFFSET,
            officer: off.id.clone(),
            unit: off.unit.clone(),
            action,
            subject: subject.to_string(),
            case: case.to_string(),
            allowed,
            records,
        });
    }

    fn working(&self, o: usize, day: u32) -> bool {
        let off = &self.world.officers[o];
        if day < off.start_day {
            return false;
        }
        if let Some((a, b)) = off.leave {
            if day >= a && day < b {
                return false;
            }
        }
        let weekday = (day + 6) % 7; // epoch is a Sunday; 0 = Monday
        let weekend = weekday == 4 || weekday == 5; // Friday, Saturday
        let holiday = HOLIDAYS.contains(&day);
        // Night and monitoring shifts run every day with a rota.
        if off.shift_start >= 20 || off.unit == "NTMC" {
            return (day + o as u32) % 7 < 5;
        }
        !(weekend || holiday)
    }

    fn shift_hour(&mut self, o: usize) -> f64 {
        let s = f64::from(self.world.officers[o].shift_start);
        (s + 0.25 + self.rng.unit() * 8.5) % 24.0
    }

    /// A citizen from the general population (watch-listed ones are never drawn at random).
    fn random_citizen(&mut self) -> usize {
        self.rng.below(self.p.citizens as u64) as usize
    }

    /// Add a citizen outside the general population (VIPs, honeytokens).
    fn extra_citizen(&mut self) -> usize {
        let i = self.world.citizens.len();
        let c = citizen(&mut self.rng, i);
        self.world.citizens.push(c);
        i
    }

    fn build_officers(&mut self) {
        let n = self.p.officers;
        for i in 0..n {
            let unit = UNITS[i % UNITS.len()];
            let r = self.rng.below(10);
            let role = if unit == "NTMC" {
                if r < 8 {
                    Role::Analyst
                } else {
                    Role::Supervisor
                }
            } else if unit.starts_with("DP-") {
                if r < 5 {
                    Role::Desk
                } else if r < 9 {
                    Role::Investigator
                } else {
                    Role::Supervisor
                }
            } else if r < 7 {
                Role::Investigator
            } else if r < 9 {
                Role::Desk
            } else {
                Role::Supervisor
            };
            let shift_start = match (role, self.rng.below(10)) {
                (Role::Analyst | Role::Desk, 0..=2) => 22,
                (Role::Analyst | Role::Desk, 3..=4) => 14,
                _ => 8 + self.rng.below(2) as u8,
            };
            let start_day = if self.rng.chance(0.05) {
                10 + self.rng.below(u64::from(self.p.days / 2)) as u32
            } else {
                0
            };
            let leave = if self.rng.chance(0.25) {
                let a = self.rng.below(u64::from(self.p.days)) as u32;
                Some((a, a + 4 + self.rng.below(8) as u32))
            } else {
                None
            };
            self.world.officers.push(SimOfficer {
                id: format!("OFF-{:04}", 1000 + i),
                unit: unit.to_string(),
                role,
                shift_start,
                start_day,
                leave,
            });
        }
    }

    /// Cases: each brings suspects and associates, lookups over days and CDR pulls.
    fn normal_work(&mut self) {
        let days = self.p.days;
        let n = self.world.officers.len();
        // Active cases per unit.
        struct Case {
            id: String,
            unit: String,
            officers: Vec<usize>,
            subjects: Vec<usize>,
            start: u32,
            end: u32,
        }
        let mut cases: Vec<Case> = Vec::new();
        let surge_unit = UNITS[(self.rng.below(3) + 1) as usize];
        let surge_day = days / 3 + self.rng.below(u64::from(days / 3)) as u32;
        for day in 0..days {
            // New cases.
            for unit in UNITS {
                let members: Vec<usize> = (0..n)
                    .filter(|&o| {
                        self.world.officers[o].unit == unit
                            && matches!(
                                self.world.officers[o].role,
                                Role::Investigator | Role::Analyst | Role::Supervisor
                            )
                    })
                    .collect();
                if members.is_empty() {
                    continue;
                }
                let surge = unit == surge_unit && day >= surge_day && day < surge_day + 4;
                let rate = members.len() as f64 / 12.0 * if surge { 4.0 } else { 1.0 };
                for _ in 0..self.rng.poisson(rate) {
                    self.case_seq += 1;
                    let k = 1 + self.rng.below(3) as usize;
                    let mut os = Vec::new();
                    for _ in 0..k {
                        let o = *self.rng.pick(&members);
                        if !os.contains(&o) {
                            os.push(o);
                        }
                    }
                    let ns = 2 + self.rng.below(8) as usize;
                    let subjects: Vec<usize> = (0..ns).map(|_| self.random_citizen()).collect();
                    let id = format!("CASE-{}-{:05}", unit, self.case_seq);
                    cases.push(Case {
                        id,
                        unit: unit.to_string(),
                        officers: os,
                        subjects,
                        start: day,
                        end: day + 5 + self.rng.below(25) as u32,
                    });
                }
            }
            // Work on open cases.
            #[expect(clippy::needless_range_loop, reason = "cases[ci] grows inside while self is borrowed")]
            for ci in 0..cases.len() {
                if day < cases[ci].start || day > cases[ci].end {
                    continue;
                }
                let ofs = cases[ci].officers.clone();
                for &o in &ofs {
                    if !self.working(o, day) || !self.rng.chance(0.6) {
                        continue;
                    }
                    let k = self.rng.poisson(4.0);
                    for _ in 0..k {
                        let s = *self.rng.pick(&cases[ci].subjects);
                        let h = self.shift_hour(o);
                        let t = Self::t(day, h);
                        let cid = cases[ci].id.clone();
                        let role = self.world.officers[o].role;
                        let c = self.world.citizens[s].clone();
                        if role == Role::Analyst || self.rng.chance(0.3) {
                            let recs = 20 + self.rng.below(200);
                            self.push(o, t, Action::CdrQuery, &c.msisdn, &cid, true, recs);
                        } else {
                            self.push(o, t, Action::IdentityLookup, &c.nid, &cid, true, 1);
                        }
                    }
                    // Associates discovered through call records join the case.
                    if self.rng.chance(0.15) {
                        let a = self.random_citizen();
                        cases[ci].subjects.push(a);
                    }
                }
            }
            // Desk officers: routine ID checks without a case.
            for o in 0..n {
                if self.world.officers[o].role != Role::Desk || !self.working(o, day) {
                    continue;
                }
                let k = self.rng.poisson(18.0);
                for _ in 0..k {
                    let s = self.random_citizen();
                    let t = Self::t(day, self.shift_hour(o));
                    let nid = self.world.citizens[s].nid.clone();
                    let found = self.rng.chance(0.97);
                    self.push(o, t, Action::IdentityLookup, &nid, "", true, u64::from(found));
                }
                // Occasional mistaken request that the policy refuses.
                if self.rng.chance(0.05) {
                    let s = self.random_citizen();
                    let t = Self::t(day, self.shift_hour(o));
                    let m = self.world.citizens[s].msisdn.clone();
                    self.push(o, t, Action::CdrQuery, &m, "", false, 0);
                }
            }
            // Supervisors and investigators: a few lookups of other cases in their unit
            // (explained by the unit's cases), and rare typos.
            let mut open_by_unit: std::collections::HashMap<String, Vec<usize>> =
                std::collections::HashMap::new();
            for (c, case) in cases.iter().enumerate() {
                if case.start <= day && day <= case.end {
                    open_by_unit.entry(case.unit.clone()).or_default().push(c);
                }
            }
            for o in 0..n {
                if !self.working(o, day) || self.world.officers[o].role == Role::Desk {
                    continue;
                }
                if self.rng.chance(0.3) {
                    let open = open_by_unit.get(&self.world.officers[o].unit).cloned().unwrap_or_default();
                    if !open.is_empty() {
                        let c = *self.rng.pick(&open);
                        let s = *self.rng.pick(&cases[c].subjects);
                        let t = Self::t(day, self.shift_hour(o));
                        let nid = self.world.citizens[s].nid.clone();
                        let cid = cases[c].id.clone();
                        self.push(o, t, Action::IdentityLookup, &nid, &cid, true, 1);
                    }
                }
                if self.rng.chance(0.03) {
                    let t = Self::t(day, self.shift_hour(o));
                    let bogus = format!("{}", 1_000_000_000 + self.rng.below(8_999_999_999));
                    self.push(o, t, Action::IdentityLookup, &bogus, "", true, 0);
                }
            }
        }
        // The case file an agency exports: officers, and subjects — but 20% of subjects
        // (associates added later) never made it into the record.
        for c in &cases {
            for &o in &c.officers {
                self.world.cases.officers.push((c.id.clone(), self.world.officers[o].id.clone()));
            }
            for (k, &s) in c.subjects.iter().enumerate() {
                if k >= 2 && self.rng.chance(0.2) {
                    continue;
                }
                let cz = &self.world.citizens[s];
                self.world.cases.subjects.push((c.id.clone(), cz.nid.clone()));
                self.world.cases.subjects.push((c.id.clone(), cz.msisdn.clone()));
            }
        }
    }

    fn pick_officer(&mut self, unit: Option<&str>, roles: &[Role], taken: &[usize]) -> usize {
        let cands: Vec<usize> = (0..self.world.officers.len())
            .filter(|&o| {
                let off = &self.world.officers[o];
                unit.is_none_or(|u| off.unit == u)
                    && roles.contains(&off.role)
                    && off.start_day == 0
                    && off.leave.is_none()
                    && !taken.contains(&o)
            })
            .collect();
        if cands.is_empty() {
            return self.rng.below(self.world.officers.len() as u64) as usize;
        }
        *self.rng.pick(&cands)
    }

    fn leak(&mut self, o: usize, subject: String, time: i64) {
        let officer = self.world.officers[o].id.clone();
        self.world.leaked.push(LeakedRecord { officer, subject, time });
    }

    fn insider(&mut self, o: usize, scenario: &'static str, onset: i64) {
        let officer = self.world.officers[o].id.clone();
        match self.world.insiders.iter_mut().find(|i| i.officer == officer) {
            Some(i) => i.onset = i.onset.min(onset),
            None => self.world.insiders.push(Insider { officer, scenario, onset }),
        }
    }

    fn abuse(&mut self) {
        let days = self.p.days;
        let mut taken: Vec<usize> = Vec::new();
        // VIPs and honeytokens.
        let vips: Vec<usize> = (0..12).map(|_| self.extra_citizen()).collect();
        for &v in &vips {
            let c = self.world.citizens[v].clone();
            self.world.watch.push((c.nid, WatchLabel::Vip));
            self.world.watch.push((c.msisdn, WatchLabel::Vip));
        }
        let honey: Vec<usize> = (0..8).map(|_| self.extra_citizen()).collect();
        for &h in &honey {
            let c = self.world.citizens[h].clone();
            self.world.watch.push((c.nid, WatchLabel::Honeytoken));
            self.world.watch.push((c.msisdn, WatchLabel::Honeytoken));
        }

        // 1. The seed case: two ATU officers, a rising trickle, often after hours.
        let onset_day = days / 3;
        for k in 0..2 {
            let o = self.pick_officer(Some("ATU"), &[Role::Investigator, Role::Supervisor], &taken);
            taken.push(o);
            let mut first = i64::MAX;
            for day in onset_day..days {
                let progress = f64::from(day - onset_day) / f64::from(days - onset_day);
                let n = self.rng.poisson(1.5 + 5.0 * progress);
                for _ in 0..n {
                    let s = self.random_citizen();
                    let late = self.rng.chance(0.55);
                    let h = if late { 21.0 + self.rng.unit() * 5.0 } else { self.shift_hour(o) };
                    let t = Self::t(day, h % 24.0);
                    let c = self.world.citizens[s].clone();
                    let subject = if self.rng.chance(0.5) {
                        self.push(o, t, Action::IdentityLookup, &c.nid, "", true, 1);
                        c.nid.clone()
                    } else {
                        let recs = 30 + self.rng.below(200);
                        self.push(o, t, Action::CdrQuery, &c.msisdn, "", true, recs);
                        c.msisdn.clone()
                    };
                    self.leak(o, subject, t);
                    first = first.min(t);
                }
            }
            let _ = k;
            if first < i64::MAX {
                self.insider(o, "seed_case_pair", first);
            }
        }
        // 2. Two colluding officers in different units serving one buyer: the same targets.
        let a = self.pick_officer(Some("RAB-4"), &[Role::Investigator], &taken);
        taken.push(a);
        let b = self.pick_officer(Some("NTMC"), &[Role::Analyst], &taken);
        taken.push(b);
        let start = days / 2;
        let mut first = (i64::MAX, i64::MAX);
        for day in start..days {
            if !self.rng.chance(0.5) {
                continue;
            }
            let targets: Vec<usize> = (0..1 + self.rng.below(3)).map(|_| self.random_citizen()).collect();
            for &s in &targets {
                let c = self.world.citizens[s].clone();
                // The buyer sends phone numbers: one officer finds the owner, the other pulls
                // the calls.
                let ta = Self::t(day, self.shift_hour(a));
                self.push(a, ta, Action::SubscriberLookup, &c.msisdn, "", true, 1);
                let tb = ta + 3600 * (1 + self.rng.below(20) as i64);
                let recs = 40 + self.rng.below(100);
                self.push(b, tb, Action::CdrQuery, &c.msisdn, "", true, recs);
                self.leak(a, c.msisdn.clone(), ta);
                self.leak(b, c.msisdn.clone(), tb);
                first = (first.0.min(ta), first.1.min(tb));
            }
        }
        self.insider(a, "colluding_pair", first.0);
        self.insider(b, "colluding_pair", first.1);
        // 3. Snooping on watch-listed persons.
        let o = self.pick_officer(None, &[Role::Investigator, Role::Desk], &taken);
        taken.push(o);
        let mut first = i64::MAX;
        for k in 0..4u32 {
            let day = days / 4 + k * 6;
            if day >= days {
                break;
            }
            let v = vips[k as usize % vips.len()];
            let t = Self::t(day, self.shift_hour(o));
            let nid = self.world.citizens[v].nid.clone();
            self.push(o, t, Action::IdentityLookup, &nid, "", true, 1);
            first = first.min(t);
        }
        self.insider(o, "vip_snooping", first);
        // 4. Low-and-slow: normal volume, a couple of unexplained lookups most days.
        let o = self.pick_officer(None, &[Role::Investigator], &taken);
        taken.push(o);
        let mut first = i64::MAX;
        for day in days / 5..days {
            if !self.working(o, day) {
                continue;
            }
            for _ in 0..self.rng.poisson(1.2) {
                let s = self.random_citizen();
                let t = Self::t(day, self.shift_hour(o));
                let nid = self.world.citizens[s].nid.clone();
                self.push(o, t, Action::IdentityLookup, &nid, "", true, 1);
                self.leak(o, nid, t);
                first = first.min(t);
            }
        }
        self.insider(o, "low_and_slow", first);
        // 5. One-night sweep of consecutive IDs.
        let o = self.pick_officer(None, &[Role::Desk, Role::Investigator], &taken);
        taken.push(o);
        let day = 2 * days / 3;
        let pick = self.random_citizen();
        let base: u64 = self.world.citizens[pick].nid.parse().unwrap_or(1_234_567_000);
        let nids: std::collections::HashSet<String> =
            self.world.citizens.iter().map(|c| c.nid.clone()).collect();
        let mut first = i64::MAX;
        for k in 0..300u64 {
            let t = Self::t(day, 23.0) + (k as i64) * 20;
            let id = (base + k).to_string();
            let found = nids.contains(&id);
            self.push(o, t, Action::IdentityLookup, &id, "", true, u64::from(found));
            first = first.min(t);
        }
        self.insider(o, "night_sweep", first);
        // 6. A stolen credential used at night for a few days.
        let o = self.pick_officer(None, &[Role::Investigator, Role::Analyst], &taken);
        taken.push(o);
        let mut first = i64::MAX;
        for day in (3 * days / 4)..(3 * days / 4 + 3).min(days) {
            for _ in 0..(8 + self.rng.below(10)) {
                let s = self.random_citizen();
                let t = Self::t(day, 1.0 + self.rng.unit() * 3.0);
                let c = self.world.citizens[s].clone();
                if self.rng.chance(0.5) {
                    self.push(o, t, Action::IdentityLookup, &c.nid, "", true, 1);
                } else {
                    self.push(o, t, Action::CdrQuery, &c.msisdn, "", true, 50);
                }
                first = first.min(t);
            }
        }
        self.insider(o, "stolen_credential", first);
        // 7. A policy prober: requests outside their warrants and cases, mostly denied; one
        // touches a honeytoken.
        let o = self.pick_officer(None, &[Role::Investigator, Role::Desk], &taken);
        taken.push(o);
        let mut first = i64::MAX;
        for day in (days / 2)..(days / 2 + 4).min(days) {
            for _ in 0..(6 + self.rng.below(8)) {
                let s = self.random_citizen();
                let t = Self::t(day, self.shift_hour(o));
                let m = self.world.citizens[s].msisdn.clone();
                self.push(o, t, Action::CdrQuery, &m, "CASE-OTHER-UNIT", false, 0);
                first = first.min(t);
            }
        }
        let h = honey[0];
        let t = Self::t(days / 2 + 1, self.shift_hour(o));
        let nid = self.world.citizens[h].nid.clone();
        self.push(o, t, Action::IdentityLookup, &nid, "", true, 1);
        self.insider(o, "policy_prober", first);
        // 8. Following one person no case holds (a former partner's phone): where it is, now
        // and then whom it calls, on about half the working days of the last two thirds, in
        // working hours, citing no case. A pull a day at most: no count of the day notices it.
        let o = self.pick_officer(None, &[Role::Investigator, Role::Analyst], &taken);
        taken.push(o);
        let person = self.random_citizen();
        let phone = self.world.citizens[person].msisdn.clone();
        let mut first = i64::MAX;
        for day in (days / 3)..days {
            if !self.working(o, day) || !self.rng.chance(0.5) {
                continue;
            }
            let t = Self::t(day, self.shift_hour(o));
            let (action, records) = if self.rng.chance(0.7) {
                (Action::LocationQuery, 1 + self.rng.below(6))
            } else {
                (Action::CdrQuery, 5 + self.rng.below(60))
            };
            self.push(o, t, action, &phone, "", true, records);
            first = first.min(t);
        }
        if first < i64::MAX {
            self.insider(o, "following_one_person", first);
        }
    }
}

pub mod eval;
pub mod people;

/// Simulate a world (see [`Params`]).
pub fn simulate(p: Params) -> World {
    // An agency has at least one citizen, one officer and one day (fewer are taken as one:
    // every part of the simulation draws from them).
    let p = Params { citizens: p.citizens.max(1), officers: p.officers.max(1), days: p.days.max(1), ..p };
    let mut rng = Rng::new(p.seed);
    let citizens = (0..p.citizens).map(|i| citizen(&mut rng, i)).collect();
    let mut b = Builder {
        rng,
        p,
        world: World {
            citizens,
            officers: Vec::new(),
            events: Vec::new(),
            cases: CaseLinks::default(),
            watch: Vec::new(),
            insiders: Vec::new(),
            leaked: Vec::new(),
            days: p.days,
        },
        case_seq: 0,
    };
    b.build_officers();
    b.normal_work();
    b.abuse();
    b.world.events.sort_by(|x, y| x.time.cmp(&y.time).then_with(|| x.officer.cmp(&y.officer)));
    b.world
}

/// Quote a CSV field when needed.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

impl World {
    /// The access log in the `custos analyze --log` CSV format (RFC 3339 times in +06:00).
    pub fn log_csv(&self) -> String {
        let mut out = String::from("time,officer,unit,action,subject,case,outcome,records\n");
        for e in &self.events {
            let local = e.time + i64::from(e.offset);
            let (y, m, d) = custos_detect::time::civil_from_days(local.div_euclid(86_400));
            let sec = local.rem_euclid(86_400);
            out.push_str(&format!(
                "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+06:00,{},{},{},{},{},{},{}\n",
                sec / 3600,
                (sec % 3600) / 60,
                sec % 60,
                csv_field(&e.officer),
                csv_field(&e.unit),
                e.action.as_str(),
                csv_field(&e.subject),
                csv_field(&e.case),
                if e.allowed { "allowed" } else { "denied" },
                e.records
            ));
        }
        out
    }

    /// Case links in the `--cases` CSV format.
    pub fn cases_csv(&self) -> String {
        let mut out = String::from("case,role,value\n");
        for (c, o) in &self.cases.officers {
            out.push_str(&format!("{},officer,{}\n", csv_field(c), csv_field(o)));
        }
        for (c, s) in &self.cases.subjects {
            out.push_str(&format!("{},subject,{}\n", csv_field(c), csv_field(s)));
        }
        out
    }

    /// The watch list in the `--watch` CSV format.
    pub fn watch_csv(&self) -> String {
        let mut out = String::from("subject,label\n");
        for (s, l) in &self.watch {
            let label = match l {
                WatchLabel::Honeytoken => "honeytoken",
                WatchLabel::Vip => "vip",
            };
            out.push_str(&format!("{},{label}\n", csv_field(s)));
        }
        out
    }
}

/// Write a number the way sellers do: international or local, grouped, sometimes in Bangla digits.
pub fn written(rng: &mut Rng, id: &str) -> String {
    let bangla = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_digit() {
                    char::from_u32(0x09E6 + (c as u32 - '0' as u32)).unwrap_or(c)
                } else {
                    c
                }
            })
            .collect()
    };
    let s = if id.len() == 13 && id.starts_with("880") {
        let local = &id[2..]; // 01XXXXXXXXX
        match rng.below(5) {
            0 => format!("+{id}"),
            1 => local.to_string(),
            2 => format!("{}-{}", &local[..5], &local[5..]),
            3 => format!("+880 {} {}", &local[1..5], &local[5..]),
            _ => format!("00{id}"),
        }
    } else {
        id.to_string()
    };
    if rng.chance(0.15) {
        bangla(&s)
    } else {
        s
    }
}

/// A Telegram Desktop JSON export of a channel where records are sold: each post offers one
/// record, posted a day after `time`, in varied formats, among unrelated chatter (prices,
/// dates, card-like numbers) and service messages; control characters written as `\xHH` as
/// Telegram Desktop does.
pub fn telegram_export(channel: &str, posts: &[(String, i64)], seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let mut msgs: Vec<(i64, String)> = Vec::new();
    for (id, t) in posts {
        let when = t + 86_400 + rng.below(6 * 3600) as i64;
        let w = written(&mut rng, id);
        let body = match rng.below(4) {
            0 => format!("\"text\": \"NID/phone available: {w} \\x01 full details, 2000 tk\""),
            1 => format!("\"text\": [\"Fresh data \", {{\"type\": \"phone\", \"text\": \"{w}\"}}, \" call list 30 days\"]"),
            2 => format!("\"photo\": \"photos/p{}.jpg\", \"caption\": \"record {w}\"", rng.below(1000)),
            _ => format!("\"text\": [{{\"type\": \"bold\", \"text\": \"SOLD\"}}, \" {w}\"], \"text_entities\": [{{\"type\": \"bold\", \"text\": \"SOLD\"}}]"),
        };
        msgs.push((when, body));
    }
    // Chatter that must not be read as identifiers.
    for k in 0..posts.len().max(5) {
        let when = posts.first().map_or(1_767_225_600, |p| p.1) + (k as i64) * 3600;
        let body = match k % 4 {
            0 => format!(
                "\"text\": \"price list: 1,500 tk per record, bulk 25,000 tk, date {:02}.03.2026\"",
                1 + k % 28
            ),
            1 => "\"text\": \"payment to card 4111 1111 1111 1111 only\"".to_string(),
            2 => format!("\"text\": \"order #{} confirmed\"", 100_000 + rng.below(900_000)),
            _ => "\"text\": \"\"".to_string(),
        };
        msgs.push((when, body));
    }
    msgs.sort_by_key(|m| m.0);
    let mut out = format!("{{\n \"name\": \"{channel}\",\n \"type\": \"public_channel\",\n \"id\": 1870000{seed},\n \"messages\": [\n");
    out.push_str("  {\n   \"id\": 1,\n   \"type\": \"service\",\n   \"date\": \"2026-01-01T00:00:00\",\n   \"date_unixtime\": \"1767204000\",\n   \"actor\": \"admin\",\n   \"action\": \"create_channel\",\n   \"title\": \"data\"\n  }");
    for (i, (when, body)) in msgs.iter().enumerate() {
        let local = when + 6 * 3600;
        let (y, m, d) = custos_detect::time::civil_from_days(local.div_euclid(86_400));
        let sec = local.rem_euclid(86_400);
        out.push_str(&format!(
            ",\n  {{\n   \"id\": {},\n   \"type\": \"message\",\n   \"date\": \"{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}\",\n   \"date_unixtime\": \"{when}\",\n   \"from\": \"{channel}\",\n   \"from_id\": \"channel1870000{seed}\",\n   {body}\n  }}",
            i + 2,
            sec / 3600,
            (sec % 3600) / 60,
            sec % 60
        ));
    }
    out.push_str("\n ]\n}\n");
    out
}

/// A Telegram Desktop JSON export of a channel with the given posts (time, text), in time
/// order, with a service message first. Texts are written with JSON escapes as Telegram
/// Desktop writes them; a line of the form `**X**` becomes a bold entity, like a seller's
/// headline.
pub fn telegram_channel(channel: &str, channel_id: u64, posts: &[(i64, String)]) -> String {
    let mut sorted: Vec<&(i64, String)> = posts.iter().collect();
    sorted.sort_by_key(|p| p.0);
    let q = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
    let first = sorted.first().map_or(1_767_204_000, |p| p.0 - 86_400);
    let date = |t: i64| {
        let local = t + 6 * 3600;
        let (y, m, d) = custos_detect::time::civil_from_days(local.div_euclid(86_400));
        let sec = local.rem_euclid(86_400);
        format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}", sec / 3600, (sec % 3600) / 60, sec % 60)
    };
    let mut out = format!(
        "{{\n \"name\": {},\n \"type\": \"public_channel\",\n \"id\": {channel_id},\n \"messages\": [\n",
        q(channel)
    );
    out.push_str(&format!(
        "  {{\n   \"id\": 1,\n   \"type\": \"service\",\n   \"date\": \"{}\",\n   \"date_unixtime\": \"{first}\",\n   \"actor\": {},\n   \"actor_id\": \"channel{channel_id}\",\n   \"action\": \"create_channel\",\n   \"title\": {}\n  }}",
        date(first),
        q(channel),
        q(channel)
    ));
    for (i, (t, text)) in sorted.iter().enumerate() {
        let (head, rest) = match text.strip_prefix("**").and_then(|r| r.split_once("**")) {
            Some((h, r)) => (Some(h), r),
            None => (None, text.as_str()),
        };
        let (text_json, entities) = match head {
            Some(h) => (
                format!("[{{\"type\": \"bold\", \"text\": {}}}, {}]", q(h), q(rest)),
                format!(
                    "[{{\"type\": \"bold\", \"text\": {}}}, {{\"type\": \"plain\", \"text\": {}}}]",
                    q(h),
                    q(rest)
                ),
            ),
            None => (q(rest), format!("[{{\"type\": \"plain\", \"text\": {}}}]", q(rest))),
        };
        out.push_str(&format!(
            ",\n  {{\n   \"id\": {},\n   \"type\": \"message\",\n   \"date\": \"{}\",\n   \"date_unixtime\": \"{t}\",\n   \"from\": {},\n   \"from_id\": \"channel{channel_id}\",\n   \"text\": {text_json},\n   \"text_entities\": {entities}\n  }}",
            i + 2,
            date(*t),
            q(channel)
        ));
    }
    out.push_str("\n ]\n}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_agency_of_nothing_is_taken_as_one_of_each_not_a_panic() {
        for (citizens, officers, days) in [(0, 0, 0), (0, 5, 3), (100, 0, 3), (100, 5, 0)] {
            let w = simulate(Params { seed: 1, citizens, officers, days });
            assert!(!w.officers.is_empty() && !w.citizens.is_empty() && w.days >= 1);
            assert!(w.events.iter().all(|e| w.officers.iter().any(|o| o.id == e.officer)));
        }
    }
}
