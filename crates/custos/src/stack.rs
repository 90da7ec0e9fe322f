//! Opening the whole stack of a data directory: key-encryption key, records store, policy,
//! audit log and gateway.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context as _};
use custos_gateway::{Gateway, GatewayConfig};
use custos_logstore::{LogStore, Options};
use custos_store::crypto::KeyWrapper;
use custos_store::kms::CommandKek;
use custos_store::sqlite::SqliteStore;
use custos_store::{Credential, LocalKek, Registry};

pub fn db_path(dir: &Path) -> PathBuf {
    dir.join("custos.db")
}

fn kek_path(dir: &Path) -> PathBuf {
    dir.join("keys").join("kek.key")
}

fn salt_path(dir: &Path) -> PathBuf {
    dir.join("keys").join("kek.salt")
}

fn command_path(dir: &Path) -> PathBuf {
    dir.join("keys").join("kek.command")
}

/// The key-encryption key: an external key service's command named in `keys/kek.command`
/// (see `custos_store::kms`), else one derived from `CUSTOS_PASSPHRASE` (Argon2id, salt in
/// `keys/kek.salt`), else the key file `keys/kek.key`. With `create`, makes a new one:
/// `CUSTOS_KEK_COMMAND` names a command to use, `CUSTOS_PASSPHRASE` a passphrase, and without
/// either a key file is made.
fn kek(dir: &Path, create: bool) -> anyhow::Result<Box<dyn KeyWrapper>> {
    let pass = std::env::var("CUSTOS_PASSPHRASE").ok().filter(|p| !p.is_empty());
    if create {
        std::fs::create_dir_all(dir.join("keys"))?;
        if let Some(cmd) = std::env::var("CUSTOS_KEK_COMMAND").ok().filter(|c| !c.is_empty()) {
            custos_logstore::atomic_write(&command_path(dir), cmd.as_bytes(), true)?;
            return Ok(Box::new(CommandKek::new(cmd)));
        }
        if let Some(p) = pass {
            let salt: [u8; 16] = custos_store::crypto::random()?;
            custos_logstore::atomic_write(&salt_path(dir), &salt, true)?;
            return Ok(Box::new(LocalKek::from_passphrase(p.as_bytes(), &salt)?));
        }
        let k = LocalKek::generate()?;
        custos_logstore::atomic_write(&kek_path(dir), k.bytes(), true)?;
        return Ok(Box::new(k));
    }
    if command_path(dir).exists() {
        let cmd = std::fs::read_to_string(command_path(dir))?;
        return Ok(Box::new(CommandKek::new(cmd.trim())));
    }
    if salt_path(dir).exists() {
        let Some(p) = pass else {
            bail!("this data directory's keys are protected by a passphrase: set CUSTOS_PASSPHRASE")
        };
        let salt: [u8; 16] = std::fs::read(salt_path(dir))?
            .try_into()
            .map_err(|_| anyhow::anyhow!("`{}` is not a 16-byte salt", salt_path(dir).display()))?;
        return Ok(Box::new(LocalKek::from_passphrase(p.as_bytes(), &salt)?));
    }
    let bytes = std::fs::read(kek_path(dir))
        .with_context(|| format!("cannot read the key-encryption key `{}`", kek_path(dir).display()))?;
    let k: [u8; 32] = bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("`{}` is not a 32-byte key", kek_path(dir).display()))?;
    Ok(Box::new(LocalKek::from_bytes(k)))
}

