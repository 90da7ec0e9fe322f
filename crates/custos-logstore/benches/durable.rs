//! Load benchmark of the durable log, beside raw SHA-256 over the same bytes in the same run.
//!
//! Run: `cargo bench -p custos-logstore --bench durable` (set `CUSTOS_BENCH_DIR` to choose the
//! disk; default: a temporary directory). Prints a Markdown table for BENCHMARKS.md.
//!
//! 1. Durable append of 1 KiB entries with 1, 64 and 1,024 concurrent appenders: entries/s
//!    and per-append latency percentiles (every append waits for its fsync'd commit).
//! 2. Full verification of a 1,000,000-entry log from its files, in entries/s and MB/s,
//!    against raw SHA-256 of the same entry bytes.
//! 3. Inclusion-proof generation from the files at 1,000,000 entries, and verification.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, reason = "benchmark code")]

use std::time::{Duration, Instant};

use custos_logstore::{DirTiles, LogStore, Options};
use custos_tlog::merkle::{leaf_hash, verify_inclusion};
use custos_tlog::verify::verify_signed_log;
use sha2::{Digest, Sha256};

fn entry(i: u64) -> Vec<u8> {
    let mut e = vec![b'a' + (i % 26) as u8; 1024];
    e[..8].copy_from_slice(&i.to_le_bytes());
    e
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

fn bench_dir() -> tempfile::TempDir {
    match std::env::var_os("CUSTOS_BENCH_DIR") {
        Some(d) => tempfile::tempdir_in(d).unwrap(),
        None => tempfile::tempdir().unwrap(),
    }
}

fn append_load(concurrency: usize, duration: Duration) -> (f64, f64, f64, f64) {
    let d = bench_dir();
    LogStore::init(d.path(), "bench.custos/audit").unwrap();
    let log = LogStore::open(d.path(), Options::default()).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let started = Instant::now();
    let lat: Vec<Duration> = rt.block_on(async {
        let mut tasks = Vec::new();
        for c in 0..concurrency {
            let log = log.clone();
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut i = c as u64;
                while started.elapsed() < duration {
                    let t = Instant::now();
                    log.append_async(entry(i)).await.unwrap();
                    lat.push(t.elapsed());
                    i += concurrency as u64;
                }
                lat
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        all
    });
    let secs = started.elapsed().as_secs_f64();
    let mut lat = lat;
    lat.sort();
    let commits = custos_logstore::read_commits(&d.path().join("log/commits.log")).unwrap().0.len();
    let rate = lat.len() as f64 / secs;
    eprintln!("  {concurrency} appenders: {} entries in {secs:.2}s over {commits} commits", lat.len());
    (rate, pct(&lat, 0.5), pct(&lat, 0.99), lat.len() as f64 / commits as f64)
}

fn main() {
    // Criterion-style filter arguments are ignored; `--bench` is passed by cargo.
    let n: u64 = std::env::var("CUSTOS_BENCH_ENTRIES").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let secs: u64 = std::env::var("CUSTOS_BENCH_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(5);

    // Baseline: raw SHA-256 over 1 KiB blocks.
    let block = entry(1);
    let t = Instant::now();
    let mut x = 0u8;
    let reps = 400_000;
    for _ in 0..reps {
        x ^= Sha256::digest(&block)[0];
    }
    let sha_mbs = reps as f64 * 1024.0 / t.elapsed().as_secs_f64() / 1e6;
    println!("| baseline: raw SHA-256, 1 KiB blocks | {sha_mbs:.0} MB/s | (x={x}) |");

    println!(
        "\n| durable append, 1 KiB entries | entries/s | p50 ms | p99 ms | entries per fsync'd commit |"
    );
    println!("|---|---|---|---|---|");
    for c in [1usize, 64, 1024] {
        let (rate, p50, p99, per) = append_load(c, Duration::from_secs(secs));
        println!("| {c} concurrent appenders | {rate:.0} | {p50:.2} | {p99:.2} | {per:.1} |");
    }

    // Build a log of n entries with large batches.
    let d = bench_dir();
    LogStore::init(d.path(), "bench.custos/audit").unwrap();
    let log = LogStore::open(d.path(), Options::default()).unwrap();
    let t = Instant::now();
    let mut i = 0;
    while i < n {
        let k = (n - i).min(65_536);
        log.append_batch((i..i + k).map(entry).collect()).unwrap();
        i += k;
    }
    let build = t.elapsed().as_secs_f64();
    println!("\n| batch append of {n} entries (65,536 per call) | {:.0} entries/s |", n as f64 / build);

    // Verify from the files.
    let key = DirTiles::verifier_from_dir(d.path()).unwrap();
    let mut tiles = DirTiles::open(d.path()).unwrap();
    let cp = tiles.last_commit().checkpoint.clone();
    let t = Instant::now();
    let (_, rep) = verify_signed_log(&mut tiles, &cp, &key, None, &mut |_| {}).unwrap();
    let vsecs = t.elapsed().as_secs_f64();
    // Baseline in the same run: read the same entry bytes and SHA-256 each entry.
    let t = Instant::now();
    let mut f = std::io::BufReader::with_capacity(
        1 << 20,
        std::fs::File::open(d.path().join("log/entries.dat")).unwrap(),
    );
    let mut y = 0u8;
    let mut buf = vec![0u8; 65_536];
    let mut len = [0u8; 2];
    while std::io::Read::read_exact(&mut f, &mut len).is_ok() {
        let l = u16::from_be_bytes(len) as usize;
        std::io::Read::read_exact(&mut f, &mut buf[..l]).unwrap();
        y ^= Sha256::digest(&buf[..l])[0];
    }
    let bsecs = t.elapsed().as_secs_f64();
    let mb = rep.entry_bytes as f64 / 1e6;
    println!("\n| {n} entries | entries/s | MB/s of entries | seconds |");
    println!("|---|---|---|---|");
    println!(
        "| full `verify` (entries, all tiles, root, signature) | {:.0} | {:.0} | {vsecs:.2} |",
        n as f64 / vsecs,
        mb / vsecs
    );
    println!(
        "| baseline: plain buffered file read + raw SHA-256 per entry (y={y}) | {:.0} | {:.0} | {bsecs:.2} |",
        n as f64 / bsecs,
        mb / bsecs
    );
    println!("| verify / baseline | {:.0}% | | |", 100.0 * bsecs / vsecs);

    // Proofs from the files.
    let reps = 20_000u64;
    let mut proofs = Vec::with_capacity(reps as usize);
    let t = Instant::now();
    for k in 0..reps {
        let idx = (k * 7919 + 13) % n;
        proofs.push((idx, log.inclusion_proof(idx, None).unwrap().1));
    }
    let gen_us = t.elapsed().as_secs_f64() * 1e6 / reps as f64;
    let root = log.committed().root;
    let t = Instant::now();
    for (idx, p) in &proofs {
        verify_inclusion(&leaf_hash(&entry(*idx)), *idx, n, p, &root).unwrap();
    }
    let ver_us = t.elapsed().as_secs_f64() * 1e6 / reps as f64;
    println!("\n| inclusion proof at {n} entries | mean µs |");
    println!("|---|---|");
    println!("| generate (from hashes.dat, pread per node) | {gen_us:.1} |");
    println!("| verify (includes hashing the 1 KiB leaf) | {ver_us:.1} |");
}
