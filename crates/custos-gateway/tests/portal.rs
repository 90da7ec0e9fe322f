//! The oversight dashboard's API and the citizens' report: role separation, alert triage,
//! the covert delay, one-time-code abuse, inclusion proofs, the transparency report, and 401
//! for anonymous requests to every API endpoint but health, metrics and the log's tiles.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code")]

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use custos_gateway::citizen::OtpSender;
use custos_gateway::{Gateway, GatewayConfig};
use custos_logstore::{LogStore, Options};
use custos_policy::Policy;
use custos_server::audit::AuditState;
use custos_store::sqlite::SqliteStore;
use custos_store::{Case, Citizen, LocalKek, Officer, Registry, Warrant};
use serde_json::{json, Value};

const T: i64 = 1_773_115_200; // 2026-03-10T04:00:00Z
const DAY: i64 = 86_400;
const NID: &str = "1234567890";
const NID2: &str = "2345678901";

#[derive(Default)]
struct Outbox(Mutex<Vec<(String, String)>>);

struct Sender(Arc<Outbox>);
impl OtpSender for Sender {
    fn send(&self, msisdn: &str, code: &str) -> Result<(), String> {
        self.0 .0.lock().unwrap().push((msisdn.into(), code.into()));
        Ok(())
    }
}

struct Fx {
    _d: tempfile::TempDir,
    gw: Arc<Gateway>,
    clock: Arc<AtomicI64>,
    base: String,
    tokens: HashMap<&'static str, String>,
    outbox: Arc<Outbox>,
    _rt: tokio::runtime::Runtime,
}

fn citizen(nid: &str, name: &str, msisdn: &str) -> Citizen {
    Citizen {
        nid: nid.into(),
        name_en: name.into(),
        name_bn: "নাম".into(),
        dob: "1990-01-01".into(),
        msisdns: vec![msisdn.into()],
        ..Citizen::default()
    }
}

fn officer(id: &str, unit: &str, roles: &[&str]) -> Officer {
    Officer {
        id: id.into(),
        name: format!("Officer {id}"),
        unit: unit.into(),
        rank: "SI".into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        status: "active".into(),
    }
}

fn fixture() -> Fx {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().to_path_buf();
    LogStore::init(&dir, "custos.test/audit").unwrap();
    let reg = Registry::init(
        Box::new(SqliteStore::open(&dir.join("custos.db")).unwrap()),
        &LocalKek::from_bytes([9; 32]),
    )
    .unwrap();
    reg.add_citizens(&[
        citizen(NID, "Karim Rahman", "8801711111111"),
        citizen(NID2, "Salma Begum", "8801822222222"),
    ])
    .unwrap();
    let st = reg.store();
    for o in [
        officer("inv1", "ATU", &["investigator"]),
        officer("inv9", "RAB-1", &["investigator"]),
        officer("desk1", "DP-Sylhet", &["desk"]),
        officer("sup1", "ATU", &["supervisor"]),
        officer("sup9", "RAB-1", &["supervisor"]),
        officer("rev1", "COURT", &["reviewer"]),
        officer("aud1", "OVERSIGHT", &["auditor"]),
    ] {
        st.put_officer(&o).unwrap();
    }
    let bi = |k: &str, v: &str| reg.vault().blind(k, v);
    let subjects = vec![bi("nid", NID), bi("nid", NID2)];
    for (id, covert) in [("COPEN", false), ("CCOVERT", true)] {
        st.put_case(&Case {
            id: id.into(),
            unit: "ATU".into(),
            officers: vec!["inv1".into()],
            subjects: subjects.clone(),
            open: true,
            covert,
        })
        .unwrap();
        st.put_warrant(&Warrant {
            id: format!("W-{id}"),
            case: id.into(),
            issuer: "rev1".into(),
            subjects: subjects.clone(),
            categories: vec!["identity".into()],
            data_from: T - 30 * DAY,
            data_to: T,
            valid_from: T - DAY,
            valid_to: T + 3 * DAY,
            status: "active".into(),
        })
        .unwrap();
    }
    start(d, reg, true)
}

