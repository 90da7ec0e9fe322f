//! `custos init` and `custos audit …`.

use std::io::{BufRead as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use clap::Subcommand;
use custos_logstore::{DirTiles, LogStore, Options};
use custos_tlog::checkpoint::encode_hash;
use custos_tlog::note::Verifier;
use custos_tlog::verify::{verify_signed_log, SignedLogError};

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Print the log's verifier key (last line of output).
    Key,
    /// Append each line of FILE (or - for standard input) as one entry.
    Append {
        /// File to read lines from, or `-`.
        file: PathBuf,
    },
    /// Print the latest checkpoint (with cosignatures when published).
    Checkpoint,
    /// Print an inclusion proof (JSON) of entry N in the tree of size S.
    Prove {
        /// Entry index.
        #[arg(long)]
        index: u64,
        /// Tree size (default: the current size).
        #[arg(long)]
        size: Option<u64>,
    },
    /// Print a consistency proof (JSON) between two tree sizes.
    Consistency {
        /// Older size.
        #[arg(long)]
        from: u64,
        /// Newer size (default: the current size).
        #[arg(long)]
        to: Option<u64>,
    },
    /// Recompute the whole log (every entry, tile and the root) and check the checkpoint's
    /// signature; exits non-zero naming the first bad index or tile.
    Verify {
        /// Verify a served log at this prefix (e.g. http://127.0.0.1:8080/audit) instead of
        /// the data directory.
        #[arg(long, requires = "key")]
        url: Option<String>,
        /// The log's verifier key (required with --url; defaults to the data directory's).
        #[arg(long)]
        key: Option<String>,
        /// Bearer token for entry bundles (auditor or admin), with --url.
        #[arg(long, env = "CUSTOS_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// A checkpoint saved earlier: the log must extend it (no rollback, no rewrite).
        #[arg(long)]
        since: Option<PathBuf>,
        /// With an https --url whose certificate a private authority issued: that authority's
        /// certificate (PEM), the only one trusted.
        #[arg(long, requires = "url")]
        ca: Option<PathBuf>,
        /// For a server that binds credentials to client certificates (`serve --tls-client-ca`):
        /// the token's certificate (PEM chain, leaf first). Needs --ca.
        #[arg(long, requires_all = ["ca", "client_key"])]
        client_cert: Option<PathBuf>,
        /// That certificate's private key (PEM).
        #[arg(long, requires = "client_cert")]
        client_key: Option<PathBuf>,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// Export the gateway's data requests in the access-log format of `custos analyze --log`
    /// (subjects as keyed commitments), verified against the signed checkpoint first.
    Export {
        /// Output format.
        #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
        format: ExportFormat,
        /// Output file (default: standard output).
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Configure the witnesses the log sends its checkpoints to.
    #[command(subcommand)]
    Witness(WitnessListCmd),
    /// Append synthetic entries forever from N threads, printing `<index> <entry>` after each
    /// acknowledgement (used by the crash tests).
    #[command(hide = true)]
    Stress {
        /// Concurrent appenders (1 to 1,024).
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=1_024))]
        writers: u16,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// CSV with a header.
    Csv,
    /// JSON Lines.
    Jsonl,
}

#[derive(Debug, Subcommand)]
pub enum WitnessListCmd {
    /// Add (or replace) a witness.
    Add {
        /// The witness's submission prefix, e.g. http://127.0.0.1:7381.
        #[arg(long)]
        url: String,
        /// The witness's verifier key.
        #[arg(long)]
        key: String,
        /// For an https witness whose certificate a private authority issued: that authority's
        /// certificate (PEM), trusted for this witness alone.
        #[arg(long)]
        ca: Option<std::path::PathBuf>,
    },
    /// List the configured witnesses.
    List,
}

pub fn init(dir: &Path, origin: &str, db: Option<(&str, Option<&str>)>) -> anyhow::Result<()> {
    if dir.join("log").exists() {
        bail!("`{}` already holds a Custos data directory", dir.display());
    }
    // What the directory held before, so that a failed init can take away what it made and
    // leave the directory as it was (else the next init would refuse the half-made one).
    let before: Option<Vec<std::ffi::OsString>> = match std::fs::read_dir(dir) {
        Ok(rd) => Some(rd.filter_map(|e| e.ok().map(|e| e.file_name())).collect()),
        Err(_) => None,
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let made = init_in(dir, origin, db);
    if made.is_err() {
        match &before {
            None => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Some(names) => {
                for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                    if !names.contains(&e.file_name()) {
                        let p = e.path();
                        let _ =
                            if p.is_dir() { std::fs::remove_dir_all(&p) } else { std::fs::remove_file(&p) };
                    }
                }
            }
        }
    }
    made
}

