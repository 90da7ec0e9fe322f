//! Citizens' "who looked at my data": sign-in with the NID and a one-time code sent to a
//! registered mobile number, the list of accesses to their records (agency, unit, time,
//! category, declared purpose category — never the officer), each provable against a signed
//! checkpoint. Accesses under an open covert case are withheld until the case closes or a
//! reviewer releases them, then appear retroactively.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use custos_server::auth::{token_hash, Principal};
use serde_json::{json, Value};

use crate::audit::AuditEntry;
use crate::service::{internal, parse, Gateway, GatewayError};

/// How long a one-time code is valid, seconds.
pub const CODE_TTL: i64 = 300;
/// Wrong guesses before a code is void.
pub const MAX_ATTEMPTS: u32 = 5;
/// Codes sent per NID per [`SEND_WINDOW`].
pub const MAX_SENDS: usize = 3;
/// Window of the send limit, seconds.
pub const SEND_WINDOW: i64 = 900;
/// Session lifetime, seconds.
pub const SESSION_TTL: i64 = 3600;

/// Delivers one-time codes (an SMS gateway in production).
pub trait OtpSender: Send + Sync {
    /// Send `code` to `msisdn`.
    fn send(&self, msisdn: &str, code: &str) -> Result<(), String>;
}

/// Writes codes to the service log (target `custos::otp`, level info): for demonstrations and
/// tests, never for production.
#[derive(Debug, Default)]
pub struct LogSender;

impl OtpSender for LogSender {
    fn send(&self, msisdn: &str, code: &str) -> Result<(), String> {
        tracing::info!(target: "custos::otp", to = %mask(msisdn), code = %code, "one-time code");
        Ok(())
    }
}

/// `8801712345678` → `01712****78`.
pub fn mask(msisdn: &str) -> String {
    let local = msisdn.strip_prefix("88").unwrap_or(msisdn);
    let n = local.chars().count();
    local.chars().enumerate().map(|(i, c)| if i >= 5 && i + 2 < n { '*' } else { c }).collect()
}

#[derive(Debug, Default)]
struct Code {
    hash: String,
    expires: i64,
    attempts: u32,
    used: bool,
    sent: VecDeque<i64>,
}

/// A citizen asks for a one-time code.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OtpReq {
    /// National ID (10, 13 or 17 digits).
    pub nid: String,
}

/// A citizen signs in with the code.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionReq {
    /// National ID (10, 13 or 17 digits).
    pub nid: String,
    /// The one-time code sent to the registered number.
    pub code: String,
}

/// A signed-in citizen.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    token_sha: String,
    expires: i64,
    /// Commitments of the citizen's identifiers (NID, mobile numbers) as the log holds them.
    subjects: Vec<String>,
    /// Commitment of the citizen's record ID.
    record: String,
}

/// One-time codes and sessions (in memory: a restart signs everyone out), and where each
/// person's data was released.
pub struct Portal {
    pub(crate) sender: Box<dyn OtpSender>,
    codes: Mutex<HashMap<String, Code>>,
    sessions: Mutex<HashMap<String, Session>>,
    pub(crate) released: Mutex<ReleaseIndex>,
}

impl Default for Portal {
    fn default() -> Self {
        Self {
            sender: Box::new(LogSender),
            codes: Mutex::default(),
            sessions: Mutex::default(),
            released: Mutex::default(),
        }
    }
}

/// Whether an entry released data about the persons it names: an allowed data request that
/// returned records.
pub(crate) fn releases_data(e: &AuditEntry) -> bool {
    e.decision == "allow"
        && e.count > 0
        && matches!(e.action.as_str(), "identity_lookup" | "routine_check" | "cdr_query" | "name_search")
}

