//! Three `custos serve` replicas on one PostgreSQL database share one audit log. A client spreads
//! concurrent lookups over them; one replica, then the sequencer, is killed with SIGKILL under
//! load. Afterwards every acknowledged request has its entry in the log exactly once, the log
//! verifies, and a restarted replica serves the same tiles and checkpoint as the survivor.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code")]

mod common;

use std::collections::HashMap;
use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{custos, identity_warrant, ok, pg, pg_url, serve, unique_schema};

const OFFICERS: usize = 6;

fn get(base: &str, path: &str, token: &str) -> Option<serde_json::Value> {
    let r = ureq::get(&format!("{base}{path}"))
        .set("Authorization", &format!("Bearer {token}"))
        .timeout(Duration::from_secs(5))
        .call()
        .ok()?;
    serde_json::from_str(&r.into_string().ok()?).ok()
}

fn bytes(base: &str, path: &str, token: &str) -> Vec<u8> {
    let r =
        ureq::get(&format!("{base}{path}")).set("Authorization", &format!("Bearer {token}")).call().unwrap();
    let mut v = Vec::new();
    std::io::Read::read_to_end(&mut r.into_reader(), &mut v).unwrap();
    v
}

fn kill(c: &mut Child) {
    // `Child::kill` sends SIGKILL on Unix.
    c.kill().unwrap();
    c.wait().unwrap();
}

