//! `custos witness …`: an independent witness.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Subcommand;
use custos_server::witness::WitnessServer;

#[derive(Debug, Subcommand)]
pub enum WitnessCmd {
    /// Create a witness (key and empty state) in --dir; prints its verifier key last.
    Init {
        /// The witness's name (a schema-less URL, e.g. oversight.example/w1).
        #[arg(long)]
        name: String,
    },
    /// Trust a log, given its verifier key (its name is the log's origin).
    Trust {
        /// The log's verifier key.
        key: String,
    },
    /// Serve POST /add-checkpoint.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:7381")]
        listen: std::net::SocketAddr,
        /// Serve HTTPS with this certificate chain (PEM, leaf first).
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<std::path::PathBuf>,
        /// The certificate's private key (PEM).
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<std::path::PathBuf>,
    },
}

pub fn run(dir: &Path, cmd: WitnessCmd) -> anyhow::Result<()> {
    match cmd {
        WitnessCmd::Init { name } => {
            let v = WitnessServer::init(dir, &name)?;
            println!("witness created in {}", dir.display());
            println!("{}", v.to_text());
        }
        WitnessCmd::Trust { key } => {
            WitnessServer::trust(dir, &key)?;
            println!("trusting log {}", key.split('+').next().unwrap_or_default());
        }
        WitnessCmd::Serve { listen, tls_cert, tls_key } => {
            let w = Arc::new(
                WitnessServer::open(dir).with_context(|| format!("no witness in `{}`", dir.display()))?,
            );
            let tls = match tls_cert.zip(tls_key) {
                Some((cert, key)) => Some(custos_server::tls::acceptor(&cert, &key)?),
                None => None,
            };
            let scheme = if tls.is_some() { "https" } else { "http" };
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(async {
                let listener = tokio::net::TcpListener::bind(listen).await?;
                println!("witness {} serving on {scheme}://{}", w.verifier().name(), listener.local_addr()?);
                custos_server::serve_listener_with(
                    listener,
                    custos_server::witness::router(w),
                    crate::serve::shutdown(),
                    custos_server::ServeOptions { tls, ..custos_server::ServeOptions::default() },
                )
                .await?;
                anyhow::Ok(())
            })?;
        }
    }
    Ok(())
}
