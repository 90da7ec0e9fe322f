//! The HTTP edge of Custos.
//!
//! - [`audit`]: the audit log served on the C2SP `tlog-tiles` paths under `/audit/`.
//! - [`auth`]: bearer-token credentials and the [`auth::Principal`] extractor.
//! - [`witness`]: an independent C2SP `tlog-witness` server, and the log-side client that
//!   gathers cosignatures ([`witness::Publisher`]).
//! - [`error`]: the one HTTP error boundary: `{"error": {"code", "message"}}`.
//! - [`tls`]: rustls server and client configurations from PEM files.
//! - [`serve_listener_with`]: the accept loop (HTTP/1.1, header and idle timeouts, optional
//!   TLS, graceful shutdown).
//!
//! Everything arriving here is untrusted; handlers parse with the pure parsers of
//! `custos-tlog` and never panic on bad input.

pub mod audit;
pub mod auth;
pub mod error;
pub mod tls;
pub mod witness;

use std::net::SocketAddr;
use std::pin::pin;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;

/// How long a client may take to send a request's headers, and how long a kept-alive
/// connection may sit idle before its next request: past it the connection is closed, so
/// connections opened and left silent (or fed a byte at a time) cannot pile up until the
/// process runs out of file descriptors.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// How connections are served.
#[derive(Clone)]
pub struct ServeOptions {
    /// See [`HEADER_TIMEOUT`]; with TLS, the handshake must also finish within it.
    pub header_timeout: Duration,
    /// Serve HTTPS with this acceptor (see [`tls::acceptor`]); plain HTTP without.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self { header_timeout: HEADER_TIMEOUT, tls: None }
    }
}

impl std::fmt::Debug for ServeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeOptions")
            .field("header_timeout", &self.header_timeout)
            .field("tls", &self.tls.is_some())
            .finish()
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
    // Each connection holds a receiver; a send asks them to close, and `closed` resolves when
    // the last is gone.
    let (close_tx, close_rx) = tokio::sync::watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, _)) => stream,
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
        let service = TowerToHyperService::new(router.clone());
        let close = close_rx.clone();
        let options = options.clone();
        tokio::spawn(async move {
            match &options.tls {
                None => serve_connection(stream, service, options.header_timeout, close).await,
                Some(acceptor) => {
                    match tokio::time::timeout(options.header_timeout, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => serve_connection(tls, service, options.header_timeout, close).await,
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

/// One HTTP/1.1 connection until it ends, or until `close` asks it to (then after the request
/// in flight).
async fn serve_connection<I>(
    io: I,
    service: TowerToHyperService<axum::Router>,
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
