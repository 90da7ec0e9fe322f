//! Parsing of access logs (`custos analyze --log`), case links (`--cases`) and watch lists
//! (`--watch`).
//!
//! Access logs are CSV with a header, JSON Lines, or one JSON array of objects, with the fields
//! `time,officer,unit,action,subject,case,outcome,records`. Columns are found by name (any
//! order, extra columns ignored); `unit`, `case`, `outcome` and `records` may be missing (a
//! missing outcome is an allowed access; missing records are [`crate::RECORDS_UNKNOWN`], not
//! none found), and a placeholder (`-`, `N/A`, `none`, `null`) in `unit`, `case` or `subject` is
//! read as missing.
//! Times are read by [`crate::time::parse_log_time_in`]: RFC 3339 or Unix time, and the forms
//! other agencies write (no offset, `+0600`, milliseconds, the month's name, day- or
//! month-first numeric dates in the order the log shows), also from a date and a time of day
//! in two columns (`Date`, `Time`).
//! Rows are read one at a time from any reader, so memory does not grow with the file; a bad
//! row is an error that names its line, and the caller decides whether to skip it.

use std::io::{BufRead, BufReader, Read};

use crate::time::{parse_log_time_in, DateOrder, LogTime};
use crate::Event;

/// The well-known actions; anything else is kept as free text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Action {
    /// National-ID record lookup.
    IdentityLookup,
    /// Call-detail-record query.
    CdrQuery,
    /// Subscriber (MSISDN owner) lookup.
    SubscriberLookup,
    /// Location query.
    LocationQuery,
    /// Search by name.
    NameSearch,
    /// Any other action, lowercased.
    Other(String),
}

impl Action {
    /// Normalise free text (`CDR Query`, `cdr-query` → [`Action::CdrQuery`]).
    pub fn parse(s: &str) -> Self {
        // Most logs write the canonical names; those need no normalising copy.
        if let Some(a) = Self::canonical(s) {
            return a;
        }
        let n: String = s
            .trim()
            .chars()
            .map(|c| if c == '-' || c == ' ' || c == '.' { '_' } else { c.to_ascii_lowercase() })
            .collect();
        Self::by_words(s).unwrap_or(Action::Other(n))
    }

    /// The action a canonical name names.
    fn canonical(s: &str) -> Option<Self> {
        Some(match s {
            "identity_lookup" => Action::IdentityLookup,
            "cdr_query" => Action::CdrQuery,
            "subscriber_lookup" => Action::SubscriberLookup,
            "location_query" => Action::LocationQuery,
            "name_search" => Action::NameSearch,
            _ => return None,
        })
    }

    /// Other agencies name the same acts their own way (`CDR_REQUEST`, `getCallDetails`,
    /// `cell-site lookup`, `NID verify`): the words of a name say which it is, the most
    /// sensitive first (a call-record search is call records, not a search).
    fn by_words(s: &str) -> Option<Self> {
        let words = words_of(s);
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let any = |f: &dyn Fn(&str) -> bool| words.iter().any(|w| f(w));
        // A phone's records or history are its calls; the phone alone is its subscriber.
        let phone = any(&|w| matches!(w, "phone" | "mobile" | "telephone"));
        let history = any(&|w| matches!(w, "record" | "records" | "history" | "log" | "logs"));
        if any(&|w| {
            w.starts_with("cdr")
                || w.starts_with("calldetail")
                || matches!(
                    w,
                    "call"
                        | "calls"
                        | "sms"
                        | "mms"
                        | "ipdr"
                        | "xdr"
                        | "traffic"
                        | "communication"
                        | "communications"
                )
        }) || phone && history
        {
            return Some(Action::CdrQuery);
        }
        if any(&|w| {
            w.starts_with("locat") || matches!(w, "cell" | "cellsite" | "tower" | "geo" | "gps" | "lbs")
        }) {
            return Some(Action::LocationQuery);
        }
        if phone
            || any(&|w| {
                w.starts_with("subscri")
                    || matches!(w, "msisdn" | "sim" | "imsi" | "imei" | "owner" | "ownership" | "kyc")
            })
        {
            return Some(Action::SubscriberLookup);
        }
        if any(&|w| {
            matches!(
                w,
                "nid"
                    | "id"
                    | "identity"
                    | "citizen"
                    | "person"
                    | "national"
                    | "nic"
                    | "passport"
                    | "voter"
                    | "biometric"
                    | "fingerprint"
                    | "demographic"
            )
        }) {
            return Some(Action::IdentityLookup);
        }
        if any(&|w| w.starts_with("search") || w == "name") {
            return Some(Action::NameSearch);
        }
        None
    }

    /// Call records or location: the most sensitive, warrant-bound categories.
    pub fn is_traffic(&self) -> bool {
        matches!(self, Action::CdrQuery | Action::LocationQuery)
    }

    /// The canonical name.
    pub fn as_str(&self) -> &str {
        match self {
            Action::IdentityLookup => "identity_lookup",
            Action::CdrQuery => "cdr_query",
            Action::SubscriberLookup => "subscriber_lookup",
            Action::LocationQuery => "location_query",
            Action::NameSearch => "name_search",
            Action::Other(s) => s,
        }
    }
}

/// A row that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct RowError {
    /// 1-based line number in the file.
    pub line: u64,
    /// What was wrong.
    pub message: String,
}

fn outcome(s: &str) -> Option<bool> {
    // Also as other agencies write them, HTTP statuses included (a 404 answered the request:
    // the records count says it found nothing).
    const YES: [&str; 18] = [
        "",
        "allowed",
        "allow",
        "granted",
        "ok",
        "success",
        "succeeded",
        "successful",
        "true",
        "1",
        "yes",
        "permit",
        "permitted",
        "approved",
        "200",
        "201",
        "204",
        "404",
    ];
    const NO: [&str; 17] = [
        "denied",
        "deny",
        "refused",
        "rejected",
        "reject",
        "forbidden",
        "false",
        "0",
        "no",
        "blocked",
        "failed",
        "failure",
        "fail",
        "unauthorized",
        "unauthorised",
        "401",
        "403",
    ];
    let s = s.trim();
    // An outcome not written (`-`, `N/A`, Elastic's `unknown`) is a missing one: allowed.
    if YES.iter().any(|y| y.eq_ignore_ascii_case(s)) || placeholder(s) || s.eq_ignore_ascii_case("unknown") {
        return Some(true);
    }
    if NO.iter().any(|n| n.eq_ignore_ascii_case(s)) {
        return Some(false);
    }
    // Any other HTTP status: answered (2xx, 3xx) or not served (4xx, 5xx), as the gateway's
    // own export writes every request that was not allowed as denied.
    if s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()) {
        return match s.as_bytes()[0] {
            b'2' | b'3' => Some(true),
            b'4' | b'5' => Some(false),
            _ => None,
        };
    }
    outcome_by_words(s)
}

/// An outcome in words not listed in [`outcome`] (`ACCESS_DENIED_BY_POLICY`, `no match`,
/// `RATE_LIMITED`): a word of refusal or failure makes it not served, checked first (so
/// `not allowed` and `unsuccessful` are refusals), then a word of success or of an answer
/// (`not found` answered the request); anything else is not read.
fn outcome_by_words(s: &str) -> Option<bool> {
    const REFUSED: [&str; 31] = [
        "bad request",
        "declin",
        "abort",
        "cancel",
        "insufficient",
        "locked",
        "suspend",
        "disabled",
        "unavailable",
        "deni",
        "deny",
        "refus",
        "reject",
        "forbid",
        "block",
        "unauth",
        "fail",
        "error",
        "invalid",
        "expired",
        "revoked",
        "throttl",
        "limit",
        "timeout",
        "timed out",
        "disallow",
        "not allowed",
        "not permitted",
        "unsuccess",
        "prohibit",
        "violat",
    ];
    const SERVED: [&str; 23] = [
        "allow", "grant", "success", "permit", "approv", "found", "match", "complete", "served", "record",
        "result", "data", "hit", "empty", "none", "done", "process", "return", "deliver", "retriev", "fetch",
        "partial", "execut",
    ];
    let t = outcome_text(s);
    if REFUSED.iter().any(|w| t.contains(w)) {
        Some(false)
    } else if SERVED.iter().any(|w| t.contains(w))
        || t.split(|c: char| !c.is_alphanumeric()).any(|w| w == "ok")
    {
        Some(true)
    } else {
        None
    }
}

/// Whether an outcome says the lookup found nobody (`NO_RECORD`, `not found`, `404`, `no data`):
/// such a row without a records count found zero records.
fn found_nothing(s: &str) -> bool {
    const NOTHING: [&str; 10] = [
        "404",
        "not found",
        "notfound",
        "no record",
        "norecord",
        "no data",
        "nodata",
        "no result",
        "no match",
        "no hit",
    ];
    let t = outcome_text(s);
    NOTHING.iter().any(|w| t.contains(w))
}

/// An outcome as words: lower case, `_` and `-` as spaces (`NO_RECORD` → `no record`).
fn outcome_text(s: &str) -> String {
    s.trim().chars().map(|c| if c == '_' || c == '-' { ' ' } else { c.to_ascii_lowercase() }).collect()
}

/// The form of a national ID number that matching uses: the old 17-digit form is the holder's
/// birth year followed by their 13-digit number, so both name one person and match as the 13
/// digits. Any other string is returned as it is.
pub fn canonical_nid(d: &str) -> &str {
    if d.len() == 17 && (d.starts_with("19") || d.starts_with("20")) && d.bytes().all(|b| b.is_ascii_digit())
    {
        &d[4..]
    } else {
        d
    }
}

/// Normalise an identifier for matching: trims, drops spaces, dashes and dots inside digit
/// strings, maps Bangla digits to ASCII, and drops a short label before a number
/// (`NID:1234567890`, `msisdn=8801712345678`, `tel:+880…`), and writes an old 17-digit NID
/// as its 13 digits ([`canonical_nid`]). Opaque commitments pass through trimmed.
pub fn normalize_subject(s: &str) -> String {
    let mut out = String::new();
    normalize_subject_into(s, &mut out);
    out
}

/// [`normalize_subject`] into a string that is reused (cleared first), so the common case of
/// plain digits allocates nothing once `out` has grown.
pub fn normalize_subject_into(s: &str, out: &mut String) {
    out.clear();
    let t = s.trim();
    // Plain ASCII digits, the common case: only the mobile-number forms change.
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        match t.len() {
            11 if t.starts_with("01") => {
                out.push_str("88");
                out.push_str(t);
            }
            15 if t.starts_with("008801") => out.push_str(&t[2..]),
            _ => out.push_str(canonical_nid(t)),
        }
        return;
    }
    let mapped: String = t
        .chars()
        .map(|c| match c {
            '\u{09E6}'..='\u{09EF}' => char::from(b'0' + (c as u32 - 0x09E6) as u8),
            c => c,
        })
        .collect();
    let digits_like = |s: &str| {
        s.chars().all(|c| c.is_ascii_digit() || " -.+()".contains(c)) && s.chars().any(|c| c.is_ascii_digit())
    };
    // A label of up to twelve letters, a separator, then a number of six digits or more:
    // the number is the identifier (the label says which kind, as its form already does).
    let number = match mapped.find(|c: char| !c.is_ascii_alphabetic()) {
        Some(i @ 1..=12) => {
            let rest = mapped[i..].trim_start_matches(|c: char| ":=#_- ".contains(c));
            (rest.len() < mapped.len() - i
                && digits_like(rest)
                && rest.chars().filter(char::is_ascii_digit).count() >= 6)
                .then_some(rest)
        }
        _ => None,
    };
    let number = number.unwrap_or(&mapped);
    if digits_like(number) {
        let d: String = number.chars().filter(char::is_ascii_digit).collect();
        // Bangladeshi mobile numbers to one form: 8801XXXXXXXXX.
        if d.len() == 11 && d.starts_with("01") {
            out.push_str("88");
            out.push_str(&d);
        } else if d.len() == 15 && d.starts_with("008801") {
            out.push_str(&d[2..]);
        } else {
            out.push_str(canonical_nid(&d));
        }
        return;
    }
    out.push_str(&mapped);
}

