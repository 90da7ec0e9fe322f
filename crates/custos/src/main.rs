//! `custos`: the one binary. It parses arguments and wires the libraries together; the logic
//! lives in the `custos-*` crates.

mod audit;
mod demo;
mod fetch;
mod serve;
mod witness;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Custos guards access to citizens' most sensitive records and keeps an audit log nobody
/// can rewrite.
#[derive(Debug, Parser)]
#[command(name = "custos", version, about, propagate_version = true)]
struct Cli {
    /// Data directory.
    #[arg(long, global = true, env = "CUSTOS_DIR", default_value = "./custos-data")]
    dir: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a data directory: the audit log with its signing key, and the first admin
    /// credential (written to DIR/admin.token).
    Init {
        /// The log's origin line (and key name).
        #[arg(long, default_value = "custos.local/audit")]
        origin: String,
    },
    /// Serve the audit log (tlog-tiles under /audit/) over HTTP.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// Seconds between checkpoint publications to witnesses.
        #[arg(long, default_value_t = 1.0)]
        publish_interval: f64,
    },
    /// Work with the audit log.
    #[command(subcommand)]
    Audit(audit::AuditCmd),
    /// Run an independent witness (C2SP tlog-witness) with its own key and state.
    #[command(subcommand)]
    Witness(witness::WitnessCmd),
    /// Run the end-to-end demonstration.
    Demo {
        /// How much to generate.
        #[arg(long, value_enum, default_value_t = demo::Scale::Small)]
        scale: demo::Scale,
        /// Random seed (the demonstration is deterministic for a seed).
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

fn main() -> std::process::ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CUSTOS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Init { origin } => audit::init(&cli.dir, &origin),
        Command::Serve { listen, publish_interval } => serve::serve(&cli.dir, listen, publish_interval),
        Command::Audit(cmd) => audit::run(&cli.dir, cmd),
        Command::Witness(cmd) => witness::run(&cli.dir, cmd),
        Command::Demo { scale, seed } => demo::run(&cli.dir, scale, seed),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
