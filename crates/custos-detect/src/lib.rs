//! Streaming, explainable insider-abuse detection.
//!
//! The [`Engine`] takes access events one at a time (amortised O(1) each) and keeps, per
//! officer, daily feature counts, a short history, an hour-of-day profile and a few small
//! rings; per unit, nothing but what it derives from its officers at each day's close.
//! It raises [`Alert`]s as evidence accumulates and, at any time, produces a ranked
//! [`Report`] with the reasons behind every score.
//!
//! # Model
//!
//! Every count-based signal is scored as a *surprise*: `-log10 P(X >= x)` under a
//! quasi-Poisson null whose rate comes from the officer's peers (same unit, shrunk towards
//! all officers when the unit is small, upper-trimmed so a few abusers do not raise the bar)
//! and, for plain volume, from the officer's own history as well (the smaller surprise of
//! the two counts, so a busy officer is not flagged for being busy and a whole unit rising
//! after an incident is not an alarm). A sparse count that is part of the officer's activity
//! (unexplained subjects of their subjects; off-hours accesses, denials and empty lookups of
//! their accesses) is judged against the larger of the peers' count and the peers' share of
//! the officer's own activity, so working more is read once, as volume, not again as more of
//! everything. A rare act's peer rate is at least what the peers have done over all the days
//! they have been seen, as most of them do none in any one week. Sparse counts are scored over
//! a short and a long window, the stronger kept at the price of the choice. Surprises are on one scale for every signal and every officer
//! (6 = one in a million); several at once combine by the exact truncated-product tail
//! ([`stats::truncated_product`]) into the `combined` signal, and the reasons' surprises add
//! into a comparable per-officer score.
//!
//! Signals (reason codes): `unexplained_access` and `unexplained_traffic` (the subject is in no
//! case of the officer or the officer's unit — explanation-based auditing, Fabbri & LeFevre —
//! or, for call records, the query cites no case where the officer's peers cite one; among
//! them, people of another unit's case looked up citing none by an officer who does not work
//! it, counted apart: the need-to-know breach of an officer transferred away who keeps pulling
//! the old unit's suspects),
//! `volume` (events, distinct subjects, call-record queries, busiest hour),
//! `off_hours` (hours the officer does not usually work, learned per officer), `denials`,
//! `not_found` and `enumeration` (sweeps), `first_time_traffic`, `honeytoken`, `vip_access`,
//! `collusion` (two officers pulling the same unexplained subjects within days; in a log that
//! says nothing of cases, officers who are not colleagues sharing people no one else pulled,
//! a reason and never an alert), `break_glass`
//! (emergency access grants: one is worth a look, a second within the window is high, four are
//! critical — legitimate emergencies are rare and each is reviewed), `credential_misuse` (the
//! officer's token presented without the client certificate it is bound to: high at once),
//! `persistent_interest` (one person pulled on day after day with nothing explaining it, judged
//! against how often every officer's unexplained people come back in the same log: see
//! [`stats::BetaGeometric`]).
//!
//! This crate does no I/O: the caller reads the log and feeds [`Event`]s.

pub mod fuzzing;
pub mod input;
pub mod sketch;
pub mod stats;
pub mod time;

use std::borrow::Cow;
use std::collections::VecDeque;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use serde::Serialize;

pub use input::{Action, CaseLinks, WatchLabel};
use stats::{surprise, BetaGeometric};

/// Tunables. The defaults are statistical thresholds, not fitted to any data set.
#[derive(Debug, Clone)]
pub struct Config {
    /// Days in the sliding evidence window.
    pub window_days: i64,
    /// Days in the short evidence window, scanned beside the long one for sparse signals so
    /// that a burst is not diluted by the quiet days before it (the choice of the stronger
    /// window is paid for: its surprise counts less `log10 2`).
    pub short_window_days: i64,
    /// Days of own history used as the officer's baseline (before the window).
    pub baseline_days: i64,
    /// Surprise for a medium alert (-log10 p).
    pub medium: f64,
    /// Surprise for a high alert.
    pub high: f64,
    /// Surprise for a critical alert.
    pub critical: f64,
    /// Hours within which two officers pulling the same unexplained subject count as shared.
    pub collusion_hours: i64,
    /// Shared unexplained subjects that make a collusion alert.
    pub collusion_min_shared: u32,
    /// An hour is unusual for an officer when less than this share of their work falls in it.
    pub off_hours_share: f64,
    /// Identifiers within this distance count as neighbours for enumeration.
    pub enumeration_distance: u64,
    /// Neighbours within an hour that make an enumeration.
    pub enumeration_neighbours: usize,
    /// Of one batch of people a cited case's file lacks (each pulled within an hour of the
    /// last, under that case), how many per hour the batch has lasted (an hour begun counts)
    /// count one by one among the citations a file does not back; beyond that pace the batch
    /// is a list being worked through (a tower dump's numbers or a seized phone's contacts
    /// resolved to their owners), and the rest of it does not count. Call records count in
    /// full: a list's numbers are resolved to owners, not each one's calls pulled.
    pub batch_people: u32,
}

impl Config {
    /// Days an entry read for corroboration, a blank case field or a run of returns stays
    /// live: the own baseline and the recent window.
    fn horizon_days(&self) -> i64 {
        self.baseline_days + self.window_days
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            window_days: 7,
            short_window_days: 3,
            baseline_days: 28,
            medium: 5.0,
            high: 7.0,
            critical: 12.0,
            collusion_hours: 72,
            collusion_min_shared: 3,
            off_hours_share: 0.01,
            enumeration_distance: 64,
            enumeration_neighbours: 4,
            batch_people: 10,
        }
    }
}

/// One access event.
#[derive(Debug, Clone)]
pub struct Event {
    /// Unix seconds.
    pub time: i64,
    /// Offset of the local time it was written in (seconds east of UTC).
    pub offset: i32,
    /// Officer account.
    pub officer: String,
    /// Unit (may be empty).
    pub unit: String,
    /// Action.
    pub action: Action,
    /// Subject identifier (normalised).
    pub subject: String,
    /// Declared case (may be empty).
    pub case: String,
    /// Allowed (true) or denied.
    pub allowed: bool,
    /// Records returned ([`RECORDS_UNKNOWN`] where the log does not say).
    pub records: u64,
}

/// [`Event::records`] of a row whose log does not say how many records it returned (no
/// `records` column, or the field left empty): such an access is not read as finding nothing.
pub const RECORDS_UNKNOWN: u64 = u64::MAX;

impl Default for Event {
    /// An empty event, to be filled by [`input::LogReader::read_event`].
    fn default() -> Self {
        Self {
            time: 0,
            offset: 0,
            officer: String::new(),
            unit: String::new(),
            action: Action::IdentityLookup,
            subject: String::new(),
            case: String::new(),
            allowed: true,
            records: 0,
        }
    }
}

/// Alert severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth a look.
    Medium,
    /// Investigate.
    High,
    /// Investigate now.
    Critical,
}

/// An alert raised while the log streamed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// Unix seconds of the event that completed the evidence.
    #[serde(skip)]
    pub unix: i64,
    /// RFC 3339 (UTC).
    pub time: String,
    /// Officer.
    pub officer: String,
    /// Detector (reason code).
    pub detector: String,
    /// Severity.
    pub severity: Severity,
    /// What was seen, for a human.
    pub detail: String,
}

/// One reason behind a score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    /// Reason code (the detector).
    pub code: String,
    /// Evidence, for a human.
    pub detail: String,
    /// Contribution to the score.
    #[serde(skip)]
    pub weight: f64,
}

/// An officer's risk.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OfficerRisk {
    /// Officer.
    pub officer: String,
    /// Unit (the latest seen).
    pub unit: String,
    /// Risk score: sum of -log10 surprises; higher is more suspicious; 0 means nothing unusual.
    pub score: f64,
    /// RFC 3339 time of the first alert of severity high or above, if any.
    pub first_flagged: Option<String>,
    /// Reasons, strongest first.
    pub reasons: Vec<Reason>,
    /// Accesses seen.
    #[serde(skip)]
    pub accesses: u64,
    /// Share of accesses explained by a case.
    #[serde(skip)]
    pub explained_share: f64,
}

/// The output of an analysis, in the `custos analyze --format json` shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Every officer seen, by score descending.
    pub officers: Vec<OfficerRisk>,
    /// Alerts in time order.
    pub alerts: Vec<Alert>,
}

// ---- features ----------------------------------------------------------------------------

const NF: usize = 19;
const F_EVENTS: usize = 0;
const F_SUBJECTS: usize = 1;
const F_UNEXPL: usize = 2;
const F_TRAFFIC: usize = 3;
const F_UNEXPL_TRAFFIC: usize = 4;
const F_OFFHOURS: usize = 5;
const F_DENIED: usize = 6;
const F_NOTFOUND: usize = 7;
/// Allowed accesses citing a case (describes the work; not scored).
const F_CITED: usize = 8;
const F_MAXHOUR: usize = 9;
const F_UNEXPL_OFF: usize = 10;
/// Identity accesses citing no case (describes working style; not scored).
const F_CASELESS: usize = 11;
/// Call-record/location queries that returned data citing no case: call records need a
/// warrant, so where the officer's peers cite a case for them, one that cites none is the most
/// unexplained kind of access (where nobody records cases, peers do it too and it says nothing).
/// Like volume it is also held against the officer's own history, as it is partly a habit of
/// record-keeping: a change is news, a habit is not (an officer who pulls unexplained records
/// from the start is still caught as unexplained traffic, which is held against peers only).
const F_CASELESS_TRAFFIC: usize = 12;
/// The explained part (one minus the explanation weight) of accesses, distinct subjects and
/// call-record/location queries (describe the work; not scored): volume held against the
/// officer's own history is judged on what is not explained, since explained work rises and
/// falls with the officer's cases.
const F_EXPL_EVENTS: usize = 13;
const F_EXPL_SUBJECTS: usize = 14;
const F_EXPL_TRAFFIC: usize = 15;
/// Allowed accesses citing a case whose file lists subjects but not this one, where nothing
/// else explains the subject (no case of the officer or their unit holds it, no colleague or
/// officer on the case pulled it under that case first). Case files lag behind the work, so
/// some of every investigator's citations are like this; judged as a share of the officer's
/// citations against the whole agency's share (see `agency_share`), it is the insider who
/// cites their own case for people it has nothing to do with, at an ordinary volume.
const F_UNBACKED: usize = 16;
/// Accesses whose hour could be judged (the officer's hours were known enough: see
/// [`Officer::hours_known`]); describes the work, not scored. Off-hours counts are a share of
/// these, not of every access: in an officer's first days no hour is unusual yet, and a share
/// of all accesses then would put a group's off-hours rate, early in a log, at a fraction of
/// what it is, and an officer just past those first days far above it.
const F_JUDGED: usize = 17;
/// Accesses citing no case of a person of another unit's case, by an officer who does not
/// work it: a person of someone else's investigation looked up outside it (need-to-know).
/// Another unit's case is one an officer of another unit last cited for the person within the
/// corroboration horizon (the officer has never cited it: one who works the case beside its
/// unit, citing it now and then, is not counted, see `works_case`), or one whose file holds
/// the person and lists officers, none of them of the officer's unit, and which the officer has
/// never cited either. Where the log names no unit, a case is another unit's by its number's
/// series (see [`Engine::alien_series`]). Counted once a day per person, only where the log
/// cites cases (only there does a citation say whose the person is: in a log that says
/// nothing of cases, officers of other units who share people are the collusion check's).
/// Judged as an outcome (see [`outcome`]): the peers' pooled rate, capped, is the floor, so
/// where units share suspects it is expected of everyone.
const F_FOREIGN: usize = 18;

/// Features that describe the work and are never scored themselves.
fn descriptive(f: usize) -> bool {
    matches!(f, F_CASELESS | F_EXPL_EVENTS | F_EXPL_SUBJECTS | F_EXPL_TRAFFIC | F_CITED | F_JUDGED)
}

/// The explained part of a volume feature, where it is kept.
fn explained_part(f: usize) -> Option<usize> {
    match f {
        F_EVENTS => Some(F_EXPL_EVENTS),
        F_SUBJECTS => Some(F_EXPL_SUBJECTS),
        F_TRAFFIC => Some(F_EXPL_TRAFFIC),
        _ => None,
    }
}

const FEATURE_NAMES: [&str; NF] = [
    "accesses",
    "distinct subjects",
    "unexplained subjects",
    "call-record/location queries",
    "unexplained call-record/location subjects",
    "off-hours accesses",
    "denied requests",
    "lookups that found nothing",
    "accesses citing a case",
    "distinct subjects in one hour",
    "unexplained subjects at unusual hours",
    "accesses citing no case",
    "call-record/location queries citing no case",
    "explained accesses",
    "explained distinct subjects",
    "explained call-record/location queries",
    "accesses citing a case whose file does not hold the subject",
    "accesses at hours judged",
    "people of another unit's cited case pulled citing none",
];

/// Whether a feature is also held against the officer's own history (the smaller surprise of
/// peers and own history counts): volume, and what is partly a habit (hours, citing no case for
/// call records). Those are left out of the report's whole-period counts against peers.
const OWN_HISTORY: [bool; NF] = [
    true, true, false, true, false, true, false, false, false, true, false, false, true, false, false, false,
    true, false, false,
];

/// Whether a feature is a sparse count: scored intraday and over the short window as well, and
/// alertable from the first day (a volume feature alerts only once the officer has a baseline).
const SPARSE: [bool; NF] = [
    false, false, true, false, true, true, true, true, false, false, true, false, true, false, false, false,
    true, false, true,
];

/// Expected count of feature `f` over `days` from the officer's peers: their rate, or their
/// share of the officer's own activity where `f` is part of it (see [`part_of`]) and that is
/// larger. `own` holds the officer's counts over the same days.
fn peer_expectation(peers: &PeerRate, f: usize, days: f64, own: &Feats) -> f64 {
    let mu = peers.rate[f] * days;
    match part_of(f) {
        // The agency's share of the officer's own citations, whatever the peers' volume: how
        // many unbacked citations peers make says how much they cite, not how well the files
        // back them (see `GroupRates::new`).
        Some(g) if f == F_UNBACKED => peers.share[f].min(1.0) * own[g],
        // Off-hours accesses are some of those whose hour was judged: at the pooled share of
        // the peers' judged accesses, or at the typical peer's rate per access (the peers'
        // trimmed means of judged accesses and of off-hours ones are over different officers,
        // as one whose hours are not known yet has neither, so their ratio would say nothing).
        Some(g) => {
            let e = if g == F_JUDGED { F_EVENTS } else { g };
            let per_access =
                |x: usize| if peers.rate[e] > 0.0 { (peers.rate[x] / peers.rate[e]).min(1.0) } else { 0.0 };
            let expected = mu.max((per_access(f) * own[e]).max(peers.share[f].min(1.0) * own[g]));
            if f != F_UNEXPL_OFF {
                return expected;
            }
            // Unexplained accesses at unusual hours are also what the officer's unexplained
            // accesses come to at the peers' share of off-hours accesses now, as if when they
            // work and whether a case explains it were apart: an officer whose cases the files
            // never hold, in a unit turning to nights together, is neither alone at night nor
            // hiding their nights' work.
            expected.max(per_access(F_OFFHOURS) * (own[F_EVENTS] - own[F_EXPL_EVENTS]).max(0.0))
        }
        None => mu,
    }
}

/// The quasi-Poisson scale a count is judged on: the peers' dispersion, or for citations a
/// case file does not back the beta-binomial's at the officer's number of citations `own`:
/// officers' shares differ from the agency's (their cases' files are kept better or worse), so
/// the more citations, the wider the spread of the count around the share.
fn peer_phi(peers: &PeerRate, f: usize, own: &Feats) -> f64 {
    if f == F_UNEXPL {
        // At least the beta-binomial's scale at the officer's number of subjects: the more
        // people an officer pulls, the wider the spread of those no case explains. (The same
        // for unexplained call-record subjects cost more insiders than the false alerts it
        // saved.)
        let p = peers.share[f].clamp(0.0, 1.0);
        let bb = (1.0 - p) * (1.0 + (own[F_SUBJECTS] - 1.0).max(0.0) * peers.unexpl_rho);
        return peers.phi[f].max(bb.clamp(1.0, 50.0));
    }
    if f != F_UNBACKED {
        return peers.phi[f];
    }
    let p = peers.share[f].clamp(0.0, 1.0);
    ((1.0 - p) * (1.0 + (own[F_CITED] - 1.0).max(0.0) * peers.unbacked_rho)).clamp(1.0, 50.0)
}

/// The feature a sparse count is a part of: unexplained subjects are some of the officer's
/// subjects, unexplained call-record subjects some of their call-record queries, denials and
/// empty lookups some of their accesses, off-hours accesses some of those whose hour was
/// judged (see [`F_JUDGED`]). A count is judged against the
/// larger of the peers' count and the peers' share of the officer's own activity, so that
/// working more is not read as abuse twice — once as volume and again as more of everything.
fn part_of(f: usize) -> Option<usize> {
    match f {
        F_UNEXPL => Some(F_SUBJECTS),
        F_UNEXPL_TRAFFIC | F_CASELESS_TRAFFIC => Some(F_TRAFFIC),
        F_DENIED | F_NOTFOUND => Some(F_EVENTS),
        F_OFFHOURS | F_UNEXPL_OFF => Some(F_JUDGED),
        F_UNBACKED => Some(F_CITED),
        F_FOREIGN => Some(F_SUBJECTS),
        _ => None,
    }
}

/// Which signal (reason code) a feature feeds.
fn signal_of(f: usize) -> usize {
    match f {
        F_UNEXPL | F_UNBACKED | F_FOREIGN => S_UNEXPL,
        F_UNEXPL_TRAFFIC | F_CASELESS_TRAFFIC => S_UNEXPL_TRAFFIC,
        F_OFFHOURS => S_OFFHOURS,
        F_DENIED => S_DENIALS,
        F_NOTFOUND => S_NOTFOUND,
        F_UNEXPL_OFF => S_UNEXPL_OFF,
        _ => S_VOLUME,
    }
}

const NS: usize = 16;
const S_UNEXPL: usize = 0;
const S_UNEXPL_TRAFFIC: usize = 1;
const S_VOLUME: usize = 2;
const S_OFFHOURS: usize = 3;
const S_DENIALS: usize = 4;
const S_NOTFOUND: usize = 5;
const S_ENUM: usize = 6;
const S_FIRST: usize = 7;
const S_HONEY: usize = 8;
const S_VIP: usize = 9;
const S_COLLUSION: usize = 10;
const S_COMBINED: usize = 11;
const S_UNEXPL_OFF: usize = 12;
const S_BREAK_GLASS: usize = 13;
const S_CREDENTIAL: usize = 14;
const S_RETURN: usize = 15;

/// The action of a gateway entry for an officer's credential presented without the client
/// certificate it is bound to (`custos serve --tls-client-ca`): refused, and evidence that
/// someone else holds the token.
pub const CREDENTIAL_WITHOUT_CERTIFICATE: &str = "credential_without_certificate";
const SIGNAL_CODES: [&str; NS] = [
    "unexplained_access",
    "unexplained_traffic",
    "volume",
    "off_hours",
    "denials",
    "not_found",
    "enumeration",
    "first_time_traffic",
    "honeytoken",
    "vip_access",
    "collusion",
    "combined",
    "unexplained_off_hours",
    "break_glass",
    "credential_misuse",
    "persistent_interest",
];

/// The families of evidence the combined signal weighs (nested signals join their parent).
/// Collusion joins with the latest surprise within the window of a pair sharing two subjects or
/// more, less the officer's choice among their partners: short of an alert alone, evidence
/// beside the rest.
const COMBINED_FAMILIES: [usize; 6] = [S_UNEXPL, S_VOLUME, S_OFFHOURS, S_DENIALS, S_NOTFOUND, S_COLLUSION];

type Feats = [f64; NF];

/// Feature sums over some closed days of an officer, and how many days.
#[derive(Debug, Clone, Copy, Default)]
struct Window {
    sum: Feats,
    /// Per feature, the sum of the squares of its daily counts as held against the officer's
    /// own history (see [`own_part`]): with `sum` and `days`, the day-to-day spread of the
    /// officer's own work.
    sq: Feats,
    days: f64,
}

impl Window {
    fn add(&mut self, f: &Feats) {
        add(&mut self.sum, f);
        for (i, q) in self.sq.iter_mut().enumerate() {
            let v = own_part(f, i);
            *q += v * v;
        }
        self.days += 1.0;
    }

    /// Take out a day that was added (exact: features are counts and weights of 1/4, 1/2, 1,
    /// and their squares multiples of 1/16).
    fn sub(&mut self, f: &Feats) {
        for (a, b) in self.sum.iter_mut().zip(f) {
            *a -= b;
        }
        for (i, q) in self.sq.iter_mut().enumerate() {
            let v = own_part(f, i);
            *q -= v * v;
        }
        self.days -= 1.0;
    }

    /// The dispersion (variance over mean) of the officer's own daily counts of feature `f`
    /// in this window, shrunk towards 1 (Poisson) as if a week more of Poisson days had been
    /// seen: an officer whose work comes in bursts (a hundred lookups one day, a handful the
    /// next) is judged against their own history on the scale of their own bursts, not on
    /// their peers'. At least 1.
    fn dispersion(&self, f: usize) -> f64 {
        let n = self.days;
        if n < 2.0 {
            return 1.0;
        }
        let mean = own_part(&self.sum, f) / n;
        if mean <= 0.0 {
            return 1.0;
        }
        let var = ((self.sq[f] - n * mean * mean) / (n - 1.0)).max(0.0);
        ((n * var / mean + 7.0) / (n + 7.0)).clamp(1.0, 50.0)
    }
}

/// The count of feature `f` in `x` that is held against the officer's own history: for
/// volume, the part no case explains (see [`explained_part`]).
fn own_part(x: &Feats, f: usize) -> f64 {
    match explained_part(f) {
        Some(e) => (x[f] - x[e]).max(0.0),
        None => x[f],
    }
}

/// An officer's evidence windows before a day: the recent window, its last few days, and the
/// own baseline before it.
#[derive(Debug, Clone, Copy, Default)]
struct Windows {
    long: Window,
    short: Window,
    base: Window,
}

/// The officer's findings so far.
#[derive(Debug, Default)]
struct Findings {
    /// Counts over the closed days (today is added where they are read: `whole_with`).
    whole: Feats,
    /// Best surprise per signal and its detail.
    best: [f64; NS],
    best_detail: Vec<BestDetail>,
    windows: u32,
    last_alert: [(i64, f64); NS],
    first_flagged: Option<i64>,
    honey_hits: u32,
    vip_hits: u32,
    /// Watch-listed persons looked up citing a case the log cannot check (no case links), as
    /// (subject key, case id, time), within the baseline's days: each is one claim.
    vip_claims: Vec<(u64, u32, i64)>,
    enum_hits: u32,
    first_traffic_unexpl: bool,
    best_collusion: f64,
    /// The latest collusion evidence (surprise, time) for the combined signal: the strongest
    /// updated within the window, of a pair sharing two subjects or more, less `log10` of
    /// `partners`.
    collusion_recent: (f64, i64),
    /// Officers this one has shared an unexplained subject with.
    partners: u32,
    /// People the officer has pulled with nothing explaining it (see
    /// [`Engine::persistent_interest`]), and the one pulled so on the most days: days, who,
    /// since when.
    return_people: u32,
    return_best: Option<(u16, String, i64)>,
    /// The officer's hours by day: the sum over their closed days of each day's share of its
    /// accesses per hour, and `hour_hist` as of the start of their current day (the difference
    /// is the current day's hours). Read once a day, by [`Officer::works_shifts`].
    day_hours: [f64; 24],
    hours_at_day_start: [f64; 24],
}