fn set_trimmed(out: &mut String, field: Option<&str>) {
    out.clear();
    if let Some(f) = field {
        out.push_str(f.trim());
    }
}

/// Whether a field holds a placeholder for nothing (`-`, `N/A`, `none`, `null`): logs write
/// these where a case, unit or subject is missing. Read as a value, one placeholder would be
/// a case every officer cites, or a subject every officer shares.
fn placeholder(s: &str) -> bool {
    const NOTHING: [&str; 9] = ["-", "--", "n/a", "na", "none", "null", "nil", "(none)", "(null)"];
    NOTHING.iter().any(|p| p.eq_ignore_ascii_case(s))
}

/// [`set_trimmed`], leaving `out` empty for a placeholder.
fn set_field(out: &mut String, field: Option<&str>) {
    set_trimmed(out, field);
    if placeholder(out) {
        out.clear();
    }
}

/// The columns of an access log.
#[derive(Debug, Clone, Copy)]
enum Col {
    Time,
    Officer,
    Unit,
    Action,
    Subject,
    Case,
    Outcome,
    Records,
    /// A date kept apart from the time of day (`Date`, `Time`), as spreadsheets export them.
    Date,
    /// A second identifier column, read where the subject's is empty: logs that keep the NID
    /// and the number searched apart (`target_nid`, `target_msisdn`), one filled per row.
    OtherSubject,
}

/// A column the caller named: the column, its header's key ([`header_key`]) and the header as
/// given.
type Named = (Col, String, String);

/// How many columns [`Col`] names.
const NCOL: usize = 10;

impl Col {
    const ALL: [Col; NCOL] = [
        Col::Time,
        Col::Officer,
        Col::Unit,
        Col::Action,
        Col::Subject,
        Col::Case,
        Col::Outcome,
        Col::Records,
        Col::Date,
        Col::OtherSubject,
    ];

    fn name(self) -> &'static str {
        match self {
            Col::Time => "time",
            Col::Officer => "officer",
            Col::Unit => "unit",
            Col::Action => "action",
            Col::Subject => "subject",
            Col::Case => "case",
            Col::Outcome => "outcome",
            Col::Records => "records",
            Col::Date => "date",
            Col::OtherSubject => "other_subject",
        }
    }

    /// Other names agencies give the column, tried in order where the header lacks
    /// [`Col::name`].
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Col::Time => &["timestamp", "datetime", "date_time", "ts", "event_time", "access_time"],
            Col::Officer => &["officer_id", "user", "user_id", "username", "account", "actor"],
            Col::Unit => &["department", "dept", "team", "agency", "office"],
            Col::Action => &["event", "operation", "activity", "action_type", "query_type", "request_type"],
            Col::Subject => &["target", "subject_id", "query", "identifier", "msisdn", "nid"],
            Col::Case => &["case_id", "case_no", "case_number", "case_ref", "reference"],
            Col::Outcome => &["result", "decision", "status", "access"],
            Col::Records => &["record_count", "records_returned", "rows", "results", "count"],
            Col::Date => &["event_date", "access_date", "log_date", "request_date", "day"],
            Col::OtherSubject => &[],
        }
    }

    /// Words that name the column within a longer header (`Staff Badge`, `eventTimestamp`,
    /// `Subject MSISDN`), tried last, word by word.
    fn words(self) -> &'static [&'static str] {
        match self {
            Col::Time => &["time", "timestamp", "date", "datetime", "when", "ts"],
            Col::Officer => &[
                "officer",
                "user",
                "username",
                "staff",
                "employee",
                "badge",
                "agent",
                "operator",
                "analyst",
                "account",
                "actor",
                "login",
                "uid",
                "requester",
                "requestor",
                "investigator",
            ],
            Col::Unit => &[
                "unit",
                "dept",
                "department",
                "team",
                "division",
                "agency",
                "office",
                "station",
                "branch",
                "section",
                "bureau",
                "squad",
                "org",
                "organisation",
                "organization",
            ],
            Col::Action => {
                &["action", "event", "operation", "activity", "type", "request", "method", "service"]
            }
            Col::Subject => &[
                "subject",
                "target",
                "msisdn",
                "nid",
                "identifier",
                "person",
                "citizen",
                "searched",
                "search",
                "lookup",
                "phone",
                "mobile",
                "number",
            ],
            Col::Case => &["case", "reference", "ref", "investigation", "matter"],
            Col::Outcome => {
                &["outcome", "result", "decision", "status", "access", "granted", "allowed", "verdict"]
            }
            Col::Records => &["records", "rows", "count", "results", "hits", "returned", "matches"],
            // Not guessed from a longer header: a date column is only read beside a time.
            Col::Date => &[],
            // Found after the subject, by the words of an identifier (see `resolve_columns`).
            Col::OtherSubject => {
                &["nid", "msisdn", "phone", "mobile", "subject", "target", "identifier", "imsi"]
            }
        }
    }
}

type Field<'a> = Option<std::borrow::Cow<'a, str>>;

/// Actions by their name as the log writes it, so a name that is not a canonical one is
/// classified once, not on every row (a log has a few dozen distinct names; past
/// [`ActionNames::MAX`] the rest are classified each time, in bounded memory).
#[derive(Debug, Default)]
struct ActionNames {
    known: rustc_hash::FxHashMap<Box<str>, Action>,
}

impl ActionNames {
    const MAX: usize = 1024;
    /// Longer names are classified each time, so the table stays small (`MAX` × `MAX_LEN`
    /// bytes) whatever a log's action column holds.
    const MAX_LEN: usize = 64;

    /// Set `into` to the action `s` names, reusing its string when it names the same.
    fn set(&mut self, s: &str, into: &mut Action) {
        if let Some(a) = Action::canonical(s) {
            *into = a;
            return;
        }
        let a = match self.known.get(s) {
            Some(a) => a,
            None if self.known.len() < Self::MAX && s.len() <= Self::MAX_LEN => {
                self.known.entry(s.into()).or_insert_with(|| Action::parse(s))
            }
            None => {
                *into = Action::parse(s);
                return;
            }
        };
        if a != into {
            a.clone_into(into);
        }
    }
}

/// What a reader carries from row to row: the offset of times written without one, how many
/// such rows there were, and the action names met.
struct RowState<'s> {
    naive_offset: i32,
    naive_rows: &'s mut u64,
    actions: &'s mut ActionNames,
    /// The order of numeric dates, as given or as the log has shown it so far.
    order: &'s mut DateOrder,
    /// Set when the row failed only because its date's order is not known yet.
    ambiguous: &'s mut bool,
}

/// Read one row into `ev`, reusing its strings. On error `ev` holds partial data. Times
/// written without an offset are read in `state.naive_offset` and counted in
/// `state.naive_rows`.
fn fill_row<'a>(
    get: &dyn Fn(Col) -> Field<'a>,
    line: u64,
    ev: &mut Event,
    state: RowState<'_>,
) -> Result<(), RowError> {
    let err = |m: String| RowError { line, message: m };
    let time_s = get(Col::Time).ok_or_else(|| err("missing `time`".into()))?;
    let mut read = parse_log_time_in(&time_s, state.naive_offset, state.order);
    if read == LogTime::Bad {
        // A time of day beside a date column (`Date`, `Time`).
        if let Some(date) = get(Col::Date).filter(|d| !d.trim().is_empty()) {
            let joined = format!("{} {}", date.trim(), time_s.trim());
            read = parse_log_time_in(&joined, state.naive_offset, state.order);
        }
    }
    let (time, no_offset) = match read {
        LogTime::At(t, naive) => (t, naive),
        LogTime::Ambiguous => {
            *state.ambiguous = true;
            return Err(err(format!(
                "date `{}` could be day or month first, and no row has shown which",
                clip(&time_s)
            )));
        }
        LogTime::Bad => return Err(err(format!("bad time `{}`", clip(&time_s)))),
    };
    *state.naive_rows += u64::from(no_offset);
    set_trimmed(&mut ev.officer, get(Col::Officer).as_deref());
    if ev.officer.is_empty() {
        return Err(err("missing `officer`".into()));
    }
    let action_s = get(Col::Action).unwrap_or_default();
    if action_s.trim().is_empty() {
        return Err(err("missing `action`".into()));
    }
    // The subject's column, or where it is empty the second identifier's.
    for col in [Col::Subject, Col::OtherSubject] {
        normalize_subject_into(&get(col).unwrap_or_default(), &mut ev.subject);
        if placeholder(&ev.subject) {
            ev.subject.clear();
        }
        if !ev.subject.is_empty() {
            break;
        }
    }
    let out_s = get(Col::Outcome).unwrap_or_default();
    let allowed = outcome(&out_s).ok_or_else(|| err(format!("bad outcome `{}`", clip(&out_s))))?;
    let rec_s = get(Col::Records).unwrap_or_default();
    let rec_t = rec_s.trim();
    let records = if rec_t.is_empty() || placeholder(rec_t) {
        // No count written (`-`, `N/A` on a refused row): unknown, unless the outcome says
        // nothing was found.
        if found_nothing(&out_s) {
            0
        } else {
            crate::RECORDS_UNKNOWN
        }
    } else {
        records_count(rec_t).ok_or_else(|| err(format!("bad records `{}`", clip(&rec_s))))?
    };
    ev.time = time.unix;
    ev.offset = time.offset;
    set_field(&mut ev.unit, get(Col::Unit).as_deref());
    state.actions.set(action_s.trim(), &mut ev.action);
    set_field(&mut ev.case, get(Col::Case).as_deref());
    ev.allowed = allowed;
    ev.records = records;
    Ok(())
}

/// A records count as logs write it: `12`, `12.0`, with thousands separators (`1,024`,
/// `1 024`, `1_024`), or followed by its noun (`1 record`, `12 rows`). Anything else (a
/// negative, a word alone, a number with another number after it) is not one.
fn records_count(s: &str) -> Option<u64> {
    if let Ok(n) = s.parse::<u64>() {
        return Some(n);
    }
    let whole = |v: f64| (v.is_finite() && v >= 0.0).then_some(v as u64);
    // `12.0`, `1e3`, as before any noun is looked for.
    if let Some(n) = s.parse::<f64>().ok().and_then(whole) {
        return Some(n);
    }
    // The number, up to the first letter: `1 record`, `12rows`.
    let end = s.find(|c: char| c.is_alphabetic()).unwrap_or(s.len());
    let (num, noun) = (s[..end].trim(), s[end..].trim());
    if noun.contains(|c: char| !c.is_alphabetic() && !c.is_whitespace() && c != '(' && c != ')') {
        return None;
    }
    let grouped = |sep: char| {
        let mut parts = num.split(sep);
        let first = parts.next()?;
        let ok = (1..=3).contains(&first.len())
            && first.bytes().all(|b| b.is_ascii_digit())
            && parts.all(|p| p.len() == 3 && p.bytes().all(|b| b.is_ascii_digit()));
        ok.then(|| num.replace(sep, ""))
    };
    let plain = [',', ' ', '_', '\u{a0}']
        .into_iter()
        .find_map(|sep| num.contains(sep).then(|| grouped(sep)).flatten())
        .unwrap_or_else(|| num.to_string());
    if let Ok(n) = plain.parse::<u64>() {
        return Some(n);
    }
    plain.parse::<f64>().ok().and_then(whole)
}

