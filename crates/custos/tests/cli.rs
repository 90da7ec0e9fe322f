//! The `custos` command line, end to end.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code")]

mod common;

use common::{custos, ok};

use std::path::Path;
use std::process::{Command, Stdio};

fn init(dir: &Path) {
    ok(&custos(dir, &["init", "--origin", "custos.test/audit"]));
}

#[test]
fn help_lists_the_subcommands() {
    let d = tempfile::tempdir().unwrap();
    let out = ok(&custos(d.path(), &["--help"]));
    for cmd in ["init", "serve", "audit", "witness", "demo"] {
        assert!(out.contains(cmd), "{out}");
    }
}

#[test]
fn a_publication_interval_no_timer_can_wait_is_refused_not_a_panic() {
    let d = tempfile::tempdir().unwrap();
    for v in ["inf", "NaN", "1e300", "0", "abc"] {
        let o = custos(d.path(), &["serve", "--publish-interval", v]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{v}: {err}");
        assert!(err.contains("invalid value") && !err.contains("panicked"), "{v}: {err}");
    }
}

#[test]
fn init_writes_a_private_admin_token_and_refuses_twice() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("data");
    let out = ok(&custos(&dir, &["init"]));
    assert!(out.contains("admin.token"));
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(dir.join("admin.token")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(std::fs::read_to_string(dir.join("admin.token")).unwrap().starts_with("cst_"));
    let key = ok(&custos(&dir, &["audit", "key"]));
    assert_eq!(out.lines().last().unwrap(), key.trim());
    let again = custos(&dir, &["init"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds"));
}

#[test]
fn a_failed_init_leaves_the_directory_as_it_was() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("data");
    let o = custos(&dir, &["init", "--origin", "has+plus"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("invalid key name `has+plus`"));
    assert!(!dir.exists());
    // A directory that held something: what init made is taken away, the rest stays.
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    let o = custos(&dir, &["init", "--db", "postgres://custos@127.0.0.1:1/none"]);
    assert!(!o.status.success());
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, ["notes.txt"]);
    ok(&custos(&dir, &["init"]));
}

#[test]
fn a_dir_that_is_not_a_data_directory_is_named_and_left_alone() {
    // A mistyped --dir: every command that needs a data directory says so and how to make
    // one, and none of them leaves files behind there.
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("typo");
    for args in [
        vec!["serve"],
        vec!["audit", "checkpoint"],
        vec!["audit", "verify"],
        vec!["admin", "officer", "--id", "a", "--name", "b", "--unit", "c", "--roles", "desk"],
        vec!["import", "citizens", "x.csv"],
    ] {
        let o = custos(&dir, &args);
        assert!(!o.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("there is no data directory at"), "{args:?}: {err}");
        assert!(err.contains("custos init --dir"), "{args:?}: {err}");
        assert!(!dir.exists(), "{args:?} created `{}`", dir.display());
    }
    std::fs::create_dir(&dir).unwrap();
    let err = String::from_utf8_lossy(&custos(&dir, &["audit", "checkpoint"]).stderr).into_owned();
    assert!(err.contains("is not a Custos data directory"), "{err}");
}

#[test]
fn append_prove_consistency_and_verify() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("data");
    init(&dir);
    let file = d.path().join("entries.txt");
    let lines: Vec<String> = (0..700).map(|i| format!("{{\"n\":{i}}}")).collect();
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let out = ok(&custos(&dir, &["audit", "append", file.to_str().unwrap()]));
    assert!(out.contains("appended 700 entries: indices 0..=699; tree size 700"), "{out}");
    let saved = d.path().join("cp700");
    std::fs::write(&saved, ok(&custos(&dir, &["audit", "checkpoint"]))).unwrap();

    // Standard input works too.
    let mut child = Command::new(env!("CARGO_BIN_EXE_custos"))
        .args(["--dir", dir.to_str().unwrap(), "audit", "append", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Blank lines (here one with a CRLF ending) record nothing and are not entries.
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"a\n\nb\n\r\nc\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("indices 700..=702; tree size 703; 2 blank lines skipped"), "{text}");

    // The inclusion proof printed verifies against the checkpoint's root.
    let proof: serde_json::Value =
        serde_json::from_str(&ok(&custos(&dir, &["audit", "prove", "--index", "5"]))).unwrap();
    let h = |v: &serde_json::Value| custos_tlog::checkpoint::parse_hash(v.as_str().unwrap()).unwrap();
    let path: Vec<_> = proof["proof"].as_array().unwrap().iter().map(h).collect();
    assert_eq!(proof["tree_size"], 703);
    assert_eq!(h(&proof["leaf_hash"]), custos_tlog::merkle::leaf_hash(b"{\"n\":5}"));
    custos_tlog::merkle::verify_inclusion(&h(&proof["leaf_hash"]), 5, 703, &path, &h(&proof["root"]))
        .unwrap();
    let c: serde_json::Value =
        serde_json::from_str(&ok(&custos(&dir, &["audit", "consistency", "--from", "700"]))).unwrap();
    let cpath: Vec<_> = c["proof"].as_array().unwrap().iter().map(h).collect();
    custos_tlog::merkle::verify_consistency(700, 703, &h(&c["from_root"]), &h(&c["to_root"]), &cpath)
        .unwrap();

    let out = ok(&custos(&dir, &["audit", "verify", "--quiet", "--since", saved.to_str().unwrap()]));
    assert!(out.contains("verified 703 entries"), "{out}");
    assert!(out.contains("consistent with the earlier checkpoint"));
    // A file that is not a checkpoint of this log is the auditor's mistake, not a failed log.
    let notes = d.path().join("notes.txt");
    std::fs::write(&notes, "meeting notes\n").unwrap();
    let o = custos(&dir, &["audit", "verify", "--quiet", "--since", notes.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("notes.txt` is not a checkpoint signed by this log's key"), "{err}");
    assert!(!err.contains("FAILED"), "{err}");

    // Bad input: an index outside the log is a clear error, not a panic.
    let bad = custos(&dir, &["audit", "prove", "--index", "703"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("outside a tree of size 703"));
}

#[test]
fn oversized_lines_are_refused_with_file_and_line() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("data");
    init(&dir);
    let file = d.path().join("big.txt");
    std::fs::write(&file, format!("ok\n{}\n", "x".repeat(70_000))).unwrap();
    let o = custos(&dir, &["audit", "append", file.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("big.txt:2:") && err.contains("65535"), "{err}");
}

#[test]
fn verify_names_the_tampered_entry() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("data");
    init(&dir);
    let file = d.path().join("e.txt");
    std::fs::write(&file, (0..600).map(|i| format!("record {i:04}\n")).collect::<String>()).unwrap();
    ok(&custos(&dir, &["audit", "append", file.to_str().unwrap()]));
    // Each record is "record NNNN" (11 bytes) after a 2-byte length.
    let p = dir.join("log/entries.dat");
    let mut b = std::fs::read(&p).unwrap();
    b[13 * 321 + 2 + 7] = b'9';
    std::fs::write(&p, b).unwrap();
    let o = custos(&dir, &["audit", "verify", "--quiet"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("entry 321 was altered"), "{err}");
}

#[test]
fn verify_over_http_against_a_running_server() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("data");
    init(&dir);
    let file = d.path().join("e.txt");
    std::fs::write(&file, (0..300).map(|i| format!("r{i}\n")).collect::<String>()).unwrap();
    ok(&custos(&dir, &["audit", "append", file.to_str().unwrap()]));
    let key = ok(&custos(&dir, &["audit", "key"])).trim().to_string();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut server = Command::new(env!("CARGO_BIN_EXE_custos"))
        .args(["--dir", dir.to_str().unwrap(), "serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/audit");
    let mut up = false;
    for _ in 0..100 {
        if ureq::get(&format!("{url}/checkpoint")).call().is_ok() {
            up = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(up, "server did not start");
    let token = std::fs::read_to_string(dir.join("admin.token")).unwrap();
    let good =
        custos(&dir, &["audit", "verify", "--quiet", "--url", &url, "--key", &key, "--token", token.trim()]);
    let no_token = custos(&dir, &["audit", "verify", "--quiet", "--url", &url, "--key", &key]);
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(ok(&good).contains("verified 300 entries"));
    assert!(!no_token.status.success());
    assert!(String::from_utf8_lossy(&no_token.stderr).contains("401"));
}

#[test]
fn plain_http_on_a_reachable_address_is_warned_about_and_loopback_is_not() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("data");
    init(&dir);
    // What `serve` writes to stderr while it serves on `host`.
    let stderr_serving_on = |host: &str| {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_custos"))
            .args(["--dir", dir.to_str().unwrap(), "serve", "--listen", &format!("{host}:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let up = (0..400).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(50));
            ureq::get(&format!("http://127.0.0.1:{port}/healthz")).call().is_ok()
        });
        child.kill().unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(up, "did not serve on {host}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = stderr_serving_on("0.0.0.0");
    assert!(err.contains("plain HTTP") && err.contains("--tls-cert"), "{err}");
    let err = stderr_serving_on("127.0.0.1");
    assert!(!err.contains("plain HTTP"), "{err}");
}

#[test]
fn serve_over_https_with_pem_files_and_refuses_ones_it_cannot_use() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("data");
    init(&dir);
    let tls = common::test_tls_dir();
    let (cert, key) = (tls.join("server.pem"), tls.join("server.key"));
    // Files it cannot use are named, before anything is served.
    let missing = d.path().join("nope.pem");
    let o =
        custos(&dir, &["serve", "--tls-cert", missing.to_str().unwrap(), "--tls-key", key.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("nope.pem"), "{err}");
    let o = custos(&dir, &["serve", "--tls-cert", cert.to_str().unwrap()]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("--tls-key"));
    // HTTPS with the test certificate, to a client that trusts the test CA.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let _server = common::Server(
        Command::new(env!("CARGO_BIN_EXE_custos"))
            .args(["--dir", dir.to_str().unwrap(), "serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let agent = common::test_tls_agent();
    let url = format!("https://localhost:{port}/audit/checkpoint");
    let up = (0..400).find_map(|_| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        agent.get(&url).call().ok()
    });
    let checkpoint = up.expect("served over https").into_string().unwrap();
    assert!(checkpoint.starts_with("custos.test/audit\n"), "{checkpoint}");
    // Plain HTTP on that port gets no answer.
    assert!(ureq::get(&format!("http://127.0.0.1:{port}/healthz")).call().is_err());
    // The log verifies over https against the private authority named with --ca, and not
    // against the public roots.
    let vkey = ok(&custos(&dir, &["audit", "key"])).lines().last().unwrap().trim().to_string();
    let prefix = format!("https://localhost:{port}/audit");
    let ca = tls.join("ca.pem");
    let v = |extra: &[&str]| {
        let mut args = vec!["audit", "verify", "--url", &prefix, "--key", &vkey, "--quiet"];
        args.extend_from_slice(extra);
        custos(&dir, &args)
    };
    let out = ok(&v(&["--ca", ca.to_str().unwrap()]));
    assert!(out.contains("verified"), "{out}");
    let o = v(&[]);
    let err = String::from_utf8_lossy(&o.stderr).to_lowercase();
    assert!(!o.status.success() && err.contains("certificate"), "{err}");
}

#[test]
fn with_a_client_ca_an_officers_token_works_only_with_their_certificate() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("data");
    init(&dir);
    let file = d.path().join("e.txt");
    std::fs::write(&file, (0..40).map(|i| format!("r{i}\n")).collect::<String>()).unwrap();
    ok(&custos(&dir, &["audit", "append", file.to_str().unwrap()]));
    ok(&custos(
        &dir,
        &["admin", "officer", "--id", "inv1", "--name", "A", "--unit", "OVS", "--roles", "auditor"],
    ));
    let tok: serde_json::Value =
        serde_json::from_str(&ok(&custos(&dir, &["admin", "token", "--officer", "inv1"]))).unwrap();
    let token = tok["token"].as_str().unwrap().to_string();
    let tls = common::test_tls_dir();
    let path = |f: &str| tls.join(f).to_str().unwrap().to_string();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let _server = common::Server(
        Command::new(env!("CARGO_BIN_EXE_custos"))
            .args(["--dir", dir.to_str().unwrap(), "serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--tls-cert", &path("server.pem"), "--tls-key", &path("server.key")])
            .args(["--tls-client-ca", &path("clients-ca.pem")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let agent = common::test_tls_agent();
    let up = (0..400).find_map(|_| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        agent.get(&format!("https://localhost:{port}/audit/checkpoint")).call().ok()
    });
    assert!(up.is_some(), "served over https");
    let vkey = ok(&custos(&dir, &["audit", "key"])).lines().last().unwrap().trim().to_string();
    let prefix = format!("https://localhost:{port}/audit");
    let ca = path("ca.pem");
    let v = |extra: &[&str]| {
        let mut args = vec!["audit", "verify", "--url", &prefix, "--key", &vkey, "--quiet", "--ca", &ca];
        args.extend_from_slice(&["--token", &token]);
        args.extend_from_slice(extra);
        custos(&dir, &args)
    };
    // The auditor's token with their own certificate: the entries are theirs to read.
    let out = ok(&v(&["--client-cert", &path("client-inv1.pem"), "--client-key", &path("client-inv1.key")]));
    assert!(out.contains("verified"), "{out}");
    // The same token without a certificate, or with another officer's: 401.
    let o = v(&[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("401"), "{err}");
    let o = v(&["--client-cert", &path("client-inv2.pem"), "--client-key", &path("client-inv2.key")]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("401"), "{err}");
    // Each refusal is logged under inv1 and read by the live detector as their token in other
    // hands: a high alert, which inv1 (an auditor) reads with their own certificate.
    let cfg = custos_server::tls::client_with_certificate(
        &std::fs::read_to_string(&ca).unwrap(),
        &tls.join("client-inv1.pem"),
        &tls.join("client-inv1.key"),
    )
    .unwrap();
    let inv1_machine = ureq::AgentBuilder::new().tls_config(cfg).build();
    let alert = (0..100).find_map(|_| {
        let r: serde_json::Value = serde_json::from_str(
            &inv1_machine
                .get(&format!("https://localhost:{port}/v1/alerts"))
                .set("Authorization", &format!("Bearer {token}"))
                .call()
                .unwrap()
                .into_string()
                .unwrap(),
        )
        .unwrap();
        let found =
            r["alerts"].as_array().unwrap().iter().find(|a| a["detector"] == "credential_misuse").cloned();
        if found.is_none() {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        found
    });
    let alert = alert.expect("a credential_misuse alert");
    assert_eq!(
        (alert["officer"].as_str(), alert["severity"].as_str()),
        (Some("inv1"), Some("high")),
        "{alert}"
    );
    // --client-cert needs --ca (clap), and a client CA needs TLS.
    let o = custos(
        &dir,
        &["audit", "verify", "--url", &prefix, "--key", &vkey, "--client-cert", "x", "--client-key", "y"],
    );
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("--ca"));
    let o = custos(&dir, &["serve", "--tls-client-ca", &path("clients-ca.pem")]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("--tls-cert"));
}

#[test]
fn the_key_encryption_key_rotates_to_a_new_file_or_passphrase_and_back() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("data");
    init(&dir);
    // `custos` with the given passphrases (and none inherited).
    let run = |args: &[&str], pass: Option<&str>, new_pass: Option<&str>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_custos"));
        c.arg("--dir")
            .arg(&dir)
            .args(args)
            .env_remove("CUSTOS_PASSPHRASE")
            .env_remove("CUSTOS_NEW_PASSPHRASE");
        if let Some(p) = pass {
            c.env("CUSTOS_PASSPHRASE", p);
        }
        if let Some(p) = new_pass {
            c.env("CUSTOS_NEW_PASSPHRASE", p);
        }
        c.output().unwrap()
    };
    let call = |id: &str, pass: Option<&str>| {
        run(
            &["admin", "officer", "--id", id, "--name", "N", "--unit", "ATU", "--roles", "investigator"],
            pass,
            None,
        )
    };
    ok(&call("a", None));
    let kek = dir.join("keys/kek.key");
    let old = std::fs::read(&kek).unwrap();
    // To a new key file: the old key no longer opens the store, the new one does.
    let out = ok(&run(&["keys", "rotate"], None, None));
    assert!(out.contains("rotated") && out.contains("every replica"), "{out}");
    let new = std::fs::read(&kek).unwrap();
    assert_ne!(old, new);
    ok(&call("b", None));
    std::fs::write(&kek, &old).unwrap();
    assert!(!call("c", None).status.success(), "the old key still opens the store");
    std::fs::write(&kek, &new).unwrap();
    // To a passphrase: the key file goes; only that passphrase opens the store.
    let out = ok(&run(&["keys", "rotate"], None, Some("correct horse battery staple")));
    assert!(out.contains("set CUSTOS_PASSPHRASE"), "{out}");
    assert!(!kek.exists() && dir.join("keys/kek.salt").exists());
    let e = call("c", None);
    assert!(String::from_utf8_lossy(&e.stderr).contains("CUSTOS_PASSPHRASE"), "{e:?}");
    assert!(!call("c", Some("wrong horse")).status.success());
    ok(&call("c", Some("correct horse battery staple")));
    // And back to a key file.
    ok(&run(&["keys", "rotate"], Some("correct horse battery staple"), None));
    assert!(kek.exists() && !dir.join("keys/kek.salt").exists());
    ok(&call("d", None));
    // Each rotation is in the audit log, which still verifies.
    ok(&custos(&dir, &["audit", "verify", "--quiet"]));
    let log = custos_logstore::LogStore::open(&dir, custos_logstore::Options::default()).unwrap();
    let rotations = (0..log.committed().size)
        .filter(|&i| {
            String::from_utf8_lossy(&log.entry(i).unwrap().unwrap()).contains(r#""action":"rotate_kek""#)
        })
        .count();
    assert_eq!(rotations, 3);
}

#[test]
fn the_key_encryption_key_can_live_in_an_external_key_service() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("data");
    let kms = Path::new(env!("CARGO_MANIFEST_DIR")).join("../custos-store/tests/kms/fake-kms.sh");
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_custos"));
        c.arg("--dir").arg(&dir).args(args);
        for k in
            ["CUSTOS_PASSPHRASE", "CUSTOS_NEW_PASSPHRASE", "CUSTOS_KEK_COMMAND", "CUSTOS_NEW_KEK_COMMAND"]
        {
            c.env_remove(k);
        }
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let officer = |id: &str| {
        run(&["admin", "officer", "--id", id, "--name", "N", "--unit", "ATU", "--roles", "investigator"], &[])
    };
    ok(&run(&["init", "--origin", "custos.test/audit"], &[("CUSTOS_KEK_COMMAND", kms.to_str().unwrap())]));
    // No key in the directory: only the command's name.
    assert!(!dir.join("keys/kek.key").exists() && dir.join("keys/kek.command").exists());
    ok(&officer("a"));
    // With the command gone, nothing opens, and the error says which command.
    std::fs::write(dir.join("keys/kek.command"), d.path().join("gone.sh").to_str().unwrap()).unwrap();
    let e = officer("b");
    assert!(!e.status.success() && String::from_utf8_lossy(&e.stderr).contains("gone.sh"), "{e:?}");
    std::fs::write(dir.join("keys/kek.command"), kms.to_str().unwrap()).unwrap();
    // Rotated to a key file and back to the command.
    ok(&run(&["keys", "rotate"], &[]));
    assert!(dir.join("keys/kek.key").exists() && !dir.join("keys/kek.command").exists());
    ok(&officer("b"));
    let out = ok(&run(&["keys", "rotate"], &[("CUSTOS_NEW_KEK_COMMAND", kms.to_str().unwrap())]));
    assert!(out.contains("key command"), "{out}");
    assert!(!dir.join("keys/kek.key").exists() && dir.join("keys/kek.command").exists());
    ok(&officer("c"));
}

#[test]
fn a_witness_serves_over_https_too() {
    let d = tempfile::tempdir().unwrap();
    let wdir = d.path().join("w");
    ok(&custos(&wdir, &["witness", "init", "--name", "oversight.test/w"]));
    let tls = common::test_tls_dir();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let _witness = common::Server(
        Command::new(env!("CARGO_BIN_EXE_custos"))
            .args([
                "--dir",
                wdir.to_str().unwrap(),
                "witness",
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
            ])
            .args(["--tls-cert", tls.join("server.pem").to_str().unwrap()])
            .args(["--tls-key", tls.join("server.key").to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let agent = common::test_tls_agent();
    let url = format!("https://localhost:{port}/add-checkpoint");
    // A body that is no checkpoint: the witness's own 400, over TLS.
    let status = (0..400).find_map(|_| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        match agent.post(&url).send_string("not a checkpoint") {
            Err(ureq::Error::Status(code, _)) => Some(code),
            Ok(r) => Some(r.status()),
            Err(_) => None,
        }
    });
    assert_eq!(status, Some(400));
}
