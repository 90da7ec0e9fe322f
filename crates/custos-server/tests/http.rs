//! The audit routes and the witness over real loopback sockets.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code")]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, RwLock};

use custos_logstore::{LogStore, Options};
use custos_server::audit::{self, AuditState};
use custos_server::auth::{Role, TokenStore};
use custos_server::witness::{self, add_witness, Publisher, WitnessServer};
use custos_tlog::checkpoint::Checkpoint;
use custos_tlog::merkle::{consistency_proof, tree_hash, MemoryTree};
use custos_tlog::note::{self, Signer, ALG_ED25519};
use custos_tlog::witness::format_request;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

fn spawn(rt: &tokio::runtime::Runtime, router: axum::Router) -> SocketAddr {
    rt.block_on(async {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let a = l.local_addr().unwrap();
        tokio::spawn(custos_server::serve_listener(l, router, std::future::pending()));
        a
    })
}

struct Resp {
    status: u16,
    ctype: String,
    cache: String,
    body: Vec<u8>,
}

fn get(url: &str, token: Option<&str>) -> Resp {
    let mut r = ureq::get(url);
    if let Some(t) = token {
        r = r.set("Authorization", &format!("Bearer {t}"));
    }
    let resp = match r.call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{e}"),
    };
    let status = resp.status();
    let ctype = resp.header("content-type").unwrap_or_default().to_string();
    let cache = resp.header("cache-control").unwrap_or_default().to_string();
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut resp.into_reader(), &mut body).unwrap();
    Resp { status, ctype, cache, body }
}

fn post(url: &str, body: &str) -> (u16, String, String) {
    let resp = match ureq::post(url).send_string(body) {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{e}"),
    };
    let status = resp.status();
    let ctype = resp.header("content-type").unwrap_or_default().to_string();
    (status, ctype, resp.into_string().unwrap())
}

fn new_log(dir: &Path, n: u64) -> LogStore {
    LogStore::init(dir, "custos.test/audit").unwrap();
    let log = LogStore::open(dir, Options::default()).unwrap();
    if n > 0 {
        log.append_batch((0..n).map(|i| format!("entry {i}").into_bytes()).collect()).unwrap();
    }
    log
}

