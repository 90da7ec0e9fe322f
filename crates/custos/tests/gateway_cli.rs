//! The gateway from the command line: init, admin, import (with bad rows), serve, a guarded
//! lookup over HTTP, then export of the audit log into `custos analyze`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code")]

mod common;

use common::{custos, identity_warrant, ok, pg, pg_url, unique_schema};

use std::process::{Command, Stdio};

#[test]
fn init_admin_import_serve_lookup_export_analyze() {
    scenario(None);
}

/// The same, with the records in PostgreSQL (`custos init --db`): skipped with a notice when
/// PostgreSQL is unreachable, unless `CUSTOS_REQUIRE_POSTGRES=1` (CI).
#[test]
fn the_same_on_postgresql() {
    let Some(mut admin) = pg() else { return };
    let schema = unique_schema("custos_cli");
    scenario(Some((pg_url(), schema.clone())));
    let n: i64 = admin.query_one(&format!("SELECT COUNT(*) FROM \"{schema}\".citizens"), &[]).unwrap().get(0);
    assert_eq!(n, 2);
    admin.batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE")).unwrap();
}

/// `custos migrate`: an embedded installation (the tiny demo) moves to PostgreSQL, verified, and
/// serves the same records afterwards.
#[test]
fn an_embedded_installation_migrates_to_postgresql() {
    let Some(mut admin) = pg() else { return };
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("data");
    ok(&custos(&dir, &["init"]));
    let csv = d.path().join("citizens.csv");
    std::fs::write(
        &csv,
        "nid,name_bn,name_en,father,mother,dob,gender,division,district,upazila,address,msisdns\n\
         1234567890,করিম,Karim Rahman,F,M,1990-01-01,male,Dhaka,Dhaka,Mirpur,Road 1,01711111111\n\
         2345678901,সালমা,Salma Begum,F,M,1991-01-01,female,Khulna,Khulna,Sadar,Road 2,01822222222\n",
    )
    .unwrap();
    ok(&custos(&dir, &["import", "citizens", csv.to_str().unwrap()]));
    ok(&custos(
        &dir,
        &["admin", "officer", "--id", "inv1", "--name", "A", "--unit", "ATU", "--roles", "investigator"],
    ));
    let schema = format!("custos_mig_{}", std::process::id());
    let out = ok(&custos(
        d.path(),
        &["migrate", "--from", dir.to_str().unwrap(), "--to", &pg_url(), "--schema", &schema],
    ));
    assert!(out.contains("moved 2 citizens (2 compared byte for byte)"), "{out}");
    assert!(out.contains("audit log verified"), "{out}");
    // A second run refuses: the directory already uses PostgreSQL.
    let again = custos(
        d.path(),
        &["migrate", "--from", dir.to_str().unwrap(), "--to", &pg_url(), "--schema", &schema],
    );
    assert!(!again.status.success());
    // The records are served from PostgreSQL now: a change lands there, not in SQLite.
    ok(&custos(
        &dir,
        &["admin", "officer", "--id", "inv2", "--name", "B", "--unit", "ATU", "--roles", "investigator"],
    ));
    let n: i64 = admin.query_one(&format!("SELECT COUNT(*) FROM \"{schema}\".officers"), &[]).unwrap().get(0);
    assert_eq!(n, 2);
    let n: i64 = admin.query_one(&format!("SELECT COUNT(*) FROM \"{schema}\".citizens"), &[]).unwrap().get(0);
    assert_eq!(n, 2);
    admin.batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE")).unwrap();
}

