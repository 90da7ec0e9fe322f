//! Witnesses (C2SP `tlog-witness`, `tlog-cosignature`).
//!
//! - [`WitnessServer`]: an independent witness with its own key (`WDIR/witness.key`), its
//!   trusted logs (`WDIR/witness.json`) and its state (`WDIR/state.json`, written atomically).
//!   `POST /add-checkpoint` checks and persists under one lock, so two requests can never
//!   roll the recorded size back (the race the spec warns about).
//! - [`Publisher`]: the log's side. It sends each new checkpoint, with a consistency proof
//!   from the size each witness last cosigned, gathers the cosignatures it can verify, and
//!   publishes the cosigned checkpoint.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use custos_logstore::{atomic_write, LogStore};
use custos_tlog::checkpoint::{encode_hash, parse_hash};
use custos_tlog::note::{self, Signer, Verifier, ALG_COSIGNATURE_V1};
use custos_tlog::witness::{add_checkpoint, format_request, parse_request, KnownLog, LogHead, Outcome};
use serde::{Deserialize, Serialize};

/// Errors of witness set-up and of talking to witnesses.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessError {
    /// A configuration or state file is missing or malformed.
    #[error("witness file `{path}`: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A key is malformed.
    #[error(transparent)]
    Key(#[from] note::NoteError),
    /// A witness address is not one the publisher can post to.
    #[error("witness address `{url}`: {reason}")]
    Url {
        /// The address given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A witness answered with an error or an unverifiable cosignature.
    #[error("witness `{name}` at {url}: {reason}")]
    Remote {
        /// Witness name.
        name: String,
        /// Its URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The log could not produce a proof.
    #[error(transparent)]
    Log(#[from] custos_logstore::LogError),
}

fn file_err(path: &Path, reason: impl std::fmt::Display) -> WitnessError {
    WitnessError::File { path: path.to_path_buf(), reason: reason.to_string() }
}

/// `WDIR/witness.json`: the logs this witness trusts.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WitnessConfig {
    /// Verifier keys of trusted logs; each key's name is the log's origin.
    pub logs: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct StoredHead {
    size: u64,
    root: String,
    checkpoint: String,
}

/// An independent witness.
#[derive(Debug)]
pub struct WitnessServer {
    dir: PathBuf,
    signer: Signer,
    logs: Vec<KnownLog>,
    state: tokio::sync::Mutex<BTreeMap<String, StoredHead>>,
}

impl WitnessServer {
    /// Create a witness in `dir` with a new key named `name`; returns its verifier key.
    pub fn init(dir: &Path, name: &str) -> Result<Verifier, WitnessError> {
        std::fs::create_dir_all(dir).map_err(|e| file_err(dir, e))?;
        let key = dir.join("witness.key");
        if key.exists() {
            return Err(file_err(&key, "a witness key already exists"));
        }
        let seed = custos_logstore::random_bytes::<32>().map_err(|e| file_err(dir, e))?;
        let signer = Signer::from_seed(name, ALG_COSIGNATURE_V1, seed)?;
        atomic_write(&key, format!("{}\n", signer.private_key_text()).as_bytes(), true)
            .map_err(|e| file_err(&key, e))?;
        let cfg = dir.join("witness.json");
        if !cfg.exists() {
            write_json(&cfg, &WitnessConfig::default())?;
        }
        Ok(signer.verifier())
    }

    /// Trust a log (by its verifier key) from now on.
    pub fn trust(dir: &Path, log_key: &str) -> Result<(), WitnessError> {
        Verifier::from_text(log_key)?;
        let path = dir.join("witness.json");
        let mut cfg: WitnessConfig = read_json(&path)?;
        if !cfg.logs.iter().any(|k| k.trim() == log_key.trim()) {
            cfg.logs.push(log_key.trim().to_string());
        }
        write_json(&path, &cfg)
    }

    /// Load a witness from `dir`.
    pub fn open(dir: &Path) -> Result<Self, WitnessError> {
        let kp = dir.join("witness.key");
        let signer =
            Signer::from_private_key_text(&std::fs::read_to_string(&kp).map_err(|e| file_err(&kp, e))?)?;
        let cfg: WitnessConfig = read_json(&dir.join("witness.json"))?;
        let mut logs: Vec<KnownLog> = Vec::new();
        for k in &cfg.logs {
            let v = Verifier::from_text(k)?;
            match logs.iter_mut().find(|l| l.origin == v.name()) {
                Some(l) => l.keys.push(v),
                None => logs.push(KnownLog { origin: v.name().to_string(), keys: vec![v] }),
            }
        }
        let sp = dir.join("state.json");
        let state = if sp.exists() { read_json(&sp)? } else { BTreeMap::new() };
        Ok(Self { dir: dir.to_path_buf(), signer, logs, state: tokio::sync::Mutex::new(state) })
    }

    /// The witness's verifier key.
    pub fn verifier(&self) -> Verifier {
        self.signer.verifier()
    }

    /// Handle one `add-checkpoint` body: decide, persist, answer (status, content type, body).
    pub async fn handle(&self, body: &[u8]) -> (StatusCode, &'static str, String) {
        let Ok(text) = std::str::from_utf8(body) else {
            return (StatusCode::BAD_REQUEST, "text/plain; charset=utf-8", "body is not UTF-8\n".into());
        };
        let req = match parse_request(text) {
            Ok(r) => r,
            Err(e) => return (StatusCode::BAD_REQUEST, "text/plain; charset=utf-8", format!("{e}\n")),
        };
        // Check and persist atomically.
        let mut state = self.state.lock().await;
        let current = |origin: &str| {
            state.get(origin).and_then(|h| Some(LogHead { size: h.size, root: parse_hash(&h.root)? }))
        };
        let now = crate::auth::now_unix();
        let outcome = add_checkpoint(&self.logs, current, &req, &self.signer, now);
        let status = StatusCode::from_u16(outcome.status()).unwrap_or(StatusCode::BAD_REQUEST);
        match outcome {
            Outcome::Cosigned { head, checkpoint, body } => {
                let origin = checkpoint.lines().next().unwrap_or_default().to_string();
                let before = state.insert(
                    origin.clone(),
                    StoredHead {
                        size: head.size,
                        root: encode_hash(&head.root),
                        checkpoint: req.checkpoint.clone(),
                    },
                );
                if let Err(e) = write_json(&self.dir.join("state.json"), &*state) {
                    // Not persisted: undo and refuse to cosign.
                    match before {
                        Some(b) => state.insert(origin, b),
                        None => state.remove(&origin),
                    };
                    tracing::error!(error = %e, "witness state not saved");
                    return (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "text/plain; charset=utf-8",
                        "state not saved\n".into(),
                    );
                }
                tracing::info!(origin, size = head.size, "cosigned");
                (status, "text/plain; charset=utf-8", body)
            }
            Outcome::Conflict { latest_size, reason } => {
                tracing::warn!(%reason, "add-checkpoint conflict");
                (status, "text/x.tlog.size", format!("{latest_size}\n"))
            }
            Outcome::BadRequest(m)
            | Outcome::Forbidden(m)
            | Outcome::UnknownLog(m)
            | Outcome::BadProof(m) => {
                tracing::warn!(status = %status, reason = %m, "add-checkpoint refused");
                (status, "text/plain; charset=utf-8", format!("{m}\n"))
            }
        }
    }
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, WitnessError> {
    let b = std::fs::read(path).map_err(|e| file_err(path, e))?;
    serde_json::from_slice(&b).map_err(|e| file_err(path, e))
}

fn write_json<T: Serialize>(path: &Path, v: &T) -> Result<(), WitnessError> {
    let b = serde_json::to_vec_pretty(v).map_err(|e| file_err(path, e))?;
    atomic_write(path, &b, false).map_err(|e| file_err(path, e))
}

/// The witness's routes: `POST /add-checkpoint`.
pub fn router(w: Arc<WitnessServer>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint_handler))
        .layer(axum::extract::DefaultBodyLimit::max(custos_tlog::witness::MAX_BODY_BYTES))
        .with_state(w)
}

async fn add_checkpoint_handler(State(w): State<Arc<WitnessServer>>, body: Bytes) -> Response {
    let (status, ct, body) = w.handle(&body).await;
    let mut r = (status, body).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    r
}

/// A witness the log sends its checkpoints to (`DIR/witnesses.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WitnessEntry {
    /// Submission prefix, e.g. `http://127.0.0.1:7381`.
    pub url: String,
    /// The witness's verifier key (type 0x04).
    pub key: String,
    /// For an `https` witness whose certificate a private authority issued: that authority's
    /// certificate(s), PEM, the only ones trusted for it (otherwise the public web roots).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<String>,
}

/// Read the log's witness list (empty when there is none).
pub fn load_witnesses(data_dir: &Path) -> Result<Vec<WitnessEntry>, WitnessError> {
    let p = data_dir.join("witnesses.json");
    if !p.exists() {
        return Ok(Vec::new());
    }
    read_json(&p)
}

/// Add a witness to the log's list.
pub fn add_witness(data_dir: &Path, url: &str, key: &str) -> Result<(), WitnessError> {
    add_witness_with_ca(data_dir, url, key, None)
}

/// [`add_witness`] for an `https` witness whose certificate comes from the private authority
/// in `ca_pem` (PEM text), trusted for that witness alone.
pub fn add_witness_with_ca(
    data_dir: &Path,
    url: &str,
    key: &str,
    ca_pem: Option<&str>,
) -> Result<(), WitnessError> {
    let url = witness_url(url)?;
    if let Some(pem) = ca_pem {
        if !url.starts_with("https://") {
            return Err(WitnessError::Url {
                url,
                reason: "a certificate authority is for https addresses".into(),
            });
        }
        crate::tls::client_trusting(pem).map_err(|reason| WitnessError::Url {
            url: url.clone(),
            reason: format!("its certificate authority {reason}"),
        })?;
    }
    let v = Verifier::from_text(key)?;
    if v.alg() != ALG_COSIGNATURE_V1 {
        return Err(file_err(
            &data_dir.join("witnesses.json"),
            "witness keys must be cosignature (0x04) keys",
        ));
    }
    let mut all = load_witnesses(data_dir)?;
    all.retain(|w| w.key != key.trim());
    all.push(WitnessEntry { url, key: key.trim().to_string(), ca: ca_pem.map(str::to_string) });
    write_json(&data_dir.join("witnesses.json"), &all)
}

/// A witness's base address as the publisher will use it (`{url}/add-checkpoint`): an absolute
/// `http` or `https` URL with a host, an optional path, and no query or fragment.
pub fn witness_url(url: &str) -> Result<String, WitnessError> {
    let bad = |reason: &str| WitnessError::Url { url: url.to_string(), reason: reason.to_string() };
    let u = url::Url::parse(url.trim()).map_err(|e| bad(&format!("not a URL ({e})")))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(bad("the scheme must be http or https"));
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err(bad("it names no host"));
    }
    if u.query().is_some() || u.fragment().is_some() {
        return Err(bad("it must not carry a query or a fragment (the protocol's path is appended)"));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(bad("it must not carry credentials"));
    }
    Ok(u.as_str().trim_end_matches('/').to_string())
}

