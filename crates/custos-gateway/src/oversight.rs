//! The oversight side: alert triage, officers' timelines, cases and warrants, the log's status
//! and verification, covert-case release, and the transparency report. Auditors and oversight
//! see alerts, risk and aggregates — never a citizen's data; supervisors see their own unit.

use std::collections::BTreeMap;

use custos_server::auth::Principal;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::audit::AuditEntry;
use crate::service::{internal, Ctx, Gateway, GatewayError};

/// Triage states of an alert.
pub const TRIAGE: [&str; 4] = ["acknowledged", "escalated", "closed_abuse", "closed_false_positive"];

/// Stable ID of an alert.
pub fn alert_id(a: &custos_detect::Alert) -> String {
    let h = Sha256::digest(format!("{}|{}|{}|{}", a.officer, a.detector, a.unix, a.detail).as_bytes());
    custos_server::auth::hex(&h[..8])
}

/// Who sees what: `None` for everything, `Some(unit)` for a supervisor's own unit.
/// Triage of an alert: `acknowledge`, `escalate`, `close_abuse` or `close_false_positive`,
/// with a note (required to close).
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriageReq {
    /// What to do.
    pub action: String,
    /// Why (up to 2,000 characters).
    #[serde(default)]
    pub note: String,
}

fn scope(p: &Principal) -> Result<Option<String>, GatewayError> {
    if p.has_role("auditor") || p.has_role("admin") {
        Ok(None)
    } else if p.has_role("supervisor") {
        Ok(Some(p.unit.clone()))
    } else {
        Err(GatewayError::Denied(vec!["role_not_allowed".into()]))
    }
}

impl Gateway {
    /// Whether the caller may see this officer's oversight data (auditors and admins: all;
    /// supervisors: their own unit).
    pub fn in_scope(&self, p: &Principal, officer: &str) -> Result<(), GatewayError> {
        match scope(p)? {
            Some(u) if u != self.unit_of(officer) => Err(GatewayError::Denied(vec!["other_unit".into()])),
            _ => Ok(()),
        }
    }

    /// Whether `officer` has an account.
    pub fn knows_officer(&self, officer: &str) -> bool {
        self.snap.read().is_ok_and(|s| s.officers.contains_key(officer))
    }

    /// An officer's unit, from the current snapshot (empty for no such officer).
    pub(crate) fn unit_of(&self, officer: &str) -> String {
        self.snap
            .read()
            .ok()
            .and_then(|s| s.officers.get(officer).map(|o| o.unit.clone()))
            .unwrap_or_default()
    }

    fn triage_state(&self, id: &str) -> Result<Value, GatewayError> {
        Ok(self
            .registry
            .store()
            .meta_get(&format!("alert:{id}"))?
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_else(|| json!({"state": "open", "history": []})))
    }

    /// `GET /v1/alerts`: the alert queue, newest first, with triage states.
    pub fn alert_queue(&self, p: &Principal) -> Result<Value, GatewayError> {
        let scope = scope(p)?;
        let mut out = Vec::new();
        for a in self.alerts().iter().rev() {
            let unit = self.unit_of(&a.officer);
            if scope.as_ref().is_some_and(|u| *u != unit) {
                continue;
            }
            let id = alert_id(a);
            let t = self.triage_state(&id)?;
            out.push(json!({
                "id": id, "time": a.time, "officer": a.officer, "unit": unit, "detector": a.detector,
                "severity": a.severity, "detail": a.detail, "state": t["state"], "history": t["history"],
            }));
        }
        Ok(json!({ "alerts": out }))
    }