fn init_in(dir: &Path, origin: &str, db: Option<(&str, Option<&str>)>) -> anyhow::Result<()> {
    if let Some((url, schema)) = db {
        crate::stack::set_db_config(dir, url, schema)?;
    }
    let key = LogStore::init(dir, origin).context("creating the audit log")?;
    let (token, id) = crate::stack::init_store(dir).context("creating the records store")?;
    custos_logstore::atomic_write(&dir.join("admin.token"), format!("{token}\n").as_bytes(), true)?;
    println!("created {}", dir.display());
    println!("admin credential {id} written to {} (mode 0600)", dir.join("admin.token").display());
    println!("log verifier key:");
    println!("{}", key.to_text());
    Ok(())
}

fn open(dir: &Path) -> anyhow::Result<LogStore> {
    crate::stack::existing_data_dir(dir)?;
    LogStore::open(dir, Options::default())
        .with_context(|| format!("cannot open the audit log in `{}` (run `custos init`?)", dir.display()))
}

pub fn run(dir: &Path, cmd: AuditCmd) -> anyhow::Result<()> {
    match cmd {
        AuditCmd::Key => {
            println!("{}", DirTiles::verifier_from_dir(dir)?.to_text());
        }
        AuditCmd::Append { file } => append(dir, &file)?,
        AuditCmd::Checkpoint => {
            let log = open(dir)?;
            let c = log.committed();
            let cosigned =
                std::fs::read_to_string(custos_logstore::log_dir(dir).join("checkpoint.cosigned")).ok();
            match cosigned.filter(|n| n.starts_with(&c.checkpoint)) {
                Some(n) => print!("{n}"),
                None => print!("{}", c.checkpoint),
            }
        }
        AuditCmd::Prove { index, size } => {
            let log = open(dir)?;
            let (size, proof) = log.inclusion_proof(index, size)?;
            let entry = log.entry(index)?.context("no such entry")?;
            let out = serde_json::json!({
                "index": index,
                "tree_size": size,
                "leaf_hash": encode_hash(&custos_tlog::merkle::leaf_hash(&entry)),
                "root": encode_hash(&log.root_at(size)?),
                "proof": proof.iter().map(encode_hash).collect::<Vec<_>>(),
            });
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        AuditCmd::Consistency { from, to } => {
            let log = open(dir)?;
            let (to, proof) = log.consistency_proof(from, to)?;
            let out = serde_json::json!({
                "from": from,
                "to": to,
                "from_root": encode_hash(&log.root_at(from)?),
                "to_root": encode_hash(&log.root_at(to)?),
                "proof": proof.iter().map(encode_hash).collect::<Vec<_>>(),
            });
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        AuditCmd::Verify { url, key, token, since, ca, client_cert, client_key, quiet } => {
            let ca = read_text(ca.as_deref())?;
            let client = client_cert.zip(client_key);
            verify(dir, url.map(|u| Served { url: u, ca, client }), key, token, since, quiet)?
        }
        AuditCmd::Witness(WitnessListCmd::Add { url, key, ca }) => {
            let ca = read_text(ca.as_deref())?;
            custos_server::witness::add_witness_with_ca(dir, &url, &key, ca.as_deref())?;
            println!("witness {} added at {url}", Verifier::from_text(&key)?.name());
        }
        AuditCmd::Witness(WitnessListCmd::List) => {
            for w in custos_server::witness::load_witnesses(dir)? {
                println!("{} {}", w.url, w.key);
            }
        }
        AuditCmd::Stress { writers } => stress(dir, writers)?,
        AuditCmd::Export { format, output } => export(dir, format, output.as_deref())?,
    }
    Ok(())
}

fn append(dir: &Path, file: &Path) -> anyhow::Result<()> {
    let log = open(dir)?;
    let reader: Box<dyn std::io::BufRead> = if file == Path::new("-") {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(file).with_context(|| format!("cannot open `{}`", file.display()))?,
        ))
    };
    let mut batch = Vec::new();
    let (mut first, mut last, mut n, mut blank) = (None, 0u64, 0u64, 0u64);
    let mut flush = |batch: &mut Vec<Vec<u8>>| -> anyhow::Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let rs = log.append_batch(std::mem::take(batch))?;
        first = first.or(rs.first().map(|r| r.index));
        last = rs.last().map_or(last, |r| r.index);
        n += rs.len() as u64;
        Ok(())
    };
    for (i, line) in reader.split(b'\n').enumerate() {
        let mut line = line.with_context(|| format!("{}: read error at line {}", file.display(), i + 1))?;
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        // A blank line records nothing: it is not made an (empty) entry of the log.
        if line.is_empty() {
            blank += 1;
            continue;
        }
        if line.len() > custos_tlog::tile::MAX_ENTRY_BYTES {
            bail!(
                "{}:{}: entry of {} bytes is larger than the 65535-byte limit; nothing after line {} was appended",
                file.display(),
                i + 1,
                line.len(),
                i
            );
        }
        batch.push(line);
        if batch.len() >= 4096 {
            flush(&mut batch)?;
        }
    }
    flush(&mut batch)?;
    let skipped = match blank {
        0 => String::new(),
        1 => "; 1 blank line skipped".to_string(),
        b => format!("; {b} blank lines skipped"),
    };
    match first {
        Some(f) => {
            println!(
                "appended {n} entries: indices {f}..={last}; tree size {}{skipped}",
                log.committed().size
            )
        }
        None => println!("nothing to append; tree size {}{skipped}", log.committed().size),
    }
    Ok(())
}