/// Where data about each person was released: for every subject commitment of an entry that
/// released data, and every citizen record commitment it returned, the indexes of those
/// entries in the log. Built from the log at start and kept as entries commit (see
/// [`Gateway::committed`]), so a citizen's report reads the entries that name them, not the
/// whole log. Keys are a fixed hash of the commitment: a collision only adds an entry that the
/// report then reads and finds is not theirs.
#[derive(Debug, Default)]
pub(crate) struct ReleaseIndex {
    by_key: HashMap<u64, Vec<u64>>,
}

impl ReleaseIndex {
    fn key(commitment: &str) -> u64 {
        use std::hash::Hasher;
        let mut h = std::hash::DefaultHasher::new();
        h.write(commitment.as_bytes());
        h.finish()
    }

    /// Note the entry at `index` (entries come in log order; each index once).
    pub(crate) fn add(&mut self, index: u64, e: &AuditEntry) {
        if !releases_data(e) {
            return;
        }
        // A call-record query returns call records, not citizens: its person is its subject.
        let records: &[String] = if e.action == "cdr_query" { &[] } else { &e.records };
        for c in e.subjects.iter().chain(records) {
            let list = self.by_key.entry(Self::key(c)).or_default();
            if list.last() != Some(&index) {
                list.push(index);
            }
        }
    }

    /// The entries naming any of `commitments`, in log order.
    fn entries(&self, commitments: impl IntoIterator<Item = impl AsRef<str>>) -> Vec<u64> {
        let mut out: Vec<u64> = commitments
            .into_iter()
            .filter_map(|c| self.by_key.get(&Self::key(c.as_ref())))
            .flatten()
            .copied()
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

impl std::fmt::Debug for Portal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Portal").finish_non_exhaustive()
    }
}

fn code_hash(bi: &str, code: &str) -> String {
    token_hash(&format!("{bi}:{code}"))
}

fn unauthorized(code: &'static str, msg: &str) -> GatewayError {
    GatewayError::Unauthorized(code, msg.to_string())
}

/// Purpose category of a logged access, in words a citizen understands.
fn purpose_category(e: &AuditEntry) -> &'static str {
    match e.action.as_str() {
        "routine_check" => "routine identity check (no case)",
        _ if e.warrant.is_empty() => "emergency access (break-glass, reviewed afterwards)",
        _ => "criminal investigation under a warrant",
    }
}

fn category(action: &str) -> &'static str {
    match action {
        "cdr_query" => "call records",
        "name_search" => "identity (name search)",
        _ => "identity",
    }
}

/// The agency a unit belongs to.
pub fn agency(unit: &str) -> &'static str {
    match unit {
        "ATU" => "Anti-Terrorism Unit, Bangladesh Police",
        u if u.starts_with("RAB") => "Rapid Action Battalion",
        "DB-DMP" => "Detective Branch, Dhaka Metropolitan Police",
        "CID" => "Criminal Investigation Department, Bangladesh Police",
        "SB" => "Special Branch, Bangladesh Police",
        "NTMC" => "National Telecommunication Monitoring Centre",
        u if u.starts_with("DP-") => "District Police",
        _ => "Bangladesh Police",
    }
}

