//! `custos demo`: an agency in a box, attacked the way the seed case was, caught live, traced,
//! with a report.
//!
//! 1. A data directory: records store, keys, a signed audit log, and an oversight body's
//!    witness on loopback.
//! 2. A synthetic population (Bangla and Latin names, real divisions/districts/upazilas, NIDs in
//!    the real formats, mobile numbers with real operator prefixes, call records), honeytokens
//!    and VIPs on a watch list.
//! 3. Officers in units, with roles and shifts; cases; warrants from independent reviewers.
//! 4. Weeks of work replayed through the gateway's real HTTP router — authentication, Cedar
//!    policy, fail-closed audit and live detectors exactly as `custos serve` runs them — with the
//!    simulator's planted abuse, the seed-case pair first among them. The sellers adapt to
//!    Custos: call-record pulls without a warrant are refused, so they fall back to routine ID
//!    checks and, where they hold a case, to break-glass.
//! 5. Their buyers post what they actually received in a Telegram channel
//!    (`DIR/leak/result.json`); an auditor uploads it and Custos names the accounts.
//! 6. The witness cosigns, the whole log is verified, a tampered copy is caught.
//!
//! Outputs: a terminal summary, `DIR/report.html` (self-contained, charts drawn in the page)
//! and `DIR/credentials.json` (accounts and example requests for `custos serve --dir DIR`).

mod agency;
pub mod report;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use anyhow::{bail, Context as _};
use axum::http::Method;
use custos_detect::input::Action;
use custos_detect::Severity;
use custos_gateway::{Gateway, GatewayConfig};
use custos_logstore::{DirTiles, LogStore, Options};
use custos_server::witness::{add_witness, Publisher, WitnessServer};
use custos_sim::{Params, World};
use custos_tlog::checkpoint::encode_hash;
use custos_tlog::verify::verify_signed_log;
use serde_json::{json, Value};

use agency::{day_of, day_start, CaseFile, Client, REVIEW_UNIT, SIM_NOW};

const MARKER: &str = ".custos-demo";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scale {
    /// 50,000 citizens, 240 officers, 60 days (about a minute).
    Small,
    /// 1,000,000 citizens, 1,000 officers, 90 days.
    Medium,
    /// 10,000,000 citizens, 5,000 officers, 90 days.
    Large,
    /// 4,000 citizens, 60 officers, 45 days (tests).
    #[value(hide = true)]
    Tiny,
}

impl Scale {
    fn params(self, seed: u64) -> Params {
        let (citizens, officers, days) = match self {
            Scale::Tiny => (4_000, 60, 45),
            Scale::Small => (50_000, 240, 60),
            Scale::Medium => (1_000_000, 1_000, 90),
            Scale::Large => (10_000_000, 5_000, 90),
        };
        Params { seed, citizens, officers, days }
    }

    /// Call records per subscriber per day in the store.
    fn cdrs_per_day(self) -> f64 {
        match self {
            Scale::Tiny | Scale::Small => 0.15,
            Scale::Medium => 0.03,
            Scale::Large => 0.01,
        }
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
        // A server still running on an earlier demo's directory would go on serving (and
        // appending to) deleted files.
        if LogStore::in_use(dir) {
            bail!(
                "`{}` is in use by a running `custos serve`; stop it before running the demo there (or choose another --dir)",
                dir.display()
            );
        }
        std::fs::remove_dir_all(dir).with_context(|| format!("cannot clear `{}`", dir.display()))?;
    }
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join(MARKER), "created by `custos demo`; safe to delete\n")?;
    Ok(())
}

fn bar(len: u64, what: &str) -> indicatif::ProgressBar {
    let b = indicatif::ProgressBar::new(len);
    b.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{what:>12} {{bar:40}} {{pos}}/{{len}} ({{per_sec}}, {{elapsed}})"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    b
}

/// What the replay saw, for the summary and the report.
#[derive(Default)]
pub struct Replay {
    /// Per officer, per day: (allowed, refused) data requests.
    pub per_officer_day: HashMap<String, Vec<(u32, u32)>>,
    /// Per day: allowed under a case and warrant, allowed routine (unexplained), refused.
    pub per_day: Vec<(u32, u32, u32)>,
    /// Status code counts.
    pub statuses: BTreeMap<u16, u64>,
    /// Requests refused by policy, by reason.
    pub reasons: BTreeMap<String, u64>,
    /// What the sellers received: (time, officer, subject, body).
    pub sold: Vec<(i64, String, String, Value)>,
    /// Break-glass grants opened.
    pub break_glass: u64,
    pub requests: u64,
    pub seconds: f64,
}