/// What an officer did with a subject today and this hour.
#[derive(Debug, Clone, Copy, Default)]
struct Seen {
    day: u32,
    hour: u32,
    /// `SEEN_UNEXPL`, `SEEN_UNEXPL_TRAFFIC`.
    flags: u8,
}

const SEEN_UNEXPL: u8 = 1;
const SEEN_UNEXPL_TRAFFIC: u8 = 2;
const SEEN_UNBACKED: u8 = 4;
/// Counted today towards the officer's unexplained returns to the subject.
const SEEN_RETURN: u8 = 8;
/// Counted today among the people of another unit's case (see [`F_FOREIGN`]).
const SEEN_FOREIGN: u8 = 16;

/// An officer's unexplained pulls of one person on separate days (see
/// [`Engine::persistent_interest`]).
#[derive(Debug, Clone, Copy)]
struct Return {
    /// The last such day and the first, as days since [`Engine::return_base`].
    last: u16,
    first: u16,
    /// Days with such a pull.
    days: u16,
}

/// Bins of the returns' histogram: days 1 to 62 each, then 63 or more.
const RETURN_BINS: usize = 64;

#[derive(Debug, Default)]
struct Officer {
    name: String,
    /// The latest lookup citing a case that found nothing (see [`Engine::push`]: one batch).
    notfound_batch: CaseBatch,
    /// The latest pull citing a case whose file lacks the person, and whether it was of the
    /// officer's first batch under that case (see [`Engine::push`]).
    unbacked_batch: CaseBatch,
    unbacked_first: bool,
    /// The name's id in the officer-name interner.
    name_id: u32,
    unit: u32,
    /// The series of the officer's account name (`u02-004`, `pbi_07`, `cttc/01`: the part
    /// before its closing number, see [`account_series`]), where it has one.
    name_series: Option<u32>,
    /// Where the log names no unit: the case-number series the officer has cited, each with
    /// the last day they did (see [`Engine::alien_series`]).
    cited_series: Vec<(u32, i64)>,
    day: i64,
    today: Feats,
    /// Subjects of today and of the current hour, one entry each (one probe per event
    /// instead of one per set); an entry counts for today only if its day tag is
    /// `active_days`, and for this hour only if its hour tag is `hour_epoch`.
    seen: HashMap<u64, Seen>,
    hour_key: i64,
    /// Bumped at each change of `hour_key`.
    hour_epoch: u32,
    /// Distinct subjects this hour.
    hour_count: u32,
    last_time: i64,
    /// Start of the officer's current stretch of work without a long break, where it began
    /// at a usual hour (`i64::MIN` otherwise): see [`Engine::off_hours_now`].
    stretch_since: i64,
    /// Closed days, oldest first: (day, features).
    history: VecDeque<(i64, Feats)>,
    hour_hist: [f64; 24],
    hour_total: f64,
    /// Whether the officer works more than one shift (see [`Officer::works_shifts`]), as of the
    /// start of their current day.
    shifts: bool,
    active_days: u32,
    /// Hours of the clock (bit per hour) that have been the officer's own: at a day's close
    /// after ten active days (two working weeks), at least the unusual-hour share of all their
    /// work so far.
    /// They stay usual after a season of shorter days (a month of Ramadan hours) has thinned
    /// them in the profile.
    usual_hours: u32,
    traffic_ever: bool,
    /// Numeric identifiers looked up within the last hour, oldest first, at most 64: a few
    /// at a time nearly always, so held inline.
    numeric: smallvec::SmallVec<[(i64, u64); 4]>,
    last_enum_hour: i64,
    accesses: u64,
    explained_weight: f64,
    /// Cached at the last day close: the windows of the days before today.
    cache: Windows,
    /// Accesses that cited no case (to tell routine desk work from case work).
    caseless: u64,
    /// Unexplained distinct subjects pulled (weight >= 0.5), for collusion chance rates.
    unexpl_pulls: u64,
    /// Peer group as of the last day close.
    group_cache: Style,
    /// Times of break-glass grants within the window.
    break_glass: VecDeque<i64>,
    /// Times the officer's credential came without its client certificate, within the window.
    unbound_uses: VecDeque<i64>,
    /// What the officer's report and alerts keep: read rarely, so held apart from the
    /// counts every event touches.
    rec: Box<Findings>,
    /// The peer group the officer's day counts towards in [`GroupToday`], and which of their
    /// sparse counts are above zero today (bit per feature).
    today_group: u32,
    today_mask: u32,
}

/// An officer's latest pull of a kind under a cited case: the next pull of that kind under the
/// same case within an hour continues the batch (a tower dump's or a seized phone's numbers
/// worked through in one sitting).
#[derive(Debug, Clone, Copy, Default)]
struct CaseBatch {
    case: u32,
    last: i64,
    /// When the batch began.
    start: i64,
    /// Pulls in the batch so far, this one included.
    len: u32,
}

impl CaseBatch {
    /// Whether a pull under `case` at `t` continues the batch; it is the batch's latest from now.
    fn extend(&mut self, case: u32, t: i64) -> bool {
        let continues = self.case == case && t - self.last <= 3600;
        *self = if continues {
            CaseBatch { case, last: t, start: self.start, len: self.len.saturating_add(1) }
        } else {
            CaseBatch { case, last: t, start: t, len: 1 }
        };
        continues
    }

    /// Whether the batch's latest pull is within `per_hour` pulls for each hour (begun) the
    /// batch has lasted: a pace one can keep pulling people one by one, with a reason each.
    fn within_pace(&self, per_hour: u32) -> bool {
        let hours = u32::try_from((self.last - self.start).max(0) / 3600).unwrap_or(u32::MAX);
        self.len <= per_hour.saturating_mul(hours.saturating_add(1))
    }
}

/// A peer group's day so far: its officers active today and, per sparse count, how many of
/// them have some of it.
#[derive(Debug, Clone, Copy, Default)]
struct GroupToday {
    day: i64,
    active: u32,
    with: [u32; NF],
}

impl GroupToday {
    /// Whether a sparse count is something the group does today rather than one officer: at
    /// least three of its officers and a fifth of those active today have some of it (a fifth
    /// is what the peers' trimmed means leave out, so the day's close will see it in the
    /// peers' rates).
    fn widespread(&self, day: i64, f: usize) -> bool {
        self.day == day && self.with[f] >= 3 && f64::from(self.with[f]) >= 0.2 * f64::from(self.active)
    }
}

impl Officer {
    /// The officer cites a case of case-number series `series` on `day` (see `cited_series`).
    fn cite_series(&mut self, series: u32, day: i64) {
        match self.cited_series.iter_mut().find(|(s, _)| *s == series) {
            Some(entry) => entry.1 = day,
            None => self.cited_series.push((series, day)),
        }
    }

    /// The whole-period counts with one more day added (today, or the day being closed). The
    /// routine-work count is not a whole-period feature. (Every increment is a whole multiple of
    /// a quarter, so adding per day gives exactly the per-event sums.)
    fn whole_with(&self, day: &Feats) -> Feats {
        let mut w = self.rec.whole;
        for f in (0..NF).filter(|&f| f != F_CASELESS) {
            w[f] += day[f];
        }
        w
    }

    /// Add the day just closed to the officer's hours by day (see [`Findings::day_hours`]),
    /// and mark the hours that are their own by now ([`Officer::usual_hours`]).
    fn close_day_hours(&mut self, usual_share: f64) {
        if self.active_days >= 10 && self.hours_known() {
            for (h, n) in self.hour_hist.iter().enumerate() {
                if *n >= usual_share * self.hour_total {
                    self.usual_hours |= 1 << h;
                }
            }
        }
        let rec = &mut self.rec;
        let mut day = [0.0; 24];
        for (d, (now, then)) in day.iter_mut().zip(self.hour_hist.iter().zip(&rec.hours_at_day_start)) {
            *d = now - then;
        }
        let n: f64 = day.iter().sum();
        if n > 0.0 {
            for (acc, d) in rec.day_hours.iter_mut().zip(day) {
                *acc += d / n;
            }
        }
        rec.hours_at_day_start = self.hour_hist;
    }

    /// Whether the officer's hours are known enough to call one unusual: a new officer's shift
    /// is not, before three active days and 50 accesses.
    fn hours_known(&self) -> bool {
        self.active_days >= 3 && self.hour_total >= 50.0
    }

    /// Whether the officer's hours so far are more than one shift: on their days, under four
    /// fifths of their work in their busiest nine consecutive hours (one shift, with its
    /// overtime, holds nearly all). Each day counts once, however busy: a busy week on one
    /// shift does not hide quiet weeks on others (counted by accesses, a rota's heavy evening
    /// week made it look like one shift).
    fn works_shifts(&self) -> bool {
        let h = &self.rec.day_hours;
        let days: f64 = h.iter().sum();
        if self.hour_total < 100.0 || days < 5.0 {
            return false;
        }
        let busiest = (0..24).map(|s| (0..9).map(|k| h[(s + k) % 24]).sum::<f64>()).fold(0.0, f64::max);
        busiest < 0.8 * days
    }

    /// Peer group: the unit, split by working style (routine checks vs case work). The style
    /// is judged on the officer's history before the recent window when there is enough of
    /// it, so that an officer whose recent behaviour changes is still compared with the peers
    /// of their usual work — in the direction that matters: case work that turns to lookups
    /// citing no case is still judged as case work. The other way, a desk officer whose recent
    /// week is mostly case work (given a case, or a new post) is judged against the larger
    /// expectation of either style: held against routine checks alone, the ordinary side
    /// effects of case work (denials, call records) would read as abuse, and held against case
    /// work alone, the week's last routine checks would read as unexplained access.
    fn group(&self, routine: f64) -> Style {
        const ENOUGH: f64 = 20.0;
        let recent = self.day - 7;
        let (mut caseless, mut events, mut recent_caseless, mut recent_events) = (0.0, 0.0, 0.0, 0.0);
        // The current (or last active) day is not in the history yet.
        for (d, f) in self.history.iter().chain(std::iter::once(&(self.day, self.today))) {
            if *d <= recent {
                caseless += f[F_CASELESS];
                events += f[F_EVENTS];
            } else {
                recent_caseless += f[F_CASELESS];
                recent_events += f[F_EVENTS];
            }
        }
        // An officer of fewer than five accesses has no style yet: judged against the larger
        // expectation of either (a new desk officer's first checks are not case work's).
        if events < ENOUGH && self.accesses < 5 {
            return Style { group: self.unit * 2, leaving: Some(self.unit * 2 + 1) };
        }
        let is_routine = if events >= ENOUGH {
            caseless / events >= routine
        } else {
            self.caseless as f64 / self.accesses as f64 >= routine
        };
        let case_work_now = recent_events >= ENOUGH && recent_caseless / recent_events < routine;
        // The other way, counted in days: an investigator between cases does a few routine
        // checks a day, which a week of case work's volume would outweigh for a week.
        let routine_days = std::iter::once(&(self.day, self.today))
            .chain(self.history.iter().rev())
            .take(2)
            .filter(|(d, f)| *d > recent && f[F_EVENTS] > 0.0 && f[F_CASELESS] / f[F_EVENTS] >= routine)
            .count();
        let routine_now = routine_days == 2;
        match (is_routine, case_work_now, routine_now) {
            (true, true, _) => Style { group: self.unit * 2, leaving: Some(self.unit * 2 + 1) },
            (false, _, true) => Style { group: self.unit * 2 + 1, leaving: Some(self.unit * 2) },
            (routine, _, _) => Style { group: self.unit * 2 + u32::from(routine), leaving: None },
        }
    }
}

/// The numbers behind one feature's surprise, written out only when an alert or an officer's
/// best reason needs them (day closes score every officer; most scores are never shown).
#[derive(Debug, Clone, Copy, Default)]
struct Detail {
    feature: usize,
    x: f64,
    days: f64,
    mu_p: f64,
    /// Against own history: the count judged (the part not explained by a case) and its
    /// expectation.
    own: Option<(f64, f64)>,
    s: f64,
}

/// The detail of an officer's best reason so far: an alert's text as raised, or a score's
/// numbers, written out only if the report shows them (most are overtaken before it).
#[derive(Debug, Clone)]
enum BestDetail {
    Text(String),
    Scored(Detail),
}

impl Default for BestDetail {
    fn default() -> Self {
        BestDetail::Text(String::new())
    }
}

impl BestDetail {
    fn text(&self) -> String {
        match self {
            BestDetail::Text(t) => t.clone(),
            BestDetail::Scored(d) => d.text(),
        }
    }
}

impl Detail {
    fn text(&self) -> String {
        let Detail { feature, x, days, mu_p, own, s } = *self;
        let own_txt = match own {
            Some((xo, m)) if xo < x => {
                format!("; {xo:.1} of them not explained by a case vs {m:.1} from own history")
            }
            Some((_, m)) => format!(", {m:.1} from own history"),
            None => String::new(),
        };
        format!(
            "{x:.1} {} in {days:.0} active days vs {mu_p:.1} expected from peers{own_txt} (p≈1e-{s:.0})",
            FEATURE_NAMES[feature]
        )
    }
}

/// An officer's peer group and, while their work turns from routine checks to case work, the
/// group of the style they are leaving (see [`Officer::group`]).
#[derive(Debug, Clone, Copy, Default)]
struct Style {
    group: u32,
    leaving: Option<u32>,
}