/// The lowercase words of a name: split at anything not a letter or digit and where camelCase
/// turns upper (`getCallDetails`, `CDR_REQUEST`, `Event Time`).
fn words_of(s: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut prev_lower = false;
    for c in s.chars() {
        if !c.is_alphanumeric() {
            prev_lower = false;
            words.push(String::new());
            continue;
        }
        if c.is_uppercase() && prev_lower || words.is_empty() {
            words.push(String::new());
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        if let Some(w) = words.last_mut() {
            w.extend(c.to_lowercase());
        }
    }
    words.retain(|w| !w.is_empty());
    words
}

/// A header name in one form: its words ([`words_of`]) joined by `_` (`Event Time`, `eventTime`
/// and `EVENT-TIME` are all `event_time`; a byte-order mark is no word).
fn header_key(h: &str) -> String {
    words_of(h).join("_")
}

/// Which header (by position) holds each column: its own name, then the other names agencies
/// give it, then, for a column still not found, the first header left with one of its words
/// ([`Col::words`]), but not one that names a kind (`subject_type`, `officer_rank`, `case_status`:
/// only the action's and the outcome's may) or, for the action, time, outcome or records, an id
/// (`request_id` is no action). `keys` are [`header_key`]s; `named` the columns the caller
/// named (a column and its header's key), which come first. Returns the positions, and which
/// columns were found only by a word.
fn resolve_columns(keys: &[String], named: &[Named]) -> ([Option<usize>; NCOL], [bool; NCOL]) {
    let mut cols = Col::ALL.map(|c| {
        let pos = |want: &str| keys.iter().position(|n| n == want);
        pos(c.name()).or_else(|| c.aliases().iter().find_map(|a| pos(a)))
    });
    for (c, key, _) in named {
        if let Some(p) = keys.iter().position(|n| n == key) {
            // The header is this column's, whatever other column its name would suggest.
            cols.iter_mut().filter(|x| **x == Some(p)).for_each(|x| *x = None);
            cols[*c as usize] = Some(p);
        }
    }
    const ORDER: [Col; 8] = [
        Col::Time,
        Col::Officer,
        Col::Subject,
        Col::Action,
        Col::Unit,
        Col::Case,
        Col::Outcome,
        Col::Records,
    ];
    let mut guessed = [false; NCOL];
    for c in ORDER {
        if cols[c as usize].is_some() {
            continue;
        }
        guessed[c as usize] = true;
        let no_id = matches!(c, Col::Action | Col::Time | Col::Outcome | Col::Records);
        const KIND: [&str; 6] = ["type", "kind", "category", "role", "rank", "status"];
        let kind_ok = matches!(c, Col::Action | Col::Outcome);
        let fits = |i: usize, words: &[&str]| {
            let taken = cols.contains(&Some(i));
            let an_id = no_id && words.contains(&"id");
            let a_kind = !kind_ok && words.iter().any(|w| KIND.contains(w));
            // What was searched for, never what the search found or how many
            // (`SearchResult`, `lookup_count`): those are the outcome's and the records'.
            let found = matches!(c, Col::Subject)
                && words.iter().any(|w| Col::Outcome.words().contains(w) || Col::Records.words().contains(w));
            !taken && !an_id && !a_kind && !found
        };
        // The column's own word first (`event_action` before `event_type`), then its others.
        let rank = |w: &str| c.words().iter().position(|x| *x == w).map(|r| r.min(1));
        // A header whose last word names the column first (the last word is what a name
        // is, the words before it whose: `event_action` is an action, `event_outcome` is not),
        // in the header's order, one with the column's own word before the rest; then any
        // header with one of its words, in the header's order.
        let by_last = keys
            .iter()
            .enumerate()
            .filter_map(|(i, k)| {
                let words: Vec<&str> = k.split('_').collect();
                let r = rank(words.last()?)?;
                fits(i, &words).then_some((r, i))
            })
            .min()
            .map(|(_, i)| i);
        cols[c as usize] = by_last.or_else(|| {
            keys.iter().enumerate().position(|(i, k)| {
                let words: Vec<&str> = k.split('_').collect();
                fits(i, &words) && words.iter().any(|w| c.words().contains(w))
            })
        });
        guessed[c as usize] &= cols[c as usize].is_some();
    }
    // A second identifier column beside the subject's (`nid` and `msisdn`), for rows that
    // leave the subject's empty: never a kind or an id of something else (`subject_type`).
    if cols[Col::Subject as usize].is_some() {
        let i = Col::OtherSubject as usize;
        cols[i] = keys.iter().enumerate().position(|(k, key)| {
            let words: Vec<&str> = key.split('_').collect();
            let others =
                [Col::Time, Col::Officer, Col::Unit, Col::Action, Col::Case, Col::Outcome, Col::Records];
            !cols.contains(&Some(k))
                && !words.iter().any(|w| {
                    ["type", "kind", "category", "role", "status", "count", "name"].contains(w)
                        || others.iter().any(|c| c.words().contains(w))
                })
                && words.iter().any(|w| Col::OtherSubject.words().contains(w))
        });
        guessed[i] = cols[i].is_some();
    }
    // A date alone is the time, when nothing else is (`Date` holding `2026-03-01 22:15`).
    if cols[Col::Time as usize].is_none() {
        cols[Col::Time as usize] = cols[Col::Date as usize].take();
        guessed[Col::Time as usize] = false;
    }
    (cols, guessed)
}

fn clip(s: &str) -> String {
    s.chars().take(60).collect()
}

/// Streaming reader of an access log (CSV with header, JSON Lines, or one JSON array of
/// objects; told apart by the first non-blank byte).
pub struct LogReader<R: Read> {
    inner: Inner<R>,
    /// Offset (seconds east of UTC) of times written without one.
    naive_offset: i32,
    /// Rows read so far whose time had no offset.
    naive_rows: u64,
    actions: ActionNames,
    /// Columns of a CSV header found only by a word of their header (see [`resolve_columns`]),
    /// as "`officer` from `Staff Badge`".
    guessed: Vec<String>,
    /// The order of numeric dates (`03/01/2026`): given, shown by a row whose day is above 12,
    /// or assumed day-first when no row shows it (see [`LogReader::date_order_assumed`]).
    order: DateOrder,
    order_assumed: bool,
    /// Rows that wait, in the order read, for a row to show the order of their dates: from
    /// the first whose date could be either up to the one that shows it (at most
    /// [`LogReader::MAX_WAITING`]), with their lines.
    pending: std::collections::VecDeque<(Raw, u64)>,
    /// The input is read to its end.
    eof: bool,
    /// Columns the caller named ([`LogReader::with_columns`]), by their header's key.
    named: Vec<Named>,
}

/// One row as read, before its fields are.
enum Raw {
    Csv(csv::StringRecord),
    Json(String),
}

enum Inner<R: Read> {
    /// `cols[c]`: the position of column `c` in a row, if the header has it.
    /// `skipped`: lines above the header (see [`header_start`]).
    Csv {
        rdr: Box<csv::Reader<BufReader<R>>>,
        cols: [Option<usize>; NCOL],
        rec: csv::StringRecord,
        skipped: u64,
    },
    Json {
        rdr: BufReader<R>,
        /// The line the current row starts on.
        line: u64,
        /// Lines read so far (an array's elements may span several).
        lines_read: u64,
        /// The current row's text.
        buf: String,
        /// Each column's key as the first object wrote it, as the path of keys to it through
        /// nested objects (`user` → `id`), found as a CSV header is ([`resolve_columns`]); a
        /// row without it is read by the column's own names.
        keys: Option<[Option<Vec<String>>; NCOL]>,
        /// The rows are the elements of one JSON array, not lines.
        array: bool,
    },
}

/// The most bytes of one element of a JSON array log that are kept (a longer one is a bad
/// row, and memory stays bounded).
const MAX_ELEMENT: usize = 1 << 20;

impl<R: Read> LogReader<R> {
    /// Rows held at most while waiting for a row to show the order of numeric dates; past
    /// them, dates are read day-first.
    pub const MAX_WAITING: usize = 100_000;

    /// Start reading. Fails when a CSV header lacks a required column.
    pub fn new(reader: R) -> Result<Self, RowError> {
        Self::with_columns(reader, &[])
    }

    /// [`LogReader::new`], with columns named by the caller: pairs of a column (`time`,
    /// `date`, `officer`, `unit`, `action`, `subject`, `case`, `outcome`, `records`) and the
    /// header (or JSON key) that holds it, as written (`Zeit`, `কর্মকর্তা`), for a log whose
    /// names no rule finds. Fails on an unknown column, or a header the CSV lacks.
    pub fn with_columns(reader: R, columns: &[(&str, &str)]) -> Result<Self, RowError> {
        // Every column but the second identifier's, which is found beside the subject's.
        let nameable = || Col::ALL.into_iter().filter(|c| !matches!(c, Col::OtherSubject));
        let mut named = Vec::with_capacity(columns.len());
        for (col, header) in columns {
            let Some(c) = nameable().find(|c| c.name() == *col) else {
                let known: Vec<&str> = nameable().map(Col::name).collect();
                return Err(RowError {
                    line: 0,
                    message: format!("unknown column `{col}` (one of: {})", known.join(", ")),
                });
            };
            named.push((c, header_key(header), (*header).to_string()));
        }
        let mut br = BufReader::with_capacity(1 << 16, reader);
        let head = br.fill_buf().map_err(|e| RowError { line: 1, message: format!("read error: {e}") })?;
        let first = head.iter().position(|b| !b.is_ascii_whitespace()).map(|i| (i, head[i]));
        let inner = match first {
            Some((_, b'{')) => {
                Inner::Json { rdr: br, line: 0, lines_read: 0, buf: String::new(), keys: None, array: false }
            }
            Some((i, b'[')) => {
                let lines_read = head[..i].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
                br.consume(i + 1);
                Inner::Json {
                    rdr: br,
                    line: lines_read,
                    lines_read,
                    buf: String::new(),
                    keys: None,
                    array: true,
                }
            }
            _ => {
                let (skip, skipped_lines, delimiter) = header_start(head, &named);
                br.consume(skip);
                let (inner, guessed) = Self::csv(br, delimiter, skipped_lines, &named)?;
                return Ok(Self::with(inner, guessed, named));
            }
        };
        Ok(Self::with(inner, Vec::new(), named))
    }

    fn with(inner: Inner<R>, guessed: Vec<String>, named: Vec<Named>) -> Self {
        Self {
            inner,
            named,
            naive_offset: 0,
            naive_rows: 0,
            actions: ActionNames::default(),
            guessed,
            order: DateOrder::Unknown,
            order_assumed: false,
            pending: std::collections::VecDeque::new(),
            eof: false,
        }
    }

    fn csv(
        br: BufReader<R>,
        delimiter: u8,
        skipped: u64,
        named: &[Named],
    ) -> Result<(Inner<R>, Vec<String>), RowError> {
        // Fields are trimmed where they are read.
        let mut rdr = csv::ReaderBuilder::new().flexible(true).delimiter(delimiter).from_reader(br);
        let header = rdr
            .headers()
            .map_err(|e| RowError { line: 1 + skipped, message: format!("bad CSV header: {e}") })?;
        let names: Vec<String> = header.iter().map(header_key).collect();
        let (cols, guessed) = resolve_columns(&names, named);
        if let Some((c, _, header)) = named.iter().find(|(_, key, _)| !names.contains(key)) {
            return Err(RowError {
                line: 1 + skipped,
                message: format!("the header has no column `{}` (named for `{}`)", clip(header), c.name()),
            });
        }
        let guessed: Vec<String> = Col::ALL
            .iter()
            .zip(cols.iter().zip(guessed))
            .filter_map(|(c, (pos, g))| {
                let h = header.get((*pos)?)?.trim().trim_start_matches('\u{feff}');
                g.then(|| format!("`{}` from `{}`", c.name(), clip(h)))
            })
            .collect();
        for need in REQUIRED {
            if cols[need as usize].is_none() {
                return Err(RowError {
                    line: 1 + skipped,
                    message: format!(
                        "CSV header lacks the `{}` column (nor has it one of: {})",
                        need.name(),
                        need.aliases().join(", ")
                    ),
                });
            }
        }
        Ok((Inner::Csv { rdr: Box::new(rdr), cols, rec: csv::StringRecord::new(), skipped }, guessed))
    }

    /// Read times written without an offset (`2026-03-01 22:15:00`) in this one (seconds east
    /// of UTC; UTC unless set). Their local hours are the hours written either way; the
    /// offset places them in absolute time.
    pub fn assume_offset(mut self, seconds: i32) -> Self {
        self.naive_offset = seconds;
        self
    }

    /// Read numeric dates (`03/01/2026`) in this order instead of the one the log shows; a
    /// row against it is a bad row.
    pub fn date_order(mut self, order: DateOrder) -> Self {
        self.order = order;
        self
    }

    /// How many rows so far had a time without an offset.
    pub fn naive_rows(&self) -> u64 {
        self.naive_rows
    }

    /// The CSV header's columns found by a word of their header rather than by a name we know
    /// (`` `officer` from `Staff Badge` ``), for the caller to say how the file was read.
    pub fn guessed_columns(&self) -> &[String] {
        &self.guessed
    }

    /// Whether numeric dates were read day-first because no row showed their order (none had
    /// a day above 12 before the end, or before [`LogReader::MAX_WAITING`] rows waited), for
    /// the caller to say so.
    pub fn date_order_assumed(&self) -> bool {
        self.order_assumed
    }
}

impl<R: Read> LogReader<R> {
    /// Read the next row into `ev`, reusing its strings (no allocation per row once they have
    /// grown): `None` at the end, `Some(Err)` for a bad row (then `ev` holds partial data).
    /// Rows whose numeric date could be day or month first wait, with the rows after them,
    /// until a row shows the order; then they come out in the order read.
    pub fn read_event(&mut self, ev: &mut Event) -> Option<Result<(), RowError>> {
        loop {
            if !self.pending.is_empty()
                && (self.order != DateOrder::Unknown || self.eof || self.pending.len() >= Self::MAX_WAITING)
            {
                if self.order == DateOrder::Unknown {
                    self.order = DateOrder::DayFirst;
                    self.order_assumed = true;
                }
                let (raw, line) = self.pending.pop_front()?;
                return Some(self.fill(Some(&raw), line, ev, false).map_err(|(e, _)| e));
            }
            if self.eof {
                return None;
            }
            let line = match self.next_row() {
                None => {
                    self.eof = true;
                    continue;
                }
                Some(Err((e, fatal))) => {
                    self.eof |= fatal;
                    return Some(Err(e));
                }
                Some(Ok(line)) => line,
            };
            // While rows wait, the rows after them are read only to see whether one shows the
            // order (a bad one is told now); each is read again, in turn, when they come out.
            let waiting = !self.pending.is_empty();
            match self.fill(None, line, ev, waiting) {
                Ok(()) if !waiting => return Some(Ok(())),
                Err((e, false)) => return Some(Err(e)),
                Ok(()) | Err((_, true)) => {
                    let raw = match &self.inner {
                        Inner::Csv { rec, .. } => Raw::Csv(rec.clone()),
                        Inner::Json { buf, .. } => Raw::Json(buf.clone()),
                    };
                    self.pending.push_back((raw, line));
                }
            }
        }
    }

    /// Read the next row's text (a CSV record, a JSON line or array element) into the reader,
    /// returning its line. An error reading the input itself (a compressed file cut short)
    /// ends the input: `(error, true)`.
    fn next_row(&mut self) -> Option<Result<u64, (RowError, bool)>> {
        match &mut self.inner {
            Inner::Csv { rdr, rec, skipped, .. } => match rdr.read_record(rec) {
                Ok(false) => None,
                Ok(true) => Some(Ok(rec.position().map_or(0, |p| p.line()) + *skipped)),
                Err(e) => {
                    // An error of the input has no record's position: the line reached.
                    let line = e.position().unwrap_or_else(|| rdr.position()).line() + *skipped;
                    let message = if e.is_io_error() {
                        format!("read error: {e}")
                    } else {
                        format!("bad CSV row: {e}")
                    };
                    Some(Err((RowError { line, message }, e.is_io_error())))
                }
            },
            Inner::Json { rdr, line, lines_read, buf, array: false, .. } => loop {
                buf.clear();
                *lines_read += 1;
                *line = *lines_read;
                match rdr.read_line(buf) {
                    Ok(0) => return None,
                    Ok(_) if buf.trim().is_empty() => continue,
                    Ok(_) => return Some(Ok(*line)),
                    Err(e) => {
                        return Some(Err((
                            RowError { line: *line, message: format!("read error: {e}") },
                            true,
                        )))
                    }
                }
            },
            Inner::Json { rdr, line, lines_read, buf, array: true, .. } => {
                match next_element(rdr, lines_read, buf) {
                    Ok(None) => None,
                    Ok(Some(start)) => {
                        *line = start;
                        Some(Ok(start))
                    }
                    Err((message, fatal)) => Some(Err((RowError { line: *lines_read, message }, fatal))),
                }
            }
        }
    }

    /// Read a row's fields into `ev`: the current row, or `raw`. A `trial` read counts
    /// nothing. The error says whether the row failed only for its date's order.
    fn fill(
        &mut self,
        raw: Option<&Raw>,
        line: u64,
        ev: &mut Event,
        trial: bool,
    ) -> Result<(), (RowError, bool)> {
        let mut ambiguous = false;
        let mut scratch = 0;
        let state = RowState {
            naive_offset: self.naive_offset,
            naive_rows: if trial { &mut scratch } else { &mut self.naive_rows },
            actions: &mut self.actions,
            order: &mut self.order,
            ambiguous: &mut ambiguous,
        };
        let done = match (&mut self.inner, raw) {
            (Inner::Csv { cols, rec, .. }, raw) => {
                let rec = match raw {
                    Some(Raw::Csv(r)) => r,
                    _ => &*rec,
                };
                let get =
                    |c: Col| -> Field<'_> { rec.get(cols[c as usize]?).map(std::borrow::Cow::Borrowed) };
                fill_row(&get, line, ev, state)
            }
            (Inner::Json { buf, keys, .. }, raw) => {
                let text = match raw {
                    Some(Raw::Json(t)) => t.as_str(),
                    _ => buf.as_str(),
                };
                fill_json(text, keys, &self.named, line, ev, state)
            }
        };
        done.map_err(|e| (e, ambiguous))
    }
}

/// Read one JSON object's row into `ev`, finding its keys as [`resolve_columns`] finds a
/// header's (from the first object). A nested object's keys are read by their path, as a
/// header of its words (`{"user": {"id": …}}` is `user_id`, `{"event": {"outcome": …}}` is
/// `event_outcome`), as SIEM exports (Elastic's `@timestamp`, `user.name`, `event.action`) and
/// other agencies' JSON logs write them.
fn fill_json(
    text: &str,
    keys: &mut Option<[Option<Vec<String>>; NCOL]>,
    named: &[Named],
    line: u64,
    ev: &mut Event,
    state: RowState<'_>,
) -> Result<(), RowError> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| RowError { line, message: format!("bad JSON: {e}") })?;
    if keys.is_none() {
        if let Some(obj) = v.as_object() {
            let mut paths = Vec::new();
            leaf_paths(obj, &mut Vec::new(), &mut paths);
            let found: Vec<String> = paths.iter().map(|p| header_key(&p.join(" "))).collect();
            *keys = Some(resolve_columns(&found, named).0.map(|p| p.map(|i| paths[i].clone())));
        }
    }
    let keys = &*keys;
    let get = |c: Col| -> Field<'_> {
        use std::borrow::Cow;
        let own = keys
            .as_ref()
            .and_then(|k| k[c as usize].as_deref())
            .and_then(|path| path.iter().try_fold(&v, |node, key| node.get(key)));
        let field = own.or_else(|| v.get(c.name())).or_else(|| c.aliases().iter().find_map(|a| v.get(*a)))?;
        match field {
            serde_json::Value::String(s) => Some(Cow::Borrowed(s.as_str())),
            serde_json::Value::Number(n) => Some(Cow::Owned(n.to_string())),
            serde_json::Value::Bool(b) => Some(Cow::Borrowed(if *b { "allowed" } else { "denied" })),
            _ => None,
        }
    };
    fill_row(&get, line, ev, state)
}