impl Gateway {
    /// `POST /v1/citizens/otp`: send a one-time code to the mobile number registered with an
    /// NID. The answer is the same whether or not the NID exists (no enumeration oracle).
    pub async fn citizen_request_code(&self, body: &Value) -> Result<Value, GatewayError> {
        let OtpReq { nid } = parse(body)?;
        let nid = custos_store::normalize_nid(&nid).ok_or_else(|| {
            GatewayError::Invalid("invalid_nid", "`nid` must have 10, 13 or 17 digits".into())
        })?;
        let bi = self.registry.vault().blind("nid", &nid);
        let now = self.now();
        {
            let mut codes = self.portal.codes.lock().map_err(|_| internal("codes lock"))?;
            let c = codes.entry(bi.clone()).or_default();
            while c.sent.front().is_some_and(|&t| t <= now - SEND_WINDOW) {
                c.sent.pop_front();
            }
            if c.sent.len() >= MAX_SENDS {
                return Err(GatewayError::TooMany(format!(
                    "at most {MAX_SENDS} codes per {} minutes; try again later",
                    SEND_WINDOW / 60
                )));
            }
            c.sent.push_back(now);
        }
        let found = self.registry.citizen_by_nid(&nid)?;
        if let Some((_, citizen)) = found.filter(|(_, c)| !c.msisdns.is_empty()) {
            let n = u32::from_le_bytes(custos_logstore::random_bytes::<4>().map_err(internal)?);
            let code = format!("{:06}", n % 1_000_000);
            {
                let mut codes = self.portal.codes.lock().map_err(|_| internal("codes lock"))?;
                let c = codes.entry(bi.clone()).or_default();
                c.hash = code_hash(&bi, &code);
                c.expires = now + CODE_TTL;
                c.attempts = 0;
                c.used = false;
            }
            if let Err(e) = self.portal.sender.send(&citizen.msisdns[0], &code) {
                tracing::error!(error = %e, "one-time code not delivered");
            }
        }
        self.citizen_audit("citizen_code", &bi, "allow", vec![]).await?;
        Ok(json!({ "sent": true, "expires_in": CODE_TTL }))
    }

    /// `POST /v1/citizens/session`: exchange the NID and its one-time code for a session token.
    pub async fn citizen_sign_in(&self, body: &Value) -> Result<Value, GatewayError> {
        let SessionReq { nid, code } = parse(body)?;
        let code = code.trim().to_string();
        let nid = custos_store::normalize_nid(&nid).ok_or_else(|| {
            GatewayError::Invalid("invalid_nid", "`nid` must have 10, 13 or 17 digits".into())
        })?;
        let bi = self.registry.vault().blind("nid", &nid);
        let now = self.now();
        let verdict = {
            let mut codes = self.portal.codes.lock().map_err(|_| internal("codes lock"))?;
            match codes.get_mut(&bi) {
                None => Err(unauthorized("code_invalid", "wrong or expired code")),
                Some(c) if c.hash.is_empty() || now >= c.expires => {
                    Err(unauthorized("code_expired", "the code has expired; ask for a new one"))
                }
                Some(c) if c.used => Err(unauthorized("code_used", "the code was already used")),
                Some(c) if c.attempts >= MAX_ATTEMPTS => {
                    Err(unauthorized("code_locked", "too many wrong codes; ask for a new one"))
                }
                Some(c) => {
                    if c.hash == code_hash(&bi, &code) {
                        c.used = true;
                        Ok(())
                    } else {
                        c.attempts += 1;
                        Err(unauthorized("code_invalid", "wrong or expired code"))
                    }
                }
            }
        };
        if let Err(e) = verdict {
            self.citizen_audit("citizen_sign_in", &bi, "reject", vec![e.code().to_string()]).await?;
            return Err(e);
        }
        let (id, citizen) = self
            .registry
            .citizen_by_nid(&nid)?
            .ok_or_else(|| unauthorized("code_invalid", "wrong or expired code"))?;
        let vault = self.registry.vault();
        let mut subjects = vec![vault.commit(&bi)];
        for m in &citizen.msisdns {
            subjects.push(vault.commit(&vault.blind("msisdn", m)));
        }
        let token = format!("cit_{}", crate::service::new_id(""));
        let sha = token_hash(&token);
        let session = Session {
            token_sha: sha.clone(),
            expires: now + SESSION_TTL,
            subjects,
            record: vault.commit(&format!("citizen:{id}")),
        };
        {
            let mut s = self.portal.sessions.lock().map_err(|_| internal("sessions lock"))?;
            s.retain(|_, v| v.expires > now);
            s.insert(sha[..16].to_string(), session);
        }
        self.citizen_audit("citizen_sign_in", &bi, "allow", vec![]).await?;
        Ok(json!({ "token": token, "expires": now + SESSION_TTL }))
    }