impl Style {
    /// The peer rates that judge the officer: their group's, borrowed, or while they change
    /// style the larger of both groups' expectations, feature by feature.
    fn rates<'a>(self, get: impl Fn(u32) -> Option<&'a PeerRate>) -> Option<Cow<'a, PeerRate>> {
        let p = get(self.group)?;
        Some(match self.leaving.and_then(get) {
            Some(q) => Cow::Owned(p.upper(q)),
            None => Cow::Borrowed(p),
        })
    }

    /// The group's rates `p`, raised to those of the style being left where there are any.
    fn combine(self, p: PeerRate, leaving: Option<PeerRate>) -> PeerRate {
        leaving.map_or(p, |q| p.upper(&q))
    }

    /// The same style (and style being left) within another group: id `id` of the groups
    /// numbered from `base` (teams, home series, account series: apart from units').
    fn within(self, base: u32, id: u32) -> Style {
        let g = (base + id.min(base - 1)) * 2;
        Style { group: g + self.group % 2, leaving: self.leaving.map(|x| g + x % 2) }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct PeerRate {
    rate: Feats,
    phi: Feats,
    /// For a count that is part of another (see [`part_of`]): the peers' long-run share of
    /// it, pooled over the peers with each one's share capped at the peers' 80th percentile
    /// (so the few with most of it, abusers among them, do not raise it).
    share: Feats,
    /// Sparse counts: the same trimmed mean of the peers' daily rates over the short window.
    recent: Feats,
    /// The agency's intra-officer correlation of citations a case file does not back over the
    /// long window, and over the short one (see [`unbacked_rho`]).
    unbacked_rho: f64,
    unbacked_rho_recent: f64,
    /// The style's intra-officer correlation of unexplained subjects among the officers'
    /// subjects over the long window (see [`unbacked_rho`], [`peer_phi`]).
    /// Officers' shares of people no case explains differ beyond chance: their cases' files
    /// are kept better or worse, and the more of a case's associates they pull, the more its
    /// file lacks.
    unexpl_rho: f64,
}

impl PeerRate {
    /// The larger expectation of two groups, feature by feature.
    fn upper(mut self, other: &PeerRate) -> PeerRate {
        for f in 0..NF {
            self.rate[f] = self.rate[f].max(other.rate[f]);
            self.recent[f] = self.recent[f].max(other.recent[f]);
            self.phi[f] = self.phi[f].max(other.phi[f]);
            self.share[f] = self.share[f].max(other.share[f]);
        }
        self.unbacked_rho = self.unbacked_rho.max(other.unbacked_rho);
        self.unbacked_rho_recent = self.unbacked_rho_recent.max(other.unbacked_rho_recent);
        self.unexpl_rho = self.unexpl_rho.max(other.unexpl_rho);
        self
    }

    /// The rates that judge the short window: what the peers did over the same few days where
    /// that is more than their rate over the long window (a whole unit turning to something
    /// together, a new shift or an incident, is not one officer's burst).
    fn short(mut self) -> PeerRate {
        for f in (0..NF).filter(|&f| SPARSE[f]) {
            self.rate[f] = self.rate[f].max(self.recent[f]);
        }
        // A case's first days bring many people its file does not hold yet, all at once.
        self.unbacked_rho = self.unbacked_rho.max(self.unbacked_rho_recent);
        self
    }
}

/// Count `f` as held against the officer's own history, and its expectation: `own` holds the
/// officer's counts over `days`, `base` those of their baseline of `base_days`. Volume counts
/// what is not explained by a case (all of it where the log explains nothing), expected at the
/// officer's usual rate of it or their usual share of it in their volume now if larger (more
/// work brings proportionally more of it; the share starts from the peers' as ten accesses'
/// worth of evidence). That part is a sparse count: like sparse counts against peers, its usual
/// rate is at least one in the baseline's days.
fn own_expectation(
    peers: &PeerRate,
    f: usize,
    own: &Feats,
    days: f64,
    base: &Feats,
    base_days: f64,
) -> (f64, f64) {
    let Some(e) = explained_part(f) else {
        let mut mu = base[f] / base_days * days;
        // Hours are judged only once known: the baseline's share of its judged accesses, at
        // the window's, where its first days were not judged (the rate over all its days is
        // then too low).
        if part_of(f) == Some(F_JUDGED) && base[F_JUDGED] > 0.0 {
            mu = mu.max(base[f] / base[F_JUDGED] * own[F_JUDGED]);
        }
        return (own[f], mu);
    };
    let peer_share =
        if peers.rate[f] > 0.0 { (1.0 - peers.rate[e] / peers.rate[f]).clamp(0.0, 1.0) } else { 1.0 };
    let usual = own_part(base, f);
    let share = (usual + 10.0 * peer_share) / (base[f] + 10.0);
    let mu = (usual / base_days * days).max(share * own[f]).max(days / (base_days + 1.0));
    (own_part(own, f), mu)
}

/// Peer rates of every peer group, and of each working style over all groups: the prior that
/// small groups are shrunk towards, and the rates of an officer whose group has none.
#[derive(Debug)]
struct GroupRates {
    groups: HashMap<u32, PeerRate>,
    global: [PeerRate; 2],
}

impl GroupRates {
    /// From each officer's group and sample (the style is the group's lowest bit). The
    /// samples are sorted by style and group, so that each group and each style is one slice
    /// of them (no copies).
    fn new(samples: &mut [(u32, PeerSample)]) -> Self {
        samples.sort_unstable_by_key(|s| (s.0 % 2, s.0));
        let (case_work, routine) = samples.split_at(samples.partition_point(|s| s.0 % 2 == 0));
        let raw: Vec<(u32, GroupRaw)> =
            samples.chunk_by(|a, b| a.0 == b.0).map(|group| (group[0].0, peer_rates(group))).collect();
        let mut global = [peer_rates(case_work).finish(None), peer_rates(routine).finish(None)];
        // The prior dispersion is the groups' own, pooled (weighted by size): over all officers
        // at once it would also count how far groups differ from each other.
        for (style, prior) in global.iter_mut().enumerate() {
            let (mut sum, mut n) = ([0.0; NF], 0.0);
            for (_, r) in raw.iter().filter(|(g, r)| (g % 2) as usize == style && r.n >= 2.0) {
                for (s, phi) in sum.iter_mut().zip(&r.rates.phi) {
                    *s += phi * r.n;
                }
                n += r.n;
            }
            if n > 0.0 {
                for (phi, s) in prior.phi.iter_mut().zip(&sum) {
                    *phi = s / n;
                }
            }
        }
        // A group of one officer is no peer group: shrunk towards the prior, the officer would
        // still be a quarter of their own bar. They are judged on the style's rates over all
        // officers (as [`GroupRates::get`] gives for a group it does not hold): a unit's one
        // investigator among its desk officers is judged against the agency's case workers.
        let mut groups: HashMap<u32, PeerRate> = raw
            .iter()
            .filter(|(_, r)| r.n >= 2.0)
            .map(|(g, r)| (*g, r.finish(Some(&global[(*g % 2) as usize]))))
            .collect();
        // How far case files back the cases cited is the agency's record-keeping, not a
        // role's: the share is the whole agency's (within a group, the few who cite a case at
        // all, the group's own insider among them, would set it).
        let agency = agency_share(samples, F_UNBACKED, F_CITED);
        let rho = unbacked_rho(samples, agency, |p| (p.rate[F_UNBACKED] * p.days, p.rate[F_CITED] * p.days));
        let rho_recent = unbacked_rho(samples, agency, |p| {
            (p.recent[F_UNBACKED] * p.recent_days, p.recent[F_CITED] * p.recent_days)
        });
        // How far officers' shares of unexplained subjects spread, per style (desks' routine
        // checks are unexplained by design).
        let unexpl_rho = [case_work, routine].map(|slice| {
            let share = agency_share(slice, F_UNEXPL, F_SUBJECTS);
            unbacked_rho(slice, share, |p| (p.rate[F_UNEXPL] * p.days, p.rate[F_SUBJECTS] * p.days))
        });
        let styled = groups.iter_mut().map(|(g, r)| ((*g % 2) as usize, r));
        for (style, r) in styled.chain(global.iter_mut().enumerate()) {
            r.share[F_UNBACKED] = agency;
            r.unbacked_rho = rho;
            r.unbacked_rho_recent = rho_recent;
            r.unexpl_rho = unexpl_rho[style];
        }
        Self { groups, global }
    }

    fn get(&self, group: u32) -> PeerRate {
        self.groups.get(&group).copied().unwrap_or(self.global[(group % 2) as usize])
    }

    fn for_style(&self, style: Style) -> PeerRate {
        style.combine(self.get(style.group), style.leaving.map(|g| self.get(g)))
    }
}

/// One peer, as the peer rates see it: daily rates over the window scored and its days, and
/// the counts of every day it has been seen.
#[derive(Debug, Clone, Copy)]
struct PeerSample {
    rate: Feats,
    /// Daily rates over the short window (sparse counts only).
    recent: Feats,
    /// Days of the short window.
    recent_days: f64,
    days: f64,
    whole: Feats,
    seen: f64,
}

/// Strings to dense ids. Strings of up to 15 bytes (officer accounts, units, case numbers) and
/// identifiers of up to 19 plain digits are packed into a 128-bit key, so they are neither
/// hashed as strings nor compared byte by byte nor copied; only longer ones are kept as text.
#[derive(Debug, Default)]
struct Interner {
    map: HashMap<String, u32>,
    nums: HashMap<u128, u32>,
}

/// Key of digits: the length above bit 64, the value below (leading zeros kept by the length).
/// Key of a short string: its bytes from bit 0, the length with the top bit set in the top
/// byte. The two kinds never meet: a digits key has nothing above bit 69.
/// The value of an identifier of 1 to 19 plain ASCII digits (leading zeros allowed).
fn digits_value(b: &[u8]) -> Option<u64> {
    (b.len() <= 19 && b.first().is_some_and(u8::is_ascii_digit) && b.iter().all(u8::is_ascii_digit))
        .then(|| b.iter().fold(0u64, |a, d| a * 10 + u64::from(d - b'0')))
}

fn packed_key(s: &str) -> Option<u128> {
    let b = s.as_bytes();
    if let Some(v) = digits_value(b) {
        return Some((b.len() as u128) << 64 | u128::from(v));
    }
    if b.len() <= 15 {
        let mut buf = [0u8; 16];
        buf[..b.len()].copy_from_slice(b);
        buf[15] = 0x80 | b.len() as u8;
        return Some(u128::from_le_bytes(buf));
    }
    None
}

fn unpack_key(k: u128) -> String {
    if k >> 127 == 1 {
        let bytes = k.to_le_bytes();
        let len = usize::from(bytes[15] & 0x7f).min(15);
        return String::from_utf8_lossy(&bytes[..len]).into_owned();
    }
    let (len, v) = ((k >> 64) as usize, k as u64);
    format!("{v:0len$}")
}

impl Interner {
    fn len(&self) -> usize {
        self.map.len() + self.nums.len()
    }
    fn id(&mut self, s: &str) -> u32 {
        let next = self.len() as u32;
        if let Some(k) = packed_key(s) {
            return *self.nums.entry(k).or_insert(next);
        }
        if let Some(&i) = self.map.get(s) {
            return i;
        }
        self.map.insert(s.to_string(), next);
        next
    }
    /// The string of an id (a linear search: for reports, not per event).
    fn name(&self, id: u32) -> Option<String> {
        if let Some((k, _)) = self.nums.iter().find(|(_, &v)| v == id) {
            return Some(unpack_key(*k));
        }
        self.map.iter().find(|(_, &v)| v == id).map(|(k, _)| k.clone())
    }
    #[cfg(test)]
    fn get(&self, s: &str) -> Option<u32> {
        match packed_key(s) {
            Some(k) => self.nums.get(&k).copied(),
            None => self.map.get(s).copied(),
        }
    }
}

/// Subjects as 64-bit keys. Identifiers of up to 19 plain digits without a leading zero
/// (NIDs, mobile numbers: nearly every subject) are their own value; anything else (a name
/// searched, an opaque commitment as `custos audit export` writes) is a 62-bit hash of its
/// text, tagged above every such value (10^19 - 1 < 0xC000…). So the engine keeps no table of
/// the subjects it has seen, whatever their form: memory does not grow with distinct subjects.
/// Two subjects share a key with a chance of about `n² / 2^63` among `n` distinct ones (one in
/// a hundred thousand at ten million).
#[derive(Debug, Default)]
struct SubjectKeys;

const SUBJECT_TAG: u64 = 0xC000_0000_0000_0000;

impl SubjectKeys {
    fn key(&self, s: &str) -> u64 {
        let b = s.as_bytes();
        match digits_value(b) {
            Some(v) if b.len() == 1 || b[0] != b'0' => v,
            _ => {
                // SipHash with fixed keys: the same text gives the same key in every run.
                use std::hash::Hasher;
                let mut h = std::hash::DefaultHasher::new();
                h.write(b);
                SUBJECT_TAG | h.finish() >> 2
            }
        }
    }
}

/// The streaming detector.
#[derive(Debug, Default)]
pub struct Engine {
    cfg: Config,
    subjects: SubjectKeys,
    cases: Interner,
    units: Interner,
    /// Officer names; `name_officer[name id]` is the officer's index once seen in the log.
    names: Interner,
    name_officer: Vec<Option<usize>>,
    officers: Vec<Officer>,
    /// Officers assigned (by name id) per case id: a handful each, so a scan of a short
    /// vector indexed by the dense case id beats two hash probes; held inline, so the scan
    /// reads the one cache line it looks up.
    case_officers: Vec<smallvec::SmallVec<[u32; 4]>>,
    /// Whether a case's file lists any subject (by dense case id): only such a file can fail
    /// to back a citation.
    case_has_file: Vec<bool>,
    /// Where no case links are given: the first day each case was cited (by dense case id;
    /// `i64::MAX` for none yet), see [`Engine::push`].
    case_first_cited: Vec<i64>,
    /// subject → cases linked (nearly always one or two: inline, no second memory access).
    subject_cases: HashMap<u64, smallvec::SmallVec<[u32; 2]>>,
    has_cases: bool,
    /// Whether any event so far cited a case.
    cases_cited: bool,
    watch: HashMap<u64, WatchLabel>,
    /// (case, subject) → first officer index that cited it, the day, and whether traffic.
    derived: HashMap<(u32, u64), (usize, i64, bool)>,
    /// subject → the latest allowed pull of it that cited a case: the case, the officer index
    /// and the day (see [`Engine::explanation`]: the case field left blank on that work); in a
    /// log that has said nothing of cases yet, the latest allowed pull (case `NO_CASE`).
    last_cited: HashMap<u64, (u32, u32, i64)>,
    /// subject → recent unexplained pulls, one per officer (their latest).
    /// (Nearly always one or two accessors: kept inline, no allocation per subject.)
    recent_unexpl: HashMap<u64, smallvec::SmallVec<[Pull; 2]>>,
    pairs: HashMap<(usize, usize), (u32, i64)>,
    pair_alerted: HashSet<(usize, usize)>,
    /// Where the log says nothing of cases: how often officers who are not colleagues share
    /// a subject in this log (see [`SharedRate`]).
    shared_rate: SharedRate,
    /// Where the log says nothing of cases: how many pairs of officers who are not colleagues
    /// have shared each number of subjects ([`RETURN_BINS`] bins from [`Engine::new`], the
    /// last holding the rest),
    /// for the law of such sharing in this log (see [`Engine::report`]).
    shared_hist: Vec<u64>,
    /// Pairs of cases cited for the same person by two officers, where no case links are
    /// given: joint work from then on (see [`Engine::collusion`]).
    joint_cases: HashSet<(u32, u32)>,
    /// (officer index, case) for every case an officer has cited in an allowed pull.
    works_case: HashSet<(u32, u32)>,
    /// (officer index, case) for every case under which an officer has pulled a person its
    /// file lacks: the first batch of those is behind them.
    first_batches: HashSet<(u32, u32)>,
    day: Option<i64>,
    peer_cache: HashMap<u32, PeerRate>,
    /// Per peer group: its day so far (see [`GroupToday`]).
    group_today: HashMap<u32, GroupToday>,
    alerts: Vec<Alert>,
    /// Per unit id, as of the last day's close: the sum over its officers of each one's share
    /// of accesses per local hour, and how many officers were summed (see
    /// [`Engine::unit_hours_at_close`]).
    unit_hours: Vec<([f64; 24], f64)>,
    /// Unit names by id.
    unit_names: Vec<String>,
    /// Reused buffer of the collusion check.
    scratch: Vec<usize>,
    first_time: Option<i64>,
    distinct_subjects: sketch::Distinct,
    empty_unit: u32,
    /// Per peer group of a home series and style (see [`Teams`]), and of an account-name
    /// series and style: how many officers' it was at the last close (one of fewer than
    /// eight, or five, is not used: [`Engine::place`]).
    series_sizes: HashMap<u32, u32>,
    /// Account-name series ([`account_series`]) to dense ids.
    name_series_ids: HashMap<String, u32>,
    /// Per account-name series id: its officers so far.
    series_officers: Vec<u32>,
    /// Bumped whenever an officer is added or changes unit: the case → units cache is stale.
    officers_gen: u64,
    /// Per case id: the units of its assigned officers seen so far, as of `officers_gen`.
    case_units: CaseUnits,
    /// The last day closed. Collusion and corroboration entries older than their horizon as of
    /// that day are ignored where they are read, and swept out only when their maps have
    /// doubled since the last sweep: the same answers as a sweep every day, at a fraction of
    /// the cost.
    last_closed: Option<i64>,
    /// Sizes of `recent_unexpl`, `derived`, `last_cited` and `returns` after their last sweep.
    swept: [usize; 4],
    /// Teams of officers whose log names no unit: who works the same cases (see [`Teams`]).
    teams: Teams,
    /// Reused buffer of the day's close: each officer's peer group and sample.
    peer_samples: Vec<(u32, PeerSample)>,
    /// Reused buffers of the day's close (kept, as `peer_samples` is, so that a close neither
    /// allocates nor grows them): every officer's windows of the day being closed, their
    /// windows and peer group for the next day; the officers active that day, and their scores.
    close_officers: Vec<(Windows, Windows, Style)>,
    close_active: Vec<usize>,
    close_scores: Vec<[(f64, Detail, bool); NF]>,
    /// Threads the day's close may use: two where the machine has a second core.
    close_threads: usize,
    /// (officer index, subject) → the officer's pulls of the person with nothing explaining
    /// them, on separate days, within the horizon (see [`Engine::persistent_interest`]).
    /// (Keyed by one 64-bit mix of the two: a map probed for most unexplained pulls is kept
    /// small; two pairs sharing a key are a chance of one in 2^64 per pair of pairs.)
    returns: HashMap<u64, Return>,
    /// The first day of the log, which `returns` counts its days from.
    return_base: Option<i64>,
    /// How many (officer, person) pairs have come to each number of such days
    /// ([`RETURN_BINS`] bins; a pair swept out keeps its last count here).
    return_hist: Vec<u64>,
    /// The law of those numbers as of the last close, once enough pairs came back.
    return_law: Option<BetaGeometric>,
    /// Whether `return_hist` changed since the law was fitted.
    return_hist_changed: bool,
}

/// An officer's latest unexplained pull of a subject, for collusion: who, under which cited
/// case ([`NO_CASE`] for none), when.
#[derive(Debug, Clone, Copy)]
struct Pull {
    officer: u32,
    case: u32,
    time: i64,
}

/// Days of history an officer keeps: the baseline and the recent window, with room to spare.
const HISTORY_DAYS: usize = 40;

/// [`Pull::case`] of a pull that cites no case.
const NO_CASE: u32 = u32::MAX;
/// In a log that says nothing of cases, the case of a pull that was counted as shared with the
/// one before it (see [`Engine::shared_in_secret`]); such a log has no cases to confuse it with.
const PAIRED: u32 = u32::MAX - 1;

/// Where a log names no unit, the officers who work the same cases — assigned to one in the
/// case links, or citing one — stand in for it as peers: a union-find over officer name ids,
/// joined through each case's first officer, and through the first officer of each case
/// number's series ([`case_series`]: numbering is a unit's or a station's). Cases that span teams
/// join them, so at worst all such officers are one group, as they would be without it.
///
/// Joint work (a task force of three units on one case) makes one team of whole units, which
/// is right for who works with whom but leaves no peer group smaller than the agency. As
/// peers, an officer is therefore first of their home series: the series of two thirds of the
/// cases they cite or are assigned to (numbering is their unit's), where at least eight
/// officers of their working style share it (see [`Engine::place`]).
#[derive(Debug, Default)]
struct Teams {
    parent: Vec<u32>,
    size: Vec<u32>,
    /// Per case id: an officer of it (`u32::MAX`: none yet).
    case_rep: Vec<u32>,
    /// Per series id: an officer of a case of it (`u32::MAX`: none yet).
    series_rep: Vec<u32>,
    /// Per case id: its series' id ([`SERIES_UNREAD`] until met, [`SERIES_NONE`] for none).
    case_series: Vec<u32>,
    /// Series ids by series.
    series_ids: HashMap<String, u32>,
    /// Per series id: how many cases of it have been met.
    series_cases: Vec<u32>,
    /// Citations (and assignments) per officer name id and series id.
    cites: HashMap<(u32, u32), u32>,
    /// Per officer name id: their home series and its count ([`SERIES_NONE`], 0: none yet),
    /// and the count over all series.
    home: Vec<(u32, u32, u32)>,
}

const SERIES_UNREAD: u32 = u32::MAX;
const SERIES_NONE: u32 = u32::MAX - 1;

/// A case number's series: the number without its serial, upper-cased — the parts before the
/// trailing ones that hold no letter (`RABINTEL` of `RABINTEL/26/072`, `U00` of `U00/2026/0446`,
/// `CASE-ATU` of `CASE-ATU-00001`, `PS-DHANMONDI` of `PS Dhanmondi 12(3)2024`). None where every
/// part is a number, or where what is left is only a word every series would share (`CASE-0042`,
/// `C-17`).
fn case_series(case: &str) -> Option<String> {
    const GENERIC: [&str; 8] = ["C", "CASE", "CASES", "FILE", "REF", "NO", "GR", "CR"];
    let parts: Vec<&str> =
        case.split(['/', '-', '_', ' ', '.', ':', '#']).filter(|p| !p.is_empty()).collect();
    let keep = parts.iter().rposition(|p| p.chars().any(char::is_alphabetic))? + 1;
    let series: Vec<String> = parts[..keep].iter().map(|p| p.to_uppercase()).collect();
    if series.iter().all(|p| GENERIC.contains(&p.as_str())) {
        return None;
    }
    Some(series.join("-"))
}

/// Peer groups of teams are numbered apart from units' (`group = id * 2 + style`), and those
/// of home series apart from both.
const TEAM_BASE: u32 = 1 << 30;
const SERIES_BASE: u32 = 1 << 29;
/// Peer groups of account-name series, apart from all the others (units are numbered below).
const NAME_BASE: u32 = 1 << 28;

/// The series of an officer's account name: the name without its closing number, upper case
/// (`u02-004` → `U02`, `pbi_07` → `PBI`, `rab3_11` → `RAB3`, `ri015` → `RI`, `CTTC/01` →
/// `CTTC`). Agencies name accounts after the unit or desk and a number as they name case files
/// after the series and a number; a name with no closing number (`j.smith`) has none, and
/// personnel numbers (`BP7805123456`) are all of one series, as if there were none. Of a mail
/// address or a domain account, the account's own part (`cttc07@police.gov.bd`, `DMP\ct017`).
fn account_series(name: &str) -> Option<String> {
    let name = name.split('@').next().unwrap_or(name);
    let name = name.rsplit('\\').next().unwrap_or(name);
    let head = name.trim_end_matches(|c: char| c.is_ascii_digit());
    if head.len() == name.len() {
        return None;
    }
    let parts: Vec<&str> =
        head.split(['/', '-', '_', ' ', '.', ':', '#']).filter(|p| !p.is_empty()).collect();
    parts.iter().any(|p| p.chars().any(char::is_alphabetic)).then(|| parts.join("-").to_uppercase())
}

impl Teams {
    fn grow(&mut self, n: u32) {
        let n = n as usize + 1;
        if self.parent.len() < n {
            let from = self.parent.len() as u32;
            self.parent.extend(from..n as u32);
            self.size.resize(n, 1);
        }
    }

    fn root(&self, mut a: u32) -> u32 {
        while let Some(&p) = self.parent.get(a as usize) {
            if p == a {
                break;
            }
            a = p;
        }
        a
    }

    /// Officer `officer` works case `case`; `number` is the case's number as written, read for
    /// its series the first time the case is met.
    fn join(&mut self, officer: u32, case: u32, number: &str) {
        let c = case as usize;
        if self.case_rep.len() <= c {
            self.case_rep.resize(c + 1, u32::MAX);
        }
        let rep = self.case_rep[c];
        if rep == u32::MAX {
            self.case_rep[c] = officer;
            let series = self.series_of(case, number);
            if let Some(first) = self.series_rep.get_mut(series as usize) {
                if *first == u32::MAX {
                    *first = officer;
                }
                let first = *first;
                self.union(officer, first);
            }
            return;
        }
        self.union(officer, rep);
    }

    /// Officer `officer` cites (or is assigned to) case `case`, numbered `number`: one more for
    /// its series towards their home series. Returns the series ([`SERIES_NONE`] for none).
    fn cite(&mut self, officer: u32, case: u32, number: &str) -> u32 {
        let series = self.series_of(case, number);
        if series == SERIES_NONE {
            return series;
        }
        let n = self.cites.entry((officer, series)).or_insert(0);
        *n += 1;
        let n = *n;
        let o = officer as usize;
        if self.home.len() <= o {
            self.home.resize(o + 1, (SERIES_NONE, 0, 0));
        }
        let (home, best, all) = self.home[o];
        self.home[o] = if home == series || n > best { (series, n, all + 1) } else { (home, best, all + 1) };
        series
    }

    /// The officer's home series: the series of at least two thirds of their cases' citations
    /// and assignments (one who works for several, a support unit, has none).
    fn home_series(&self, officer: u32) -> Option<u32> {
        let (series, n, all) = *self.home.get(officer as usize)?;
        (series != SERIES_NONE && 3 * n >= 2 * all).then_some(series)
    }

    /// The id of case `case`'s series ([`SERIES_NONE`] for none), read from its number the
    /// first time the case is met.
    fn series_of(&mut self, case: u32, number: &str) -> u32 {
        let c = case as usize;
        if self.case_series.len() <= c {
            self.case_series.resize(c + 1, SERIES_UNREAD);
        }
        if self.case_series[c] == SERIES_UNREAD {
            self.case_series[c] = match case_series(number) {
                Some(series) => {
                    let next = self.series_ids.len() as u32;
                    let id = *self.series_ids.entry(series).or_insert(next);
                    if id == next {
                        self.series_rep.push(u32::MAX);
                        self.series_cases.push(0);
                    }
                    if let Some(n) = self.series_cases.get_mut(id as usize) {
                        *n += 1;
                    }
                    id
                }
                None => SERIES_NONE,
            };
        }
        self.case_series[c]
    }

    /// One team of the teams of `officer` and `rep` (the smaller joins the larger).
    fn union(&mut self, officer: u32, rep: u32) {
        self.grow(officer.max(rep));
        let (a, b) = (self.root(officer), self.root(rep));
        if a == b {
            return;
        }
        let (big, small) = if self.size[a as usize] >= self.size[b as usize] { (a, b) } else { (b, a) };
        self.parent[small as usize] = big;
        self.size[big as usize] += self.size[small as usize];
    }
}

/// Whether officers `a` and `b` work together: of one unit, or, where the log names no unit,
/// of one team ([`Teams`]).
fn colleagues(officers: &[Officer], teams: &Teams, no_unit: u32, a: usize, b: usize) -> bool {
    let (Some(x), Some(y)) = (officers.get(a), officers.get(b)) else { return false };
    if x.unit != no_unit || y.unit != no_unit {
        return x.unit == y.unit;
    }
    teams.root(x.name_id) == teams.root(y.name_id)
}

/// How often, in a log that says nothing of cases, two officers who are not colleagues pull the
/// same person within the collusion window: every such sharing counted (`shared`), over the
/// sum across such pairs of the product of their unexplained pulls (`exposure`: all pairs'
/// `(S² - Q)/2` less each group's, kept as the counts grow: `S` and `Q` the sum of the
/// counts and of their squares). A pair's chance count is then its own product's share of
/// everyone else's sharing: people some units all look up (a registry's regulars) are
/// shared by chance, where a uniform draw from everyone the log holds would call it rare.
#[derive(Debug, Default)]
struct SharedRate {
    shared: f64,
    total: f64,
    within: f64,
    sum: f64,
    groups: HashMap<u32, f64>,
}

impl SharedRate {
    /// One more unexplained pull by an officer whose count was `n`, of colleague group `group`.
    fn pull(&mut self, n: f64, group: Option<u32>) {
        self.total += self.sum - n;
        self.sum += 1.0;
        if let Some(g) = group {
            let s = self.groups.entry(g).or_default();
            self.within += *s - n;
            *s += 1.0;
        }
    }

    /// The chance count of a pair whose counts multiply to `product`, which has shared
    /// `shared` times: everyone else's sharing over everyone else's exposure (the pair left
    /// out, so a pair alone in sharing is judged by the uniform draw only).
    fn expected(&self, product: f64, shared: f64) -> f64 {
        let exposure = self.total - self.within - product;
        let others = self.shared - shared;
        if exposure <= 0.0 || others <= 0.0 {
            0.0
        } else {
            product * others / exposure
        }
    }
}

/// An officer's pairs of people shared in secret, as [`Engine::caseless_pairs`] judges them:
/// the least likely pair's surprise, partner, shared count and chance count; how many
/// partners; the most people shared with one.
#[derive(Debug, Clone, Copy, Default)]
struct SecretPairs {
    surprise: f64,
    partner: usize,
    shared: u32,
    expected: f64,
    partners: u32,
    most_shared: u32,
}

/// Whether officers `a` and `b`, both of no unit the log names, share their account names'
/// series ([`account_series`]), and it is a part of the agency — at most half its officers
/// (`per_series`: officers per series), not a prefix every account has (`OFF-`, `BP`).
fn account_colleagues(officers: &[Officer], per_series: &[u32], no_unit: u32, a: usize, b: usize) -> bool {
    let (Some(x), Some(y)) = (officers.get(a), officers.get(b)) else { return false };
    x.unit == no_unit && y.unit == no_unit && {
        let series = account_team(officers, per_series, x);
        series.is_some() && series == account_team(officers, per_series, y)
    }
}

/// The series of an officer's account name where it is a part of the agency (at most half
/// its officers, see [`account_colleagues`]).
fn account_team(officers: &[Officer], per_series: &[u32], o: &Officer) -> Option<u32> {
    let series = o.name_series?;
    per_series.get(series as usize).is_some_and(|&n| 2 * n as usize <= officers.len()).then_some(series)
}

fn add(a: &mut Feats, b: &Feats) {
    for i in 0..NF {
        a[i] += b[i];
    }
}

impl Engine {
    /// A new engine.
    pub fn new(cfg: Config) -> Self {
        let mut e = Self {
            cfg,
            return_hist: vec![0; RETURN_BINS],
            shared_hist: vec![0; RETURN_BINS],
            close_threads: std::thread::available_parallelism().map_or(1, |n| n.get().min(2)),
            ..Self::default()
        };
        e.empty_unit = e.unit_id("");
        e
    }

    /// Load case links (officers and subjects per case).
    pub fn load_cases(&mut self, links: &CaseLinks) {
        let had = !self.says_nothing_of_cases();
        self.has_cases |= !links.officers.is_empty() || !links.subjects.is_empty();
        if !had && self.has_cases {
            self.forget_pair_marks();
        }
        for (c, o) in &links.officers {
            let cid = self.cases.id(c) as usize;
            let nid = self.names.id(o);
            if self.case_officers.len() <= cid {
                self.case_officers.resize_with(cid + 1, Default::default);
            }
            let os = &mut self.case_officers[cid];
            if !os.contains(&nid) {
                os.push(nid);
            }
            self.teams.join(nid, cid as u32, c);
            let _ = self.teams.cite(nid, cid as u32, c);
        }
        for (c, s) in &links.subjects {
            let cid = self.cases.id(c);
            let sid = self.subjects.key(s);
            let v = self.subject_cases.entry(sid).or_default();
            if !v.contains(&cid) {
                v.push(cid);
            }
            if self.case_has_file.len() <= cid as usize {
                self.case_has_file.resize(cid as usize + 1, false);
            }
            self.case_has_file[cid as usize] = true;
        }
    }

    /// Threads the day's close may use (at least one; by default two where the machine has a
    /// second core). Decisions are the same whatever the number; one measures the engine on
    /// one core.
    pub fn set_close_threads(&mut self, threads: usize) {
        self.close_threads = threads.max(1);
    }

    /// Load a watch list.
    pub fn load_watch(&mut self, list: &[(String, WatchLabel)]) {
        for (s, l) in list {
            let sid = self.subjects.key(s);
            self.watch.insert(sid, *l);
        }
    }

    fn unit_id(&mut self, name: &str) -> u32 {
        let id = self.units.id(name);
        if id as usize == self.unit_names.len() {
            self.unit_names.push(name.to_string());
        }
        id
    }

    /// The officer's peer group and style ([`Officer::group`]), with their team standing in
    /// for a unit their log does not name.
    fn style_of(&self, o: &Officer) -> Style {
        self.place(o, o.group(self.routine_share()))
    }

    /// The group of the officer's home series, for an officer whose log names no unit and who
    /// has one ([`Teams::home_series`]), given their style `st` ([`Officer::group`]).
    fn series_style(&self, o: &Officer, st: Style) -> Option<Style> {
        if o.unit != self.empty_unit {
            return None;
        }
        Some(st.within(SERIES_BASE, self.teams.home_series(o.name_id)?))
    }

    /// The peer group of the officer's account-name series ([`account_series`]) for an officer
    /// whose log names no unit, given their style `st` ([`Officer::group`]).
    fn name_style(&self, o: &Officer, st: Style) -> Option<Style> {
        if o.unit != self.empty_unit {
            return None;
        }
        Some(st.within(NAME_BASE, o.name_series?))
    }

    /// [`Engine::style_of`] from the officer's style `st` ([`Officer::group`], which reads
    /// their history: worked out once a close).
    fn place(&self, o: &Officer, st: Style) -> Style {
        if o.unit != self.empty_unit {
            return st;
        }
        // Of one style, a series' group needs more officers than a team (below, five): its
        // officers also have their team to fall back on, and a series' few officers of one
        // style (a district's three or four) would be judged on each other's last week alone.
        // Smaller, its officers are judged with their team.
        if let Some(style) = self.series_style(o, st) {
            if self.series_sizes.get(&style.group).is_some_and(|&n| n >= 8) {
                return style;
            }
        }
        // A team of fewer than five is no peer group (the peers' trimmed means leave out the top
        // fifth: of fewer, nobody, and the officer judged would set their own bar): such
        // officers stay with all the others.
        let root = self.teams.root(o.name_id);
        if self.teams.size.get(root as usize).is_none_or(|&n| n < 5) {
            // Without a team, the officers of their account name's series, where five of
            // their style share it (a unit the log does not name, as its accounts do; as few
            // as a team, since nothing else is left to fall back on).
            return self
                .name_style(o, st)
                .filter(|style| self.series_sizes.get(&style.group).is_some_and(|&n| n >= 5))
                .unwrap_or(st);
        }
        st.within(TEAM_BASE, root)
    }

    /// The officer's style during the day: as of the last close, or worked out afresh while
    /// their history is short (a new officer's style settles in their first days).
    fn style_now(&self, o: &Officer) -> Style {
        if o.history.len() < 8 {
            self.style_of(o)
        } else {
            o.group_cache
        }
    }

    fn officer_index(&mut self, name: &str, name_id: u32, unit: u32) -> usize {
        if let Some(i) = self.name_officer.get(name_id as usize).copied().flatten() {
            if unit != self.empty_unit && self.officers[i].unit != unit {
                self.officers[i].unit = unit;
                self.officers_gen += 1;
            }
            return i;
        }
        self.officers_gen += 1;
        let i = self.officers.len();
        if self.name_officer.len() <= name_id as usize {
            self.name_officer.resize(name_id as usize + 1, None);
        }
        self.name_officer[name_id as usize] = Some(i);
        let name_series = account_series(name).map(|series| {
            let next = self.name_series_ids.len() as u32;
            let id = *self.name_series_ids.entry(series).or_insert(next);
            if self.series_officers.len() <= id as usize {
                self.series_officers.resize(id as usize + 1, 0);
            }
            self.series_officers[id as usize] += 1;
            id
        });
        self.officers.push(Officer {
            name_id,
            name: name.to_string(),
            unit,
            name_series,
            day: i64::MIN,
            hour_key: i64::MIN,
            last_enum_hour: i64::MIN,
            last_time: i64::MIN,
            stretch_since: i64::MIN,
            // The days kept, and the one pushed before the oldest is dropped: reserved at once,
            // as growing it copies the days kept so far and faults in fresh pages.
            history: VecDeque::with_capacity(HISTORY_DAYS + 1),
            rec: Box::new(Findings {
                best_detail: vec![BestDetail::default(); NS],
                last_alert: [(i64::MIN, 0.0); NS],
                ..Findings::default()
            }),
            ..Officer::default()
        });
        i
    }

    /// How far nothing explains an access (see [`Explanation`]; the cited case is interned only
    /// past the point where a case of the officer or their unit explains it, as most accesses
    /// end there, unless the caller already has its id: `cited_id`).
    fn explanation(
        &mut self,
        oi: usize,
        sid: u64,
        ev: &Event,
        cited_id: Option<u32>,
        day: i64,
    ) -> Explanation {
        let plain = Explanation::plain;
        let query = ev.action == Action::NameSearch;
        let traffic = ev.action.is_traffic();
        let officer = self.officers[oi].name_id;
        let unit = self.officers[oi].unit;
        let blank = ev.case.is_empty();
        // Whether any case's file holds the subject, and whether one of them is a case of
        // another unit that the officer has never cited.
        let (linked, other_units) = match self.file_word(oi, sid, blank, day) {
            FileWord::Explains => return plain(0.0),
            FileWord::Holds { other_units } => (true, other_units),
            FileWord::Silent => (false, false),
        };
        if self.says_nothing_of_cases() && blank {
            return self.caseless_explanation(oi, sid, ev.allowed, day);
        }
        // Where the log names no unit: a blank pull a colleague's citation explains, of a case
        // of a series the officer no longer cites (see `alien_series`).
        let mut alien = false;
        let cid = if blank {
            match self.blank_citation(oi, sid, day) {
                BlankWord::Cites { case, alien: of_alien_series } => {
                    alien = of_alien_series;
                    case
                }
                BlankWord::OtherUnits => return Explanation { foreign: true, ..plain(1.0) },
                // Or of a case of another unit's whose file holds the person.
                BlankWord::Nothing => return Explanation { foreign: other_units, ..plain(1.0) },
            }
        } else {
            if !self.cases_cited && !self.has_cases {
                self.forget_pair_marks();
            }
            self.cases_cited = true;
            let cid = cited_id.unwrap_or_else(|| self.cases.id(&ev.case));
            if ev.allowed {
                self.last_cited.insert(sid, (cid, oi as u32, day));
                self.works_case.insert((oi as u32, cid));
            }
            cid
        };
        let on_case =
            |name_id: u32| self.case_officers.get(cid as usize).is_some_and(|os| os.contains(&name_id));
        let own_case = on_case(officer);
        // A name search's subject is the name searched for, not a person: no case file holds
        // it, so a file cannot back it or fail to. Under a case the officer works, the case is
        // its explanation (as for any access the officer's case explains).
        if query && own_case {
            return plain(0.0);
        }
        // The cited case's file holds the subject: the request says why and the file agrees;
        // only the officer is not on the case (case files do not list everyone who works a
        // case, and support units pull for cases of others).
        if linked && self.subject_cases.get(&sid).is_some_and(|cs| cs.contains(&cid)) {
            return Explanation { weight: 0.25, case: cid, first_pull: None, foreign: alien };
        }
        // Corroboration: a colleague of the same unit, or an officer on the case, pulled this
        // subject under this case first (whoever follows a case's lead is not alone in it).
        let (closed, keep) = (self.last_closed, self.cfg.horizon_days());
        let live = |v: &&(usize, i64, bool)| closed.is_none_or(|d| d - v.1 <= keep);
        let first_pull = match self.derived.get(&(cid, sid)).filter(live) {
            Some(&(first, d0, _)) => (first, d0),
            None => {
                self.derived.insert((cid, sid), (oi, day, traffic));
                (oi, day)
            }
        };
        let (first, _) = first_pull;
        let corroborated =
            first != oi && (self.officers[first].unit == unit || on_case(self.officers[first].name_id));
        // A case the links never mention (no officer, no subject): its file is missing, not
        // silent about the person; the citation is a claim nothing can check.
        let unlisted = self.has_cases
            && !self.case_has_file.get(cid as usize).copied().unwrap_or(false)
            && self.case_officers.get(cid as usize).is_none_or(|os| os.is_empty());
        let weight = if corroborated {
            0.25
        } else if own_case || unlisted {
            0.5
        } else {
            1.0
        };
        Explanation { weight, case: cid, first_pull: Some(first_pull), foreign: alien }
    }

    /// What the case files say of officer `oi` pulling person `sid` (`blank`: citing no case)
    /// on `day`: a case of the officer, or of their unit, explains the pull; one of another
    /// unit's (by the units of its listed officers, or where the log names none by its series:
    /// [`Engine::alien_series`]) that the officer has never cited makes a pull citing no case
    /// one of another unit's person ([`F_FOREIGN`]).
    fn file_word(&mut self, oi: usize, sid: u64, blank: bool, day: i64) -> FileWord {
        if !self.has_cases {
            return FileWord::Silent;
        }
        let Some(cs) = self.subject_cases.get(&sid) else { return FileWord::Silent };
        let (officer, unit) = (self.officers[oi].name_id, self.officers[oi].unit);
        let mut other_units = false;
        for &c in cs {
            let Some(os) = self.case_officers.get(c as usize) else { continue };
            if os.contains(&officer) {
                return FileWord::Explains;
            }
            let of_other_unit = if unit != self.empty_unit {
                let (officers, name_officer) = (&self.officers, &self.name_officer);
                let unit_of = |n: u32| Some(officers[name_officer.get(n as usize).copied().flatten()?].unit);
                let (in_unit, known) = self.case_units.of(c, self.officers_gen, os, unit_of, unit);
                if in_unit {
                    return FileWord::Explains;
                }
                known
            } else {
                blank && !os.is_empty() && self.alien_series(oi, c, day)
            };
            // (Read only for a pull citing no case.)
            other_units |= blank && of_other_unit && !self.works_case.contains(&(oi as u32, c));
        }
        FileWord::Holds { other_units }
    }

    /// How a pull by officer `oi` of person `sid` on `day` that leaves the case field blank is
    /// read, in a log that cites cases. Where the officer, or a colleague, pulled the person
    /// citing a case within the corroboration horizon, the field was left blank on that case's
    /// work: the pull is read as citing the case (as explained as the citation was), the way an
    /// officer who looks again at a person of their own case, or of their team's, is explained
    /// by it (Fabbri & LeFevre's repeat access and shared-work explanations). A pull from
    /// before any case was cited cited none.
    fn blank_citation(&self, oi: usize, sid: u64, day: i64) -> BlankWord {
        let (closed, keep) = (self.last_closed, self.cfg.horizon_days());
        let Some(&(c, by, d)) = self.last_cited.get(&sid) else { return BlankWord::Nothing };
        if c == NO_CASE || closed.is_some_and(|cd| cd - d > keep) {
            return BlankWord::Nothing;
        }
        let (officers, teams, no_unit) = (&self.officers, &self.teams, self.empty_unit);
        // Or the case is one the officer has cited themself: a task force's officers of other
        // units, working its case, leave the field blank on it too.
        let works = |c| self.works_case.contains(&(oi as u32, c));
        if by as usize == oi || colleagues(officers, teams, no_unit, oi, by as usize) || works(c) {
            let alien = self.officers[oi].unit == no_unit
                && by as usize != oi
                && self.alien_series(oi, c, day)
                && !works(c);
            BlankWord::Cites { case: c, alien }
        } else {
            BlankWord::OtherUnits
        }
    }

    /// [`Engine::explanation`] of a pull citing no case in a log that says nothing of cases
    /// (no links, no case cited so far): the explanations left are shared work and repeat
    /// access (Fabbri & LeFevre) — a colleague pulled the person within the horizon, or the
    /// officer did on an earlier day (the case work that returns to its suspects); a person
    /// nobody near the officer has touched is unexplained.
    fn caseless_explanation(&mut self, oi: usize, sid: u64, allowed: bool, day: i64) -> Explanation {
        let plain = Explanation::plain;
        let (closed, keep) = (self.last_closed, self.cfg.horizon_days());
        let prev = if allowed {
            self.last_cited.insert(sid, (NO_CASE, oi as u32, day))
        } else {
            self.last_cited.get(&sid).copied()
        };
        let (officers, teams, no_unit) = (&self.officers, &self.teams, self.empty_unit);
        match prev {
            Some((_, by, d)) if closed.is_none_or(|cd| cd - d <= keep) => {
                if by as usize == oi {
                    plain(if d < day { 0.5 } else { 1.0 })
                } else if colleagues(officers, teams, no_unit, oi, by as usize)
                    || account_colleagues(officers, &self.series_officers, no_unit, oi, by as usize)
                {
                    plain(0.25)
                } else {
                    plain(1.0)
                }
            }
            _ => plain(1.0),
        }
    }

    /// Where the log names no unit, whether case `case` is another unit's than officer `oi`'s
    /// now (on `day`): its number's series (one of two cases or more) is none the officer has
    /// cited in the last two windows, while they have cited some. Units are read from case
    /// numbers there (`Teams`), and an officer transferred between units joins both units'
    /// teams; the series they cite now are those of the unit they work in now. An officer who
    /// cites no case (a desk) is not judged by it.
    fn alien_series(&self, oi: usize, case: u32, day: i64) -> bool {
        let Some(&series) = self.teams.case_series.get(case as usize) else { return false };
        // A series of one case is no unit's (numbers such as `C17`, read as their own series).
        if self.teams.series_cases.get(series as usize).is_none_or(|&n| n < 2) {
            return false;
        }
        let since = day - 2 * self.cfg.window_days;
        let mut cites_any = false;
        for &(s, d) in &self.officers[oi].cited_series {
            if d >= since {
                if s == series {
                    return false;
                }
                cites_any = true;
            }
        }
        cites_any
    }

    /// Officer `oi`'s first access on `day`: the day before goes into their history, their
    /// hours and shifts are brought up to date, and they are counted active in their peer
    /// group's day.
    fn start_officer_day(&mut self, oi: usize, day: i64) {
        let usual_share = self.cfg.off_hours_share;
        let o = &mut self.officers[oi];
        if o.day != i64::MIN {
            let closed = std::mem::take(&mut o.today);
            o.rec.whole = o.whole_with(&closed);
            o.history.push_back((o.day, closed));
            while o.history.len() > HISTORY_DAYS {
                o.history.pop_front();
            }
        }
        o.day = day;
        o.active_days += 1;
        o.close_day_hours(usual_share);
        o.shifts = o.works_shifts();
        let o = &self.officers[oi];
        let group = self.style_now(o).group;
        let o = &mut self.officers[oi];
        o.today_group = group;
        o.today_mask = 0;
        let g = self.group_today.entry(group).or_default();
        if g.day != day {
            *g = GroupToday { day, ..GroupToday::default() };
        }
        g.active += 1;
    }

    /// Officer `oi`'s first call-record or location query (`ev`, of explanation weight
    /// `weight`): after a long history without any, on a subject that nothing explains (no
    /// case of the officer or their unit holds it and the officer cites none of their own; a
    /// subject not yet in the file of the officer's own cited case is the common lag of case
    /// records, not a first-time act out of place), it is news. Where the log links no
    /// officers to cases, a cited case is the only explanation there is.
    fn first_traffic(&mut self, oi: usize, ev: &Event, weight: f64) {
        let unexplained_pull = weight >= 1.0 && (self.has_cases || ev.case.is_empty());
        let o = &mut self.officers[oi];
        o.traffic_ever = true;
        if o.active_days < 10 || !unexplained_pull {
            return;
        }
        o.rec.first_traffic_unexpl = true;
        // Say what the log showed: where it says nothing of cases (no case links, no case cited
        // so far) the query's case is unknown, not absent.
        let why = if self.has_cases {
            "on a subject of no case of theirs, citing none of their cases"
        } else if self.cases_cited {
            "citing no case"
        } else {
            "(the log says nothing of cases)"
        };
        let detail = format!(
            "first call-record/location query after {} active days without any, {why}",
            o.active_days
        );
        if self.says_nothing_of_cases() {
            // Nothing in such a log says the query was out of place: it is one of the officer's
            // reasons (and score), not an alert.
            self.record_best(oi, S_FIRST, 3.0, &detail);
        } else {
            self.raise(oi, ev.time, S_FIRST, Severity::Medium, 3.0, detail);
        }
    }

    /// Feed one event. Events should come roughly in time order; late events are counted in
    /// the officer's current day.
    pub fn push(&mut self, ev: &Event) {
        let day = (ev.time + i64::from(ev.offset)).div_euclid(86_400);
        match self.day {
            None => self.day = Some(day),
            Some(d) if day > d => {
                self.close_day(d);
                self.day = Some(day);
            }
            _ => {}
        }
        // The unit's id without hashing its name when it is the officer's known unit.
        let name_id = self.names.id(&ev.officer);
        let unit = match self.name_officer.get(name_id as usize).copied().flatten() {
            _ if ev.unit.is_empty() => self.empty_unit,
            Some(i) if self.unit_names.get(self.officers[i].unit as usize).is_some_and(|n| *n == ev.unit) => {
                self.officers[i].unit
            }
            _ => self.unit_id(&ev.unit),
        };
        let oi = self.officer_index(&ev.officer, name_id, unit);
        // Where the case file says who works a case, its word stands: an officer who cites a
        // case without being on it (a support unit pulling for many teams, or one the file
        // forgot) does not join its team, or one such officer would make all teams one.
        // The cited case's id where it was needed here; `explanation` reuses it.
        let mut cited_id = None;
        if ev.unit.is_empty() && !ev.case.is_empty() {
            let cid = self.cases.id(&ev.case);
            cited_id = Some(cid);
            if self.case_officers.get(cid as usize).is_none_or(|os| os.is_empty()) {
                self.teams.join(name_id, cid, &ev.case);
            }
            let series = self.teams.cite(name_id, cid, &ev.case);
            if series != SERIES_NONE {
                self.officers[oi].cite_series(series, day);
            }
        }
        let new_day = day > self.officers[oi].day;
        if new_day {
            self.start_officer_day(oi, day);
        }
        let previous = {
            let o = &mut self.officers[oi];
            if new_day {
                // Yesterday's entries are stale; unless the hour goes on across midnight (an
                // offset that is not whole hours), so are their hours.
                if ev.time.div_euclid(3600) != o.hour_key {
                    o.seen.clear();
                    o.hour_key = i64::MIN;
                }
            }
            let previous = o.last_time;
            o.last_time = o.last_time.max(ev.time);
            previous
        };
        if let Action::Other(a) = &ev.action {
            let signal = match a.as_str() {
                "break_glass" => Some(S_BREAK_GLASS),
                CREDENTIAL_WITHOUT_CERTIFICATE => Some(S_CREDENTIAL),
                _ => None,
            };
            if let Some(signal) = signal {
                self.counted_event(oi, ev.time, signal);
                return;
            }
        }
        self.first_time.get_or_insert(ev.time);
        let sid = self.subjects.key(&ev.subject);
        self.distinct_subjects.insert(sid);
        let traffic = ev.action.is_traffic();
        let hour = ((ev.time + i64::from(ev.offset)).rem_euclid(86_400) / 3600) as usize;
        let off = self.off_hours_now(oi, hour, ev.time, previous);
        // How far nothing explains the access, and the id of the case it cites.
        let Explanation { weight, case: cited, first_pull, foreign } = if ev.subject.is_empty() {
            Explanation::plain(0.0)
        } else {
            self.explanation(oi, sid, ev, cited_id, day)
        };
        let watch = self.watch.get(&sid).copied();
        // Where no case file is given, a case's file is what the log has pulled under it: a
        // case cited on an earlier day has one, and a person first pulled under it today, by
        // this officer, is one it does not hold.
        let inferred = !self.has_cases && cited != NO_CASE;
        let cited_file = if inferred {
            let c = cited as usize;
            if self.case_first_cited.len() <= c {
                self.case_first_cited.resize(c + 1, i64::MAX);
            }
            let first = &mut self.case_first_cited[c];
            *first = (*first).min(day);
            *first < day
        } else {
            cited != NO_CASE && self.case_has_file.get(cited as usize).copied().unwrap_or(false)
        };
        // A person the file does not hold counts on the day the officer first pulls them under
        // the case: pulling an associate again on later days is the same person the file lacks.
        let unbacked = cited_file
            && !ev.case.is_empty()
            && weight >= 0.5
            && if inferred {
                first_pull == Some((oi, day))
            } else {
                !first_pull.is_some_and(|(first, d0)| first == oi && d0 < day)
            };
        let o = &mut self.officers[oi];
        o.accesses += 1;
        o.explained_weight += 1.0 - weight;
        o.today[F_EVENTS] += 1.0;
        o.today[F_EXPL_EVENTS] += 1.0 - weight;
        let hk = ev.time.div_euclid(3600);
        if hk != o.hour_key {
            o.hour_key = hk;
            o.hour_epoch = o.hour_epoch.wrapping_add(1);
            o.hour_count = 0;
        }
        let (day_tag, hour_tag) = (o.active_days, o.hour_epoch);
        let seen = o.seen.entry(sid).or_insert(Seen {
            day: day_tag.wrapping_sub(1),
            hour: hour_tag.wrapping_sub(1),
            flags: 0,
        });
        if seen.day != day_tag {
            *seen = Seen { day: day_tag, flags: 0, ..*seen };
            o.today[F_SUBJECTS] += 1.0;
            o.today[F_EXPL_SUBJECTS] += 1.0 - weight;
        }
        if seen.hour != hour_tag {
            seen.hour = hour_tag;
            o.hour_count += 1;
        }
        let hs = f64::from(o.hour_count);
        if hs > o.today[F_MAXHOUR] {
            o.today[F_MAXHOUR] = hs;
        }
        let mut sparse_changed = false;
        let unexpl = weight > 0.0 && ev.allowed;
        let first_unexpl = unexpl && seen.flags & SEEN_UNEXPL == 0;
        let first_unexpl_traffic = unexpl && traffic && seen.flags & SEEN_UNEXPL_TRAFFIC == 0;
        if unexpl {
            seen.flags |= SEEN_UNEXPL | if traffic { SEEN_UNEXPL_TRAFFIC } else { 0 };
        }
        // A pull that cites no case and that nothing else explains (no case file, colleague or
        // earlier pull accounting for more than half of it): one day of the officer's
        // unexplained interest in the person (see `persistent_interest`).
        let returned = ev.allowed
            && ev.case.is_empty()
            && ev.action != Action::NameSearch
            && weight >= 0.5
            && seen.flags & SEEN_RETURN == 0;
        if returned {
            seen.flags |= SEEN_RETURN;
        }
        if first_unexpl {
            o.today[F_UNEXPL] += weight;
            sparse_changed = true;
        }
        if foreign && ev.allowed && seen.flags & SEEN_FOREIGN == 0 {
            seen.flags |= SEEN_FOREIGN;
            o.today[F_FOREIGN] += 1.0;
            sparse_changed = true;
        }
        // Accesses citing a case, and of them each subject the file does not hold once (on the
        // first day, see `unbacked`): pulling one associate's records again and again is one
        // person the file lacks, while every pull is work the case asked for.
        // (Where files are inferred from the log, only citations of a case that has one: a
        // case's first day holds nobody yet.)
        if ev.allowed && !ev.case.is_empty() && !ev.subject.is_empty() && (cited_file || !inferred) {
            o.today[F_CITED] += 1.0;
        }
        // The officer's first batch of people the file lacks under a case (each pull within an
        // hour of the last) counts once: a case's first burst of work brings many people its
        // file does not hold yet, all at once (a tower dump's subscribers, a seized phone's
        // contacts). Every later one under the case counts, alone or in a later batch, up to
        // `batch_people` an hour of the batch; beyond that pace the batch is a list's numbers
        // resolved to their owners, and the rest does not count (call records always do).
        if ev.allowed && unbacked && seen.flags & SEEN_UNBACKED == 0 {
            seen.flags |= SEEN_UNBACKED;
            let in_first = o.unbacked_batch.extend(cited, ev.time) && o.unbacked_first;
            let starts_first = !in_first && self.first_batches.insert((oi as u32, cited));
            o.unbacked_first = in_first || starts_first;
            if !in_first && (traffic || o.unbacked_batch.within_pace(self.cfg.batch_people)) {
                o.today[F_UNBACKED] += 1.0;
                sparse_changed = true;
            }
        }
        if traffic {
            o.today[F_TRAFFIC] += 1.0;
            o.today[F_EXPL_TRAFFIC] += 1.0 - weight;
            if ev.allowed && ev.case.is_empty() {
                o.today[F_CASELESS_TRAFFIC] += 1.0;
                sparse_changed = true;
            }
            if first_unexpl_traffic {
                o.today[F_UNEXPL_TRAFFIC] += weight;
                sparse_changed = true;
            }
        }
        if off && weight > 0.0 && ev.allowed && !ev.subject.is_empty() {
            o.today[F_UNEXPL_OFF] += weight;
        }
        if off {
            o.today[F_OFFHOURS] += 1.0;
            sparse_changed = true;
        }
        if o.hours_known() {
            o.today[F_JUDGED] += 1.0;
        }
        if !ev.allowed {
            o.today[F_DENIED] += 1.0;
            sparse_changed = true;
        } else if ev.records == 0 && !matches!(ev.action, Action::Other(_)) {
            // Lookups under one cited case that find nobody, each within an hour of the last:
            // one batch (a tower dump's or a seized phone's numbers, some of another operator),
            // counted once. A sweep citing no case counts every empty lookup, and a batch's
            // size still counts in volume.
            let batch = cited != NO_CASE && o.notfound_batch.extend(cited, ev.time);
            if !batch {
                o.today[F_NOTFOUND] += 1.0;
                sparse_changed = true;
            }
        }
        o.hour_hist[hour] += 1.0;
        o.hour_total += 1.0;
        // Routine work: identity checks citing no case. Call records without a case are
        // never routine (they need a warrant), so they do not make an officer look like a desk.
        if ev.case.is_empty() && !traffic {
            o.caseless += 1;
            o.today[F_CASELESS] += 1.0;
        }
        if traffic && ev.allowed && !self.officers[oi].traffic_ever {
            self.first_traffic(oi, ev, weight);
        }
        if let Some(label) = watch {
            self.watch_hit(oi, ev, label, weight);
        }
        if ev.allowed {
            self.enumeration(oi, ev);
        }
        if returned {
            self.persistent_interest(oi, sid, ev, day);
        }
        // Collusion is two officers sharing subjects that no case explains. A log that says
        // nothing about cases (no case links, no case cited) explains nothing, so colleagues'
        // shared case work would read as collusion: there only officers who are not colleagues
        // (another unit; where the log names none, another account series) are paired, on
        // people no one else pulled, the chance of their sharing is this log's own, and what
        // they share is a reason in the score, not an alert (`Engine::shared_in_secret`). Where cases
        // are cited but not linked to subjects, the declared case is the only explanation
        // there is: pulls citing none are shared in secret, and so are pulls citing a case for
        // a person its file (as the log shows it) did not hold; two units working the same
        // suspects, each under its own case, are joint work once they have shared one.
        let explains = self.has_cases || (self.cases_cited && (ev.case.is_empty() || unbacked));
        let caseless = self.says_nothing_of_cases();
        if weight >= 0.5 && ev.allowed && !ev.subject.is_empty() && (explains || caseless) {
            self.collusion(oi, sid, cited, ev.time);
        }
        if sparse_changed {
            let o = &mut self.officers[oi];
            let mask = (0..NF).filter(|&f| SPARSE[f] && o.today[f] > 0.0).fold(0u32, |m, f| m | 1 << f);
            let new = mask & !o.today_mask;
            if new != 0 {
                o.today_mask = mask;
                let g = self.group_today.entry(o.today_group).or_default();
                if g.day == day {
                    for f in (0..NF).filter(|&f| new & 1 << f != 0) {
                        g.with[f] += 1;
                    }
                }
            }
            self.check_intraday(oi, ev.time);
        }
    }

    /// Whether an access at `t` (in local hour `hour`) is at an unusual hour for the officer,
    /// whose access before it was at `previous`: for an officer who works shifts (a rota), an
    /// unusual hour of the clock is not unusual in a stretch of work without a break of over
    /// an hour that began at a usual hour at most ten hours before (a shift with its overtime:
    /// the tail of a night shift at 06:00, which the unit's averaged hours hold under 1%).
    /// Work resumed after a break at an unusual hour is unusual. An officer of one shift who
    /// stays on past it is at unusual hours: staying on after work to pull records is how the
    /// seed case's insiders worked.
    fn off_hours_now(&mut self, oi: usize, hour: usize, t: i64, previous: i64) -> bool {
        const BREAK: i64 = 3600;
        const SHIFT: i64 = 10 * 3600;
        let usual = !self.is_off_hours(oi, hour);
        let o = &mut self.officers[oi];
        let continuing = previous != i64::MIN && t - previous <= BREAK;
        o.stretch_since = match (continuing, usual) {
            (true, _) if o.stretch_since != i64::MIN => o.stretch_since,
            (_, true) => t,
            (_, false) => i64::MIN,
        };
        let overtime = o.shifts && continuing && o.stretch_since != i64::MIN && t - o.stretch_since <= SHIFT;
        !usual && !overtime
    }

    /// Whether `hour` is unusual for the officer: under the configured share in the officer's
    /// own hour profile, blended with the unit's (or a day-shift default) as a prior worth 30
    /// accesses, and, in the officer's first two weeks, also in the same blend with the unit's
    /// hours worth a week of the officer's own work, or, for an officer who works several
    /// shifts, also under it in the unit's hours alone. A shift pattern shows over weeks (rotas turn weekly): an hour
    /// the officer has not worked yet but their unit often does is not unusual in their first
    /// weeks, nor for someone on a rota, while a one-shift officer's own habit decides once it
    /// is known.
    fn is_off_hours(&self, oi: usize, hour: usize) -> bool {
        const PRIOR: f64 = 30.0;
        let o = &self.officers[oi];
        // A new officer's shift is unknown: judge hours only once there is some history.
        if !o.hours_known() || o.usual_hours & 1 << hour != 0 {
            return false;
        }
        let prior_share = match self.unit_hours.get(o.unit as usize) {
            Some((h, n)) if *n >= 3.0 => h[hour] / n,
            _ => {
                if (7..22).contains(&hour) {
                    1.0 / 15.0
                } else {
                    0.0
                }
            }
        };
        let blend = |prior: f64| (o.hour_hist[hour] + prior * prior_share) / (o.hour_total + prior);
        if blend(PRIOR) >= self.cfg.off_hours_share {
            return false;
        }
        // Until the officer has worked two weeks their pattern is not known yet (the unit's
        // hours weigh a week of their own work); for one who works several shifts (a rota), an
        // hour is unusual only if their unit does not work it either (their own share is under
        // the threshold already, above).
        if o.shifts {
            return prior_share < self.cfg.off_hours_share;
        }
        o.active_days >= 14 || blend(7.0 * o.hour_total / f64::from(o.active_days)) < self.cfg.off_hours_share
    }

    /// The hours each unit works, for [`Engine::is_off_hours`]: its officers' hour profiles
    /// averaged, each officer counting once. Summed over accesses instead, a unit's profile is
    /// its busiest officers' hours (a desk doing fifty checks a day drowns the evenings of the
    /// investigators beside it, and where a log names no units, the whole agency is one).
    /// Officers with fewer than 20 accesses so far are left out (their profile is noise).
    fn unit_hours_at_close(&mut self) {
        let mut uh = std::mem::take(&mut self.unit_hours);
        uh.iter_mut().for_each(|u| *u = ([0.0; 24], 0.0));
        for o in self.officers.iter().filter(|o| o.hour_total >= 20.0) {
            let u = o.unit as usize;
            if uh.len() <= u {
                uh.resize(u + 1, ([0.0; 24], 0.0));
            }
            for (sum, n) in uh[u].0.iter_mut().zip(&o.hour_hist) {
                *sum += n / o.hour_total;
            }
            uh[u].1 += 1.0;
        }
        self.unit_hours = uh;
    }

    /// An event that is no data but evidence in itself, counted within the window: each adds 3
    /// to the surprise, from the medium level for an emergency access grant (a claim that the
    /// rules did not fit: rare and reviewed), from the high level for an officer's credential
    /// presented without the client certificate it is bound to (someone else holds the token,
    /// or the officer works from a machine that is not theirs).
    fn counted_event(&mut self, oi: usize, t: i64, signal: usize) {
        let window = self.cfg.window_days * 86_400;
        let (base, what) = if signal == S_BREAK_GLASS {
            (self.cfg.medium, "break-glass grant(s)")
        } else {
            (self.cfg.high, "use(s) of their credential without the client certificate it is bound to")
        };
        let o = &mut self.officers[oi];
        let times = if signal == S_BREAK_GLASS { &mut o.break_glass } else { &mut o.unbound_uses };
        times.push_back(t);
        while times.front().is_some_and(|&x| x <= t - window) {
            times.pop_front();
        }
        let n = times.len();
        let s = base + 3.0 * (n as f64 - 1.0);
        // Alert at the 1st, 2nd, 4th, 8th… in the window, not at every one.
        if !n.is_power_of_two() {
            if s > o.rec.best[signal] {
                o.rec.best[signal] = s;
            }
            return;
        }
        if let Some(sev) = self.severity(s) {
            let detail = format!("{n} {what} within {} days", self.cfg.window_days);
            self.raise(oi, t, signal, sev, s, detail);
        }
    }

    fn watch_hit(&mut self, oi: usize, ev: &Event, label: WatchLabel, weight: f64) {
        match label {
            WatchLabel::Honeytoken => {
                self.officers[oi].rec.honey_hits += 1;
                let detail = format!(
                    "{} on honeytoken subject `{}` ({}): no legitimate work touches it",
                    ev.action.as_str(),
                    ev.subject,
                    if ev.allowed { "allowed" } else { "denied" }
                );
                self.raise(oi, ev.time, S_HONEY, Severity::Critical, 20.0, detail);
            }
            WatchLabel::Vip if weight >= 0.5 => {
                self.officers[oi].rec.vip_hits += 1;
                // Say what is missing: a link to the officer's cases, or (in a log that links no
                // subjects to cases) any way to check the case they cite.
                let why = match (self.has_cases, ev.case.is_empty()) {
                    (true, _) => "not linked to their cases".to_string(),
                    // Where the log has said nothing of cases, that the case is unknown.
                    (false, true) if !self.cases_cited => "(the log says nothing of cases)".to_string(),
                    (false, true) => "citing no case".to_string(),
                    (false, false) => {
                        format!(
                            "citing case `{}`, which the log cannot check (it links no subjects to cases)",
                            ev.case
                        )
                    }
                };
                // Where the log links no subjects to cases, nothing can check why the person was
                // looked up, whether a case is cited or not: the officer may well be working a
                // case whose target this person is (persons of public life are lawful targets of
                // some cases). One such lookup is a reason in the officer's score, not an alert;
                // a second watch-listed person within the baseline's days (a month), or the same
                // person under another case, is high. The same person looked up again under the
                // same case (or again citing none) is the lookup already counted (a case's target
                // is looked up again and again). Where case links can check it, one lookup is
                // high.
                let mut detail =
                    format!("{} on watch-listed person `{}` {why}", ev.action.as_str(), ev.subject);
                if !self.has_cases {
                    let month = self.cfg.baseline_days * 86_400;
                    let case = if ev.case.is_empty() { NO_CASE } else { self.cases.id(&ev.case) };
                    let claim = (self.subjects.key(&ev.subject), case);
                    let claims = &mut self.officers[oi].rec.vip_claims;
                    claims.retain(|c| ev.time.saturating_sub(c.2) <= month);
                    if claims.iter().any(|c| (c.0, c.1) == claim) {
                        return;
                    }
                    let earlier = claims.len();
                    claims.push((claim.0, claim.1, ev.time));
                    if earlier == 0 {
                        self.record_best(oi, S_VIP, self.cfg.medium, &detail);
                        return;
                    }
                    detail.push_str(&format!(
                        "; {earlier} other watch-listed lookup{} in the last {} days",
                        if earlier == 1 { "" } else { "s" },
                        self.cfg.baseline_days
                    ));
                }
                self.raise(oi, ev.time, S_VIP, Severity::High, 8.0, detail);
            }
            WatchLabel::Vip => {}
        }
    }

    /// One more day on which the officer pulled a person with nothing explaining it: no case
    /// cited, and no case file, colleague's pull or earlier pull of their own accounting for
    /// more than half of it. (A case cited is a claim; where the log can check it, a claim it
    /// does not back is unexplained access already.) Someone who keeps coming back to one
    /// person that no case holds (a former partner's phone, a neighbour's whereabouts) pulls
    /// little and in ordinary hours; what stands out is the number of days. It is judged against how often
    /// every officer's unexplained people come back in this log: the counts of days of all
    /// (officer, person) pairs, fitted as a beta-geometric law (each pair comes back with a
    /// chance of its own; a log where some unexplained people are routinely pulled again —
    /// case work with no case recorded — has a heavy tail and flags nothing). The surprise is
    /// that of the officer's most-returned person among all their unexplained people:
    /// `-log10(m · P(K >= k))`.
    fn persistent_interest(&mut self, oi: usize, sid: u64, ev: &Event, day: i64) {
        let base = *self.return_base.get_or_insert(day);
        let today = u16::try_from(day - base).unwrap_or(if day < base { 0 } else { u16::MAX });
        let key = sid ^ (oi as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let e = self.returns.entry(key).or_insert(Return { last: today, first: today, days: 0 });
        if e.last == today && e.days > 0 {
            return;
        }
        if i64::from(today) - i64::from(e.last) > self.cfg.horizon_days() {
            // A run that ended past the horizon (not swept yet): this pull starts the next,
            // as it would after the sweep.
            *e = Return { last: today, first: today, days: 0 };
        }
        let old = usize::from(e.days);
        e.days = e.days.saturating_add(1);
        e.last = today;
        let (k, first) = (e.days, base + i64::from(e.first));
        let bin = |n: usize| n.min(RETURN_BINS - 1);
        if old == 0 {
            self.officers[oi].rec.return_people += 1;
        } else {
            let h = &mut self.return_hist[bin(old)];
            *h = h.saturating_sub(1);
        }
        self.return_hist[bin(usize::from(k))] += 1;
        self.return_hist_changed = true;
        let rec = &mut self.officers[oi].rec;
        if rec.return_best.as_ref().is_none_or(|b| k > b.0) {
            rec.return_best = Some((k, ev.subject.clone(), first));
        }
        if k < 3 {
            return;
        }
        let Some(law) = self.return_law else { return };
        let people = rec.return_people;
        let s = return_surprise(law, k, people);
        if let Some(sev) = self.severity(s) {
            let detail = return_detail(&ev.subject, k, first, people, law, s);
            self.raise(oi, ev.time, S_RETURN, sev, s, detail);
        }
    }

    fn enumeration(&mut self, oi: usize, ev: &Event) {
        let Some(v) = digits_value(ev.subject.as_bytes()) else { return };
        let dist = self.cfg.enumeration_distance;
        let o = &mut self.officers[oi];
        let expired = o.numeric.iter().take_while(|&&(t, _)| ev.time - t > 3600).count();
        if expired > 0 {
            o.numeric.drain(..expired);
        }
        let near = o.numeric.iter().filter(|&&(_, u)| u != v && u.abs_diff(v) <= dist).count();
        o.numeric.push((ev.time, v));
        if o.numeric.len() > 64 {
            o.numeric.remove(0);
        }
        let hour = ev.time.div_euclid(3600);
        if near >= self.cfg.enumeration_neighbours && o.last_enum_hour != hour {
            o.last_enum_hour = hour;
            o.rec.enum_hits += 1;
            let detail = format!(
                "{near} identifiers within {dist} of `{}` looked up within the hour: enumerated identifiers",
                ev.subject
            );
            self.raise(oi, ev.time, S_ENUM, Severity::High, 8.0, detail);
        }
    }

    /// Two officers pulling the same unexplained subjects within hours of each other. The
    /// shared count is compared with what chance gives two officers with their volumes of
    /// unexplained pulls over the subjects seen, so busy routine desks do not collude by
    /// coincidence.
    fn collusion(&mut self, oi: usize, sid: u64, case: u32, t: i64) {
        let horizon = self.cfg.collusion_hours * 3600;
        let caseless = self.says_nothing_of_cases();
        if caseless {
            let group = self.colleague_group(oi);
            self.shared_rate.pull(self.officers[oi].unexpl_pulls as f64, group);
        }
        self.officers[oi].unexpl_pulls += 1;
        // What the sweep at the last close would have dropped is dropped here too.
        let floor = self.last_closed.map_or(i64::MIN, |d| (d + 1) * 86_400 - horizon - 86_400);
        let list = self.recent_unexpl.entry(sid).or_default();
        list.retain(|e| t - e.time <= horizon && e.time >= floor);
        let me = oi as u32;
        if let Some(e) = list.iter_mut().find(|e| e.officer == me) {
            let case = if caseless { e.case } else { case };
            *e = Pull { officer: me, case, time: t };
            return; // already counted for this subject
        }
        if caseless {
            self.shared_in_secret(oi, sid, t);
            return;
        }
        // The list holds each officer once, and not this one (returned above). Two pulls that
        // cite the same case share the subject in the open: the case says why both looked.
        let mut others = std::mem::take(&mut self.scratch);
        others.clear();
        // Where no links say what a case holds, two cases cited for the same person, each by
        // its own officer, are joint work the second time (one operation, two files): the
        // first such person counts, as two officers each citing a case of their own for people
        // those cases never held is the cover the seed case's insiders used.
        let (linked, joint) = (self.has_cases, &mut self.joint_cases);
        let (officers, teams, no_unit) = (&self.officers, &self.teams, self.empty_unit);
        others.extend(
            list.iter()
                .filter(|e| case == NO_CASE || e.case != case)
                // A colleague's pull of the person citing a case, and one citing none: the case
                // field left blank on the team's own work, which the other pull declared.
                .filter(|e| {
                    (case == NO_CASE) == (e.case == NO_CASE)
                        || !colleagues(officers, teams, no_unit, oi, e.officer as usize)
                })
                .filter(|e| {
                    if linked || case == NO_CASE || e.case == NO_CASE {
                        return true;
                    }
                    joint.insert((case.min(e.case), case.max(e.case)))
                })
                .map(|e| e.officer as usize),
        );
        list.push(Pull { officer: me, case, time: t });
        let elapsed = (t - self.first_time.unwrap_or(t)).max(horizon) as f64;
        let population = self.distinct_subjects.estimate().max(1000.0);
        for &o2 in &others {
            let key = (oi.min(o2), oi.max(o2));
            let e = self.pairs.entry(key).or_insert((0, t));
            let new_pair = e.0 == 0;
            e.0 += 1;
            e.1 = t;
            let shared = e.0;
            let (na, nb) =
                (self.officers[key.0].unexpl_pulls as f64, self.officers[key.1].unexpl_pulls as f64);
            let expected = na * nb * (2.0 * horizon as f64 / elapsed).min(1.0) / population;
            let s = surprise(f64::from(shared), expected, 1.0);
            let window = self.cfg.window_days * 86_400;
            for me in [key.0, key.1] {
                if s > self.officers[me].rec.best_collusion {
                    // Said here as well as in an alert: evidence short of one still counts in
                    // the officer's score, and a reason must say what it is.
                    let other = if me == key.0 { key.1 } else { key.0 };
                    let detail = format!(
                        "{shared} unexplained subject{} also pulled by `{}` within {}h of each other; {expected:.2} expected by chance (p≈1e-{s:.0})",
                        if shared == 1 { "" } else { "s" },
                        self.officers[other].name,
                        self.cfg.collusion_hours
                    );
                    let rec = &mut self.officers[me].rec;
                    rec.best_collusion = s;
                    rec.best_detail[S_COLLUSION] = BestDetail::Text(detail);
                }
                let rec = &mut self.officers[me].rec;
                rec.partners += u32::from(new_pair);
                // Beside the officer's other signals: a pair sharing two subjects or more,
                // its surprise less the officer's choice among every officer they have shared
                // a subject with (in a large agency one shared subject with someone is common).
                let evidence = if shared >= 2 { s - f64::from(rec.partners).log10() } else { 0.0 };
                if evidence >= rec.collusion_recent.0 || t - rec.collusion_recent.1 > window {
                    rec.collusion_recent = (evidence, t);
                }
            }
            if shared >= self.cfg.collusion_min_shared && s >= self.cfg.high && self.pair_alerted.insert(key)
            {
                let (a, b) = (self.officers[key.0].name.clone(), self.officers[key.1].name.clone());
                let cross = if self.officers[key.0].unit != self.officers[key.1].unit {
                    " in different units"
                } else {
                    ""
                };
                for (me, other) in [(key.0, &b), (key.1, &a)] {
                    let detail = format!(
                        "{shared} unexplained subjects also pulled by `{other}`{cross} within {}h of each other; {expected:.2} expected by chance (p≈1e-{s:.0})",
                        self.cfg.collusion_hours
                    );
                    self.raise(me, t, S_COLLUSION, Severity::High, s, detail);
                }
            }
        }
        self.scratch = others;
    }

    /// Where the log says nothing of cases, a person two officers who are not colleagues pull
    /// within the window, and no one else, is shared in secret: counted for the pair (`pairs`,
    /// [`SharedRate`], `shared_hist`), judged at the report ([`Engine::caseless_pairs`]), never
    /// an alert, as nothing in such a log tells one operation's joint work from a buyer's. An
    /// operation's people are pulled by several of its officers: a third officer's pull within
    /// the window takes the pair's count of that person back (Fabbri & LeFevre's shared-work
    /// explanation, the crowd standing in for the case). The pull that made a pair is marked
    /// [`PAIRED`] in the subject's list of recent pulls (this officer's is not there yet).
    fn shared_in_secret(&mut self, oi: usize, sid: u64, t: i64) {
        let me = oi as u32;
        let Some(list) = self.recent_unexpl.get_mut(&sid) else { return };
        let (pair, step) = match list.as_mut_slice() {
            [a] => ((a.officer as usize, oi), 1),
            [a, b] if b.case == PAIRED => {
                b.case = NO_CASE;
                ((a.officer as usize, b.officer as usize), -1)
            }
            _ => ((0, 0), 0),
        };
        let counted = step > 0
            && !colleagues(&self.officers, &self.teams, self.empty_unit, pair.0, pair.1)
            && !account_colleagues(&self.officers, &self.series_officers, self.empty_unit, pair.0, pair.1);
        list.push(Pull { officer: me, case: if counted { PAIRED } else { NO_CASE }, time: t });
        if !counted && step >= 0 {
            return;
        }
        let key = (pair.0.min(pair.1), pair.0.max(pair.1));
        let e = self.pairs.entry(key).or_insert((0, t));
        let old = e.0;
        e.0 = if step > 0 { old + 1 } else { old.saturating_sub(1) };
        e.1 = t;
        let new = e.0;
        self.shared_rate.shared += f64::from(new) - f64::from(old);
        let bin = |n: u32| (n as usize).min(RETURN_BINS - 1);
        if let Some(h) = self.shared_hist.get_mut(bin(old)).filter(|_| old > 0) {
            *h = h.saturating_sub(1);
        }
        if let Some(h) = self.shared_hist.get_mut(bin(new)).filter(|_| new > 0) {
            *h += 1;
        }
    }

    /// A log that said nothing of cases has started to: the marks of pairs made while it did
    /// not ([`PAIRED`]) are pulls citing no case again.
    fn forget_pair_marks(&mut self) {
        for list in self.recent_unexpl.values_mut() {
            for e in list.iter_mut().filter(|e| e.case == PAIRED) {
                e.case = NO_CASE;
            }
        }
    }

    /// Per officer, in a log that says nothing of cases: the pair they shared people with in
    /// secret ([`Engine::shared_in_secret`]) whose count is the least likely by chance, judged
    /// now, over the whole log, with the number of such partners and the most people shared
    /// with one of them. Chance is the larger of a uniform draw from everyone the log holds
    /// and this log's own rate ([`SharedRate`]).
    fn caseless_pairs(&self) -> Vec<SecretPairs> {
        let mut out = vec![SecretPairs::default(); self.officers.len()];
        let horizon = self.cfg.collusion_hours * 3600;
        let last = self.officers.iter().map(|o| o.last_time).max().unwrap_or(i64::MIN);
        let elapsed = (last - self.first_time.unwrap_or(last)).max(horizon) as f64;
        let population = self.distinct_subjects.estimate().max(1000.0);
        for (&(a, b), &(shared, _)) in self.pairs.iter().filter(|(_, v)| v.0 > 0) {
            let product = self.officers[a].unexpl_pulls as f64 * self.officers[b].unexpl_pulls as f64;
            let uniform = product * (2.0 * horizon as f64 / elapsed).min(1.0) / population;
            let expected = uniform.max(self.shared_rate.expected(product, f64::from(shared)));
            let s = surprise(f64::from(shared), expected, 1.0);
            for (me, other) in [(a, b), (b, a)] {
                let x = &mut out[me];
                x.partners += 1;
                x.most_shared = x.most_shared.max(shared);
                // Ties go to the partner listed first, so the report does not depend on the
                // map's order.
                if s > x.surprise || (s == x.surprise && (x.shared == 0 || other < x.partner)) {
                    (x.surprise, x.partner, x.shared, x.expected) = (s, other, shared, expected);
                }
            }
        }
        out
    }

    /// The share of an officer's accesses that identity checks citing no case must reach for
    /// their work to be routine (a desk's, see [`Officer::group`]): where cases are cited, most
    /// of it; in a log that says nothing of cases every identity check cites none, and what
    /// tells a desk from an investigator is the action: a desk's work is identity checks, at
    /// most one access in twenty call records or locations. (With most of it there, the
    /// investigators whose cases bring more identity checks than call records were judged
    /// against the desks' hundreds of strangers a day.)
    fn routine_share(&self) -> f64 {
        if self.says_nothing_of_cases() {
            0.95
        } else {
            0.6
        }
    }

    /// The group of an officer's colleagues where the log says nothing of cases: their unit,
    /// else their account names' series where it is a part of the agency (as
    /// [`account_colleagues`] has it), else none.
    fn colleague_group(&self, oi: usize) -> Option<u32> {
        let o = self.officers.get(oi)?;
        if o.unit != self.empty_unit {
            return Some(o.unit);
        }
        account_team(&self.officers, &self.series_officers, o).map(|series| series | 1 << 31)
    }

    /// Whether the log has said nothing of cases so far: no case links given, no case cited.
    fn says_nothing_of_cases(&self) -> bool {
        !self.has_cases && !self.cases_cited
    }

    /// Keep `s` (with its evidence) as the officer's best of `signal` if it is.
    fn record_best(&mut self, oi: usize, signal: usize, s: f64, detail: &str) {
        let o = &mut self.officers[oi];
        if s > o.rec.best[signal] {
            o.rec.best[signal] = s;
            o.rec.best_detail[signal] = BestDetail::Text(detail.to_string());
        }
    }

    /// Record an alert (deduplicated per signal within the window unless much stronger).
    fn raise(&mut self, oi: usize, t: i64, signal: usize, sev: Severity, s: f64, detail: String) {
        let window = self.cfg.window_days * 86_400;
        // An alert at `(last_t, last_s)` already told this news: within the window, at this
        // severity or above (a medium alert must not hold back the high one that follows), and
        // not much weaker: a repeat is news only as strong again as all the evidence already
        // reported (the p-value squared), so a run of events that keeps growing is reported a
        // few times, not at every event.
        let told = |(last_t, last_s): (i64, f64)| {
            last_t != i64::MIN
                && t - last_t < window
                && s < 2.0 * last_s
                && Some(sev) <= self.severity(last_s)
        };
        // Unexplained subjects at unusual hours are some of the off-hours accesses (all of them
        // where the log explains nothing): an alert on either, told already by the other, is
        // the same news told twice.
        let twin = match signal {
            S_OFFHOURS => Some(S_UNEXPL_OFF),
            S_UNEXPL_OFF => Some(S_OFFHOURS),
            _ => None,
        };
        let last = &self.officers[oi].rec.last_alert;
        let repeat_ok = signal == S_HONEY || signal == S_COLLUSION;
        let already = (!repeat_ok && told(last[signal])) || twin.is_some_and(|w| told(last[w]));
        self.record_best(oi, signal, s, &detail);
        if already {
            return;
        }
        let o = &mut self.officers[oi];
        o.rec.last_alert[signal] = (t, s);
        if sev >= Severity::High && o.rec.first_flagged.is_none_or(|f| t < f) {
            o.rec.first_flagged = Some(t);
        }
        self.alerts.push(Alert {
            unix: t,
            time: time::format_utc(t),
            officer: o.name.clone(),
            detector: SIGNAL_CODES[signal].to_string(),
            severity: sev,
            detail,
        });
    }

    fn severity(&self, s: f64) -> Option<Severity> {
        if s >= self.cfg.critical {
            Some(Severity::Critical)
        } else if s >= self.cfg.high {
            Some(Severity::High)
        } else if s >= self.cfg.medium {
            Some(Severity::Medium)
        } else {
            None
        }
    }

    /// The officer's recent window (the `window_days` before `day`), short window (the
    /// `short_window_days` before `day`) and own baseline (the `baseline_days` before the
    /// recent window), with the same windows of `day + 1` (tomorrow's intraday history), in
    /// one pass over the officer's history.
    fn windows_today_and_tomorrow(&self, o: &Officer, day: i64) -> (Windows, Windows) {
        let (w, sw) = (self.cfg.window_days, self.cfg.short_window_days.min(self.cfg.window_days));
        let b = self.cfg.baseline_days;
        let (mut today, mut next) = (Windows::default(), Windows::default());
        // Tomorrow's long and base windows are today's with one day out and one in: the long
        // window gives up `day - w + 1` (to the baseline) and takes `day`; the baseline gives up
        // `day - w - b + 1`. (A window of one day is always empty; so is a baseline of none.)
        let (mut to_base, mut leaves_base, mut today_feats) = (None, None, None);
        let pending = (o.day < day + 1 && o.day != i64::MIN).then_some((o.day, o.today));
        for (d, f) in o.history.iter().chain(pending.iter()) {
            let d = *d;
            if d > day - w && d < day {
                today.long.add(f);
                if d > day - sw {
                    today.short.add(f);
                }
            } else if d <= day - w && d > day - w - b {
                today.base.add(f);
            }
            if d == day - w + 1 {
                to_base = Some(f);
            }
            if d == day - w - b + 1 {
                leaves_base = Some(f);
            }
            if d == day {
                today_feats = Some(f);
            }
            if d > day + 1 - sw && d <= day {
                next.short.add(f);
            }
        }
        next.long = today.long;
        next.base = today.base;
        if w >= 2 {
            if let Some(f) = to_base {
                next.long.sub(f);
            }
            if let Some(f) = today_feats {
                next.long.add(f);
            }
        }
        if b >= 1 {
            if let Some(f) = leaves_base {
                next.base.sub(f);
            }
            if let Some(f) = to_base {
                next.base.add(f);
            }
        }
        (today, next)
    }

    /// Score the long window and, for sparse signals, the short one too, keeping per feature
    /// the stronger at the price of the choice.
    fn score_scan(
        &self,
        o: &Officer,
        w: &Windows,
        base: Option<&Window>,
        peers: &PeerRate,
        sparse_only: bool,
    ) -> [(f64, Detail, bool); NF] {
        let base = base.filter(|b| b.days > 0.0);
        let mut out = self.score_window(o, &w.long.sum, w.long.days, base, peers, sparse_only);
        if w.short.days >= w.long.days {
            return out;
        }
        let alt = self.score_window(o, &w.short.sum, w.short.days, base, &peers.short(), true);
        for f in (0..NF).filter(|&f| SPARSE[f]) {
            let (s, detail, alertable) = if alt[f].0 > out[f].0 { alt[f] } else { out[f] };
            let s = (s - std::f64::consts::LOG10_2).max(0.0);
            out[f] = (s, Detail { s, ..detail }, alertable);
        }
        out
    }

    /// Score an officer's window (history part + today) against peers and own baseline.
    /// Returns per feature the surprise, a detail, and whether it may raise an alert (plain
    /// volume may only once the officer has an own baseline).
    fn score_window(
        &self,
        o: &Officer,
        hist: &Feats,
        hdays: f64,
        base: Option<&Window>,
        peers: &PeerRate,
        sparse_only: bool,
    ) -> [(f64, Detail, bool); NF] {
        let mut out: [(f64, Detail, bool); NF] = Default::default();
        let days = hdays + 1.0;
        let mut own = *hist;
        add(&mut own, &o.today);
        for f in 0..NF {
            let x = own[f];
            if x <= 0.0 || descriptive(f) || (sparse_only && !SPARSE[f]) {
                continue;
            }
            let mu_p = peer_expectation(peers, f, days, &own);
            let phi = peer_phi(peers, f, &own);
            let s_peer = surprise(x, mu_p, phi);
            let (s, own, alertable) = match base {
                Some(b) if OWN_HISTORY[f] && b.days >= 5.0 => {
                    let (xo, mu_o) = own_expectation(peers, f, &own, days, &b.sum, b.days);
                    // Volume on the scale of the officer's own day-to-day spread where that
                    // is wider; sparse counts (nights, call records citing no case) come in
                    // clumps for everyone, and a clump is what they are there to see.
                    let phi_o = if SPARSE[f] { phi } else { phi.max(b.dispersion(f)) };
                    let s_own = surprise(xo, mu_o, phi_o);
                    (s_peer.min(s_own), Some((xo, mu_o)), true)
                }
                _ if !SPARSE[f] => (s_peer * 0.5, None, false),
                _ => (s_peer, None, true),
            };
            if s <= 0.0 {
                continue;
            }
            out[f] = (s, Detail { feature: f, x, days, mu_p, own, s }, alertable);
        }
        out
    }

    fn apply_scores(&mut self, oi: usize, t: i64, scores: [(f64, Detail, bool); NF], only_sparse: bool) {
        let mut per_signal = [0.0f64; NS];
        for (f, (s, detail, alertable)) in scores.into_iter().enumerate() {
            if s <= 0.0 || (only_sparse && !SPARSE[f]) {
                continue;
            }
            let sig = signal_of(f);
            per_signal[sig] = per_signal[sig].max(s);
            match self.severity(s) {
                Some(sev) if alertable => self.raise(oi, t, sig, sev, s, detail.text()),
                _ => {
                    let o = &mut self.officers[oi];
                    if s > o.rec.best[sig] {
                        o.rec.best[sig] = s;
                        o.rec.best_detail[sig] = BestDetail::Scored(detail);
                    }
                }
            }
        }
        // Several signals together, when none is high on its own: the families of evidence
        // (a signal that counts a subset of another's events joins it: the stronger plus half
        // the other, as the subset adds some evidence but is mostly the same events) combined
        // by the exact truncated-product tail, so neither the choice of the surprising ones
        // nor the number of families looked at is free.
        let (cs, ct) = self.officers[oi].rec.collusion_recent;
        if t - ct <= self.cfg.window_days * 86_400 {
            per_signal[S_COLLUSION] = per_signal[S_COLLUSION].max(cs);
        }
        let mut sig = per_signal;
        for (parent, child) in [(S_UNEXPL, S_UNEXPL_TRAFFIC), (S_OFFHOURS, S_UNEXPL_OFF)] {
            let (a, b) = (sig[parent], sig[child]);
            sig[parent] = a.max(b) + 0.5 * a.min(b);
            sig[child] = 0.0;
        }
        let parts: Vec<(usize, f64)> =
            COMBINED_FAMILIES.iter().filter(|&&g| sig[g] >= 1.3).map(|&g| (g, sig[g])).collect();
        let strongest = per_signal.iter().copied().fold(0.0, f64::max);
        if parts.len() >= 2 && strongest < self.cfg.high {
            let values: Vec<f64> = parts.iter().map(|w| w.1).collect();
            let sum = stats::truncated_product(&values, COMBINED_FAMILIES.len(), 0.05);
            if let Some(sev) = self.severity(sum) {
                let detail = format!(
                    "several signals at once in the last {} days: {}",
                    self.cfg.window_days,
                    parts
                        .iter()
                        .map(|(g, v)| format!("{} (p≈1e-{v:.1})", SIGNAL_CODES[*g]))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                self.raise(oi, t, S_COMBINED, sev, sum, detail);
            }
        }
    }

    fn check_intraday(&mut self, oi: usize, t: i64) {
        let o = &self.officers[oi];
        let style = self.style_now(o);
        let Some(rates) = style.rates(|g| self.peer_cache.get(&g)) else { return };
        let peers: &PeerRate = &rates;
        // Screen: the tails are worked out only when a sparse count, in either window, may be
        // surprising beyond 1e-3 against the peers' rate (an upper bound: the expectation
        // scored is at least that rate, and a point probability is at most the tail). Below
        // that no signal alerts alone, and a combination of them all below it rarely would;
        // the day's close scores every signal in full.
        let worth = [&o.cache.long, &o.cache.short].into_iter().any(|w| {
            let days = w.days + 1.0;
            (0..NF).filter(|&f| SPARSE[f]).any(|f| {
                let x = w.sum[f] + o.today[f];
                if x <= 0.0 {
                    return false;
                }
                // The expectation scored is at least this (see `peer_expectation`).
                let (mu, phi) = if f == F_UNBACKED {
                    let mut own = w.sum;
                    add(&mut own, &o.today);
                    (peer_expectation(peers, f, days, &own), peer_phi(peers, f, &own))
                } else {
                    (peers.rate[f] * days, peers.phi[f])
                };
                stats::surprise_bound(x, mu, phi) >= 3.0
            })
        });
        if !worth {
            return;
        }
        let w = &o.cache;
        let mut scores = self.score_scan(o, w, Some(&w.base), peers, true);
        // What much of the group does today (a new shift, an incident) waits for the day's
        // close, where the peers' rates include today; so do unexplained accesses at unusual
        // hours when much of the group is at unusual hours (see `peer_expectation`).
        if let Some(g) = self.group_today.get(&o.today_group) {
            for (f, score) in scores.iter_mut().enumerate() {
                if g.widespread(o.day, f) || f == F_UNEXPL_OFF && g.widespread(o.day, F_OFFHOURS) {
                    score.0 = 0.0;
                }
            }
        }
        // Only sparse signals intraday; own-baseline volume waits for the day's close.
        self.apply_scores(oi, t, scores, true);
    }

    /// Each officer's style ([`Officer::group`], in officer order), and the officers of each
    /// home series' peer group counted (see [`Engine::place`]).
    fn styles_and_series_sizes(&mut self) -> Vec<Style> {
        let routine = self.routine_share();
        let styles: Vec<Style> = self.officers.iter().map(|o| o.group(routine)).collect();
        let mut sizes = std::mem::take(&mut self.series_sizes);
        sizes.clear();
        for (o, st) in self.officers.iter().zip(&styles) {
            for style in [self.series_style(o, *st), self.name_style(o, *st)].into_iter().flatten() {
                *sizes.entry(style.group).or_insert(0) += 1;
            }
        }
        self.series_sizes = sizes;
        styles
    }

    /// Close a day: recompute peer rates and score every officer active that day.
    fn close_day(&mut self, day: i64) {
        let styles = self.styles_and_series_sizes();
        // Per officer window rates (including today if active).
        // The peers' samples, in a buffer kept from day to day (some hundred bytes an officer:
        // allocated afresh at every close, its pages were zeroed afresh too).
        let mut samples = std::mem::take(&mut self.peer_samples);
        samples.clear();
        let mut active = std::mem::take(&mut self.close_active);
        active.clear();
        // Each officer's windows of today and tomorrow (a pass over their 40 days) and peer
        // group (worked out once: it reads the officer's history): read only, so on two
        // threads where there is a second core (most of the close's time).
        let mut per = std::mem::take(&mut self.close_officers);
        per.resize(self.officers.len(), Default::default());
        {
            let this = &*self;
            fill_parallel(&mut per, self.close_threads, |i, slot| {
                let o = &this.officers[i];
                let (today, next) = this.windows_today_and_tomorrow(o, day);
                *slot = (today, next, this.place(o, styles[i]));
            });
        }
        for (i, (o, (w, _, style))) in self.officers.iter().zip(&per).enumerate() {
            let (mut win, mut wdays) = (w.long.sum, w.long.days);
            if o.day == day {
                // Scored below on the days before today plus today.
                active.push(i);
                add(&mut win, &o.today);
                wdays += 1.0;
            }
            if wdays > 0.0 {
                let mut rate = win;
                for r in &mut rate {
                    *r /= wdays;
                }
                let (mut recent, mut rdays) = (w.short.sum, w.short.days);
                if o.day == day {
                    add(&mut recent, &o.today);
                    rdays += 1.0;
                }
                for r in &mut recent {
                    *r /= rdays.max(1.0);
                }
                let sample = PeerSample {
                    rate,
                    recent,
                    recent_days: rdays.max(1.0),
                    days: wdays,
                    whole: o.whole_with(&o.today),
                    seen: f64::from(o.active_days),
                };
                samples.push((style.group, sample));
            }
        }
        let rates = GroupRates::new(&mut samples);
        // The scores of those active today, on two threads as above; applied (alerts raised)
        // in officer order, as one thread would.
        let mut scores = std::mem::take(&mut self.close_scores);
        scores.resize(active.len(), Default::default());
        {
            let this = &*self;
            let (active, per, rates) = (&active, &per, &rates);
            fill_parallel(&mut scores, self.close_threads, |k, out| {
                let i = active[k];
                let (w, _, style) = &per[i];
                *out = this.score_scan(&this.officers[i], w, Some(&w.base), &rates.for_style(*style), false);
            });
        }
        for (&i, s) in active.iter().zip(&scores) {
            let t = self.officers[i].last_time;
            self.officers[i].rec.windows += 1;
            self.apply_scores(i, t, *s, false);
        }
        self.close_scores = scores;
        self.close_active = active;
        self.peer_cache = rates.groups;
        self.peer_samples = samples;
        // Cache history windows for tomorrow's intraday checks, and prune collusion state.
        for (o, (_, next, style)) in self.officers.iter_mut().zip(&per) {
            o.group_cache = *style;
            o.cache = *next;
        }
        self.close_officers = per;
        self.last_closed = Some(day);
        self.unit_hours_at_close();
        let horizon = self.cfg.collusion_hours * 3600;
        let now = (day + 1) * 86_400;
        sweep(&mut self.recent_unexpl, &mut self.swept[0], |_, v| {
            v.retain(|e| now - e.time <= horizon + 86_400);
            !v.is_empty()
        });
        let keep = self.cfg.horizon_days();
        sweep(&mut self.derived, &mut self.swept[1], |_, v| day - v.1 <= keep);
        sweep(&mut self.last_cited, &mut self.swept[2], |_, v| day - v.2 <= keep);
        let base = self.return_base.unwrap_or(day);
        sweep(&mut self.returns, &mut self.swept[3], |_, v| day - (base + i64::from(v.last)) <= keep);
        if self.return_hist_changed {
            self.return_hist_changed = false;
            self.return_law = BetaGeometric::fit(&self.return_hist);
        }
    }

    /// Finish: close the last day and produce the ranked report. The engine can keep taking
    /// events afterwards (the live gateway calls this for snapshots).
    pub fn report(&mut self) -> Report {
        if let Some(d) = self.day {
            self.close_day(d);
        }
        // Whole-period surprises (low-and-slow abuse spreads below any window).
        // Each officer's peer group, worked out once (it reads the officer's history).
        let styles = self.styles_and_series_sizes();
        let styles: Vec<Style> = self.officers.iter().zip(styles).map(|(o, st)| self.place(o, st)).collect();
        let mut samples: Vec<(u32, PeerSample)> = self
            .officers
            .iter()
            .zip(&styles)
            .map(|(o, style)| {
                let days = f64::from(o.active_days.max(1));
                let whole = o.whole_with(&o.today);
                let mut rate = whole;
                for r in &mut rate {
                    *r /= days;
                }
                (style.group, PeerSample { rate, recent: rate, recent_days: days, days, whole, seen: days })
            })
            .collect();
        let rates = GroupRates::new(&mut samples);
        let (secret, shared_law) = if self.says_nothing_of_cases() {
            (self.caseless_pairs(), BetaGeometric::fit(&self.shared_hist))
        } else {
            (Vec::new(), None)
        };
        let mut officers = Vec::with_capacity(self.officers.len());
        for (oi, (o, &style)) in self.officers.iter().zip(&styles).enumerate() {
            let peers = rates.for_style(style);
            let days = f64::from(o.active_days.max(1));
            let whole = o.whole_with(&o.today);
            let mut best = o.rec.best;
            let mut detail: Vec<String> = o.rec.best_detail.iter().map(BestDetail::text).collect();
            // Multiplicity: an officer scanned over many windows gets more chances.
            let correction = f64::from(o.rec.windows.max(1)).log10();
            for s in best.iter_mut().take(S_ENUM) {
                *s = (*s - correction).max(0.0);
            }
            for f in 0..NF {
                // Whole-period counts against peers, for what is held against peers only (a
                // habit is no news over the whole period) and for citations a case file does
                // not back, where the spread of officers' habits is in the scale judged on.
                if (OWN_HISTORY[f] && f != F_UNBACKED) || descriptive(f) {
                    continue;
                }
                let mu = peer_expectation(&peers, f, days, &whole);
                let s = surprise(whole[f], mu, peer_phi(&peers, f, &whole));
                let sig = signal_of(f);
                if s > best[sig] {
                    best[sig] = s;
                    detail[sig] = format!(
                        "{:.1} {} over {days:.0} active days vs {mu:.1} expected from unit peers (p≈1e-{s:.0})",
                        whole[f],
                        FEATURE_NAMES[f],
                    );
                }
            }
            // Event signals: counts of independent hits, capped.
            best[S_HONEY] = if o.rec.honey_hits > 0 {
                (20.0 + 2.0 * f64::from(o.rec.honey_hits - 1)).min(30.0)
            } else {
                0.0
            };
            best[S_VIP] = (4.0 * f64::from(o.rec.vip_hits)).min(16.0);
            best[S_ENUM] = (4.0 * f64::from(o.rec.enum_hits)).min(16.0);
            best[S_FIRST] = if o.rec.first_traffic_unexpl { 3.0 } else { 0.0 };
            best[S_COLLUSION] =
                if o.rec.best_collusion >= self.cfg.medium { o.rec.best_collusion.min(30.0) } else { 0.0 };
            if let Some(x) = secret.get(oi).filter(|x| x.shared > 0) {
                let partner = self.officers.get(x.partner).map_or("", |p| p.name.as_str());
                let mut s = x.surprise;
                detail[S_COLLUSION] = format!(
                    "{} subject{} also pulled by `{partner}` within {}h of each other, and by no one else then; {:.2} expected by chance (p≈1e-{s:.0}; the log says nothing of cases)",
                    x.shared,
                    if x.shared == 1 { "" } else { "s" },
                    self.cfg.collusion_hours,
                    x.expected
                );
                // Where the log names not even the officer's unit, their colleagues are a guess
                // from account names: the most they shared with one other officer is also
                // judged against how much such pairs share in this log, and the lesser counts.
                if let Some(law) = shared_law.filter(|_| o.unit == self.empty_unit) {
                    let tail = -law.log10_tail(x.most_shared);
                    let by_law = (tail - f64::from(x.partners.max(1)).log10()).max(0.0);
                    if by_law < s {
                        s = by_law;
                        detail[S_COLLUSION].push_str(&format!(
                            "; about 1 in 10^{tail:.1} pairs of officers who are not colleagues share that many here (p≈1e-{s:.0} over the {} officers they shared with)",
                            x.partners
                        ));
                    }
                }
                best[S_COLLUSION] = if s >= self.cfg.medium { s.min(30.0) } else { 0.0 };
            }
            // The officer's most-returned person, judged on the law of the whole log.
            (best[S_RETURN], detail[S_RETURN]) = match (&o.rec.return_best, self.return_law) {
                (Some((k, who, first)), Some(law)) if *k >= 3 => {
                    let s = return_surprise(law, *k, o.rec.return_people);
                    (s.min(30.0), return_detail(who, *k, *first, o.rec.return_people, law, s))
                }
                _ => (0.0, String::new()),
            };
            // Unexplained traffic is a subset of unexplained access: count the stronger once.
            if best[S_UNEXPL_TRAFFIC] > 0.0 && best[S_UNEXPL] > 0.0 {
                let lo = best[S_UNEXPL].min(best[S_UNEXPL_TRAFFIC]);
                if best[S_UNEXPL] <= best[S_UNEXPL_TRAFFIC] {
                    best[S_UNEXPL] = lo * 0.5;
                } else {
                    best[S_UNEXPL_TRAFFIC] = lo * 0.5;
                }
            }
            let mut reasons: Vec<Reason> = (0..NS)
                .filter(|&s| best[s] >= 1.0)
                .map(|s| Reason {
                    code: SIGNAL_CODES[s].to_string(),
                    detail: if detail[s].is_empty() {
                        SIGNAL_CODES[s].to_string()
                    } else {
                        detail[s].clone()
                    },
                    weight: best[s],
                })
                .collect();
            reasons.sort_by(|a, b| b.weight.total_cmp(&a.weight));
            let score = reasons.iter().map(|r| r.weight).sum::<f64>();
            let unit = self.units.name(o.unit).unwrap_or_default();
            officers.push(OfficerRisk {
                officer: o.name.clone(),
                unit,
                // (`+ 0.0`: a sum that rounds to zero from below prints as 0, not -0.)
                score: (score * 100.0).round() / 100.0 + 0.0,
                first_flagged: o.rec.first_flagged.map(time::format_utc),
                reasons,
                accesses: o.accesses,
                explained_share: if o.accesses == 0 { 1.0 } else { o.explained_weight / o.accesses as f64 },
            });
        }
        officers.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.officer.cmp(&b.officer)));
        let mut alerts = self.alerts.clone();
        alerts.sort_by(|a, b| a.unix.cmp(&b.unix).then_with(|| a.officer.cmp(&b.officer)));
        Report { officers, alerts }
    }

    /// Alerts raised so far.
    pub fn alerts(&self) -> &[Alert] {
        &self.alerts
    }
}

/// Officers below which the day's close runs on one thread (a second one costs more to start
/// than it saves).
const PARALLEL_MIN: usize = 512;

/// Fill every slot with `f(index, slot)`, on two threads where `threads` allows it and there is
/// enough to do. The result is the same as on one thread: each slot is its own.
fn fill_parallel<T: Send>(slots: &mut [T], threads: usize, f: impl Fn(usize, &mut T) + Sync) {
    if threads < 2 || slots.len() < PARALLEL_MIN {
        for (i, slot) in slots.iter_mut().enumerate() {
            f(i, slot);
        }
        return;
    }
    let mid = slots.len() / 2;
    let (a, b) = slots.split_at_mut(mid);
    let f = &f;
    let second = |b: &mut [T]| {
        for (i, slot) in b.iter_mut().enumerate() {
            f(mid + i, slot);
        }
    };
    // The second half, taken by whichever thread gets to it: the one started for it, or this
    // one where the system cannot start a thread.
    let rest = std::sync::Mutex::new(Some(b));
    let take = || rest.lock().ok().and_then(|mut r| r.take());
    std::thread::scope(|scope| {
        let started = std::thread::Builder::new().spawn_scoped(scope, || {
            if let Some(b) = take() {
                second(b);
            }
        });
        for (i, slot) in a.iter_mut().enumerate() {
            f(i, slot);
        }
        if started.is_err() {
            if let Some(b) = take() {
                second(b);
            }
        }
    });
}

/// Sweep out of `map` the entries `keep` rejects, once it has doubled since its last sweep
/// (`swept`: its size then; small maps are left alone): entries past their horizon are
/// ignored where they are read, so this only bounds memory, at a fraction of a daily sweep's
/// cost.
fn sweep<K, V>(map: &mut HashMap<K, V>, swept: &mut usize, keep: impl FnMut(&K, &mut V) -> bool) {
    if map.len() >= 2 * (*swept).max(4096) {
        map.retain(keep);
        *swept = map.len();
    }
}

/// The surprise of an officer's `k` days of unexplained pulls of one person, among the
/// `people` they have pulled with nothing explaining it: `-log10(people · P(K >= k))`.
fn return_surprise(law: BetaGeometric, k: u16, people: u32) -> f64 {
    (-(law.log10_tail(u32::from(k)) + f64::from(people.max(1)).log10())).clamp(0.0, 300.0)
}

fn return_detail(who: &str, k: u16, first: i64, people: u32, law: BetaGeometric, s: f64) -> String {
    let tail = -law.log10_tail(u32::from(k));
    format!(
        "pulled `{who}` on {k} separate days since {}, citing no case, with nothing else explaining it; in this log about 1 in 10^{tail:.1} people pulled so come back that often (p≈1e-{s:.0} over the {people} people they pulled so)",
        time::format_utc(first * 86_400).get(..10).unwrap_or_default()
    )
}

/// Peer rates: per feature, the upper-trimmed mean of officers' daily rates over the window
/// (a few abusers among the peers do not raise it; a whole unit rising together does), with a
/// quasi-Poisson dispersion; [`GroupRaw::finish`] shrinks them towards the prior for small
/// groups and applies the floors.
///
/// A rare act (a denial, a lookup at night, call records citing no case) is done by fewer
/// than a fifth of the peers in most weeks, and the trimmed mean of one week is then zero
/// however often the group does it over time. For sparse features the rate is therefore at
/// least the same trimmed mean of the peers' rates over every day each has been seen, and at
/// least one event in all those days: what the group has done in all the time it has been
/// watched, not in one week; for outcomes (see [`outcome`]) at least the group's pooled rate
/// (see [`capped_pooled_rate`]).
fn peer_rates(group: &[(u32, PeerSample)]) -> GroupRaw {
    let mut raw = GroupRaw { n: group.len() as f64, ..GroupRaw::default() };
    let exposure: f64 = group.iter().map(|(_, p)| p).map(|p| p.days).sum::<f64>().max(1.0);
    let seen: f64 = group.iter().map(|(_, p)| p).map(|p| p.seen).sum::<f64>().max(1.0);
    let mut long = Vec::with_capacity(group.len());
    let out = &mut raw.rates;
    for (f, &sparse) in SPARSE.iter().enumerate() {
        let mut rates: Vec<f64> = group.iter().map(|(_, p)| p).map(|p| p.rate[f]).collect();
        out.rate[f] = stats::upper_trimmed_mean(&mut rates, 0.2);
        // Dispersion of daily-rate counts over a week, among the non-trimmed peers.
        let keep = ((rates.len() as f64) * 0.8).ceil() as usize;
        let kept = &rates[..keep.min(rates.len())];
        let m = kept.iter().sum::<f64>() / kept.len().max(1) as f64;
        let var = kept.iter().map(|r| (r - m) * (r - m)).sum::<f64>() / (kept.len().max(2) - 1) as f64;
        // Rates are per day; a week's count has variance 49·var and mean 7·m.
        out.phi[f] = if m > 0.0 { (7.0 * var / m).clamp(1.0, 50.0) } else { 1.0 };
        raw.floor[f] = if sparse {
            long.clear();
            long.extend(group.iter().map(|(_, p)| p).map(|p| p.whole[f] / p.seen.max(1.0)));
            let mut floor = stats::upper_trimmed_mean(&mut long, 0.2).max(1.0 / (seen + 1.0));
            if outcome(f) {
                long.clear();
                long.extend(group.iter().map(|(_, p)| p.whole[f]));
                floor = floor.max(capped_pooled_rate(&mut long, group, f));
            }
            floor
        } else {
            1.0 / (exposure + 1.0)
        };
        if sparse {
            rates.clear();
            rates.extend(group.iter().map(|(_, p)| p).map(|p| p.recent[f]));
            out.recent[f] = stats::upper_trimmed_mean(&mut rates, 0.2);
        }
        if let Some(g) = part_of(f) {
            out.share[f] = capped_share(group, f, g);
        }
    }
    raw
}

/// Whether a count is of outcomes (requests denied, lookups that found nothing) rather than of
/// the officer's choices (whom to look up, when, citing what): a mistyped number or a rule not
/// known happens to any officer now and then, at a rate the data and the policy set, so the
/// group's pooled rate of it is what any one officer is expected to meet; choices are habits
/// that most officers never have, judged against the typical officer (and the few who have
/// them, against their own history). People of another unit's case looked up citing none are
/// judged as an outcome too: how often one officer's people are also another unit's suspects
/// is set by the agency's work (units that share suspects, a registry's regulars), not by the
/// officer alone.
fn outcome(f: usize) -> bool {
    matches!(f, F_DENIED | F_NOTFOUND | F_FOREIGN)
}

/// The peers' pooled long-run rate of count `f` (all their counts over all the days they have
/// been seen), each peer's count capped at the larger of one and the peers' 80th percentile:
/// where fewer than a fifth of the peers have done a rare act at all (early in a log, or in a
/// large group), the trimmed mean of their rates is nothing, while the pooled rate says how
/// often the group does it; the cap keeps the few who do it much (abusers among them) from
/// raising it. `scratch` is filled with the peers' counts.
fn capped_pooled_rate(scratch: &mut [f64], group: &[(u32, PeerSample)], f: usize) -> f64 {
    if scratch.is_empty() {
        return 0.0;
    }
    let at = ((scratch.len() as f64 * 0.8).ceil() as usize).saturating_sub(1).min(scratch.len() - 1);
    let cap = scratch.select_nth_unstable_by(at, f64::total_cmp).1.max(1.0);
    let (count, days) =
        group.iter().map(|(_, p)| p).fold((0.0, 0.0), |(c, d), p| (c + p.whole[f].min(cap), d + p.seen));
    if days > 0.0 {
        count / days
    } else {
        0.0
    }
}

/// A group's own rates before they are shrunk towards the prior and floored (see
/// [`peer_rates`]), its size and its floors.
#[derive(Debug, Clone, Copy, Default)]
struct GroupRaw {
    rates: PeerRate,
    floor: Feats,
    n: f64,
}

impl GroupRaw {
    /// The group's peer rates: small groups shrunk towards the prior as if it were three
    /// more peers, every rate at least its floor.
    fn finish(&self, prior: Option<&PeerRate>) -> PeerRate {
        let n = self.n;
        let shrink = |own: f64, prior: Option<f64>| prior.map_or(own, |p| (n * own + 3.0 * p) / (n + 3.0));
        let mut out = self.rates;
        for f in 0..NF {
            out.rate[f] = shrink(out.rate[f], prior.map(|g| g.rate[f])).max(self.floor[f]);
            out.phi[f] = shrink(out.phi[f], prior.map(|g| g.phi[f]));
            out.recent[f] = shrink(out.recent[f], prior.map(|g| g.recent[f]));
            out.share[f] = shrink(out.share[f], prior.map(|g| g.share[f]));
        }
        out
    }
}

/// The pooled share of count `f` in count `g` over the peers with at least `min_g` of `g` (and
/// more than none), each peer's share capped at those peers' 80th percentile, and how many
/// peers that was; `None` when there are none.
fn pooled_share(group: &[(u32, PeerSample)], f: usize, g: usize, min_g: f64) -> Option<(f64, usize)> {
    let counted = || group.iter().map(|(_, p)| p).filter(move |p| p.whole[g] > 0.0 && p.whole[g] >= min_g);
    let mut shares: Vec<f64> = counted().map(|p| (p.whole[f] / p.whole[g]).min(1.0)).collect();
    let at =
        ((shares.len() as f64 * 0.8).ceil() as usize).saturating_sub(1).min(shares.len().checked_sub(1)?);
    let cap = *shares.select_nth_unstable_by(at, f64::total_cmp).1;
    let (part, total) =
        counted().fold((0.0, 0.0), |(a, b), p| (a + p.whole[f].min(cap * p.whole[g]), b + p.whole[g]));
    Some((part / total, shares.len()))
}

/// The peers' pooled long-run share of count `f` in count `g`, each peer's share capped at
/// the peers' 80th percentile.
fn capped_share(group: &[(u32, PeerSample)], f: usize, g: usize) -> f64 {
    pooled_share(group, f, g, 0.0).map_or(0.0, |(share, _)| share)
}

/// The agency's share of count `f` in count `g`: pooled over the officers with at least 20 of
/// `g` so far (a share from fewer is no estimate), each capped at their 80th percentile; one
/// (nothing is surprising) until five officers have that many.
fn agency_share(samples: &[(u32, PeerSample)], f: usize, g: usize) -> f64 {
    match pooled_share(samples, f, g, 20.0) {
        Some((share, n)) if n >= 5 => share,
        _ => 1.0,
    }
}

/// The agency's intra-officer correlation of citations a case file does not back: how far
/// officers' shares spread around the agency's `share` beyond chance, the beta-binomial's `rho`
/// by moments over the officers' windows with at least five citations (`count` gives a
/// sample's unbacked citations and citations). Robust to the abusers among them, whose counts
/// the spread does not explain: it starts from the four fifths of officers closest to the share
/// (too low an estimate: the spread itself lies in the tail), then keeps every officer whose
/// count the current estimate makes plausible (Pearson residual within the chi-square's 1e-3
/// tail, 10.83, on the beta-binomial's scale) and estimates again, until it settles.
fn unbacked_rho(samples: &[(u32, PeerSample)], share: f64, count: impl Fn(&PeerSample) -> (f64, f64)) -> f64 {
    const PLAUSIBLE: f64 = 10.83;
    let v = share * (1.0 - share);
    if v <= 0.0 {
        return 0.0;
    }
    // Per officer: Pearson residual, excess of the squared deviation over the binomial's
    // variance, and the beta-binomial's extra variance per unit of rho.
    let mut terms: Vec<(f64, f64, f64, f64)> = samples
        .iter()
        .map(|(_, p)| count(p))
        .filter(|&(_, n)| n >= 5.0)
        .map(|(x, n)| {
            let d = (x - share * n) * (x - share * n);
            (d / (v * n), d - v * n, v * n * (n - 1.0), n)
        })
        .collect();
    let keep = ((terms.len() as f64) * 0.8).ceil() as usize;
    if keep == 0 {
        return 0.0;
    }
    let pooled = |kept: &mut dyn Iterator<Item = &(f64, f64, f64, f64)>| {
        let (num, den) = kept.fold((0.0, 0.0), |(a, b), t| (a + t.1, b + t.2));
        if den > 0.0 {
            (num / den).clamp(0.0, 1.0)
        } else {
            0.0
        }
    };
    terms.select_nth_unstable_by(keep - 1, |a, b| a.0.total_cmp(&b.0));
    let mut rho = pooled(&mut terms[..keep].iter());
    for _ in 0..8 {
        let next = pooled(&mut terms.iter().filter(|t| t.0 <= PLAUSIBLE * (1.0 + (t.3 - 1.0) * rho)));
        if (next - rho).abs() < 1e-4 {
            return next;
        }
        rho = next;
    }
    rho
}

/// What the case files say of a pull ([`Engine::file_word`]).
#[derive(Debug, Clone, Copy)]
enum FileWord {
    /// A case of the officer, or of their unit, holds the person.
    Explains,
    /// Cases of others hold the person; `other_units`: one of them is another unit's that the
    /// officer has never cited, and the pull cites no case.
    Holds { other_units: bool },
    /// No case file holds the person, or there are no case files.
    Silent,
}

/// How a pull citing no case is read ([`Engine::blank_citation`]).
#[derive(Debug, Clone, Copy)]
enum BlankWord {
    /// As citing `case`: the person's last citation within the horizon, by the officer, by a
    /// colleague, or by anyone under a case the officer has cited themself; `alien`: where the
    /// log names no unit, a colleague's citation of a case of a series the officer no longer
    /// cites ([`Engine::alien_series`]).
    Cites { case: u32, alien: bool },
    /// The person's last citation within the horizon is another unit's officer's, of a case the
    /// officer does not work.
    OtherUnits,
    /// Nobody cited a case for the person within the horizon.
    Nothing,
}

/// Per case id: the units of its listed officers seen so far, as of a generation of the
/// officers (`u64::MAX`: not worked out yet), worked out afresh once officers have been added
/// or have changed unit since.
#[derive(Debug, Default)]
struct CaseUnits(Vec<(u64, Vec<u32>)>);

impl CaseUnits {
    /// Whether case `c`, whose file lists the officers `listed`, is a case of unit `unit`, and
    /// whether the unit of any of its officers is known; `unit_of` gives a listed officer's
    /// unit where the log has seen them, as of generation `gen`.
    fn of(
        &mut self,
        c: u32,
        gen: u64,
        listed: &[u32],
        unit_of: impl Fn(u32) -> Option<u32>,
        unit: u32,
    ) -> (bool, bool) {
        let at = c as usize;
        if let Some((g, units)) = self.0.get(at) {
            if *g == gen {
                return (units.contains(&unit), !units.is_empty());
            }
        }
        let mut units: Vec<u32> = listed.iter().filter_map(|&n| unit_of(n)).collect();
        units.sort_unstable();
        units.dedup();
        let hit = (units.contains(&unit), !units.is_empty());
        if self.0.len() <= at {
            self.0.resize_with(at + 1, || (u64::MAX, Vec::new()));
        }
        self.0[at] = (gen, units);
        hit
    }
}

/// How far nothing explains an access, as [`Engine::explanation`] finds it.
#[derive(Debug, Clone, Copy)]
struct Explanation {
    /// 0 explained, up to 1 unexplained.
    weight: f64,
    /// The id of the case it cites: [`NO_CASE`] for none, and for an access a case of the
    /// officer or their unit explains (the collusion check, which reads it, looks only at
    /// unexplained ones).
    case: u32,
    /// Who first pulled the subject under the cited case, and on which day, where the access
    /// was looked up in the corroboration map (a citation the case's file does not back).
    first_pull: Option<(usize, i64)>,
    /// A pull citing no case of a person another unit pulled under a case of theirs that the
    /// officer does not work, or, where the log names no unit, of a case of a series the
    /// officer no longer cites (see [`F_FOREIGN`]).
    foreign: bool,
}

impl Explanation {
    /// An access of explanation weight `weight` that cites no case, read from no corroboration.
    fn plain(weight: f64) -> Self {
        Self { weight, case: NO_CASE, first_pull: None, foreign: false }
    }
}

/// Analyse a whole stream of events and return the report (for `custos analyze`).
pub fn analyze(
    events: impl IntoIterator<Item = Event>,
    cases: Option<&CaseLinks>,
    watch: &[(String, WatchLabel)],
) -> Report {
    let mut e = Engine::new(Config::default());
    if let Some(c) = cases {
        e.load_cases(c);
    }
    e.load_watch(watch);
    for ev in events {
        e.push(&ev);
    }
    e.report()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_of_any_form_are_keys_that_keep_them_apart_and_identifiers_their_own_value() {
        let k = SubjectKeys;
        assert_eq!(k.key("8801712345678"), 8_801_712_345_678);
        let forms = [
            "2ac2db175648e2061769abd539acebeeb3b9ad95062cc60d28f8afe74730fcef",
            "01712345678",
            "Rahim Uddin",
            "0",
        ];
        let keys: Vec<u64> = forms.iter().map(|s| k.key(s)).collect();
        for (s, &key) in forms.iter().zip(&keys) {
            assert_eq!(k.key(s), key, "the same text, the same key: {s}");
            assert!(key >= SUBJECT_TAG || key == 0, "tagged above every plain identifier: {s}");
        }
        let mut distinct = keys.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), keys.len(), "{keys:?}");
        // A hundred thousand commitments, no two alike.
        let mut many: Vec<u64> = (0..100_000).map(|i| k.key(&format!("c{i:063x}"))).collect();
        many.sort_unstable();
        many.dedup();
        assert_eq!(many.len(), 100_000);
    }

    #[test]
    fn tomorrows_windows_worked_out_from_todays_match_a_recount() {
        // Histories with gaps, every window size including one-day windows and no baseline:
        // the windows handed to tomorrow (today's with a day out and a day in) must equal
        // those counted afresh tomorrow.
        let mut x: u64 = 7;
        let mut next_rand = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for (w, sw, b) in [(7, 3, 28), (1, 1, 28), (7, 7, 0), (2, 5, 1), (5, 1, 3)] {
            let e = Engine::new(Config {
                window_days: w,
                short_window_days: sw,
                baseline_days: b,
                ..Config::default()
            });
            for _ in 0..200 {
                let mut o = Officer::default();
                let mut d = 0;
                while o.history.len() < 40 {
                    d += 1 + (next_rand() % 4) as i64;
                    let mut f = [0.0; NF];
                    for v in f.iter_mut() {
                        *v = (next_rand() % 9) as f64 * 0.25;
                    }
                    o.history.push_back((d, f));
                }
                let (last, today) = o.history.pop_back().unwrap_or_default();
                o.day = last;
                o.today = today;
                for day in (last - 50)..=(last + 3) {
                    let (_, next) = e.windows_today_and_tomorrow(&o, day);
                    let (fresh, _) = e.windows_today_and_tomorrow(&o, day + 1);
                    for (p, q) in
                        [(next.long, fresh.long), (next.short, fresh.short), (next.base, fresh.base)]
                    {
                        assert_eq!((p.sum, p.days), (q.sum, q.days), "w {w} sw {sw} b {b} day {day}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_cases_first_batch_of_people_its_file_lacks_counts_once_and_a_later_batch_ten_an_hour() {
        // A is on case D, whose file holds five people A looks up on days 18 and 19. On day 20
        // A looks up the owners of 30 numbers of a tower dump under D, a minute apart; on day
        // 21 one more person D's file lacks; on day 22 another 30 in a batch; on day 23 the
        // call records of 30 numbers in a batch; on day 24 thirty people one by one, twenty
        // minutes apart.
        let mut e = Engine::new(Config::default());
        let held: Vec<String> = (0..5).map(|k| format!("{}", 3_300_000_000u64 + 977 * k)).collect();
        e.load_cases(&CaseLinks {
            officers: vec![("D".into(), "A".into())],
            subjects: held.iter().map(|s| ("D".to_string(), s.clone())).collect(),
        });
        let ev = |t: i64, subject: &str| Event {
            time: t,
            offset: 0,
            officer: "A".into(),
            unit: "U".into(),
            action: Action::SubscriberLookup,
            subject: subject.into(),
            case: "D".into(),
            allowed: true,
            records: 1,
        };
        let day = |d: i64| d * 86_400;
        for d in [18, 19] {
            for (k, s) in held.iter().enumerate() {
                e.push(&ev(day(d) + 10 * 3600 + 60 * k as i64, s));
            }
        }
        let batch = |e: &mut Engine, d: i64| {
            for j in 0..30 {
                e.push(&ev(day(d) + 15 * 3600 + 60 * j, &format!("88017{d:02}{:06}", 7919 * j)));
            }
        };
        let unbacked_today = |e: &Engine| e.officers[0].today[F_UNBACKED];
        batch(&mut e, 20);
        assert_eq!(unbacked_today(&e), 1.0, "the case's first batch is one");
        e.push(&ev(day(21) + 11 * 3600, "8801900000001"));
        assert_eq!(unbacked_today(&e), 1.0, "a later person alone counts");
        batch(&mut e, 22);
        assert_eq!(unbacked_today(&e), 10.0, "a later batch of half an hour counts ten");
        for j in 0..30 {
            e.push(&Event {
                action: Action::CdrQuery,
                ..ev(day(23) + 15 * 3600 + 60 * j, &format!("8801823{:06}", 7919 * j))
            });
        }
        assert_eq!(unbacked_today(&e), 30.0, "call records in a batch count in full");
        for j in 0..30 {
            e.push(&ev(day(24) + 8 * 3600 + 1200 * j, &format!("8801824{:06}", 7919 * j)));
        }
        assert_eq!(unbacked_today(&e), 30.0, "people pulled at a pace kept one by one count in full");
        // The first batch is the officer's own: another officer's first batch under D is theirs.
        e.push(&Event { officer: "B".into(), ..ev(day(22) + 16 * 3600, "8801900000002") });
        e.push(&Event { officer: "B".into(), ..ev(day(22) + 16 * 3600 + 60, "8801900000003") });
        assert_eq!(e.officers[1].today[F_UNBACKED], 1.0, "B's first batch under D is one");
    }

    #[test]
    fn subjects_per_day_and_per_hour_are_counted_apart_across_a_midnight_inside_an_hour() {
        // At +05:45 local midnight falls 15 minutes into a UTC hour: the day's distinct
        // subjects start again there, the hour's go on until the hour ends.
        let mut e = Engine::new(Config::default());
        let offset = 5 * 3600 + 45 * 60;
        let midnight = 10 * 86_400 - i64::from(offset);
        let ev = |t: i64, subject: &str| Event {
            time: midnight + t,
            offset,
            officer: "A".into(),
            unit: "U".into(),
            action: Action::IdentityLookup,
            subject: subject.into(),
            case: String::new(),
            allowed: true,
            records: 1,
        };
        for (t, s) in [(-600, "1000000001"), (-300, "1000000002"), (120, "1000000001"), (300, "1000000003")] {
            e.push(&ev(t, s));
        }
        let o = &e.officers[0];
        assert_eq!(o.today[F_SUBJECTS], 2.0, "two subjects on the new day");
        assert_eq!(o.today[F_MAXHOUR], 3.0, "three in the hour that spans midnight");
        assert_eq!(o.history.back().map(|(_, f)| (f[F_SUBJECTS], f[F_MAXHOUR])), Some((2.0, 2.0)));
        // The next hour starts afresh; the day goes on.
        e.push(&ev(3600, "1000000001"));
        e.push(&ev(3700, "1000000004"));
        let o = &e.officers[0];
        assert_eq!(o.today[F_SUBJECTS], 3.0);
        assert_eq!(o.today[F_MAXHOUR], 3.0);
        // Unexplained subjects are counted once a day: the same subject again adds nothing.
        // (The log says nothing of cases: yesterday's subject, pulled again, is half
        // explained by the repeat access.)
        assert_eq!(o.today[F_UNEXPL], 2.5);
    }

    #[test]
    fn a_colleagues_pull_corroborates_for_the_baseline_and_window_days_and_then_expires() {
        let mut e = Engine::new(Config::default());
        let keep = e.cfg.baseline_days + e.cfg.window_days;
        e.load_cases(&CaseLinks {
            officers: vec![("C1".into(), "A".into())],
            subjects: vec![("C9".into(), "1000000001".into())],
        });
        let ev = |day: i64, officer: &str, subject: &str, case: &str| Event {
            time: day * 86_400 + 36_000,
            offset: 0,
            officer: officer.into(),
            unit: "U".into(),
            action: Action::IdentityLookup,
            subject: subject.into(),
            case: case.into(),
            allowed: true,
            records: 1,
        };
        e.push(&ev(0, "A", "1000000002", ""));
        e.push(&ev(0, "B", "5550001", "C1"));
        let a = e.name_officer[e.names.get("A").unwrap() as usize].unwrap();
        let sid = e.subjects.key("5550001");
        // Days pass (another officer keeps working); each push on a new day closes the last.
        for day in 1..=keep + 1 {
            e.push(&ev(day, "X", &format!("{}", 2_000_000 + day), ""));
        }
        // Last close: day `keep`, so B's pull of day 0 still corroborates A's.
        let a_cites = ev(keep + 1, "A", "5550001", "C1");
        assert_eq!(e.explanation(a, sid, &a_cites, None, keep + 1).weight, 0.25);
        e.push(&ev(keep + 2, "X", "3000000", ""));
        // Last close: day `keep + 1`: expired, and A's own pull now stands alone under A's case.
        let a_cites = ev(keep + 2, "A", "5550001", "C1");
        assert_eq!(e.explanation(a, sid, &a_cites, None, keep + 2).weight, 0.5);
        assert_eq!(e.explanation(a, sid, &a_cites, None, keep + 2).weight, 0.5);
    }

    #[test]
    fn a_case_numbers_series_is_what_precedes_its_serial() {
        for (number, series) in [
            ("RABINTEL/26/072", Some("RABINTEL")),
            ("U00/2026/0446", Some("U00")),
            ("CASE-ATU-00001", Some("CASE-ATU")),
            ("CTTC-2026/0057", Some("CTTC")),
            ("PS Dhanmondi 12(3)2024", Some("PS-DHANMONDI")),
            ("dhaka/26/438", Some("DHAKA")),
            ("CASE-0042", None),
            ("C-17", None),
            ("2026/0057", None),
            ("", None),
        ] {
            assert_eq!(case_series(number).as_deref(), series, "{number}");
        }
    }

    #[test]
    fn a_blank_case_field_takes_a_colleagues_citation_for_the_baseline_and_window_days() {
        let mut e = Engine::new(Config::default());
        let keep = e.cfg.baseline_days + e.cfg.window_days;
        e.load_cases(&CaseLinks { officers: vec![("C1".into(), "A".into())], subjects: vec![] });
        let ev = |day: i64, officer: &str, unit: &str, subject: &str, case: &str| Event {
            time: day * 86_400 + 36_000,
            offset: 0,
            officer: officer.into(),
            unit: unit.into(),
            action: Action::IdentityLookup,
            subject: subject.into(),
            case: case.into(),
            allowed: true,
            records: 1,
        };
        e.push(&ev(0, "A", "U", "1000000002", ""));
        e.push(&ev(0, "Z", "W", "1000000003", ""));
        e.push(&ev(0, "B", "U", "5550001", "C1"));
        let officer = |e: &Engine, name: &str| e.name_officer[e.names.get(name).unwrap() as usize].unwrap();
        let (a, z) = (officer(&e, "A"), officer(&e, "Z"));
        let sid = e.subjects.key("5550001");
        for day in 1..=keep + 1 {
            e.push(&ev(day, "X", "U", &format!("{}", 2_000_000 + day), ""));
        }
        // B, of A's unit, cited C1 for the person: A's pull leaving the case blank is read as
        // citing C1 after B (¼); Z, of another unit, has no citation to take.
        let blank = |day: i64, who: &str, unit: &str| ev(day, who, unit, "5550001", "");
        let x = e.explanation(a, sid, &blank(keep + 1, "A", "U"), None, keep + 1);
        assert_eq!((x.weight, x.case), (0.25, e.cases.get("C1").unwrap()));
        let x = e.explanation(z, sid, &blank(keep + 1, "Z", "W"), None, keep + 1);
        assert_eq!((x.weight, x.case), (1.0, NO_CASE));
        // Past the horizon the citation explains nothing.
        e.push(&ev(keep + 2, "X", "U", "3000000", ""));
        let x = e.explanation(a, sid, &blank(keep + 2, "A", "U"), None, keep + 2);
        assert_eq!((x.weight, x.case), (1.0, NO_CASE));
    }

    /// An allowed identity lookup in unit `U`, at UTC.
    fn lookup_in_u(t: i64, officer: &str, subject: u64, case: &str) -> Event {
        Event {
            time: t,
            offset: 0,
            officer: officer.into(),
            unit: "U".into(),
            action: Action::IdentityLookup,
            subject: format!("{subject}"),
            case: case.into(),
            allowed: true,
            records: 1,
        }
    }

    #[test]
    fn the_hours_a_unit_works_count_its_officers_not_its_busiest_desks() {
        // Fifteen desk officers do 80 checks a day 10:00-16:00; six investigators beside them
        // do 10 lookups 09:00-17:00 and 2 more at 20:00. By accesses, 20:00 is under 1% of
        // the unit's work; by officers, it is a part of the day of six of its 21. For a new
        // investigator, not yet there at 20:00, it is an hour their unit works, not off-hours.
        let mut e = Engine::new(Config::default());
        let ev = lookup_in_u;
        let mut evs = Vec::new();
        for d in 0..16_i64 {
            let day = 1_767_225_600 + d * 86_400;
            for o in 0..15 {
                for k in 0..80 {
                    evs.push(ev(
                        day + 10 * 3600 + k * 270 + o,
                        &format!("desk{o}"),
                        1_000_000_000 + k as u64,
                        "",
                    ));
                }
            }
            for o in 0..6 {
                for k in 0..12 {
                    let t = if k < 10 { day + 9 * 3600 + k * 2880 } else { day + 20 * 3600 + k * 60 };
                    evs.push(ev(t + o, &format!("inv{o}"), 2_000_000_000 + k as u64, "C1"));
                }
            }
            if d >= 10 {
                for k in 0..20 {
                    evs.push(ev(day + 9 * 3600 + k * 1440 + 7, "new", 3_000_000_000 + k as u64, "C1"));
                }
            }
        }
        evs.sort_by_key(|e| e.time);
        for x in &evs {
            e.push(x);
        }
        let new = e.officers.iter().position(|o| o.name == "new").unwrap();
        assert!(e.officers[new].active_days >= 6 && e.officers[new].hour_total >= 100.0);
        assert!(!e.is_off_hours(new, 20), "an hour a fifth of the unit works");
        assert!(e.is_off_hours(new, 3), "an hour nobody works");
    }

    #[test]
    fn an_account_names_series_is_the_name_without_its_closing_number() {
        for (name, series) in [
            ("u02-004", Some("U02")),
            ("pbi_07", Some("PBI")),
            ("rab3_11", Some("RAB3")),
            ("CTTC/01", Some("CTTC")),
            ("dmp.ct.017", Some("DMP-CT")),
            ("pabn.2", Some("PABN")),
            ("ri015", Some("RI")),
            ("hq006", Some("HQ")),
            ("j.smith", None),
            ("john.smith2", Some("JOHN-SMITH")),
            ("BP7805123456", Some("BP")),
            ("cttc07@police.gov.bd", Some("CTTC")),
            ("DMP\\ct017", Some("CT")),
            ("rahim.k@dmp.gov.bd", None),
            ("OFF-1080", Some("OFF")),
            ("1234", None),
            ("12-34", None),
            ("", None),
        ] {
            assert_eq!(account_series(name).as_deref(), series, "{name}");
        }
    }

    #[test]
    fn a_rota_is_told_by_its_days_not_by_its_busiest_week() {
        // R works a quiet week of day shifts (5 lookups a day, 09:00-16:00), then a busy week
        // of evenings (60 a day, 14:00-22:00), then nights; three colleagues work nights. By
        // accesses nine tenths of R's work is the evening shift, as if it were their only one;
        // by days, half of them were day shifts: R works a rota, and their unit's nights are
        // not unusual hours for them. Nor is 06:00, when one colleague, C, does a few lookups
        // a day (1.5% of the unit's hours): for someone on a rota an hour is unusual only if
        // neither they nor their unit work it.
        let mut e = Engine::new(Config::default());
        let ev = |t: i64, officer: &str, subject: u64| lookup_in_u(t, officer, subject, "C1");
        let mut evs = Vec::new();
        for d in 0..15_i64 {
            let day = 1_767_225_600 + d * 86_400;
            let (start, n, len) = if d < 7 {
                (9, 5, 7)
            } else if d < 14 {
                (14, 60, 8)
            } else {
                (22, 10, 1)
            };
            for k in 0..n {
                evs.push(ev(day + start * 3600 + k * len * 3600 / n, "R", 1_000_000_000 + k as u64));
            }
            for o in 0..3 {
                for k in 0..20 {
                    let t = day + k * 3600 * 8 / 20 + if k < 6 { 0 } else { 22 * 3600 - 6 * 3600 };
                    evs.push(ev(t + o, &format!("N{o}"), 2_000_000_000 + k as u64));
                }
            }
            for k in 0..40 {
                let t = if k < 3 { day + 6 * 3600 + k * 600 } else { day + 9 * 3600 + k * 700 };
                evs.push(ev(t, "C", 3_000_000_000 + k as u64));
            }
        }
        evs.sort_by_key(|e| e.time);
        for x in &evs {
            e.push(x);
        }
        let r = e.officers.iter().position(|o| o.name == "R").unwrap();
        assert!(e.officers[r].shifts, "a week of days and a week of evenings");
        assert!(!e.is_off_hours(r, 23), "the unit works nights, and R a rota");
        assert!(!e.is_off_hours(r, 6), "C works at 06:00");
        assert!(e.is_off_hours(r, 4), "nobody works at 04:00");
    }

    #[test]
    fn where_a_log_says_nothing_of_cases_the_action_tells_a_desk_from_an_investigator() {
        // D checks 40 people a day; I pulls four people's identities and two phones' call
        // records a day; M pulls nine identities to one call record. None cites a case,
        // as the log has no case column: by the share of identity checks citing no case (60%),
        // all three would be desks; by the action, only D is.
        let mut e = Engine::new(Config::default());
        let mut evs = Vec::new();
        for d in 0..12_i64 {
            let day = 1_767_225_600 + d * 86_400 + 9 * 3600;
            for k in 0..40 {
                evs.push(lookup_in_u(day + k * 600, "D", 3_000_000_000 + (d * 40 + k) as u64, ""));
            }
            for (officer, ids, cdrs) in [("I", 4, 2), ("M", 9, 1)] {
                for k in 0..ids + cdrs {
                    let mut x = lookup_in_u(day + k * 900 + 7, officer, 5_000_000_000 + k as u64, "");
                    if k >= ids {
                        x.action = Action::CdrQuery;
                    }
                    evs.push(x);
                }
            }
        }
        for x in &evs {
            e.push(x);
        }
        let style = |name: &str| {
            let o = e.officers.iter().find(|o| o.name == name).unwrap();
            e.style_of(o)
        };
        assert_ne!(style("D").group, style("I").group, "a desk and an investigator");
        assert_eq!(style("I").group, style("M").group, "one call record in ten is not a desk's work");
    }

    #[test]
    fn an_officer_citing_cases_of_several_teams_does_not_make_them_one() {
        // No unit in the log. Two teams of five, each on its case in the case file; an
        // operator on no case pulls for both, citing their cases. The file says who works
        // them: the operator joins neither team, and the teams stay two. A case the file does
        // not staff still joins those who cite it.
        let mut links = CaseLinks::default();
        for o in 0..10 {
            links.officers.push((if o < 5 { "CA" } else { "CB" }.into(), format!("o{o}")));
        }
        let mut e = Engine::new(Config::default());
        e.load_cases(&links);
        let mut ev = lookup_in_u(1_767_225_600, "ops", 1_000_000_000, "CA");
        ev.unit.clear();
        e.push(&ev);
        ev.case = "CB".into();
        e.push(&ev);
        for (officer, case) in [("x1", "CX"), ("x2", "CX")] {
            ev.officer = officer.into();
            ev.case = case.into();
            e.push(&ev);
        }
        let root = |e: &Engine, name: &str| e.names.get(name).map(|id| e.teams.root(id));
        assert_eq!(root(&e, "o0"), root(&e, "o4"));
        assert_eq!(root(&e, "o5"), root(&e, "o9"));
        assert_ne!(root(&e, "o0"), root(&e, "o5"), "the operator made the two teams one");
        assert_ne!(root(&e, "ops"), root(&e, "o0"));
        assert_eq!(root(&e, "x1"), root(&e, "x2"), "an unstaffed case joins who cites it");
    }

    #[test]
    fn the_prior_dispersion_is_within_groups_not_between_them() {
        // Two units of case workers: everyone in one does 10 lookups a day, everyone in the
        // other 40. Within each unit nobody varies, so the prior dispersion that small units
        // are shrunk towards is that of a Poisson count (1); over all officers at once it
        // would be the gap between the units (far above 1).
        let sample = |r: f64| {
            let mut rate = [0.0; NF];
            rate[F_EVENTS] = r;
            PeerSample { rate, recent: rate, recent_days: 7.0, days: 7.0, whole: rate, seen: 7.0 }
        };
        let mut samples: Vec<(u32, PeerSample)> =
            (0..10).map(|i| if i < 5 { (2, sample(10.0)) } else { (4, sample(40.0)) }).collect();
        let rates = GroupRates::new(&mut samples);
        assert_eq!(rates.global[0].phi[F_EVENTS], 1.0);
        assert!(peer_rates(&samples).rates.phi[F_EVENTS] > 10.0);
        assert_eq!(rates.get(2).phi[F_EVENTS], 1.0);
    }

    #[test]
    fn interner_keeps_digit_strings_apart_by_length_and_gives_names_back() {
        let mut i = Interner::default();
        let ids: Vec<u32> = [
            "123",
            "0123",
            "00123",
            "8801712345678",
            "ATU",
            "",
            "9999999999999999999",
            "99999999999999999999",
        ]
        .iter()
        .map(|s| i.id(s))
        .collect();
        assert_eq!(ids, (0..8).collect::<Vec<u32>>());
        assert_eq!(i.id("0123"), 1);
        assert_eq!(i.id("ATU"), 4);
        assert_eq!(i.get("00123"), Some(2));
        assert_eq!(i.get("0000123"), None);
        assert_eq!(i.len(), 8);
        for (s, id) in [("0123", 1), ("00123", 2), ("ATU", 4), ("", 5), ("9999999999999999999", 6)] {
            assert_eq!(i.name(id).as_deref(), Some(s));
        }
        assert_eq!(i.name(99), None);
        // Short strings packed, longer ones kept as text; a NUL byte or a multi-byte
        // character is kept apart by the length.
        for s in ["OFF-4952", "CASE-ATU-000851", "CASE-ATU-0008512", "ATU\0", "ঢাকা", "ঢাকা-উত্তর-পূর্ব"]
        {
            let id = i.id(s);
            assert_eq!(i.id(s), id);
            assert_eq!(i.name(id).as_deref(), Some(s));
        }
        assert_ne!(i.get("ATU"), i.get("ATU\0"));
        assert_eq!(i.len(), 14);
    }
}
