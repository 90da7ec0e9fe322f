//! `custos serve`: the HTTP server over a data directory.

use std::path::Path;
use std::sync::{Arc, RwLock};

use anyhow::Context as _;
use custos_logstore::{LogStore, Options};
use custos_server::audit::{self, AuditState};
use custos_server::auth::TokenStore;
use custos_server::witness::Publisher;

/// Build the router and the checkpoint publisher for a data directory.
pub fn app(dir: &Path) -> anyhow::Result<(axum::Router, LogStore, Publisher)> {
    let log = LogStore::open(dir, Options::default())
        .with_context(|| format!("cannot open the audit log in `{}` (run `custos init`?)", dir.display()))?;
    let tokens = TokenStore::load(dir)?;
    let published = Arc::new(RwLock::new(None));
    let publisher = Publisher::new(log.clone(), dir, published.clone())?;
    let router = audit::router(AuditState { log: log.clone(), tokens, published });
    Ok((router, log, publisher))
}

pub fn serve(dir: &Path, listen: std::net::SocketAddr, interval: f64) -> anyhow::Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let (router, _log, mut publisher) = app(dir)?;
        if publisher.has_witnesses() {
            let r = tokio::task::block_in_place(|| publisher.publish_once())?;
            tracing::info!(size = r.size, cosigned = ?r.cosigned_by, "published checkpoint");
            let every = std::time::Duration::from_secs_f64(interval.max(0.05));
            tokio::spawn(publisher.run(every));
        }
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        println!("custos serving {} on http://{}", dir.display(), listener.local_addr()?);
        custos_server::serve_listener(listener, router, shutdown()).await?;
        Ok(())
    })
}

pub async fn shutdown() {
    let _ = tokio::signal::ctrl_c().await;
}