struct Setup {
    admin: String,
    tokens: HashMap<String, String>,
    reviewers: Vec<String>,
    auditor: String,
}

pub fn run(dir: &Path, scale: Scale, seed: u64) -> anyhow::Result<()> {
    let total = Instant::now();
    prepare_dir(dir)?;
    let params = scale.params(seed);
    println!(
        "== Custos demo: {} citizens, {} officers, {} days (seed {seed}) ==",
        params.citizens, params.officers, params.days
    );

    // 1. The data directory: audit log, records store, an oversight body's witness.
    LogStore::init(dir, "custos.demo/audit").context("creating the audit log")?;
    let (admin, _) = crate::stack::init_store(dir)?;
    custos_logstore::atomic_write(&dir.join("admin.token"), format!("{admin}\n").as_bytes(), true)?;
    let log_key = DirTiles::verifier_from_dir(dir)?;
    let wdir = dir.join("oversight-witness");
    let wkey = WitnessServer::init(&wdir, "oversight.demo/witness")?;
    WitnessServer::trust(&wdir, &log_key.to_text())?;
    let witness = Arc::new(WitnessServer::open(&wdir)?);

    // 2. The world.
    let started = Instant::now();
    let world = custos_sim::simulate(params);
    println!(
        "simulated {} accesses by {} officers, {} insiders planted ({:.1}s)",
        world.events.len(),
        world.officers.len(),
        world.insiders.len(),
        started.elapsed().as_secs_f64()
    );

    // The gateway, with the simulated time as its clock.
    let base = Arc::new(AtomicI64::new(day_start(0)));
    let clock_base = base.clone();
    let gw = open_gateway(dir, move || {
        SIM_NOW.try_with(|t| *t).unwrap_or_else(|_| clock_base.load(Ordering::Relaxed))
    })?;
    populate(&gw, &world, scale, seed)?;
    gw.add_watch(&world.watch)?;

    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let (replay, finding, setup, files, two_person) = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let waddr = listener.local_addr()?;
        tokio::spawn(custos_server::serve_listener(
            listener,
            custos_server::witness::router(witness.clone()),
            std::future::pending(),
        ));
        add_witness(dir, &format!("http://{waddr}"), &wkey.to_text())?;

        let client = Client { router: custos_gateway::http::router(gw.clone()) };
        let setup = accounts(&client, &admin, &world, seed).await?;
        let files = agency::case_files(&world);
        let replay = replay(&client, &setup, &world, &files, &base).await?;
        let finding = leak(dir, &client, &setup, &world, &replay, seed).await?;
        let two_person = two_person(&client, &setup, &world, &files, seed).await?;

        // The witness cosigns the final checkpoint.
        let published = Arc::new(RwLock::new(None));
        let mut publisher = Publisher::new(gw.log().clone(), dir, published)?;
        let report = tokio::task::block_in_place(|| publisher.publish_once())?;
        if report.cosigned_by.is_empty() {
            bail!("the witness did not cosign: {:?}", report.failed);
        }
        anyhow::Ok((replay, finding, setup, files, two_person))
    })?;
    drop(rt);

    // 6. Verify everything from the files; a tampered copy must fail.
    let started = Instant::now();
    let mut tiles = DirTiles::open(dir)?;
    let cp_note = std::fs::read_to_string(dir.join("log/checkpoint.cosigned"))?;
    let signed = tiles.last_commit().checkpoint.clone();
    let (cp, rep) = verify_signed_log(&mut tiles, &signed, &log_key, None, &mut |_| {})
        .context("verification of the fresh log failed")?;
    let verify_secs = started.elapsed().as_secs_f64();
    let tamper = tamper_check(dir, &log_key, cp.size)?;

    let alerts = gw.alerts();
    let risk = gw.risk();
    let summary = report::Summary::new(&world, &alerts, &finding, &replay, params);
    credentials(dir, &setup, &world, &files)?;
    let html = report::html(&summary, &world, &replay, &alerts, &risk, &finding);
    custos_logstore::atomic_write(&dir.join("report.html"), html.as_bytes(), false)?;

    summary.print();
    println!("\n== Two-person rule ==");
    for line in &two_person {
        println!("{line}");
    }

    println!("\n== The audit log ==");
    println!(
        "{} entries; verified {} entries and {} tiles in {verify_secs:.2}s; root {}",
        cp.size,
        rep.entries,
        rep.tiles,
        encode_hash(&cp.root)
    );
    println!("{tamper}");
    println!("\ncosigned checkpoint (log key {}, witness {}):\n{cp_note}", log_key.name(), wkey.name());
    println!("report:      {}", dir.join("report.html").display());
    println!(
        "credentials: {}  (try them: custos serve --dir {})",
        dir.join("credentials.json").display(),
        dir.display()
    );
    println!("demo finished in {:.1}s", total.elapsed().as_secs_f64());
    Ok(())
}