/// The gateway and its server over the data directory `d`, as `custos serve` starts them
/// (with `fresh`, also the tokens of every officer).
fn start(d: tempfile::TempDir, reg: Registry, fresh: bool) -> Fx {
    let dir = d.path().to_path_buf();
    let log = LogStore::open(&dir, Options::default()).unwrap();
    let clock = Arc::new(AtomicI64::new(T));
    let c2 = clock.clone();
    let outbox = Arc::new(Outbox::default());
    let gw = Arc::new(
        Gateway::new(reg, Policy::default_policy().unwrap(), log, GatewayConfig::default())
            .unwrap()
            .with_clock(move || c2.load(Ordering::SeqCst))
            .with_data_dir(&dir)
            .with_otp_sender(Box::new(Sender(outbox.clone()))),
    );
    let mut tokens = HashMap::new();
    if fresh {
        for who in ["inv1", "inv9", "desk1", "sup1", "sup9", "rev1", "aud1"] {
            tokens.insert(who, gw.issue_token(who, false, Some(T + 90 * DAY)).unwrap().0);
        }
        tokens.insert("admin", gw.issue_token("admin", true, None).unwrap().0);
    }
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let auth: Arc<dyn custos_server::auth::Authenticate> = gw.clone();
    let router = custos_gateway::http::router(gw.clone()).merge(custos_server::audit::router(AuditState {
        log: gw.log().clone(),
        auth,
        published: Arc::new(std::sync::RwLock::new(None)),
    }));
    let addr = rt.block_on(async {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let a = l.local_addr().unwrap();
        tokio::spawn(custos_server::serve_listener(l, router, std::future::pending()));
        a
    });
    Fx { _d: d, gw, clock, base: format!("http://{addr}"), tokens, outbox, _rt: rt }
}

/// Stop the server and start it again over the same data directory: what the gateway knows
/// of the log's past it rebuilds from the log.
fn restart(fx: Fx) -> Fx {
    let Fx { _d: d, gw, tokens, _rt: rt, .. } = fx;
    rt.shutdown_timeout(std::time::Duration::from_secs(10));
    // The server's tasks are gone with the runtime; the last handle lets the log's lock go.
    let gw = Arc::into_inner(gw).expect("the stopped server holds no handle to the gateway");
    drop(gw);
    let reg = Registry::open(
        Box::new(SqliteStore::open(&d.path().join("custos.db")).unwrap()),
        &LocalKek::from_bytes([9; 32]),
    )
    .unwrap();
    Fx { tokens, ..start(d, reg, false) }
}