    async fn citizen_audit(
        &self,
        action: &str,
        bi: &str,
        decision: &str,
        reasons: Vec<String>,
    ) -> Result<(), GatewayError> {
        let p = Principal {
            cred_id: String::new(),
            subject: String::new(),
            admin: false,
            roles: vec![],
            unit: String::new(),
            client: None,
        };
        let ctx = crate::service::Ctx {
            req: crate::service::new_id("r-"),
            action: action.to_string(),
            subjects: vec![self.registry.vault().commit(bi)],
            ..Default::default()
        };
        let status = if decision == "allow" { 200 } else { 401 };
        self.audit(&self.entry(&p, &ctx, decision, reasons, vec![], status)).await.map(|_| ())
    }

    /// The principal of a citizen session token.
    pub(crate) fn citizen_principal(&self, token: &str) -> Option<Principal> {
        let sha = token_hash(token);
        let now = self.now();
        let s = self.portal.sessions.lock().ok()?;
        s.get(&sha[..16]).filter(|x| x.token_sha == sha && x.expires > now)?;
        Some(Principal {
            cred_id: sha[..16].to_string(),
            subject: "citizen".into(),
            admin: false,
            roles: vec!["citizen".into()],
            unit: String::new(),
            client: None,
        })
    }

    fn session(&self, p: &Principal) -> Result<Session, GatewayError> {
        if !p.has_role("citizen") {
            return Err(GatewayError::Denied(vec!["citizen_only".into()]));
        }
        self.portal
            .sessions
            .lock()
            .map_err(|_| internal("sessions lock"))?
            .get(&p.cred_id)
            .cloned()
            .ok_or_else(|| unauthorized("session_expired", "sign in again"))
    }

    /// Whether an access under `case` is withheld from the citizen now.
    fn withheld(&self, case: &str) -> Result<bool, GatewayError> {
        if case.is_empty() {
            return Ok(false);
        }
        let covert_open = self
            .snap
            .read()
            .map_err(|_| internal("snapshot lock"))?
            .cases
            .get(case)
            .is_some_and(|c| c.covert && c.open);
        Ok(covert_open && self.registry.store().meta_get(&format!("release:{case}"))?.is_none())
    }

    fn mine(&self, s: &Session, e: &AuditEntry) -> bool {
        releases_data(e)
            && (e.subjects.iter().any(|x| s.subjects.contains(x)) || e.records.contains(&s.record))
    }

    /// Visit, in log order, the committed entries the release index names for any of
    /// `commitments` (a hash collision can add one that names none of them: callers check).
    /// Only those entries are read, not the log.
    pub(crate) fn each_release_of(
        &self,
        commitments: impl IntoIterator<Item = impl AsRef<str>>,
        mut visit: impl FnMut(u64, AuditEntry) -> Result<(), GatewayError>,
    ) -> Result<(), GatewayError> {
        let size = self.log.committed().size;
        let candidates =
            self.portal.released.lock().map_err(|_| internal("release index lock"))?.entries(commitments);
        for i in candidates.into_iter().filter(|&i| i < size) {
            let Some(bytes) = self.log.entry(i).map_err(internal)? else { continue };
            if let Ok(e) = serde_json::from_slice::<AuditEntry>(&bytes) {
                visit(i, e)?;
            }
        }
        Ok(())
    }

    /// `GET /v1/citizens/me/accesses`: who looked at my data.
    pub fn citizen_accesses(&self, p: &Principal) -> Result<Value, GatewayError> {
        let s = self.session(p)?;
        let mut out = Vec::new();
        self.each_release_of(s.subjects.iter().chain([&s.record]), |i, e| {
            if !self.mine(&s, &e) || self.withheld(&e.case)? {
                return Ok(());
            }
            out.push(json!({
                "index": i,
                "time": e.time,
                "agency": agency(&e.unit),
                "unit": e.unit,
                "category": category(&e.action),
                "purpose": purpose_category(&e),
            }));
            Ok(())
        })?;
        Ok(json!({
            "accesses": out,
            "note": "Accesses under an investigation that is still covert appear here once it closes or a reviewer releases them.",
        }))
    }

