//! `custos serve`: the HTTP server over a data directory: the gateway API and the audit log.

use std::path::Path;
use std::sync::{Arc, RwLock};

use anyhow::Context as _;
use custos_gateway::Gateway;
use custos_server::audit::{self, AuditState};
use custos_server::auth::Authenticate;
use custos_server::witness::Publisher;

/// Build the router (gateway API + `/audit/`) and the checkpoint publisher.
pub fn app(dir: &Path) -> anyhow::Result<(axum::Router, Arc<Gateway>, Publisher)> {
    let gw = crate::stack::open_gateway(dir)?;
    let published = Arc::new(RwLock::new(None));
    let publisher = Publisher::new(gw.log().clone(), dir, published.clone())?;
    let auth: Arc<dyn Authenticate> = gw.clone();
    let router = audit::router(AuditState { log: gw.log().clone(), auth, published })
        .merge(custos_gateway::http::router(gw.clone()));
    Ok((router, gw, publisher))
}

/// Serve `dir` on `listen`: HTTPS when `tls` names a certificate chain and key (PEM files),
/// plain HTTP (for a TLS proxy in front, or a laptop) without; with `clients`, officers'
/// credentials bound to client certificates from that authority; at most `limits` connections
/// open (in all, per client address; 0 for none).
pub fn serve(
    dir: &Path,
    listen: std::net::SocketAddr,
    interval: f64,
    tls: Option<(&Path, &Path)>,
    clients: Option<custos_server::tls::ClientCerts<'_>>,
    limits: (usize, usize),
) -> anyhow::Result<()> {
    // Read the certificates first: a bad file is reported before anything is opened.
    let acceptor =
        tls.map(|(cert, key)| custos_server::tls::acceptor_with_clients(cert, key, clients)).transpose()?;
    let scheme = if acceptor.is_some() { "https" } else { "http" };
    if acceptor.is_none() && !listen.ip().is_loopback() {
        // Bearer tokens and records would cross the network in clear.
        tracing::warn!(
            %listen,
            "serving plain HTTP on an address other machines can reach: officers' tokens and the records they fetch cross the network in clear; give --tls-cert and --tls-key, or listen on 127.0.0.1 behind a TLS proxy"
        );
    }
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    // PostgreSQL calls wait on the worker thread for a network round trip; more workers than
    // cores keep the others serving meanwhile (the store's pool has 16 connections).
    if crate::stack::db_config(dir)?.is_some() {
        rt.worker_threads(16);
    }
    let rt = rt.enable_all().build()?;
    rt.block_on(async {
        let (router, _gw, mut publisher) = app(dir)?;
        if publisher.has_witnesses() {
            let r = tokio::task::block_in_place(|| publisher.publish_once())?;
            tracing::info!(size = r.size, cosigned = ?r.cosigned_by, "published checkpoint");
            let every = std::time::Duration::from_secs_f64(interval.clamp(0.05, 86_400.0));
            tokio::spawn(publisher.run(every));
        }
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        println!("custos serving {} on {scheme}://{}", dir.display(), listener.local_addr()?);
        if let Some(c) = &clients {
            println!(
                "officers' tokens are bound to client certificates from {}{}",
                c.ca.display(),
                c.crl.map(|l| format!(" (revocations: {})", l.display())).unwrap_or_default()
            );
        }
        let limit = |n: usize| if n == 0 { "no limit".to_string() } else { n.to_string() };
        println!("connections: {} in all, {} per client address", limit(limits.0), limit(limits.1));
        let options = custos_server::ServeOptions {
            tls: acceptor,
            client_certificates: clients.is_some(),
            max_connections: limits.0,
            max_connections_per_address: limits.1,
            ..custos_server::ServeOptions::default()
        };
        custos_server::serve_listener_with(listener, router, shutdown(), options).await?;
        Ok(())
    })
}

pub async fn shutdown() {
    let _ = tokio::signal::ctrl_c().await;
}
