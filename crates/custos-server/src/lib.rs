//! The HTTP edge of Custos.
//!
//! - [`audit`]: the audit log served on the C2SP `tlog-tiles` paths under `/audit/`.
//! - [`auth`]: bearer-token credentials and the [`auth::Principal`] extractor.
//! - [`witness`]: an independent C2SP `tlog-witness` server, and the log-side client that
//!   gathers cosignatures ([`witness::Publisher`]).
//! - [`error`]: the one HTTP error boundary: `{"error": {"code", "message"}}`.
//! - [`tls`]: rustls server and client configurations from PEM files.
//! - [`serve_listener_with`]: the accept loop (HTTP/1.1, header and idle timeouts, limits on
//!   open connections in all and per client address, optional TLS, graceful shutdown).
//!
//! Everything arriving here is untrusted; handlers parse with the pure parsers of
//! `custos-tlog` and never panic on bad input.

pub mod audit;
pub mod auth;
pub mod error;
pub mod tls;
pub mod witness;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;

/// How long a client may take to send a request's headers, and how long a kept-alive
/// connection may sit idle before its next request: past it the connection is closed, so
/// connections opened and left silent (or fed a byte at a time) cannot pile up until the
/// process runs out of file descriptors.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// Connections open at once, at most (see [`ServeOptions::max_connections`]).
pub const MAX_CONNECTIONS: usize = 4096;
/// Connections open at once from one address, at most (an IPv6 client counts per /64).
pub const MAX_CONNECTIONS_PER_ADDRESS: usize = 256;

/// How connections are served.
#[derive(Clone)]
pub struct ServeOptions {
    /// See [`HEADER_TIMEOUT`]; with TLS, the handshake must also finish within it.
    pub header_timeout: Duration,
    /// Serve HTTPS with this acceptor (see [`tls::acceptor`]); plain HTTP without.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    /// The acceptor asks for client certificates ([`tls::acceptor_with_clients`]): each request
    /// carries its connection's [`auth::PeerCertificate`], and officers' credentials are taken
    /// only with a certificate naming them.
    pub client_certificates: bool,
    /// Connections open at once; past it a new one is answered 503 `too_many_connections` and
    /// closed. It keeps file descriptors for the audit log and the store: a process out of
    /// them cannot append an entry, and fails every request closed. 0: no limit.
    pub max_connections: usize,
    /// Connections open at once from one client address (IPv6 by /64, which one client
    /// usually holds whole), so one client cannot take them all. 0: no limit (behind a load
    /// balancer or proxy, whose address every connection carries).
    pub max_connections_per_address: usize,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            header_timeout: HEADER_TIMEOUT,
            tls: None,
            client_certificates: false,
            max_connections: MAX_CONNECTIONS,
            max_connections_per_address: MAX_CONNECTIONS_PER_ADDRESS,
        }
    }
}

impl std::fmt::Debug for ServeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeOptions")
            .field("header_timeout", &self.header_timeout)
            .field("tls", &self.tls.is_some())
            .field("client_certificates", &self.client_certificates)
            .field("max_connections", &self.max_connections)
            .field("max_connections_per_address", &self.max_connections_per_address)
            .finish()
    }
}

/// Connections open now and refused so far over the limits, across this process's accept loops
/// (for `/metrics`).
static CONNECTIONS_OPEN: AtomicU64 = AtomicU64::new(0);
static CONNECTIONS_REFUSED: AtomicU64 = AtomicU64::new(0);

/// Connections open now, and refused over the limits since the process started, over every
/// accept loop of this process.
pub fn connection_counts() -> (u64, u64) {
    (CONNECTIONS_OPEN.load(Ordering::Relaxed), CONNECTIONS_REFUSED.load(Ordering::Relaxed))
}

/// The connections open, in all and per client address.
#[derive(Debug, Default)]
struct Open {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// The key a client address is counted under: an IPv4 address (or IPv4 mapped into IPv6)
/// itself, an IPv6 address by its /64.
fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1))),
        },
    }
}

/// One open connection's place in [`Open`], given back when dropped.
#[derive(Debug)]
struct Slot {
    open: Arc<Mutex<Open>>,
    key: IpAddr,
}