/// How deep [`leaf_paths`] opens nested objects.
const MAX_NESTING: usize = 4;

/// The paths of an object's values that are not objects, nested objects opened (at most
/// [`MAX_NESTING`] deep), in the object's order.
fn leaf_paths(
    obj: &serde_json::Map<String, serde_json::Value>,
    prefix: &mut Vec<String>,
    out: &mut Vec<Vec<String>>,
) {
    for (k, val) in obj {
        prefix.push(k.clone());
        match val {
            serde_json::Value::Object(inner) if prefix.len() < MAX_NESTING => leaf_paths(inner, prefix, out),
            _ => out.push(prefix.clone()),
        }
        prefix.pop();
    }
}

/// Read the next element of a JSON array (the `[` already read) into `buf`, counting lines
/// in `lines`: `Ok(None)` after the closing `]` (or at the end of a file that lacks it), else
/// the line the element starts on. An element is cut at the comma or bracket that ends it at
/// its own depth, outside strings; one over [`MAX_ELEMENT`] bytes, or not UTF-8, is an error
/// (and the next call reads on after it); an error reading the input is `(error, true)`.
fn next_element(
    rdr: &mut impl BufRead,
    lines: &mut u64,
    buf: &mut String,
) -> Result<Option<u64>, (String, bool)> {
    buf.clear();
    let mut bytes: Vec<u8> = std::mem::take(buf).into_bytes();
    let (mut depth, mut in_string, mut escaped, mut started) = (0usize, false, false, None);
    let mut too_long = false;
    loop {
        let chunk = match rdr.fill_buf() {
            Ok(c) => c,
            Err(e) => return Err((format!("read error: {e}"), true)),
        };
        if chunk.is_empty() {
            // The end of the file: a last element without its `]` is still read.
            if started.is_none() {
                return Ok(None);
            }
            break;
        }
        let mut used = 0;
        let mut end = false;
        for &b in chunk {
            used += 1;
            if b == b'\n' {
                *lines += 1;
            }
            if started.is_none() {
                match b {
                    b']' => {
                        rdr.consume(used);
                        // Nothing after the array is read.
                        return Ok(None);
                    }
                    b',' => continue,
                    b if b.is_ascii_whitespace() => continue,
                    _ => started = Some(*lines),
                }
            }
            if in_string {
                if escaped {
                    escaped = false;
                } else if b == b'\\' {
                    escaped = true;
                } else if b == b'"' {
                    in_string = false;
                }
            } else {
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' if depth > 0 => depth -= 1,
                    b',' | b']' if depth == 0 => {
                        // The element ended before this byte; a `]` is left to end the array.
                        if b == b']' {
                            used -= 1;
                        }
                        end = true;
                        break;
                    }
                    _ => {}
                }
            }
            if bytes.len() < MAX_ELEMENT {
                bytes.push(b);
            } else {
                too_long = true;
            }
        }
        rdr.consume(used);
        if end {
            break;
        }
    }
    let start = started.unwrap_or(*lines);
    if too_long {
        return Err((format!("a JSON array element longer than {MAX_ELEMENT} bytes"), false));
    }
    *buf = String::from_utf8(bytes)
        .map_err(|_| ("a JSON array element that is not UTF-8".to_string(), false))?;
    Ok(Some(start))
}

impl<R: Read> Iterator for LogReader<R> {
    type Item = Result<Event, RowError>;

    /// The next row as a fresh event (`custos analyze` refills one with
    /// [`LogReader::read_event`] instead).
    fn next(&mut self) -> Option<Self::Item> {
        let mut ev = Event::default();
        Some(self.read_event(&mut ev)?.map(|()| ev))
    }
}

/// Links between cases and officers or subjects (`case,role,value`).
#[derive(Debug, Clone, Default)]
pub struct CaseLinks {
    /// (case, officer) pairs.
    pub officers: Vec<(String, String)>,
    /// (case, subject) pairs, subjects normalised.
    pub subjects: Vec<(String, String)>,
}

/// Watch-list labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchLabel {
    /// A canary record no legitimate work touches.
    Honeytoken,
    /// A sensitive person (politician, journalist, officer).
    Vip,
}

/// Lines a report or a spreadsheet writes above a CSV header (a title, `sep=;`, a blank line)
/// are looked through this far for it.
const PREAMBLE_LINES: usize = 20;