fn open_gateway(dir: &Path, clock: impl Fn() -> i64 + Send + Sync + 'static) -> anyhow::Result<Arc<Gateway>> {
    let registry = crate::stack::open_registry(dir)?;
    let policy = custos_policy::Policy::default_policy()?;
    let log = LogStore::open(dir, Options::default())?;
    Ok(Arc::new(
        Gateway::new(registry, policy, log, GatewayConfig::default())?.with_clock(clock).with_data_dir(dir),
    ))
}

/// Step 2: the population and its call records, sealed into the store.
fn populate(gw: &Gateway, world: &World, scale: Scale, seed: u64) -> anyhow::Result<()> {
    let reg = gw.registry();
    let b = bar(world.citizens.len() as u64, "citizens");
    // Random NIDs collide now and then in a large population: the first holder keeps it.
    let mut seen = HashSet::with_capacity(world.citizens.len());
    for chunk in world.citizens.chunks(5_000) {
        let people: Vec<custos_store::Citizen> = chunk
            .iter()
            .filter(|c| seen.insert(c.nid.clone()))
            .map(|c| custos_sim::people::person(seed, &c.nid, &c.msisdn))
            .collect();
        reg.add_citizens(&people)?;
        b.inc(chunk.len() as u64);
    }
    b.finish();
    let numbers: Vec<String> = world.citizens.iter().map(|c| c.msisdn.clone()).collect();
    let from = day_start(0) - 30 * 86_400;
    let to = day_start(world.days);
    let b = bar(numbers.len() as u64, "call records");
    let mut n = 0usize;
    for chunk in numbers.chunks(2_000) {
        let cdrs: Vec<custos_store::Cdr> = chunk
            .iter()
            .flat_map(|m| custos_sim::people::cdrs(seed, m, &numbers, from, to, scale.cdrs_per_day()))
            .collect();
        n += cdrs.len();
        reg.add_cdrs(&cdrs)?;
        b.inc(chunk.len() as u64);
    }
    b.finish();
    println!("sealed {} identity records and {n} call records into the store", world.citizens.len());
    Ok(())
}

