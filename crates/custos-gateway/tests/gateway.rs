//! The gateway over HTTP: the authorization matrix, minimised answers with verifiable
//! receipts, fail-closed audit, nothing in plaintext at rest, bad input, concurrency.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code")]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use custos_gateway::audit::AuditEntry;
use custos_gateway::{Gateway, GatewayConfig};
use custos_logstore::{LogStore, Options};
use custos_policy::Policy;
use custos_server::audit::AuditState;
use custos_store::sqlite::SqliteStore;
use custos_store::{Case, Cdr, Citizen, LocalKek, Officer, Registry, Warrant};
use serde_json::{json, Value};

const T: i64 = 1_773_115_200; // 2026-03-10T04:00:00Z = 10:00 in Dhaka
const DAY: i64 = 86_400;

struct Fx {
    _d: tempfile::TempDir,
    dir: std::path::PathBuf,
    gw: Arc<Gateway>,
    clock: Arc<AtomicI64>,
    base: String,
    tokens: std::collections::HashMap<&'static str, String>,
    _rt: tokio::runtime::Runtime,
}

fn citizen(nid: &str, en: &str, bn: &str, msisdn: &str) -> Citizen {
    Citizen {
        nid: nid.into(),
        name_bn: bn.into(),
        name_en: en.into(),
        father: format!("Father of {en}"),
        mother: format!("Mother of {en}"),
        dob: "1990-01-01".into(),
        gender: "male".into(),
        division: "Dhaka".into(),
        district: "Dhaka".into(),
        upazila: "Mirpur".into(),
        address: "House 12, Road 3".into(),
        msisdns: vec![msisdn.into()],
    }
}

fn officer(id: &str, unit: &str, roles: &[&str], status: &str) -> Officer {
    Officer {
        id: id.into(),
        name: format!("Officer {id}"),
        unit: unit.into(),
        rank: "SI".into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        status: status.into(),
    }
}

fn fixture(cfg: GatewayConfig) -> Fx {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().to_path_buf();
    LogStore::init(&dir, "custos.test/audit").unwrap();
    let log = LogStore::open(&dir, Options::default()).unwrap();
    let kek = LocalKek::from_bytes([7; 32]);
    let reg = Registry::init(Box::new(SqliteStore::open(&dir.join("custos.db")).unwrap()), &kek).unwrap();
    reg.add_citizens(&[
        citizen("1234567890", "Karim Rahman", "করিম রহমান", "8801711111111"),
        citizen("2345678901", "Salma Begum", "সালমা বেগম", "8801822222222"),
        citizen("19871234567890123", "Abdul Karim", "আব্দুল করিম", "8801933333333"),
    ])
    .unwrap();
    reg.add_cdrs(&[
        Cdr {
            caller: "8801711111111".into(),
            callee: "8801822222222".into(),
            start: T - 5 * DAY,
            duration: 60,
            kind: "voice".into(),
            cell_id: "470-01-1234".into(),
            imei: "356938035643809".into(),
        },
        Cdr {
            caller: "8801933333333".into(),
            callee: "8801711111111".into(),
            start: T - 3 * DAY,
            duration: 0,
            kind: "sms".into(),
            cell_id: "470-01-9".into(),
            imei: "356938035643810".into(),
        },
        Cdr {
            caller: "8801711111111".into(),
            callee: "8801933333333".into(),
            start: T - 40 * DAY,
            duration: 30,
            kind: "voice".into(),
            cell_id: "x".into(),
            imei: "y".into(),
        },
    ])
    .unwrap();
    let st = reg.store();
    for o in [
        officer("inv1", "ATU", &["investigator"], "active"),
        officer("inv2", "ATU", &["investigator"], "active"),
        officer("an1", "NTMC", &["analyst"], "active"),
        officer("desk1", "DP", &["desk"], "active"),
        officer("sup1", "ATU", &["supervisor"], "active"),
        officer("suprab", "RAB", &["supervisor"], "active"),
        officer("rev1", "COURT", &["reviewer"], "active"),
        officer("revatu", "ATU", &["reviewer"], "active"),
        officer("susp", "ATU", &["investigator"], "suspended"),
        officer("aud1", "OVERSIGHT", &["auditor"], "active"),
    ] {
        st.put_officer(&o).unwrap();
    }
    let bi = |k: &str, v: &str| reg.vault().blind(k, v);
    let a = vec![bi("nid", "1234567890"), bi("msisdn", "8801711111111")];
    let case = |id: &str, unit: &str, officers: &[&str], open: bool| Case {
        id: id.into(),
        unit: unit.into(),
        officers: officers.iter().map(|o| o.to_string()).collect(),
        subjects: a.clone(),
        open,
        covert: false,
    };
    for c in [
        case("C1", "ATU", &["inv1", "susp"], true),
        case("C2", "NTMC", &["an1"], true),
        case("CRAB", "RAB", &["inv1"], true),
        case("CCLOSED", "ATU", &["inv1"], false),
    ] {
        st.put_case(&c).unwrap();
    }
    let w = |id: &str, case: &str, issuer: &str, cats: &[&str], valid: (i64, i64), status: &str| Warrant {
        id: id.into(),
        case: case.into(),
        issuer: issuer.into(),
        subjects: a.clone(),
        categories: cats.iter().map(|c| c.to_string()).collect(),
        data_from: T - 30 * DAY,
        data_to: T,
        valid_from: valid.0,
        valid_to: valid.1,
        status: status.into(),
    };
    let now_valid = (T - DAY, T + 30 * DAY);
    for x in [
        w("W1", "C1", "rev1", &["identity", "cdr"], now_valid, "active"),
        w("W2", "C2", "rev1", &["cdr"], now_valid, "active"),
        w("WRAB", "CRAB", "rev1", &["identity"], now_valid, "active"),
        w("WCLOSED", "CCLOSED", "rev1", &["identity"], now_valid, "active"),
        w("WEXP", "C1", "rev1", &["identity"], (T - 30 * DAY, T - DAY), "active"),
        w("WFUT", "C1", "rev1", &["identity"], (T + DAY, T + 9 * DAY), "active"),
        w("WREV", "C1", "rev1", &["identity"], now_valid, "revoked"),
        w("WSELF", "C1", "inv1", &["identity"], now_valid, "active"),
        w("WUNIT", "C1", "revatu", &["identity"], now_valid, "active"),
        w("WID", "C1", "rev1", &["identity"], now_valid, "active"),
    ] {
        st.put_warrant(&x).unwrap();
    }
    let clock = Arc::new(AtomicI64::new(T));
    let c2 = clock.clone();
    let gw = Arc::new(
        Gateway::new(reg, Policy::default_policy().unwrap(), log, cfg)
            .unwrap()
            .with_clock(move || c2.load(Ordering::SeqCst)),
    );
    let mut tokens = std::collections::HashMap::new();
    for who in ["inv1", "inv2", "an1", "desk1", "sup1", "suprab", "rev1", "revatu", "susp", "aud1"] {
        tokens.insert(who, gw.issue_token(who, false, Some(T + 90 * DAY)).unwrap().0);
    }
    tokens.insert("admin", gw.issue_token("admin", true, None).unwrap().0);
    tokens.insert("expired", gw.issue_token("inv1", false, Some(T - 1)).unwrap().0);
    let (revoked, cred) = gw.issue_token("inv1", false, None).unwrap();
    gw.registry().store().revoke_credential(&cred.id).unwrap();
    gw.reload().unwrap();
    tokens.insert("revoked", revoked);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let auth: Arc<dyn custos_server::auth::Authenticate> = gw.clone();
    let router = custos_gateway::http::router(gw.clone()).merge(custos_server::audit::router(AuditState {
        log: gw.log().clone(),
        auth,
        published: Arc::new(std::sync::RwLock::new(None)),
    }));
    let addr: SocketAddr = rt.block_on(async {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let a = l.local_addr().unwrap();
        tokio::spawn(custos_server::serve_listener(l, router, std::future::pending()));
        a
    });
    Fx { _d: d, dir, gw, clock, base: format!("http://{addr}"), tokens, _rt: rt }
}