    /// `POST /v1/alerts/{id}/triage`: `{action: acknowledge|escalate|close_abuse|close_false_positive, note}`.
    pub async fn triage_alert(
        &self,
        p: &Principal,
        ctx: &mut Ctx,
        id: &str,
        body: &Value,
    ) -> Result<crate::service::Answer, GatewayError> {
        ctx.action = "alert_triage".into();
        let scope = scope(p)?;
        let req: TriageReq = crate::service::parse(body)?;
        let state = match req.action.as_str() {
            "acknowledge" => "acknowledged",
            "escalate" => "escalated",
            "close_abuse" => "closed_abuse",
            "close_false_positive" => "closed_false_positive",
            _ => {
                return Err(GatewayError::Invalid(
                    "invalid_action",
                    "`action` must be acknowledge, escalate, close_abuse or close_false_positive".into(),
                ))
            }
        };
        let note = req.note.trim().to_string();
        if state.starts_with("closed") && note.is_empty() {
            return Err(GatewayError::Invalid("note_required", "closing an alert needs a `note`".into()));
        }
        if note.chars().count() > 2000 {
            return Err(GatewayError::Invalid(
                "note_too_long",
                "`note` is limited to 2,000 characters".into(),
            ));
        }
        let alert = self
            .alerts()
            .into_iter()
            .find(|a| alert_id(a) == id)
            .ok_or_else(|| GatewayError::NotFound("not_found", format!("alert `{id}` not found")))?;
        if scope.as_ref().is_some_and(|u| *u != self.unit_of(&alert.officer)) {
            return Err(GatewayError::Denied(vec!["other_unit".into()]));
        }
        if alert.officer == p.subject {
            return Err(GatewayError::Denied(vec!["own_alert".into()]));
        }
        let mut t = self.triage_state(id)?;
        // A closed alert's finding stands for its unit's supervisor: only oversight (auditors,
        // admins) reopens or re-closes it, so a supervisor cannot turn a confirmed abuse in
        // their own unit into a false positive.
        if scope.is_some() && t["state"].as_str().is_some_and(|s| s.starts_with("closed")) {
            return Err(GatewayError::Denied(vec!["alert_closed".into()]));
        }
        let when = custos_detect::time::format_utc(self.now());
        if let Some(h) = t["history"].as_array_mut() {
            h.push(json!({"state": state, "by": p.subject, "time": when, "note": note}));
        }
        t["state"] = json!(state);
        let entry =
            self.entry(p, ctx, "allow", vec![format!("alert:{id}"), format!("state:{state}")], vec![], 200);
        let receipt = self.audit(&entry).await?;
        self.registry.store().meta_put(&format!("alert:{id}"), t.to_string().as_bytes())?;
        Ok(crate::service::Answer { body: json!({"alert": id, "state": state}), receipt })
    }

    /// `GET /v1/officers/{id}`: an officer's daily activity, alerts and risk reasons.
    pub fn officer_view(&self, p: &Principal, id: &str) -> Result<Value, GatewayError> {
        let scope = scope(p)?;
        let unit = self.unit_of(id);
        if scope.as_ref().is_some_and(|u| *u != unit) {
            return Err(GatewayError::Denied(vec!["other_unit".into()]));
        }
        let days: Vec<Value> = self
            .timeline
            .lock()
            .map_err(|_| internal("timeline lock"))?
            .get(id)
            .map(|m| {
                m.iter()
                    .map(|(d, (a, r))| {
                        json!({"day": custos_detect::time::format_utc(d * 86_400)[..10], "allowed": a, "refused": r})
                    })
                    .collect()
            })
            .unwrap_or_default();
        let alerts: Vec<Value> = self
            .alerts()
            .iter()
            .filter(|a| a.officer == id)
            .map(|a| json!({"id": alert_id(a), "time": a.time, "detector": a.detector, "severity": a.severity, "detail": a.detail}))
            .collect();
        let risk = self.risk().into_iter().find(|r| r.officer == id);
        if days.is_empty() && alerts.is_empty() && risk.is_none() && unit.is_empty() {
            return Err(GatewayError::NotFound("not_found", format!("no officer `{id}`")));
        }
        Ok(json!({"officer": id, "unit": unit, "days": days, "alerts": alerts, "risk": risk}))
    }

    /// `GET /v1/cases`: cases and warrants (no subjects, only counts); warrants expiring within
    /// seven days are marked.
    pub fn cases_view(&self, p: &Principal) -> Result<Value, GatewayError> {
        let scope = if p.has_role("reviewer") { None } else { scope(p)? };
        let now = self.now();
        let snap = self.snap.read().map_err(|_| internal("snapshot lock"))?;
        let mut cases: Vec<Value> = snap
            .cases
            .values()
            .filter(|c| scope.as_ref().is_none_or(|u| *u == c.unit))
            .map(|c| {
                json!({"id": c.id, "unit": c.unit, "officers": c.officers, "subjects": c.subjects.len(),
                    "open": c.open, "covert": c.covert})
            })
            .collect();
        cases.sort_by(|a, b| {
            b["open"].as_bool().cmp(&a["open"].as_bool()).then(a["id"].as_str().cmp(&b["id"].as_str()))
        });
        let mut warrants: Vec<Value> = snap
            .warrants
            .values()
            .filter(|w| scope.as_ref().is_none_or(|u| snap.cases.get(&w.case).is_some_and(|c| c.unit == *u)))
            .map(|w| {
                let active = w.status == "active" && w.valid_from <= now && now < w.valid_to;
                json!({"id": w.id, "case": w.case, "issuer": w.issuer, "categories": w.categories,
                    "subjects": w.subjects.len(), "status": w.status, "active": active,
                    "valid_from": custos_detect::time::format_utc(w.valid_from),
                    "valid_to": custos_detect::time::format_utc(w.valid_to),
                    "expiring": active && w.valid_to - now < 7 * 86_400})
            })
            .collect();
        warrants.sort_by(|a, b| {
            b["expiring"]
                .as_bool()
                .cmp(&a["expiring"].as_bool())
                .then(a["valid_to"].as_str().cmp(&b["valid_to"].as_str()))
        });
        Ok(json!({"cases": cases, "warrants": warrants}))
    }