#[test]
fn tiles_checkpoint_and_entry_access() {
    let d = tempfile::tempdir().unwrap();
    let log = new_log(d.path(), 1000);
    let tokens = TokenStore::load(d.path()).unwrap();
    let (admin, _) = tokens.issue(Role::Admin, "admin", None).unwrap();
    let (auditor, _) = tokens.issue(Role::Auditor, "aud-1", None).unwrap();
    let (officer, _) = tokens.issue(Role::Officer, "off-1", None).unwrap();
    let (expired, _) = tokens.issue(Role::Auditor, "aud-2", Some(1)).unwrap();
    let rt = rt();
    let addr = spawn(
        &rt,
        audit::router(AuditState {
            log: log.clone(),
            auth: Arc::new(tokens),
            published: Arc::new(RwLock::new(None)),
        }),
    );
    let base = format!("http://{addr}/audit");

    let cp = get(&format!("{base}/checkpoint"), None);
    assert_eq!(cp.status, 200);
    assert_eq!(cp.ctype, "text/plain; charset=utf-8");
    assert_eq!(cp.cache, "no-store");
    let (n, _) =
        note::open(std::str::from_utf8(&cp.body).unwrap(), std::slice::from_ref(log.verifier())).unwrap();
    assert_eq!(Checkpoint::parse(&n.text).unwrap().size, 1000);

    // Hash tiles are public and equal what the store holds.
    let t = get(&format!("{base}/tile/0/001"), None);
    assert_eq!((t.status, t.ctype.as_str()), (200, "application/octet-stream"));
    assert!(t.cache.contains("immutable"));
    assert_eq!(t.body, log.tile(&custos_tlog::tile::Tile::parse("tile/0/001").unwrap()).unwrap().unwrap());
    let p = get(&format!("{base}/tile/0/003.p/232"), None);
    assert_eq!((p.status, p.body.len()), (200, 232 * 32));
    assert!(!p.cache.contains("immutable"));
    assert_eq!(get(&format!("{base}/tile/1/000.p/3"), None).status, 200);

    // Tiles that do not exist yet: 404 with a JSON error.
    for missing in ["tile/0/004", "tile/0/003.p/231", "tile/0/003", "tile/2/000.p/1", "tile/entries/009"] {
        let r = get(&format!("{base}/{missing}"), Some(&admin));
        assert_eq!(r.status, 404, "{missing}");
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["error"]["code"], "not_found");
    }
    // Malformed paths: 400 with a JSON error.
    for bad in [
        "tile/0/1",
        "tile/64/000",
        "tile/0/x000/001",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/a/000",
        "tile/0/000.p/01",
        "tile/0/00a",
    ] {
        let r = get(&format!("{base}/{bad}"), None);
        assert_eq!(r.status, 400, "{bad}");
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["error"]["code"], "bad_tile_path", "{bad}");
    }

    // Entry bundles need the auditor or admin role.
    let url = format!("{base}/tile/entries/000");
    assert_eq!(get(&url, None).status, 401);
    assert_eq!(get(&url, Some("cst_forged")).status, 401);
    assert_eq!(get(&url, Some(&expired)).status, 401);
    let r = get(&url, Some(&officer));
    assert_eq!(r.status, 403);
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["error"]["code"], "role_not_allowed");
    let ok = get(&url, Some(&auditor));
    assert_eq!(ok.status, 200);
    let entries = custos_tlog::tile::decode_bundle(&ok.body, 256).unwrap();
    assert_eq!(entries[7], b"entry 7");
    assert_eq!(get(&url, Some(&admin)).status, 200);
    assert_eq!(get(&format!("{base}/tile/entries/003.p/232"), Some(&auditor)).status, 200);
}

struct Witnessed {
    _d: tempfile::TempDir,
    dir: std::path::PathBuf,
    url: String,
    server: Arc<WitnessServer>,
    log_signer: Signer,
}

fn witness(rt: &tokio::runtime::Runtime, log_key: &str) -> Witnessed {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("w");
    WitnessServer::init(&dir, "oversight.test/w1").unwrap();
    WitnessServer::trust(&dir, log_key).unwrap();
    let server = Arc::new(WitnessServer::open(&dir).unwrap());
    let addr = spawn(rt, witness::router(server.clone()));
    Witnessed {
        _d: d,
        dir,
        url: format!("http://{addr}"),
        server,
        log_signer: Signer::from_seed("x", ALG_ED25519, [0; 32]).unwrap(),
    }
}

/// A log held in memory with a known signer, for crafting requests.
fn memory_log(signer: &Signer, n: u64, salt: &str) -> (MemoryTree, String) {
    let mut t = MemoryTree::new();
    for i in 0..n {
        t.push_entry(format!("{salt}{i}").as_bytes());
    }
    let cp = Checkpoint { origin: signer.name().into(), size: n, root: t.root(), extensions: vec![] };
    (t, signer.sign(&cp.to_text()).unwrap())
}

fn signed_at(signer: &Signer, t: &MemoryTree, size: u64) -> String {
    let cp = Checkpoint {
        origin: signer.name().into(),
        size,
        root: tree_hash(t, size).unwrap(),
        extensions: vec![],
    };
    signer.sign(&cp.to_text()).unwrap()
}

