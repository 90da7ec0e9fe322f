//! Leak investigations on the server: an auditor uploads a Telegram export; the gateway finds
//! the identifiers in it, matches them to the audit log through blind indexes and commitments
//! (nothing is decrypted), ranks the officers who pulled them before they were posted, and keeps
//! the finding.

use custos_leak::attribution::{attribute, Access, Attribution, Leaked, DEFAULT_P};
use custos_leak::extract::{extract, Kind};
use custos_leak::telegram::{html_messages, text_messages, JsonMessages, Message};
use serde_json::{json, Value};

use crate::audit::AuditEntry;

/// What was found in an export.
#[derive(Debug, Default, Clone)]
pub struct Scan {
    /// Files scanned.
    pub files: u64,
    /// Messages read.
    pub messages: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Identifiers: kind, value, chat, message ID, posting time.
    pub found: Vec<(Kind, String, String, i64, Option<i64>)>,
    /// Problems met (partial results were kept).
    pub problems: Vec<String>,
    /// For messages naming NIDs: (NID, message text), to read formatting marks back.
    pub texts: Vec<(String, String)>,
}

/// The format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    /// Telegram Desktop JSON.
    Json,
    /// Telegram Desktop HTML page.
    Html,
    /// Plain text or CSV.
    Text,
}

impl Scan {
    /// When no message was read at all, what went wrong (the first problem met, or what was
    /// expected instead): nothing read is not "nothing leaked" but the wrong file.
    pub fn nothing_read(&self) -> Option<String> {
        (self.messages == 0).then(|| match self.problems.first() {
            Some(p) => p.clone(),
            None => "a Telegram Desktop export was expected (`result.json` with a `messages` list, \
                     `messages*.html` pages, or a text dump)"
                .to_string(),
        })
    }

    /// Account for one message and the identifiers in it.
    pub fn message(&mut self, m: &Message) {
        self.messages += 1;
        for h in extract(&m.text) {
            if h.kind == Kind::Nid && self.texts.len() < 100_000 && m.text.len() <= 64 * 1024 {
                self.texts.push((h.value.clone(), m.text.clone()));
            }
            self.found.push((h.kind, h.value, m.chat.clone(), m.id, m.date));
        }
    }

    /// Scan one export read from `input` (`chat` names it for HTML and text): a file streamed
    /// from disk by `custos leak trace`, or an upload held in memory. Messages that cannot be
    /// read are counted in `problems`, and what was read is kept; only an error reading the
    /// input itself fails.
    pub fn add(
        &mut self,
        input: impl std::io::Read,
        kind: ExportKind,
        chat: &str,
        tz_offset: i64,
    ) -> std::io::Result<()> {
        self.files += 1;
        let mut input = Counted { inner: input, n: 0 };
        match kind {
            ExportKind::Json => {
                for m in JsonMessages::new(&mut input, tz_offset) {
                    match m {
                        Ok(m) => self.message(&m),
                        Err(e) => self.problems.push(e.to_string()),
                    }
                }
            }
            ExportKind::Html => {
                let mut page = Vec::new();
                std::io::Read::read_to_end(&mut input, &mut page)?;
                for m in html_messages(&String::from_utf8_lossy(&page), chat, tz_offset) {
                    self.message(&m);
                }
            }
            ExportKind::Text => {
                for m in text_messages(std::io::BufReader::new(&mut input), chat) {
                    self.message(&m);
                }
            }
        }
        self.bytes += input.n;
        Ok(())
    }
}

impl ExportKind {
    /// The format a file's name says it holds: `*.json`, `*.html`, anything else as text.
    pub fn of_file(name: &str) -> Self {
        if name.ends_with(".json") {
            ExportKind::Json
        } else if name.ends_with(".html") {
            ExportKind::Html
        } else {
            ExportKind::Text
        }
    }
}

/// A reader that counts the bytes read through it.
struct Counted<R> {
    inner: R,
    n: u64,
}

impl<R: std::io::Read> std::io::Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n += k as u64;
        Ok(k)
    }
}

/// What the audit log says each officer held, gathered one entry at a time (its entries not
/// kept): data requests that released records, as accesses keyed by subject commitment, and the
/// field groups each officer received of each subject. A request refused, or allowed but
/// finding nothing, released nothing that could leak.
#[derive(Debug, Default)]
pub struct Holdings {
    /// Allowed data requests, one per subject.
    pub accesses: Vec<Access>,
    /// `(officer, subject) → field groups` received.
    pub released: Released,
}

impl Holdings {
    /// Take in one audit entry.
    pub fn add(&mut self, e: &AuditEntry) {
        if !crate::citizen::releases_data(e) || e.officer.is_empty() {
            return;
        }
        let t = crate::service::parse_when(&e.time);
        for s in &e.subjects {
            if let Some(t) = t {
                self.accesses.push(Access {
                    officer: e.officer.clone(),
                    subject: s.clone(),
                    time: t,
                    case: e.case.clone(),
                });
            }
            let set = self.released.entry((e.officer.clone(), s.clone())).or_default();
            if e.fields.is_empty() {
                set.insert("*".into());
            }
            set.extend(e.fields.iter().cloned());
        }
    }
}