    /// `POST /v1/cases/{id}/release`: a reviewer releases a covert case's accesses to the
    /// citizens concerned before it closes.
    pub async fn release_case(
        &self,
        p: &Principal,
        ctx: &mut Ctx,
        id: &str,
    ) -> Result<crate::service::Answer, GatewayError> {
        ctx.action = "case_release".into();
        ctx.case = id.to_string();
        if !(p.has_role("reviewer") || p.has_role("admin")) {
            return Err(GatewayError::Denied(vec!["reviewer_role_required".into()]));
        }
        if !self.snap.read().map_err(|_| internal("snapshot lock"))?.cases.contains_key(id) {
            return Err(GatewayError::NotFound("not_found", format!("case `{id}` not found")));
        }
        let rec = json!({"by": p.subject, "time": custos_detect::time::format_utc(self.now())});
        let entry = self.entry(p, ctx, "allow", vec![format!("release:{id}")], vec![], 200);
        let receipt = self.audit(&entry).await?;
        self.registry.store().meta_put(&format!("release:{id}"), rec.to_string().as_bytes())?;
        Ok(crate::service::Answer { body: json!({"case": id, "released": true}), receipt })
    }

    /// `GET /v1/audit/status`: the latest checkpoint with its cosignatures and who signed it.
    pub fn log_status(&self) -> Value {
        let c = self.log.committed();
        let cosigned = self.data_dir.as_ref().and_then(|d| {
            std::fs::read_to_string(custos_logstore::log_dir(d).join("checkpoint.cosigned")).ok()
        });
        let note = cosigned.clone().unwrap_or_else(|| c.checkpoint.clone());
        let signers: Vec<String> = note
            .lines()
            .filter_map(|l| l.strip_prefix("— "))
            .filter_map(|l| l.split_whitespace().next().map(String::from))
            .collect();
        let cosigned_size = note.lines().nth(1).and_then(|l| l.parse::<u64>().ok()).unwrap_or(0);
        json!({
            "origin": self.log.origin(),
            "size": c.size,
            "root": custos_tlog::checkpoint::encode_hash(&c.root),
            "checkpoint": c.checkpoint,
            "cosigned": cosigned,
            "cosigned_size": cosigned_size,
            "signers": signers,
            "log_key": self.log.verifier().to_text(),
            "shared": self.shared_log.get().map(|s| {
                let (size, epoch, leader) = self.registry.store().log_state().unwrap_or_default();
                json!({"replica": s.name, "leader": s.is_leader(), "sequenced": size, "epoch": epoch, "sequencer": leader, "merge_delay": s.merge_delay()})
            }),
        })
    }

    /// `POST /v1/audit/verify`: recompute the whole log from its files against the signed root.
    pub fn verify_log(&self) -> Result<Value, GatewayError> {
        let dir = self.data_dir.as_ref().ok_or_else(|| {
            GatewayError::NotFound("not_available", "this server does not know its data directory".into())
        })?;
        // A second verification while one runs would take another core to learn the same:
        // refused (429), not queued, so auditors cannot stack them up against the request path.
        let _one = one_verification(&self.verifying)?;
        let started = std::time::Instant::now();
        let mut tiles = custos_logstore::DirTiles::open(dir).map_err(internal)?;
        let note = tiles.last_commit().checkpoint.clone();
        let key = self.log.verifier().clone();
        Ok(match custos_tlog::verify::verify_signed_log(&mut tiles, &note, &key, None, &mut |_| {}) {
            Ok((cp, rep)) => json!({
                "ok": true, "size": cp.size, "root": custos_tlog::checkpoint::encode_hash(&cp.root),
                "entries": rep.entries, "tiles": rep.tiles, "seconds": started.elapsed().as_secs_f64(),
            }),
            Err(e) => json!({"ok": false, "error": e.to_string()}),
        })
    }

    /// The transparency report: requests by unit, category and decision; warrants issued and
    /// refused; alerts raised and confirmed. Aggregates only — safe to publish.
    pub fn transparency(&self) -> Result<Transparency, GatewayError> {
        let mut t = self.counts.lock().map_err(|_| internal("transparency counts lock"))?.clone();
        for a in self.alerts() {
            let confirmed = self.triage_state(&alert_id(&a))?["state"] == "closed_abuse";
            let e = t.alerts.entry(format!("{:?}", a.severity).to_lowercase()).or_insert((0, 0));
            e.0 += 1;
            e.1 += u64::from(confirmed);
        }
        Ok(t)
    }
}

