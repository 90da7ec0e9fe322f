//! `custos`: the one binary. It parses arguments and wires the libraries together; the logic
//! lives in the `custos-*` crates.

mod admin;
mod analyze;
mod audit;
mod demo;
mod fetch;
mod leak;
mod migrate;
mod serve;
mod sort;
mod stack;
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

/// Key management.
#[derive(Debug, Subcommand)]
enum KeysCmd {
    /// Rotate the key-encryption key that wraps the data keys: to a new random key file, or,
    /// with CUSTOS_NEW_PASSPHRASE set, to that passphrase (CUSTOS_PASSPHRASE is the current one
    /// where one is in use). Nothing is re-encrypted; audited; safe to interrupt.
    Rotate,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a data directory: the audit log with its signing key, and the first admin
    /// credential (written to DIR/admin.token).
    Init {
        /// The log's origin line (and key name).
        #[arg(long, default_value = "custos.local/audit")]
        origin: String,
        /// Keep the records in PostgreSQL (`postgres://user@host:port/db` or key-value form)
        /// instead of SQLite in DIR; recorded in DIR/config.json. The schema is created and
        /// migrated.
        #[arg(long)]
        db: Option<String>,
        /// A PostgreSQL schema to use inside the database (created if needed).
        #[arg(long, requires = "db")]
        db_schema: Option<String>,
    },
    /// Serve the audit log (tlog-tiles under /audit/) over HTTP.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// Seconds between checkpoint publications to witnesses (0.05 to 86,400).
        #[arg(long, default_value_t = 1.0, value_parser = seconds_between_publications)]
        publish_interval: f64,
        /// The records' PostgreSQL database (overrides DIR/config.json and CUSTOS_DB).
        #[arg(long)]
        db: Option<String>,
        /// A schema inside that database.
        #[arg(long, requires = "db")]
        db_schema: Option<String>,
        /// Serve HTTPS with this certificate chain (PEM, leaf first).
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<std::path::PathBuf>,
        /// The certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1).
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<std::path::PathBuf>,
        /// Bind officers' and admins' credentials to client certificates from this CA (PEM):
        /// a token is taken only over a connection whose certificate's subject CN is its
        /// officer's ID (`admin` for admin credentials). Citizens need none.
        #[arg(long, requires = "tls_cert")]
        tls_client_ca: Option<std::path::PathBuf>,
        /// Revocation lists (PEM) of that CA: revoked client certificates are refused, and so
        /// are those of an authority without a list here. Read at start.
        #[arg(long, requires = "tls_client_ca")]
        tls_client_crl: Option<std::path::PathBuf>,
        /// Connections open at once; past it new ones get 503 and are closed, keeping file
        /// descriptors for the audit log (0: no limit).
        #[arg(long, default_value_t = custos_server::MAX_CONNECTIONS)]
        max_connections: usize,
        /// Connections open at once from one client address (IPv6: per /64). Set 0 behind a
        /// load balancer or proxy, whose address every connection carries.
        #[arg(long, default_value_t = custos_server::MAX_CONNECTIONS_PER_ADDRESS)]
        max_connections_per_address: usize,
    },
    /// Administer officers, tokens, cases and warrants (audited; the server must be stopped —
    /// use the HTTP API while it runs).
    #[command(subcommand)]
    Admin(admin::AdminCmd),
    /// Import an agency's existing records from CSV (streamed, bad rows reported by line).
    #[command(subcommand)]
    Import(admin::ImportCmd),
    /// Trace leaked records in Telegram exports back to the accounts that pulled them.
    #[command(subcommand)]
    Leak(leak::LeakCmd),
    /// Work with the audit log.
    #[command(subcommand)]
    Audit(audit::AuditCmd),
    /// Run an independent witness (C2SP tlog-witness) with its own key and state.
    #[command(subcommand)]
    Witness(witness::WitnessCmd),
    /// Rank officers by abuse risk from an existing access log (CSV or JSON Lines).
    Analyze(analyze::AnalyzeArgs),
    /// Measure detection quality on simulated agencies with planted abuse.
    Eval {
        /// Seeds to simulate (1..=N, N from 1 to 1,000).
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=1_000))]
        seeds: u64,
        #[command(flatten)]
        size: analyze::SimSize,
    },
    /// Write a simulated agency's access log, cases, watch list and ground truth as CSV.
    Sim {
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        /// Seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[command(flatten)]
        size: analyze::SimSize,
    },
    /// Manage the key-encryption key (the server must be stopped).
    #[command(subcommand)]
    Keys(KeysCmd),
    /// Move an embedded (SQLite) installation's records to PostgreSQL, then verify counts, rows
    /// and the audit log (the server must be stopped).
    Migrate {
        /// The data directory to move (its log and keys stay there).
        #[arg(long)]
        from: PathBuf,
        /// The PostgreSQL database.
        #[arg(long)]
        to: String,
        /// A schema inside that database.
        #[arg(long)]
        schema: Option<String>,
    },
    /// Run the end-to-end demonstration: an agency in a box, attacked, caught, traced.
    Demo {
        /// How much to generate.
        #[arg(long, value_enum, default_value_t = demo::Scale::Small)]
        scale: demo::Scale,
        /// Random seed (the demonstration is deterministic for a seed).
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // The demonstration prints its own story; the gateway's per-alert warnings would drown it.
    // Citizens' one-time codes go to the log (target `custos::otp`) unless an SMS sender is
    // plugged in.
    let quiet = if matches!(cli.command, Command::Demo { .. }) { "error" } else { "warn,custos::otp=info" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("CUSTOS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(quiet));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    let result = match cli.command {
        Command::Init { origin, db, db_schema } => {
            audit::init(&cli.dir, &origin, db.as_deref().map(|u| (u, db_schema.as_deref())))
        }
        Command::Serve {
            listen,
            publish_interval,
            db,
            db_schema,
            tls_cert,
            tls_key,
            tls_client_ca,
            tls_client_crl,
            max_connections,
            max_connections_per_address,
        } => {
            if let Some(url) = db {
                let _ = stack::DB_OVERRIDE.set((url, db_schema));
            }
            let tls = tls_cert.zip(tls_key);
            serve::serve(
                &cli.dir,
                listen,
                publish_interval,
                tls.as_ref().map(|(c, k)| (c.as_path(), k.as_path())),
                tls_client_ca
                    .as_deref()
                    .map(|ca| custos_server::tls::ClientCerts { ca, crl: tls_client_crl.as_deref() }),
                (max_connections, max_connections_per_address),
            )
        }
        Command::Audit(cmd) => audit::run(&cli.dir, cmd),
        Command::Admin(cmd) => admin::admin(&cli.dir, cmd),
        Command::Leak(cmd) => leak::run(&cli.dir, cmd),
        Command::Import(cmd) => admin::import(&cli.dir, cmd),
        Command::Witness(cmd) => witness::run(&cli.dir, cmd),
        Command::Keys(KeysCmd::Rotate) => stack::rotate_kek(&cli.dir),
        Command::Migrate { from, to, schema } => migrate::migrate(&from, &to, schema.as_deref()),
        Command::Demo { scale, seed } => demo::run(&cli.dir, scale, seed),
        Command::Analyze(a) => analyze::analyze(a),
        Command::Eval { seeds, size } => analyze::eval(seeds, size),
        Command::Sim { out, seed, size } => analyze::sim(&out, seed, size),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// `--publish-interval`: a number of seconds from 0.05 to one day (not `inf` or `NaN`, which
/// no timer can wait).
fn seconds_between_publications(s: &str) -> Result<f64, String> {
    let v: f64 = s.trim().parse().map_err(|_| format!("`{s}` is not a number of seconds"))?;
    if (0.05..=86_400.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("`{s}` is outside 0.05 to 86400 seconds"))
    }
}
