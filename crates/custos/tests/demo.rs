//! `custos demo` end to end (at the hidden `tiny` scale): the agency is built and attacked
//! through the real gateway, the seed-case sellers are named from the leak, the log verifies,
//! `report.html` draws its charts in headless Chromium, and every example in
//! `credentials.json` answers as it says against `custos serve`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code")]

mod common;

use common::{custos, ok, serve};

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// The lines of one section of the summary.
fn section<'a>(out: &'a str, title: &str) -> Vec<&'a str> {
    out.lines()
        .skip_while(|l| !l.contains(title))
        .skip(1)
        .take_while(|l| !l.starts_with("=="))
        .filter(|l| !l.trim().is_empty())
        .collect()
}

#[test]
fn the_demo_catches_and_names_the_sellers_and_its_outputs_work() {
    let tmp = tempfile::tempdir().unwrap();
    // A directory the demo did not create is never overwritten.
    let precious = tmp.path().join("precious");
    std::fs::create_dir_all(&precious).unwrap();
    std::fs::write(precious.join("notes.txt"), "keep me").unwrap();
    let refused = custos(&precious, &["demo", "--scale", "tiny"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("refusing to overwrite"));
    assert_eq!(std::fs::read_to_string(precious.join("notes.txt")).unwrap(), "keep me");

    let dir = tmp.path().join("demo");
    let out = ok(&custos(&dir, &["demo", "--scale", "tiny", "--seed", "3"]));

    // Every planted insider is listed; the seed-case pair is there and flagged.
    let insiders = section(&out, "== Insiders planted");
    let seed: Vec<&&str> = insiders.iter().filter(|l| l.contains("seed_case_pair")).collect();
    assert_eq!(seed.len(), 2, "{out}");
    assert!(seed.iter().any(|l| l.contains("flagged day")), "no seed-case insider was flagged:\n{out}");
    let seed_ids: Vec<&str> = seed.iter().map(|l| l.split_whitespace().next().unwrap()).collect();

    // The leak names a seed-case seller first.
    let leak = section(&out, "== The leak ==");
    let first = leak.iter().find(|l| l.trim_start().starts_with("1.")).expect("no suspects");
    assert!(seed_ids.iter().any(|id| first.contains(id)), "first suspect is not a seed-case seller:\n{out}");
    let finding: Value =
        serde_json::from_slice(&std::fs::read(dir.join("leak/finding.json")).unwrap()).unwrap();
    assert!(finding["matched_subjects"].as_u64().unwrap() > 10, "{finding}");
    // The channel export is a Telegram Desktop export Custos parses.
    let export: Value =
        serde_json::from_slice(&std::fs::read(dir.join("leak/result.json")).unwrap()).unwrap();
    assert_eq!(export["type"], "public_channel");
    assert!(export["messages"].as_array().unwrap().len() > 20);

    // The log verifies from the files, and the witness cosigned it.
    let v = ok(&custos(&dir, &["audit", "verify"]));
    assert!(v.contains("verified"), "{v}");
    let cosigned = std::fs::read_to_string(dir.join("log/checkpoint.cosigned")).unwrap();
    assert!(cosigned.contains("— oversight.demo/witness "), "{cosigned}");
    assert!(out.contains("fails verification"), "the tampered copy was not caught:\n{out}");
    // The two-person rule: refused before the approval, run once after it, refused again.
    let two = out.split("== Two-person rule ==").nth(1).unwrap_or_default();
    assert_eq!(two.matches("refused (403 approval_required)").count(), 2, "{out}");
    assert!(two.contains("reads the exact request") && two.contains("the search runs once"), "{out}");

    // The report is one self-contained page.
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    for bad in ["<link", " src=", "@import", "url("] {
        assert!(!html.contains(bad), "report.html refers to an external asset (`{bad}`)");
    }
    for id in ["volume", "ranking", "leak", "explained"] {
        assert!(html.contains(&format!("id=\"{id}\"")));
    }
    chromium_draws(&dir.join("report.html"));

    // Every example in credentials.json answers as it says against `custos serve`.
    let creds: Value = serde_json::from_slice(&std::fs::read(dir.join("credentials.json")).unwrap()).unwrap();
    assert_eq!(creds["server"], "http://127.0.0.1:8080");
    let roles: Vec<&str> =
        creds["accounts"].as_array().unwrap().iter().map(|a| a["role"].as_str().unwrap()).collect();
    for r in ["investigator", "analyst", "desk", "supervisor", "reviewer", "auditor", "admin"] {
        assert!(roles.contains(&r), "no {r} account in {roles:?}");
    }
    let examples = creds["examples"].as_array().unwrap();
    assert!(examples.iter().any(|e| e["expect"] == 200) && examples.iter().any(|e| e["expect"] == 403));
    let (mut server, base) = serve(&dir, None);
    for ex in examples {
        let role = ex["role"].as_str().unwrap();
        let acct = creds["accounts"].as_array().unwrap().iter().find(|a| a["role"] == role).unwrap();
        let url = format!("{base}{}", ex["path"].as_str().unwrap());
        let auth = format!("Bearer {}", acct["token"].as_str().unwrap());
        let res = match ex["method"].as_str().unwrap() {
            "GET" => ureq::get(&url).set("Authorization", &auth).call(),
            _ => ureq::post(&url)
                .set("Authorization", &auth)
                .set("Content-Type", "application/json")
                .send_string(&ex["body"].to_string()),
        };
        let status = match res {
            Ok(r) => r.status(),
            Err(ureq::Error::Status(s, _)) => s,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(u64::from(status), ex["expect"].as_u64().unwrap(), "example `{}`", ex["name"]);
    }
    // The alerts raised during the demo are served after it.
    let auditor = creds["accounts"].as_array().unwrap().iter().find(|a| a["role"] == "auditor").unwrap();
    let alerts: Value = serde_json::from_str(
        &ureq::get(&format!("{base}/v1/alerts"))
            .set("Authorization", &format!("Bearer {}", auditor["token"].as_str().unwrap()))
            .call()
            .unwrap()
            .into_string()
            .unwrap(),
    )
    .unwrap();
    let alerted: Vec<&str> =
        alerts["alerts"].as_array().unwrap().iter().filter_map(|a| a["officer"].as_str()).collect();
    assert!(seed_ids.iter().any(|id| alerted.contains(id)), "alerts after restart: {alerted:?}");
    server.kill().unwrap();
    server.wait().unwrap();

    // Same seed, same world and decisions.
    let again = ok(&custos(&dir, &["demo", "--scale", "tiny", "--seed", "3"]));
    let requests = |s: &str| {
        section(s, "== Guarded access").first().map(|l| l.split(" requests").next().unwrap().to_string())
    };
    assert_eq!(requests(&out), requests(&again));
    assert_eq!(section(&out, "== The leak ==").len(), section(&again, "== The leak ==").len());
}

/// The dashboard and the citizens' report in headless Chromium, driven by playwright-core
/// (`e2e/dashboard.mjs`): sign in, triage an alert, an officer's timeline, the log verified,
/// an approval read and given, a citizen's report with a proof verified in the page; screenshots saved. Skipped with a
/// notice when Node.js, `e2e/node_modules` or Chromium is missing, unless
/// `CUSTOS_REQUIRE_BROWSER=1` (CI).
#[test]
fn the_dashboard_and_the_citizens_report_work_in_a_browser() {
    let e2e = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../e2e");
    let missing = [
        (Command::new("node").arg("--version").output().map(|o| o.status.success()).unwrap_or(false), "node"),
        (e2e.join("node_modules/playwright-core").exists(), "e2e/node_modules (npm ci --prefix e2e)"),
        (Path::new("/usr/bin/chromium").exists(), "/usr/bin/chromium"),
    ]
    .into_iter()
    .filter(|(ok, _)| !ok)
    .map(|(_, what)| what)
    .collect::<Vec<_>>();
    if !missing.is_empty() {
        assert!(
            std::env::var("CUSTOS_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "CUSTOS_REQUIRE_BROWSER=1 but missing: {missing:?}"
        );
        eprintln!("notice: browser test skipped; missing {missing:?}");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    ok(&custos(&dir, &["demo", "--scale", "tiny", "--seed", "5"]));
    let log = tmp.path().join("server.log");
    let (mut server, base) = serve(&dir, Some(&log));
    // A desk officer's routine check of a citizen: the access the citizen will see.
    let creds: Value = serde_json::from_slice(&std::fs::read(dir.join("credentials.json")).unwrap()).unwrap();
    let routine = creds["examples"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["role"] == "desk" && e["expect"] == 200)
        .unwrap();
    let desk = creds["accounts"].as_array().unwrap().iter().find(|a| a["role"] == "desk").unwrap();
    ureq::post(&format!("{base}/v1/identity/lookup"))
        .set("Authorization", &format!("Bearer {}", desk["token"].as_str().unwrap()))
        .set("Content-Type", "application/json")
        .send_string(&routine["body"].to_string())
        .unwrap();
    let nid = routine["body"]["nid"].as_str().unwrap();
    let out_dir = e2e.join("out");
    let run = Command::new("node")
        .current_dir(&e2e)
        .arg("dashboard.mjs")
        .args([base.as_str(), dir.join("credentials.json").to_str().unwrap(), log.to_str().unwrap(), nid])
        .arg(&out_dir)
        .output()
        .unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    assert!(run.status.success(), "{text}");
    assert_eq!(text.matches("ok - ").count(), 6, "{text}");
    for shot in ["alerts.png", "officer.png", "log.png", "approvals.png", "citizen.png"] {
        assert!(std::fs::metadata(out_dir.join(shot)).unwrap().len() > 10_000, "{shot}");
    }
}

/// Render the report in headless Chromium and check that every chart drew. Skipped with a
/// notice when Chromium is not installed, unless `CUSTOS_REQUIRE_CHROMIUM=1` (CI).
fn chromium_draws(page: &Path) {
    let bin = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].into_iter().find(|p| Path::new(p).exists());
    let Some(bin) = bin else {
        assert!(
            std::env::var("CUSTOS_REQUIRE_CHROMIUM").as_deref() != Ok("1"),
            "CUSTOS_REQUIRE_CHROMIUM=1 but Chromium is not installed"
        );
        eprintln!("notice: chromium not found; report.html was not rendered");
        return;
    };
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    assert_eq!(dom.matches("data-drawn=\"true\"").count(), 4, "not every chart drew");
    assert!(dom.matches("<rect").count() > 50, "too few bars drawn");
    assert!(dom.contains("<polyline"), "the explained-share line was not drawn");
    assert!(dom.contains("seed_case_pair"), "the insiders table was not filled");
}