/// Step 5b: the two-person rule on the last day. An investigator asks to search the registry
/// by name under an open case; without a second officer's approval the search is refused; the
/// supervisor of the unit reads the exact request and approves it; it runs once, and the same
/// approval does not run it again. Returns the lines to print.
async fn two_person(
    client: &Client,
    setup: &Setup,
    world: &World,
    files: &[CaseFile],
    seed: u64,
) -> anyhow::Result<Vec<String>> {
    let insiders: HashSet<&str> = world.insiders.iter().map(|i| i.officer.as_str()).collect();
    let honest = |o: &&custos_sim::SimOfficer| !insiders.contains(o.id.as_str());
    let officer = |id: &str| world.officers.iter().find(|o| o.id == id);
    // An investigator on a case still open at the end, and a supervisor of that case's unit.
    let pick = files.iter().rev().filter(|f| f.end_day + 2 >= world.days && !f.covert).find_map(|f| {
        let inv = f
            .officers
            .iter()
            .filter_map(|o| officer(o))
            .filter(honest)
            .find(|o| o.role == custos_sim::Role::Investigator)?;
        let sup = world
            .officers
            .iter()
            .filter(honest)
            .find(|o| o.role == custos_sim::Role::Supervisor && o.unit == f.unit && o.id != inv.id)?;
        Some((f, inv.id.clone(), sup.id.clone()))
    });
    let Some((f, inv, sup)) = pick else {
        return Ok(vec![
            "(no open case with an investigator and a supervisor of its unit to show it on)".into()
        ]);
    };
    let (inv_t, sup_t) = (
        setup.tokens.get(&inv).context("investigator token")?,
        setup.tokens.get(&sup).context("supervisor token")?,
    );
    let now = day_start(world.days.saturating_sub(1)) + 12 * 3600;
    let someone = &world.citizens[world.citizens.len() / 2];
    let name = custos_sim::people::person(seed, &someone.nid, &someone.msisdn).name_en;
    let search = json!({"name": name, "case": f.id, "warrant": f.warrant(), "purpose": format!("identify a caller in {}", f.id)});
    let asked =
        client.ok(inv_t, "/v1/approvals", &json!({"action": "name_search", "request": search}), now).await?;
    let id = asked["approval"].as_str().context("approval id")?.to_string();
    let mut lines = vec![format!(
        "{inv} asks to search the registry by name (\"{name}\") under {}: approval {id} opened",
        f.id
    )];
    let mut run = search.clone();
    run["approval"] = json!(id);
    let (status, v) = client.call(inv_t, Method::POST, "/v1/identity/search", Some(&run), now).await?;
    if status != 403 {
        bail!("a name search before its approval answered {status}: {v}");
    }
    lines.push(format!("run before a second officer approves it: refused ({status} {})", reasons(&v)));
    let (status, seen) = client.call(sup_t, Method::GET, &format!("/v1/approvals/{id}"), None, now).await?;
    if status != 200 || seen["request"]["name"] != json!(name) {
        bail!("the supervisor could not read the request: {status} {seen}");
    }
    client.ok(sup_t, &format!("/v1/approvals/{id}/approve"), &json!({}), now).await?;
    lines.push(format!(
        "{sup}, supervisor of {}, reads the exact request ({}) and approves it; both are audited",
        f.unit,
        serde_json::to_string(&seen["request"])?
    ));
    let found = client.ok(inv_t, "/v1/identity/search", &run, now).await?;
    let rows = found["records"].as_array().map_or(0, Vec::len);
    let (status, v) = client.call(inv_t, Method::POST, "/v1/identity/search", Some(&run), now).await?;
    if status != 403 {
        bail!("a second search on a used approval answered {status}: {v}");
    }
    lines.push(format!(
        "the search runs once ({rows} rows: the matches and one traceable decoy); the same approval again: refused ({status} {})",
        reasons(&v)
    ));
    Ok(lines)
}

