//! The records Custos holds.

use serde::{Deserialize, Serialize};

/// An identity record (stored sealed; never in plaintext).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Citizen {
    /// National ID (10-digit smart card, or 13/17-digit old forms), normalised digits.
    pub nid: String,
    /// Name in Bangla script.
    pub name_bn: String,
    /// Name in Latin script.
    pub name_en: String,
    /// Father's name.
    pub father: String,
    /// Mother's name.
    pub mother: String,
    /// Date of birth, `YYYY-MM-DD`.
    pub dob: String,
    /// Gender.
    pub gender: String,
    /// Division.
    pub division: String,
    /// District.
    pub district: String,
    /// Upazila.
    pub upazila: String,
    /// Free-text address.
    pub address: String,
    /// Registered mobile numbers, `8801XXXXXXXXX`.
    pub msisdns: Vec<String>,
}

/// A call-detail record (stored sealed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Cdr {
    /// Calling number.
    pub caller: String,
    /// Called number.
    pub callee: String,
    /// Start, Unix seconds.
    pub start: i64,
    /// Duration in seconds.
    pub duration: u32,
    /// `voice`, `sms` or `data`.
    pub kind: String,
    /// Cell ID.
    pub cell_id: String,
    /// Handset IMEI.
    pub imei: String,
}

/// Officer roles.
pub const ROLES: [&str; 7] =
    ["investigator", "analyst", "desk", "supervisor", "reviewer", "auditor", "admin"];

/// An officer (account holder).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Officer {
    /// Officer ID.
    pub id: String,
    /// Name.
    pub name: String,
    /// Unit.
    pub unit: String,
    /// Rank.
    pub rank: String,
    /// Roles (see [`ROLES`]).
    pub roles: Vec<String>,
    /// `active` or `suspended`.
    pub status: String,
}

/// A stored credential (only the token's hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    /// Token ID (first 16 hex of the hash).
    pub id: String,
    /// SHA-256 of the token, hex.
    pub sha256: String,
    /// Officer ID, or `admin` for an admin credential.
    pub subject: String,
    /// Admin credential (separate from officer ones).
    pub admin: bool,
    /// Expiry (Unix seconds), if any.
    pub expires: Option<i64>,
    /// Revoked.
    pub revoked: bool,
    /// Created (Unix seconds).
    pub created: i64,
}

/// A case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    /// Case ID.
    pub id: String,
    /// Unit.
    pub unit: String,
    /// Assigned officers.
    pub officers: Vec<String>,
    /// Linked subjects, as blind indexes (NIDs and MSISDNs).
    pub subjects: Vec<String>,
    /// Open.
    pub open: bool,
    /// Covert (accesses withheld from citizens while open).
    pub covert: bool,
}

/// A legal authorisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warrant {
    /// Warrant ID.
    pub id: String,
    /// Case.
    pub case: String,
    /// Issuing reviewer (officer ID).
    pub issuer: String,
    /// Subjects covered, as blind indexes.
    pub subjects: Vec<String>,
    /// Categories: `identity`, `cdr`, `location`.
    pub categories: Vec<String>,
    /// Data period covered (Unix seconds).
    pub data_from: i64,
    /// End of the data period.
    pub data_to: i64,
    /// Valid from (Unix seconds).
    pub valid_from: i64,
    /// Valid until.
    pub valid_to: i64,
    /// `active`, `revoked`.
    pub status: String,
}

/// A second officer's approval of one exact request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// Approval ID.
    pub id: String,
    /// Officer who asked.
    pub requester: String,
    /// SHA-256 of the canonical request it approves (hex).
    pub request_hash: String,
    /// What it is for, in words (no personal data).
    pub summary: String,
    /// Approver (set when approved).
    pub approver: Option<String>,
    /// Created.
    pub created: i64,
    /// Expires.
    pub expires: i64,
    /// Used (an approval serves one request).
    pub used: bool,
    /// The request it vouches for, sealed under the identity data key and bound to the
    /// approval's ID (base64url), so the approver can read what they approve while the
    /// database holds no name or number. Absent in approvals made before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_request: Option<String>,
}

/// An emergency access grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakGlass {
    /// Grant ID.
    pub id: String,
    /// Officer.
    pub officer: String,
    /// Case it is for.
    pub case: String,
    /// Written justification.
    pub justification: String,
    /// Created.
    pub created: i64,
    /// Expires.
    pub expires: i64,
    /// `open` until a supervisor closes the review.
    pub review: String,
    /// Reviewer and note once closed.
    pub review_note: Option<String>,
}