#[test]
fn publisher_gets_cosignatures_from_a_witness() {
    let d = tempfile::tempdir().unwrap();
    let log = new_log(d.path(), 300);
    let rt = rt();
    let w = witness(&rt, &log.verifier().to_text());
    add_witness(d.path(), &w.url, &w.server.verifier().to_text()).unwrap();
    let published = Arc::new(RwLock::new(None));
    let mut p = Publisher::new(log.clone(), d.path(), published.clone()).unwrap();
    let r = p.publish_once().unwrap();
    assert_eq!((r.size, r.cosigned_by.clone()), (300, vec!["oversight.test/w1".to_string()]));
    // Grow, publish again: the witness checks consistency 300 -> 1000.
    log.append_batch((300..1000).map(|i| format!("entry {i}").into_bytes()).collect()).unwrap();
    let r = p.publish_once().unwrap();
    assert!(r.failed.is_empty(), "{:?}", r.failed);
    let note_text = published.read().unwrap().clone().unwrap();
    let (_, sigs) = note::open(&note_text, &[log.verifier().clone(), w.server.verifier()]).unwrap();
    assert_eq!(sigs.len(), 2);
    // A fresh publisher (restart) learns the witness's size from a 409 and continues.
    log.append(b"one more".to_vec()).unwrap();
    let mut p2 = Publisher::new(log.clone(), d.path(), Arc::new(RwLock::new(None))).unwrap();
    let r = p2.publish_once().unwrap();
    assert_eq!(r.cosigned_by.len(), 1, "{:?}", r.failed);
    // The served state on the witness survived in its state file.
    let state = std::fs::read_to_string(w.dir.join("state.json")).unwrap();
    assert!(state.contains("\"size\": 1001"), "{state}");
}

#[test]
fn a_witness_that_is_down_is_asked_again_only_after_a_back_off() {
    let d = tempfile::tempdir().unwrap();
    let log = new_log(d.path(), 10);
    let key = WitnessServer::init(&d.path().join("w"), "oversight.test/w1").unwrap().to_text();
    // A port nothing listens on (bound, then let go).
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    add_witness(d.path(), &format!("http://127.0.0.1:{port}"), &key).unwrap();
    let mut p = Publisher::new(log.clone(), d.path(), Arc::new(RwLock::new(None))).unwrap();
    let r = p.publish_once().unwrap();
    assert_eq!((r.size, r.cosigned_by.len(), r.failed.len()), (10, 0, 1));
    assert!(!r.failed[0].contains("not asked"), "{:?}", r.failed);
    // The log grows at once: the checkpoint is published, the witness not asked again yet.
    log.append(b"one more".to_vec()).unwrap();
    let r = p.publish_once().unwrap();
    assert_eq!(r.size, 11);
    assert!(r.failed[0].contains("not asked: 1 failed attempts in a row"), "{:?}", r.failed);
    // After the back-off it is asked again (and fails again).
    std::thread::sleep(std::time::Duration::from_millis(1100));
    log.append(b"and another".to_vec()).unwrap();
    let r = p.publish_once().unwrap();
    assert!(!r.failed[0].contains("not asked"), "{:?}", r.failed);
}

#[test]
fn a_witness_address_the_publisher_cannot_post_to_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let key = WitnessServer::init(&d.path().join("w"), "oversight.test/w1").unwrap().to_text();
    for (url, why) in [
        ("notaurl", "not a URL"),
        ("ftp://witness.example", "scheme must be http or https"),
        ("http://", "not a URL"),
        ("http://[::1", "not a URL"),
        ("http://w.example/x?y=1", "query or a fragment"),
        ("https://user:pw@w.example", "credentials"),
    ] {
        let e = add_witness(d.path(), url, &key).unwrap_err().to_string();
        assert!(e.contains(&format!("`{url}`")) && e.contains(why), "{url}: {e}");
    }
    assert!(witness::load_witnesses(d.path()).unwrap().is_empty());
    add_witness(d.path(), " https://W.example:8443/witness/ ", &key).unwrap();
    let w = witness::load_witnesses(d.path()).unwrap();
    assert_eq!(w.iter().map(|w| w.url.as_str()).collect::<Vec<_>>(), ["https://w.example:8443/witness"]);
}

