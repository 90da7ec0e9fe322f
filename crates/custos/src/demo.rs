//! `custos demo`: an end-to-end demonstration.
//!
//! Until the full agency simulation lands, the demo exercises the audit log end to end:
//! a data directory with a signed log, an oversight body's witness on loopback, synthetic
//! access records appended by 64 concurrent callers through durable group commit, the
//! checkpoint cosigned by the witness, a full verification, and a tampered copy that
//! verification catches and names.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context as _};
use custos_logstore::{DirTiles, LogStore, Options};
use custos_server::witness::{add_witness, Publisher, WitnessServer};
use custos_tlog::checkpoint::encode_hash;
use custos_tlog::verify::verify_signed_log;

const MARKER: &str = ".custos-demo";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scale {
    /// 200,000 audit entries.
    Small,
    /// 2,000,000 audit entries.
    Medium,
    /// 10,000,000 audit entries.
    Large,
}

impl Scale {
    fn entries(self) -> u64 {
        match self {
            Scale::Small => 200_000,
            Scale::Medium => 2_000_000,
            Scale::Large => 10_000_000,
        }
    }
}

/// SplitMix64: a tiny deterministic generator for synthetic data.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn prepare_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir)?.next().is_none();
        if !empty && !dir.join(MARKER).exists() {
            bail!(
                "`{}` exists and is not a demo directory; refusing to overwrite it (choose another --dir)",
                dir.display()
            );
        }
        std::fs::remove_dir_all(dir).with_context(|| format!("cannot clear `{}`", dir.display()))?;
    }
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join(MARKER), "created by `custos demo`; safe to delete\n")?;
    Ok(())
}

fn entry(rng: &mut Rng, i: u64) -> Vec<u8> {
    const ACTIONS: [&str; 4] = ["identity_lookup", "cdr_query", "subscriber_lookup", "name_search"];
    let t = 1_790_000_000 + i / 4;
    let officer = rng.below(400);
    let action = ACTIONS[rng.below(4) as usize];
    let subject = rng.next();
    let decision = if rng.below(50) == 0 { "deny" } else { "allow" };
    format!(
        "{{\"v\":1,\"time\":{t},\"officer\":\"OFF-{officer:04}\",\"action\":\"{action}\",\"subject\":\"c:{subject:016x}\",\"decision\":\"{decision}\"}}"
    )
    .into_bytes()
}

pub fn run(dir: &Path, scale: Scale, seed: u64) -> anyhow::Result<()> {
    let total = Instant::now();
    prepare_dir(dir)?;
    println!("== Custos demo: the tamper-evident audit log ==");
    crate::audit::init(dir, "custos.demo/audit")?;
    let log_key = DirTiles::verifier_from_dir(dir)?;

    // An oversight body runs an independent witness with its own key and state.
    let wdir = dir.join("oversight-witness");
    let wkey = WitnessServer::init(&wdir, "oversight.demo/witness")?;
    WitnessServer::trust(&wdir, &log_key.to_text())?;
    let witness = Arc::new(WitnessServer::open(&wdir)?);

    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let waddr = listener.local_addr()?;
        tokio::spawn(custos_server::serve_listener(
            listener,
            custos_server::witness::router(witness.clone()),
            std::future::pending(),
        ));
        add_witness(dir, &format!("http://{waddr}"), &wkey.to_text())?;
        println!("witness {} listening on http://{waddr}", wkey.name());

        // Durable appends from 64 concurrent callers.
        let log = LogStore::open(dir, Options::default())?;
        let n = scale.entries();
        let bar = indicatif::ProgressBar::new(n);
        bar.set_style(
            indicatif::ProgressStyle::with_template("appending {bar:40} {pos}/{len} ({per_sec})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let started = Instant::now();
        let callers = 64u64;
        let mut tasks = Vec::new();
        for c in 0..callers {
            let log = log.clone();
            let bar = bar.clone();
            tasks.push(tokio::spawn(async move {
                let mut rng = Rng(seed ^ (c.wrapping_mul(0xA24B_AED4_963E_E407)));
                let mut i = c;
                while i < n {
                    log.append_async(entry(&mut rng, i)).await?;
                    bar.inc(1);
                    i += callers;
                }
                anyhow::Ok(())
            }));
        }
        for t in tasks {
            t.await??;
        }
        bar.finish_and_clear();
        let secs = started.elapsed().as_secs_f64();
        let c = log.committed();
        println!(
            "appended {} entries durably from {callers} concurrent callers in {secs:.2}s ({:.0} entries/s)",
            c.size,
            c.size as f64 / secs
        );

        // The witness cosigns.
        let published = Arc::new(std::sync::RwLock::new(None));
        let mut publisher = Publisher::new(log.clone(), dir, published)?;
        let report = tokio::task::block_in_place(|| publisher.publish_once())?;
        if report.cosigned_by.is_empty() {
            bail!("the witness did not cosign: {:?}", report.failed);
        }
        println!("checkpoint of size {} cosigned by {}", report.size, report.cosigned_by.join(", "));
        anyhow::Ok(())
    })?;

    // Verify everything from the files.
    let started = Instant::now();
    let mut tiles = DirTiles::open(dir)?;
    let cp_note = tiles.last_commit().checkpoint.clone();
    let (cp, rep) = verify_signed_log(&mut tiles, &cp_note, &log_key, None, &mut |_| {})
        .context("verification of the fresh log failed")?;
    println!(
        "verified {} entries and {} tiles in {:.2}s: root {}",
        rep.entries,
        rep.tiles,
        started.elapsed().as_secs_f64(),
        encode_hash(&cp.root)
    );

    // An insider with disk access edits one record in a copy: verification names it.
    let tdir = dir.join("tampered-copy");
    std::fs::create_dir_all(tdir.join("log"))?;
    for f in ["entries.dat", "index.dat", "hashes.dat", "commits.log", "log.key"] {
        std::fs::copy(dir.join("log").join(f), tdir.join("log").join(f))?;
    }
    let victim = cp.size / 3;
    let idx = std::fs::read(tdir.join("log/index.dat"))?;
    let at = usize::try_from(victim)? * 8;
    let off = u64::from_le_bytes(idx[at..at + 8].try_into()?);
    let mut entries = std::fs::read(tdir.join("log/entries.dat"))?;
    let pos = usize::try_from(off)? + 2 + 30;
    entries[pos] = if entries[pos] == b'0' { b'1' } else { b'0' };
    std::fs::write(tdir.join("log/entries.dat"), entries)?;
    let mut t = DirTiles::open(&tdir)?;
    match verify_signed_log(&mut t, &cp_note, &log_key, None, &mut |_| {}) {
        Ok(_) => bail!("tampering with entry {victim} was NOT detected"),
        Err(e) => println!("tampered copy (entry {victim} edited on disk): verification fails: {e}"),
    }

    let cosigned = std::fs::read_to_string(dir.join("log/checkpoint.cosigned"))?;
    println!("\ncosigned checkpoint:\n{cosigned}");
    println!("log verifier key:     {}", log_key.to_text());
    println!("witness verifier key: {}", wkey.to_text());
    println!(
        "demo finished in {:.1}s; data in {} (serve it with `custos serve --dir {}`)",
        total.elapsed().as_secs_f64(),
        dir.display(),
        dir.display()
    );
    Ok(())
}