/// Where a CSV header starts in the file's first bytes: the first of the first
/// [`PREAMBLE_LINES`] whole lines whose names find the columns every row needs, or else the
/// first line (whose error then says what it lacks). Returns the bytes and lines before it,
/// and the header's field separator ([`sniff_delimiter`]).
fn header_start(head: &[u8], named: &[Named]) -> (usize, u64, u8) {
    let mut at = 0;
    for (i, line) in head.split_inclusive(|&b| b == b'\n').take(PREAMBLE_LINES).enumerate() {
        if !line.ends_with(b"\n") {
            break; // not whole in these bytes
        }
        let delimiter = sniff_delimiter(line);
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(line);
        if let Some(Ok(rec)) = rdr.records().next() {
            let names: Vec<String> = rec.iter().map(header_key).collect();
            let cols = resolve_columns(&names, named).0;
            if REQUIRED.iter().all(|c| cols[*c as usize].is_some()) {
                return (at, i as u64, delimiter);
            }
        }
        at += line.len();
    }
    (0, 0, sniff_delimiter(head))
}

/// The columns without which a row is not an access.
const REQUIRED: [Col; 4] = [Col::Time, Col::Officer, Col::Action, Col::Subject];

/// The field separator of a delimited file, from its header line: a comma unless the header
/// holds more tabs, semicolons (spreadsheets in locales whose decimal mark is a comma) or
/// vertical bars than commas.
fn sniff_delimiter(head: &[u8]) -> u8 {
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let count = |d: u8| line.iter().filter(|&&b| b == d).count();
    let mut best = (count(b','), b',');
    for d in [b'\t', b';', b'|'] {
        if count(d) > best.0 {
            best = (count(d), d);
        }
    }
    best.1
}

/// The case links' columns, and the other names agencies give them.
const CASE_COLUMNS: [SideCol; 3] = [
    ("case", &["case_id", "case_no", "case_number", "case_ref", "reference"]),
    ("role", &["type", "kind", "relation", "link", "link_type", "member_type"]),
    ("value", &["id", "identifier", "member", "entity", "entity_id", "subject_or_officer"]),
];

/// The watch list's columns, and the other names agencies give them.
const WATCH_COLUMNS: [SideCol; 2] = [
    ("subject", &["target", "identifier", "nid", "msisdn", "person", "id", "value"]),
    ("label", &["type", "kind", "category", "tag", "list", "reason", "class"]),
];

/// A side file's column: its name and the other names agencies give it.
type SideCol = (&'static str, &'static [&'static str]);

/// Most columns a side file has (the case links' three).
const SIDE_COLUMNS: usize = 3;

/// Each row of a side file (CSV) by the columns wanted, with its line, handed to `row` as it is
/// read (a case file of millions of links is never held as rows); a row that cannot be read, or
/// leaves a wanted column empty, goes to `skipped` (only a bad header fails the whole file).
fn read_side_csv(
    reader: impl Read,
    want: &[SideCol],
    skipped: &mut Vec<RowError>,
    mut row: impl FnMut(u64, &[&str], &mut Vec<RowError>),
) -> Result<(), RowError> {
    let mut br = BufReader::new(reader);
    let head = br.fill_buf().map_err(|e| RowError { line: 1, message: format!("read error: {e}") })?;
    let delimiter = sniff_delimiter(head);
    let mut rdr =
        csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).delimiter(delimiter).from_reader(br);
    let cols: Vec<String> = rdr
        .headers()
        .map_err(|e| RowError { line: 1, message: format!("bad CSV header: {e}") })?
        .iter()
        .map(header_key)
        .collect();
    let idx: Vec<usize> = want
        .iter()
        .map(|(w, other)| {
            let pos = |name: &str| cols.iter().position(|c| c == name);
            pos(w).or_else(|| other.iter().find_map(|o| pos(o))).ok_or_else(|| RowError {
                line: 1,
                message: format!(
                    "CSV header lacks the `{w}` column (nor has it one of: {})",
                    other.join(", ")
                ),
            })
        })
        .collect::<Result<_, _>>()?;
    let mut rec = csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                skipped.push(RowError { line, message: format!("bad CSV row: {e}") });
                // An error of the reader itself (not of one row's shape) ends the file.
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
                continue;
            }
        }
        let line = rec.position().map_or(0, |p| p.line());
        let mut f = [""; SIDE_COLUMNS];
        for (slot, &i) in f.iter_mut().zip(&idx) {
            *slot = rec.get(i).unwrap_or_default();
        }
        let f = &f[..idx.len().min(SIDE_COLUMNS)];
        match want.iter().zip(f).find(|(_, v)| v.is_empty()) {
            Some(((w, _), _)) => skipped.push(RowError { line, message: format!("empty `{w}`") }),
            None => row(line, f, skipped),
        }
    }
    Ok(())
}

/// What a side file (case links, watch list) says, and the rows of it that could not be read
/// and were skipped, each with its line: as with the log, a bad row does not stop the analysis
/// (`custos analyze --strict` stops at the first).
#[derive(Debug, Default)]
pub struct SideFile<T> {
    /// What the rows read say.
    pub value: T,
    /// The rows skipped.
    pub skipped: Vec<RowError>,
}

/// A file as text, whatever it was written as: gzip-compressed (a rotated or archived log,
/// `access.log.gz`, its members read one after another) and UTF-16 with a byte-order mark (a
/// spreadsheet's "Unicode text", Windows PowerShell's `Out-File`) are decoded as they stream;
/// anything else passes through unchanged. Read errors of a bad compressed stream surface as
/// the reader's errors, never a panic.
pub fn decoded<R: Read + Send + 'static>(reader: R) -> std::io::Result<Box<dyn Read + Send>> {
    let (head, whole) = peek2(reader)?;
    let text = if head == [0x1f, 0x8b] {
        // Once: a compressed file inside the compressed file is not opened again.
        utf16_decoded(flate2::read::MultiGzDecoder::new(whole))?
    } else {
        utf16_decoded(whole)?
    };
    Ok(Box::new(Filling(text)))
}

/// A reader whose reads fill the buffer they are given, short only at the end of the input:
/// [`LogReader`] tells the delimiter and the header from its first read, which must not stop
/// at the two bytes [`decoded`] read ahead, nor at a decoder's chunk.
struct Filling<R>(R);

impl<R: Read> Read for Filling<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut n = 0;
        while n < buf.len() {
            match self.0.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                // What was read comes first; the error comes with the next read.
                Err(_) if n > 0 => break,
                Err(e) => return Err(e),
            }
        }
        Ok(n)
    }
}

/// A reader with the bytes read ahead of it put back in front.
type Unread<R> = std::io::Chain<std::io::Cursor<Vec<u8>>, R>;

/// `reader`'s first two bytes (fewer in a shorter file), and the whole of it again.
fn peek2<R: Read>(mut reader: R) -> std::io::Result<(Vec<u8>, Unread<R>)> {
    let mut head = Vec::with_capacity(2);
    (&mut reader).take(2).read_to_end(&mut head)?;
    Ok((head.clone(), std::io::Cursor::new(head).chain(reader)))
}

/// Text in UTF-16 with a byte-order mark as UTF-8; anything else unchanged.
fn utf16_decoded<R: Read + Send + 'static>(reader: R) -> std::io::Result<Box<dyn Read + Send>> {
    let (head, whole) = peek2(reader)?;
    Ok(match head.as_slice() {
        [0xff, 0xfe] | [0xfe, 0xff] => {
            Box::new(encoding_rs_io::DecodeReaderBytesBuilder::new().strip_bom(true).build(whole))
        }
        _ => Box::new(whole),
    })
}

/// Read a `case,role,value` file.
pub fn read_cases(reader: impl Read) -> Result<SideFile<CaseLinks>, RowError> {
    let mut out = SideFile::<CaseLinks>::default();
    let links = &mut out.value;
    read_side_csv(reader, &CASE_COLUMNS, &mut out.skipped, |line, f, skipped| {
        let [case, role, value] = [0, 1, 2].map(|k| f.get(k).copied().unwrap_or_default());
        // Also the words other agencies use for the two roles.
        match role.trim().to_ascii_lowercase().as_str() {
            "officer" | "investigator" | "analyst" | "assigned" | "member" | "user" | "agent" => {
                links.officers.push((case.to_string(), value.to_string()))
            }
            "subject" | "target" | "suspect" | "person" | "associate" | "msisdn" | "nid" | "identifier" => {
                links.subjects.push((case.to_string(), normalize_subject(value)))
            }
            other => skipped.push(RowError {
                line,
                message: format!("role must be `officer` or `subject`, not `{}`", clip(other)),
            }),
        }
    })?;
    // In file order: rows unreadable as CSV were set aside before the rest were judged.
    out.skipped.sort_by_key(|e| e.line);
    Ok(out)
}