#[test]
fn witness_refuses_rollback_fork_bad_proofs_and_bad_input() {
    let rt = rt();
    let signer = Signer::from_seed("custos.test/audit", ALG_ED25519, [5; 32]).unwrap();
    let mut w = witness(&rt, &signer.verifier().to_text());
    w.log_signer = signer.clone();
    let add = format!("{}/add-checkpoint", w.url);
    let (t, cp10) = memory_log(&w.log_signer, 10, "e");

    // Happy path from nothing, then 10 -> 20 with a proof.
    let (s, _, body) = post(&add, &format_request(0, &[], &cp10));
    assert_eq!(s, 200, "{body}");
    assert!(body.starts_with("\u{2014} oversight.test/w1 "));
    let (t20, cp20) = memory_log(&w.log_signer, 20, "e");
    let proof = consistency_proof(&t20, 10, 20).unwrap();
    let (s, _, body) = post(&add, &format_request(10, &proof, &cp20));
    assert_eq!(s, 200, "{body}");

    // Rollback: a checkpoint of 10 again, claiming old size 10 → 409 with the real size.
    let (s, ct, body) = post(&add, &format_request(10, &[], &cp10));
    assert_eq!((s, ct.as_str(), body.as_str()), (409, "text/x.tlog.size", "20\n"));
    // ... or with the right old size: old > new → 400.
    assert_eq!(post(&add, &format_request(20, &[], &cp10)).0, 400);

    // Fork: a different tree of the same size 20 → 409.
    let (_, fork20) = memory_log(&w.log_signer, 20, "forked");
    assert_eq!(post(&add, &format_request(20, &[], &fork20)).0, 409);
    // Fork that grows: 20 → 30 on a different history: the proof cannot verify → 422.
    let (fork, fork30) = memory_log(&w.log_signer, 30, "forked");
    let fp = consistency_proof(&fork, 20, 30).unwrap();
    assert_eq!(post(&add, &format_request(20, &fp, &fork30)).0, 422);
    // Bad proof: flip a bit of an honest one → 422.
    let (t30, cp30) = memory_log(&w.log_signer, 30, "e");
    let mut p = consistency_proof(&t30, 20, 30).unwrap();
    p[0][0] ^= 1;
    assert_eq!(post(&add, &format_request(20, &p, &cp30)).0, 422);
    // Bad log signature → 403; unknown log → 404.
    let impostor = Signer::from_seed("custos.test/audit", ALG_ED25519, [6; 32]).unwrap();
    assert_eq!(post(&add, &format_request(20, &[], &signed_at(&impostor, &t30, 30))).0, 403);
    let other = Signer::from_seed("other.test/log", ALG_ED25519, [7; 32]).unwrap();
    assert_eq!(post(&add, &format_request(0, &[], &signed_at(&other, &t30, 30))).0, 404);
    // Malformed bodies → 400, never a crash.
    for bad in [
        "",
        "old\n\n",
        "old -1\n\nx",
        "old 01\n\n",
        "new 5\n\n",
        "old 20\nnot-base64!\n\n",
        "old 20\n\ngarbage\n",
    ] {
        assert_eq!(post(&add, bad).0, 400, "{bad:?}");
    }
    let too_many =
        format!("old 20\n{}\n{}", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n".repeat(64), cp30);
    assert_eq!(post(&add, &too_many).0, 400);
    // Still serving: the honest 20 → 30 is cosigned.
    let good = consistency_proof(&t30, 20, 30).unwrap();
    assert_eq!(post(&add, &format_request(20, &good, &cp30)).0, 200);

    // Restart keeps state: a new server over the same directory remembers size 30.
    let restarted = Arc::new(WitnessServer::open(&w.dir).unwrap());
    let addr = spawn(&rt, witness::router(restarted));
    let (s, _, body) = post(&format!("http://{addr}/add-checkpoint"), &format_request(20, &good, &cp30));
    assert_eq!((s, body.as_str()), (409, "30\n"));
    let _ = t;
}

#[test]
fn silent_and_idle_connections_are_closed_and_shutdown_waits_for_requests() {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};
    let rt = rt();
    let router = axum::Router::new().route("/ok", axum::routing::get(|| async { "ok" })).route(
        "/slow",
        axum::routing::get(|| async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            "slow"
        }),
    );
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let limits = custos_server::ServeOptions {
        header_timeout: Duration::from_secs(1),
        ..custos_server::ServeOptions::default()
    };
    let (addr, served) = rt.block_on(async {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let a = l.local_addr().unwrap();
        let shutdown = async move {
            let _ = stop_rx.await;
        };
        (a, tokio::spawn(custos_server::serve_listener_with(l, router, shutdown, limits)))
    });
    // Read until the server closes the connection; what it sent, and how long it took.
    let drain = |s: &mut std::net::TcpStream| {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let t = Instant::now();
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        loop {
            match s.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
                Err(e) => panic!("the server did not close the connection: {e}"),
            }
        }
        (String::from_utf8_lossy(&got).into_owned(), t.elapsed())
    };
    // Headers begun and never finished (slowloris): closed after the header timeout.
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(b"GET /ok HTTP/1.1\r\nHost: x\r\n").unwrap();
    let (got, took) = drain(&mut s);
    assert!(!got.contains("200 OK"), "{got}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    // A kept-alive connection answered, then left idle: closed too.
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let (got, took) = drain(&mut s);
    assert!(got.starts_with("HTTP/1.1 200 OK") && got.ends_with("ok"), "{got}");
    assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(5), "{took:?}");
    // Shutdown: the request in flight is answered, then the server stops.
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(100));
    stop_tx.send(()).unwrap();
    let (got, _) = drain(&mut s);
    assert!(got.starts_with("HTTP/1.1 200 OK") && got.ends_with("slow"), "{got}");
    rt.block_on(async { tokio::time::timeout(Duration::from_secs(5), served).await })
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(std::net::TcpStream::connect(addr).is_err(), "no longer listening");
}