/// The right to verify the log now, or a 429 while another verification holds it.
fn one_verification(lock: &std::sync::Mutex<()>) -> Result<std::sync::MutexGuard<'_, ()>, GatewayError> {
    match lock.try_lock() {
        Ok(g) => Ok(g),
        Err(std::sync::TryLockError::WouldBlock) => Err(GatewayError::TooMany(
            "a verification of the log is already running; ask again when it has finished".into(),
        )),
        Err(std::sync::TryLockError::Poisoned(_)) => Err(internal("verification lock")),
    }
}

/// Aggregates of the transparency report.
#[derive(Debug, Default, Clone)]
pub struct Transparency {
    /// (unit, category, decision) → requests.
    pub requests: BTreeMap<(String, String, String), u64>,
    /// `issued` / `refused` → warrants.
    pub warrants: BTreeMap<String, u64>,
    /// Severity → (raised, confirmed as abuse).
    pub alerts: BTreeMap<String, (u64, u64)>,
}

impl Transparency {
    /// Count one entry of the log (entries come in log order, each once; see
    /// [`Gateway::committed`]).
    pub(crate) fn add(&mut self, e: &AuditEntry) {
        let cat = match e.action.as_str() {
            "identity_lookup" => "identity (case)",
            "routine_check" => "identity (routine)",
            "cdr_query" => "call records",
            "name_search" => "name search",
            "admin_warrant" => {
                let k = if e.decision == "allow" { "issued" } else { "refused" };
                *self.warrants.entry(k.into()).or_insert(0) += 1;
                return;
            }
            _ => return,
        };
        *self.requests.entry((e.unit.clone(), cat.to_string(), e.decision.clone())).or_insert(0) += 1;
    }

    /// CSV: `section,unit,category,decision,count`.
    pub fn csv(&self) -> String {
        let mut out = String::from("section,unit,category,decision,count\n");
        let q = |s: &str| {
            if s.contains([',', '"', '\n']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_string()
            }
        };
        for ((u, c, d), n) in &self.requests {
            out.push_str(&format!("requests,{},{},{},{n}\n", q(u), q(c), q(d)));
        }
        for (k, n) in &self.warrants {
            out.push_str(&format!("warrants,,,{k},{n}\n"));
        }
        for (sev, (raised, confirmed)) in &self.alerts {
            out.push_str(&format!(
                "alerts,,{sev},raised,{raised}\nalerts,,{sev},confirmed_abuse,{confirmed}\n"
            ));
        }
        out
    }

    /// A self-contained HTML page.
    pub fn html(&self, origin: &str) -> String {
        let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        let mut rows = String::new();
        for ((u, c, d), n) in &self.requests {
            rows.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{n}</td></tr>",
                esc(u),
                esc(c),
                esc(d)
            ));
        }
        let mut w = String::new();
        for (k, n) in &self.warrants {
            w.push_str(&format!("<tr><td>{}</td><td>{n}</td></tr>", esc(k)));
        }
        let mut a = String::new();
        for (sev, (raised, confirmed)) in &self.alerts {
            a.push_str(&format!("<tr><td>{}</td><td>{raised}</td><td>{confirmed}</td></tr>", esc(sev)));
        }
        format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Transparency report</title>\
<style>body{{font:15px system-ui,sans-serif;max-width:960px;margin:20px auto;padding:0 16px}}table{{border-collapse:collapse;margin:0 0 24px}}\
td,th{{border:1px solid #ccc;padding:4px 10px;text-align:left}}th{{background:#eef}}</style></head><body>\
<h1>Transparency report</h1><p>Log: {}. Aggregates only; no person is identified.</p>\
<h2>Requests by unit, category and decision</h2><table><tr><th>Unit</th><th>Category</th><th>Decision</th><th>Requests</th></tr>{rows}</table>\
<h2>Warrants</h2><table><tr><th>Outcome</th><th>Count</th></tr>{w}</table>\
<h2>Alerts</h2><table><tr><th>Severity</th><th>Raised</th><th>Confirmed as abuse</th></tr>{a}</table></body></html>",
            esc(origin)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_verification_while_one_runs_is_refused_not_queued() {
        let lock = std::sync::Mutex::new(());
        let first = one_verification(&lock).unwrap();
        let second = one_verification(&lock).unwrap_err();
        assert_eq!((second.status(), second.code()), (429, "rate_limited"));
        drop(first);
        assert!(one_verification(&lock).is_ok(), "free again once the first has finished");
    }
}