/// The reason codes of a refusal, for printing.
fn reasons(v: &Value) -> String {
    v["error"]["reasons"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "))
        .unwrap_or_default()
}

/// Step 3: accounts: officers, independent reviewers, an oversight auditor, with tokens.
async fn accounts(client: &Client, admin: &str, world: &World, seed: u64) -> anyhow::Result<Setup> {
    let now = day_start(0) - 86_400;
    let mut tokens = HashMap::new();
    let b = bar(world.officers.len() as u64 + 6, "accounts");
    let add = |o: custos_store::Officer| async move {
        client.ok(admin, "/v1/admin/officers", &serde_json::to_value(&o)?, now).await?;
        let t = agency::token_for(client, admin, &o.id, now).await?;
        anyhow::Ok((o.id, t))
    };
    for o in &world.officers {
        let (id, t) = add(agency::officer_record(o, seed)).await?;
        tokens.insert(id, t);
        b.inc(1);
    }
    let mut reviewers = Vec::new();
    for (i, name) in
        ["Justice Nasreen Akter", "Judge Mahbub Alam", "Judge Farida Yasmin", "Judge Anwar Hossain"]
            .iter()
            .enumerate()
    {
        let o = custos_store::Officer {
            id: format!("REV-{:02}", i + 1),
            name: (*name).into(),
            unit: REVIEW_UNIT.into(),
            rank: "Reviewing judge".into(),
            roles: vec!["reviewer".into()],
            status: "active".into(),
        };
        let (id, t) = add(o).await?;
        reviewers.push(id.clone());
        tokens.insert(id, t);
        b.inc(1);
    }
    let auditor = custos_store::Officer {
        id: "AUD-01".into(),
        name: "Rokeya Sultana".into(),
        unit: agency::OVERSIGHT_UNIT.into(),
        rank: "Oversight auditor".into(),
        roles: vec!["auditor".into()],
        status: "active".into(),
    };
    let (auditor, t) = add(auditor).await?;
    tokens.insert(auditor.clone(), t);
    b.inc(1);
    b.finish();
    Ok(Setup { admin: admin.to_string(), tokens, reviewers, auditor })
}

/// Open a case and its warrant, at the start of its first working day.
async fn open_case(client: &Client, setup: &Setup, f: &CaseFile, now: i64, days: u32) -> anyhow::Result<()> {
    client
        .ok(
            &setup.admin,
            "/v1/admin/cases",
            &json!({"id": f.id, "unit": f.unit, "officers": f.officers, "subjects": f.subjects, "open": true, "covert": f.covert}),
            now,
        )
        .await?;
    let reviewer = &setup.reviewers[f.id.len() % setup.reviewers.len()];
    let token = setup.tokens.get(reviewer).context("reviewer token")?;
    // Cases still open when the simulation ends keep their warrant for five years, so that
    // `credentials.json`'s examples work against `custos serve` afterwards.
    let valid_to = if f.end_day + 2 >= days { day_start(days + 1826) } else { day_start(f.end_day + 3) };
    client
        .ok(
            token,
            "/v1/warrants",
            &json!({
                "id": f.warrant(), "case": f.id, "subjects": f.subjects,
                "categories": ["identity", "cdr"],
                "data_from": (now - 60 * 86_400).to_string(), "data_to": valid_to.to_string(),
                "valid_from": now.to_string(), "valid_to": valid_to.to_string(),
            }),
            now,
        )
        .await?;
    Ok(())
}

type Pending = tokio::task::JoinSet<anyhow::Result<(usize, u16, Value)>>;

/// Step 4: replay the simulated work through the gateway, day by day — administration at
/// the start of each day, then that day's requests with up to 64 in flight (the audit log's
/// group commit makes concurrent requests share one fsync).
async fn replay(
    client: &Client,
    setup: &Setup,
    world: &World,
    files: &[CaseFile],
    base: &AtomicI64,
) -> anyhow::Result<Replay> {
    const IN_FLIGHT: usize = 64;
    let started = Instant::now();
    let by_id: HashMap<String, CaseFile> = files.iter().map(|f| (f.id.clone(), f.clone())).collect();
    let insiders: HashSet<&str> = world.insiders.iter().map(|i| i.officer.as_str()).collect();
    let sold_set: HashSet<(&str, &str, i64)> =
        world.leaked.iter().map(|l| (l.officer.as_str(), l.subject.as_str(), l.time)).collect();
    let mut r = Replay { per_day: vec![(0, 0, 0); world.days as usize + 1], ..Replay::default() };
    let b = bar(world.events.len() as u64, "requests");
    let mut pending: Pending = tokio::task::JoinSet::new();
    let mut grants: HashMap<String, (String, i64)> = HashMap::new();
    let mut day = None;
    for (i, e) in world.events.iter().enumerate() {
        let d = day_of(e.time);
        if day != Some(d) {
            drain(&mut pending, &mut r, world, &b, &sold_set).await?;
            for dd in day.map_or(0, |x| x + 1)..=d {
                let now = day_start(dd);
                base.store(now, Ordering::Relaxed);
                for f in files.iter().filter(|f| f.start_day == dd) {
                    open_case(client, setup, f, now, world.days).await?;
                }
                for f in files.iter().filter(|f| f.end_day + 2 == dd) {
                    client
                        .ok(&setup.admin, &format!("/v1/admin/cases/{}/close", f.id), &json!({}), now)
                        .await?;
                }
            }
            day = Some(d);
        }
        let token = setup.tokens.get(&e.officer).context("officer token")?.clone();
        // An insider's call-record pull without a warrant: where they work an open case, they
        // break the glass on it (a written justification, an alert, a supervisor's review).
        let mut grant = None;
        if e.case.is_empty() && e.action == Action::CdrQuery && insiders.contains(e.officer.as_str()) {
            grant = match grants.get(&e.officer) {
                Some((c, until)) if *until > e.time + 60 => Some(c.clone()),
                _ => {
                    let case = files
                        .iter()
                        .find(|f| f.officers.contains(&e.officer) && f.start_day <= d && d <= f.end_day + 1);
                    match case {
                        Some(f) => {
                            drain(&mut pending, &mut r, world, &b, &sold_set).await?;
                            let body = json!({"case": f.id, "minutes": 240, "justification": "urgent threat information: need call records of a suspect's contact tonight"});
                            let (st, _) = client
                                .call(&token, Method::POST, "/v1/break-glass", Some(&body), e.time - 60)
                                .await?;
                            if st == 200 {
                                r.break_glass += 1;
                                grants.insert(e.officer.clone(), (f.id.clone(), e.time - 60 + 240 * 60));
                                Some(f.id.clone())
                            } else {
                                None
                            }
                        }
                        None => None,
                    }
                }
            };
        }
        let (path, body) = agency::request_for(e, &by_id, grant.as_deref());
        let c = client.clone();
        let t = e.time;
        pending.spawn(async move {
            let (status, v) = c.call(&token, Method::POST, path, Some(&body), t).await?;
            anyhow::Ok((i, status, v))
        });
        if pending.len() >= IN_FLIGHT {
            if let Some(res) = pending.join_next().await {
                record(res??, &mut r, world, &b, &sold_set);
            }
        }
    }
    drain(&mut pending, &mut r, world, &b, &sold_set).await?;
    b.finish();
    r.seconds = started.elapsed().as_secs_f64();
    r.requests = world.events.len() as u64;
    r.sold.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.2.cmp(&b.2)));
    Ok(r)
}