/// The log side of witnessing.
#[derive(Debug)]
pub struct Publisher {
    log: LogStore,
    /// Each witness with its key and the HTTP agent that reaches it (its own trust roots where
    /// it names an authority).
    witnesses: Vec<(WitnessEntry, Verifier, ureq::Agent)>,
    /// Size each witness last cosigned, as far as we know.
    known: BTreeMap<String, u64>,
    published: Arc<RwLock<Option<String>>>,
    published_size: Option<u64>,
    out: PathBuf,
    /// Witnesses that failed at their last attempt, by key: they are asked again only after a
    /// back-off, and warned about once, then at most every [`WARN_EVERY`].
    failing: BTreeMap<String, Failing>,
}

/// A witness's run of failed attempts.
#[derive(Debug, Clone, Copy)]
struct Failing {
    since: Instant,
    attempts: u32,
    next_try: Instant,
    last_warned: Instant,
}

/// The longest wait before a failing witness is asked again.
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// How often a witness that keeps failing is warned about again.
const WARN_EVERY: Duration = Duration::from_secs(300);

/// The wait after `attempts` failed attempts in a row: 1 s, doubling, at most [`MAX_BACKOFF`].
fn backoff(attempts: u32) -> Duration {
    Duration::from_secs(1u64 << attempts.saturating_sub(1).min(16)).min(MAX_BACKOFF)
}