/// Read a `subject,label` file.
pub fn read_watch(reader: impl Read) -> Result<SideFile<Vec<(String, WatchLabel)>>, RowError> {
    let mut out = SideFile::<Vec<(String, WatchLabel)>>::default();
    let list = &mut out.value;
    read_side_csv(reader, &WATCH_COLUMNS, &mut out.skipped, |line, f, skipped| {
        let [subject, label] = [0, 1].map(|k| f.get(k).copied().unwrap_or_default());
        // Also the words other agencies use: decoys for honeytokens, the kinds of sensitive
        // person for the rest.
        let label = match label.trim().to_ascii_lowercase().replace([' ', '-'], "_").as_str() {
            "honeytoken" | "canary" | "decoy" | "honeypot" | "trap" => WatchLabel::Honeytoken,
            "vip" | "sensitive" | "pep" | "politician" | "journalist" | "official" | "officer" | "judge"
            | "celebrity" | "public_figure" | "protected" | "watch" | "watchlist" | "watch_list" => {
                WatchLabel::Vip
            }
            other => {
                skipped.push(RowError {
                    line,
                    message: format!("label must be `honeytoken` or `vip`, not `{}`", clip(other)),
                });
                return;
            }
        };
        list.push((normalize_subject(subject), label));
    })?;
    // In file order: rows unreadable as CSV were set aside before the rest were judged.
    out.skipped.sort_by_key(|e| e.line);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_names_met_again_are_the_same_actions_and_their_memory_is_bounded() {
        let mut names = ActionNames::default();
        let mut ev = Event::default();
        for s in ["NID Check", "login", "CDR Pull", "NID Check", "login", "cdr_query", "CDR Pull"] {
            names.set(s, &mut ev.action);
            assert_eq!(ev.action, Action::parse(s), "{s}");
        }
        for i in 0..ActionNames::MAX + 10 {
            let s = if i % 2 == 0 { format!("export {i}") } else { format!("NID verify {i}") };
            names.set(&s, &mut ev.action);
            assert_eq!(ev.action, Action::parse(&s), "{s}");
        }
        assert_eq!(names.known.len(), ActionNames::MAX);
        let long = format!("cdr {}", "x".repeat(ActionNames::MAX_LEN));
        let mut fresh = ActionNames::default();
        fresh.set(&long, &mut ev.action);
        assert_eq!(ev.action, Action::CdrQuery);
        assert!(fresh.known.is_empty(), "a long name is not kept");
    }

    #[test]
    fn other_agencies_column_names_and_outcomes_are_read() {
        let csv = "Timestamp,User_ID,Department,Operation,Target,Case_No,Result,Rows\n\
                   1772000000,o1,ATU,CDR Pull,01712345678,C-1,SUCCESS,12\n\
                   1772000001,o2,ATU,NID Check,1234567890,,FAILED,0\n\
                   1772000002,o3,SB,NID Check,1234567891,,403,0\n";
        let rows: Vec<Event> = LogReader::new(csv.as_bytes()).unwrap().map(Result::unwrap).collect();
        let got: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r.officer.as_str(),
                    r.unit.as_str(),
                    r.action.as_str(),
                    r.case.as_str(),
                    r.allowed,
                    r.records,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("o1", "ATU", "cdr_query", "C-1", true, 12),
                ("o2", "ATU", "identity_lookup", "", false, 0),
                ("o3", "SB", "identity_lookup", "", false, 0)
            ]
        );
        assert_eq!(rows[0].subject, "8801712345678");
        let jl = "{\"timestamp\":1772000000,\"user\":\"o4\",\"event\":\"NID verify\",\"target\":\"1234567890\",\"status\":\"ok\"}\n";
        let r: Vec<Event> = LogReader::new(jl.as_bytes()).unwrap().map(Result::unwrap).collect();
        assert_eq!(
            (r[0].officer.as_str(), r[0].action.as_str(), r[0].allowed),
            ("o4", "identity_lookup", true)
        );
        // Headers in other words and forms (`Event Time` is `event_time`, a name we know): each
        // other column found by a word of its header, and a header that names a kind, or an id,
        // not taken for a column it only resembles.
        let csv = "\u{feff}Request ID,Event Time,Staff Badge,Station,Query Type,Subject Type,Subject MSISDN,\
                   Case Reference,Status Code,Hits\n\
                   r-1,2026-03-01 10:00:00,B-77,Khulna,CDR,msisdn,+8801712345678,K-9,200,5\n";
        let reader = LogReader::new(csv.as_bytes()).unwrap();
        assert_eq!(
            reader.guessed_columns(),
            [
                "`officer` from `Staff Badge`",
                "`unit` from `Station`",
                "`subject` from `Subject MSISDN`",
                "`case` from `Case Reference`",
                "`outcome` from `Status Code`",
                "`records` from `Hits`"
            ]
        );
        let r: Vec<Event> = reader.map(Result::unwrap).collect();
        assert_eq!(
            (r[0].officer.as_str(), r[0].unit.as_str(), r[0].subject.as_str(), r[0].case.as_str()),
            ("B-77", "Khulna", "8801712345678", "K-9")
        );
        assert_eq!((r[0].action.clone(), r[0].allowed, r[0].records), (Action::CdrQuery, true, 5));
        // What was searched for is the subject; what the search found, and how much, is not,
        // even where it comes first (a police system's own names).
        let csv = "EventTimeUTC,LoginID,PoliceStation,ServiceType,SearchResult,SearchKey,RefNo,RecordCount\n\
                   2026-08-02T02:07:05Z,si.gul104,Gulshan PS,Live Location,OK,+8801712345678,GD-0407/26,3\n";
        let reader = LogReader::new(csv.as_bytes()).unwrap();
        assert!(
            reader.guessed_columns().contains(&"`subject` from `SearchKey`".to_string()),
            "{:?}",
            reader.guessed_columns()
        );
        let r: Vec<Event> = reader.map(Result::unwrap).collect();
        assert_eq!(
            (
                r[0].officer.as_str(),
                r[0].unit.as_str(),
                r[0].subject.as_str(),
                r[0].case.as_str(),
                r[0].records
            ),
            ("si.gul104", "Gulshan PS", "8801712345678", "GD-0407/26", 3)
        );
        assert_eq!((r[0].action.clone(), r[0].allowed), (Action::LocationQuery, true));
        for (header, key) in [("eventTime", "event_time"), ("USER-ID", "user_id"), (" Case No. ", "case_no")]
        {
            assert_eq!(header_key(header), key);
        }
        // JSON Lines keys in other forms, found from the first object.
        let jl = "{\"Timestamp\":1772000000,\"Staff Badge\":\"B-1\",\"Operation\":\"NID verify\",\"Target\":\"1234567890\"}\n\
                  {\"Timestamp\":1772000060,\"Staff Badge\":\"B-2\",\"Operation\":\"NID verify\",\"Target\":\"1234567891\"}\n";
        let r: Vec<Event> = LogReader::new(jl.as_bytes()).unwrap().map(Result::unwrap).collect();
        let got: Vec<_> = r.iter().map(|e| (e.officer.as_str(), e.subject.as_str())).collect();
        assert_eq!(got, [("B-1", "1234567890"), ("B-2", "1234567891")]);
        // Outcomes in words or statuses not in the lists: a refusal word first, then an answer.
        for (text, want) in [
            ("ACCESS_DENIED_BY_POLICY", Some(false)),
            ("not allowed", Some(false)),
            ("Unsuccessful", Some(false)),
            ("RATE-LIMITED", Some(false)),
            ("429", Some(false)),
            ("500", Some(false)),
            ("302", Some(true)),
            ("NOT_FOUND", Some(true)),
            ("no match", Some(true)),
            ("NO_RECORD", Some(true)),
            ("No data returned", Some(true)),
            ("INVALID_RECORD", Some(false)),
            ("Completed", Some(true)),
            ("OK (cached)", Some(true)),
            ("Bad Request", Some(false)),
            ("DECLINED", Some(false)),
            ("Cancelled by supervisor", Some(false)),
            ("ACCOUNT_LOCKED", Some(false)),
            ("Delivered", Some(true)),
            ("PARTIAL_RESULT", Some(true)),
            ("Executed", Some(true)),
            ("token", None),
            ("pending", None),
            ("999", None),
            ("42", None),
        ] {
            assert_eq!(outcome(text), want, "{text}");
        }
        // Without a records count the log does not say what was found: not "none".
        let csv = "time,officer,action,subject,outcome,records
                   1772000000,o1,NID Check,1234567890,ok,
                   1772000001,o1,NID Check,1234567891,ok,0
";
        let r: Vec<Event> = LogReader::new(csv.as_bytes()).unwrap().map(Result::unwrap).collect();
        assert_eq!((r[0].records, r[1].records), (crate::RECORDS_UNKNOWN, 0));
        // Unless the outcome itself says nobody was found.
        let csv = "time,officer,action,subject,outcome,records
                   1772000000,o1,NID Check,1234567890,NO_RECORD,
                   1772000001,o1,NID Check,1234567891,404,
                   1772000002,o1,NID Check,1234567892,SUCCESS,
                   1772000003,o1,NID Check,1234567893,None,