async fn drain(
    pending: &mut Pending,
    r: &mut Replay,
    world: &World,
    b: &indicatif::ProgressBar,
    sold: &HashSet<(&str, &str, i64)>,
) -> anyhow::Result<()> {
    while let Some(res) = pending.join_next().await {
        record(res??, r, world, b, sold);
    }
    Ok(())
}

fn record(
    (i, status, v): (usize, u16, Value),
    r: &mut Replay,
    world: &World,
    b: &indicatif::ProgressBar,
    sold: &HashSet<(&str, &str, i64)>,
) {
    b.inc(1);
    let e = &world.events[i];
    let d = day_of(e.time) as usize;
    *r.statuses.entry(status).or_insert(0) += 1;
    let days =
        r.per_officer_day.entry(e.officer.clone()).or_insert_with(|| vec![(0, 0); world.days as usize + 1]);
    let ok = status == 200;
    if let Some(x) = days.get_mut(d) {
        if ok {
            x.0 += 1;
        } else {
            x.1 += 1;
        }
    }
    if let Some(x) = r.per_day.get_mut(d) {
        match (ok, e.case.is_empty()) {
            (true, false) => x.0 += 1,
            (true, true) => x.1 += 1,
            (false, _) => x.2 += 1,
        }
    }
    if status == 403 || status == 429 {
        let reasons = v["error"]["reasons"].as_array().cloned().unwrap_or_default();
        if reasons.is_empty() {
            *r.reasons.entry(v["error"]["code"].as_str().unwrap_or("refused").to_string()).or_insert(0) += 1;
        }
        for x in reasons {
            *r.reasons.entry(x.as_str().unwrap_or_default().to_string()).or_insert(0) += 1;
        }
    }
    if ok && sold.contains(&(e.officer.as_str(), e.subject.as_str(), e.time)) {
        r.sold.push((e.time, e.officer.clone(), e.subject.clone(), v));
    }
}

/// Step 5: the buyers post what the sellers received; an auditor uploads the channel's export.
async fn leak(
    dir: &Path,
    client: &Client,
    setup: &Setup,
    world: &World,
    replay: &Replay,
    seed: u64,
) -> anyhow::Result<Value> {
    let mut rng = custos_sim::Rng::new(seed ^ 0x7E1E);
    let mut posts = Vec::new();
    for (t, _officer, subject, body) in &replay.sold {
        if !rng.chance(0.7) {
            continue; // not everything bought is posted
        }
        let when = t + 3_600 * (6 + rng.below(90) as i64);
        posts.push((when, post_text(&mut rng, subject, body)));
    }
    // Chatter: prices, payment details, dates, order numbers.
    let first = posts.iter().map(|p| p.0).min().unwrap_or(day_start(world.days / 2));
    let last = posts.iter().map(|p| p.0).max().unwrap_or(first + 86_400);
    let chatter = [
        "📢 NID + মোবাইল তথ্য পাওয়া যায়। price: 1,500 tk per record, call list 30 days 5,000 tk. inbox @dataseller_bd",
        "bKash payment only. order #48213 confirmed, delivery within 24 hours",
        "বাল্ক অর্ডার: ১০০ records 25,000 tk. offer till 15.03.2026",
        "Reminder: no refund. Card 4111 1111 1111 1111 not accepted",
        "সব অপারেটর: GP, Robi, Banglalink, Teletalk. 24/7 service",
    ];
    let steps = chatter.len() as i64 * 3;
    for k in 0..steps {
        let t = first + (last - first) * k / steps.max(1);
        posts.push((t, chatter[(k as usize) % chatter.len()].to_string()));
    }
    let export = custos_sim::telegram_channel("BD Data Service ✅", 1_870_000_000 + seed % 1000, &posts);
    std::fs::create_dir_all(dir.join("leak"))?;
    std::fs::write(dir.join("leak/result.json"), &export)?;

    let token = setup.tokens.get(&setup.auditor).context("auditor token")?;
    let req = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/v1/leaks")
        .header(axum::http::header::AUTHORIZATION, format!("Bearer {token}"))
        .header(axum::http::header::CONTENT_TYPE, "application/json")
        .body(axum::body::Body::from(export))?;
    let (status, finding) = client.send(req, day_start(world.days) + 10 * 3600).await?;
    if status != 200 {
        bail!("the leak upload answered {status}: {finding}");
    }
    std::fs::write(dir.join("leak/finding.json"), serde_json::to_vec_pretty(&finding)?)?;
    Ok(finding)
}