/// What one publishing round did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishReport {
    /// Tree size published.
    pub size: u64,
    /// Witnesses that cosigned.
    pub cosigned_by: Vec<String>,
    /// Witnesses that failed, with why.
    pub failed: Vec<String>,
}

impl Publisher {
    /// A publisher for `log` with the witnesses of `data_dir`.
    pub fn new(
        log: LogStore,
        data_dir: &Path,
        published: Arc<RwLock<Option<String>>>,
    ) -> Result<Self, WitnessError> {
        let list = data_dir.join("witnesses.json");
        let witnesses = load_witnesses(data_dir)?
            .into_iter()
            .map(|w| {
                let v = Verifier::from_text(&w.key)?;
                let b = ureq::AgentBuilder::new().timeout(std::time::Duration::from_secs(10));
                let agent = match &w.ca {
                    None => b.build(),
                    Some(pem) => b
                        .tls_config(crate::tls::client_trusting(pem).map_err(|e| {
                            file_err(&list, format!("witness {}: certificate authority {e}", w.url))
                        })?)
                        .build(),
                };
                Ok((w, v, agent))
            })
            .collect::<Result<Vec<_>, WitnessError>>()?;
        Ok(Self {
            log,
            witnesses,
            known: BTreeMap::new(),
            published,
            published_size: None,
            out: custos_logstore::log_dir(data_dir).join("checkpoint.cosigned"),
            failing: BTreeMap::new(),
        })
    }

    /// Whether any witness is configured.
    pub fn has_witnesses(&self) -> bool {
        !self.witnesses.is_empty()
    }