impl Slot {
    /// A place for a connection from `ip`, or why there is none.
    fn take(open: &Arc<Mutex<Open>>, ip: IpAddr, o: &ServeOptions) -> Result<Slot, &'static str> {
        let key = address_key(ip);
        let mut g = open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if o.max_connections != 0 && g.total >= o.max_connections {
            return Err("the server has as many connections open as it takes");
        }
        let mine = g.by_address.get(&key).copied().unwrap_or(0);
        if o.max_connections_per_address != 0 && mine >= o.max_connections_per_address {
            return Err("this address has as many connections open as one address may");
        }
        g.total += 1;
        g.by_address.insert(key, mine + 1);
        CONNECTIONS_OPEN.fetch_add(1, Ordering::Relaxed);
        Ok(Slot { open: open.clone(), key })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        CONNECTIONS_OPEN.fetch_sub(1, Ordering::Relaxed);
        let mut g = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        g.total = g.total.saturating_sub(1);
        if let Some(n) = g.by_address.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                g.by_address.remove(&self.key);
            }
        }
    }
}

/// Answer a connection over the limits 503 without waiting for it, and close it. Over TLS
/// nothing can be said before a handshake, which would cost what the limit saves: it is
/// closed.
fn refuse(stream: tokio::net::TcpStream, tls: bool, why: &str) {
    CONNECTIONS_REFUSED.fetch_add(1, Ordering::Relaxed);
    if !tls {
        let body = serde_json::json!({"error": {"code": "too_many_connections", "message": why}}).to_string();
        let answer = format!(
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        // Best effort: a socket whose buffer is full gets the close alone.
        let _ = stream.try_write(answer.as_bytes());
    }
    drop(stream);
}

/// Say that connections were refused: at once the first time, then at most once a minute with
/// the count since.
fn report_refused(last: &mut Option<std::time::Instant>, since: &mut u64, ip: IpAddr, why: &str) {
    *since += 1;
    if last.is_none_or(|t| t.elapsed() >= Duration::from_secs(60)) {
        tracing::warn!(client = %ip, refused = *since, reason = why, "connections refused over the limits");
        *last = Some(std::time::Instant::now());
        *since = 0;
    }
}

/// Serve a router on `addr` until ctrl-c (or the future `shutdown` resolves).
pub async fn serve(
    router: axum::Router,
    addr: SocketAddr,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, "listening");
    serve_listener(listener, router, shutdown).await
}

/// Bind first (so callers know the port), then serve.
pub async fn serve_listener(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_listener_with(listener, router, shutdown, ServeOptions::default()).await
}

/// [`serve_listener`] with the given options. HTTP/1.1 with keep-alive (over TLS when
/// configured: a client that does not finish its handshake within the header timeout is
/// dropped); when `shutdown` resolves, no new connection is taken, each open one finishes the
/// request it is serving and closes, and this returns once all have.
pub async fn serve_listener_with(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    options: ServeOptions,
) -> std::io::Result<()> {
    if options.client_certificates && options.tls.is_none() {
        // Plain connections carry no certificate: binding credentials to one would be silently off.
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "client certificates need TLS: give the acceptor too",
        ));
    }
    // Each connection holds a receiver; a send asks them to close, and `closed` resolves when
    // the last is gone.
    let (close_tx, close_rx) = tokio::sync::watch::channel(());
    let mut shutdown = pin!(shutdown);
    let open = Arc::new(Mutex::new(Open::default()));
    let (mut last_report, mut refused) = (None, 0u64);
    loop {
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors or memory: wait for connections to close
                    // rather than spin. A connection reset before it was taken is nothing.
                    if !matches!(
                        e.kind(),
                        std::io::ErrorKind::ConnectionAborted | std::io::ErrorKind::ConnectionReset
                    ) {
                        tracing::warn!(error = %e, "cannot accept a connection");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let slot = match Slot::take(&open, peer.ip(), &options) {
            Ok(slot) => slot,
            Err(why) => {
                report_refused(&mut last_report, &mut refused, peer.ip(), why);
                refuse(stream, options.tls.is_some(), why);
                continue;
            }
        };
        let router = router.clone();
        let close = close_rx.clone();
        let options = options.clone();
        tokio::spawn(async move {
            let _slot = slot;
            match &options.tls {
                None => {
                    let service = TowerToHyperService::new(Tagged { router, peer, cert: None });
                    serve_connection(stream, service, options.header_timeout, close).await
                }
                Some(acceptor) => {
                    match tokio::time::timeout(options.header_timeout, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let cert = options.client_certificates.then(|| {
                                let names = tls
                                    .get_ref()
                                    .1
                                    .peer_certificates()
                                    .and_then(|c| c.first())
                                    .map(|leaf| Arc::from(tls::subject_common_names(leaf)));
                                auth::PeerCertificate(names)
                            });
                            let service = TowerToHyperService::new(Tagged { router, peer, cert });
                            serve_connection(tls, service, options.header_timeout, close).await
                        }
                        Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!("TLS handshake not finished in time"),
                    }
                }
            }
        });
    }
    drop(close_rx);
    // No receiver left (no connection open) is not an error.
    let _ = close_tx.send(());
    close_tx.closed().await;
    Ok(())
}

