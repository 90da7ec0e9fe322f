//! The simulated agency as Custos sees it: accounts, cases and warrants derived from the
//! simulated world, and a client that sends every request through the gateway's real HTTP
//! router (authentication, JSON parsing, Cedar policy, fail-closed audit, live detection),
//! in process, with the simulated time as the gateway's clock.

use std::collections::{BTreeMap, HashMap};

use anyhow::{bail, Context as _};
use axum::body::Body;
use axum::http::{header, Method, Request};
use custos_detect::input::Action;
use custos_detect::Event;
use custos_sim::{Role, SimOfficer, World, EPOCH_LOCAL};
use custos_store::Officer;
use serde_json::{json, Value};
use tower::ServiceExt as _;

tokio::task_local! {
    /// The simulated "now" of the request being served.
    pub static SIM_NOW: i64;
}

/// The reviewers who issue warrants: outside every police unit.
pub const REVIEW_UNIT: &str = "Judicial-Review";
/// The oversight body's auditors.
pub const OVERSIGHT_UNIT: &str = "Oversight-Board";

/// A case as the agency files it in Custos: the officers who work it and the subjects they
/// look up, opened the day work starts and closed two days after it ends.
#[derive(Debug, Clone)]
pub struct CaseFile {
    pub id: String,
    pub unit: String,
    pub officers: Vec<String>,
    pub subjects: Vec<String>,
    pub start_day: u32,
    pub end_day: u32,
    pub covert: bool,
}

impl CaseFile {
    pub fn warrant(&self) -> String {
        format!("W-{}", self.id)
    }
}

pub fn day_of(t: i64) -> u32 {
    u32::try_from((t - EPOCH_LOCAL).div_euclid(86_400)).unwrap_or(0)
}

pub fn day_start(day: u32) -> i64 {
    EPOCH_LOCAL + i64::from(day) * 86_400
}

fn stable_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

/// Case files from the allowed case work in the simulated log. Requests citing a case that
/// was never filed (a prober's invention) stay unknown to Custos and are refused.
pub fn case_files(world: &World) -> Vec<CaseFile> {
    let mut files: BTreeMap<String, CaseFile> = BTreeMap::new();
    for e in world.events.iter().filter(|e| !e.case.is_empty() && e.allowed) {
        let day = day_of(e.time);
        let f = files.entry(e.case.clone()).or_insert_with(|| CaseFile {
            id: e.case.clone(),
            unit: e.unit.clone(),
            officers: vec![],
            subjects: vec![],
            start_day: day,
            end_day: day,
            covert: stable_hash(&e.case).is_multiple_of(10),
        });
        f.start_day = f.start_day.min(day);
        f.end_day = f.end_day.max(day);
        if !f.officers.contains(&e.officer) {
            f.officers.push(e.officer.clone());
        }
        if !f.subjects.contains(&e.subject) {
            f.subjects.push(e.subject.clone());
        }
    }
    files.into_values().collect()
}

const RANKS: [&str; 4] =
    ["Sub-Inspector", "Inspector", "Assistant Superintendent", "Additional Superintendent"];

/// The account record of a simulated officer.
pub fn officer_record(o: &SimOfficer, seed: u64) -> Officer {
    let (roles, rank): (Vec<&str>, usize) = match o.role {
        Role::Investigator => (vec!["investigator"], 1),
        Role::Analyst => (vec!["analyst"], 0),
        Role::Desk => (vec!["desk"], 0),
        Role::Supervisor => (vec!["supervisor", "investigator"], 2 + (stable_hash(&o.id) % 2) as usize),
    };
    let person = custos_sim::people::person(
        seed ^ 0x0FF1_CE25,
        &format!("9{:09}", stable_hash(&o.id) % 1_000_000_000),
        "8801700000000",
    );
    Officer {
        id: o.id.clone(),
        name: person.name_en,
        unit: o.unit.clone(),
        rank: RANKS[rank].to_string(),
        roles: roles.into_iter().map(String::from).collect(),
        status: "active".into(),
    }
}

/// Requests into the gateway's router, in process.
#[derive(Clone)]
pub struct Client {
    pub router: axum::Router,
}

impl Client {
    /// Send one request at simulated time `now`; returns the status and the JSON body.
    pub async fn call(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
        now: i64,
    ) -> anyhow::Result<(u16, Value)> {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"));
        let body = match body {
            Some(v) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(serde_json::to_vec(v)?)
            }
            None => Body::empty(),
        };
        self.send(req.body(body)?, now).await
    }

    /// Send a raw request at simulated time `now`.
    pub async fn send(&self, req: Request<Body>, now: i64) -> anyhow::Result<(u16, Value)> {
        let router = self.router.clone();
        let resp = SIM_NOW.scope(now, async move { router.oneshot(req).await }).await?;
        let status = resp.status().as_u16();
        let bytes = axum::body::to_bytes(resp.into_body(), 64 << 20).await?;
        let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok((status, v))
    }

    /// A call that must succeed (administration).
    pub async fn ok(&self, token: &str, path: &str, body: &Value, now: i64) -> anyhow::Result<Value> {
        let (status, v) = self.call(token, Method::POST, path, Some(body), now).await?;
        if status != 200 {
            bail!("{path} answered {status}: {v}");
        }
        Ok(v)
    }
}

/// The request an officer's access becomes. `grant_case` is the case of an open break-glass
/// grant the officer holds, for call-record pulls without a warrant.
pub fn request_for(
    e: &Event,
    files: &HashMap<String, CaseFile>,
    grant_case: Option<&str>,
) -> (&'static str, Value) {
    let is_msisdn = e.subject.len() == 13 && e.subject.starts_with("880");
    let (case, warrant, purpose) = if e.case.is_empty() {
        match grant_case {
            Some(c) if e.action == Action::CdrQuery => {
                (c.to_string(), None, "urgent: imminent threat, suspect's contacts".to_string())
            }
            _ => (String::new(), None, "routine identity verification".to_string()),
        }
    } else {
        let w = files.get(&e.case).map(CaseFile::warrant);
        (e.case.clone(), w, format!("investigation {}", e.case))
    };
    match e.action {
        Action::CdrQuery => {
            let b = json!({
                "msisdn": e.subject,
                "from": (e.time - 30 * 86_400).to_string(),
                "to": e.time.to_string(),
                "case": case,
                "warrant": warrant.unwrap_or_default(),
                "purpose": purpose,
            });
            ("/v1/cdr/query", b)
        }
        _ => {
            let mut b = json!({ "purpose": purpose });
            b[if is_msisdn { "msisdn" } else { "nid" }] = json!(e.subject);
            if !case.is_empty() {
                b["case"] = json!(case);
                if let Some(w) = warrant {
                    b["warrant"] = json!(w);
                }
            }
            ("/v1/identity/lookup", b)
        }
    }
}

/// Issue a long-lived token for an account through the admin API.
pub async fn token_for(client: &Client, admin: &str, officer: &str, now: i64) -> anyhow::Result<String> {
    let v = client
        .ok(admin, "/v1/admin/tokens", &json!({"officer": officer, "expires_in_days": 3650}), now)
        .await?;
    v["token"].as_str().map(String::from).with_context(|| format!("no token in {v}"))
}
