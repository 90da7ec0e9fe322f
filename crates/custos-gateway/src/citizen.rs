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
use crate::service::{internal, Gateway, GatewayError};

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

/// One-time codes and sessions (in memory: a restart signs everyone out).
pub struct Portal {
    pub(crate) sender: Box<dyn OtpSender>,
    codes: Mutex<HashMap<String, Code>>,
    sessions: Mutex<HashMap<String, Session>>,
}

impl Default for Portal {
    fn default() -> Self {
        Self { sender: Box::new(LogSender), codes: Mutex::default(), sessions: Mutex::default() }
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
        let nid = body.get("nid").and_then(Value::as_str).unwrap_or_default();
        let nid = custos_store::normalize_nid(nid).ok_or_else(|| {
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
        let nid = body.get("nid").and_then(Value::as_str).unwrap_or_default();
        let code = body.get("code").and_then(Value::as_str).unwrap_or_default().trim().to_string();
        let nid = custos_store::normalize_nid(nid).ok_or_else(|| {
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
        e.decision == "allow"
            && e.count > 0
            && matches!(e.action.as_str(), "identity_lookup" | "routine_check" | "cdr_query" | "name_search")
            && (e.subjects.iter().any(|x| s.subjects.contains(x)) || e.records.contains(&s.record))
    }

    /// `GET /v1/citizens/me/accesses`: who looked at my data.
    pub fn citizen_accesses(&self, p: &Principal) -> Result<Value, GatewayError> {
        let s = self.session(p)?;
        let size = self.log.committed().size;
        let mut out = Vec::new();
        for i in 0..size {
            let Some(bytes) = self.log.entry(i).map_err(internal)? else { continue };
            let Ok(e) = serde_json::from_slice::<AuditEntry>(&bytes) else { continue };
            if !self.mine(&s, &e) || self.withheld(&e.case)? {
                continue;
            }
            out.push(json!({
                "index": i,
                "time": e.time,
                "agency": agency(&e.unit),
                "unit": e.unit,
                "category": category(&e.action),
                "purpose": purpose_category(&e),
            }));
        }
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
