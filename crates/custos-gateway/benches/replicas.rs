//! Guarded lookups with 1, 2 and 3 gateway replicas on one PostgreSQL database sharing one
//! audit log, beside the embedded SQLite server in the same run; the merge delay (entry
//! submitted → sequenced and mirrored) each replica saw.
//!
//! Run: `cargo bench -p custos-gateway --bench replicas` with PostgreSQL at
//! `CUSTOS_TEST_POSTGRES` (default `host=127.0.0.1 port=5432 user=postgres dbname=test`);
//! `CUSTOS_BENCH_SECS` (default 5), `CUSTOS_BENCH_CONNS` (default 64). The replicas run in this
//! process, each with its own data directory, store connections, mirror and sequencer
//! candidate, on its own port; the connections are spread over them.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "benchmark code")]

mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use custos_gateway::{Gateway, GatewayConfig};
use custos_logstore::{LogStore, Options};
use custos_policy::Policy;
use custos_store::pg::PgStore;
use custos_store::sqlite::SqliteStore;
use custos_store::{LocalKek, Registry, Store};

const KEK: [u8; 32] = [3; 32];

fn cfg() -> GatewayConfig {
    GatewayConfig { quota_identity: i64::MAX / 2, ..GatewayConfig::default() }
}

fn listen(rt: &tokio::runtime::Runtime, gw: Arc<Gateway>) -> SocketAddr {
    rt.block_on(async {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let a = l.local_addr().unwrap();
        // All load comes from one address, as through a load balancer: no per-address limit.
        let options = custos_server::ServeOptions {
            max_connections_per_address: 0,
            ..custos_server::ServeOptions::default()
        };
        tokio::spawn(custos_server::serve_listener_with(
            l,
            custos_gateway::http::router(gw),
            std::future::pending(),
            options,
        ));
        a
    })
}

fn copy_dir(from: &Path, to: &Path) {
    let st = std::process::Command::new("cp").arg("-r").arg(from).arg(to).status().unwrap();
    assert!(st.success());
}

fn main() {
    let secs: u64 = std::env::var("CUSTOS_BENCH_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(5);
    let conns: usize = std::env::var("CUSTOS_BENCH_CONNS").ok().and_then(|s| s.parse().ok()).unwrap_or(64);
    let url = std::env::var("CUSTOS_TEST_POSTGRES")
        .unwrap_or_else(|_| "host=127.0.0.1 port=5432 user=postgres dbname=test".into());
    if let Err(e) = postgres::Client::connect(&url, postgres::NoTls) {
        println!("PostgreSQL unreachable at `{url}` ({e}): nothing measured");
        return;
    }
    println!("| {conns} connections, {secs} s each | requests/s | p50 ms | p99 ms | non-200 | merge delay p50 / p99 / max (ms, at most) |");
    println!("|---|---|---|---|---|---|");

    // Baseline: the embedded server (SQLite, its own log).
    let d = tempfile::tempdir().unwrap();
    LogStore::init(d.path(), "bench.custos/audit").unwrap();
    let reg = Registry::init(
        Box::new(SqliteStore::open(&d.path().join("custos.db")).unwrap()),
        &LocalKek::from_bytes(KEK),
    )
    .unwrap();
    support::seed(&reg, 10_000);
    let gw = Arc::new(
        Gateway::new(
            reg,
            Policy::default_policy().unwrap(),
            LogStore::open(d.path(), Options::default()).unwrap(),
            cfg(),
        )
        .unwrap(),
    );
    let (token, _) = gw.issue_token("inv1", false, None).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let addr = listen(&rt, gw);
    let (rate, p50, p99, bad) = support::load(&[addr], conns, secs, support::guarded_request(&token));
    println!(
        "| baseline: embedded server (SQLite, one process) | {rate:.0} | {p50:.2} | {p99:.2} | {bad} | — |"
    );
    drop(rt);

    for n in 1..=3usize {
        let schema = format!("custos_bench_{}_{n}", std::process::id());
        let d = tempfile::tempdir().unwrap();
        let first = d.path().join("r0");
        LogStore::init(&first, "bench.custos/audit").unwrap();
        // Every replica has the same log key: copies of one data directory.
        for i in 1..n {
            copy_dir(&first, &d.path().join(format!("r{i}")));
        }
        let open = |i: usize| -> Registry {
            let st: Box<dyn Store> = Box::new(PgStore::open(&url, Some(&schema)).unwrap());
            if i == 0 {
                Registry::init(st, &LocalKek::from_bytes(KEK)).unwrap()
            } else {
                Registry::open(st, &LocalKek::from_bytes(KEK)).unwrap()
            }
        };
        // Store calls wait for the database on the worker thread: more workers than cores, as
        // `custos serve` runs on PostgreSQL.
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(16).enable_all().build().unwrap();
        let mut reg0 = Some(open(0));
        if let Some(r) = &reg0 {
            support::seed(r, 10_000);
        }
        let mut gws = Vec::new();
        let mut token = String::new();
        for i in 0..n {
            let reg = match reg0.take() {
                Some(r) => r,
                None => open(i),
            };
            let dir = d.path().join(format!("r{i}"));
            let gw = Arc::new(
                Gateway::new(
                    reg,
                    Policy::default_policy().unwrap(),
                    LogStore::open(&dir, Options::default()).unwrap(),
                    cfg(),
                )
                .unwrap(),
            );
            gw.start_shared_log(&format!("replica-{i}")).unwrap();
            if i == 0 {
                token = gw.issue_token("inv1", false, None).unwrap().0;
            }
            gws.push(gw);
        }
        let addrs: Vec<SocketAddr> = gws.iter().map(|g| listen(&rt, g.clone())).collect();
        let (rate, p50, p99, bad) = support::load(&addrs, conns, secs, support::guarded_request(&token));
        let delays: Vec<String> = gws
            .iter()
            .map(|g| {
                let m = g.shared_log().unwrap().merge_delay();
                format!("{} / {} / {}", m["p50_ms_at_most"], m["p99_ms_at_most"], m["max_ms_at_most"])
            })
            .collect();
        println!(
            "| {n} replica{} on PostgreSQL, one shared log | {rate:.0} | {p50:.2} | {p99:.2} | {bad} | {} |",
            if n == 1 { "" } else { "s" },
            delays.join("; ")
        );
        drop(gws);
        drop(rt);
        if let Ok(mut c) = postgres::Client::connect(&url, postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"));
        }
    }
}