/// The router, with what the connection knows put on each request: the client's address
/// (`axum::extract::ConnectInfo<SocketAddr>`) and, on a server that binds credentials to
/// certificates, the client's certificate ([`auth::PeerCertificate`]). Clients cannot set
/// either: extensions are not headers.
#[derive(Clone)]
struct Tagged {
    router: axum::Router,
    peer: SocketAddr,
    cert: Option<auth::PeerCertificate>,
}

impl tower::Service<axum::http::Request<hyper::body::Incoming>> for Tagged {
    type Response = axum::response::Response;
    type Error = std::convert::Infallible;
    type Future = axum::routing::future::RouteFuture<std::convert::Infallible>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        tower::Service::<axum::http::Request<hyper::body::Incoming>>::poll_ready(&mut self.router, cx)
    }

    fn call(&mut self, mut req: axum::http::Request<hyper::body::Incoming>) -> Self::Future {
        req.extensions_mut().insert(axum::extract::ConnectInfo(self.peer));
        if let Some(c) = &self.cert {
            req.extensions_mut().insert(c.clone());
        }
        self.router.call(req)
    }
}

/// One HTTP/1.1 connection until it ends, or until `close` asks it to (then after the request
/// in flight).
async fn serve_connection<I>(
    io: I,
    service: TowerToHyperService<Tagged>,
    header_timeout: Duration,
    mut close: tokio::sync::watch::Receiver<()>,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let mut conn = pin!(hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .serve_connection(TokioIo::new(io), service));
    tokio::select! {
        r = conn.as_mut() => {
            if let Err(e) = r {
                tracing::trace!(error = %e, "connection ended");
            }
        }
        _ = close.changed() => {
            conn.as_mut().graceful_shutdown();
            if let Err(e) = conn.await {
                tracing::trace!(error = %e, "connection ended");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ipv6_clients_count_per_64_and_mapped_ipv4_as_ipv4() {
        let k = |s: &str| address_key(s.parse().unwrap());
        assert_eq!(k("2001:db8:1:2:aaaa::1"), k("2001:db8:1:2:ffff:ffff:ffff:ffff"));
        assert_eq!(k("2001:db8:1:2::7"), "2001:db8:1:2::".parse::<IpAddr>().unwrap());
        assert_ne!(k("2001:db8:1:2::1"), k("2001:db8:1:3::1"));
        assert_eq!(k("::ffff:192.0.2.7"), k("192.0.2.7"));
        assert_ne!(k("192.0.2.7"), k("192.0.2.8"));
    }

    #[test]
    fn slots_are_counted_and_given_back() {
        let open = Arc::new(Mutex::new(Open::default()));
        let o =
            ServeOptions { max_connections: 3, max_connections_per_address: 2, ..ServeOptions::default() };
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let a = Slot::take(&open, ip("10.0.0.1"), &o).unwrap();
        let b = Slot::take(&open, ip("10.0.0.1"), &o).unwrap();
        assert!(Slot::take(&open, ip("10.0.0.1"), &o).unwrap_err().contains("this address"));
        let c = Slot::take(&open, ip("10.0.0.2"), &o).unwrap();
        assert!(Slot::take(&open, ip("10.0.0.3"), &o).unwrap_err().contains("as it takes"));
        drop(a);
        let _d = Slot::take(&open, ip("10.0.0.1"), &o).unwrap();
        drop((b, c));
        let g = open.lock().unwrap();
        assert_eq!((g.total, g.by_address.len()), (1, 1));
        drop(g);
        // 0 is no limit.
        let none =
            ServeOptions { max_connections: 0, max_connections_per_address: 0, ..ServeOptions::default() };
        let many: Vec<_> = (0..1000).map(|_| Slot::take(&open, ip("10.0.0.9"), &none).unwrap()).collect();
        assert_eq!(open.lock().unwrap().total, 1001);
        drop(many);
    }
}
