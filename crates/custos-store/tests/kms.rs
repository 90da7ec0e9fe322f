//! The key-encryption key held by an external service, reached through a command: a stand-in
//! KMS tool (`tests/kms/fake-kms.sh`, openssl under a secret of its own) wraps and unwraps the
//! data keys of a real store, and failing, silent or hanging tools are reported, not trusted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code")]

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use custos_store::crypto::KeyWrapper;
use custos_store::kms::CommandKek;
use custos_store::sqlite::SqliteStore;
use custos_store::{Citizen, LocalKek, Registry};

fn fake_kms() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/kms/fake-kms.sh")
}

fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

#[test]
fn a_store_keyed_by_an_external_command_opens_only_through_it() {
    let d = tempfile::tempdir().unwrap();
    let kms = CommandKek::new(fake_kms());
    let db = d.path().join("custos.db");
    let reg = Registry::init(Box::new(SqliteStore::open(&db).unwrap()), &kms).unwrap();
    let c = Citizen { nid: "1234567890".into(), name_en: "Karim Rahman".into(), ..Citizen::default() };
    reg.add_citizens(&[c]).unwrap();
    drop(reg);
    let reg = Registry::open(Box::new(SqliteStore::open(&db).unwrap()), &kms).unwrap();
    assert_eq!(reg.citizen_by_nid("1234567890").unwrap().unwrap().1.name_en, "Karim Rahman");
    // Another key-encryption key opens nothing.
    assert!(
        Registry::open(Box::new(SqliteStore::open(&db).unwrap()), &LocalKek::from_bytes([9; 32])).is_err()
    );
    // A wrapping is bound to its key's name.
    let w = kms.wrap("identity", &[7; 32]).unwrap();
    assert_eq!(kms.unwrap_key("identity", &w).unwrap(), [7; 32]);
    assert!(kms.unwrap_key("cdr", &w).is_err());
}

#[test]
fn failing_silent_or_hanging_commands_are_errors_that_say_which() {
    let d = tempfile::tempdir().unwrap();
    let down = script(d.path(), "down.sh", "echo 'kms unreachable: connection refused' >&2; exit 3");
    let e = CommandKek::new(&down).wrap("identity", &[1; 32]).unwrap_err().to_string();
    assert!(e.contains("down.sh") && e.contains("wrap identity") && e.contains("kms unreachable"), "{e}");
    let junk = script(d.path(), "junk.sh", "cat >/dev/null; echo 'not base64 at all!'");
    let e = CommandKek::new(&junk).unwrap_key("cdr", b"x").unwrap_err().to_string();
    assert!(e.contains("not base64"), "{e}");
    let short = script(d.path(), "short.sh", "cat >/dev/null; echo AAAA");
    let e = CommandKek::new(&short).unwrap_key("cdr", b"x").unwrap_err().to_string();
    assert!(e.contains("not 32 bytes"), "{e}");
    let silent = script(d.path(), "silent.sh", "cat >/dev/null");
    assert!(CommandKek::new(&silent).wrap("audit", &[1; 32]).unwrap_err().to_string().contains("nothing"));
    let hang = script(d.path(), "hang.sh", "sleep 30");
    let t = std::time::Instant::now();
    let e = CommandKek::new(&hang)
        .with_timeout(Duration::from_millis(300))
        .wrap("blind", &[1; 32])
        .unwrap_err()
        .to_string();
    assert!(e.contains("no answer within"), "{e}");
    assert!(t.elapsed() < Duration::from_secs(10));
    let missing = CommandKek::new(d.path().join("no-such-tool"));
    assert!(missing.wrap("identity", &[1; 32]).unwrap_err().to_string().contains("cannot start"));
}
