//! Crash safety: a child process appending under load is killed with SIGKILL at random
//! moments, many times. After every restart each acknowledged index must be present with its
//! content, and the whole log must verify.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code")]

use std::io::BufRead as _;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use custos_logstore::{DirTiles, LogStore, Options};
use custos_tlog::verify::verify_signed_log;

#[test]
fn acknowledged_entries_survive_sigkill() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("data");
    std::fs::create_dir_all(&dir).unwrap();
    LogStore::init(&dir, "custos.test/audit").unwrap();
    let key = DirTiles::verifier_from_dir(&dir).unwrap();
    let mut acked: Vec<(u64, String)> = Vec::new();
    // Deterministic pseudo-random kill delays between 20 and 220 ms.
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let rounds = 20;
    for round in 0..rounds {
        let mut child = Command::new(env!("CARGO_BIN_EXE_custos"))
            .args(["--dir", dir.to_str().unwrap(), "audit", "stress", "--writers", "16"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let delay = Duration::from_millis(20 + x % 200);
        let start = Instant::now();
        let mut this_round = Vec::new();
        while start.elapsed() < delay {
            if let Ok(l) = rx.recv_timeout(Duration::from_millis(5)) {
                this_round.push(l);
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // Lines already printed before the kill were acknowledged too.
        reader.join().unwrap();
        this_round.extend(rx.try_iter());
        for l in this_round {
            let (idx, e) = l.split_once(' ').unwrap();
            acked.push((idx.parse().unwrap(), e.to_string()));
        }
        // Restart: every acknowledged entry is there, and the log verifies.
        let log = LogStore::open(&dir, Options::default()).unwrap_or_else(|e| panic!("round {round}: {e}"));
        let size = log.committed().size;
        for (idx, e) in &acked {
            assert!(*idx < size, "round {round}: acknowledged index {idx} lost (size {size})");
            assert_eq!(log.entry(*idx).unwrap().unwrap(), e.as_bytes(), "round {round}: index {idx}");
        }
        drop(log);
        let mut t = DirTiles::open(&dir).unwrap();
        let cp = t.last_commit().checkpoint.clone();
        verify_signed_log(&mut t, &cp, &key, None, &mut |_| {})
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
    }
    assert!(acked.len() > 100, "the child acknowledged too little to test anything: {}", acked.len());
}