";
        let r: Vec<Event> = LogReader::new(csv.as_bytes()).unwrap().map(Result::unwrap).collect();
        let got: Vec<_> = r.iter().map(|e| (e.allowed, e.records)).collect();
        let unknown = crate::RECORDS_UNKNOWN;
        assert_eq!(got, [(true, 0), (true, 0), (true, unknown), (true, unknown)]);
        let r: Vec<Event> = LogReader::new(
            "time,officer,action,subject
1772000000,o1,NID Check,1
"
            .as_bytes(),
        )
        .unwrap()
        .map(Result::unwrap)
        .collect();
        assert_eq!((r[0].allowed, r[0].records), (true, crate::RECORDS_UNKNOWN));
        // Without a time column of any name the header is refused, naming what it looked for.
        let e = LogReader::new("moment,officer,action,subject\n".as_bytes()).err().unwrap();
        assert!(
            e.message.starts_with("CSV header lacks the `time` column (nor has it one of: timestamp"),
            "{}",
            e.message
        );
    }

    #[test]
    fn case_links_and_watch_lists_in_other_agencies_words() {
        let links = read_cases(
            "case,role,value\nC1,Investigator,o1\nC1,target,01712345678\nC1, Suspect ,1234567890\n"
                .as_bytes(),
        )
        .unwrap();
        assert!(links.skipped.is_empty());
        let links = links.value;
        assert_eq!(links.officers, [("C1".to_string(), "o1".to_string())]);
        assert_eq!(links.subjects.len(), 2);
        assert_eq!(links.subjects[0].1, "8801712345678");
        let watch = read_watch("subject,label\n1,Decoy\n2,Journalist\n3,public figure\n".as_bytes()).unwrap();
        let labels: Vec<_> = watch.value.iter().map(|w| w.1).collect();
        assert_eq!(labels, [WatchLabel::Honeytoken, WatchLabel::Vip, WatchLabel::Vip]);
    }

    #[test]
    fn tab_semicolon_and_bar_separated_exports_read_like_csv() {
        for d in ["\t", ";", "|"] {
            let log = format!(
                "time{d}officer{d}unit{d}action{d}subject{d}case{d}outcome{d}records\n\
                 1772000000{d}o1{d}ATU{d}NID verify{d}1234567890{d}C 1, part 2{d}allowed{d}1\n"
            );
            let rows: Vec<Event> = LogReader::new(log.as_bytes()).unwrap().map(Result::unwrap).collect();
            assert_eq!(rows.len(), 1, "{d:?}");
            assert_eq!((rows[0].officer.as_str(), rows[0].case.as_str()), ("o1", "C 1, part 2"), "{d:?}");
            let cases = read_cases(format!("case{d}role{d}value\nC1{d}officer{d}o1\n").as_bytes()).unwrap();
            assert_eq!(cases.value.officers.len(), 1, "{d:?}");
        }
        // A comma-separated header with a semicolon in a name stays comma-separated.
        assert_eq!(sniff_delimiter(b"time,officer,unit,action,subject,case;note,outcome\n"), b',');
    }

    #[test]
    fn bad_rows_of_case_links_and_watch_lists_are_skipped_with_their_lines() {
        let w = read_watch("subject,label\n1,honeytokn\n2,canary\n,vip\n3\n".as_bytes()).unwrap();
        assert_eq!(w.value, [("2".to_string(), WatchLabel::Honeytoken)]);
        let skipped: Vec<(u64, &str)> = w.skipped.iter().map(|e| (e.line, e.message.as_str())).collect();
        assert_eq!(
            skipped,
            [
                (2, "label must be `honeytoken` or `vip`, not `honeytokn`"),
                (4, "empty `subject`"),
                (5, "empty `label`")
            ]
        );
        let c = read_cases(
            "case,role,value\nC1,boss,o1\nC1,officer,o2\n,subject,123\nC2,officer\n\"x\n".as_bytes(),
        )
        .unwrap();
        assert_eq!(c.value.officers, [("C1".to_string(), "o2".to_string())]);
        assert!(c.value.subjects.is_empty());
        let lines: Vec<u64> = c.skipped.iter().map(|e| e.line).collect();
        assert_eq!(lines, [2, 4, 5, 6], "{:?}", c.skipped);
        // Only a file without the columns fails as a whole.
        let e = read_watch("who,what\n1,vip\n".as_bytes()).err().unwrap();
        assert_eq!(
            (e.line, e.message.as_str()),
            (1, "CSV header lacks the `subject` column (nor has it one of: target, identifier, nid, msisdn, person, id, value)")
        );
        // Other names for the columns, in other forms.
        let c =
            read_cases("Case ID,Type,ID\nC1,investigator,o1\nC1,suspect,01712345678\n".as_bytes()).unwrap();
        assert_eq!(c.value.officers, [("C1".to_string(), "o1".to_string())]);
        assert_eq!(c.value.subjects, [("C1".to_string(), "8801712345678".to_string())]);
        let w = read_watch("NID;Category\n1234567890;journalist\n".as_bytes()).unwrap();
        assert_eq!(w.value, [("1234567890".to_string(), WatchLabel::Vip)]);
    }

    #[test]
    fn placeholders_for_a_missing_case_unit_or_subject_read_as_missing() {
        let csv = "time,officer,unit,action,subject,case,outcome,records\n\
                   1772000000,o1,N/A,identity_lookup,1234567890,-,allowed,1\n\
                   1772000001,o2,ATU,name_search,null,None,allowed,0\n\
                   1772000002,o3,--,identity_lookup,1234567891,NA-17,allowed,1\n";
        let rows: Vec<Event> = LogReader::new(csv.as_bytes()).unwrap().map(Result::unwrap).collect();
        let got: Vec<_> =
            rows.iter().map(|r| (r.unit.as_str(), r.subject.as_str(), r.case.as_str())).collect();
        assert_eq!(
            got,
            [("", "1234567890", ""), ("ATU", "", ""), ("", "1234567891", "NA-17")],
            "a case number that only starts like a placeholder is a case"
        );
    }

    #[test]
    fn records_counts_as_logs_write_them_and_placeholders_for_a_count_or_outcome_not_written() {
        // A refused row's count written as `-` or `N/A` was a bad row, and the refusal was lost.
        let csv = "time,officer,action,subject,outcome,records\n\
                   1772000000,o1,identity_lookup,1234567890,denied,-\n\
                   1772000001,o1,identity_lookup,1234567891,denied,N/A\n\
                   1772000002,o1,identity_lookup,1234567892,NO_RECORD,null\n\
                   1772000003,o1,cdr_query,8801712345678,allowed,\"1,024\"\n\
                   1772000004,o1,identity_lookup,1234567893,allowed,1 record\n\
                   1772000005,o1,cdr_query,8801712345679,allowed,12 rows\n\
                   1772000006,o1,cdr_query,8801712345670,allowed,2.0\n\
                   1772000006,o1,cdr_query,8801712345670,allowed,1E+03\n\
                   1772000007,o1,cdr_query,8801712345671,allowed,10 of 20\n\
                   1772000008,o1,cdr_query,8801712345672,allowed,\"1,02\"\n\
                   1772000009,o1,cdr_query,8801712345673,allowed,-3\n\
                   1772000010,o1,cdr_query,8801712345674,allowed,many\n\
                   1772000011,o1,cdr_query,8801712345675,-,-\n\
                   1772000012,o1,cdr_query,8801712345676,unknown,3\n";
        let got: Vec<Result<(bool, u64), u64>> = LogReader::new(csv.as_bytes())
            .unwrap()
            .map(|r| r.map(|e| (e.allowed, e.records)).map_err(|e| e.line))
            .collect();
        let unknown = crate::RECORDS_UNKNOWN;
        assert_eq!(
            got,
            [
                Ok((false, unknown)),
                Ok((false, unknown)),
                Ok((true, 0)),
                Ok((true, 1024)),
                Ok((true, 1)),
                Ok((true, 12)),
                Ok((true, 2)),
                Ok((true, 1000)),
                Err(10),
                Err(11),
                Err(12),
                Err(13),
                Ok((true, unknown)),
                Ok((true, 3)),
            ]
        );
    }

    #[test]
    fn other_agencies_names_for_the_same_acts_are_recognised() {
        for (name, want) in [
            ("CDR_REQUEST", Action::CdrQuery),
            ("getCallDetails", Action::CdrQuery),
            ("call records search", Action::CdrQuery),
            ("cell-site lookup", Action::LocationQuery),
            ("LBS", Action::LocationQuery),
            ("msisdn owner", Action::SubscriberLookup),
            ("NID verify", Action::IdentityLookup),
            ("citizenProfile", Action::IdentityLookup),
            ("name search", Action::NameSearch),
            ("searchByName", Action::NameSearch),
            ("SMS_LOG_REQUEST", Action::CdrQuery),
            ("IPDR", Action::CdrQuery),
            ("Traffic Data", Action::CdrQuery),
            ("Phone Records", Action::CdrQuery),
            ("mobileHistory", Action::CdrQuery),
            ("Tower Dump", Action::LocationQuery),
            ("Phone Owner", Action::SubscriberLookup),
            ("Number Ownership", Action::SubscriberLookup),
            ("KYC check", Action::SubscriberLookup),
            ("Voter Info", Action::IdentityLookup),
            ("biometricMatch", Action::IdentityLookup),
        ] {
            assert_eq!(Action::parse(name), want, "{name}");
        }
        // Words, not substrings: nothing here names a lookup of a person or their calls.
        for name in ["login", "recall_export", "break_glass", "identifier_rotation"] {
            assert!(matches!(Action::parse(name), Action::Other(_)), "{name}");
        }
    }

    #[test]
    fn reads_csv_and_jsonl_with_line_numbers() {
        let csv = "time,officer,unit,action,subject,case,outcome,records\n\
                   2026-03-01T10:00:00+06:00,o1,ATU,identity_lookup,1234567890,C1,allowed,1\n\
                   not-a-time,o1,ATU,identity_lookup,1,C1,allowed,1\n\
                   1772000000,o2,,CDR Query,01712345678,,denied,\n";
        let rows: Vec<_> = LogReader::new(csv.as_bytes()).unwrap().collect();
        assert_eq!(rows.len(), 3);
        let r0 = rows[0].as_ref().unwrap();
        assert_eq!(
            (r0.officer.as_str(), crate::time::Stamp { unix: r0.time, offset: r0.offset }.local_hour()),
            ("o1", 10)
        );
        assert_eq!(rows[1].as_ref().unwrap_err().line, 3);
        let r2 = rows[2].as_ref().unwrap();
        assert_eq!(
            (r2.action.clone(), r2.allowed, r2.subject.as_str()),
            (Action::CdrQuery, false, "8801712345678")
        );

        let jl = "{\"time\":1772000000,\"officer\":\"o3\",\"action\":\"name_search\",\"subject\":\"x\",\"outcome\":\"allowed\",\"records\":3}\n\n{bad\n";
        let rows: Vec<_> = LogReader::new(jl.as_bytes()).unwrap().collect();
        assert_eq!(rows[0].as_ref().unwrap().records, 3);
        assert_eq!(rows[1].as_ref().unwrap_err().line, 3);
        assert!(LogReader::new("a,b\n1,2\n".as_bytes()).is_err());
    }

    /// (line, officer, UTC time) of each row read, or (line, error) of each bad one.
    fn lines_read<R: Read>(rdr: LogReader<R>) -> Vec<Result<(String, String), (u64, String)>> {
        rdr.map(|r| match r {
            Ok(ev) => Ok((ev.officer, crate::time::format_utc(ev.time))),
            Err(e) => Err((e.line, e.message)),
        })
        .collect()
    }

    #[test]
    fn a_date_and_a_time_of_day_in_two_columns_are_one_time() {
        let csv = "Date,Time,User,Action,Subject\n\
                   2026-03-01,22:15:00,o1,NID verify,1234567890\n\
                   1 Mar 2026,10:15 PM,o2,NID verify,1234567890\n\
                   ,22:15,o3,NID verify,1234567890\n";
        let rows = lines_read(LogReader::new(csv.as_bytes()).unwrap());
        let at = "2026-03-01T22:15:00Z".to_string();
        assert_eq!(rows[0], Ok(("o1".into(), at.clone())));
        assert_eq!(rows[1], Ok(("o2".into(), at)));
        assert_eq!(rows[2], Err((4, "bad time `22:15`".into())));
        // A date column alone is the time; JSON keys are found the same way.
        let csv = "Date,User,Action,Subject\n2026-03-01 22:15,o1,NID verify,1234567890\n";
        assert_eq!(
            lines_read(LogReader::new(csv.as_bytes()).unwrap())[0].as_ref().map(|r| r.1.as_str()),
            Ok("2026-03-01T22:15:00Z")
        );
        let jl = "{\"log_date\":\"2026-03-01\",\"time\":\"22:15:00\",\"user\":\"o1\",\"action\":\"x\",\"subject\":\"1\"}\n";
        assert_eq!(
            lines_read(LogReader::new(jl.as_bytes()).unwrap())[0].as_ref().map(|r| r.1.as_str()),
            Ok("2026-03-01T22:15:00Z")
        );
    }

    #[test]
    fn columns_named_by_the_caller_are_read_whatever_their_header() {
        // A German export, and one in Bangla, whose names no rule finds.
        let csv = "Zeit;Benutzer;Vorgang;Rufnummer\n2026-03-01T22:15:00Z;o1;NID verify;01712345678\n";
        assert!(LogReader::new(csv.as_bytes()).is_err());
        let named =
            [("time", "Zeit"), ("officer", "Benutzer"), ("action", "Vorgang"), ("subject", "Rufnummer")];
        let rows = lines_read(LogReader::with_columns(csv.as_bytes(), &named).unwrap());
        assert_eq!(rows, [Ok(("o1".into(), "2026-03-01T22:15:00Z".into()))]);
        let csv = "সময়,কর্মকর্তা,কাজ,বিষয়\n1772403300,o2,NID verify,1234567890\n";
        let named = [("time", "সময়"), ("officer", "কর্মকর্তা"), ("action", "কাজ"), ("subject", "বিষয়")];
        let rows = lines_read(LogReader::with_columns(csv.as_bytes(), &named).unwrap());
        assert_eq!(rows, [Ok(("o2".into(), "2026-03-01T22:15:00Z".into()))]);
        // A name overrides what a header's own name says; JSON keys too.
        let csv = "time,officer,user,action,subject\n1772403300,desk-7,o3,x,1\n";
        let rdr = LogReader::with_columns(csv.as_bytes(), &[("officer", "user")]).unwrap();
        assert_eq!(lines_read(rdr)[0].as_ref().map(|r| r.0.as_str()), Ok("o3"));
        let jl = "{\"wann\": 1772403300, \"wer\": \"o4\", \"action\": \"x\", \"subject\": \"1\"}\n";
        let rdr = LogReader::with_columns(jl.as_bytes(), &[("time", "wann"), ("officer", "wer")]).unwrap();
        assert_eq!(lines_read(rdr)[0].as_ref().map(|r| r.0.as_str()), Ok("o4"));
        // An unknown column, or a header the file lacks, is an error that says which.
        let err =
            |named: &[(&str, &str)]| LogReader::with_columns(csv.as_bytes(), named).err().map(|e| e.message);
        assert!(err(&[("who", "user")]).is_some_and(|m| m.starts_with("unknown column `who`")));
        assert_eq!(
            err(&[("time", "Zeit")]).as_deref(),
            Some("the header has no column `Zeit` (named for `time`)")
        );
    }

    #[test]
    fn a_second_identifier_column_is_read_where_the_subjects_is_empty() {
        let csv = "time,officer,action,target_nid,target_msisdn,msisdn_count\n\
                   1772000000,o1,NID verify,1234567890,,1\n\
                   1772000000,o2,SIM owner,,01712345678,1\n\
                   1772000000,o3,SIM owner,N/A,-,1\n";
        let rdr = LogReader::new(csv.as_bytes()).unwrap();
        assert_eq!(
            rdr.guessed_columns(),
            [
                "`subject` from `target_nid`",
                "`records` from `msisdn_count`",
                "`other_subject` from `target_msisdn`"
            ]
        );
        let got: Vec<String> = rdr.map(|r| r.unwrap().subject).collect();
        assert_eq!(got, ["1234567890", "8801712345678", ""]);
        // Never a column that names something else (`target_unit`) or a kind.
        let csv = "time,officer,action,target,target_unit,target_type\n1772000000,o1,x,,ATU,nid\n";
        let rdr = LogReader::new(csv.as_bytes()).unwrap();
        assert_eq!(rdr.guessed_columns(), ["`unit` from `target_unit`"]);
        assert_eq!(rdr.map(|r| r.unwrap().subject).collect::<Vec<_>>(), [""]);
    }

    #[test]
    fn lines_a_report_writes_above_its_header_are_passed_over_and_counted() {
        let csv = "Access log export, generated 2026-03-02 by the portal\nsep=;\n\n\
                   time;officer;action;subject\n\
                   2026-03-01T22:15:00Z;o1;NID verify;1234567890\n\
                   yesterday;o2;NID verify;1234567890\n";
        let rows = lines_read(LogReader::new(csv.as_bytes()).unwrap());
        assert_eq!(
            rows,
            [Ok(("o1".into(), "2026-03-01T22:15:00Z".into())), Err((6, "bad time `yesterday`".into()))]
        );
        // Without a header among the first lines, the first line's error says what it lacks.
        let err = LogReader::new("Access log export\n1,2\n".as_bytes()).err().map(|e| (e.line, e.message));
        assert!(matches!(&err, Some((1, m)) if m.contains("lacks the `time` column")), "{err:?}");
    }

    #[test]
    fn rows_with_numeric_dates_wait_for_a_row_that_shows_the_order_and_keep_theirs() {
        let head = "time,officer,action,subject\n";
        let log = format!(
            "{head}01/03/2026 09:00,o1,x,1\n02/03/2026 09:00,o2,x,1\nnot a time,o3,x,1\n\
             13/03/2026 09:00,o4,x,1\n03/04/2026 09:00,o5,x,1\n04/13/2026 09:00,o6,x,1\n"
        );
        let rdr = LogReader::new(log.as_bytes()).unwrap();
        let rows = lines_read(rdr);
        // The bad row is told as soon as it is read; the waiting ones follow in their order,
        // day first as the fourth showed; a date against that order is a bad row.
        assert_eq!(
            rows,
            [
                Err((4, "bad time `not a time`".into())),
                Ok(("o1".into(), "2026-03-01T09:00:00Z".into())),
                Ok(("o2".into(), "2026-03-02T09:00:00Z".into())),
                Ok(("o4".into(), "2026-03-13T09:00:00Z".into())),
                Ok(("o5".into(), "2026-04-03T09:00:00Z".into())),
                Err((7, "bad time `04/13/2026 09:00`".into())),
            ]
        );
        // No row shows the order: day first, and the reader says it assumed so. Given, the
        // order is kept.
        let log = format!("{head}01/03/2026 09:00,o1,x,1\n02/03/2026 09:00,o2,x,1\n");
        let mut rdr = LogReader::new(log.as_bytes()).unwrap();
        let mut ev = Event::default();
        assert!(matches!(rdr.read_event(&mut ev), Some(Ok(()))));
        assert_eq!(
            (ev.officer.as_str(), crate::time::format_utc(ev.time).as_str()),
            ("o1", "2026-03-01T09:00:00Z")
        );
        assert!(rdr.date_order_assumed());
        let rdr = LogReader::new(log.as_bytes()).unwrap().date_order(DateOrder::MonthFirst);
        let rows = lines_read(rdr);
        assert_eq!(rows[1], Ok(("o2".into(), "2026-02-03T09:00:00Z".into())));
    }

    #[test]
    fn compressed_and_utf16_logs_read_as_the_plain_file_and_a_cut_one_ends_with_its_line() {
        use std::io::Write;
        let csv = "time,officer,action,subject\n\
                   1772000000,o1,NID verify,1234567890\n\
                   1772000060,ও২,CDR_REQUEST,01712345678\n\
                   1772000120,o3,NID verify,1234567891\n";
        let read = |bytes: Vec<u8>| -> Vec<Result<(String, String), (u64, String)>> {
            LogReader::new(decoded(std::io::Cursor::new(bytes)).unwrap())
                .unwrap()
                .map(|r| r.map(|e| (e.officer, e.subject)).map_err(|e| (e.line, e.message)))
                .collect()
        };
        let plain = read(csv.as_bytes().to_vec());
        assert_eq!(plain.len(), 3);
        assert!(plain.iter().all(Result::is_ok));
        // The delimiter is told from the whole head of the file, not the bytes read ahead.
        assert_eq!(read(csv.replace(',', ";").into_bytes()), plain);
        let gz = |text: &str| {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            enc.write_all(text.as_bytes()).unwrap();
            enc.finish().unwrap()
        };
        // A rotated log: two gzip members, one after the other.
        let (first, rest) = csv.split_at(csv.find("1772000060").unwrap());
        let mut two = gz(first);
        two.extend(gz(rest));
        assert_eq!(read(two), plain);
        assert_eq!(read(gz(&csv.replace(',', "\t"))), plain);
        // UTF-16 with its byte-order mark, little- and big-endian, and inside gzip.
        let le: Vec<u8> =
            [0xff, 0xfe].into_iter().chain(csv.encode_utf16().flat_map(u16::to_le_bytes)).collect();
        let be: Vec<u8> =
            [0xfe, 0xff].into_iter().chain(csv.encode_utf16().flat_map(u16::to_be_bytes)).collect();
        assert_eq!(read(le.clone()), plain);
        let le_semi: Vec<u8> = [0xff, 0xfe]
            .into_iter()
            .chain(csv.replace(',', ";").encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(read(le_semi), plain);
        assert_eq!(read(be), plain);
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&le).unwrap();
        assert_eq!(read(enc.finish().unwrap()), plain);
        // A compressed file cut short: the rows before the cut, then one error that names
        // the line reached, and the end (never an error repeated forever).
        let long: String = std::iter::once("time,officer,action,subject\n".to_string())
            .chain(
                (0..20_000)
                    .map(|i| format!("{},o{},NID verify,{}\n", 1_772_000_000 + i, i % 50, 1_000_000_000 + i)),
            )
            .collect();
        let whole = gz(&long);
        let got = read(whole[..whole.len() / 2].to_vec());
        let (last, rows) = got.split_last().unwrap();
        assert!(rows.len() > 1000 && rows.iter().all(Result::is_ok), "{} rows before the cut", rows.len());
        let (line, message) = last.clone().unwrap_err();
        assert!(message.starts_with("read error"), "{message}");
        assert!(line as usize >= rows.len(), "line {line} after {} rows", rows.len());
        // A JSON log's cut is told the same way.
        let jl: String = (0..20_000)
            .map(|i| {
                format!(
                    "{{\"time\":{},\"officer\":\"o{}\",\"action\":\"identity_lookup\",\"subject\":\"{}\"}}\n",
                    1_772_000_000 + i,
                    i % 50,
                    1_000_000_000 + i
                )
            })
            .collect();
        let whole = gz(&jl);
        let got = read(whole[..whole.len() / 2].to_vec());
        assert!(got.last().unwrap().as_ref().is_err_and(|(_, m)| m.starts_with("read error")));
        assert_eq!(got.iter().filter(|r| r.is_err()).count(), 1);
    }

    #[test]
    fn nested_json_objects_are_read_by_the_path_of_their_keys() {
        // A SIEM's export (Elastic Common Schema): the officer, the action and the outcome
        // sit in nested objects, beside keys that are not columns (`event.type`, an array).
        let ecs = r#"{"@timestamp":"2026-12-01T10:00:00+06:00","event":{"type":["access"],"category":["database"],"outcome":"success","action":"nid-verify"},"user":{"name":"Rahim","id":"u1"},"organization":{"name":"DB North"},"labels":{"case_ref":"C-17","subject":"1234567890"},"records":{"count":1}}
{"@timestamp":"2026-12-01T10:05:00+06:00","event":{"type":["access"],"category":["database"],"outcome":"failure","action":"cdr-request"},"user":{"name":"Karim","id":"u2"},"organization":{"name":"DB South"},"labels":{"case_ref":"","subject":"+8801712345678"},"records":{"count":0}}
"#;
        let r: Vec<Event> = LogReader::new(ecs.as_bytes()).unwrap().map(Result::unwrap).collect();
        let got: Vec<_> = r
            .iter()
            .map(|e| {
                (
                    e.time,
                    e.officer.as_str(),
                    e.unit.as_str(),
                    e.action.clone(),
                    e.subject.as_str(),
                    e.case.as_str(),
                    e.allowed,
                    e.records,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (1_796_097_600, "u1", "DB North", Action::IdentityLookup, "1234567890", "C-17", true, 1),
                (1_796_097_900, "u2", "DB South", Action::CdrQuery, "8801712345678", "", false, 0),
            ]
        );
        // Deeper than the reader opens: the value is no column, and the row says what it lacks.
        let deep = r#"{"a":{"b":{"c":{"d":{"officer":"x"}}}},"time":1772000000,"action":"identity_lookup"}"#;
        let e = LogReader::new(deep.as_bytes()).unwrap().next().unwrap().unwrap_err();
        assert_eq!((e.line, e.message.as_str()), (1, "missing `officer`"));
        // Where two keys share a word of a column, the one whose last word names it is taken,
        // whichever comes first: `Event Outcome` is no action, `Event Action` is one.
        let csv = "Event Time,Staff,Event Outcome,Event Action,Target\n\
                   2026-12-01T10:00:00+06:00,B-1,DENIED,CDR_REQUEST,01712345678\n";
        let r: Vec<Event> = LogReader::new(csv.as_bytes()).unwrap().map(Result::unwrap).collect();
        assert_eq!((r[0].action.clone(), r[0].allowed), (Action::CdrQuery, false));
    }

    #[test]
    fn a_json_array_of_rows_is_read_element_by_element_with_lines() {
        let text = "\n [\n  {\"time\": \"2026-03-01T22:15:00Z\", \"officer\": \"o1\", \"action\": \"x\", \"subject\": \"1\",\n   \"note\": \"a ] and a } and \\\" , in a string\", \"tags\": [1, [2]]},\n\
                    {\"time\": \"bad\", \"officer\": \"o2\", \"action\": \"x\", \"subject\": \"1\"},\n\
                    {\"time\": 1772403300, \"officer\": \"o3\", \"action\": \"x\", \"subject\": \"1\"}\n]\n";
        let rows = lines_read(LogReader::new(text.as_bytes()).unwrap());
        assert_eq!(
            rows,
            [
                Ok(("o1".into(), "2026-03-01T22:15:00Z".into())),
                Err((5, "bad time `bad`".into())),
                Ok(("o3".into(), "2026-03-01T22:15:00Z".into())),
            ]
        );
        // An empty array; one without its closing bracket; a broken element among good ones.
        assert!(lines_read(LogReader::new(" [ ] ".as_bytes()).unwrap()).is_empty());
        let cut = "[{\"time\": 1772403300, \"officer\": \"o1\", \"action\": \"x\", \"subject\": \"1\"}";
        assert_eq!(lines_read(LogReader::new(cut.as_bytes()).unwrap()).len(), 1);
        let broken = "[{\"time\": 1772403300, \"officer\": \"o1\", \"action\": \"x\", \"subject\": \"1\"},\n{\"time\": },\n\
                      {\"time\": 1772403300, \"officer\": \"o2\", \"action\": \"x\", \"subject\": \"1\"}]";
        let rows = lines_read(LogReader::new(broken.as_bytes()).unwrap());
        assert_eq!(rows.len(), 3);
        assert!(matches!(&rows[1], Err((2, m)) if m.starts_with("bad JSON")), "{rows:?}");
        assert_eq!(rows[2].as_ref().map(|r| r.0.as_str()), Ok("o2"));
    }

    #[test]
    fn rows_read_into_one_reused_event_match_rows_read_afresh() {
        let csv = "time,officer,unit,action,subject,case,outcome,records\n\
            2026-01-04T10:00:00+06:00,OFF-1,ATU,identity_lookup,01712345678,CASE-1,allowed,1\n\
            1767500000,OFF-22,,CDR Query,6390910449,,denied,0\n\
            bad-time,OFF-3,X,identity_lookup,1,,allowed,1\n\
            1767500100,OFF-4,SB,odd action,query text,,allowed,\n";
        let fresh: Vec<_> = LogReader::new(csv.as_bytes()).unwrap().collect();
        let mut r = LogReader::new(csv.as_bytes()).unwrap();
        let mut ev = Event::default();
        let mut reused = Vec::new();
        while let Some(got) = r.read_event(&mut ev) {
            reused.push(got.map(|()| ev.clone()));
        }
        assert_eq!(fresh.len(), 4);
        assert_eq!(reused.len(), 4);
        for (a, b) in fresh.into_iter().zip(reused) {
            match (a, b) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(
                        (a.time, a.offset, &a.officer, &a.unit, &a.action, &a.subject, &a.case),
                        (b.time, b.offset, &b.officer, &b.unit, &b.action, &b.subject, &b.case)
                    );
                    assert_eq!((a.allowed, a.records), (b.allowed, b.records));
                }
                (Err(a), Err(b)) => assert_eq!(a, b),
                (a, b) => panic!("fresh {a:?} but reused {b:?}"),
            }
        }
    }

    #[test]
    fn normalises_identifiers() {
        assert_eq!(normalize_subject("+880 1712-345678"), "8801712345678");
        assert_eq!(normalize_subject("০১৭১২৩৪৫৬৭৮"), "8801712345678");
        assert_eq!(normalize_subject(" c:ab12 "), "c:ab12");
        // The old 17-digit NID is its holder's birth year and 13-digit number.
        assert_eq!(normalize_subject("19871234567890123"), "1234567890123");
        assert_eq!(normalize_subject("NID: 1987-1234567890123"), "1234567890123");
        assert_eq!(normalize_subject("1234567890123"), "1234567890123");
        assert_eq!(normalize_subject("18871234567890123"), "18871234567890123");
        // A label before a number is dropped; one before anything else, or a short number, is not.
        for labelled in
            ["NID:1234567890", "nid=1234567890", "NID-1234567890", "ID# 1234567890", "nid 1234567890"]
        {
            assert_eq!(normalize_subject(labelled), "1234567890", "{labelled}");
        }
        assert_eq!(normalize_subject("tel:+880 1712-345678"), "8801712345678");
        assert_eq!(normalize_subject("MSISDN:01712345678"), "8801712345678");
        for kept in ["c:ab12", "flat 12", "Rahim Uddin", "nid:12ab5678", "a:b:1234567"] {
            assert_eq!(normalize_subject(kept), kept, "{kept}");
        }
    }
}
