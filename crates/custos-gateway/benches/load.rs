//! Load benchmark of guarded identity lookups over HTTP with durable audit, beside, in the
//! same run: a bare handler on the same server (the ceiling of this stack), a raw SQLite point
//! lookup of the same record, and the Cedar decision alone.
//!
//! Run: `cargo bench -p custos-gateway --bench load` (`CUSTOS_BENCH_SECS`, default 5;
//! `CUSTOS_BENCH_CONNS`, default 64). The load generator is in this file: keep-alive HTTP/1.1
//! connections on loopback, one thread each, each sending its next request when the previous
//! answer has arrived, recording every latency.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "benchmark code")]

mod support;

/// The allocator the `custos` binary ships with (jemalloc, huge pages set in
/// `.cargo/config.toml`), so the bench measures the server as it runs.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::sync::Arc;
use std::time::Instant;

use axum::routing::get;
use custos_gateway::{Gateway, GatewayConfig};
use custos_logstore::{LogStore, Options};
use custos_policy::{AccessRequest, ActionKind, CaseFacts, OfficerFacts, Policy, WarrantFacts};
use custos_store::sqlite::SqliteStore;
use custos_store::{LocalKek, Registry};

fn main() {
    let secs: u64 = std::env::var("CUSTOS_BENCH_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(5);
    let conns: usize = std::env::var("CUSTOS_BENCH_CONNS").ok().and_then(|s| s.parse().ok()).unwrap_or(64);
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    LogStore::init(dir, "bench.custos/audit").unwrap();
    let log = LogStore::open(dir, Options::default()).unwrap();
    let reg = Registry::init(
        Box::new(SqliteStore::open(&dir.join("custos.db")).unwrap()),
        &LocalKek::from_bytes([3; 32]),
    )
    .unwrap();
    // 100,000 citizens so the lookup is a real index probe.
    support::seed(&reg, 100_000);
    let target = support::TARGET;
    let st = reg.store();
    let bi = reg.vault().blind("nid", target);
    let now = custos_server::auth::now_unix() as i64;
    // Baseline 1: raw SQLite point lookup of the same record (index probe + blob read).
    let t = Instant::now();
    let n = 200_000;
    for _ in 0..n {
        assert!(st.citizen_by_nid(&bi).unwrap().is_some());
    }
    let sqlite_rate = n as f64 / t.elapsed().as_secs_f64();

    // Cedar decision latency with realistic entities.
    let policy = Policy::default_policy().unwrap();
    let req = AccessRequest {
        action: ActionKind::IdentityLookup,
        officer: OfficerFacts {
            id: "inv1".into(),
            active: true,
            unit: "ATU".into(),
            roles: vec!["investigator".into()],
        },
        case: CaseFacts {
            id: "C1".into(),
            unit: "ATU".into(),
            open: true,
            covert: false,
            officers: vec!["inv1".into(), "inv7".into(), "sup2".into()],
        },
        warrant: Some(WarrantFacts {
            id: "W1".into(),
            status: "active".into(),
            case: "C1".into(),
            issuer: "rev1".into(),
            issuer_unit: "COURT".into(),
            issuer_is_reviewer: true,
            subjects: (0..12).map(|i| format!("subject-index-{i}")).chain([bi.clone()]).collect(),
            categories: vec!["identity".into(), "cdr".into()],
            data_from: 0,
            data_to: now,
            valid_from: now - 10,
            valid_to: now + 86_400,
        }),
        now,
        hour: 10,
        hours: (0, 24),
        subject: bi.clone(),
        category: "identity".into(),
        period: (0, 0),
        purpose: "x".into(),
        quota_used: 3,
        quota_limit: 200,
        subscribers: 1,
        approval_threshold: 5,
        approved: false,
        break_glass: false,
    };
    let mut lat = Vec::new();
    for _ in 0..20_000 {
        let t = Instant::now();
        let d = policy.decide(&req);
        lat.push(t.elapsed());
        assert_eq!(d, custos_policy::Decision::Allow);
    }
    lat.sort();
    let cedar_med = lat[lat.len() / 2].as_secs_f64() * 1e6;
    let cedar_p99 = lat[lat.len() * 99 / 100].as_secs_f64() * 1e6;

    let gw = Arc::new(
        Gateway::new(
            reg,
            policy,
            log,
            GatewayConfig { quota_identity: i64::MAX / 2, ..GatewayConfig::default() },
        )
        .unwrap(),
    );
    let (token, _) = gw.issue_token("inv1", false, None).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let router = custos_gateway::http::router(gw.clone()).route(
        "/bench/bare",
        get(|| async { axum::Json(serde_json::json!({"record": {"nid": "1000350000"}})) }),
    );
    let addr = rt.block_on(async {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let a = l.local_addr().unwrap();
        // All load comes from one address, as through a load balancer: no per-address limit.
        let options = custos_server::ServeOptions {
            max_connections_per_address: 0,
            ..custos_server::ServeOptions::default()
        };
        tokio::spawn(custos_server::serve_listener_with(l, router, std::future::pending(), options));
        a
    });
    let bare = b"GET /bench/bare HTTP/1.1\r\nHost: bench\r\n\r\n".to_vec();
    let guarded = support::guarded_request(&token);
    let size0 = gw.log().committed().size;
    let (b_rate, b50, b99, b_bad) = support::load(&[addr], conns, secs, bare);
    let (g_rate, g50, g99, g_bad) = support::load(&[addr], conns, secs, guarded);
    let audited = gw.log().committed().size - size0;
    println!("| {conns} connections, {secs} s each | requests/s | p50 ms | p99 ms | non-200 |");
    println!("|---|---|---|---|---|");
    println!("| baseline: bare handler on the same server | {b_rate:.0} | {b50:.2} | {b99:.2} | {b_bad} |");
    println!("| guarded identity lookup (auth, Cedar, SQLite, decrypt, durable audit) | {g_rate:.0} | {g50:.2} | {g99:.2} | {g_bad} |");
    println!("| guarded / bare | {:.0}% | | | |", 100.0 * g_rate / b_rate);
    println!("\n| baseline: raw SQLite point lookup of the same record (one thread) | {sqlite_rate:.0} lookups/s |");
    println!("| Cedar decision (realistic entities) | median {cedar_med:.1} µs, p99 {cedar_p99:.1} µs |");
    println!("\naudit entries written during the guarded run: {audited}");
}
