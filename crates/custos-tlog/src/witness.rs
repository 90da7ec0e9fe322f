//! The C2SP `tlog-witness` `add-checkpoint` decision, as a pure function.
//!
//! The caller (the witness server) holds the state and must run [`add_checkpoint`] and persist
//! the new state atomically with respect to other requests for the same origin, as the spec
//! requires; this module decides, it does not store.

use crate::checkpoint::{parse_decimal, parse_hash, Checkpoint};
use crate::merkle::{verify_consistency, Hash};
use crate::note::{self, Signer, Verifier};

/// The most consistency-proof lines a request may carry.
pub const MAX_PROOF_LINES: usize = 63;
/// The largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A parsed `add-checkpoint` request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint {
    /// The size of the checkpoint the client believes the witness last cosigned.
    pub old_size: u64,
    /// Consistency proof from `old_size` to the checkpoint's size.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note.
    pub checkpoint: String,
}

/// What the witness recorded for a log: the latest cosigned size and root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogHead {
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root: Hash,
}

/// The outcome of an `add-checkpoint` request, mapped to the spec's HTTP statuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 200: persist `head` (and `checkpoint`), then return the cosignature lines.
    Cosigned {
        /// The new head to persist.
        head: LogHead,
        /// The checkpoint text (note body) cosigned.
        checkpoint: String,
        /// Response body: cosignature lines.
        body: String,
    },
    /// 400: the body or the checkpoint is malformed, or old size exceeds the new size.
    BadRequest(String),
    /// 403: no trusted log signature verifies.
    Forbidden(String),
    /// 404: the origin is not a log this witness knows.
    UnknownLog(String),
    /// 409: the old size is not the latest cosigned size, or a different root at that size.
    Conflict {
        /// The latest cosigned size, for the `text/x.tlog.size` body.
        latest_size: u64,
        /// Why.
        reason: String,
    },
    /// 422: the consistency proof does not verify.
    BadProof(String),
}

impl Outcome {
    /// The HTTP status code the spec assigns.
    pub fn status(&self) -> u16 {
        match self {
            Outcome::Cosigned { .. } => 200,
            Outcome::BadRequest(_) => 400,
            Outcome::Forbidden(_) => 403,
            Outcome::UnknownLog(_) => 404,
            Outcome::Conflict { .. } => 409,
            Outcome::BadProof(_) => 422,
        }
    }
}

/// Parse an `add-checkpoint` body: `old N`, proof lines, a blank line, the checkpoint.
pub fn parse_request(body: &str) -> Result<AddCheckpoint, String> {
    if body.len() > MAX_BODY_BYTES {
        return Err(format!("body is larger than {MAX_BODY_BYTES} bytes"));
    }
    let (head, checkpoint) =
        body.split_once("\n\n").ok_or_else(|| "missing blank line before the checkpoint".to_string())?;
    let mut lines = head.split('\n');
    let first = lines.next().unwrap_or_default();
    let old = first
        .strip_prefix("old ")
        .and_then(parse_decimal)
        .ok_or_else(|| format!("bad old size line `{}`", first.chars().take(80).collect::<String>()))?;
    let mut proof = Vec::new();
    for l in lines {
        if proof.len() == MAX_PROOF_LINES {
            return Err(format!("more than {MAX_PROOF_LINES} proof lines"));
        }
        proof.push(
            parse_hash(l)
                .ok_or_else(|| format!("bad proof line `{}`", l.chars().take(80).collect::<String>()))?,
        );
    }
    Ok(AddCheckpoint { old_size: old, proof, checkpoint: checkpoint.to_string() })
}

/// A log the witness knows: its origin and trusted keys.
#[derive(Debug, Clone)]
pub struct KnownLog {
    /// The checkpoint origin line.
    pub origin: String,
    /// Trusted verifier keys.
    pub keys: Vec<Verifier>,
}

/// Decide an `add-checkpoint` request given the witness's current head for that origin.
pub fn add_checkpoint(
    logs: &[KnownLog],
    current: impl FnOnce(&str) -> Option<LogHead>,
    req: &AddCheckpoint,
    witness: &Signer,
    now: u64,
) -> Outcome {
    let note = match note::parse(&req.checkpoint) {
        Ok(n) => n,
        Err(e) => return Outcome::BadRequest(e.to_string()),
    };
    let cp = match Checkpoint::parse(&note.text) {
        Ok(c) => c,
        Err(e) => return Outcome::BadRequest(e.to_string()),
    };
    let Some(log) = logs.iter().find(|l| l.origin == cp.origin) else {
        return Outcome::UnknownLog(format!("unknown log origin `{}`", cp.origin));
    };
    match note::verify_signatures(&note, &log.keys) {
        Ok(v) if !v.is_empty() => {}
        Ok(_) => return Outcome::Forbidden("no trusted log signature on the checkpoint".into()),
        Err(e) => return Outcome::Forbidden(e.to_string()),
    }
    if req.old_size > cp.size {
        return Outcome::BadRequest(format!("old size {} exceeds checkpoint size {}", req.old_size, cp.size));
    }
    let head = current(&cp.origin);
    let latest = head.map_or(0, |h| h.size);
    if req.old_size != latest {
        return Outcome::Conflict {
            latest_size: latest,
            reason: format!("old size {} is not the latest cosigned size {latest}", req.old_size),
        };
    }
    match head {
        None => {
            if !req.proof.is_empty() {
                return Outcome::BadProof("the proof must be empty when the old size is 0".into());
            }
        }
        Some(h) if h.size == 0 => {
            if !req.proof.is_empty() {
                return Outcome::BadProof("the proof must be empty when the old size is 0".into());
            }
        }
        Some(h) if h.size == cp.size => {
            if h.root != cp.root || !req.proof.is_empty() {
                return Outcome::Conflict {
                    latest_size: latest,
                    reason: format!("a different root hash at the same size {latest}: the log forked"),
                };
            }
        }
        Some(h) => {
            if let Err(e) = verify_consistency(h.size, cp.size, &h.root, &cp.root, &req.proof) {
                return Outcome::BadProof(format!("consistency proof from {} to {}: {e}", h.size, cp.size));
            }
        }
    }
    match witness.sign_line(&note.text, now) {
        Ok(line) => Outcome::Cosigned {
            head: LogHead { size: cp.size, root: cp.root },
            checkpoint: note.text,
            body: line,
        },
        Err(e) => Outcome::BadRequest(e.to_string()),
    }
}

/// Format an `add-checkpoint` request body.
pub fn format_request(old_size: u64, proof: &[Hash], signed_checkpoint: &str) -> String {
    let mut s = format!("old {old_size}\n");
    for h in proof {
        s.push_str(&crate::checkpoint::encode_hash(h));
        s.push('\n');
    }
    s.push('\n');
    s.push_str(signed_checkpoint);
    s
}