    /// `GET /v1/citizens/me/accesses/{index}/proof`: an inclusion proof of one listed access
    /// against the latest signed checkpoint.
    pub fn citizen_proof(&self, p: &Principal, index: u64) -> Result<Value, GatewayError> {
        let s = self.session(p)?;
        let committed = self.log.committed();
        let not_yours =
            || GatewayError::NotFound("not_found", format!("no access of yours at index {index}"));
        if index >= committed.size {
            return Err(not_yours());
        }
        let bytes = self.log.entry(index).map_err(internal)?.ok_or_else(not_yours)?;
        let e: AuditEntry = serde_json::from_slice(&bytes).map_err(internal)?;
        if !self.mine(&s, &e) || self.withheld(&e.case)? {
            return Err(not_yours());
        }
        let (size, proof) = self.log.inclusion_proof(index, Some(committed.size)).map_err(internal)?;
        let enc = custos_tlog::checkpoint::encode_hash;
        Ok(json!({
            "index": index,
            "tree_size": size,
            "leaf_hash": enc(&custos_tlog::merkle::leaf_hash(&bytes)),
            "proof": proof.iter().map(enc).collect::<Vec<_>>(),
            "checkpoint": committed.checkpoint,
            "log_key": self.log.verifier().to_text(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(action: &str, decision: &str, subjects: &[&str], records: &[&str]) -> AuditEntry {
        AuditEntry {
            v: 1,
            time: "2026-03-10T04:00:00Z".into(),
            req: "r-1".into(),
            officer: "inv1".into(),
            unit: "ATU".into(),
            token: "t-1".into(),
            action: action.into(),
            case: "C1".into(),
            warrant: "W1".into(),
            purpose: String::new(),
            decision: decision.into(),
            reasons: vec![],
            subjects: subjects.iter().map(|s| s.to_string()).collect(),
            count: records.len() as u64,
            records: records.iter().map(|s| s.to_string()).collect(),
            status: if decision == "allow" { 200 } else { 403 },
            fields: vec![],
            client: String::new(),
        }
    }

    #[test]
    fn the_release_index_holds_released_data_by_subject_and_citizen_record_only() {
        let mut ix = ReleaseIndex::default();
        ix.add(0, &entry("identity_lookup", "allow", &["c:nid-a"], &["c:cit-a"]));
        ix.add(1, &entry("identity_lookup", "deny", &["c:nid-a"], &[]));
        ix.add(2, &entry("cdr_query", "allow", &["c:msisdn-a"], &["c:cdr-1", "c:cdr-2"]));
        ix.add(3, &entry("name_search", "allow", &["c:query"], &["c:cit-b", "c:cit-a"]));
        ix.add(4, &entry("admin_case", "allow", &["c:nid-a"], &["c:cit-a"]));
        ix.add(5, &entry("routine_check", "allow", &["c:msisdn-a"], &[]));
        // Found nothing: nothing released.
        ix.add(6, &entry("identity_lookup", "allow", &["c:nid-a"], &[]));
        let a = ["c:nid-a", "c:msisdn-a", "c:cit-a"];
        assert_eq!(ix.entries(a), vec![0, 2, 3], "in log order, each once");
        assert_eq!(ix.entries(["c:cit-b"]), vec![3]);
        // Call records are not persons: never keys of the index.
        assert!(ix.entries(["c:cdr-1"]).is_empty());
        assert!(ix.entries(["c:nobody"]).is_empty());
    }

    #[test]
    fn entries_out_of_order_come_back_in_log_order() {
        let mut ix = ReleaseIndex::default();
        for i in [5, 3, 9, 3] {
            ix.add(i, &entry("identity_lookup", "allow", &["c:n"], &["c:r"]));
        }
        assert_eq!(ix.entries(["c:n", "c:r"]), vec![3, 5, 9]);
    }
}