#[test]
fn connections_over_the_limits_are_answered_503_and_closed() {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};
    let rt = rt();
    let router = axum::Router::new().route("/ok", axum::routing::get(|| async { "ok" }));
    let options = custos_server::ServeOptions {
        max_connections: 3,
        max_connections_per_address: 2,
        ..custos_server::ServeOptions::default()
    };
    let addr = rt.block_on(async {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let a = l.local_addr().unwrap();
        tokio::spawn(custos_server::serve_listener_with(l, router, std::future::pending(), options));
        a
    });
    // A connection from the given loopback address.
    let from = |src: &str| {
        rt.block_on(async {
            let s = tokio::net::TcpSocket::new_v4().unwrap();
            s.bind(format!("{src}:0").parse().unwrap()).unwrap();
            let c = s.connect(addr).await.unwrap().into_std().unwrap();
            c.set_nonblocking(false).unwrap();
            c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            c
        })
    };
    // One request kept alive: proof the connection was taken.
    let served = |c: &mut std::net::TcpStream| {
        if c.write_all(b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n").is_err() {
            return false;
        }
        let mut buf = [0u8; 512];
        matches!(c.read(&mut buf), Ok(n) if n > 0 && buf[..n].ends_with(b"ok"))
    };
    // What a refused connection is told before it is closed.
    let refusal = |c: &mut std::net::TcpStream| {
        let mut got = Vec::new();
        let _ = c.read_to_end(&mut got);
        String::from_utf8_lossy(&got).into_owned()
    };
    let refused_before = custos_server::connection_counts().1;
    let mut a = from("127.0.0.1");
    let mut b = from("127.0.0.1");
    assert!(served(&mut a) && served(&mut b));
    // A third from the same address: 503, a JSON error, closed.
    let said = refusal(&mut from("127.0.0.1"));
    assert!(said.starts_with("HTTP/1.1 503"), "{said}");
    assert!(said.contains(r#""code":"too_many_connections""#) && said.contains("this address"), "{said}");
    // Another address is served, up to the limit in all.
    let mut c = from("127.0.0.2");
    assert!(served(&mut c));
    let said = refusal(&mut from("127.0.0.3"));
    assert!(
        said.starts_with("HTTP/1.1 503") && said.contains("as many connections open as it takes"),
        "{said}"
    );
    // Counted for /metrics (other tests of this binary may add refusals of their own).
    assert!(custos_server::connection_counts().1 >= refused_before + 2);
    assert!(custos_server::connection_counts().0 >= 3);
    // The connections kept are still served; one closed gives its place back.
    assert!(served(&mut a) && served(&mut c));
    drop(b);
    let t = Instant::now();
    loop {
        let mut d = from("127.0.0.1");
        if served(&mut d) {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(5), "the closed connection's place was not given back");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn https_with_a_certificate_from_pem_files() {
    use std::io::{Read, Write};
    use std::time::Duration;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tls");
    let acceptor = custos_server::tls::acceptor(&dir.join("server.pem"), &dir.join("server.key")).unwrap();
    let rt = rt();
    let router = axum::Router::new().route("/ok", axum::routing::get(|| async { "ok over tls" }));
    let options = custos_server::ServeOptions {
        header_timeout: Duration::from_secs(1),
        tls: Some(acceptor),
        ..custos_server::ServeOptions::default()
    };
    let addr = rt.block_on(async {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let a = l.local_addr().unwrap();
        tokio::spawn(custos_server::serve_listener_with(l, router, std::future::pending(), options));
        a
    });
    // A client that trusts the test CA.
    let ca = std::fs::read_to_string(dir.join("ca.pem")).unwrap();
    let client = custos_server::tls::client_trusting(&ca).unwrap();
    let agent = ureq::AgentBuilder::new().tls_config(client).build();
    let body =
        agent.get(&format!("https://localhost:{}/ok", addr.port())).call().unwrap().into_string().unwrap();
    assert_eq!(body, "ok over tls");
    // A client that does not trust it is refused by its own check.
    let e = ureq::get(&format!("https://localhost:{}/ok", addr.port())).call().unwrap_err().to_string();
    assert!(e.to_lowercase().contains("certificate"), "{e}");
    // Plain HTTP on the TLS port gets no HTTP answer.
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    assert!(!String::from_utf8_lossy(&got).contains("ok over tls"));
    // A connection that never starts its handshake is dropped after the header timeout.
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let t = std::time::Instant::now();
    let n = s.read(&mut [0u8; 16]).unwrap_or(0);
    assert_eq!(n, 0);
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
}

#[test]
fn officers_credentials_are_bound_to_their_client_certificates() {
    use custos_server::auth::{Authenticate, HasAuth, Principal};
    #[derive(Clone)]
    struct St(Arc<TokenStore>);
    impl HasAuth for St {
        fn auth(&self) -> &dyn Authenticate {
            &*self.0
        }
    }
    let d = tempfile::tempdir().unwrap();
    let tokens = TokenStore::load(d.path()).unwrap();
    let (inv1, _) = tokens.issue(Role::Officer, "inv1", None).unwrap();
    let (inv2, _) = tokens.issue(Role::Officer, "inv2", None).unwrap();
    let (admin, _) = tokens.issue(Role::Admin, "admin", None).unwrap();
    let tls = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tls");
    let acceptor = custos_server::tls::acceptor_with_clients(
        &tls.join("server.pem"),
        &tls.join("server.key"),
        Some(custos_server::tls::ClientCerts { ca: &tls.join("clients-ca.pem"), crl: None }),
    )
    .unwrap();
    let router = axum::Router::new()
        .route("/who", axum::routing::get(|p: Principal| async move { p.subject }))
        .route("/public", axum::routing::get(|| async { "anyone" }))
        .with_state(St(Arc::new(tokens)));
    let rt = rt();
    // Binding without TLS would be binding nothing: refused.
    let plain =
        custos_server::ServeOptions { client_certificates: true, ..custos_server::ServeOptions::default() };
    let e = rt
        .block_on(async {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            custos_server::serve_listener_with(l, router.clone(), std::future::pending(), plain).await
        })
        .unwrap_err();
    assert!(e.to_string().contains("need TLS"), "{e}");
    let options = custos_server::ServeOptions {
        tls: Some(acceptor),
        client_certificates: true,
        ..custos_server::ServeOptions::default()
    };
    let addr = rt.block_on(async {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let a = l.local_addr().unwrap();
        tokio::spawn(custos_server::serve_listener_with(l, router, std::future::pending(), options));
        a
    });
    let ca = std::fs::read_to_string(tls.join("ca.pem")).unwrap();
    let with_cert = |name: &str| {
        let cfg = custos_server::tls::client_with_certificate(
            &ca,
            &tls.join(format!("{name}.pem")),
            &tls.join(format!("{name}.key")),
        )
        .unwrap();
        ureq::AgentBuilder::new().tls_config(cfg).build()
    };
    let without_cert =
        ureq::AgentBuilder::new().tls_config(custos_server::tls::client_trusting(&ca).unwrap()).build();
    let call = |agent: &ureq::Agent, path: &str, token: Option<&str>| {
        let mut r = agent.get(&format!("https://localhost:{}{path}", addr.port()));
        if let Some(t) = token {
            r = r.set("Authorization", &format!("Bearer {t}"));
        }
        match r.call() {
            Ok(resp) => (resp.status(), resp.into_string().unwrap()),
            Err(ureq::Error::Status(code, resp)) => (code, resp.into_string().unwrap()),
            Err(e) => (0, e.to_string()),
        }
    };
    let inv1_machine = with_cert("client-inv1");
    // The officer's token over the officer's certificate.
    assert_eq!(call(&inv1_machine, "/who", Some(&inv1)), (200, "inv1".to_string()));
    // Someone else's token over it: refused, and the message says why.
    let (code, body) = call(&inv1_machine, "/who", Some(&inv2));
    assert_eq!(code, 401, "{body}");
    assert!(body.contains("`inv2`") && body.contains(r#"naming [\"inv1\"]"#), "{body}");
    assert_eq!(call(&with_cert("client-inv2"), "/who", Some(&inv2)).0, 200);
    // The admin credential too needs a certificate naming `admin`.
    assert_eq!(call(&inv1_machine, "/who", Some(&admin)).0, 401);
    // A token copied to a machine without the certificate: useless.
    let (code, body) = call(&without_cert, "/who", Some(&inv1));
    assert_eq!(code, 401, "{body}");
    assert!(body.contains("without a client certificate"), "{body}");
    // What needs no credential needs no certificate.
    assert_eq!(call(&without_cert, "/public", None), (200, "anyone".to_string()));
    // A certificate naming inv1 from an authority the server does not trust ends the handshake.
    let (code, e) = call(&with_cert("stranger-inv1"), "/who", Some(&inv1));
    assert_eq!(code, 0, "{e}");
}

#[test]
fn a_revoked_client_certificate_ends_the_handshake() {
    let tls = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tls");
    let crl = tls.join("clients-crl.pem");
    let acceptor = custos_server::tls::acceptor_with_clients(
        &tls.join("server.pem"),
        &tls.join("server.key"),
        Some(custos_server::tls::ClientCerts { ca: &tls.join("clients-ca.pem"), crl: Some(&crl) }),
    )
    .unwrap();
    let router = axum::Router::new().route("/ok", axum::routing::get(|| async { "ok" }));
    let options = custos_server::ServeOptions {
        tls: Some(acceptor),
        client_certificates: true,
        ..custos_server::ServeOptions::default()
    };
    let rt = rt();
    let addr = rt.block_on(async {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let a = l.local_addr().unwrap();
        tokio::spawn(custos_server::serve_listener_with(l, router, std::future::pending(), options));
        a
    });
    let ca = std::fs::read_to_string(tls.join("ca.pem")).unwrap();
    let get = |name: Option<&str>| {
        let cfg = match name {
            Some(n) => custos_server::tls::client_with_certificate(
                &ca,
                &tls.join(format!("{n}.pem")),
                &tls.join(format!("{n}.key")),
            )
            .unwrap(),
            None => custos_server::tls::client_trusting(&ca).unwrap(),
        };
        let agent = ureq::AgentBuilder::new().tls_config(cfg).build();
        agent.get(&format!("https://localhost:{}/ok", addr.port())).call().map(|r| r.status()).ok()
    };
    // The list revokes inv2's certificate, not inv1's; no certificate at all still connects.
    assert_eq!(get(Some("client-inv1")), Some(200));
    assert_eq!(get(Some("client-inv2")), None);
    assert_eq!(get(None), Some(200));
    // A file that holds no revocation list is named.
    let e = custos_server::tls::acceptor_with_clients(
        &tls.join("server.pem"),
        &tls.join("server.key"),
        Some(custos_server::tls::ClientCerts {
            ca: &tls.join("clients-ca.pem"),
            crl: Some(&tls.join("ca.pem")),
        }),
    )
    .map(|_| ())
    .unwrap_err()
    .to_string();
    assert!(e.contains("ca.pem") && e.contains("revocation list"), "{e}");
}

#[test]
fn tls_files_that_are_not_a_certificate_and_key_are_named_in_the_error() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tls");
    let d = tempfile::tempdir().unwrap();
    let junk = d.path().join("junk.pem");
    std::fs::write(&junk, "not pem at all").unwrap();
    let missing = d.path().join("missing.pem");
    for (cert, key, says) in [
        (missing.clone(), dir.join("server.key"), "missing.pem"),
        (junk.clone(), dir.join("server.key"), "junk.pem"),
        (dir.join("server.pem"), junk.clone(), "junk.pem"),
        // The CA's certificate with the server's key: they do not belong together.
        (dir.join("ca.pem"), dir.join("server.key"), "ca.pem"),
    ] {
        let e = custos_server::tls::acceptor(&cert, &key).map(|_| ()).unwrap_err().to_string();
        assert!(e.contains(says), "{cert:?} {key:?}: {e}");
    }
}

#[test]
fn a_witness_behind_a_private_authority_is_trusted_through_its_ca_alone() {
    let d = tempfile::tempdir().unwrap();
    let log = new_log(d.path(), 50);
    let rt = rt();
    let wdir = d.path().join("w");
    WitnessServer::init(&wdir, "oversight.test/w1").unwrap();
    WitnessServer::trust(&wdir, &log.verifier().to_text()).unwrap();
    let server = Arc::new(WitnessServer::open(&wdir).unwrap());
    let tls = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tls");
    let acceptor = custos_server::tls::acceptor(&tls.join("server.pem"), &tls.join("server.key")).unwrap();
    let options =
        custos_server::ServeOptions { tls: Some(acceptor), ..custos_server::ServeOptions::default() };
    let addr = rt.block_on(async {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let a = l.local_addr().unwrap();
        let router = witness::router(server.clone());
        tokio::spawn(custos_server::serve_listener_with(l, router, std::future::pending(), options));
        a
    });
    let url = format!("https://localhost:{}", addr.port());
    let key = server.verifier().to_text();
    let ca = std::fs::read_to_string(tls.join("ca.pem")).unwrap();
    // Not without its authority: the public roots do not know the test CA.
    add_witness(d.path(), &url, &key).unwrap();
    let mut p = Publisher::new(log.clone(), d.path(), Arc::new(RwLock::new(None))).unwrap();
    let r = p.publish_once().unwrap();
    assert!(r.cosigned_by.is_empty() && r.failed.len() == 1, "{r:?}");
    // With it: cosigned over TLS.
    witness::add_witness_with_ca(d.path(), &url, &key, Some(&ca)).unwrap();
    let mut p = Publisher::new(log.clone(), d.path(), Arc::new(RwLock::new(None))).unwrap();
    let r = p.publish_once().unwrap();
    assert_eq!(r.cosigned_by, ["oversight.test/w1"], "{:?}", r.failed);
    // An authority is for https addresses, and must be one.
    let e = witness::add_witness_with_ca(d.path(), "http://127.0.0.1:1", &key, Some(&ca)).unwrap_err();
    assert!(e.to_string().contains("https"), "{e}");
    let e = witness::add_witness_with_ca(d.path(), &url, &key, Some("no pem here")).unwrap_err();
    assert!(e.to_string().contains("certificate authority"), "{e}");
}
