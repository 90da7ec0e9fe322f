//! The PostgreSQL store over TLS, against the real PostgreSQL of the store tests
//! (`CUSTOS_TEST_POSTGRES`; skipped with a notice when unreachable, unless
//! `CUSTOS_REQUIRE_POSTGRES=1`).
//!
//! The server's own TLS settings are not ours to change, so each test puts a TLS front in front
//! of it: a proxy on the loopback that speaks PostgreSQL's TLS negotiation (an `SSLRequest`,
//! answered `S`, then the handshake) with a certificate of the test CA, and forwards what it
//! decrypts to the server in clear. What the store sends is therefore proven to cross the proxy's
//! socket encrypted, and the store is proven to refuse a front it cannot verify.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code")]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use custos_store::pg::PgStore;
use custos_store::{Officer, Store};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

fn pg_url() -> String {
    std::env::var("CUSTOS_TEST_POSTGRES")
        .unwrap_or_else(|_| "host=127.0.0.1 port=5432 user=postgres dbname=test".into())
}

fn upstream() -> Option<(postgres::Config, SocketAddr)> {
    let cfg: postgres::Config = pg_url().parse().unwrap();
    match postgres::Client::connect(&pg_url(), postgres::NoTls) {
        Ok(_) => {}
        Err(e) => {
            assert!(
                std::env::var("CUSTOS_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "CUSTOS_REQUIRE_POSTGRES=1 but PostgreSQL is unreachable at `{}`: {e}",
                pg_url()
            );
            eprintln!("notice: PostgreSQL unreachable at `{}` ({e}); TLS tests skipped", pg_url());
            return None;
        }
    }
    let host = match cfg.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        _ => "127.0.0.1".to_string(),
    };
    let host = if host == "localhost" { "127.0.0.1".to_string() } else { host };
    let port = cfg.get_ports().first().copied().unwrap_or(5432);
    Some((cfg.clone(), format!("{host}:{port}").parse().unwrap()))
}

fn tls_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../custos-server/tests/tls")
}

fn other_ca() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/tls/other-ca.pem")
}

/// How the front answers the client's `SSLRequest`.
#[derive(Clone, Copy)]
enum Front {
    /// `S`, then a TLS handshake with the test certificate.
    Tls,
    /// `N`: this server has no TLS (what a downgrading machine in the middle would say).
    RefuseTls,
    /// As `Tls`, and the client must present a certificate from the officers' test CA
    /// (`hostssl … cert` in `pg_hba.conf`).
    TlsClientCert,
}

/// A front for PostgreSQL on `bind`; its address, and a count of completed TLS handshakes.
fn front(bind: &str, upstream: SocketAddr, kind: Front) -> (SocketAddr, Arc<AtomicUsize>) {
    let chain = CertificateDer::pem_file_iter(tls_dir().join("server.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(tls_dir().join("server.key")).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = if matches!(kind, Front::TlsClientCert) {
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_file_iter(tls_dir().join("clients-ca.pem")).unwrap() {
            roots.add(c.unwrap()).unwrap();
        }
        let v = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .unwrap();
        builder.with_client_cert_verifier(v)
    } else {
        builder.with_no_client_auth()
    };
    let cfg = builder.with_single_cert(chain, key).unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    let handshakes = Arc::new(AtomicUsize::new(0));
    let count = handshakes.clone();
    let std_listener = std::net::TcpListener::bind(bind).unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let addr = std_listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
            loop {
                let Ok((mut sock, _)) = listener.accept().await else { return };
                let (acceptor, count) = (acceptor.clone(), count.clone());
                tokio::spawn(async move {
                    // SSLRequest: length 8, code 80877103.
                    let mut req = [0u8; 8];
                    if sock.read_exact(&mut req).await.is_err() || req != [0, 0, 0, 8, 4, 210, 22, 47] {
                        return;
                    }
                    match kind {
                        Front::RefuseTls => {
                            let _ = sock.write_all(b"N").await;
                            // A client that carried on in clear would be forwarded; a correct one hangs up.
                            if let Ok(mut up) = tokio::net::TcpStream::connect(upstream).await {
                                let _ = tokio::io::copy_bidirectional(&mut sock, &mut up).await;
                            }
                        }
                        Front::Tls | Front::TlsClientCert => {
                            if sock.write_all(b"S").await.is_err() {
                                return;
                            }
                            let Ok(mut tls) = acceptor.accept(sock).await else { return };
                            count.fetch_add(1, Ordering::SeqCst);
                            if let Ok(mut up) = tokio::net::TcpStream::connect(upstream).await {
                                let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
                            }
                        }
                    }
                });
            }
        });
    });
    (addr, handshakes)
}

/// A connection string to the front at `addr` as the test user, with `extra` options.
fn via(cfg: &postgres::Config, addr: SocketAddr, extra: &str) -> String {
    let mut s = format!(
        "host={} port={} user={} dbname={}",
        addr.ip(),
        addr.port(),
        cfg.get_user().unwrap_or("postgres"),
        cfg.get_dbname().unwrap_or("test")
    );
    if let Some(p) = cfg.get_password() {
        s.push_str(&format!(
            " password='{}'",
            String::from_utf8_lossy(p).replace('\\', "\\\\").replace('\'', "\\'")
        ));
    }
    format!("{s} {extra}")
}

fn schema() -> String {
    let mut b = [0u8; 4];
    getrandom::getrandom(&mut b).unwrap();
    format!("custos_tls_{}_{:08x}", std::process::id(), u32::from_le_bytes(b))
}