/// A seller's post of one record, in the shape of what they received.
fn post_text(rng: &mut custos_sim::Rng, subject: &str, body: &Value) -> String {
    let shown = custos_sim::written(rng, subject);
    if let Some(records) = body["records"].as_array() {
        let mut contacts: BTreeMap<String, u32> = BTreeMap::new();
        for r in records {
            for k in ["caller", "callee"] {
                if let Some(n) = r[k].as_str().filter(|n| *n != subject) {
                    *contacts.entry(n.to_string()).or_insert(0) += 1;
                }
            }
        }
        let mut top: Vec<(String, u32)> = contacts.into_iter().collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let list: Vec<String> =
            top.iter().take(3).map(|(n, c)| format!("{} ({c}x)", custos_sim::written(rng, n))).collect();
        return format!(
            "**CALL LIST ✅**\nNumber: {shown}\n{} records, 30 days\nTop contacts: {}\nFull list inbox",
            records.len(),
            list.join(", ")
        );
    }
    let r = &body["record"];
    let mut lines = vec![format!(
        "**NID DATA ✅** {}",
        if subject.starts_with("880") { shown.clone() } else { String::new() }
    )];
    for (k, label) in [
        ("name_en", "Name"),
        ("name_bn", "নাম"),
        ("nid", "NID"),
        ("dob", "DOB"),
        ("father", "Father"),
        ("mother", "Mother"),
        ("address", "Address"),
    ] {
        if let Some(v) = r[k].as_str() {
            lines.push(format!("{label}: {v}"));
        }
    }
    if let Some(ms) = r["msisdns"].as_array() {
        let ms: Vec<String> =
            ms.iter().filter_map(Value::as_str).map(|m| custos_sim::written(rng, m)).collect();
        lines.push(format!("Mobile: {}", ms.join(", ")));
    }
    lines.push("Price 1500tk".into());
    lines.join("\n")
}

/// An insider with disk access edits one entry in a copy of the log: verification names it.
fn tamper_check(dir: &Path, key: &custos_tlog::note::Verifier, size: u64) -> anyhow::Result<String> {
    let tdir = dir.join("tampered-copy");
    std::fs::create_dir_all(tdir.join("log"))?;
    for f in ["entries.dat", "index.dat", "hashes.dat", "commits.log", "log.key"] {
        std::fs::copy(dir.join("log").join(f), tdir.join("log").join(f))?;
    }
    let victim = size / 3;
    let idx = std::fs::read(tdir.join("log/index.dat"))?;
    let at = usize::try_from(victim)? * 8;
    let off = u64::from_le_bytes(idx.get(at..at + 8).context("index too short")?.try_into()?);
    let mut entries = std::fs::read(tdir.join("log/entries.dat"))?;
    let pos = usize::try_from(off)? + 2 + 20;
    let byte = entries.get_mut(pos).context("entry out of range")?;
    *byte = if *byte == b'0' { b'1' } else { b'0' };
    std::fs::write(tdir.join("log/entries.dat"), entries)?;
    let mut t = DirTiles::open(&tdir)?;
    let cp = t.last_commit().checkpoint.clone();
    let msg = match verify_signed_log(&mut t, &cp, key, None, &mut |_| {}) {
        Ok(_) => bail!("tampering with entry {victim} was NOT detected"),
        Err(e) => format!("a copy with entry {victim} edited on disk fails verification: {e}"),
    };
    std::fs::remove_dir_all(&tdir)?;
    Ok(msg)
}