/// Attribute a scan, mapping each found identifier to its subject key.
pub fn attribute_scan(
    scan: &Scan,
    accesses: &[Access],
    key_of: &dyn Fn(Kind, &str) -> String,
) -> Attribution {
    let leaked: Vec<Leaked> =
        scan.found.iter().map(|(k, v, _, _, d)| Leaked { subject: key_of(*k, v), posted: *d }).collect();
    attribute(accesses, &leaked, DEFAULT_P, 50)
}

/// The finding in the `custos leak trace --format json` shape.
pub fn finding(scan: &Scan, a: &Attribution) -> Value {
    let found: Vec<Value> = scan
        .found
        .iter()
        .map(|(k, v, chat, id, d)| {
            json!({"kind": k, "value": v, "chat": chat, "message_id": id, "date": d.map(custos_detect::time::format_utc)})
        })
        .collect();
    json!({
        "scanned": {"files": scan.files, "messages": scan.messages, "bytes": scan.bytes},
        "found": found,
        "matched_subjects": a.matched,
        "suspects": a.suspects,
        "coalitions": a.coalitions,
    })
}

/// Decoys found in a leak: each registered decoy NID becomes an access by the officer it was
/// handed to (the only holder there can be).
pub fn decoy_accesses(
    scan: &Scan,
    registry: &custos_store::Registry,
    key_of: &dyn Fn(Kind, &str) -> String,
) -> Vec<Access> {
    let mut v = Vec::new();
    for (k, val, ..) in &scan.found {
        if *k != Kind::Nid {
            continue;
        }
        let bi = registry.vault().blind("nid", val);
        let Ok(Some(meta)) = registry.store().meta_get(&format!("decoy:{bi}")) else { continue };
        let Ok(d) = serde_json::from_slice::<Value>(&meta) else { continue };
        if let (Some(o), Some(t)) = (d["officer"].as_str(), d["time"].as_i64()) {
            v.push(Access {
                officer: o.to_string(),
                subject: key_of(*k, val),
                time: t,
                case: "decoy".into(),
            });
        }
    }
    v
}

/// The field groups each officer received of each subject: `(officer, subject) → groups`, from
/// allowed entries. An entry that does not record its groups (written before they were
/// recorded) makes the holding unknown, written `*`: every mark counts for it.
pub type Released = std::collections::HashMap<(String, String), std::collections::BTreeSet<String>>;

/// Formatting marks read back from leaked text, scored per officer who held the record (or to
/// whom a decoy was handed): `(officer, agreeing bits, disagreeing bits)`, best first. A mark
/// counts for a holder only when the holder received its field: a desk officer who saw the
/// name alone is not scored on the rendering of an address it never had.
pub fn mark_scores(
    scan: &Scan,
    registry: &custos_store::Registry,
    accesses: &[Access],
    released: &Released,
    key_of: &dyn Fn(Kind, &str) -> String,
) -> Vec<(String, i64, i64)> {
    use std::collections::BTreeMap;
    let vault = registry.vault();
    let mut tally: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for (nid, text) in &scan.texts {
        let key = key_of(Kind::Nid, nid);
        let holders: std::collections::BTreeSet<&str> =
            accesses.iter().filter(|a| a.subject == key).map(|a| a.officer.as_str()).collect();
        if holders.is_empty() {
            continue;
        }
        let (record, citizen) = match registry.citizen_by_nid(nid) {
            Ok(Some((id, c))) => (format!("citizen:{id}"), c),
            _ => (format!("decoy:{nid}"), crate::marks::decoy_citizen(vault, nid)),
        };
        let observed = crate::marks::observe(text, &citizen);
        if observed.iter().all(Option::is_none) {
            continue;
        }
        for o in holders {
            let mut seen = observed;
            if let Some(got) = released.get(&(o.to_string(), key.clone())) {
                if !got.contains("*") {
                    for (bit, group) in seen.iter_mut().zip(crate::marks::BIT_GROUPS) {
                        if !got.contains(group) {
                            *bit = None;
                        }
                    }
                }
            }
            let (a, d) = crate::marks::score(&seen, &crate::marks::bits(vault, o, &record));
            let e = tally.entry(o.to_string()).or_insert((0, 0));
            e.0 += a;
            e.1 += d;
        }
    }
    let mut v: Vec<(String, i64, i64)> = tally.into_iter().map(|(o, (a, d))| (o, a, d)).collect();
    v.sort_by(|x, y| (y.1 - y.2).cmp(&(x.1 - x.2)).then(x.0.cmp(&y.0)));
    v
}

/// Add the marks to a finding (only when some were read).
pub fn add_marks(finding: &mut Value, marks: &[(String, i64, i64)]) {
    if !marks.is_empty() {
        finding["marks"] = json!(marks
            .iter()
            .map(|(o, a, d)| json!({"officer": o, "agree": a, "disagree": d, "score": a - d}))
            .collect::<Vec<_>>());
    }
}