/// The text of an optional file named on the command line (a saved checkpoint, a certificate
/// authority).
fn read_text(path: Option<&Path>) -> anyhow::Result<Option<String>> {
    path.map(|p| std::fs::read_to_string(p).with_context(|| format!("cannot read `{}`", p.display())))
        .transpose()
}

/// A served log to verify: its prefix, a private authority's certificate (PEM text), and a
/// client certificate and key (files).
struct Served {
    url: String,
    ca: Option<String>,
    client: Option<(PathBuf, PathBuf)>,
}

fn verify(
    dir: &Path,
    url: Option<Served>,
    key: Option<String>,
    token: Option<String>,
    since: Option<PathBuf>,
    quiet: bool,
) -> anyhow::Result<()> {
    let since_text = read_text(since.as_deref())?;
    let started = std::time::Instant::now();
    let bar = |size: u64| {
        if quiet {
            indicatif::ProgressBar::hidden()
        } else {
            let b = indicatif::ProgressBar::new(size);
            b.set_style(
                indicatif::ProgressStyle::with_template("verifying {bar:40} {pos}/{len} entries ({per_sec})")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b
        }
    };
    let result = match url {
        Some(Served { url, ca, client }) => {
            let key = Verifier::from_text(key.as_deref().unwrap_or_default()).context("bad --key")?;
            let client = client.as_ref().map(|(c, k)| (c.as_path(), k.as_path()));
            let mut f = crate::fetch::HttpTiles::new(&url, token, ca.as_deref(), client)?;
            let cp = f.checkpoint()?;
            let pb = bar(0);
            let r = verify_signed_log(&mut f, &cp, &key, since_text.as_deref(), &mut |n| pb.set_position(n));
            pb.finish_and_clear();
            r
        }
        None => {
            crate::stack::existing_data_dir(dir)?;
            let key = match key {
                Some(k) => Verifier::from_text(&k).context("bad --key")?,
                None => DirTiles::verifier_from_dir(dir)?,
            };
            let mut t = DirTiles::open(dir)
                .with_context(|| format!("cannot open the audit log in `{}`", dir.display()))?;
            let cp = t.last_commit().checkpoint.clone();
            let pb = bar(t.last_commit().size);
            let r = verify_signed_log(&mut t, &cp, &key, since_text.as_deref(), &mut |n| pb.set_position(n));
            pb.finish_and_clear();
            r
        }
    };
    let (cp, report) = match result {
        Ok(r) => r,
        // The auditor's own saved checkpoint does not open with this log's key: the wrong file
        // or the wrong key, which says nothing about the log itself.
        Err(SignedLogError::Since(why)) => bail!(
            "`{}` is not a checkpoint signed by this log's key: {why}; nothing was verified",
            since.as_deref().unwrap_or(Path::new("")).display()
        ),
        Err(e) => return Err(anyhow::Error::new(e).context("audit log verification FAILED")),
    };
    let secs = started.elapsed().as_secs_f64();
    println!(
        "verified {} entries ({:.1} MB, {} tiles) in {:.2}s: root {} matches the signed checkpoint",
        report.entries,
        report.entry_bytes as f64 / 1e6,
        report.tiles,
        secs,
        encode_hash(&cp.root)
    );
    if since_text.is_some() {
        println!("consistent with the earlier checkpoint");
    }
    Ok(())
}

fn stress(dir: &Path, writers: u16) -> anyhow::Result<()> {
    let log = open(dir)?;
    let start = log.committed().size;
    std::thread::scope(|s| {
        for w in 0..writers {
            let log = log.clone();
            s.spawn(move || {
                let mut i = 0u64;
                loop {
                    let e = format!("stress w{w} n{i} from{start}");
                    match log.append(e.clone().into_bytes()) {
                        Ok(r) => {
                            let mut out = std::io::stdout().lock();
                            if writeln!(out, "{} {e}", r.index).and_then(|()| out.flush()).is_err() {
                                return;
                            }
                        }
                        Err(err) => {
                            eprintln!("append failed: {err}");
                            return;
                        }
                    }
                    i += 1;
                }
            });
        }
    });
    Ok(())
}

fn export(dir: &Path, format: ExportFormat, output: Option<&Path>) -> anyhow::Result<()> {
    use custos_tlog::tile::{decode_bundle, Tile, TileKind};
    use custos_tlog::verify::TileFetcher as _;
    crate::stack::existing_data_dir(dir)?;
    let key = DirTiles::verifier_from_dir(dir)?;
    let mut t =
        DirTiles::open(dir).with_context(|| format!("cannot open the audit log in `{}`", dir.display()))?;
    let cp = t.last_commit().checkpoint.clone();
    verify_signed_log(&mut t, &cp, &key, None, &mut |_| {})
        .context("refusing to export: the audit log does not verify")?;
    let size = t.last_commit().size;
    let mut out: Box<dyn std::io::Write> = match output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot create `{}`", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    if format == ExportFormat::Csv {
        writeln!(out, "time,officer,unit,action,subject,case,outcome,records")?;
    }
    let field = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let mut n = 0u64;
    for b in 0..size.div_ceil(256) {
        let width = (size - b * 256).min(256);
        let tile = Tile { kind: TileKind::Entries, index: b, width: width as u16 };
        let bundle = t.fetch(&tile).map_err(anyhow::Error::msg)?;
        for e in decode_bundle(&bundle, 256).map_err(|e| anyhow::anyhow!("{e}"))? {
            let Ok(e) = serde_json::from_slice::<custos_gateway::audit::AuditEntry>(e) else { continue };
            // Data requests, and the two events that are evidence in themselves (as the live
            // engine reads them): granted emergency access, a credential without its certificate.
            if !e.is_data_request() && !e.is_evidence() {
                continue;
            }
            let outcome = if e.decision == "allow" { "allowed" } else { "denied" };
            let subject = e.subjects.first().cloned().unwrap_or_default();
            match format {
                ExportFormat::Csv => writeln!(
                    out,
                    "{},{},{},{},{},{},{outcome},{}",
                    e.time,
                    field(&e.officer),
                    field(&e.unit),
                    e.action,
                    field(&subject),
                    field(&e.case),
                    e.count
                )?,
                ExportFormat::Jsonl => writeln!(
                    out,
                    "{}",
                    serde_json::json!({"time": e.time, "officer": e.officer, "unit": e.unit, "action": e.action,
                        "subject": subject, "case": e.case, "outcome": outcome, "records": e.count})
                )?,
            }
            n += 1;
        }
    }
    out.flush()?;
    eprintln!("exported {n} data requests from {size} verified audit entries");
    Ok(())
}