    fn submit(
        &mut self,
        agent: &ureq::Agent,
        w: &WitnessEntry,
        v: &Verifier,
        checkpoint: &str,
        size: u64,
    ) -> Result<String, String> {
        let body_for = |old: u64| -> Result<String, String> {
            let proof = if old == 0 {
                Vec::new()
            } else {
                self.log.consistency_proof(old, Some(size)).map_err(|e| e.to_string())?.1
            };
            Ok(format_request(old, &proof, checkpoint))
        };
        let url = format!("{}/add-checkpoint", w.url);
        let mut old = self.known.get(&w.key).copied().unwrap_or(0);
        for _ in 0..2 {
            if old > size {
                return Err(format!("witness has cosigned size {old}, larger than this log's {size}"));
            }
            let body = body_for(old)?;
            match agent.post(&url).set("Content-Type", "text/plain").send_string(&body) {
                Ok(resp) => {
                    let lines = resp.into_string().map_err(|e| e.to_string())?;
                    let text = note::parse(checkpoint).map_err(|e| e.to_string())?.text;
                    let parsed = note::parse(&format!("{text}\n{lines}")).map_err(|e| e.to_string())?;
                    let ok = note::verify_signatures(&parsed, std::slice::from_ref(v))
                        .map_err(|e| e.to_string())?;
                    let line = ok.into_iter().next().ok_or("no cosignature from the expected key")?.line;
                    self.known.insert(w.key.clone(), size);
                    return Ok(line);
                }
                Err(ureq::Error::Status(409, resp)) => {
                    let t = resp.into_string().unwrap_or_default();
                    old = custos_tlog::checkpoint::parse_decimal(t.trim())
                        .ok_or_else(|| format!("409 with a bad size body `{}`", t.trim()))?;
                    self.known.insert(w.key.clone(), old);
                }
                Err(ureq::Error::Status(code, resp)) => {
                    return Err(format!("{code}: {}", resp.into_string().unwrap_or_default().trim()));
                }
                Err(e) => return Err(e.to_string()),
            }
        }
        Err("witness kept answering 409".into())
    }

    /// Publish the current checkpoint: gather cosignatures (blocking network calls).
    pub fn publish_once(&mut self) -> Result<PublishReport, WitnessError> {
        let c = self.log.committed();
        let mut report = PublishReport { size: c.size, cosigned_by: vec![], failed: vec![] };
        if self.published_size == Some(c.size) {
            return Ok(report);
        }
        let mut note_text = c.checkpoint.clone();
        let ws = self.witnesses.clone();
        for (w, v, agent) in &ws {
            let now = Instant::now();
            if let Some(f) = self.failing.get(&w.key).filter(|f| now < f.next_try) {
                report.failed.push(format!(
                    "{} ({}): not asked: {} failed attempts in a row, next in {:.0} s",
                    v.name(),
                    w.url,
                    f.attempts,
                    (f.next_try - now).as_secs_f64()
                ));
                continue;
            }
            match self.submit(agent, w, v, &c.checkpoint, c.size) {
                Ok(line) => {
                    note_text.push_str(&line);
                    report.cosigned_by.push(v.name().to_string());
                    if let Some(f) = self.failing.remove(&w.key) {
                        tracing::info!(
                            witness = v.name(),
                            failed_attempts = f.attempts,
                            seconds = f.since.elapsed().as_secs(),
                            "cosigning again"
                        );
                    }
                }
                Err(reason) => {
                    let f = self.failing.entry(w.key.clone()).or_insert(Failing {
                        since: now,
                        attempts: 0,
                        next_try: now,
                        last_warned: now,
                    });
                    f.attempts += 1;
                    f.next_try = now + backoff(f.attempts);
                    if f.attempts == 1 || now.duration_since(f.last_warned) >= WARN_EVERY {
                        f.last_warned = now;
                        tracing::warn!(
                            witness = v.name(),
                            url = %w.url,
                            %reason,
                            failed_attempts = f.attempts,
                            retry_in_s = backoff(f.attempts).as_secs(),
                            "no cosignature"
                        );
                    }
                    report.failed.push(format!("{} ({}): {reason}", v.name(), w.url));
                }
            }
        }
        atomic_write(&self.out, note_text.as_bytes(), false)?;
        if let Ok(mut p) = self.published.write() {
            *p = Some(note_text);
        }
        self.published_size = Some(c.size);
        Ok(report)
    }

    /// Publish in a loop every `interval` until the process stops.
    pub async fn run(mut self, interval: std::time::Duration) {
        loop {
            tokio::time::sleep(interval).await;
            let res = tokio::task::block_in_place(|| self.publish_once());
            if let Err(e) = res {
                tracing::error!(error = %e, "publishing the checkpoint failed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_back_off_doubles_from_a_second_to_five_minutes() {
        let secs: Vec<u64> =
            [1, 2, 3, 4, 9, 10, 40, u32::MAX].iter().map(|&a| backoff(a).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 256, 300, 300, 300]);
    }
}