fn cfg() -> GatewayConfig {
    GatewayConfig { unauth_per_sec: 1000, quota_routine: 3, hours: (7, 22), ..GatewayConfig::default() }
}

struct R {
    status: u16,
    body: Value,
}

fn call(fx: &Fx, method: &str, path: &str, token: Option<&str>, body: Option<&str>, ctype: &str) -> R {
    let mut req = ureq::request(method, &format!("{}{path}", fx.base));
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    let res = match body {
        Some(b) => req.set("Content-Type", ctype).send_string(b),
        None => req.call(),
    };
    let resp = match res {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{e}"),
    };
    let status = resp.status();
    let text = resp.into_string().unwrap_or_default();
    R { status, body: serde_json::from_str(&text).unwrap_or(Value::String(text)) }
}

fn post(fx: &Fx, who: &str, path: &str, body: Value) -> R {
    let t = fx.tokens.get(who).cloned().unwrap_or_else(|| who.to_string());
    call(fx, "POST", path, Some(&t), Some(&body.to_string()), "application/json")
}

fn last_entry(fx: &Fx) -> AuditEntry {
    let c = fx.gw.log().committed();
    serde_json::from_slice(&fx.gw.log().entry(c.size - 1).unwrap().unwrap()).unwrap()
}

fn lookup(case: &str, warrant: &str, nid: &str) -> Value {
    json!({ "nid": nid, "case": case, "warrant": warrant, "purpose": "investigating a bombing" })
}

fn cdr(case: &str, warrant: &str, from: i64, to: i64) -> Value {
    json!({ "msisdn": "01711111111", "from": from.to_string(), "to": to.to_string(), "case": case, "warrant": warrant, "purpose": "call pattern" })
}

