//! The HTTP edge of Custos.
//!
//! - [`audit`]: the audit log served on the C2SP `tlog-tiles` paths under `/audit/`.
//! - [`auth`]: bearer-token credentials and the [`auth::Principal`] extractor.
//! - [`witness`]: an independent C2SP `tlog-witness` server, and the log-side client that
//!   gathers cosignatures ([`witness::Publisher`]).
//! - [`error`]: the one HTTP error boundary: `{"error": {"code", "message"}}`.
//!
//! Everything arriving here is untrusted; handlers parse with the pure parsers of
//! `custos-tlog` and never panic on bad input.

pub mod audit;
pub mod auth;
pub mod error;
pub mod witness;

use std::net::SocketAddr;

/// Serve a router on `addr` until ctrl-c (or the future `shutdown` resolves).
pub async fn serve(
    router: axum::Router,
    addr: SocketAddr,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, "listening");
    axum::serve(listener, router).with_graceful_shutdown(shutdown).await
}

/// Bind first (so callers know the port), then serve.
pub async fn serve_listener(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router).with_graceful_shutdown(shutdown).await
}