#[test]
fn replicas_share_one_log_and_lose_nothing_when_the_sequencer_dies() {
    let Some(mut admin) = pg() else { return };
    let schema = unique_schema("custos_rep");
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("a");
    ok(&custos(&dir, &["init", "--db", &pg_url(), "--db-schema", &schema]));
    let csv = d.path().join("citizens.csv");
    std::fs::write(
        &csv,
        "nid,name_bn,name_en,father,mother,dob,gender,division,district,upazila,address,msisdns\n\
         1234567890,করিম,Karim Rahman,F,M,1990-01-01,male,Dhaka,Dhaka,Mirpur,Road 1,01711111111\n",
    )
    .unwrap();
    ok(&custos(&dir, &["import", "citizens", csv.to_str().unwrap()]));
    let officers: Vec<String> = (0..OFFICERS).map(|i| format!("inv{i}")).collect();
    for o in &officers {
        ok(&custos(
            &dir,
            &["admin", "officer", "--id", o, "--name", o, "--unit", "ATU", "--roles", "investigator"],
        ));
    }
    ok(&custos(
        &dir,
        &["admin", "officer", "--id", "rev1", "--name", "R", "--unit", "COURT", "--roles", "reviewer"],
    ));
    ok(&custos(
        &dir,
        &["admin", "officer", "--id", "aud1", "--name", "A", "--unit", "OVS", "--roles", "auditor"],
    ));
    ok(&custos(
        &dir,
        &[
            "admin",
            "case",
            "--id",
            "C1",
            "--unit",
            "ATU",
            "--officers",
            &officers.join(","),
            "--subjects",
            "1234567890",
        ],
    ));
    ok(&custos(&dir, &identity_warrant("W1", "C1", "rev1", "1234567890")));
    let token = |o: &str| -> String {
        let v: serde_json::Value =
            serde_json::from_str(&ok(&custos(&dir, &["admin", "token", "--officer", o]))).unwrap();
        v["token"].as_str().unwrap().to_string()
    };
    let tokens: Vec<String> = officers.iter().map(|o| token(o)).collect();
    let aud = token("aud1");
    // Three replicas, each with its own copy of the data directory (keys, configuration, log).
    let dirs: Vec<std::path::PathBuf> = (0..3).map(|i| d.path().join(format!("r{i}"))).collect();
    for r in &dirs {
        let st = std::process::Command::new("cp").args(["-r"]).arg(&dir).arg(r).status().unwrap();
        assert!(st.success());
    }
    let mut servers: Vec<(Option<common::Server>, String)> = dirs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let (c, base) = serve(r, Some(&d.path().join(format!("r{i}.log"))));
            (Some(c), base)
        })
        .collect();
    let bases: Vec<String> = servers.iter().map(|s| s.1.clone()).collect();
    // Load: one client thread per officer, each request to the next replica in turn.
    let stop = Arc::new(AtomicBool::new(false));
    let acked: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    let clients: Vec<_> = tokens
        .iter()
        .enumerate()
        .map(|(k, t)| {
            let (t, bases, stop, acked) = (t.clone(), bases.clone(), stop.clone(), acked.clone());
            std::thread::spawn(move || {
                let mut n = 0usize;
                while !stop.load(Ordering::SeqCst) && n < 190 {
                    let base = &bases[(k + n) % bases.len()];
                    n += 1;
                    let r = ureq::post(&format!("{base}/v1/identity/lookup"))
                        .set("Authorization", &format!("Bearer {t}"))
                        .set("Content-Type", "application/json")
                        .timeout(Duration::from_secs(15))
                        .send_string(
                            r#"{"nid": "1234567890", "case": "C1", "warrant": "W1", "purpose": "load"}"#,
                        );
                    if let Ok(r) = r {
                        let v: serde_json::Value = serde_json::from_str(&r.into_string().unwrap()).unwrap();
                        let h = v["receipt"]["leaf_hash"].as_str().unwrap().to_string();
                        acked.lock().unwrap().push(h);
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    // Kill a replica that is not the sequencer, then the sequencer.
    let leader_of = |bases: &[String], alive: &[bool]| -> Option<usize> {
        (0..bases.len()).find(|&i| {
            alive[i]
                && get(&bases[i], "/v1/audit/status", &aud).is_some_and(|s| s["shared"]["leader"] == true)
        })
    };
    let mut alive = [true; 3];
    let leader = leader_of(&bases, &alive).expect("a sequencer");
    let follower = (0..3).find(|&i| i != leader).unwrap();
    kill(servers[follower].0.as_mut().unwrap());
    alive[follower] = false;
    std::thread::sleep(Duration::from_millis(1000));
    kill(servers[leader].0.as_mut().unwrap());
    alive[leader] = false;
    let survivor = (0..3).find(|&i| alive[i]).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() > 50, "only {} requests acknowledged", acked.len());
    // The survivor took over sequencing and has integrated everything.
    let mut status = serde_json::Value::Null;
    for _ in 0..200 {
        status = get(&bases[survivor], "/v1/audit/status", &aud).unwrap();
        let pending: i64 =
            admin.query_one(&format!("SELECT COUNT(*) FROM \"{schema}\".log_pending"), &[]).unwrap().get(0);
        if status["shared"]["leader"] == true
            && pending == 0
            && status["size"] == status["shared"]["sequenced"]
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(status["shared"]["leader"], true, "{status}");
    assert_eq!(status["size"], status["shared"]["sequenced"], "{status}");
    // Every acknowledged request's entry is in the log exactly once.
    let rows =
        admin.query(&format!("SELECT idx, leaf FROM \"{schema}\".log_entries ORDER BY idx"), &[]).unwrap();
    let mut count: HashMap<String, usize> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r.get::<_, i64>(0), i as i64, "indices are contiguous");
        let leaf: Vec<u8> = r.get(1);
        let h = custos_tlog::checkpoint::encode_hash(&custos_tlog::merkle::leaf_hash(&leaf));
        *count.entry(h).or_default() += 1;
    }
    for h in &acked {
        assert_eq!(count.get(h), Some(&1), "acknowledged entry {h} is in the log once");
    }
    // (Reading the status is itself audited, so the log has grown since.)
    assert!(status["size"].as_u64().unwrap() <= rows.len() as u64);
    // The survivor's log verifies from its files.
    let v = ureq::post(&format!("{}/v1/audit/verify", bases[survivor]))
        .set("Authorization", &format!("Bearer {aud}"))
        .call()
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&v.into_string().unwrap()).unwrap();
    assert_eq!(v["ok"], true, "{v}");
    // The replica killed first comes back, catches up, and serves the same tiles and checkpoint.
    let (back, base_back) = serve(&dirs[follower], Some(&d.path().join("back.log")));
    servers[follower] = (Some(back), base_back.clone());
    let size = rows.len() as u64;
    assert!(size >= 256, "a full tile to compare");
    let mut caught_up = false;
    for _ in 0..200 {
        if get(&base_back, "/v1/audit/status", &aud).is_some_and(|s| s["size"].as_u64() >= Some(size)) {
            caught_up = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(caught_up, "the restarted replica caught up to {size}");
    // Checkpoints are not audited: once both have mirrored the same entries they serve the same.
    let same = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(50));
        bytes(&base_back, "/audit/checkpoint", &aud) == bytes(&bases[survivor], "/audit/checkpoint", &aud)
    });
    assert!(same, "the two replicas serve the same checkpoint");
    for path in ["/audit/tile/0/000", "/audit/tile/entries/000"] {
        assert_eq!(bytes(&base_back, path, &aud), bytes(&bases[survivor], path, &aud), "{path}");
    }
    // Both detectors saw every officer's requests, whichever replica served them.
    let allowed_inv0 = rows
        .iter()
        .filter(|r| {
            let v: serde_json::Value = serde_json::from_slice(&r.get::<_, Vec<u8>>(1)).unwrap();
            v["officer"] == "inv0" && v["decision"] == "allow" && v["action"] == "identity_lookup"
        })
        .count() as u64;
    assert!(allowed_inv0 > 0);
    for base in [&base_back, &bases[survivor]] {
        let v = get(base, "/v1/officers/inv0", &aud).unwrap();
        let n: u64 = v["days"].as_array().unwrap().iter().map(|d| d["allowed"].as_u64().unwrap()).sum();
        assert_eq!(n, allowed_inv0, "{base}: {v}");
    }
    // An administrative change on one replica reaches the others: an officer and a token made on
    // the survivor work on the restarted replica.
    let admin_token = std::fs::read_to_string(dir.join("admin.token")).unwrap().trim().to_string();
    let post = |base: &str, path: &str, body: serde_json::Value| -> serde_json::Value {
        let r = ureq::post(&format!("{base}{path}"))
            .set("Authorization", &format!("Bearer {admin_token}"))
            .set("Content-Type", "application/json")
            .send_string(&body.to_string())
            .unwrap();
        serde_json::from_str(&r.into_string().unwrap()).unwrap()
    };
    post(
        &bases[survivor],
        "/v1/admin/officers",
        serde_json::json!({"id": "new1", "name": "N", "unit": "ATU", "rank": "SI", "roles": ["investigator"], "status": "active"}),
    );
    let t = post(&bases[survivor], "/v1/admin/tokens", serde_json::json!({"officer": "new1"}));
    let t = t["token"].as_str().unwrap().to_string();
    let seen = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(20));
        get(&base_back, "/v1/me", &t).is_some_and(|v| v.to_string().contains("new1"))
    });
    assert!(seen, "the token made on one replica is accepted by another");
    for (c, _) in &mut servers {
        if let Some(c) = c.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
    admin.batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE")).unwrap();
}
