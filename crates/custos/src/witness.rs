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
        WitnessCmd::Serve { listen } => {
            let w = Arc::new(
                WitnessServer::open(dir).with_context(|| format!("no witness in `{}`", dir.display()))?,
            );
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(async {
                let listener = tokio::net::TcpListener::bind(listen).await?;
                println!("witness {} serving on http://{}", w.verifier().name(), listener.local_addr()?);
                custos_server::serve_listener(
                    listener,
                    custos_server::witness::router(w),
                    crate::serve::shutdown(),
                )
                .await?;
                anyhow::Ok(())
            })?;
        }
    }
    Ok(())
}
