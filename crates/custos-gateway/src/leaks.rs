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
    /// Account for one message and the identifiers in it.
    pub fn message(&mut self, m: &Message) {
        self.messages += 1;
        for h in extract(&m.text) {
            self.found.push((h.kind, h.value, m.chat.clone(), m.id, m.date));
        }
    }

    /// Scan one export held in memory (`chat` names it for HTML and text).
    pub fn add(&mut self, bytes: &[u8], kind: ExportKind, chat: &str, tz_offset: i64) {
        self.files += 1;
        self.bytes += bytes.len() as u64;
        match kind {
            ExportKind::Json => {
                for m in JsonMessages::new(bytes, tz_offset) {
                    match m {
                        Ok(m) => self.message(&m),
                        Err(e) => self.problems.push(e.to_string()),
                    }
                }
            }
            ExportKind::Html => {
                for m in html_messages(&String::from_utf8_lossy(bytes), chat, tz_offset) {
                    self.message(&m);
                }
            }
            ExportKind::Text => {
                for m in text_messages(bytes, chat) {
                    self.message(&m);
                }
            }
        }
    }
}

/// Allowed data requests of audit entries, as accesses keyed by subject commitment.
pub fn accesses(entries: impl IntoIterator<Item = AuditEntry>) -> Vec<Access> {
    let mut v = Vec::new();
    for e in entries {
        if e.decision != "allow" || e.officer.is_empty() {
            continue;
        }
        let Some(t) = crate::service::parse_when(&e.time) else { continue };
        for s in &e.subjects {
            v.push(Access { officer: e.officer.clone(), subject: s.clone(), time: t, case: e.case.clone() });
        }
    }
    v
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
