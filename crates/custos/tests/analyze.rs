//! `custos sim` + `custos analyze` end to end: the JSON shape, ranking, bad rows.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code")]

use std::process::Command;

fn custos(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_custos")).args(args).env_remove("CUSTOS_DIR").output().unwrap()
}

/// `custos analyze --log LOG` with the other arguments given.
fn analyze(log: &std::path::Path, rest: &[&str]) -> std::process::Output {
    let mut args = vec!["analyze", "--log", log.to_str().unwrap()];
    args.extend_from_slice(rest);
    custos(&args)
}

/// The JSON a successful run printed (the run's stderr shown if it failed).
fn json_of(o: &std::process::Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// `custos sim` into a fresh directory: officers, days, citizens, seed.
fn simulated_agency(officers: &str, days: &str, citizens: &str, seed: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().to_str().unwrap();
    let s = custos(&[
        "sim",
        "--out",
        out,
        "--officers",
        officers,
        "--days",
        days,
        "--citizens",
        citizens,
        "--seed",
        seed,
    ]);
    assert!(s.status.success(), "{}", String::from_utf8_lossy(&s.stderr));
    d
}

#[test]
fn analyze_ranks_planted_insiders_and_reports_bad_rows() {
    let d = simulated_agency("120", "40", "10000", "9");
    let log = d.path().join("access_log.csv");
    // Damage the log: two bad rows in the middle are skipped and reported by line.
    let mut text = std::fs::read_to_string(&log).unwrap();
    text.push_str("not-a-time,OFF-1,U,identity_lookup,123,,allowed,1\n2026-01-05T10:00:00+06:00,OFF-1,U,identity_lookup,123,,maybe,1\n");
    std::fs::write(&log, &text).unwrap();
    let lines = text.lines().count();
    let (cases, watch) = (d.path().join("cases.csv"), d.path().join("watch.csv"));
    let o = analyze(
        &log,
        &["--cases", cases.to_str().unwrap(), "--watch", watch.to_str().unwrap(), "--format", "json"],
    );
    let v = json_of(&o);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(&format!("access_log.csv:{}: skipped: bad time", lines - 1)), "{err}");
    assert!(err.contains(&format!("access_log.csv:{}: skipped: bad outcome", lines)), "{err}");

    let top = v.as_object().unwrap();
    let sorted = |o: &serde_json::Map<String, serde_json::Value>| {
        let mut k: Vec<String> = o.keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(sorted(top), ["alerts", "officers"]);
    let officers = v["officers"].as_array().unwrap();
    assert_eq!(officers.len(), 120);
    assert_eq!(
        sorted(officers[0].as_object().unwrap()),
        ["first_flagged", "officer", "reasons", "score", "unit"]
    );
    let scores: Vec<f64> = officers.iter().map(|o| o["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "not sorted by score");
    let a = &v["alerts"][0];
    assert_eq!(sorted(a.as_object().unwrap()), ["detail", "detector", "officer", "severity", "time"]);

    let truth = std::fs::read_to_string(d.path().join("truth.csv")).unwrap();
    let insiders: Vec<&str> = truth.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    let budget: Vec<&str> =
        officers.iter().take(2 * insiders.len()).map(|o| o["officer"].as_str().unwrap()).collect();
    let found = insiders.iter().filter(|i| budget.contains(i)).count();
    assert!(
        found * 10 >= insiders.len() * 8,
        "only {found} of {} insiders in the top {}",
        insiders.len(),
        budget.len()
    );

    // Text output names the first insider with reasons; --strict stops at the first bad row.
    let t = analyze(&log, &["--top", "5"]);
    assert!(String::from_utf8_lossy(&t.stdout).contains("rank  officer"));
    let strict = analyze(&log, &["--strict"]);
    assert!(!strict.status.success());
    assert!(
        String::from_utf8_lossy(&strict.stderr).contains(&format!("access_log.csv:{}: bad time", lines - 1))
    );
    // The sellers' Telegram channel traces back to them.
    let export = d.path().join("telegram.json");
    let o = custos(&[
        "leak",
        "trace",
        export.to_str().unwrap(),
        "--log",
        log.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let v = json_of(&o);
    assert_eq!(
        sorted(v.as_object().unwrap()),
        ["coalitions", "found", "matched_subjects", "scanned", "suspects"]
    );
    assert!(v["scanned"]["messages"].as_u64().unwrap() > 10);
    assert!(v["matched_subjects"].as_u64().unwrap() >= 10, "{}", v["matched_subjects"]);
    let f = &v["found"][0];
    assert_eq!(sorted(f.as_object().unwrap()), ["chat", "date", "kind", "message_id", "value"]);
    let s0 = &v["suspects"][0];
    assert_eq!(
        sorted(s0.as_object().unwrap()),
        ["covered", "exclusive", "first_access", "guilt", "last_access", "officer"]
    );
    assert!(insiders.contains(&s0["officer"].as_str().unwrap()), "{s0}");
    let t = custos(&["leak", "trace", export.to_str().unwrap(), "--log", log.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&t.stdout).contains("coalitions:"));
    // A truncated export still gives partial results, with the position of the damage.
    let full = std::fs::read(&export).unwrap();
    std::fs::write(d.path().join("cut.json"), &full[..full.len() / 2]).unwrap();
    let cut = custos(&[
        "leak",
        "trace",
        d.path().join("cut.json").to_str().unwrap(),
        "--log",
        log.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(cut.status.success());
    assert!(
        String::from_utf8_lossy(&cut.stderr).contains("truncated"),
        "{}",
        String::from_utf8_lossy(&cut.stderr)
    );
    // A JSON file that is not an export is an error, not a trace of nothing.
    std::fs::write(d.path().join("not-an-export.json"), r#"{"name": "bazar"}"#).unwrap();
    let none = custos(&[
        "leak",
        "trace",
        d.path().join("not-an-export.json").to_str().unwrap(),
        "--log",
        log.to_str().unwrap(),
    ]);
    assert!(!none.status.success());
    let err = String::from_utf8_lossy(&none.stderr);
    assert!(err.contains("not-an-export.json`: a Telegram Desktop export was expected"), "{err}");
    // A file that is not an access log is a clear error.
    std::fs::write(d.path().join("x.csv"), "a,b\n1,2\n").unwrap();
    let bad = analyze(&d.path().join("x.csv"), &[]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("x.csv:1: CSV header lacks the `time` column"));
}

#[test]
fn times_without_an_offset_are_read_in_the_zone_given() {
    // Another agency's log writes local times without an offset: rejecting them would skip
    // every row. They are read as written (UTC unless --assume-offset says otherwise), with a
    // note saying so.
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("log.csv");
    std::fs::write(
        &log,
        "time,officer,unit,action,subject,case,outcome,records\n\
         2026-03-01 09:00:00,o1,U,identity_lookup,1111111111,,allowed,1\n\
         2026-03-01 22:15:00,o1,U,identity_lookup,1234567890,,allowed,1\n",
    )
    .unwrap();
    let watch = d.path().join("watch.csv");
    std::fs::write(&watch, "subject,label\n1234567890,honeytoken\n").unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["--watch", watch.to_str().unwrap(), "--format", "json"];
        args.extend_from_slice(extra);
        analyze(&log, &args)
    };
    let alert_time = |o: &std::process::Output| {
        let v = json_of(o);
        assert_eq!(v["alerts"][0]["detector"], "honeytoken", "{v}");
        v["alerts"][0]["time"].as_str().unwrap().to_string()
    };
    let utc = run(&[]);
    assert_eq!(alert_time(&utc), "2026-03-01T22:15:00Z");
    assert!(String::from_utf8_lossy(&utc.stderr).contains("2 rows give their time without a UTC offset"));
    let dhaka = run(&["--assume-offset", "+06:00"]);
    assert_eq!(alert_time(&dhaka), "2026-03-01T16:15:00Z");
    assert!(dhaka.stderr.is_empty(), "{}", String::from_utf8_lossy(&dhaka.stderr));
    let bad = run(&["--assume-offset", "Dhaka"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("bad UTC offset `Dhaka`"));
}

#[test]
fn numeric_dates_are_read_in_the_order_given_or_shown_and_an_assumed_one_is_said() {
    // Day- or month-first dates in a spreadsheet's separate date and time columns.
    let d = tempfile::tempdir().unwrap();
    let write = |name: &str, rows: &str| {
        let p = d.path().join(name);
        std::fs::write(&p, format!("Date,Time,User,Action,Subject,Result\n{rows}")).unwrap();
        p
    };
    let watch = d.path().join("watch.csv");
    std::fs::write(&watch, "subject,label\n1234567890,honeytoken\n").unwrap();
    let alert_time = |log: &std::path::Path, extra: &[&str]| {
        let mut args = vec!["--watch", watch.to_str().unwrap(), "--format", "json"];
        args.extend_from_slice(extra);
        let out = analyze(log, &args);
        let v = json_of(&out);
        assert_eq!(v["alerts"][0]["detector"], "honeytoken", "{v}");
        (
            v["alerts"][0]["time"].as_str().unwrap().to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    // No row's day is above 12: read day first, with a note; month first when told so.
    let unclear = write(
        "unclear.csv",
        "01/03/2026,09:00,o1,NID verify,1111111111,ok\n02/03/2026,22:15,o1,NID verify,1234567890,ok\n",
    );
    let (t, note) = alert_time(&unclear, &[]);
    assert_eq!(t, "2026-03-02T22:15:00Z");
    assert!(note.contains("read day first, as no row's day was above 12"), "{note}");
    let (t, note) = alert_time(&unclear, &["--date-order", "month-first"]);
    assert_eq!(t, "2026-02-03T22:15:00Z");
    assert!(!note.contains("day first"), "{note}");
    // A later row shows the order: month first, no note.
    let shown = write(
        "shown.csv",
        "03/01/2026,09:00,o1,NID verify,1111111111,ok\n03/02/2026,10:15 PM,o1,NID verify,1234567890,ok\n03/30/2026,09:00,o1,NID verify,1111111111,ok\n",
    );
    let (t, note) = alert_time(&shown, &[]);
    assert_eq!(t, "2026-03-02T22:15:00Z");
    assert!(!note.contains("day first"), "{note}");
}

#[test]
fn columns_no_rule_finds_are_named_on_the_command_line() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("export.csv");
    std::fs::write(&log, "Zeit;Benutzer;Vorgang;Rufnummer\n2026-03-01T22:15:00Z;o1;NID verify;1234567890\n")
        .unwrap();
    let watch = d.path().join("watch.csv");
    std::fs::write(&watch, "subject,label\n1234567890,honeytoken\n").unwrap();
    let w = watch.to_str().unwrap();
    let refused = analyze(&log, &["--watch", w]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("lacks the `time` column"));
    let named = ["--column", "time=Zeit", "--column", "officer=Benutzer", "--column", "action=Vorgang"];
    let mut args = vec!["--watch", w, "--format", "json", "--column", "subject=Rufnummer"];
    args.extend_from_slice(&named);
    let v = json_of(&analyze(&log, &args));
    assert_eq!(v["alerts"][0]["officer"], "o1", "{v}");
    assert_eq!(v["alerts"][0]["detector"], "honeytoken", "{v}");
    // A malformed or unknown name, or a header the file lacks, says which.
    for (bad, says) in [
        ("time", "expected COLUMN=HEADER"),
        ("who=Benutzer", "--column: unknown column `who`"),
        ("case=Akte", "export.csv:1: the header has no column `Akte` (named for `case`)"),
    ] {
        let mut args = vec!["--column", bad];
        args.extend_from_slice(&named);
        let out = analyze(&log, &args);
        assert!(!out.status.success(), "{bad}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(says),
            "{bad}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn a_log_not_in_time_order_is_sorted_first_and_says_so() {
    // An export sorted by officer would otherwise be read as every officer's late rows in one
    // day. It gives the same officers and scores as the same rows in time order.
    let d = simulated_agency("60", "20", "5000", "4");
    let log = d.path().join("access_log.csv");
    let text = std::fs::read_to_string(&log).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let header = lines.remove(0);
    lines.sort_by_key(|l| l.split(',').nth(1).unwrap_or_default().to_string());
    let by_officer = d.path().join("by_officer.csv");
    std::fs::write(&by_officer, format!("{header}\n{}\n", lines.join("\n"))).unwrap();
    let cases = d.path().join("cases.csv");
    let run = |p: &std::path::Path, more: &[&str]| {
        let o = analyze(p, &[&["--cases", cases.to_str().unwrap(), "--format", "json"], more].concat());
        let v = json_of(&o);
        (v["officers"].clone(), String::from_utf8_lossy(&o.stderr).into_owned())
    };
    let (ordered, quiet) = run(&log, &[]);
    let (sorted, note) = run(&by_officer, &[]);
    assert!(!quiet.contains("not in time order"), "{quiet}");
    assert!(note.contains("by_officer.csv: not in time order"), "{note}");
    assert!(!note.contains("sorting in runs"), "{note}");
    assert_eq!(sorted, ordered);
    // In bounded memory: sorted runs of a thousand rows on disk, merged, give the same.
    let (merged, note) = run(&by_officer, &["--sort-run-rows", "1000"]);
    assert!(note.contains("sorting in runs of 1000 rows"), "{note}");
    assert_eq!(merged, ordered);
    // Piped in, it cannot be opened again: what was read of the stream is read back from a
    // copy, then the rest of the stream.
    let mut child = Command::new(env!("CARGO_BIN_EXE_custos"))
        .args(["analyze", "--log", "/dev/stdin", "--cases", cases.to_str().unwrap(), "--format", "json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let bytes = std::fs::read(&by_officer).unwrap();
    let writer = std::thread::spawn(move || std::io::Write::write_all(&mut stdin, &bytes));
    let o = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(String::from_utf8_lossy(&o.stderr).contains("/dev/stdin: not in time order"));
    assert_eq!(json_of(&o)["officers"], ordered);
}

#[test]
fn a_log_with_no_rows_is_reported_as_such() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("log.csv");
    std::fs::write(&log, "time,officer,unit,action,subject,case,outcome,records\n").unwrap();
    let o = analyze(&log, &["--format", "text"]);
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.starts_with("0 accesses by 0 officers (0 bad rows skipped); none to explain; 0 alerts"),
        "{out}"
    );
    assert!(!out.contains("-0.0"), "{out}");
    assert_eq!(
        json_of(&analyze(&log, &["--format", "json"])),
        serde_json::json!({"officers": [], "alerts": []})
    );
}