/// Rotate the key-encryption key: to a new random key file, or, with `CUSTOS_NEW_PASSPHRASE`,
/// to a new passphrase (Argon2id, new salt), or, with `CUSTOS_NEW_KEK_COMMAND`, to an external
/// key service's command. The data keys stay (nothing is re-encrypted); only
/// their wrapping changes. Audited before it happens; crash-safe at every step (the database
/// holds both wrappings until the new key is in place, and the next open completes a switch that
/// was cut short).
pub fn rotate_kek(dir: &Path) -> anyhow::Result<()> {
    let gw = open_gateway(dir)?;
    let new_pass = std::env::var("CUSTOS_NEW_PASSPHRASE").ok().filter(|p| !p.is_empty());
    let new_cmd = std::env::var("CUSTOS_NEW_KEK_COMMAND").ok().filter(|c| !c.is_empty());
    let target = match (&new_cmd, &new_pass) {
        (Some(_), Some(_)) => bail!("set CUSTOS_NEW_KEK_COMMAND or CUSTOS_NEW_PASSPHRASE, not both"),
        (Some(_), None) => "command",
        (None, Some(_)) => "passphrase",
        (None, None) => "key_file",
    };
    let ctx = custos_gateway::service::Ctx {
        req: custos_gateway::service::new_id("r-"),
        action: "rotate_kek".into(),
        ..Default::default()
    };
    let entry = gw.entry(&cli_admin(), &ctx, "allow", vec![format!("to:{target}")], vec![], 200);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(gw.audit(&entry))
        .map_err(|e| anyhow::anyhow!("the rotation could not be audited, so it did not happen: {e}"))?;
    let reg = gw.registry();
    let remove = |path: PathBuf| -> anyhow::Result<()> {
        match std::fs::remove_file(&path) {
            Ok(()) => {
                std::fs::File::open(dir.join("keys")).and_then(|d| d.sync_all())?;
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(anyhow::Error::new(e).context(format!("cannot remove `{}`", path.display()))),
        }
    };
    // The new key, the file that names it, and what to tell the operator.
    let (next, file, bytes, told): (Box<dyn KeyWrapper>, PathBuf, Vec<u8>, String) = match (new_cmd, new_pass)
    {
        (Some(cmd), _) => (
            Box::new(CommandKek::new(&cmd)),
            command_path(dir),
            cmd.into_bytes(),
            format!("by the key command named in {}", command_path(dir).display()),
        ),
        (None, Some(p)) => {
            let salt: [u8; 16] = custos_store::crypto::random()?;
            (
                Box::new(LocalKek::from_passphrase(p.as_bytes(), &salt)?),
                salt_path(dir),
                salt.to_vec(),
                "under the new passphrase; set CUSTOS_PASSPHRASE to it from now on".to_string(),
            )
        }
        (None, None) => {
            let k = LocalKek::generate()?;
            let bytes = k.bytes().to_vec();
            (Box::new(k), kek_path(dir), bytes, format!("under a new key in {}", kek_path(dir).display()))
        }
    };
    reg.stage_rewrap(next.as_ref())?;
    custos_logstore::atomic_write(&file, &bytes, true)?;
    // The switch: `kek` reads a command before a salt before a key file, so once the others are
    // gone the new file rules; until then the old key still opens the old wrapping.
    for other in [salt_path(dir), kek_path(dir), command_path(dir)] {
        if other != file {
            remove(other)?;
        }
    }
    reg.commit_rewrap(next.as_ref())?;
    println!("key-encryption key rotated: the data keys are now wrapped {told}");
    println!("copy {} to every replica's data directory before restarting it", dir.join("keys").display());
    Ok(())
}

fn config_path(dir: &Path) -> PathBuf {
    dir.join("config.json")
}

/// Where the records live: `DIR/config.json` `{"db": "postgres://…", "schema": "…"}` names a
/// PostgreSQL database (and optionally a schema in it); without it, SQLite in `DIR/custos.db`.
/// `CUSTOS_DB` overrides the file.
pub fn db_config(dir: &Path) -> anyhow::Result<Option<(String, Option<String>)>> {
    if let Some(o) = DB_OVERRIDE.get() {
        return Ok(Some(o.clone()));
    }
    if let Ok(url) = std::env::var("CUSTOS_DB") {
        if !url.is_empty() {
            return Ok(Some((url, std::env::var("CUSTOS_DB_SCHEMA").ok().filter(|s| !s.is_empty()))));
        }
    }
    let Ok(text) = std::fs::read_to_string(config_path(dir)) else { return Ok(None) };
    let v: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("`{}` is not valid JSON", config_path(dir).display()))?;
    Ok(v["db"].as_str().map(|u| (u.to_string(), v["schema"].as_str().map(String::from))))
}