/// `DIR/credentials.json`: accounts per role and example requests (allowed and refused) that
/// work against `custos serve --dir DIR`.
fn credentials(dir: &Path, setup: &Setup, world: &World, files: &[CaseFile]) -> anyhow::Result<()> {
    let role_of = |id: &str| world.officers.iter().find(|o| o.id == id).map(|o| o.role);
    let first = |role: custos_sim::Role| world.officers.iter().find(|o| o.role == role).map(|o| o.id.clone());
    let insiders: HashSet<&str> = world.insiders.iter().map(|i| i.officer.as_str()).collect();
    // A case still open at the end, worked by an investigator who is not an insider.
    let open = files.iter().rev().find(|f| {
        f.end_day + 2 >= world.days
            && f.officers
                .iter()
                .any(|o| role_of(o) == Some(custos_sim::Role::Investigator) && !insiders.contains(o.as_str()))
    });
    let mut accounts = vec![];
    let mut examples = vec![];
    let tok = |id: &str| setup.tokens.get(id).cloned().unwrap_or_default();
    accounts.push(json!({"role": "admin", "officer": "admin", "token": setup.admin}));
    for (role, id) in [
        ("desk", first(custos_sim::Role::Desk)),
        ("analyst", first(custos_sim::Role::Analyst)),
        ("supervisor", first(custos_sim::Role::Supervisor)),
    ] {
        if let Some(id) = id {
            accounts.push(json!({"role": role, "officer": id, "token": tok(&id)}));
        }
    }
    accounts
        .push(json!({"role": "reviewer", "officer": setup.reviewers[0], "token": tok(&setup.reviewers[0])}));
    accounts.push(json!({"role": "auditor", "officer": setup.auditor, "token": tok(&setup.auditor)}));
    let someone = &world.citizens[0];
    if let Some(f) = open {
        let inv = f
            .officers
            .iter()
            .find(|o| role_of(o) == Some(custos_sim::Role::Investigator) && !insiders.contains(o.as_str()))
            .cloned()
            .unwrap_or_default();
        accounts.push(json!({"role": "investigator", "officer": inv, "token": tok(&inv)}));
        let covered = f
            .subjects
            .iter()
            .find(|s| !s.starts_with("880"))
            .cloned()
            .unwrap_or_else(|| f.subjects[0].clone());
        let field = if covered.starts_with("880") { "msisdn" } else { "nid" };
        examples.push(json!({"name": "identity lookup under a case and its warrant", "role": "investigator", "method": "POST", "path": "/v1/identity/lookup",
            "body": {field: covered, "case": f.id, "warrant": f.warrant(), "purpose": format!("investigation {}", f.id)}, "expect": 200}));
        examples.push(json!({"name": "a citizen the warrant does not cover", "role": "investigator", "method": "POST", "path": "/v1/identity/lookup",
            "body": {"nid": someone.nid, "case": f.id, "warrant": f.warrant(), "purpose": "curiosity"}, "expect": 403}));
    }
    if first(custos_sim::Role::Desk).is_some() {
        examples.push(json!({"name": "routine identity check (tight quota, marked unexplained)", "role": "desk", "method": "POST", "path": "/v1/identity/lookup",
            "body": {"nid": someone.nid, "purpose": "routine identity verification"}, "expect": 200}));
        examples.push(json!({"name": "call records without a case or warrant", "role": "desk", "method": "POST", "path": "/v1/cdr/query",
            "body": {"msisdn": someone.msisdn, "from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z", "case": "", "warrant": "", "purpose": "checking"}, "expect": 403}));
    }
    examples.push(json!({"name": "live alerts", "role": "auditor", "method": "GET", "path": "/v1/alerts", "body": null, "expect": 200}));
    examples.push(json!({"name": "an auditor may not pull records", "role": "auditor", "method": "POST", "path": "/v1/identity/lookup",
        "body": {"nid": someone.nid, "purpose": "audit"}, "expect": 403}));
    examples.push(json!({"name": "the latest checkpoint", "role": "auditor", "method": "GET", "path": "/audit/checkpoint", "body": null, "expect": 200}));
    let out = json!({"server": "http://127.0.0.1:8080", "accounts": accounts, "examples": examples});
    custos_logstore::atomic_write(&dir.join("credentials.json"), &serde_json::to_vec_pretty(&out)?, true)?;
    Ok(())
}

/// Severity at or above high.
pub fn serious(s: Severity) -> bool {
    matches!(s, Severity::High | Severity::Critical)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_demo_directory_a_server_holds_is_not_cleared() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("demo");
        prepare_dir(&dir).unwrap();
        LogStore::init(&dir, "custos.test/audit").unwrap();
        let held = LogStore::open(&dir, Options::default()).unwrap();
        let e = prepare_dir(&dir).unwrap_err().to_string();
        assert!(e.contains("in use by a running `custos serve`"), "{e}");
        assert!(dir.join("log").exists() && dir.join(MARKER).exists());
        drop(held);
        prepare_dir(&dir).unwrap();
        assert!(!dir.join("log").exists());
    }
}
