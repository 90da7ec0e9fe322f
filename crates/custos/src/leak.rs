//! `custos leak trace`: scan Telegram exports for citizens' identifiers and name the officer
//! accounts that pulled them before they were posted.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use clap::Subcommand;
use custos_gateway::leaks::{ExportKind, Scan};
use custos_leak::attribution::Access;
use custos_leak::extract::Kind;

#[derive(Debug, Subcommand)]
pub enum LeakCmd {
    /// Trace a leak: EXPORT is a Telegram Desktop export (result.json, messages*.html, a folder
    /// holding them) or a plain-text/CSV dump.
    Trace {
        /// Export files or folders.
        #[arg(required = true)]
        exports: Vec<PathBuf>,
        /// Match against an access log (the `custos analyze --log` format) instead of the data
        /// directory's own audit log.
        #[arg(long)]
        log: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = crate::analyze::Format::Text)]
        format: crate::analyze::Format,
    },
}

/// Maps a found identifier to the subject key used in the accesses.
type KeyOf = Box<dyn Fn(Kind, &str) -> String>;

fn files_of(p: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if p.is_dir() {
        let mut v: Vec<PathBuf> = std::fs::read_dir(p)
            .with_context(|| format!("cannot read `{}`", p.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|f| {
                let n = f.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                n.ends_with(".json")
                    || (n.starts_with("messages") && n.ends_with(".html"))
                    || n.ends_with(".txt")
                    || n.ends_with(".csv")
            })
            .collect();
        v.sort();
        Ok(v)
    } else {
        Ok(vec![p.to_path_buf()])
    }
}

fn scan(exports: &[PathBuf]) -> anyhow::Result<Scan> {
    let mut s = Scan::default();
    let tz = 6 * 3600;
    for e in exports {
        for f in files_of(e)? {
            let name = f.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
            let kind = ExportKind::of_file(&name);
            // A text dump is its own chat; an export's pages belong to the chat of their folder.
            let chat = match kind {
                ExportKind::Text => name.clone(),
                _ => f
                    .parent()
                    .and_then(|p| p.file_name())
                    .and_then(|n| n.to_str())
                    .unwrap_or("export")
                    .to_string(),
            };
            let before = s.problems.len();
            let file = std::fs::File::open(&f).with_context(|| format!("cannot read `{}`", f.display()))?;
            s.add(file, kind, &chat, tz).with_context(|| format!("cannot read `{}`", f.display()))?;
            for p in &s.problems[before..] {
                eprintln!("{}: {p} (partial results kept)", f.display());
            }
        }
    }
    Ok(s)
}

pub fn run(dir: &Path, cmd: LeakCmd) -> anyhow::Result<()> {
    let LeakCmd::Trace { exports, log, format } = cmd;
    let s = scan(&exports)?;
    if let Some(why) = s.nothing_read() {
        let names: Vec<String> = exports.iter().map(|e| format!("`{}`", e.display())).collect();
        bail!("no message could be read from {}: {why}", names.join(", "));
    }
    // Subject keys: the identifiers themselves against an access log; commitments of their
    // blind indexes against the data directory's audit log.
    let mut registry: Option<custos_store::Registry> = None;
    let mut held = custos_gateway::leaks::Released::new();
    let (mut accesses, key_of): (Vec<Access>, KeyOf) = match &log {
        Some(p) => {
            let rdr = custos_detect::input::LogReader::new(crate::analyze::open_text(p)?)
                .map_err(|e| anyhow::anyhow!("{}:{}: {}", p.display(), e.line, e.message))?;
            let mut v = Vec::new();
            for row in rdr {
                match row {
                    Ok(r) if r.allowed => {
                        v.push(Access { officer: r.officer, subject: r.subject, time: r.time, case: r.case })
                    }
                    Ok(_) => {}
                    Err(e) => eprintln!("{}:{}: skipped: {}", p.display(), e.line, e.message),
                }
            }
            (v, Box::new(|_, v: &str| v.to_string()))
        }
        None => {
            if !dir.join("log").exists() {
                bail!("no access log: give --log FILE, or --dir of a Custos data directory");
            }
            let reg = crate::stack::open_registry(dir)?;
            let mut t = custos_logstore::DirTiles::open(dir)?;
            let size = t.last_commit().size;
            let mut holdings = custos_gateway::leaks::Holdings::default();
            use custos_tlog::verify::TileFetcher as _;
            for b in 0..size.div_ceil(256) {
                let tile = custos_tlog::tile::Tile {
                    kind: custos_tlog::tile::TileKind::Entries,
                    index: b,
                    width: (size - b * 256).min(256) as u16,
                };
                let bundle = t.fetch(&tile).map_err(anyhow::Error::msg)?;
                for e in custos_tlog::tile::decode_bundle(&bundle, 256).map_err(|e| anyhow::anyhow!("{e}"))? {
                    if let Ok(e) = serde_json::from_slice::<custos_gateway::audit::AuditEntry>(e) {
                        holdings.add(&e);
                    }
                }
            }
            held = holdings.released;
            let v = holdings.accesses;
            registry = Some(reg);
            let vault =
                registry.as_ref().map(|r| r.vault().clone()).ok_or_else(|| anyhow::anyhow!("no registry"))?;
            (
                v,
                Box::new(move |k: Kind, val: &str| {
                    let kind = if k == Kind::Nid { "nid" } else { "msisdn" };
                    vault.commit(&vault.blind(kind, val))
                }),
            )
        }
    };
    let mut marks = Vec::new();
    if let Some(reg) = &registry {
        accesses.extend(custos_gateway::leaks::decoy_accesses(&s, reg, key_of.as_ref()));
        marks = custos_gateway::leaks::mark_scores(&s, reg, &accesses, &held, key_of.as_ref());
    }
    let a = custos_gateway::leaks::attribute_scan(&s, &accesses, key_of.as_ref());
    match format {
        crate::analyze::Format::Json => {
            let mut f = custos_gateway::leaks::finding(&s, &a);
            custos_gateway::leaks::add_marks(&mut f, &marks);
            println!("{f}");
        }
        crate::analyze::Format::Text => {
            let distinct: std::collections::BTreeSet<_> = s.found.iter().map(|f| (&f.0, &f.1)).collect();
            println!(
                "scanned {} files, {} messages, {:.1} MB: {} identifiers ({} distinct); {} leaked records matched to accesses before they were posted",
                s.files,
                s.messages,
                s.bytes as f64 / 1e6,
                s.found.len(),
                distinct.len(),
                a.matched
            );
            println!(
                "\n{:>4}  {:<16} {:>6} {:>8} {:>9}  {:<21} {:<21} cases",
                "rank", "officer", "guilt", "covered", "exclusive", "first access", "last access"
            );
            for (i, x) in a.suspects.iter().take(15).enumerate() {
                println!(
                    "{:>4}  {:<16} {:>6.3} {:>8} {:>9}  {:<21} {:<21} {}",
                    i + 1,
                    x.officer,
                    x.guilt,
                    x.covered,
                    x.exclusive,
                    x.first_access,
                    x.last_access,
                    x.cases.join(",")
                );
            }
            if !marks.is_empty() {
                println!("\nformatting marks read back from the leaked text (agreeing / disagreeing bits):");
                for (o, ag, dis) in marks.iter().take(5) {
                    println!("  {o:<16} {ag:>4} / {dis:<4} score {}", ag - dis);
                }
            }
            println!("\ncoalitions:");
            for c in a.coalitions.iter().take(5) {
                println!("  {:<40} covers {:>4}  guilt {:.3}", c.officers.join(" + "), c.covered, c.guilt);
            }
        }
    }
    Ok(())
}