/// A database given on the command line (`custos serve --db`), ahead of `CUSTOS_DB` and the file.
pub static DB_OVERRIDE: std::sync::OnceLock<(String, Option<String>)> = std::sync::OnceLock::new();

/// Record the database in `DIR/config.json` (for `custos init --db`).
pub fn set_db_config(dir: &Path, url: &str, schema: Option<&str>) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let v = serde_json::json!({ "db": url, "schema": schema });
    custos_logstore::atomic_write(&config_path(dir), serde_json::to_string_pretty(&v)?.as_bytes(), true)?;
    Ok(())
}

fn records_store(dir: &Path) -> anyhow::Result<Box<dyn custos_store::Store>> {
    Ok(match db_config(dir)? {
        Some((url, schema)) => Box::new(
            custos_store::pg::PgStore::open(&url, schema.as_deref())
                .context("cannot open the records store in PostgreSQL")?,
        ),
        None => Box::new(SqliteStore::open(&db_path(dir)).with_context(|| {
            format!("cannot open the records store in `{}` (run `custos init`?)", dir.display())
        })?),
    })
}

/// Create the records store with fresh data keys and the first admin credential; returns the
/// admin token.
pub fn init_store(dir: &Path) -> anyhow::Result<(String, String)> {
    let k = kek(dir, true)?;
    let store = records_store(dir)?;
    if store.meta_get("wrapped_keys")?.is_some() || store.citizen_count()? > 0 {
        bail!("the database already holds a Custos records store; refusing to initialise it again");
    }
    let reg = Registry::init(store, k.as_ref())?;
    let token = custos_server::auth::new_token().map_err(anyhow::Error::msg)?;
    let sha = custos_server::auth::token_hash(&token);
    let cred = Credential {
        id: sha[..16].to_string(),
        sha256: sha,
        subject: "admin".into(),
        admin: true,
        expires: None,
        revoked: false,
        created: custos_server::auth::now_unix() as i64,
    };
    reg.store().put_credential(&cred)?;
    Ok((token, cred.id))
}

/// Refuse a `--dir` that is not a data directory, saying how to make one, instead of failing
/// on the first file missing from it.
pub fn existing_data_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.join("log").is_dir() {
        return Ok(());
    }
    let what = if dir.exists() {
        format!("`{}` is not a Custos data directory (it holds no audit log)", dir.display())
    } else {
        format!("there is no data directory at `{}`", dir.display())
    };
    bail!(
        "{what}: make one with `custos init --dir {}`, or point --dir (or CUSTOS_DIR) at one",
        dir.display()
    )
}

/// Open the records store.
pub fn open_registry(dir: &Path) -> anyhow::Result<Registry> {
    existing_data_dir(dir)?;
    let k = kek(dir, false)?;
    Ok(Registry::open(records_store(dir)?, k.as_ref())?)
}

/// Open everything: store, policy (validated, strict), log, gateway.
pub fn open_gateway(dir: &Path) -> anyhow::Result<Arc<Gateway>> {
    let registry = open_registry(dir)?;
    let policy = match std::fs::read_to_string(dir.join("policy.cedar")) {
        Ok(text) => custos_policy::Policy::load(custos_policy::DEFAULT_SCHEMA, &text).with_context(|| {
            format!("refusing to start: `{}` is invalid", dir.join("policy.cedar").display())
        })?,
        Err(_) => custos_policy::Policy::default_policy()
            .context("refusing to start: the default policy is invalid")?,
    };
    let log = LogStore::open(dir, Options::default())
        .with_context(|| format!("cannot open the audit log in `{}`", dir.display()))?;
    let g = Arc::new(Gateway::new(registry, policy, log, GatewayConfig::default())?.with_data_dir(dir));
    // On PostgreSQL the audit log is shared by every process on the database.
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "custos".into());
    g.start_shared_log(&format!("{host}-{}", std::process::id()))?;
    Ok(g)
}

/// The principal used by command-line administration (audited like any other).
pub fn cli_admin() -> custos_server::auth::Principal {
    custos_server::auth::Principal {
        cred_id: "cli".into(),
        subject: "admin".into(),
        admin: true,
        roles: vec![],
        unit: String::new(),
        client: None,
    }
}