fn scenario(db: Option<(String, String)>) {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("data");
    match &db {
        None => ok(&custos(&dir, &["init"])),
        Some((url, schema)) => ok(&custos(&dir, &["init", "--db", url, "--db-schema", schema])),
    };
    if let Some((url, schema)) = &db {
        assert!(!dir.join("custos.db").exists(), "the records went to SQLite");
        // A second initialisation of the same database is refused.
        let again = custos(&d.path().join("other"), &["init", "--db", url, "--db-schema", schema]);
        assert!(String::from_utf8_lossy(&again.stderr).contains("already holds a Custos records store"));
    }
    let csv = d.path().join("citizens.csv");
    std::fs::write(
        &csv,
        "nid,name_bn,name_en,father,mother,dob,gender,division,district,upazila,address,msisdns\n\
         1234567890,করিম,Karim Rahman,F,M,1990-01-01,male,Dhaka,Dhaka,Mirpur,Road 1,01711111111\n\
         12345,bad,Bad Nid,F,M,1990-01-01,male,Dhaka,Dhaka,Mirpur,Road 1,01711111112\n\
         2345678901,সালমা,Salma Begum,F,M,1991-01-01,female,Khulna,Khulna,Sadar,Road 2,01822222222;01933333333\n\
         3456789012,x,Bad Phone,F,M,1991-01-01,female,Khulna,Khulna,Sadar,Road 2,0123\n\
         4567890123,x,Bad Date,F,M,1991-02-30,female,Khulna,Khulna,Sadar,Road 2,01844444444\n\
         5678901234,x,Bad Gender,F,M,1991-01-01,x,Khulna,Khulna,Sadar,Road 2,01855555555\n\
         6789012345,,,F,M,1991-01-01,F,Khulna,Khulna,Sadar,Road 2,01866666666\n\
         1234567890,করিম,Karim Again,F,M,1990-01-01,male,Dhaka,Dhaka,Mirpur,Road 1,01711111111\n",
    )
    .unwrap();
    let o = custos(&dir, &["import", "citizens", csv.to_str().unwrap()]);
    let out = ok(&o);
    assert!(out.contains("imported 2 citizens"), "{out}");
    assert!(out.contains("(6 bad rows skipped)"), "{out}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("citizens.csv:3: skipped: bad nid `12345`"), "{err}");
    assert!(err.contains("citizens.csv:5: skipped: bad mobile number `0123`"), "{err}");
    assert!(err.contains("citizens.csv:6: skipped: bad date of birth `1991-02-30`"), "{err}");
    assert!(err.contains("citizens.csv:7: skipped: bad gender `x`"), "{err}");
    assert!(err.contains("citizens.csv:8: skipped: no name"), "{err}");
    assert!(
        err.contains("citizens.csv:9: skipped: a citizen with NID `1234567890` is already in the store"),
        "{err}"
    );

    for args in [
        vec!["admin", "officer", "--id", "inv1", "--name", "A", "--unit", "ATU", "--roles", "investigator"],
        vec!["admin", "officer", "--id", "rev1", "--name", "B", "--unit", "COURT", "--roles", "reviewer"],
        vec![
            "admin",
            "case",
            "--id",
            "C1",
            "--unit",
            "ATU",
            "--officers",
            "inv1",
            "--subjects",
            "1234567890",
        ],
        identity_warrant("W1", "C1", "rev1", "1234567890"),
    ] {
        ok(&custos(&dir, &args));
    }
    // The issuer must be independent: a reviewer of the case's own unit is refused.
    ok(&custos(
        &dir,
        &["admin", "officer", "--id", "rev2", "--name", "C", "--unit", "ATU", "--roles", "reviewer"],
    ));
    let bad = custos(
        &dir,
        &[
            "admin",
            "warrant",
            "--id",
            "W2",
            "--case",
            "C1",
            "--issuer",
            "rev2",
            "--subjects",
            "1234567890",
            "--categories",
            "identity",
            "--data-from",
            "0",
            "--data-to",
            "1",
            "--valid-from",
            "0",
            "--valid-to",
            "4000000000",
        ],
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("reviewer_not_independent"));
    let tok: serde_json::Value =
        serde_json::from_str(&ok(&custos(&dir, &["admin", "token", "--officer", "inv1"]))).unwrap();
    let token = tok["token"].as_str().unwrap().to_string();

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_custos"))
        .args(["--dir", dir.to_str().unwrap(), "serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let mut up = false;
    for _ in 0..200 {
        if ureq::get(&format!("{base}/healthz")).call().is_ok() {
            up = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(up, "server did not start");
    // While the server runs, the CLI refuses to touch the log.
    let busy = custos(&dir, &["admin", "token", "--officer", "inv1"]);
    assert!(String::from_utf8_lossy(&busy.stderr).contains("in use by another process"));
    let r = ureq::post(&format!("{base}/v1/identity/lookup"))
        .set("Authorization", &format!("Bearer {token}"))
        .set("Content-Type", "application/json")
        .send_string(
            &serde_json::json!({"nid": "1234567890", "case": "C1", "warrant": "W1", "purpose": "test"})
                .to_string(),
        )
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&r.into_string().unwrap()).unwrap();
    // Letter case is a traceable-copy mark (keyed per officer and record), so compare without it.
    assert_eq!(v["record"]["name_en"].as_str().unwrap().to_lowercase(), "karim rahman");
    assert!(v["receipt"]["index"].as_u64().is_some());
    let denied = ureq::post(&format!("{base}/v1/identity/lookup"))
        .set("Authorization", &format!("Bearer {token}"))
        .set("Content-Type", "application/json")
        .send_string(
            &serde_json::json!({"nid": "2345678901", "case": "C1", "warrant": "W1", "purpose": "test"})
                .to_string(),
        );
    assert!(matches!(denied, Err(ureq::Error::Status(403, _))));
    server.kill().unwrap();
    server.wait().unwrap();

    // Export the gateway's own log and analyse it with the same engine.
    let exported = d.path().join("export.csv");
    ok(&custos(&dir, &["audit", "export", "--output", exported.to_str().unwrap()]));
    let text = std::fs::read_to_string(&exported).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "time,officer,unit,action,subject,case,outcome,records");
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[1].contains(",inv1,ATU,identity_lookup,c:") && lines[1].ends_with(",C1,allowed,1"),
        "{text}"
    );
    assert!(lines[2].ends_with(",C1,denied,0"), "{text}");
    assert!(!text.contains("1234567890"));
    let a = ok(&custos(&dir, &["analyze", "--log", exported.to_str().unwrap(), "--format", "json"]));
    let v: serde_json::Value = serde_json::from_str(&a).unwrap();
    assert_eq!(v["officers"][0]["officer"], "inv1");
    assert!(ok(&custos(&dir, &["audit", "verify", "--quiet"])).contains("verified"));

    // The looked-up record appears in a Telegram channel: traced through the blind index to
    // the audit log's commitments, without decrypting anything.
    let later = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 3600;
    let export = d.path().join("result.json");
    std::fs::write(
        &export,
        format!(
            r#"{{"name": "leaks", "type": "public_channel", "id": 5, "messages": [
              {{"id": 1, "type": "message", "date_unixtime": "{later}", "text": ["NID ", {{"type": "bold", "text": "১২৩৪৫৬৭৮৯০"}}, "  sold"]}},
              {{"id": 2, "type": "message", "date_unixtime": "{later}", "text": "random 01999999999"}}]}}"#
        ),
    )
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&ok(&custos(
        &dir,
        &["leak", "trace", export.to_str().unwrap(), "--format", "json"],
    )))
    .unwrap();
    assert_eq!(v["found"].as_array().unwrap().len(), 2);
    assert_eq!(v["matched_subjects"], 1);
    assert_eq!(v["suspects"][0]["officer"], "inv1");
    assert_eq!(v["suspects"][0]["exclusive"], 1);
}
