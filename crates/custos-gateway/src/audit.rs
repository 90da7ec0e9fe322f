//! The audit entry: versioned compact JSON, one per authenticated request.
//!
//! Schema (version 1):
//!
//! | field | meaning |
//! |---|---|
//! | `v` | schema version, `1` |
//! | `time` | RFC 3339 UTC time the gateway decided |
//! | `req` | request ID (random, also in the `x-request-id` response header) |
//! | `officer`, `unit`, `token` | who asked, with which credential ID (`admin` for admin credentials) |
//! | `action` | `identity_lookup`, `cdr_query`, `name_search`, `routine_check`, or an administrative action |
//! | `case`, `warrant` | as cited (may be empty) |
//! | `purpose` | SHA-256 of the declared purpose, first 16 hex digits (the text is not logged) |
//! | `decision` | `allow`, `deny` (policy) or `reject` (bad input, unknown subject, …) |
//! | `reasons` | reason codes |
//! | `subjects` | keyed commitments (HMAC under the audit key) of the identifiers asked about |
//! | `records` | keyed commitments of the citizens / CDRs returned |
//! | `count` | records returned |
//! | `status` | HTTP status sent |
//!
//! Unauthenticated attempts are logged as entries with `officer` empty and `action`
//! `unauthenticated`, at most a few per second (the rest are counted in the next one).

use serde::{Deserialize, Serialize};

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Schema version.
    pub v: u32,
    /// RFC 3339 time.
    pub time: String,
    /// Request ID.
    pub req: String,
    /// Officer (empty for unauthenticated attempts).
    pub officer: String,
    /// Unit.
    pub unit: String,
    /// Credential ID.
    pub token: String,
    /// Action.
    pub action: String,
    /// Case cited.
    pub case: String,
    /// Warrant cited.
    pub warrant: String,
    /// Hash of the declared purpose.
    pub purpose: String,
    /// `allow`, `deny` or `reject`.
    pub decision: String,
    /// Reason codes.
    pub reasons: Vec<String>,
    /// Commitments of the subjects asked about.
    pub subjects: Vec<String>,
    /// Commitments of the records returned.
    pub records: Vec<String>,
    /// Records returned.
    pub count: u64,
    /// HTTP status.
    pub status: u16,
    /// Field groups released with the records (`basic`, `family`, `address`, ...); absent in
    /// denials and in entries written before it was recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// The address the request came from (the officer's workstation, or whoever tried a
    /// credential); absent where unknown (command-line administration, behind a proxy only the
    /// proxy's) and in entries written before it was recorded.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub client: String,
}

impl AuditEntry {
    /// A data request: an identity lookup, a call-record query, a name search or a routine
    /// check (what the detector counts and `audit export` writes).
    pub fn is_data_request(&self) -> bool {
        matches!(self.action.as_str(), "identity_lookup" | "cdr_query" | "name_search" | "routine_check")
    }

    /// An event that is evidence in itself, not a data request: granted emergency access, or an
    /// officer's credential presented without the client certificate it is bound to.
    pub fn is_evidence(&self) -> bool {
        (self.action == "break_glass" && self.decision == "allow")
            || self.action == custos_detect::CREDENTIAL_WITHOUT_CERTIFICATE
    }

    /// Compact JSON bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}