fn drop_schema(s: &str) {
    if let Ok(mut c) = postgres::Client::connect(&pg_url(), postgres::NoTls) {
        let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{s}\" CASCADE"));
    }
}

#[test]
fn the_store_works_over_tls_to_a_server_its_ca_vouches_for() {
    let Some((cfg, up)) = upstream() else { return };
    let (addr, handshakes) = front("127.0.0.1:0", up, Front::Tls);
    let ca = tls_dir().join("ca.pem");
    let s = schema();
    for conn in [
        via(&cfg, addr, &format!("sslmode=verify-full sslrootcert='{}'", ca.display())),
        // The same in URL form, with the default sslmode: a root certificate alone asks for TLS.
        format!(
            "postgres://{}@{addr}/{}?sslrootcert={}",
            cfg.get_user().unwrap_or("postgres"),
            cfg.get_dbname().unwrap_or("test"),
            ca.display().to_string().replace('/', "%2F")
        ),
    ] {
        let before = handshakes.load(Ordering::SeqCst);
        let store = PgStore::open(&conn, Some(&s)).unwrap();
        let officer = Officer {
            id: "inv-tls".into(),
            name: "Officer over TLS".into(),
            unit: "ATU".into(),
            rank: "Inspector".into(),
            roles: vec!["investigator".into()],
            status: "active".into(),
        };
        store.put_officer(&officer).unwrap();
        assert_eq!(store.officers().unwrap(), vec![officer.clone()]);
        // Every connection of the pool came through the front's handshake.
        assert!(handshakes.load(Ordering::SeqCst) - before >= 2, "{conn}");
    }
    drop_schema(&s);
}

#[test]
fn a_client_certificate_is_presented_when_the_server_asks_for_one() {
    let Some((cfg, up)) = upstream() else { return };
    let (addr, handshakes) = front("127.0.0.1:0", up, Front::TlsClientCert);
    let ca = tls_dir().join("ca.pem");
    let s = schema();
    // Without one, the server ends the handshake.
    let e = PgStore::open(&via(&cfg, addr, &format!("sslrootcert={}", ca.display())), Some(&s))
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot connect to PostgreSQL"), "{e}");
    assert_eq!(handshakes.load(Ordering::SeqCst), 0);
    // With the one the server's CA issued, the store works.
    let conn = via(
        &cfg,
        addr,
        &format!(
            "sslrootcert={} sslcert={} sslkey={}",
            ca.display(),
            tls_dir().join("client-inv1.pem").display(),
            tls_dir().join("client-inv1.key").display()
        ),
    );
    let store = PgStore::open(&conn, Some(&s)).unwrap();
    assert!(store.officers().unwrap().is_empty());
    assert!(handshakes.load(Ordering::SeqCst) >= 2);
    drop_schema(&s);
}

#[test]
fn a_server_certificate_from_another_ca_is_refused() {
    let Some((cfg, up)) = upstream() else { return };
    let (addr, handshakes) = front("127.0.0.1:0", up, Front::Tls);
    let conn = via(&cfg, addr, &format!("sslmode=require sslrootcert={}", other_ca().display()));
    let e = PgStore::open(&conn, Some(&schema())).unwrap_err().to_string();
    assert!(e.contains("cannot connect to PostgreSQL") && e.to_lowercase().contains("certificate"), "{e}");
    assert_eq!(handshakes.load(Ordering::SeqCst), 0);
}

#[test]
fn a_certificate_for_another_host_name_is_refused() {
    let Some((cfg, up)) = upstream() else { return };
    // The certificate names localhost and 127.0.0.1, not 127.0.0.2 (also the loopback).
    let (addr, handshakes) = front("127.0.0.2:0", up, Front::Tls);
    let conn =
        via(&cfg, addr, &format!("sslmode=verify-ca sslrootcert={}", tls_dir().join("ca.pem").display()));
    let e = PgStore::open(&conn, Some(&schema())).unwrap_err().to_string();
    assert!(e.contains("cannot connect to PostgreSQL") && e.contains("127.0.0.2"), "{e}");
    assert_eq!(handshakes.load(Ordering::SeqCst), 0);
}

#[test]
fn a_server_that_says_it_has_no_tls_gets_nothing_in_clear() {
    let Some((cfg, up)) = upstream() else { return };
    let (addr, _) = front("127.0.0.1:0", up, Front::RefuseTls);
    let conn = via(&cfg, addr, &format!("sslrootcert={}", tls_dir().join("ca.pem").display()));
    let e = PgStore::open(&conn, Some(&schema())).unwrap_err().to_string();
    assert!(e.contains("cannot connect to PostgreSQL"), "{e}");
}

#[test]
fn unusable_tls_settings_are_named_before_connecting() {
    for (extra, want) in [
        ("sslmode=require".to_string(), "needs sslrootcert"),
        ("sslrootcert=/nonexistent/ca.pem".to_string(), "/nonexistent/ca.pem"),
        (
            format!("sslrootcert={} sslcert=/x.pem", tls_dir().join("ca.pem").display()),
            "sslcert without sslkey",
        ),
        ("sslmode=verify-everything".to_string(), "not one of"),
    ] {
        let e = PgStore::open(&format!("host=127.0.0.1 port=1 {extra}"), None).unwrap_err().to_string();
        assert!(e.starts_with("database settings:") && e.contains(want), "{extra}: {e}");
    }
}
