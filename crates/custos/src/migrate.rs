//! `custos migrate --from DIR --to postgres://…`: move an embedded installation's records to
//! PostgreSQL, then check that nothing was lost.
//!
//! Rows move as stored — sealed bytes, blind indexes and IDs (ciphertexts are bound to their
//! IDs) — so nothing is decrypted on the way. The audit log stays in DIR and is verified. The
//! log's lock is held throughout, so no server can change the records meanwhile.

use std::path::Path;

use anyhow::{bail, Context as _};
use custos_logstore::{DirTiles, LogStore, Options};
use custos_store::pg::PgStore;
use custos_store::sqlite::SqliteStore;
use custos_store::Store;

const PAGE: usize = 5_000;

pub fn migrate(dir: &Path, url: &str, schema: Option<&str>) -> anyhow::Result<()> {
    crate::stack::existing_data_dir(dir)?;
    if crate::stack::db_config(dir)?.is_some() {
        bail!("`{}` already keeps its records in PostgreSQL (config.json)", dir.display());
    }
    // Holding the log's writer lock keeps a server (and the CLI) out while we copy.
    let log = LogStore::open(dir, Options::default()).with_context(|| {
        format!("cannot open the audit log in `{}` (is a server running?)", dir.display())
    })?;
    let src = SqliteStore::open(&crate::stack::db_path(dir))?;
    let dst = PgStore::open(url, schema)?;
    if dst.meta_get("wrapped_keys")?.is_some() || dst.citizen_count()? > 0 || dst.cdr_count()? > 0 {
        bail!("the target database already holds Custos records; refusing to mix installations");
    }

    for k in src.meta_keys()? {
        if let Some(v) = src.meta_get(&k)? {
            dst.meta_put(&k, &v)?;
        }
    }
    for o in src.officers()? {
        dst.put_officer(&o)?;
    }
    for c in src.credentials()? {
        dst.put_credential(&c)?;
    }
    for c in src.cases()? {
        dst.put_case(&c)?;
    }
    for w in src.warrants()? {
        dst.put_warrant(&w)?;
    }
    for a in src.approvals()? {
        dst.put_approval(&a)?;
        if a.used {
            dst.use_approval(&a.id)?;
        }
    }
    for b in src.break_glasses()? {
        dst.put_break_glass(&b)?;
    }

    let bar = |n: u64, what: &str| {
        let b = indicatif::ProgressBar::new(n);
        b.set_style(
            indicatif::ProgressStyle::with_template(&format!(
                "{what:>12} {{bar:40}} {{pos}}/{{len}} ({{per_sec}})"
            ))
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    };
    let (citizens, cdrs) = (src.citizen_count()?, src.cdr_count()?);
    let max_citizen = copy_pages(
        &bar(citizens, "citizens"),
        |after| src.citizen_rows(after, PAGE),
        |r| r.id,
        |rows| dst.put_citizens(rows),
    )?;
    let max_cdr = copy_pages(
        &bar(cdrs, "call records"),
        |after| src.cdr_rows(after, PAGE),
        |r| r.id,
        |rows| dst.put_cdrs(rows),
    )?;
    dst.advance_ids(max_citizen, max_cdr)?;

    // Check: the same counts everywhere, the same rows byte for byte, the log intact.
    let counts = |s: &dyn Store| -> anyhow::Result<[u64; 9]> {
        Ok([
            s.citizen_count()?,
            s.cdr_count()?,
            s.officers()?.len() as u64,
            s.credentials()?.len() as u64,
            s.cases()?.len() as u64,
            s.warrants()?.len() as u64,
            s.approvals()?.len() as u64,
            s.break_glasses()?.len() as u64,
            s.meta_keys()?.len() as u64,
        ])
    };
    let (a, z) = (counts(&src)?, counts(&dst)?);
    if a != z {
        bail!("counts differ after the copy: source {a:?}, PostgreSQL {z:?}");
    }
    let (mut after, mut checked) = (0i64, 0u64);
    loop {
        let (x, y) = (src.citizen_rows(after, PAGE)?, dst.citizen_rows(after, PAGE)?);
        let Some(last) = x.last() else { break };
        for (r, s) in x.iter().zip(&y) {
            let (mut m1, mut m2, mut n1, mut n2) =
                (r.msisdn_bis.clone(), s.msisdn_bis.clone(), r.name_bis.clone(), s.name_bis.clone());
            m1.sort();
            m2.sort();
            n1.sort();
            n2.sort();
            if r.id != s.id || r.nid_bi != s.nid_bi || r.sealed != s.sealed || m1 != m2 || n1 != n2 {
                bail!("citizen row {} differs after the copy", r.id);
            }
        }
        checked += x.len() as u64;
        after = last.id;
    }
    if src.officers()? != dst.officers()?
        || src.cases()? != dst.cases()?
        || src.warrants()? != dst.warrants()?
    {
        bail!("officers, cases or warrants differ after the copy");
    }
    let mut tiles = DirTiles::open(dir)?;
    let note = tiles.last_commit().checkpoint.clone();
    let (cp, _) =
        custos_tlog::verify::verify_signed_log(&mut tiles, &note, log.verifier(), None, &mut |_| {})
            .context("the audit log does not verify")?;
    drop(log);

    crate::stack::set_db_config(dir, url, schema)?;
    // The key-encryption key opens the moved data keys.
    crate::stack::open_registry(dir).context("the moved records do not open with this directory's key")?;
    println!(
        "moved {citizens} citizens ({checked} compared byte for byte), {cdrs} call records, {} officers, {} credentials, {} cases, {} warrants, {} approvals, {} break-glass grants",
        a[2], a[3], a[4], a[5], a[6], a[7]
    );
    println!(
        "audit log verified: {} entries, root {}",
        cp.size,
        custos_tlog::checkpoint::encode_hash(&cp.root)
    );
    println!(
        "`{}` now uses PostgreSQL (config.json); the SQLite file `{}` is kept as it was",
        dir.display(),
        crate::stack::db_path(dir).display()
    );
    Ok(())
}

/// Copy rows a page at a time in ID order (`fetch(after)` gives the page after an ID); the
/// largest ID copied.
fn copy_pages<R>(
    bar: &indicatif::ProgressBar,
    fetch: impl Fn(i64) -> Result<Vec<R>, custos_store::StoreError>,
    id: impl Fn(&R) -> i64,
    put: impl Fn(&[R]) -> Result<(), custos_store::StoreError>,
) -> anyhow::Result<i64> {
    let (mut after, mut max) = (0i64, 0i64);
    loop {
        let rows = fetch(after)?;
        let Some(last) = rows.last() else { break };
        after = id(last);
        max = max.max(after);
        put(&rows)?;
        bar.inc(rows.len() as u64);
    }
    bar.finish();
    Ok(max)
}