fn call(fx: &Fx, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
    let mut req = ureq::request(method, &format!("{}{path}", fx.base));
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    let res = match body {
        Some(b) => req.set("Content-Type", "application/json").send_string(&b.to_string()),
        None => req.call(),
    };
    let resp = match res {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{e}"),
    };
    let status = resp.status();
    let text = resp.into_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn as_who(fx: &Fx, who: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    call(fx, method, path, Some(fx.tokens[who].as_str()), body)
}

fn lookup(fx: &Fx, nid: &str, case: &str) -> u16 {
    let body = json!({"nid": nid, "case": case, "warrant": format!("W-{case}"), "purpose": "investigation"});
    as_who(fx, "inv1", "POST", "/v1/identity/lookup", Some(body)).0
}

/// Ask for a code and read it from the outbox.
fn code_for(fx: &Fx, nid: &str) -> String {
    let (s, v) = call(fx, "POST", "/v1/citizens/otp", None, Some(json!({"nid": nid})));
    assert_eq!(s, 200, "{v}");
    fx.outbox.0.lock().unwrap().last().unwrap().1.clone()
}

fn sign_in(fx: &Fx, nid: &str) -> String {
    let code = code_for(fx, nid);
    let (s, v) = call(fx, "POST", "/v1/citizens/session", None, Some(json!({"nid": nid, "code": code})));
    assert_eq!(s, 200, "{v}");
    v["token"].as_str().unwrap().to_string()
}

/// Make officer `inv9` (RAB-1) and `inv1` (ATU) raise alerts: routine checks of a honeytoken.
fn raise_alerts(fx: &Fx) {
    fx.gw.add_watch(&[(NID2.to_string(), custos_detect::input::WatchLabel::Honeytoken)]).unwrap();
    for who in ["inv9", "inv1"] {
        let (s, v) =
            as_who(fx, who, "POST", "/v1/identity/lookup", Some(json!({"nid": NID2, "purpose": "routine"})));
        assert_eq!(s, 200, "{v}");
    }
}

#[test]
fn roles_see_what_they_may_and_triage_is_audited() {
    let fx = fixture();
    raise_alerts(&fx);
    // Auditors see every alert; supervisors only their unit's; others nothing.
    let (s, all) = as_who(&fx, "aud1", "GET", "/v1/alerts", None);
    assert_eq!(s, 200);
    let officers: Vec<&str> =
        all["alerts"].as_array().unwrap().iter().map(|a| a["officer"].as_str().unwrap()).collect();
    assert!(officers.contains(&"inv1") && officers.contains(&"inv9"), "{officers:?}");
    let (_, atu) = as_who(&fx, "sup1", "GET", "/v1/alerts", None);
    assert!(atu["alerts"].as_array().unwrap().iter().all(|a| a["unit"] == "ATU"));
    assert!(!atu["alerts"].as_array().unwrap().is_empty());
    for who in ["desk1", "inv1", "rev1"] {
        assert_eq!(as_who(&fx, who, "GET", "/v1/alerts", None).0, 403, "{who}");
    }
    // An officer's page: a supervisor of another unit may not open it.
    assert_eq!(as_who(&fx, "sup9", "GET", "/v1/officers/inv1", None).0, 403);
    let (s, page) = as_who(&fx, "sup1", "GET", "/v1/officers/inv1", None);
    assert_eq!(s, 200);
    assert_eq!(page["days"].as_array().unwrap().len(), 1, "{page}");
    assert!(page["days"][0]["allowed"].as_u64().unwrap() >= 1);
    assert!(!page["alerts"].as_array().unwrap().is_empty());
    // The views never carry a citizen's data.
    for path in ["/v1/alerts", "/v1/officers/inv1", "/v1/cases", "/v1/transparency"] {
        let (_, v) = as_who(&fx, "aud1", "GET", path, None);
        let text = v.to_string();
        assert!(!text.contains(NID) && !text.contains("Karim") && !text.contains("Salma"), "{path}: {text}");
    }

    // Triage: closing needs a note; supervisors only in their unit; every action audited.
    let id = all["alerts"].as_array().unwrap().iter().find(|a| a["officer"] == "inv9").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/v1/alerts/{id}/triage");
    assert_eq!(as_who(&fx, "aud1", "POST", &path, Some(json!({"action": "close_abuse"}))).0, 422);
    assert_eq!(as_who(&fx, "aud1", "POST", &path, Some(json!({"action": "delete"}))).0, 422);
    assert_eq!(as_who(&fx, "sup1", "POST", &path, Some(json!({"action": "acknowledge"}))).0, 403);
    assert_eq!(as_who(&fx, "desk1", "POST", &path, Some(json!({"action": "acknowledge"}))).0, 403);
    let before = fx.gw.log().committed().size;
    let (s, v) = as_who(&fx, "sup9", "POST", &path, Some(json!({"action": "escalate"})));
    assert_eq!((s, v["state"].as_str()), (200, Some("escalated")));
    let (s, _) =
        as_who(&fx, "aud1", "POST", &path, Some(json!({"action": "close_abuse", "note": "sold records"})));
    assert_eq!(s, 200);
    assert_eq!(fx.gw.log().committed().size, before + 2);
    let (_, after) = as_who(&fx, "aud1", "GET", "/v1/alerts", None);
    let a = after["alerts"].as_array().unwrap().iter().find(|a| a["id"] == id.as_str()).unwrap().clone();
    assert_eq!(a["state"], "closed_abuse");
    assert_eq!(a["history"].as_array().unwrap().len(), 2);
    // The unit's supervisor cannot turn the confirmed abuse into a false positive; a triage
    // body is typed.
    let (s, e) = as_who(
        &fx,
        "sup9",
        "POST",
        &path,
        Some(json!({"action": "close_false_positive", "note": "my officer is fine"})),
    );
    assert_eq!((s, e["error"]["reasons"][0].as_str()), (403, Some("alert_closed")), "{e}");
    let (s, _) = as_who(&fx, "aud1", "POST", &path, Some(json!({"action": "acknowledge", "note": 5})));
    assert_eq!(s, 400);
    // The transparency report counts it as confirmed, and carries only aggregates.
    let (_, t) = as_who(&fx, "aud1", "GET", "/v1/transparency", None);
    assert!(t["alerts"].as_array().unwrap().iter().any(|a| a["confirmed_abuse"].as_u64() == Some(1)), "{t}");
    let csv = ureq::get(&format!("{}/v1/transparency?format=csv", fx.base))
        .set("Authorization", &format!("Bearer {}", fx.tokens["aud1"]))
        .call()
        .unwrap()
        .into_string()
        .unwrap();
    assert!(csv.starts_with("section,unit,category,decision,count\n"));
    assert!(csv.contains("requests,ATU,identity (routine),allow,1"), "{csv}");
    assert_eq!(as_who(&fx, "desk1", "GET", "/v1/transparency", None).0, 403);
    let (s, e) = as_who(&fx, "aud1", "GET", "/v1/transparency?format=xml", None);
    assert_eq!((s, &e["error"]["code"]), (400, &json!("invalid_query")), "{e}");
    // An officer's risk: null for an account with nothing scored, 404 for no account at all.
    let (s, r) = as_who(&fx, "aud1", "GET", "/v1/officers/aud1/risk", None);
    assert_eq!((s, &r["risk"]), (200, &Value::Null), "{r}");
    let (s, e) = as_who(&fx, "aud1", "GET", "/v1/officers/nobody/risk", None);
    assert_eq!((s, &e["error"]["code"]), (404, &json!("not_found")), "{e}");

    // The log page: status with signers, and a verification from the files.
    let (s, st) = as_who(&fx, "aud1", "GET", "/v1/audit/status", None);
    assert_eq!(s, 200);
    assert!(st["signers"].as_array().unwrap().iter().any(|x| x == "custos.test/audit"), "{st}");
    let (s, v) = as_who(&fx, "aud1", "POST", "/v1/audit/verify", None);
    assert_eq!((s, v["ok"].as_bool()), (200, Some(true)), "{v}");
    assert_eq!(as_who(&fx, "desk1", "POST", "/v1/audit/verify", None).0, 403);
}

#[test]
fn covert_accesses_appear_only_after_the_case_closes_or_is_released() {
    let fx = fixture();
    assert_eq!(lookup(&fx, NID, "COPEN"), 200);
    assert_eq!(lookup(&fx, NID, "CCOVERT"), 200);
    assert_eq!(lookup(&fx, NID2, "CCOVERT"), 200);
    let tok = sign_in(&fx, NID);
    let list = |t: &str| {
        let (s, v) = call(&fx, "GET", "/v1/citizens/me/accesses", Some(t), None);
        assert_eq!(s, 200, "{v}");
        v["accesses"].as_array().unwrap().clone()
    };
    let open = list(&tok);
    assert_eq!(open.len(), 1, "the covert access is withheld: {open:?}");
    assert_eq!(open[0]["unit"], "ATU");
    assert_eq!(open[0]["category"], "identity");
    assert!(open[0]["purpose"].as_str().unwrap().contains("warrant"));
    assert!(!open[0].to_string().contains("inv1"), "the officer is never named");
    // The reviewer releases the covert case: its accesses appear, retroactively.
    assert_eq!(as_who(&fx, "inv1", "POST", "/v1/cases/CCOVERT/release", None).0, 403);
    let (s, _) = as_who(&fx, "rev1", "POST", "/v1/cases/CCOVERT/release", None);
    assert_eq!(s, 200);
    assert_eq!(list(&tok).len(), 2);
    // Closing the case has the same effect for everyone else.
    let tok2 = sign_in(&fx, NID2);
    assert_eq!(list(&tok2).len(), 1);
    let (s, _) = as_who(&fx, "admin", "POST", "/v1/admin/cases/COPEN/close", None);
    assert_eq!(s, 200);

    // Each listed access has an inclusion proof against the signed checkpoint.
    let idx = open[0]["index"].as_u64().unwrap();
    let (s, p) = call(&fx, "GET", &format!("/v1/citizens/me/accesses/{idx}/proof"), Some(&tok), None);
    assert_eq!(s, 200, "{p}");
    let size = p["tree_size"].as_u64().unwrap();
    let leaf = custos_tlog::checkpoint::parse_hash(p["leaf_hash"].as_str().unwrap()).unwrap();
    let proof: Vec<_> = p["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| custos_tlog::checkpoint::parse_hash(h.as_str().unwrap()).unwrap())
        .collect();
    let root = fx.gw.log().root_at(size).unwrap();
    custos_tlog::merkle::verify_inclusion(&leaf, idx, size, &proof, &root).unwrap();
    assert!(p["checkpoint"].as_str().unwrap().starts_with(&format!("custos.test/audit\n{size}\n")));
    // Someone else's entry, or an index out of range, is not theirs.
    let (s, _) = call(&fx, "GET", &format!("/v1/citizens/me/accesses/{idx}/proof"), Some(&tok2), None);
    assert_eq!(s, 404);
    assert_eq!(call(&fx, "GET", "/v1/citizens/me/accesses/999999/proof", Some(&tok), None).0, 404);
    // A citizen session opens nothing else.
    for (m, path) in [("GET", "/v1/alerts"), ("GET", "/v1/cases"), ("GET", "/v1/transparency")] {
        assert_eq!(call(&fx, m, path, Some(&tok), None).0, 403, "{path}");
    }
    let body = json!({"nid": NID, "purpose": "x"});
    assert_eq!(call(&fx, "POST", "/v1/identity/lookup", Some(&tok), Some(body)).0, 403);
}

#[test]
fn a_citizens_report_and_the_transparency_counts_are_the_same_after_a_restart() {
    let fx = fixture();
    assert_eq!(lookup(&fx, NID, "COPEN"), 200);
    assert_eq!(lookup(&fx, NID2, "COPEN"), 200);
    // Denied (a warrant for another case): neither listed for the citizen nor counted allowed.
    let body = json!({"nid": NID, "case": "COPEN", "warrant": "W-CCOVERT", "purpose": "investigation"});
    assert_eq!(as_who(&fx, "inv1", "POST", "/v1/identity/lookup", Some(body)).0, 403);
    // A routine check by mobile number finds the same person.
    let body = json!({"msisdn": "01711111111", "purpose": "walk-in verification"});
    assert_eq!(as_who(&fx, "desk1", "POST", "/v1/identity/lookup", Some(body)).0, 200);
    let report = |fx: &Fx, nid: &str| {
        let tok = sign_in(fx, nid);
        let (s, v) = call(fx, "GET", "/v1/citizens/me/accesses", Some(&tok), None);
        assert_eq!(s, 200, "{v}");
        v["accesses"].clone()
    };
    let mine = report(&fx, NID);
    let cats: Vec<&str> = mine.as_array().unwrap().iter().map(|a| a["purpose"].as_str().unwrap()).collect();
    assert_eq!(cats.len(), 2, "{mine}");
    assert!(cats[0].contains("warrant") && cats[1].contains("routine"), "{cats:?}");
    assert_eq!(report(&fx, NID2).as_array().unwrap().len(), 1);
    let (_, counts) = as_who(&fx, "aud1", "GET", "/v1/transparency", None);

    let fx = restart(fx);
    assert_eq!(report(&fx, NID), mine, "rebuilt from the log");
    let (s, again) = as_who(&fx, "aud1", "GET", "/v1/transparency", None);
    assert_eq!(s, 200);
    assert_eq!(again["requests"], counts["requests"], "{again}");
    assert!(again["requests"].to_string().contains("deny"), "{again}");
}

#[test]
fn an_entry_whose_request_is_dropped_before_it_commits_still_reaches_the_detector_and_the_report() {
    use custos_server::auth::Authenticate;
    let fx = fixture();
    fx.gw.add_watch(&[(NID2.to_string(), custos_detect::input::WatchLabel::Honeytoken)]).unwrap();
    let p = fx.gw.authenticate(&fx.tokens["inv9"]).unwrap();
    let body = json!({"nid": NID2, "purpose": "routine"});
    let size = fx.gw.log().committed().size;
    // Polled once, up to its append (which waits for a durable commit), then dropped: what a
    // server does to a request whose client has gone. Where the commit wins the race with
    // that one poll (the test thread preempted between queueing the entry and polling it),
    // the request just completes: try again, counting those.
    let mut completed = 0;
    loop {
        let dropped = fx._rt.block_on(async {
            let mut ctx = custos_gateway::service::Ctx { req: "r-gone".into(), ..Default::default() };
            let lookup = fx.gw.identity_lookup(&p, &mut ctx, &body);
            tokio::time::timeout(std::time::Duration::ZERO, lookup).await.is_err()
        });
        if dropped {
            break;
        }
        completed += 1;
        assert!(completed < 20, "the request never waited for its commit");
    }
    // Every honeytoken hit is an alert: the dropped one as well as any that completed.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while fx.gw.alerts().iter().filter(|a| a.officer == "inv9").count() <= completed {
        assert!(std::time::Instant::now() < deadline, "the committed entry never reached the detector");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let n = completed as u64 + 1;
    assert_eq!(fx.gw.log().committed().size, size + n);
    let tok = sign_in(&fx, NID2);
    let (s, v) = call(&fx, "GET", "/v1/citizens/me/accesses", Some(&tok), None);
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["accesses"].as_array().unwrap().len() as u64, n, "{v}");
    assert_eq!(v["accesses"][n as usize - 1]["index"], size + n - 1);
}

#[test]
fn one_time_codes_resist_guessing_reuse_expiry_and_flooding() {
    let fx = fixture();
    let session = |nid: &str, code: &str| {
        call(&fx, "POST", "/v1/citizens/session", None, Some(json!({"nid": nid, "code": code})))
    };
    // Bad input: an invalid NID; unknown fields and wrong types, as on the officers' endpoints.
    assert_eq!(call(&fx, "POST", "/v1/citizens/otp", None, Some(json!({"nid": "12"}))).0, 422);
    for (path, body) in [
        ("/v1/citizens/otp", json!({"nid": NID, "phone": "8801711111111"})),
        ("/v1/citizens/otp", json!({"nid": 1234567890})),
        ("/v1/citizens/session", json!({"nid": NID, "code": 123456})),
        ("/v1/citizens/session", json!({"nid": NID})),
    ] {
        let (s, v) = call(&fx, "POST", path, None, Some(body.clone()));
        assert_eq!((s, v["error"]["code"].as_str()), (400, Some("invalid_body")), "{path} {body}: {v}");
    }
    assert!(fx.outbox.0.lock().unwrap().is_empty(), "no code was sent for a refused request");
    // An unknown NID gets the same answer and no code is sent anywhere.
    let (s, v) = call(&fx, "POST", "/v1/citizens/otp", None, Some(json!({"nid": "9999999999"})));
    assert_eq!((s, v["sent"].as_bool()), (200, Some(true)));
    assert!(fx.outbox.0.lock().unwrap().is_empty());
    assert_eq!(session("9999999999", "000000").0, 401);

    // The code goes to the registered number.
    let code = code_for(&fx, NID);
    assert_eq!(fx.outbox.0.lock().unwrap()[0].0, "8801711111111");
    // Wrong guesses: after MAX_ATTEMPTS the code is void even if then guessed right.
    let wrong = if code == "000000" { "000001" } else { "000000" };
    for _ in 0..custos_gateway::citizen::MAX_ATTEMPTS {
        let (s, v) = session(NID, wrong);
        assert_eq!((s, v["error"]["code"].as_str()), (401, Some("code_invalid")));
    }
    let (s, v) = session(NID, &code);
    assert_eq!((s, v["error"]["code"].as_str()), (401, Some("code_locked")));

    // A fresh code works once; reuse is refused.
    let code = code_for(&fx, NID);
    assert_eq!(session(NID, &code).0, 200);
    let (s, v) = session(NID, &code);
    assert_eq!((s, v["error"]["code"].as_str()), (401, Some("code_used")));

    // Rate limit: three codes per NID per window, then 429 until the window passes.
    assert_eq!(call(&fx, "POST", "/v1/citizens/otp", None, Some(json!({"nid": NID}))).0, 200);
    let (s, v) = call(&fx, "POST", "/v1/citizens/otp", None, Some(json!({"nid": NID})));
    assert_eq!((s, v["error"]["code"].as_str()), (429, Some("rate_limited")));
    fx.clock.fetch_add(custos_gateway::citizen::SEND_WINDOW + 1, Ordering::SeqCst);
    let code = code_for(&fx, NID);
    // Expiry.
    fx.clock.fetch_add(custos_gateway::citizen::CODE_TTL, Ordering::SeqCst);
    let (s, v) = session(NID, &code);
    assert_eq!((s, v["error"]["code"].as_str()), (401, Some("code_expired")));
    // Sessions expire too.
    let code = code_for(&fx, NID);
    let (_, v) = session(NID, &code);
    let tok = v["token"].as_str().unwrap().to_string();
    assert_eq!(call(&fx, "GET", "/v1/citizens/me/accesses", Some(&tok), None).0, 200);
    fx.clock.fetch_add(custos_gateway::citizen::SESSION_TTL + 1, Ordering::SeqCst);
    assert_eq!(call(&fx, "GET", "/v1/citizens/me/accesses", Some(&tok), None).0, 401);
    // Every sign-in attempt is in the log.
    let signins = (0..fx.gw.log().committed().size)
        .filter_map(|i| fx.gw.log().entry(i).unwrap())
        .filter(|b| String::from_utf8_lossy(b).contains("\"citizen_sign_in\""))
        .count();
    assert!(signins >= 10, "{signins}");
}

#[test]
fn anonymous_requests_are_refused_everywhere_but_health_metrics_tiles_and_sign_in() {
    let fx = fixture();
    let doc: Value = serde_json::from_str(
        &ureq::get(&format!("{}/openapi.json", fx.base)).call().unwrap().into_string().unwrap(),
    )
    .unwrap();
    let open = ["/healthz", "/metrics", "/v1/citizens/otp", "/v1/citizens/session"];
    let mut checked = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            if open.contains(&path.as_str()) {
                continue;
            }
            let concrete = path.replace("{id}", "x").replace("{index}", "0");
            let body = (method == "post").then(|| json!({}));
            let (s, v) = call(&fx, &method.to_uppercase(), &concrete, None, body);
            assert_eq!(s, 401, "{method} {path}: {v}");
            assert!(v["error"]["code"].is_string(), "{v}");
            checked += 1;
        }
    }
    assert!(checked >= 25, "only {checked} endpoints in the OpenAPI document");
    // Open on purpose: health, metrics, the log's checkpoint and tiles, the sign-in pages.
    for path in ["/healthz", "/metrics", "/audit/checkpoint", "/", "/citizen", "/ui/app.js"] {
        assert_eq!(call(&fx, "GET", path, None, None).0, 200, "{path}");
    }
}