#[test]
fn forbidden_matrix_denies_with_reasons_and_audits_each() {
    let fx = fixture(cfg());
    let a = "1234567890";
    // (name, who, path, body, status, reason)
    let mut m: Vec<(&str, &str, &str, Value, u16, &str)> = vec![
        ("suspended officer", "susp", "/v1/identity/lookup", lookup("C1", "W1", a), 403, "officer_suspended"),
        (
            "not assigned to the case",
            "inv2",
            "/v1/identity/lookup",
            lookup("C1", "W1", a),
            403,
            "not_assigned_to_case",
        ),
        (
            "other unit's case",
            "inv1",
            "/v1/identity/lookup",
            lookup("CRAB", "WRAB", a),
            403,
            "case_of_other_unit",
        ),
        ("closed case", "inv1", "/v1/identity/lookup", lookup("CCLOSED", "WCLOSED", a), 403, "case_closed"),
        ("unknown case", "inv1", "/v1/identity/lookup", lookup("NOPE", "W1", a), 403, "case_unknown"),
        (
            "injection in case",
            "inv1",
            "/v1/identity/lookup",
            lookup("C1' OR '1'='1", "W1", a),
            403,
            "case_unknown",
        ),
        (
            "no warrant",
            "inv1",
            "/v1/identity/lookup",
            json!({"nid": a, "case": "C1", "purpose": "x"}),
            403,
            "warrant_missing",
        ),
        ("unknown warrant", "inv1", "/v1/identity/lookup", lookup("C1", "WNOPE", a), 403, "warrant_unknown"),
        (
            "expired warrant",
            "inv1",
            "/v1/identity/lookup",
            lookup("C1", "WEXP", a),
            403,
            "warrant_not_active",
        ),
        (
            "warrant not yet valid",
            "inv1",
            "/v1/identity/lookup",
            lookup("C1", "WFUT", a),
            403,
            "warrant_not_active",
        ),
        (
            "revoked warrant",
            "inv1",
            "/v1/identity/lookup",
            lookup("C1", "WREV", a),
            403,
            "warrant_not_active",
        ),
        (
            "warrant of another case",
            "inv1",
            "/v1/identity/lookup",
            lookup("C1", "W2", a),
            403,
            "warrant_for_other_case",
        ),
        (
            "warrant issued by the requester",
            "inv1",
            "/v1/identity/lookup",
            lookup("C1", "WSELF", a),
            403,
            "warrant_not_independent",
        ),
        (
            "warrant issued in the case's unit",
            "inv1",
            "/v1/identity/lookup",
            lookup("C1", "WUNIT", a),
            403,
            "warrant_not_independent",
        ),
        (
            "subject not covered",
            "inv1",
            "/v1/identity/lookup",
            lookup("C1", "W1", "2345678901"),
            403,
            "subject_not_covered",
        ),
        (
            "subject not covered by msisdn",
            "inv1",
            "/v1/identity/lookup",
            json!({"msisdn": "01822222222", "case": "C1", "warrant": "W1", "purpose": "x"}),
            403,
            "subject_not_covered",
        ),
        (
            "category not covered",
            "inv1",
            "/v1/cdr/query",
            cdr("C1", "WID", T - 10 * DAY, T),
            403,
            "category_not_covered",
        ),
        (
            "cdr period before the warrant's",
            "inv1",
            "/v1/cdr/query",
            cdr("C1", "W1", T - 60 * DAY, T),
            403,
            "period_outside_warrant",
        ),
        (
            "cdr period after the warrant's",
            "inv1",
            "/v1/cdr/query",
            cdr("C1", "W1", T - 5 * DAY, T + 5 * DAY),
            403,
            "period_outside_warrant",
        ),
        (
            "cdr period reversed",
            "inv1",
            "/v1/cdr/query",
            cdr("C1", "W1", T, T - 5 * DAY),
            403,
            "period_invalid",
        ),
        (
            "cdr by a desk officer",
            "desk1",
            "/v1/cdr/query",
            cdr("C1", "W1", T - 5 * DAY, T),
            403,
            "role_not_allowed",
        ),
        (
            "cdr by an analyst of another case",
            "an1",
            "/v1/cdr/query",
            cdr("C1", "W1", T - 5 * DAY, T),
            403,
            "not_assigned_to_case",
        ),
        (
            "name search without approval",
            "inv1",
            "/v1/identity/search",
            json!({"name": "Karim", "case": "C1", "warrant": "W1", "purpose": "x"}),
            403,
            "approval_required",
        ),
        (
            "name search with a bogus approval",
            "inv1",
            "/v1/identity/search",
            json!({"name": "Karim", "case": "C1", "warrant": "W1", "purpose": "x", "approval": "ap-nope"}),
            403,
            "approval_required",
        ),
        (
            "name search by a desk officer",
            "desk1",
            "/v1/identity/search",
            json!({"name": "Karim", "case": "C1", "warrant": "W1", "purpose": "x"}),
            403,
            "role_not_allowed",
        ),
        (
            "empty purpose",
            "inv1",
            "/v1/identity/lookup",
            json!({"nid": a, "case": "C1", "warrant": "W1", "purpose": ""}),
            403,
            "purpose_missing",
        ),
        (
            "blank purpose",
            "inv1",
            "/v1/identity/lookup",
            json!({"nid": a, "case": "C1", "warrant": "W1", "purpose": "   "}),
            403,
            "purpose_missing",
        ),
        (
            "routine check by an analyst",
            "an1",
            "/v1/identity/lookup",
            json!({"nid": a, "purpose": "verify"}),
            403,
            "role_not_allowed",
        ),
        (
            "routine check without purpose",
            "desk1",
            "/v1/identity/lookup",
            json!({"nid": a, "purpose": ""}),
            403,
            "purpose_missing",
        ),
        (
            "break-glass without justification",
            "inv1",
            "/v1/break-glass",
            json!({"case": "C1", "justification": "", "minutes": 30}),
            422,
            "justification_required",
        ),
        (
            "break-glass with a token justification",
            "inv1",
            "/v1/break-glass",
            json!({"case": "C1", "justification": "urgent", "minutes": 30}),
            422,
            "justification_required",
        ),
        (
            "break-glass for too long",
            "inv1",
            "/v1/break-glass",
            json!({"case": "C1", "justification": "a kidnapping victim's phone must be located now", "minutes": 100000}),
            422,
            "invalid_duration",
        ),
        (
            "break-glass for an unknown case",
            "inv1",
            "/v1/break-glass",
            json!({"case": "NOPE", "justification": "a kidnapping victim's phone must be located now", "minutes": 30}),
            403,
            "case_unknown",
        ),
        (
            "break-glass for a case the officer is not assigned to",
            "inv2",
            "/v1/break-glass",
            json!({"case": "C1", "justification": "a kidnapping victim's phone must be located now", "minutes": 30}),
            403,
            "not_assigned_to_case",
        ),
        (
            "break-glass for another unit's case",
            "an1",
            "/v1/break-glass",
            json!({"case": "CRAB", "justification": "a kidnapping victim's phone must be located now", "minutes": 30}),
            403,
            "case_of_other_unit",
        ),
        (
            "break-glass for a closed case",
            "inv1",
            "/v1/break-glass",
            json!({"case": "CCLOSED", "justification": "a kidnapping victim's phone must be located now", "minutes": 30}),
            403,
            "case_closed",
        ),
        (
            "admin by an officer",
            "inv1",
            "/v1/admin/officers",
            json!({"id": "x", "name": "x", "unit": "x", "rank": "x", "roles": [], "status": "active"}),
            403,
            "role_not_allowed",
        ),
        (
            "token issuing by an officer",
            "sup1",
            "/v1/admin/tokens",
            json!({"officer": "sup1"}),
            403,
            "role_not_allowed",
        ),
        (
            "warrant issued by a non-reviewer",
            "sup1",
            "/v1/warrants",
            json!({"id": "WX", "case": "C1", "subjects": ["1234567890"], "categories": ["identity"], "data_from": "0", "data_to": "1", "valid_from": T.to_string(), "valid_to": (T + DAY).to_string()}),
            403,
            "role_not_allowed",
        ),
        (
            "warrant issued by a reviewer of the case's unit",
            "revatu",
            "/v1/warrants",
            json!({"id": "WX", "case": "C1", "subjects": ["1234567890"], "categories": ["identity"], "data_from": "0", "data_to": "1", "valid_from": T.to_string(), "valid_to": (T + DAY).to_string()}),
            422,
            "reviewer_not_independent",
        ),
        (
            "a warrant for a closed case",
            "rev1",
            "/v1/warrants",
            json!({"id": "WNEW", "case": "CCLOSED", "subjects": ["1234567890"], "categories": ["identity"], "data_from": "0", "data_to": "1", "valid_from": T.to_string(), "valid_to": (T + DAY).to_string()}),
            422,
            "case_closed",
        ),
        (
            "a revoked warrant re-issued under its ID",
            "rev1",
            "/v1/warrants",
            json!({"id": "WREV", "case": "C1", "subjects": ["1234567890"], "categories": ["identity"], "data_from": "0", "data_to": "1", "valid_from": T.to_string(), "valid_to": (T + DAY).to_string()}),
            422,
            "conflict",
        ),
        (
            "a case opened by a supervisor for another unit",
            "sup1",
            "/v1/admin/cases",
            json!({"id": "CNEW", "unit": "RAB", "officers": [], "subjects": []}),
            403,
            "case_of_other_unit",
        ),
        (
            "another unit's case taken over by a supervisor",
            "sup1",
            "/v1/admin/cases",
            json!({"id": "CRAB", "unit": "ATU", "officers": ["inv1"], "subjects": []}),
            403,
            "case_of_other_unit",
        ),
        (
            "another unit's case closed by a supervisor",
            "sup1",
            "/v1/admin/cases/C2/close",
            json!({}),
            403,
            "case_of_other_unit",
        ),
        (
            "a case assigned to an officer who does not exist",
            "admin",
            "/v1/admin/cases",
            json!({"id": "CNEW", "unit": "ATU", "officers": ["inv1", "ghost"], "subjects": []}),
            422,
            "unknown_officer",
        ),
        (
            "approval of a request by a non-supervisor",
            "inv2",
            "/v1/approvals/ap-nope/approve",
            json!({}),
            403,
            "approver_role_required",
        ),
        (
            "closing a break-glass review without the role",
            "inv2",
            "/v1/break-glass/bg-nope/close",
            json!({"note": "fine"}),
            403,
            "supervisor_role_required",
        ),
    ];
    // Two-person rule: the requester cannot approve their own request; an approval is bound to
    // the exact request and serves once.
    let search = json!({"name": "Karim", "case": "C1", "warrant": "W1", "purpose": "find the caller"});
    let ap = post(&fx, "inv1", "/v1/approvals", json!({"action": "name_search", "request": search}));
    assert_eq!(ap.status, 200, "{}", ap.body);
    let ap_id = ap.body["approval"].as_str().unwrap().to_string();
    let mut other = search.clone();
    other["name"] = json!("Salma");
    other["approval"] = json!(ap_id.clone());
    let mut with = search.clone();
    with["approval"] = json!(ap_id.clone());
    m.push((
        "name search with an approval not yet given",
        "inv1",
        "/v1/identity/search",
        with.clone(),
        403,
        "approval_required",
    ));
    let self_approve = format!("/v1/approvals/{ap_id}/approve");
    m.push((
        "approving one's own request",
        "inv1",
        "/v1/approvals/x/approve",
        json!({}),
        403,
        "approver_role_required",
    ));
    // sup1 approves; inv2 cannot use it; a changed request does not match it.
    for (name, who, path, body, status, reason) in &m {
        let r = post(&fx, who, path, body.clone());
        assert_eq!(r.status, *status, "{name}: {}", r.body);
        let e = last_entry(&fx);
        assert!(
            e.reasons.iter().any(|x| x == reason),
            "{name}: entry reasons {:?}, response {}",
            e.reasons,
            r.body
        );
        assert_eq!(e.status, *status, "{name}");
        assert!(matches!(e.decision.as_str(), "deny" | "reject"), "{name}");
        assert!(r.body["error"]["code"].as_str().is_some(), "{name}");
        assert!(r.body.get("record").is_none() && r.body.get("records").is_none(), "{name}: data leaked");
    }
    let mut count = m.len();
    // A supervisor of another unit may not vouch for ATU's request.
    let r = post(&fx, "suprab", &self_approve, json!({}));
    assert_eq!(
        (r.status, last_entry(&fx).reasons.clone()),
        (403, vec!["approver_of_other_unit".to_string()])
    );
    let r = post(&fx, "sup1", &self_approve, json!({}));
    assert_eq!(r.status, 200, "{}", r.body);
    // Given once: a second approver cannot rewrite who vouched for it.
    let r = post(&fx, "rev1", &self_approve, json!({}));
    assert_eq!((r.status, r.body["error"]["code"].as_str()), (422, Some("already_approved")), "{}", r.body);
    count += 2;
    let r = post(&fx, "inv1", "/v1/identity/search", other);
    assert_eq!((r.status, last_entry(&fx).reasons.clone()), (403, vec!["approval_required".to_string()]));
    let r = post(&fx, "inv1", "/v1/identity/search", with.clone());
    assert_eq!(r.status, 200, "{}", r.body);
    // Two real matches and one decoy row, in a keyed order.
    assert_eq!(r.body["records"].as_array().unwrap().len(), 3, "{}", r.body);
    assert_eq!(last_entry(&fx).count, 2);
    // The entry names the address the request came from.
    assert_eq!(last_entry(&fx).client, "127.0.0.1");
    let r = post(&fx, "inv1", "/v1/identity/search", with);
    assert_eq!(
        (r.status, last_entry(&fx).reasons.clone()),
        (403, vec!["approval_required".to_string()]),
        "reused approval"
    );
    count += 2;
    // Quota: the fourth routine check of the day is refused with 429.
    for _ in 0..3 {
        assert_eq!(
            post(&fx, "desk1", "/v1/identity/lookup", json!({"nid": "2345678901", "purpose": "verify"}))
                .status,
            200
        );
    }
    let r = post(&fx, "desk1", "/v1/identity/lookup", json!({"nid": "2345678901", "purpose": "verify"}));
    assert_eq!((r.status, last_entry(&fx).reasons.clone()), (429, vec!["quota_exceeded".to_string()]));
    count += 1;
    // Hours: at 23:00 local time data requests are refused.
    fx.clock.store(T + 13 * 3600, Ordering::SeqCst);
    let r = post(&fx, "inv1", "/v1/identity/lookup", lookup("C1", "W1", a));
    assert_eq!(r.status, 403);
    assert!(last_entry(&fx).reasons.contains(&"outside_hours".to_string()));
    fx.clock.store(T, Ordering::SeqCst);
    count += 1;
    // Approval expiry.
    let ap = post(&fx, "inv1", "/v1/approvals", json!({"action": "name_search", "request": search}));
    let id = ap.body["approval"].as_str().unwrap().to_string();
    assert_eq!(post(&fx, "sup1", &format!("/v1/approvals/{id}/approve"), json!({})).status, 200);
    fx.clock.store(T + 2 * 3600, Ordering::SeqCst);
    let mut exp = search.clone();
    exp["approval"] = json!(id);
    let r = post(&fx, "inv1", "/v1/identity/search", exp);
    assert_eq!(
        (r.status, last_entry(&fx).reasons.clone()),
        (403, vec!["approval_required".to_string()]),
        "expired approval"
    );
    fx.clock.store(T, Ordering::SeqCst);
    count += 1;
    // Credentials: none, malformed, forged, expired, revoked → 401, logged as unauthenticated.
    let before = fx.gw.log().committed().size;
    let body = lookup("C1", "W1", a).to_string();
    let mut unauth = 0;
    for tok in [
        None,
        Some("cst_forged0000000000000000000000000000000000000"),
        Some(fx.tokens["expired"].as_str()),
        Some(fx.tokens["revoked"].as_str()),
        Some("not-a-token"),
    ] {
        let r = call(&fx, "POST", "/v1/identity/lookup", tok, Some(&body), "application/json");
        assert_eq!(r.status, 401, "{tok:?}");
        assert_eq!(r.body["error"]["code"], "unauthenticated");
        unauth += 1;
    }
    let r =
        ureq::post(&format!("{}/v1/cdr/query", fx.base)).set("Authorization", "Basic abc").send_string("{}");
    assert!(matches!(r, Err(ureq::Error::Status(401, _))));
    unauth += 1;
    count += unauth;
    for _ in 0..100 {
        if fx.gw.log().committed().size >= before + unauth as u64 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let after = fx.gw.log().committed().size;
    let unauth_entries = (before..after)
        .filter(|i| {
            let e: AuditEntry = serde_json::from_slice(&fx.gw.log().entry(*i).unwrap().unwrap()).unwrap();
            // Each says from which address it came.
            e.action == "unauthenticated" && e.client == "127.0.0.1"
        })
        .count();
    assert_eq!(unauth_entries, unauth);
    // Entry bundles and alerts are not for investigators.
    let r = call(&fx, "GET", "/audit/tile/entries/000.p/1", Some(&fx.tokens["inv1"]), None, "");
    assert_eq!(r.status, 403);
    let r = call(&fx, "GET", "/v1/alerts", Some(&fx.tokens["inv1"]), None, "");
    assert_eq!((r.status, last_entry(&fx).reasons.clone()), (403, vec!["role_not_allowed".to_string()]));
    count += 2;
    // Suspension takes every role away, not only data access: a suspended reviewer issues no
    // warrant, a suspended auditor reads neither alerts nor entry bundles. Each attempt is
    // audited under their name with the reason.
    for who in ["rev1", "aud1"] {
        let mut o = fx.gw.registry().store().officers().unwrap().into_iter().find(|o| o.id == who).unwrap();
        o.status = "suspended".into();
        let r = post(&fx, "admin", "/v1/admin/officers", serde_json::to_value(&o).unwrap());
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let w = json!({"id": "WSUSP", "case": "C1", "subjects": ["1234567890"], "categories": ["identity"], "data_from": "0", "data_to": "1", "valid_from": T.to_string(), "valid_to": (T + DAY).to_string()});
    let r = post(&fx, "rev1", "/v1/warrants", w);
    assert_eq!(
        (r.status, last_entry(&fx).reasons.clone()),
        (403, vec!["officer_suspended".to_string()]),
        "{}",
        r.body
    );
    assert_eq!(last_entry(&fx).officer, "rev1");
    let r = call(&fx, "GET", "/v1/alerts", Some(&fx.tokens["aud1"]), None, "");
    assert_eq!(
        (r.status, last_entry(&fx).reasons.clone()),
        (403, vec!["officer_suspended".to_string()]),
        "{}",
        r.body
    );
    let r = call(&fx, "GET", "/audit/tile/entries/000.p/1", Some(&fx.tokens["aud1"]), None, "");
    assert_eq!(r.status, 403, "{}", r.body);
    count += 3;
    assert!(count >= 40, "only {count} forbidden scenarios");
}

#[test]
fn allowed_requests_return_minimised_fields_with_provable_receipts() {
    let fx = fixture(cfg());
    let r = post(&fx, "inv1", "/v1/identity/lookup", lookup("C1", "W1", "1234567890"));
    assert_eq!(r.status, 200, "{}", r.body);
    // A record is not for any cache to keep, nor for a browser to read as another type.
    let raw = ureq::post(&format!("{}/v1/identity/lookup", fx.base))
        .set("Authorization", &format!("Bearer {}", fx.tokens["inv1"]))
        .set("Content-Type", "application/json")
        .send_string(&lookup("C1", "W1", "1234567890").to_string())
        .unwrap();
    assert_eq!(raw.header("cache-control"), Some("no-store"));
    assert_eq!(raw.header("x-content-type-options"), Some("nosniff"));
    let mut keys: Vec<&str> = r.body["record"].as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "address", "district", "division", "dob", "father", "gender", "mother", "msisdns", "name_bn",
            "name_en", "nid", "upazila"
        ]
    );
    assert_eq!(r.body["record"]["name_bn"], "করিম রহমান");
    // The receipt is provable against the log.
    let rc = &r.body["receipt"];
    let (index, size) = (rc["index"].as_u64().unwrap(), rc["tree_size"].as_u64().unwrap());
    let leaf = custos_tlog::checkpoint::parse_hash(rc["leaf_hash"].as_str().unwrap()).unwrap();
    let (_, proof) = fx.gw.log().inclusion_proof(index, Some(size)).unwrap();
    custos_tlog::merkle::verify_inclusion(&leaf, index, size, &proof, &fx.gw.log().root_at(size).unwrap())
        .unwrap();
    let e = last_entry(&fx);
    assert_eq!(
        (e.decision.as_str(), e.count, e.officer.as_str(), e.case.as_str()),
        ("allow", 1, "inv1", "C1")
    );
    assert!(e.subjects[0].starts_with("c:") && e.records[0].starts_with("c:"));
    assert_eq!(e.purpose.len(), 16);
    // By mobile number, Bangla digits accepted.
    let r = post(
        &fx,
        "inv1",
        "/v1/identity/lookup",
        json!({"msisdn": "০১৭১১১১১১১১", "case": "C1", "warrant": "W1", "purpose": "x"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // A desk officer's routine check sees only the basic fields, and it is marked unexplained.
    let routine = |nid: &str| {
        post(&fx, "desk1", "/v1/identity/lookup", json!({"nid": nid, "purpose": "verifying an ID card"}))
    };
    let r = routine("19871234567890123");
    assert_eq!(r.status, 200, "{}", r.body);
    let mut keys: Vec<&str> = r.body["record"].as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["dob", "gender", "name_bn", "name_en", "nid"]);
    assert_eq!(last_entry(&fx).reasons, vec!["routine_unexplained".to_string()]);
    // The old 17-digit NID is the birth year and the 13-digit number: either form finds the
    // holder, whose record says the NID as it was registered, and both are one subject in
    // the audit log.
    let subject17 = last_entry(&fx).subjects.clone();
    let r13 = routine("1234567890123");
    assert_eq!(r13.status, 200, "{}", r13.body);
    assert_eq!(r13.body["record"]["nid"], "19871234567890123");
    assert_eq!(last_entry(&fx).subjects, subject17);
    // The entry says which field groups left.
    assert_eq!(last_entry(&fx).fields, vec!["basic".to_string()]);
    // The analyst's CDR query returns call records within the period, without location fields.
    let r = post(&fx, "an1", "/v1/cdr/query", cdr("C2", "W2", T - 10 * DAY, T));
    assert_eq!(r.status, 200, "{}", r.body);
    let recs = r.body["records"].as_array().unwrap();
    assert_eq!(recs.len(), 2);
    let mut keys: Vec<&str> = recs[0].as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["callee", "caller", "duration", "start", "type"]);
    assert_eq!(last_entry(&fx).count, 2);
    // Unknown subject: 404, audited.
    let r = post(&fx, "desk1", "/v1/identity/lookup", json!({"nid": "9999999999", "purpose": "verify"}));
    assert_eq!((r.status, r.body["error"]["code"].as_str().unwrap()), (404, "unknown_subject"));
    assert_eq!(last_entry(&fx).status, 404);
    // Break-glass: granted with a justification, opens a review, lets a warrant-less lookup
    // through, and a supervisor closes the review.
    let g = post(
        &fx,
        "inv1",
        "/v1/break-glass",
        json!({"case": "C1", "justification": "a kidnapping victim's phone must be located now", "minutes": 30}),
    );
    assert_eq!(g.status, 200, "{}", g.body);
    let r = post(
        &fx,
        "inv1",
        "/v1/identity/lookup",
        json!({"nid": "1234567890", "case": "C1", "purpose": "emergency"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let reviews = call(&fx, "GET", "/v1/break-glass/reviews", Some(&fx.tokens["sup1"]), None, "");
    assert_eq!(reviews.body["reviews"].as_array().unwrap().len(), 1);
    let id = g.body["grant"].as_str().unwrap();
    assert_eq!(
        post(&fx, "inv1", &format!("/v1/break-glass/{id}/close"), json!({"note": "mine"})).status,
        403
    );
    assert_eq!(
        post(&fx, "sup1", &format!("/v1/break-glass/{id}/close"), json!({"note": "justified: victim found"}))
            .status,
        200
    );
    // Closed once: the finding stands as written.
    let r = post(&fx, "sup1", &format!("/v1/break-glass/{id}/close"), json!({"note": "never mind"}));
    assert_eq!((r.status, r.body["error"]["code"].as_str()), (422, Some("already_closed")), "{}", r.body);
    assert!(
        r.body["error"]["message"].as_str().unwrap().contains("sup1: justified: victim found"),
        "{}",
        r.body
    );
    // A supervisor opens, updates and closes their own unit's cases.
    let case = json!({"id": "CSUP", "unit": "ATU", "officers": ["inv1"], "subjects": ["1234567890"]});
    assert_eq!(post(&fx, "sup1", "/v1/admin/cases", case.clone()).status, 200);
    let more = json!({"id": "CSUP", "unit": "ATU", "officers": ["inv1", "inv2"], "subjects": ["1234567890"]});
    assert_eq!(post(&fx, "sup1", "/v1/admin/cases", more).status, 200);
    let r = post(&fx, "sup1", "/v1/admin/cases/CSUP/close", json!({}));
    assert_eq!((r.status, &r.body["open"]), (200, &json!(false)), "{}", r.body);
    // Health, metrics and the OpenAPI document.
    assert_eq!(call(&fx, "GET", "/healthz", None, None, "").status, 200);
    let m = call(&fx, "GET", "/metrics", None, None, "");
    assert!(m.body.as_str().unwrap().contains("custos_requests_total{decision=\"allow\"}"));
    assert!(m.body.as_str().unwrap().contains("custos_audit_log_available 1"));
    // The connection asking is one of those open.
    let open: u64 = m
        .body
        .as_str()
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("custos_connections_open "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(open >= 1, "{}", m.body);
    assert!(m.body.as_str().unwrap().contains("custos_connections_refused_total "));
    let o = call(&fx, "GET", "/openapi.json", None, None, "");
    assert!(o.body["paths"]["/v1/identity/lookup"].is_object());
    assert!(o.body["paths"]["/v1/cdr/query"].is_object());
}

fn get(fx: &Fx, who: &str, path: &str) -> R {
    call(fx, "GET", path, Some(&fx.tokens[who]), None, "")
}

#[test]
fn an_approver_reads_the_exact_request_and_the_view_is_audited() {
    let fx = fixture(cfg());
    let search = json!({"name": "Karim Rahman", "case": "C1", "warrant": "W1", "purpose": "find the caller"});
    let ap = post(&fx, "inv1", "/v1/approvals", json!({"action": "name_search", "request": search}));
    assert_eq!(ap.status, 200, "{}", ap.body);
    let asked = last_entry(&fx);
    assert_eq!((asked.action.as_str(), asked.case.as_str()), ("approval_request", "C1"));
    assert_eq!(asked.subjects.len(), 1, "the request's subject, as a commitment");
    let id = ap.body["approval"].as_str().unwrap().to_string();
    let path = format!("/v1/approvals/{id}");

    // A supervisor of the requester's unit reads what they are asked to vouch for.
    let v = get(&fx, "sup1", &path);
    assert_eq!(v.status, 200, "{}", v.body);
    assert_eq!(v.body["request"], search);
    assert_eq!(v.body["action"], "name_search");
    assert_eq!(v.body["requester"], "inv1");
    assert_eq!(v.body["requester_unit"], "ATU");
    assert_eq!(v.body["status"], "pending");
    assert_eq!(v.body["request_hash"], ap.body["request_hash"]);
    let seen = last_entry(&fx);
    assert_eq!((seen.action.as_str(), seen.officer.as_str()), ("view_approval", "sup1"));
    assert_eq!((seen.decision.as_str(), seen.case.as_str()), ("allow", "C1"));
    assert_eq!(seen.subjects, asked.subjects, "the view is linked to the same subject");
    // So do reviewers and the requester; no one else.
    assert_eq!(get(&fx, "rev1", &path).status, 200);
    assert_eq!(get(&fx, "inv1", &path).status, 200);
    for who in ["suprab", "inv2", "an1", "aud1", "susp"] {
        let r = get(&fx, who, &path);
        assert_eq!(r.status, 403, "{who}: {}", r.body);
        assert!(r.body.get("request").is_none(), "{who}");
        let e = last_entry(&fx);
        assert_eq!((e.action.as_str(), e.decision.as_str()), ("view_approval", "deny"), "{who}");
    }
    let r = get(&fx, "sup1", "/v1/approvals/ap-nope");
    assert_eq!((r.status, r.body["error"]["code"].as_str()), (404, Some("not_found")));
    // The open approvals each may give (or asked for), without the requests themselves.
    let listed = |who: &str| {
        let r = get(&fx, who, "/v1/approvals");
        assert_eq!(r.status, 200, "{who}: {}", r.body);
        assert_eq!(last_entry(&fx).action, "view_approvals");
        r.body["approvals"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                assert!(a.get("request").is_none(), "{a}");
                (a["approval"].as_str().unwrap().to_string(), a["yours_to_give"].as_bool().unwrap())
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(listed("sup1"), [(id.clone(), true)]);
    assert_eq!(listed("rev1"), [(id.clone(), true)]);
    assert_eq!(listed("inv1"), [(id.clone(), false)], "one's own request, not one's to give");
    assert!(listed("suprab").is_empty(), "another unit's supervisor");
    assert!(listed("inv2").is_empty());

    // Approved, then used: the view follows.
    assert_eq!(post(&fx, "sup1", &format!("{path}/approve"), json!({})).status, 200);
    let v = get(&fx, "inv1", &path);
    assert_eq!((v.body["status"].as_str(), v.body["approver"].as_str()), (Some("approved"), Some("sup1")));
    let mut run = search.clone();
    run["approval"] = json!(id);
    assert_eq!(listed("rev1"), [(id.clone(), false)], "given already");
    assert_eq!(post(&fx, "inv1", "/v1/identity/search", run).status, 200);
    assert_eq!(get(&fx, "sup1", &path).body["status"], "used");
    assert!(listed("sup1").is_empty(), "a used approval is not open");

    // A call-record query's approval shows its number and period.
    let q = cdr("C1", "W1", T - 10 * DAY, T);
    let ap = post(&fx, "inv1", "/v1/approvals", json!({"action": "cdr_query", "request": q}));
    assert_eq!(ap.status, 200, "{}", ap.body);
    let v = get(&fx, "revatu", &format!("/v1/approvals/{}", ap.body["approval"].as_str().unwrap()));
    assert_eq!((v.status, &v.body["request"]), (200, &q));
    assert_eq!(v.body["action"], "cdr_query");

    // Only requests their endpoint would take can be approved.
    for (request, action, status, code) in [
        (json!({"name": "Karim", "case": "C1", "warrant": "W1"}), "name_search", 400, "invalid_body"),
        (
            json!({"name": "Karim", "case": "C1", "warrant": "W1", "purpose": "p", "limit": 5}),
            "name_search",
            400,
            "invalid_body",
        ),
        (
            json!({"name": "K", "case": "C1", "warrant": "W1", "purpose": "p"}),
            "name_search",
            422,
            "invalid_name",
        ),
        (
            json!({"msisdn": "12345", "from": "0", "to": "1", "case": "C1", "warrant": "W1", "purpose": "p"}),
            "cdr_query",
            422,
            "invalid_msisdn",
        ),
        (
            json!({"msisdn": "01711111111", "from": "last week", "to": "1", "case": "C1", "warrant": "W1", "purpose": "p"}),
            "cdr_query",
            422,
            "invalid_period",
        ),
        (search.clone(), "cdr_query", 400, "invalid_body"),
    ] {
        let before = fx.gw.log().committed().size;
        let r = post(&fx, "inv1", "/v1/approvals", json!({"action": action, "request": request}));
        assert_eq!(
            (r.status, r.body["error"]["code"].as_str()),
            (status, Some(code)),
            "{request}: {}",
            r.body
        );
        assert_eq!(fx.gw.log().committed().size, before + 1, "{request}: audited once");
        assert_eq!(last_entry(&fx).decision, "reject");
    }
}

#[test]
fn fail_closed_when_the_log_cannot_be_written() {
    let fx = fixture(cfg());
    assert_eq!(post(&fx, "inv1", "/v1/identity/lookup", lookup("C1", "W1", "1234567890")).status, 200);
    let size = fx.gw.log().committed().size;
    fx.gw.log().halt("disk full (test)");
    for (who, path, body) in [
        ("inv1", "/v1/identity/lookup", lookup("C1", "W1", "1234567890")),
        ("an1", "/v1/cdr/query", cdr("C2", "W2", T - 10 * DAY, T)),
        ("desk1", "/v1/identity/lookup", json!({"nid": "2345678901", "purpose": "verify"})),
        ("inv2", "/v1/identity/lookup", lookup("C1", "W1", "1234567890")),
    ] {
        let r = post(&fx, who, path, body);
        assert_eq!(r.status, 503, "{}", r.body);
        assert_eq!(r.body["error"]["code"], "audit_unavailable");
        assert!(r.body.get("record").is_none() && r.body.get("records").is_none());
        let text = r.body.to_string();
        assert!(!text.contains("Karim") && !text.contains("8801711111111"), "{text}");
    }
    // Nor is any change made whose entry cannot be written: administration, approvals,
    // break-glass, triage and leak findings are audited before they are stored.
    let stored = || {
        let st = fx.gw.registry().store();
        (
            st.officers().unwrap().len(),
            st.cases().unwrap(),
            st.warrants().unwrap(),
            st.credentials().unwrap().len(),
            st.break_glasses().unwrap().len(),
        )
    };
    let before = stored();
    for (who, path, body) in [
        (
            "admin",
            "/v1/admin/officers",
            json!({"id": "ofail", "name": "F", "unit": "ATU", "rank": "", "roles": ["investigator"], "status": "active"}),
        ),
        ("admin", "/v1/admin/tokens", json!({"officer": "inv1"})),
        (
            "admin",
            "/v1/admin/cases",
            json!({"id": "CFAIL", "unit": "ATU", "officers": ["inv1"], "subjects": []}),
        ),
        ("sup1", "/v1/admin/cases/C1/close", json!({})),
        (
            "rev1",
            "/v1/warrants",
            json!({"id": "WFAIL", "case": "C1", "subjects": ["1234567890"], "categories": ["identity"], "data_from": "0", "data_to": "1", "valid_from": T.to_string(), "valid_to": (T + DAY).to_string()}),
        ),
        ("rev1", "/v1/warrants/W1/revoke", json!({})),
        (
            "inv1",
            "/v1/break-glass",
            json!({"case": "C1", "justification": "a kidnapping victim's phone must be located now", "minutes": 30}),
        ),
    ] {
        let r = post(&fx, who, path, body);
        assert_eq!(
            (r.status, r.body["error"]["code"].as_str()),
            (503, Some("audit_unavailable")),
            "{path}: {}",
            r.body
        );
    }
    assert_eq!(stored(), before);
    assert_eq!(fx.gw.log().committed().size, size);
    // Health says so (a load balancer stops sending requests here), without the reason's
    // detail; the metrics' gauge too.
    let h = call(&fx, "GET", "/healthz", None, None, "");
    assert_eq!((h.status, h.body["status"].as_str()), (503, Some("audit_unavailable")), "{}", h.body);
    assert!(!h.body.to_string().contains("disk full"), "{}", h.body);
    let m = call(&fx, "GET", "/metrics", None, None, "");
    assert!(m.body.as_str().unwrap_or_default().contains("custos_audit_log_available 0"), "{}", m.body);
}

fn all_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.display().to_string(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out
}

#[test]
fn nothing_is_stored_in_plaintext() {
    let fx = fixture(cfg());
    assert_eq!(post(&fx, "inv1", "/v1/identity/lookup", lookup("C1", "W1", "1234567890")).status, 200);
    assert_eq!(post(&fx, "an1", "/v1/cdr/query", cdr("C2", "W2", T - 10 * DAY, T)).status, 200);
    // Requests waiting for approval are kept for the approver to read, sealed.
    let search = json!({"name": "Salma Karim", "case": "C1", "warrant": "W1", "purpose": "p"});
    let ap = post(&fx, "inv1", "/v1/approvals", json!({"action": "name_search", "request": search}));
    assert_eq!(ap.status, 200, "{}", ap.body);
    let q = cdr("C1", "W1", T - 10 * DAY, T);
    assert_eq!(post(&fx, "inv1", "/v1/approvals", json!({"action": "cdr_query", "request": q})).status, 200);
    let needles: Vec<Vec<u8>> = [
        "1234567890",
        "2345678901",
        "19871234567890123",
        "8801711111111",
        "01711111111",
        "8801822222222",
        "Karim",
        "Salma",
        "Rahman",
        "করিম",
        "সালমা",
        "Father of",
        "House 12",
        "356938035643809",
        "470-01-1234",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let files = all_bytes(&fx.dir);
    assert!(files.iter().any(|(p, _)| p.ends_with("custos.db")));
    for (path, bytes) in &files {
        for n in &needles {
            assert!(
                !bytes.windows(n.len()).any(|w| w == n.as_slice()),
                "`{}` found in {path}",
                String::from_utf8_lossy(n)
            );
        }
    }
}

#[test]
fn bad_input_gets_4xx_and_the_server_keeps_serving() {
    let fx = fixture(cfg());
    let t = fx.tokens["inv1"].clone();
    let before = fx.gw.log().committed().size;
    let cases: Vec<(&str, String, &str, u16, &str)> = vec![
        ("/v1/identity/lookup", "{not json".into(), "application/json", 400, "malformed_json"),
        ("/v1/identity/lookup", "[1,2,3]".into(), "application/json", 400, "malformed_json"),
        ("/v1/identity/lookup", r#"{"nid": 1234567890, "purpose": "x"}"#.into(), "application/json", 400, "invalid_body"),
        ("/v1/identity/lookup", r#"{"nid": "1234567890", "purpose": "x", "extra": true}"#.into(), "application/json", 400, "invalid_body"),
        ("/v1/cdr/query", r#"{"msisdn": "01711111111"}"#.into(), "application/json", 400, "invalid_body"),
        ("/v1/identity/lookup", format!(r#"{{"nid": "{}", "purpose": "x"}}"#, "9".repeat(100_000)), "application/json", 413, "too_large"),
        ("/v1/identity/lookup", r#"{"nid": "1234567890", "purpose": "x"}"#.into(), "text/plain", 415, "unsupported_media_type"),
        ("/v1/identity/lookup", r#"{"nid": "12345\u202e67890", "case": "C1", "warrant": "W1", "purpose": "x"}"#.into(), "application/json", 422, "invalid_nid"),
        ("/v1/identity/lookup", r#"{"nid": "123\u0000", "case": "C1", "warrant": "W1", "purpose": "x"}"#.into(), "application/json", 422, "invalid_nid"),
        ("/v1/identity/lookup", r#"{"nid": "1234567890", "msisdn": "01711111111", "case": "C1", "warrant": "W1", "purpose": "x"}"#.into(), "application/json", 422, "one_identifier"),
        ("/v1/identity/lookup", r#"{"msisdn": "01211111111", "case": "C1", "warrant": "W1", "purpose": "x"}"#.into(), "application/json", 422, "invalid_msisdn"),
        ("/v1/cdr/query", r#"{"msisdn": "01711111111", "from": "yesterday", "to": "now", "case": "C1", "warrant": "W1", "purpose": "x"}"#.into(), "application/json", 422, "invalid_period"),
        ("/v1/identity/search", r#"{"name": "'; DROP TABLE citizens; --", "case": "C1", "warrant": "W1", "purpose": "x"}"#.into(), "application/json", 403, "denied"),
        ("/v1/identity/search", r#"{"name": "!", "case": "C1", "warrant": "W1", "purpose": "x"}"#.into(), "application/json", 422, "invalid_name"),
    ];
    for (path, body, ct, status, code) in &cases {
        let r = call(&fx, "POST", path, Some(&t), Some(body), ct);
        assert_eq!(r.status, *status, "{path} {}: {}", &body.chars().take(60).collect::<String>(), r.body);
        assert_eq!(r.body["error"]["code"], *code, "{}", r.body);
        assert!(r.body["error"]["message"].as_str().is_some());
    }
    // Every one was audited, exactly once.
    assert_eq!(fx.gw.log().committed().size, before + cases.len() as u64);
    // Unknown routes are a JSON 404, and a method a route does not take a JSON 405, audited
    // for a caller with a credential; the server still answers.
    let before = fx.gw.log().committed().size;
    let r = call(&fx, "GET", "/v1/nope", Some(&t), None, "");
    assert_eq!((r.status, r.body["error"]["code"].as_str()), (404, Some("not_found")));
    assert_eq!((last_entry(&fx).action.as_str(), last_entry(&fx).status), ("unknown_endpoint", 404));
    for (method, path) in [("GET", "/v1/identity/lookup"), ("DELETE", "/v1/alerts")] {
        let r = call(&fx, method, path, Some(&t), None, "");
        assert_eq!(
            (r.status, r.body["error"]["code"].as_str()),
            (405, Some("method_not_allowed")),
            "{method} {path}"
        );
        assert_eq!((last_entry(&fx).action.as_str(), last_entry(&fx).status), ("method_not_allowed", 405));
    }
    assert_eq!(fx.gw.log().committed().size, before + 3);
    // Without a credential: answered, not audited; the public log's routes answer the same.
    for (method, path, status) in
        [("GET", "/v1/nope", 404), ("PUT", "/v1/cdr/query", 405), ("POST", "/audit/checkpoint", 405)]
    {
        let r = call(&fx, method, path, None, None, "");
        assert_eq!(r.status, status, "{method} {path}: {}", r.body);
        assert!(r.body["error"]["code"].is_string(), "{}", r.body);
    }
    assert_eq!(fx.gw.log().committed().size, before + 3);
    // Administration bodies are checked as strictly: IDs that would corrupt logs and exports,
    // missing names, and wrong types or unknown fields in a token request.
    let admin = [
        (
            "/v1/admin/officers",
            json!({"id": "o\u{0}x", "name": "A", "unit": "ATU", "rank": "", "roles": [], "status": "active"}),
            422,
            "invalid_id",
        ),
        (
            "/v1/admin/officers",
            json!({"id": "o 1\n", "name": "A", "unit": "ATU", "rank": "", "roles": [], "status": "active"}),
            422,
            "invalid_id",
        ),
        (
            "/v1/admin/officers",
            json!({"id": "o2", "name": " ", "unit": "", "rank": "", "roles": [], "status": "active"}),
            422,
            "invalid_officer",
        ),
        // The names of the admin credentials' and citizens' principals: an officer so named
        // would share their trail and lend them an officer's roles.
        (
            "/v1/admin/officers",
            json!({"id": "admin", "name": "A", "unit": "ATU", "rank": "", "roles": ["investigator"], "status": "active"}),
            422,
            "reserved_id",
        ),
        (
            "/v1/admin/officers",
            json!({"id": "Citizen", "name": "A", "unit": "ATU", "rank": "", "roles": [], "status": "active"}),
            422,
            "reserved_id",
        ),
        (
            "/v1/admin/cases",
            json!({"id": "C\tX", "unit": "ATU", "officers": [], "subjects": []}),
            422,
            "invalid_id",
        ),
        ("/v1/admin/tokens", json!({"officer": "inv1", "expires_in_days": "7"}), 400, "invalid_body"),
        ("/v1/admin/tokens", json!({"officer": "inv1", "bogus": 1}), 400, "invalid_body"),
        ("/v1/admin/tokens", json!({"officer": "inv1", "admin": true}), 422, "invalid_token_request"),
    ];
    for (path, body, status, code) in admin {
        let r = post(&fx, "admin", path, body.clone());
        assert_eq!(
            (r.status, r.body["error"]["code"].as_str()),
            (status, Some(code)),
            "{path} {body}: {}",
            r.body
        );
    }
    assert_eq!(post(&fx, "inv1", "/v1/identity/lookup", lookup("C1", "W1", "1234567890")).status, 200);
}

#[test]
fn a_body_that_does_not_arrive_in_time_is_a_408_and_audited() {
    use std::io::{Read, Write};
    let fx = fixture(GatewayConfig { body_timeout: std::time::Duration::from_secs(1), ..cfg() });
    let before = fx.gw.log().committed().size;
    let addr = fx.base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    // Headers promising 100 bytes, then 10 of them, then nothing.
    write!(
        s,
        "POST /v1/identity/lookup HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"nid\": \"1",
        fx.tokens["inv1"]
    )
    .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains("}}") {
        let n = s.read(&mut buf).expect("an answer before the client's own timeout");
        assert!(n > 0, "closed without an answer: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("\"code\":\"request_timeout\""), "{text}");
    assert_eq!(fx.gw.log().committed().size, before + 1, "the attempt is audited");
    let e = last_entry(&fx);
    assert_eq!((e.officer.as_str(), e.status, e.decision.as_str()), ("inv1", 408, "reject"));
}

#[test]
fn malformed_path_parameters_get_a_json_400_and_are_audited() {
    let fx = fixture(cfg());
    let before = fx.gw.log().committed().size;
    // Not UTF-8 once percent-decoded, or not a number where one is due: bad input like any
    // other, in JSON, and one audit entry each for a signed-in caller.
    let cases = [
        ("GET", "/v1/officers/%FF/risk", "aud1"),
        ("GET", "/v1/officers/%C3%28", "aud1"),
        ("GET", "/v1/leaks/%FF", "aud1"),
        ("GET", "/v1/citizens/me/accesses/-1/proof", "aud1"),
        ("GET", "/v1/citizens/me/accesses/18446744073709551616/proof", "aud1"),
        ("GET", "/v1/approvals/%FF", "sup1"),
        ("POST", "/v1/approvals/%FF/approve", "sup1"),
        ("POST", "/v1/alerts/%FF/triage", "aud1"),
    ];
    for (method, path, who) in cases {
        let body = (method == "POST").then_some("{}");
        let r = call(&fx, method, path, Some(&fx.tokens[who]), body, "application/json");
        assert_eq!(
            (r.status, r.body["error"]["code"].as_str()),
            (400, Some("invalid_path")),
            "{path}: {}",
            r.body
        );
        let message = r.body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.starts_with("malformed path parameter: "), "{message}");
        assert_eq!(last_entry(&fx).status, 400, "{path}");
    }
    assert_eq!(fx.gw.log().committed().size, before + cases.len() as u64);
    // Without a credential it is the missing credential that is answered.
    let r = call(&fx, "GET", "/v1/officers/%FF/risk", None, None, "");
    assert_eq!(r.status, 401, "{}", r.body);
    // The public tiles and the pages' assets answer in JSON too.
    for path in ["/audit/tile/0/%FF", "/ui/%FF"] {
        let r = call(&fx, "GET", path, None, None, "");
        assert_eq!(
            (r.status, r.body["error"]["code"].as_str()),
            (400, Some("invalid_path")),
            "{path}: {}",
            r.body
        );
    }
    assert_eq!(post(&fx, "inv1", "/v1/identity/lookup", lookup("C1", "W1", "1234567890")).status, 200);
}

#[test]
fn concurrent_requests_each_leave_exactly_one_entry() {
    let fx =
        fixture(GatewayConfig { unauth_per_sec: 1000, quota_identity: 100_000, ..GatewayConfig::default() });
    let before = fx.gw.log().committed().size;
    let threads = 8;
    let per = 25;
    let ok = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for k in 0..threads {
            let fx = &fx;
            let ok = &ok;
            s.spawn(move || {
                for i in 0..per {
                    let (who, body) = if (k + i) % 3 == 0 {
                        ("inv2", lookup("C1", "W1", "1234567890")) // denied
                    } else {
                        ("inv1", lookup("C1", "W1", "1234567890"))
                    };
                    let r = post(fx, who, "/v1/identity/lookup", body);
                    assert!(matches!(r.status, 200 | 403), "{}", r.body);
                    if r.status == 200 {
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    assert_eq!(fx.gw.log().committed().size, before + (threads * per) as u64);
    assert!(ok.load(Ordering::Relaxed) > 0);
}

#[test]
fn uploaded_leaks_are_traced_and_kept_without_plaintext() {
    let fx = fixture(cfg());
    assert_eq!(post(&fx, "inv1", "/v1/identity/lookup", lookup("C1", "W1", "1234567890")).status, 200);
    assert_eq!(
        post(&fx, "desk1", "/v1/identity/lookup", json!({"nid": "2345678901", "purpose": "verify"})).status,
        200
    );
    // An allowed call-record query that found no calls released nothing about the number:
    // its leak says nothing about the officer who asked.
    let none = post(&fx, "inv1", "/v1/cdr/query", cdr("C1", "W1", T - 25 * DAY, T - 20 * DAY));
    assert_eq!(none.status, 200, "{}", none.body);
    assert_eq!(none.body["records"].as_array().unwrap().len(), 0);
    let export = format!(
        r#"{{"name": "bazar", "type": "public_channel", "id": 9, "messages": [
          {{"id": 1, "type": "message", "date_unixtime": "{}", "text": ["NID ", {{"type": "bold", "text": "1234567890"}}, " \x07"]}},
          {{"id": 2, "type": "message", "date_unixtime": "{}", "text": "and 2345678901, random 01799999999, calls of 01711111111"}}]}}"#,
        T + 3600,
        T + 3600
    );
    let t = fx.tokens["aud1"].clone();
    let r = call(&fx, "POST", "/v1/leaks", Some(&t), Some(&export), "application/json");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["matched_subjects"], 2);
    let officers: Vec<&str> =
        r.body["suspects"].as_array().unwrap().iter().map(|s| s["officer"].as_str().unwrap()).collect();
    assert_eq!(officers.len(), 2);
    assert!(officers.contains(&"inv1") && officers.contains(&"desk1"));
    assert_eq!(r.body["found"].as_array().unwrap().len(), 4);
    let id = r.body["leak"].as_str().unwrap().to_string();
    // The kept finding holds commitments, not the identifiers.
    let kept = call(&fx, "GET", &format!("/v1/leaks/{id}"), Some(&t), None, "");
    assert_eq!(kept.status, 200, "{}", kept.body);
    assert!(!kept.body.to_string().contains("1234567890"));
    assert_eq!(kept.body["matched_subjects"], 2);
    // Not for investigators; not without JSON/HTML/text.
    let r = call(&fx, "POST", "/v1/leaks", Some(&fx.tokens["inv1"]), Some(&export), "application/json");
    assert_eq!((r.status, last_entry(&fx).reasons.clone()), (403, vec!["role_not_allowed".to_string()]));
    let r = call(&fx, "POST", "/v1/leaks", Some(&t), Some("x"), "image/png");
    assert_eq!(r.status, 415);
    // A JSON file that is not an export is refused, not kept as a finding of nothing.
    let before = fx.gw.log().committed().size;
    for not_an_export in [r#"{}"#, r#"{"name": "bazar", "messages": []}"#, r#"{"messages": [1, "#] {
        let r = call(&fx, "POST", "/v1/leaks", Some(&t), Some(not_an_export), "application/json");
        assert_eq!((r.status, r.body["error"]["code"].as_str()), (422, Some("no_messages")), "{}", r.body);
        assert_eq!((last_entry(&fx).action.as_str(), last_entry(&fx).status), ("leak_trace", 422));
    }
    assert_eq!(fx.gw.log().committed().size, before + 3);
    assert_eq!(call(&fx, "GET", "/v1/leaks/leak-nope", Some(&t), None, "").status, 404);
}

#[test]
fn traceable_copies_name_the_recipient() {
    let fx = fixture(cfg());
    // A name search hands out a decoy row; posting it names the searcher.
    let search = json!({"name": "Karim", "case": "C1", "warrant": "W1", "purpose": "find the caller"});
    let ap = post(&fx, "inv1", "/v1/approvals", json!({"action": "name_search", "request": search}));
    let id = ap.body["approval"].as_str().unwrap().to_string();
    assert_eq!(post(&fx, "sup1", &format!("/v1/approvals/{id}/approve"), json!({})).status, 200);
    let mut with = search.clone();
    with["approval"] = json!(id);
    let r = post(&fx, "inv1", "/v1/identity/search", with);
    assert_eq!(r.status, 200, "{}", r.body);
    let real = ["1234567890", "19871234567890123"];
    let decoy = r.body["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["nid"].as_str().unwrap().to_string())
        .find(|n| !real.contains(&n.as_str()))
        .unwrap();
    // A full identity record as inv1 received it, pasted as text.
    let full = post(&fx, "inv1", "/v1/identity/lookup", lookup("C1", "W1", "1234567890"));
    let rec = &full.body["record"];
    assert_eq!(
        post(&fx, "desk1", "/v1/identity/lookup", json!({"nid": "1234567890", "purpose": "verify"})).status,
        200
    );
    let pasted = format!(
        "NID {} Name {} Father {} Mother {} Address {}",
        rec["nid"].as_str().unwrap(),
        rec["name_en"].as_str().unwrap(),
        rec["father"].as_str().unwrap(),
        rec["mother"].as_str().unwrap(),
        rec["address"].as_str().unwrap()
    );
    let export = format!(
        r#"{{"name": "bazar", "type": "public_channel", "id": 9, "messages": [
          {{"id": 1, "type": "message", "date_unixtime": "{t}", "text": "fresh: {decoy}"}},
          {{"id": 2, "type": "message", "date_unixtime": "{t}", "text": "{pasted}"}}]}}"#,
        t = T + 3600
    );
    let r = call(&fx, "POST", "/v1/leaks", Some(&fx.tokens["aud1"]), Some(&export), "application/json");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["suspects"][0]["officer"], "inv1", "{}", r.body);
    let marks = r.body["marks"].as_array().unwrap();
    assert_eq!(marks[0]["officer"], "inv1", "{}", r.body);
    assert_eq!(marks[0]["disagree"], 0);
    assert!(marks[0]["agree"].as_i64().unwrap() >= 4);
    // The desk officer saw the name alone: only its rendering can count for or against it.
    let desk = marks.iter().find(|m| m["officer"] == "desk1").unwrap();
    assert!(desk["agree"].as_i64().unwrap() + desk["disagree"].as_i64().unwrap() <= 1, "{}", r.body);
}
