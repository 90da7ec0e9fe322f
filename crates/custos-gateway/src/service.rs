//! The gateway service: requests in, decisions, audit entries and minimised records out.
//! HTTP lives in [`crate::http`]; this module knows nothing of sockets.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use custos_detect::input::Action as DetectAction;
use custos_logstore::{LogError, LogStore, Receipt};
use custos_policy::{
    AccessRequest, ActionKind, CaseFacts, Decision, FieldGroup, OfficerFacts, Policy, WarrantFacts,
};
use custos_server::auth::{token_hash, Authenticate, Principal};
use custos_store::{
    normalize_msisdn, normalize_nid, Approval, BreakGlass, Case, Category, Cdr, Citizen, Credential, Officer,
    Registry, StoreError, Warrant,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::audit::AuditEntry;

/// Gateway settings.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Local hours `[from, to)` when data requests are allowed.
    pub hours: (i64, i64),
    /// Offset of local time from UTC, seconds.
    pub utc_offset: i64,
    /// Daily quota of identity lookups per officer.
    pub quota_identity: i64,
    /// Daily quota of CDR queries.
    pub quota_cdr: i64,
    /// Daily quota of name searches.
    pub quota_name_search: i64,
    /// Daily quota of routine identity checks (tight).
    pub quota_routine: i64,
    /// Subscribers above which a CDR query needs a second officer's approval.
    pub approval_threshold: i64,
    /// Approval lifetime, seconds.
    pub approval_ttl: i64,
    /// Longest break-glass grant, minutes.
    pub break_glass_max_minutes: i64,
    /// Most results of a name search.
    pub name_search_limit: usize,
    /// Unauthenticated attempts logged per second at most.
    pub unauth_per_sec: u32,
    /// How long a JSON request body may take to arrive after its headers (then 408).
    pub body_timeout: std::time::Duration,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            hours: (0, 24),
            utc_offset: 6 * 3600,
            quota_identity: 200,
            quota_cdr: 50,
            quota_name_search: 10,
            quota_routine: 60,
            approval_threshold: 1,
            approval_ttl: 3600,
            break_glass_max_minutes: 240,
            name_search_limit: 20,
            unauth_per_sec: 5,
            body_timeout: std::time::Duration::from_secs(30),
        }
    }
}

/// Why a request failed; each maps to one HTTP status and a reason code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// 400: malformed request.
    #[error("{1}")]
    BadRequest(&'static str, String),
    /// 403: denied by policy or role, with reason codes.
    #[error("denied: {}", .0.join(", "))]
    Denied(Vec<String>),
    /// 404: no such subject or object.
    #[error("{1}")]
    NotFound(&'static str, String),
    /// 405: a method the endpoint does not take.
    #[error("this endpoint does not take that method; the `Allow` header lists those it takes")]
    MethodNotAllowed,
    /// 408: the body did not arrive in time (seconds allowed).
    #[error("the request body did not arrive within {0} seconds")]
    TimedOut(u64),
    /// 413: body too large.
    #[error("request body is larger than {0} bytes")]
    TooLarge(usize),
    /// 415: not JSON.
    #[error("content type must be application/json")]
    UnsupportedMediaType,
    /// 422: well-formed but invalid.
    #[error("{1}")]
    Invalid(&'static str, String),
    /// 429: quota exhausted.
    #[error("daily quota exhausted")]
    Quota,
    /// 401: missing, wrong or expired sign-in.
    #[error("{1}")]
    Unauthorized(&'static str, String),
    /// 429: too many attempts.
    #[error("{0}")]
    TooMany(String),
    /// 503: the audit log cannot take the entry; nothing is served.
    #[error("the audit log is unavailable; no data is served")]
    AuditUnavailable,
    /// 500.
    #[error("internal error")]
    Internal(String),
}

impl GatewayError {
    /// HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            GatewayError::BadRequest(..) => 400,
            GatewayError::Denied(_) => 403,
            GatewayError::NotFound(..) => 404,
            GatewayError::MethodNotAllowed => 405,
            GatewayError::TimedOut(_) => 408,
            GatewayError::TooLarge(_) => 413,
            GatewayError::UnsupportedMediaType => 415,
            GatewayError::Invalid(..) => 422,
            GatewayError::Quota | GatewayError::TooMany(_) => 429,
            GatewayError::Unauthorized(..) => 401,
            GatewayError::AuditUnavailable => 503,
            GatewayError::Internal(_) => 500,
        }
    }

    /// Machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            GatewayError::BadRequest(c, _)
            | GatewayError::NotFound(c, _)
            | GatewayError::Invalid(c, _)
            | GatewayError::Unauthorized(c, _) => c,
            GatewayError::TooMany(_) => "rate_limited",
            GatewayError::Denied(_) => "denied",
            GatewayError::MethodNotAllowed => "method_not_allowed",
            GatewayError::TimedOut(_) => "request_timeout",
            GatewayError::TooLarge(_) => "too_large",
            GatewayError::UnsupportedMediaType => "unsupported_media_type",
            GatewayError::Quota => "quota_exceeded",
            GatewayError::AuditUnavailable => "audit_unavailable",
            GatewayError::Internal(_) => "internal",
        }
    }

    /// Reason codes for the audit entry.
    pub fn reasons(&self) -> Vec<String> {
        match self {
            GatewayError::Denied(r) => r.clone(),
            GatewayError::Quota => vec!["quota_exceeded".into()],
            e => vec![e.code().to_string()],
        }
    }

    pub(crate) fn decision(&self) -> &'static str {
        match self {
            GatewayError::Denied(_) | GatewayError::Quota => "deny",
            _ => "reject",
        }
    }
}

pub(crate) fn internal(e: impl std::fmt::Display) -> GatewayError {
    GatewayError::Internal(e.to_string())
}

impl From<StoreError> for GatewayError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => GatewayError::NotFound("not_found", format!("{what} not found")),
            StoreError::Conflict(what) => GatewayError::Invalid("conflict", format!("{what} already exists")),
            e => internal(e),
        }
    }
}

/// An allowed answer: the body to send and the entry's receipt.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Response body (without the receipt).
    pub body: Value,
    /// The audit receipt.
    pub receipt: Receipt,
}

#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    pub(crate) officers: HashMap<String, Officer>,
    pub(crate) creds: HashMap<String, Credential>,
    pub(crate) cases: HashMap<String, Case>,
    pub(crate) warrants: HashMap<String, Warrant>,
    pub(crate) break_glass: Vec<BreakGlass>,
}

/// Prometheus counters.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Requests allowed.
    pub allowed: AtomicU64,
    /// Requests denied by policy.
    pub denied: AtomicU64,
    /// Requests rejected as bad input.
    pub rejected: AtomicU64,
    /// Audit appends that failed (each a 503).
    pub audit_failures: AtomicU64,
    /// Unauthenticated attempts.
    pub unauthenticated: AtomicU64,
    /// Sum of request handling time, microseconds.
    pub latency_us: AtomicU64,
}

/// Facts about one request, gathered before the decision, that also go into the audit entry.
#[derive(Debug, Default, Clone)]
pub struct Ctx {
    /// Request ID.
    pub req: String,
    /// Action name.
    pub action: String,
    /// Case cited.
    pub case: String,
    /// Warrant cited.
    pub warrant: String,
    /// Declared purpose.
    pub purpose: String,
    /// Subject commitments.
    pub subjects: Vec<String>,
    /// Blind index of the (first) subject, for the live detector.
    pub subject_bi: String,
    /// Field groups released, for the audit entry.
    pub fields: Vec<String>,
}

/// One officer's (allowed, refused) data requests per local day.
pub(crate) type Timeline = std::collections::BTreeMap<i64, (u32, u32)>;

/// An audit append awaited by its request. Dropped while still pending (the request dropped,
/// its client gone), it hands the append to a task of its own, which feeds the entry on once it
/// commits.
struct Waiting<'a> {
    g: &'a Gateway,
    entry: &'a AuditEntry,
    pending: Option<custos_logstore::PendingAppend>,
}

/// The append's answer. Once it has come, nothing is left for the drop guard to hand off.
impl std::future::Future for Waiting<'_> {
    type Output = Result<custos_logstore::Receipt, LogError>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let Some(pending) = self.pending.as_mut() else {
            return std::task::Poll::Ready(Err(LogError::State(
                "audit append polled after it answered".into(),
            )));
        };
        let answer = std::task::ready!(std::pin::Pin::new(pending).poll(cx));
        self.pending = None;
        std::task::Poll::Ready(answer)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let Some(pending) = self.pending.take() else { return };
        let (Some(me), Ok(rt)) =
            (self.g.me.get().and_then(std::sync::Weak::upgrade), tokio::runtime::Handle::try_current())
        else {
            return;
        };
        let entry = self.entry.clone();
        rt.spawn(async move {
            if let Ok(r) = pending.await {
                me.after_append(r.index, &entry);
            }
        });
    }
}

/// The gateway.
pub struct Gateway {
    pub(crate) registry: Registry,
    pub(crate) policy: Policy,
    pub(crate) log: LogStore,
    pub(crate) cfg: GatewayConfig,
    pub(crate) snap: RwLock<Snapshot>,
    quotas: Mutex<HashMap<(String, &'static str, i64), i64>>,
    unauth: Mutex<(i64, u32, u64)>,
    pub(crate) engine: Mutex<custos_detect::Engine>,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
    clock: Box<dyn Fn() -> i64 + Send + Sync>,
    /// Per officer, per local day: (allowed, refused) data requests, for timelines.
    pub(crate) timeline: Mutex<HashMap<String, Timeline>>,
    /// Citizens' one-time codes and sessions.
    pub(crate) portal: crate::citizen::Portal,
    /// The data directory, for verifying the log from its files.
    pub(crate) data_dir: Option<std::path::PathBuf>,
    /// Held while the log is verified from its files: one verification at a time, as each
    /// reads the whole log on a core of its own.
    pub(crate) verifying: Mutex<()>,
    /// The log shared with other replicas through the store, once joined.
    pub(crate) shared_log: std::sync::OnceLock<Arc<crate::replica::SharedLog>>,
    /// The transparency report's counts of the log's entries, kept as they commit.
    pub(crate) counts: Mutex<crate::oversight::Transparency>,
    /// The gateway itself, once shared with a server (see [`Gateway::serve_from`]).
    me: std::sync::OnceLock<std::sync::Weak<Gateway>>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway").finish_non_exhaustive()
    }
}

/// Random request/object ID.
pub fn new_id(prefix: &str) -> String {
    let b = custos_logstore::random_bytes::<12>().unwrap_or_default();
    format!("{prefix}{}", custos_server::auth::hex(&b))
}

pub(crate) fn sha_hex(s: &str) -> String {
    custos_server::auth::hex(&Sha256::digest(s.as_bytes()))
}

/// Parse a time given as RFC 3339 or Unix seconds.
pub fn parse_when(s: &str) -> Option<i64> {
    custos_detect::time::parse_time(s).map(|t| t.unix)
}

impl Gateway {
    /// A gateway over a registry, a policy and a log. Loads the snapshot of officers, cases,
    /// warrants and credentials, and rebuilds quotas and the live detector from the log.
    pub fn new(
        registry: Registry,
        policy: Policy,
        log: LogStore,
        cfg: GatewayConfig,
    ) -> Result<Self, GatewayError> {
        let g = Self {
            registry,
            policy,
            log,
            cfg,
            snap: RwLock::new(Snapshot::default()),
            quotas: Mutex::new(HashMap::new()),
            unauth: Mutex::new((0, 0, 0)),
            engine: Mutex::new(custos_detect::Engine::new(custos_detect::Config::default())),
            metrics: Metrics::default(),
            clock: Box::new(|| custos_server::auth::now_unix() as i64),
            timeline: Mutex::new(HashMap::new()),
            portal: crate::citizen::Portal::default(),
            data_dir: None,
            verifying: Mutex::new(()),
            shared_log: std::sync::OnceLock::new(),
            counts: Mutex::default(),
            me: std::sync::OnceLock::new(),
        };
        g.reload()?;
        g.load_watch()?;
        g.replay()?;
        Ok(g)
    }

    /// Register watch-listed identifiers (honeytokens, VIPs): kept as blind indexes in the
    /// store and fed to the live detector as subject commitments.
    pub fn add_watch(&self, list: &[(String, custos_detect::input::WatchLabel)]) -> Result<(), GatewayError> {
        let mut kept: Vec<(String, String)> = self.watch_list()?;
        for (ident, label) in list {
            let Some(bi) = self.subject_indexes(std::slice::from_ref(ident))?.into_iter().next() else {
                continue;
            };
            let label = match label {
                custos_detect::input::WatchLabel::Honeytoken => "honeytoken",
                custos_detect::input::WatchLabel::Vip => "vip",
            };
            if !kept.iter().any(|(b, _)| *b == bi) {
                kept.push((bi, label.to_string()));
            }
        }
        let bytes = serde_json::to_vec(&kept).map_err(internal)?;
        self.registry.store().meta_put("watch", &bytes)?;
        self.load_watch()
    }

    fn watch_list(&self) -> Result<Vec<(String, String)>, GatewayError> {
        Ok(self
            .registry
            .store()
            .meta_get("watch")?
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default())
    }

    fn load_watch(&self) -> Result<(), GatewayError> {
        let list: Vec<(String, custos_detect::input::WatchLabel)> = self
            .watch_list()?
            .into_iter()
            .map(|(bi, label)| {
                let l = if label == "vip" {
                    custos_detect::input::WatchLabel::Vip
                } else {
                    custos_detect::input::WatchLabel::Honeytoken
                };
                (self.registry.vault().commit(&bi), l)
            })
            .collect();
        if let Ok(mut e) = self.engine.lock() {
            e.load_watch(&list);
        }
        Ok(())
    }

    /// Apply one change to the in-memory snapshot (after it was written to the store), instead
    /// of reloading everything.
    fn update_snapshot(&self, f: impl FnOnce(&mut Snapshot)) -> Result<(), GatewayError> {
        {
            let mut snap = self.snap.write().map_err(|_| internal("snapshot lock"))?;
            f(&mut snap);
        }
        // Announce the change: other replicas on the same database poll this value and read
        // their snapshot again when it moves (the change is in the store by now).
        self.registry.store().meta_put(crate::replica::SNAPSHOT_VERSION, new_id("v-").as_bytes())?;
        Ok(())
    }

    /// Feed one case's links to the live detector.
    fn link_case(&self, c: &Case) {
        let mut links = custos_detect::CaseLinks::default();
        for o in &c.officers {
            links.officers.push((c.id.clone(), o.clone()));
        }
        for s in &c.subjects {
            links.subjects.push((c.id.clone(), self.registry.vault().commit(s)));
        }
        if let Ok(mut e) = self.engine.lock() {
            e.load_cases(&links);
        }
    }

    /// Replace the clock (tests).
    pub fn with_clock(mut self, clock: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        self.clock = Box::new(clock);
        self
    }

    /// Where the data directory is (lets auditors verify the log from its files).
    pub fn with_data_dir(mut self, dir: &std::path::Path) -> Self {
        self.data_dir = Some(dir.to_path_buf());
        self
    }

    /// Send citizens' one-time codes with this sender (the default writes them to the log).
    pub fn with_otp_sender(mut self, sender: Box<dyn crate::citizen::OtpSender>) -> Self {
        self.portal.sender = sender;
        self
    }

    /// This replica's side of the shared log, once joined.
    pub fn shared_log(&self) -> Option<&crate::replica::SharedLog> {
        self.shared_log.get().map(|s| s.as_ref())
    }

    /// The local audit log (on PostgreSQL, this replica's mirror of the shared one).
    pub fn log(&self) -> &LogStore {
        &self.log
    }

    /// The registry.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Now (Unix seconds) from the trusted clock.
    pub fn now(&self) -> i64 {
        (self.clock)()
    }

    pub(crate) fn local_day(&self, t: i64) -> i64 {
        (t + self.cfg.utc_offset).div_euclid(86_400)
    }

    /// Reload officers, credentials, cases, warrants and grants from the store.
    pub fn reload(&self) -> Result<(), GatewayError> {
        let st = self.registry.store();
        let snap = Snapshot {
            officers: st.officers()?.into_iter().map(|o| (o.id.clone(), o)).collect(),
            creds: st.credentials()?.into_iter().map(|c| (c.sha256.clone(), c)).collect(),
            cases: st.cases()?.into_iter().map(|c| (c.id.clone(), c)).collect(),
            warrants: st.warrants()?.into_iter().map(|w| (w.id.clone(), w)).collect(),
            break_glass: st.break_glasses()?,
        };
        for c in snap.cases.values() {
            self.link_case(c);
        }
        *self.snap.write().map_err(|_| internal("snapshot lock"))? = snap;
        Ok(())
    }

    /// Rebuild today's quotas, the live detector's state, the citizens' release index and the
    /// transparency counts from the audit log.
    fn replay(&self) -> Result<(), GatewayError> {
        let size = self.log.committed().size;
        let today = self.local_day(self.now());
        let shared = self.registry.store().shared();
        for i in 0..size {
            let Some(bytes) = self.log.entry(i).map_err(internal)? else { continue };
            let Ok(e) = serde_json::from_slice::<AuditEntry>(&bytes) else { continue };
            let Some(t) = parse_when(&e.time) else { continue };
            if let Some(kind) = quota_kind(&e.action).filter(|_| !shared) {
                if self.local_day(t) == today {
                    if let Ok(mut q) = self.quotas.lock() {
                        *q.entry((e.officer.clone(), kind, today)).or_insert(0) += 1;
                    }
                }
            }
            self.record(i, &e, t, false);
        }
        let alerts = self.engine.lock().map(|e| e.alerts().len()).unwrap_or(0);
        tracing::info!(entries = size, alerts, "rebuilt quotas, detector and reports from the audit log");
        Ok(())
    }

    /// An entry is in the log, at `index`: count it for the transparency report, index whom it
    /// released data about for the citizens' reports, and feed it to the live detector. Every
    /// entry passes here once, in log order: at start (replay), as an append commits, or as
    /// the mirror of a shared log receives it.
    pub(crate) fn committed(&self, index: u64, e: &AuditEntry, t: i64) {
        self.record(index, e, t, true);
    }

    /// [`Gateway::committed`]; alerts are logged only for `live` entries (at start the
    /// replayed log raises its old alerts again, which are queued, not news).
    fn record(&self, index: u64, e: &AuditEntry, t: i64, live: bool) {
        if let Ok(mut c) = self.counts.lock() {
            c.add(e);
        }
        if let Ok(mut r) = self.portal.released.lock() {
            r.add(index, e);
        }
        self.feed_detector(e, t, live);
    }

    fn feed_detector(&self, e: &AuditEntry, t: i64, live: bool) {
        // Granted emergency access and a credential without its certificate are evidence in
        // themselves, not data requests.
        let evidence = e.is_evidence();
        if e.officer.is_empty() || (!e.is_data_request() && !evidence) {
            return;
        }
        let ev = custos_detect::Event {
            time: t,
            offset: self.cfg.utc_offset as i32,
            officer: e.officer.clone(),
            unit: e.unit.clone(),
            action: DetectAction::parse(&e.action),
            subject: e.subjects.first().cloned().unwrap_or_default(),
            case: e.case.clone(),
            allowed: e.decision == "allow",
            records: e.count,
        };
        if !evidence {
            if let Ok(mut tl) = self.timeline.lock() {
                let d = tl.entry(e.officer.clone()).or_default().entry(self.local_day(t)).or_insert((0, 0));
                if ev.allowed {
                    d.0 += 1;
                } else {
                    d.1 += 1;
                }
            }
        }
        if let Ok(mut eng) = self.engine.lock() {
            let before = eng.alerts().len();
            eng.push(&ev);
            if live {
                for a in &eng.alerts()[before..] {
                    tracing::warn!(officer = %a.officer, detector = %a.detector, severity = ?a.severity, detail = %a.detail, "abuse alert");
                }
            }
        }
    }

    /// Alerts raised so far by the live detector.
    pub fn alerts(&self) -> Vec<custos_detect::Alert> {
        self.engine.lock().map(|e| e.alerts().to_vec()).unwrap_or_default()
    }

    /// Risk of every officer right now.
    pub fn risk(&self) -> Vec<custos_detect::OfficerRisk> {
        self.engine.lock().map(|mut e| e.report().officers).unwrap_or_default()
    }

    /// Note that the gateway is shared through `me` (the HTTP router does this): from then on
    /// an append whose request is dropped before its entry commits (the client gone) is
    /// awaited in a task of its own, so every entry that commits reaches the detector, the
    /// citizens' index and the transparency counts.
    pub fn serve_from(me: &Arc<Self>) {
        let _ = me.me.set(Arc::downgrade(me));
    }

    /// Append an audit entry durably, then feed the detector. Fail-closed: an error here
    /// means no data may be sent.
    pub async fn audit(&self, entry: &AuditEntry) -> Result<Receipt, GatewayError> {
        if let Some(shared) = self.shared_log.get() {
            return self.audit_shared(shared, entry).await;
        }
        let appended = match self.log.append_pending(entry.to_bytes()) {
            Ok(pending) => Waiting { g: self, entry, pending: Some(pending) }.await,
            Err(e) => Err(e),
        };
        if let Ok(r) = &appended {
            self.after_append(r.index, entry);
        }
        appended.map_err(|e| {
            self.metrics.audit_failures.fetch_add(1, Ordering::Relaxed);
            tracing::error!(error = %e, "audit append failed: failing closed");
            match e {
                LogError::EntryTooLarge(_) => {
                    GatewayError::Invalid("too_large", "request too large to audit".into())
                }
                _ => GatewayError::AuditUnavailable,
            }
        })
    }

    fn after_append(&self, index: u64, entry: &AuditEntry) {
        if let Some(t) = parse_when(&entry.time) {
            self.committed(index, entry, t);
        }
    }

    /// Submit to the shared log and wait for the entry's final receipt; the detector is fed
    /// by the mirror (see [`crate::replica`]).
    async fn audit_shared(
        &self,
        shared: &crate::replica::SharedLog,
        entry: &AuditEntry,
    ) -> Result<Receipt, GatewayError> {
        let bytes = entry.to_bytes();
        if bytes.len() > custos_tlog::tile::MAX_ENTRY_BYTES {
            return Err(GatewayError::Invalid("too_large", "request too large to audit".into()));
        }
        let result = match shared.submit(bytes, self.now()).await {
            Ok(pending) => shared.receipt(pending).await,
            Err(e) => Err(e),
        };
        result.inspect_err(|_| {
            self.metrics.audit_failures.fetch_add(1, Ordering::Relaxed);
        })
    }

    /// Build the audit entry of a request.
    pub fn entry(
        &self,
        p: &Principal,
        ctx: &Ctx,
        decision: &str,
        reasons: Vec<String>,
        records: Vec<String>,
        status: u16,
    ) -> AuditEntry {
        let purpose =
            if ctx.purpose.is_empty() { String::new() } else { sha_hex(&ctx.purpose)[..16].to_string() };
        AuditEntry {
            v: 1,
            time: custos_detect::time::format_utc(self.now()),
            req: ctx.req.clone(),
            officer: p.subject.clone(),
            unit: p.unit.clone(),
            token: p.cred_id.clone(),
            action: ctx.action.clone(),
            case: ctx.case.clone(),
            warrant: ctx.warrant.clone(),
            purpose,
            decision: decision.to_string(),
            reasons,
            subjects: ctx.subjects.clone(),
            count: records.len() as u64,
            records,
            status,
            fields: if decision == "allow" { ctx.fields.clone() } else { vec![] },
            client: p.client.map(|c| c.to_string()).unwrap_or_default(),
        }
    }

    /// Audit a failed request (denied or rejected) and return the error to send (or 503 if
    /// even that could not be logged).
    pub async fn fail(&self, p: &Principal, ctx: &Ctx, err: GatewayError) -> GatewayError {
        match err.decision() {
            "deny" => self.metrics.denied.fetch_add(1, Ordering::Relaxed),
            _ => self.metrics.rejected.fetch_add(1, Ordering::Relaxed),
        };
        let e = self.entry(p, ctx, err.decision(), err.reasons(), vec![], err.status());
        match self.audit(&e).await {
            Ok(_) => err,
            Err(e) => e,
        }
    }

    /// Log an unauthenticated attempt, at most `unauth_per_sec` a second.
    pub fn note_unauthenticated(&self, path: &str, reason: &str) {
        self.note_refused(None, path, reason, None);
    }

    /// [`Gateway::note_unauthenticated`], or, for a known officer's credential refused for
    /// want of its client certificate, an entry under that officer (action
    /// [`custos_detect::CREDENTIAL_WITHOUT_CERTIFICATE`]) that the detector reads as evidence
    /// someone else holds the token. Both share one rate limit. The client's address, where
    /// known, is kept in the entry (whose machine tried it).
    fn note_refused(
        &self,
        who: Option<&Principal>,
        path: &str,
        reason: &str,
        client: Option<std::net::IpAddr>,
    ) {
        self.metrics.unauthenticated.fetch_add(1, Ordering::Relaxed);
        let now = self.now();
        let (log_it, dropped) = match self.unauth.lock() {
            Ok(mut u) => {
                if u.0 != now {
                    *u = (now, 0, u.2);
                }
                if u.1 < self.cfg.unauth_per_sec {
                    u.1 += 1;
                    let d = u.2;
                    u.2 = 0;
                    (true, d)
                } else {
                    u.2 += 1;
                    (false, 0)
                }
            }
            Err(_) => (false, 0),
        };
        if !log_it {
            return;
        }
        let mut reasons =
            vec![reason.to_string(), format!("path:{}", path.chars().take(100).collect::<String>())];
        if dropped > 0 {
            reasons.push(format!("{dropped} more attempts not logged individually"));
        }
        let entry = AuditEntry {
            v: 1,
            time: custos_detect::time::format_utc(now),
            req: new_id("r-"),
            officer: who.map(|p| p.subject.clone()).unwrap_or_default(),
            unit: who.map(|p| p.unit.clone()).unwrap_or_default(),
            token: who.map(|p| p.cred_id.clone()).unwrap_or_default(),
            action: if who.is_some() {
                custos_detect::CREDENTIAL_WITHOUT_CERTIFICATE
            } else {
                "unauthenticated"
            }
            .into(),
            case: String::new(),
            warrant: String::new(),
            purpose: String::new(),
            decision: "reject".into(),
            reasons,
            subjects: vec![],
            records: vec![],
            count: 0,
            status: 401,
            fields: vec![],
            client: client.map(|c| c.to_string()).unwrap_or_default(),
        };
        if let Some(shared) = self.shared_log.get() {
            // Handed to the submitter; the 401 does not wait for its commit.
            shared.submit_detached(entry.to_bytes(), self.now());
            return;
        }
        let log = self.log.clone();
        let me = self.me.get().cloned();
        // Best effort and off the request path: the 401 does not wait for it. Once committed it
        // reaches the detector and the counts, as every entry does (and as at a restart).
        std::thread::spawn(move || match log.append(entry.to_bytes()) {
            Ok(r) => {
                if let Some(g) = me.and_then(|w| w.upgrade()) {
                    g.after_append(r.index, &entry);
                }
            }
            Err(e) => tracing::warn!(error = %e, "unauthenticated attempt not logged"),
        });
    }

    fn officer_facts(&self, p: &Principal) -> Result<OfficerFacts, GatewayError> {
        let snap = self.snap.read().map_err(|_| internal("snapshot lock"))?;
        let o = snap
            .officers
            .get(&p.subject)
            .ok_or_else(|| GatewayError::Denied(vec!["not_an_officer".into()]))?;
        Ok(OfficerFacts {
            id: o.id.clone(),
            active: o.status == "active",
            unit: o.unit.clone(),
            roles: o.roles.clone(),
        })
    }

    fn case_facts(&self, id: &str) -> Result<CaseFacts, GatewayError> {
        let snap = self.snap.read().map_err(|_| internal("snapshot lock"))?;
        let c = snap.cases.get(id).ok_or_else(|| GatewayError::Denied(vec!["case_unknown".into()]))?;
        Ok(CaseFacts {
            id: c.id.clone(),
            unit: c.unit.clone(),
            open: c.open,
            covert: c.covert,
            officers: c.officers.clone(),
        })
    }

    fn warrant_facts(&self, id: &str) -> Result<Option<WarrantFacts>, GatewayError> {
        if id.is_empty() {
            return Ok(None);
        }
        let snap = self.snap.read().map_err(|_| internal("snapshot lock"))?;
        let w = snap.warrants.get(id).ok_or_else(|| GatewayError::Denied(vec!["warrant_unknown".into()]))?;
        let issuer = snap.officers.get(&w.issuer);
        Ok(Some(WarrantFacts {
            id: w.id.clone(),
            status: w.status.clone(),
            case: w.case.clone(),
            issuer: w.issuer.clone(),
            issuer_unit: issuer.map(|o| o.unit.clone()).unwrap_or_default(),
            issuer_is_reviewer: issuer
                .is_some_and(|o| o.roles.iter().any(|r| r == "reviewer") && o.status == "active"),
            subjects: w.subjects.clone(),
            categories: w.categories.clone(),
            data_from: w.data_from,
            data_to: w.data_to,
            valid_from: w.valid_from,
            valid_to: w.valid_to,
        }))
    }

    fn break_glass_active(&self, officer: &str, case: &str, now: i64) -> bool {
        self.snap
            .read()
            .map(|s| {
                s.break_glass
                    .iter()
                    .any(|b| b.officer == officer && b.case == case && b.created <= now && now < b.expires)
            })
            .unwrap_or(false)
    }

    fn quota_used(&self, officer: &str, kind: &'static str, now: i64) -> i64 {
        let day = self.local_day(now);
        if self.registry.store().shared() {
            // Unreadable counts read as spent: fail closed.
            return self.registry.store().quota_used(officer, kind, day).unwrap_or(i64::MAX);
        }
        self.quotas
            .lock()
            .map(|q| q.get(&(officer.to_string(), kind, day)).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    /// Count a request against the officer's daily quota. With a store shared by several
    /// processes the count is taken there, atomically; a process that loses the race for the
    /// last unit refuses the request.
    fn count_quota(&self, officer: &str, kind: &'static str, now: i64) -> Result<(), GatewayError> {
        let day = self.local_day(now);
        let st = self.registry.store();
        if st.shared() {
            return if st.quota_take(officer, kind, day, self.quota_limit(kind))? {
                Ok(())
            } else {
                Err(GatewayError::Quota)
            };
        }
        if let Ok(mut q) = self.quotas.lock() {
            q.retain(|k, _| k.2 >= day);
            *q.entry((officer.to_string(), kind, day)).or_insert(0) += 1;
        }
        Ok(())
    }

    fn quota_limit(&self, kind: &'static str) -> i64 {
        match kind {
            "identity_lookup" => self.cfg.quota_identity,
            "cdr_query" => self.cfg.quota_cdr,
            "name_search" => self.cfg.quota_name_search,
            _ => self.cfg.quota_routine,
        }
    }

    /// Whether the approval cited (if any) is valid for this exact request by this requester.
    fn approved(
        &self,
        approval: Option<&str>,
        action: &str,
        p: &Principal,
        body: &Value,
    ) -> Result<bool, GatewayError> {
        let Some(id) = approval.filter(|id| !id.is_empty()) else { return Ok(false) };
        let Some(a) = self.registry.store().approval(id)? else { return Ok(false) };
        Ok(a.requester == p.subject
            && a.request_hash == request_hash(action, &p.subject, body)
            && a.approver.as_deref().is_some_and(|x| x != p.subject)
            && !a.used
            && self.now() < a.expires)
    }

    /// Spend an approval that let a request through: it serves one request only.
    fn consume_approval(&self, approval: Option<&str>, approved: bool) -> Result<(), GatewayError> {
        if let (true, Some(id)) = (approved, approval) {
            if !self.registry.store().use_approval(id)? {
                return Err(GatewayError::Denied(vec!["approval_used".into()]));
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn decide(
        &self,
        p: &Principal,
        action: ActionKind,
        case: CaseFacts,
        warrant: Option<WarrantFacts>,
        subject_bi: &str,
        category: &str,
        period: (i64, i64),
        purpose: &str,
        subscribers: i64,
        approved: bool,
    ) -> Result<(OfficerFacts, Vec<String>), GatewayError> {
        let officer = self.officer_facts(p)?;
        let now = self.now();
        let kind = action.as_str();
        let req = AccessRequest {
            action,
            break_glass: self.break_glass_active(&officer.id, &case.id, now),
            officer: officer.clone(),
            case,
            warrant: warrant.clone(),
            now,
            hour: (now + self.cfg.utc_offset).rem_euclid(86_400) / 3600,
            hours: self.cfg.hours,
            subject: subject_bi.to_string(),
            category: category.to_string(),
            period,
            purpose: purpose.trim().to_string(),
            quota_used: self.quota_used(&officer.id, kind, now),
            quota_limit: self.quota_limit(kind),
            subscribers,
            approval_threshold: self.cfg.approval_threshold,
            approved,
        };
        match self.policy.decide(&req) {
            Decision::Allow => {
                let cats = warrant.map(|w| w.categories).unwrap_or_default();
                Ok((officer, cats))
            }
            Decision::Deny(reasons) => {
                if reasons.len() == 1 && reasons[0] == "quota_exceeded" {
                    Err(GatewayError::Quota)
                } else {
                    Err(GatewayError::Denied(reasons))
                }
            }
        }
    }

    /// Audit an allowed data request, then hand back the body with its receipt.
    async fn allow(
        &self,
        p: &Principal,
        ctx: &Ctx,
        reasons: Vec<String>,
        records: Vec<String>,
        body: Value,
    ) -> Result<Answer, GatewayError> {
        let entry = self.entry(p, ctx, "allow", reasons, records, 200);
        let receipt = self.audit(&entry).await?;
        self.metrics.allowed.fetch_add(1, Ordering::Relaxed);
        Ok(Answer { body, receipt })
    }

    /// `POST /v1/identity/lookup`. Without a case it is a routine check.
    pub async fn identity_lookup(
        &self,
        p: &Principal,
        ctx: &mut Ctx,
        body: &Value,
    ) -> Result<Answer, GatewayError> {
        let req: IdentityLookupReq = parse(body)?;
        ctx.case = req.case.clone().unwrap_or_default();
        ctx.warrant = req.warrant.clone().unwrap_or_default();
        ctx.purpose = req.purpose.clone();
        let routine = ctx.case.is_empty();
        ctx.action = if routine { "routine_check" } else { "identity_lookup" }.into();
        let (kind, ident) = match (&req.nid, &req.msisdn) {
            (Some(n), None) => (
                "nid",
                normalize_nid(n).ok_or_else(|| {
                    GatewayError::Invalid("invalid_nid", "`nid` must have 10, 13 or 17 digits".into())
                })?,
            ),
            (None, Some(m)) => (
                "msisdn",
                normalize_msisdn(m).ok_or_else(|| {
                    GatewayError::Invalid(
                        "invalid_msisdn",
                        "`msisdn` must be a Bangladeshi mobile number".into(),
                    )
                })?,
            ),
            _ => {
                return Err(GatewayError::Invalid(
                    "one_identifier",
                    "give exactly one of `nid` and `msisdn`".into(),
                ))
            }
        };
        let bi = self.registry.vault().blind(kind, &ident);
        ctx.subjects = vec![self.registry.vault().commit(&bi)];
        ctx.subject_bi = bi.clone();
        let (action, case) = if routine {
            (ActionKind::RoutineCheck, CaseFacts::routine())
        } else {
            (ActionKind::IdentityLookup, self.case_facts(&ctx.case)?)
        };
        let warrant = self.warrant_facts(&ctx.warrant)?;
        let (officer, cats) =
            self.decide(p, action, case, warrant, &bi, "identity", (0, 0), &req.purpose, 1, false)?;
        let found = self.registry.citizen_by_blind(kind, &bi)?;
        let now = self.now();
        self.count_quota(&officer.id, action.as_str(), now)?;
        let Some((id, citizen)) = found else {
            return Err(GatewayError::NotFound("unknown_subject", "no record for that identifier".into()));
        };
        let groups = self.policy.visible_groups(&officer, &cats, routine);
        ctx.fields = released(&groups, false);
        let mut record = minimise_citizen(&citizen, &groups);
        if let Some(m) = record.as_object_mut() {
            crate::marks::apply(self.registry.vault(), &officer.id, &format!("citizen:{id}"), m);
        }
        let mut reasons = vec![];
        if routine {
            reasons.push("routine_unexplained".to_string());
        }
        let commit = vec![self.registry.vault().commit(&format!("citizen:{id}"))];
        self.allow(p, ctx, reasons, commit, json!({ "record": record })).await
    }

    /// `POST /v1/cdr/query`.
    pub async fn cdr_query(
        &self,
        p: &Principal,
        ctx: &mut Ctx,
        body: &Value,
    ) -> Result<Answer, GatewayError> {
        let req: CdrQueryReq = parse(body)?;
        ctx.action = "cdr_query".into();
        ctx.case = req.case.clone();
        ctx.warrant = req.warrant.clone();
        ctx.purpose = req.purpose.clone();
        let msisdn = normalize_msisdn(&req.msisdn).ok_or_else(|| {
            GatewayError::Invalid("invalid_msisdn", "`msisdn` must be a Bangladeshi mobile number".into())
        })?;
        let from = parse_when(&req.from).ok_or_else(|| {
            GatewayError::Invalid("invalid_period", "`from` must be RFC 3339 or Unix seconds".into())
        })?;
        let to = parse_when(&req.to).ok_or_else(|| {
            GatewayError::Invalid("invalid_period", "`to` must be RFC 3339 or Unix seconds".into())
        })?;
        let bi = self.registry.vault().blind("msisdn", &msisdn);
        ctx.subjects = vec![self.registry.vault().commit(&bi)];
        ctx.subject_bi = bi.clone();
        let case = self.case_facts(&req.case)?;
        let warrant = self.warrant_facts(&req.warrant)?;
        let approved = self.approved(req.approval.as_deref(), "cdr_query", p, body)?;
        let (officer, cats) = self.decide(
            p,
            ActionKind::CdrQuery,
            case,
            warrant,
            &bi,
            "cdr",
            (from, to),
            &req.purpose,
            1,
            approved,
        )?;
        self.consume_approval(req.approval.as_deref(), approved)?;
        self.count_quota(&officer.id, "cdr_query", self.now())?;
        let cdrs = self.registry.cdrs_of(&msisdn, from, to)?;
        let groups = self.policy.visible_groups(&officer, &cats, false);
        ctx.fields = released(&groups, true);
        let records: Vec<Value> = cdrs.iter().map(|(_, c)| minimise_cdr(c, &groups)).collect();
        let commits = cdrs.iter().map(|(id, _)| self.registry.vault().commit(&format!("cdr:{id}"))).collect();
        self.allow(p, ctx, vec![], commits, json!({ "records": records })).await
    }

    /// `POST /v1/identity/search`: name search, with a second officer's approval.
    pub async fn name_search(
        &self,
        p: &Principal,
        ctx: &mut Ctx,
        body: &Value,
    ) -> Result<Answer, GatewayError> {
        let req: NameSearchReq = parse(body)?;
        ctx.action = "name_search".into();
        ctx.case = req.case.clone();
        ctx.warrant = req.warrant.clone();
        ctx.purpose = req.purpose.clone();
        if custos_store::name_tokens(&req.name).is_empty() {
            return Err(GatewayError::Invalid(
                "invalid_name",
                "`name` needs at least one word of two letters".into(),
            ));
        }
        let bi = self.registry.vault().blind("name", &req.name.to_lowercase());
        ctx.subjects = vec![self.registry.vault().commit(&bi)];
        let case = self.case_facts(&req.case)?;
        let warrant = self.warrant_facts(&req.warrant)?;
        let approved = self.approved(req.approval.as_deref(), "name_search", p, body)?;
        let (officer, cats) = self.decide(
            p,
            ActionKind::NameSearch,
            case,
            warrant,
            &bi,
            "identity",
            (0, 0),
            &req.purpose,
            1,
            approved,
        )?;
        self.consume_approval(req.approval.as_deref(), approved)?;
        self.count_quota(&officer.id, "name_search", self.now())?;
        let hits = self.registry.search_name(&req.name, self.cfg.name_search_limit)?;
        let groups = self.policy.visible_groups(&officer, &cats, false);
        ctx.fields = released(&groups, false);
        let vault = self.registry.vault();
        let query = req.name.trim().to_lowercase();
        let mut rows: Vec<(String, Value)> = hits
            .iter()
            .map(|(id, c)| {
                let key = format!("citizen:{id}");
                let mut v = minimise_citizen(c, &groups);
                if let Some(m) = v.as_object_mut() {
                    crate::marks::apply(vault, &officer.id, &key, m);
                }
                (key, v)
            })
            .collect();
        // One decoy row per (officer, query), with an NID no citizen has, registered so that a
        // leak of it names this account.
        let mut salt = 0;
        let decoy = loop {
            let nid = crate::marks::decoy_nid(vault, &officer.id, &query, salt);
            if self.registry.citizen_by_nid(&nid)?.is_none() || salt > 8 {
                break nid;
            }
            salt += 1;
        };
        let reg = json!({"officer": officer.id, "time": self.now(), "req": ctx.req});
        self.registry
            .store()
            .meta_put(&format!("decoy:{}", vault.blind("nid", &decoy)), reg.to_string().as_bytes())?;
        let mut dv = minimise_citizen(&crate::marks::decoy_citizen(vault, &decoy), &groups);
        if let Some(m) = dv.as_object_mut() {
            crate::marks::apply(vault, &officer.id, &format!("decoy:{decoy}"), m);
        }
        rows.push((format!("decoy:{decoy}"), dv));
        // Keyed order: it carries no meaning, so it can carry the recipient.
        rows.sort_by_key(|(k, _)| vault.commit(&format!("order:{}:{query}:{k}", officer.id)));
        let records: Vec<Value> = rows.into_iter().map(|(_, v)| v).collect();
        let commits = hits.iter().map(|(id, _)| vault.commit(&format!("citizen:{id}"))).collect();
        self.allow(p, ctx, vec![], commits, json!({ "records": records })).await
    }

    /// `POST /v1/approvals`: ask for a second officer's approval of one exact request. The
    /// request must be one its endpoint would take (typed, so the approver reads what will be
    /// run); it is kept sealed beside the approval for the approver to read.
    pub async fn request_approval(
        &self,
        p: &Principal,
        ctx: &mut Ctx,
        body: &Value,
    ) -> Result<Answer, GatewayError> {
        ctx.action = "approval_request".into();
        let action = body.get("action").and_then(Value::as_str).unwrap_or_default();
        if !matches!(action, "name_search" | "cdr_query") {
            return Err(GatewayError::Invalid(
                "invalid_action",
                "`action` must be `name_search` or `cdr_query`".into(),
            ));
        }
        let request = body.get("request").filter(|r| r.is_object()).ok_or_else(|| {
            GatewayError::BadRequest(
                "missing_field",
                "`request` must be the JSON body of the request to approve".into(),
            )
        })?;
        let vault = self.registry.vault();
        let mut request = request.clone();
        if let Some(o) = request.as_object_mut() {
            // The approval's own ID is not part of what it approves (see `request_hash`).
            o.remove("approval");
        }
        // Only a request its endpoint would take can be approved.
        if action == "name_search" {
            let r: NameSearchReq = parse_request(&request)?;
            if custos_store::name_tokens(&r.name).is_empty() {
                return Err(GatewayError::Invalid(
                    "invalid_name",
                    "`request.name` needs at least one word of two letters".into(),
                ));
            }
        } else {
            let r: CdrQueryReq = parse_request(&request)?;
            if normalize_msisdn(&r.msisdn).is_none() {
                return Err(GatewayError::Invalid(
                    "invalid_msisdn",
                    "`request.msisdn` must be a Bangladeshi mobile number".into(),
                ));
            }
            for (name, v) in [("from", &r.from), ("to", &r.to)] {
                if parse_when(v).is_none() {
                    return Err(GatewayError::Invalid(
                        "invalid_period",
                        format!("`request.{name}` must be RFC 3339 or Unix seconds"),
                    ));
                }
            }
        }
        describe_request(vault, action, &request, ctx);
        self.officer_facts(p)?;
        let now = self.now();
        let id = new_id("ap-");
        let sealed = vault
            .seal_labelled(Category::Identity, &format!("approval:{id}"), canonical(&request).as_bytes())
            .map_err(|e| internal(format!("sealing approval request: {e}")))?;
        let a = Approval {
            request_hash: request_hash(action, &p.subject, &request),
            summary: format!("{action} requested by {}", p.subject),
            id,
            requester: p.subject.clone(),
            approver: None,
            created: now,
            expires: now + self.cfg.approval_ttl,
            used: false,
            sealed_request: Some(B64.encode(sealed)),
        };
        let entry = self.entry(p, ctx, "allow", vec![format!("approval:{}", a.id)], vec![], 200);
        let receipt = self.audit(&entry).await?;
        self.registry.store().put_approval(&a)?;
        Ok(Answer {
            body: json!({ "approval": a.id, "request_hash": a.request_hash, "expires": a.expires }),
            receipt,
        })
    }

    /// `GET /v1/approvals`: approvals neither used nor expired that the caller may give (a
    /// reviewer: any; a supervisor: their unit's) or asked for, newest first. Without the
    /// requests themselves: reading one is [`Gateway::approval_view`], audited with its subject.
    pub fn approvals_view(&self, p: &Principal) -> Result<Value, GatewayError> {
        let o = self.officer_facts(p)?;
        let now = self.now();
        let mut open = self.registry.store().open_approvals(now)?;
        open.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
        let snap = self.snap.read().map_err(|_| internal("snapshot lock"))?;
        let list: Vec<Value> = open
            .into_iter()
            .filter_map(|a| {
                let unit = snap.officers.get(&a.requester).map(|r| r.unit.clone());
                let mine = a.requester == p.subject;
                let may_approve = !mine && gives_approvals_for(&o, unit.as_deref());
                if !(mine || may_approve) {
                    return None;
                }
                Some(json!({
                    "approval": a.id,
                    "action": approval_action(&a),
                    "requester": a.requester,
                    "requester_unit": unit,
                    "status": if a.approver.is_some() { "approved" } else { "pending" },
                    "approver": a.approver,
                    "created": a.created,
                    "expires": a.expires,
                    "yours_to_give": may_approve && a.approver.is_none(),
                }))
            })
            .collect();
        Ok(json!({ "approvals": list }))
    }

    /// `GET /v1/approvals/{id}`: what an approval vouches for, for the people who may give it
    /// (a reviewer, or a supervisor of the requester's unit) and the requester. The request is
    /// opened from its seal; the caller's view is audited with the request's case and subject.
    pub fn approval_view(&self, p: &Principal, ctx: &mut Ctx, id: &str) -> Result<Value, GatewayError> {
        let o = self.officer_facts(p)?;
        let a = self.registry.store().approval(id)?.ok_or_else(|| {
            GatewayError::NotFound("not_found", format!("approval `{}` not found", clip(id)))
        })?;
        let requester_unit = Some(self.unit_of(&a.requester)).filter(|u| !u.is_empty());
        if a.requester != p.subject && !gives_approvals_for(&o, requester_unit.as_deref()) {
            return Err(GatewayError::Denied(vec!["approver_role_required".into()]));
        }
        let request = match &a.sealed_request {
            Some(sealed) => {
                let vault = self.registry.vault();
                let opened = B64
                    .decode(sealed)
                    .map_err(|e| e.to_string())
                    .and_then(|bytes| {
                        vault
                            .open_labelled(Category::Identity, &format!("approval:{}", a.id), &bytes)
                            .map_err(|e| e.to_string())
                    })
                    .and_then(|plain| serde_json::from_slice::<Value>(&plain).map_err(|e| e.to_string()))
                    .map_err(|e| internal(format!("approval `{id}`: sealed request: {e}")))?;
                describe_request(vault, approval_action(&a), &opened, ctx);
                opened
            }
            None => Value::Null,
        };
        let now = self.now();
        let status = if a.used {
            "used"
        } else if now >= a.expires {
            "expired"
        } else if a.approver.is_some() {
            "approved"
        } else {
            "pending"
        };
        Ok(json!({
            "approval": a.id,
            "action": approval_action(&a),
            "requester": a.requester,
            "requester_unit": requester_unit,
            "status": status,
            "approver": a.approver,
            "created": a.created,
            "expires": a.expires,
            "request_hash": a.request_hash,
            "request": request,
        }))
    }

    /// `POST /v1/approvals/{id}/approve`: a supervisor or reviewer, never the requester.
    pub async fn approve(&self, p: &Principal, ctx: &mut Ctx, id: &str) -> Result<Answer, GatewayError> {
        ctx.action = "approval_grant".into();
        let o = self.officer_facts(p)?;
        if !o.active || !(o.roles.iter().any(|r| r == "supervisor" || r == "reviewer")) {
            return Err(GatewayError::Denied(vec!["approver_role_required".into()]));
        }
        let mut a = self
            .registry
            .store()
            .approval(id)?
            .ok_or_else(|| GatewayError::NotFound("not_found", format!("approval `{id}` not found")))?;
        if a.requester == p.subject {
            return Err(GatewayError::Denied(vec!["approver_is_requester".into()]));
        }
        // A supervisor vouches for their own unit's work; reviewers, who stand outside the
        // units, may approve any unit's.
        let requester_unit = Some(self.unit_of(&a.requester)).filter(|u| !u.is_empty());
        if !o.roles.iter().any(|r| r == "reviewer") && requester_unit.as_deref() != Some(o.unit.as_str()) {
            return Err(GatewayError::Denied(vec!["approver_of_other_unit".into()]));
        }
        if self.now() >= a.expires {
            return Err(GatewayError::Denied(vec!["approval_expired".into()]));
        }
        // Given once: a second approver (or one after use) would rewrite who vouched for it.
        if let Some(by) = &a.approver {
            return Err(GatewayError::Invalid(
                "already_approved",
                format!("approval `{}` was already given by `{by}`", clip(id)),
            ));
        }
        if a.used {
            return Err(GatewayError::Invalid("already_used", format!("approval `{}` was used", clip(id))));
        }
        a.approver = Some(p.subject.clone());
        // Audited first: an approval whose entry cannot be written is not given.
        let entry = self.entry(p, ctx, "allow", vec![format!("approval:{id}")], vec![], 200);
        let receipt = self.audit(&entry).await?;
        self.registry.store().put_approval(&a)?;
        Ok(Answer { body: json!({ "approval": id, "approver": p.subject }), receipt })
    }

    /// `POST /v1/break-glass`: emergency access with a written justification. Raises an alert
    /// at once and opens a review item.
    pub async fn break_glass(
        &self,
        p: &Principal,
        ctx: &mut Ctx,
        body: &Value,
    ) -> Result<Answer, GatewayError> {
        ctx.action = "break_glass".into();
        let req: BreakGlassReq = parse(body)?;
        ctx.case = req.case.clone();
        if req.justification.trim().chars().count() < 20 {
            return Err(GatewayError::Invalid(
                "justification_required",
                "a written justification of at least 20 characters is required".into(),
            ));
        }
        if req.minutes <= 0 || req.minutes > self.cfg.break_glass_max_minutes {
            return Err(GatewayError::Invalid(
                "invalid_duration",
                format!("`minutes` must be 1 to {}", self.cfg.break_glass_max_minutes),
            ));
        }
        let o = self.officer_facts(p)?;
        if !o.active {
            return Err(GatewayError::Denied(vec!["officer_suspended".into()]));
        }
        // Break-glass stands in for a warrant only: the officer must still work the case, as
        // every lookup under the grant will be checked. Refusing here keeps a grant (and its
        // review) from being opened for a case the officer could never use it on.
        let c = self.case_facts(&req.case)?;
        let mut reasons = Vec::new();
        if !c.officers.contains(&p.subject) {
            reasons.push("not_assigned_to_case".to_string());
        }
        if c.unit != o.unit {
            reasons.push("case_of_other_unit".to_string());
        }
        if !c.open {
            reasons.push("case_closed".to_string());
        }
        if !reasons.is_empty() {
            return Err(GatewayError::Denied(reasons));
        }
        let now = self.now();
        let b = BreakGlass {
            id: new_id("bg-"),
            officer: p.subject.clone(),
            case: req.case.clone(),
            justification: req.justification.trim().to_string(),
            created: now,
            expires: now + 60 * req.minutes,
            review: "open".into(),
            review_note: None,
        };
        // Audited first: a grant whose entry cannot be written is not made.
        let entry = self.entry(
            p,
            ctx,
            "allow",
            vec![format!("break_glass:{}", b.id), "review_opened".into()],
            vec![],
            200,
        );
        let receipt = self.audit(&entry).await?;
        self.registry.store().put_break_glass(&b)?;
        self.update_snapshot(|s| s.break_glass.push(b.clone()))?;
        tracing::warn!(officer = %p.subject, case = %b.case, grant = %b.id, "break-glass access granted: review opened");
        Ok(Answer { body: json!({ "grant": b.id, "expires": b.expires, "review": "open" }), receipt })
    }

    /// Open break-glass reviews.
    pub fn break_glass_reviews(&self) -> Vec<BreakGlass> {
        self.snap
            .read()
            .map(|s| s.break_glass.iter().filter(|b| b.review == "open").cloned().collect())
            .unwrap_or_default()
    }

    /// `POST /v1/break-glass/{id}/close`: a supervisor (not the officer) closes the review.
    pub async fn close_break_glass(
        &self,
        p: &Principal,
        ctx: &mut Ctx,
        id: &str,
        body: &Value,
    ) -> Result<Answer, GatewayError> {
        ctx.action = "break_glass_review".into();
        if !p.has_role("supervisor") {
            return Err(GatewayError::Denied(vec!["supervisor_role_required".into()]));
        }
        let req: ReviewReq = parse(body)?;
        let note = req.note.trim().to_string();
        if note.is_empty() {
            return Err(GatewayError::Invalid("note_required", "closing a review needs a `note`".into()));
        }
        let mut b =
            self.registry.store().break_glasses()?.into_iter().find(|b| b.id == id).ok_or_else(|| {
                GatewayError::NotFound("not_found", format!("break-glass grant `{id}` not found"))
            })?;
        if b.officer == p.subject {
            return Err(GatewayError::Denied(vec!["reviewer_is_officer".into()]));
        }
        self.in_scope(p, &b.officer)?;
        // Closed once: closing again would rewrite who closed it and why.
        if b.review == "closed" {
            return Err(GatewayError::Invalid(
                "already_closed",
                format!(
                    "the review of `{}` was already closed ({})",
                    clip(id),
                    b.review_note.unwrap_or_default()
                ),
            ));
        }
        b.review = "closed".into();
        b.review_note = Some(format!("{}: {note}", p.subject));
        let entry = self.entry(p, ctx, "allow", vec![format!("break_glass:{id}")], vec![], 200);
        let receipt = self.audit(&entry).await?;
        self.registry.store().put_break_glass(&b)?;
        self.update_snapshot(|s| {
            if let Some(x) = s.break_glass.iter_mut().find(|x| x.id == b.id) {
                *x = b.clone();
            }
        })?;
        Ok(Answer { body: json!({ "grant": id, "review": "closed" }), receipt })
    }

    /// `POST /v1/leaks`: trace an uploaded export against the audit log (auditors). The finding is
    /// kept with the identifiers replaced by commitments; the uploader gets them in clear.
    pub async fn trace_leak(
        &self,
        p: &Principal,
        ctx: &mut Ctx,
        bytes: &[u8],
        kind: crate::leaks::ExportKind,
    ) -> Result<Answer, GatewayError> {
        ctx.action = "leak_trace".into();
        if !(p.has_role("auditor") || p.has_role("admin")) {
            return Err(GatewayError::Denied(vec!["role_not_allowed".into()]));
        }
        let mut scan = crate::leaks::Scan::default();
        scan.add(bytes, kind, "upload", self.cfg.utc_offset).map_err(internal)?;
        // No finding is kept of an upload that held nothing to trace.
        if let Some(why) = scan.nothing_read() {
            return Err(GatewayError::Invalid(
                "no_messages",
                format!("no message could be read from the upload: {why}"),
            ));
        }
        let vault = self.registry.vault();
        let key_of = |k: custos_leak::extract::Kind, v: &str| {
            let kind = if k == custos_leak::extract::Kind::Nid { "nid" } else { "msisdn" };
            vault.commit(&vault.blind(kind, v))
        };
        // Only the entries that released data about a person found in the leak.
        let leaked: Vec<String> = scan.found.iter().map(|(k, v, ..)| key_of(*k, v)).collect();
        let mut holdings = crate::leaks::Holdings::default();
        self.each_release_of(&leaked, |_, e| {
            holdings.add(&e);
            Ok(())
        })?;
        let crate::leaks::Holdings { mut accesses, released: held } = holdings;
        accesses.extend(crate::leaks::decoy_accesses(&scan, &self.registry, &key_of));
        let a = crate::leaks::attribute_scan(&scan, &accesses, &key_of);
        let mut out = crate::leaks::finding(&scan, &a);
        crate::leaks::add_marks(
            &mut out,
            &crate::leaks::mark_scores(&scan, &self.registry, &accesses, &held, &key_of),
        );
        let id = new_id("leak-");
        let mut kept = out.clone();
        if let Some(found) = kept.get_mut("found").and_then(Value::as_array_mut) {
            for (f, (k, v, ..)) in found.iter_mut().zip(scan.found.iter()) {
                f["value"] = json!(key_of(*k, v));
            }
        }
        kept["leak"] = json!(id);
        kept["problems"] = json!(scan.problems);
        kept["created"] = json!(custos_detect::time::format_utc(self.now()));
        let entry = self.entry(
            p,
            ctx,
            "allow",
            vec![format!("leak:{id}"), format!("matched:{}", a.matched)],
            vec![],
            200,
        );
        let receipt = self.audit(&entry).await?;
        self.registry.store().meta_put(&format!("leak:{id}"), kept.to_string().as_bytes())?;
        out["leak"] = json!(id);
        out["problems"] = json!(scan.problems);
        Ok(Answer { body: out, receipt })
    }

    /// A kept leak finding (identifiers as commitments).
    pub fn leak_finding(&self, id: &str) -> Result<Option<Value>, GatewayError> {
        if !id.starts_with("leak-") || id.len() > 64 {
            return Ok(None);
        }
        Ok(self
            .registry
            .store()
            .meta_get(&format!("leak:{id}"))?
            .and_then(|b| serde_json::from_slice(&b).ok()))
    }

    /// Administration (admin credential or admin role; warrants by reviewers).
    pub async fn admin(
        &self,
        p: &Principal,
        ctx: &mut Ctx,
        what: &str,
        id: Option<&str>,
        body: &Value,
    ) -> Result<Answer, GatewayError> {
        ctx.action = format!("admin_{what}");
        let is_admin = p.has_role("admin");
        // Validate and decide first, audit, and only then change anything: a change whose entry
        // cannot be written is not made (fail-closed for administration as for data).
        let (result, change) = match what {
            "officer" if is_admin => {
                let o: Officer = parse(body)?;
                validate_officer(&o)?;
                (json!({ "officer": o.id }), Change::Officer(o))
            }
            "token" if is_admin => {
                let req: TokenReq = parse(body)?;
                let officer = req.officer.as_deref().unwrap_or_default();
                let admin = req.admin.unwrap_or(false);
                if admin && !officer.is_empty() {
                    return Err(GatewayError::Invalid(
                        "invalid_token_request",
                        "a token is either an officer's (`officer`) or an admin credential (`admin: true`), not both".into(),
                    ));
                }
                if !admin && !self.snap.read().map(|s| s.officers.contains_key(officer)).unwrap_or(false) {
                    return Err(GatewayError::Invalid(
                        "unknown_officer",
                        format!("no officer `{}`", clip(officer)),
                    ));
                }
                let days = req.expires_in_days.unwrap_or(90);
                if !(1..=3650).contains(&days) {
                    return Err(GatewayError::Invalid(
                        "invalid_expiry",
                        "`expires_in_days` must be 1 to 3650".into(),
                    ));
                }
                let (token, cred) = self.new_credential(
                    if admin { "admin" } else { officer },
                    admin,
                    Some(self.now() + days * 86_400),
                )?;
                (json!({ "token": token, "id": cred.id, "expires": cred.expires }), Change::Credential(cred))
            }
            "revoke_token" if is_admin => {
                let id = id.unwrap_or_default();
                // From the store, which another replica may have written since our snapshot.
                if !self.registry.store().credentials()?.iter().any(|c| c.id == id) {
                    return Err(GatewayError::NotFound(
                        "not_found",
                        format!("credential `{}` not found", clip(id)),
                    ));
                }
                (json!({ "revoked": id }), Change::RevokeCredential(id.to_string()))
            }
            "case" if is_admin || p.has_role("supervisor") => {
                let req: CaseReq = parse(body)?;
                valid_id(&req.id, "case")?;
                if req.unit.trim().is_empty() {
                    return Err(GatewayError::Invalid("invalid_unit", "a case needs a `unit`".into()));
                }
                // A supervisor runs their own unit's cases: they may not create one for another
                // unit, nor take over or rewrite one of another unit's.
                let (held_by, unknown) = {
                    let snap = self.snap.read().map_err(|_| internal("snapshot lock"))?;
                    (
                        snap.cases.get(&req.id).map(|c| c.unit.clone()),
                        req.officers.iter().find(|o| !snap.officers.contains_key(o.as_str())).cloned(),
                    )
                };
                if !is_admin && (req.unit != p.unit || held_by.is_some_and(|u| u != p.unit)) {
                    return Err(GatewayError::Denied(vec!["case_of_other_unit".into()]));
                }
                if let Some(o) = unknown {
                    return Err(GatewayError::Invalid(
                        "unknown_officer",
                        format!("no officer `{}`", clip(&o)),
                    ));
                }
                let subjects = self.subject_indexes(&req.subjects)?;
                let c = Case {
                    id: req.id,
                    unit: req.unit,
                    officers: req.officers,
                    subjects,
                    open: req.open,
                    covert: req.covert,
                };
                (json!({ "case": c.id }), Change::Case(c, true))
            }
            "close_case" if is_admin || p.has_role("supervisor") => {
                let id = id.unwrap_or_default();
                let mut c =
                    self.snap.read().ok().and_then(|s| s.cases.get(id).cloned()).ok_or_else(|| {
                        GatewayError::NotFound("not_found", format!("case `{}` not found", clip(id)))
                    })?;
                if !is_admin && c.unit != p.unit {
                    return Err(GatewayError::Denied(vec!["case_of_other_unit".into()]));
                }
                c.open = false;
                (json!({ "case": id, "open": false }), Change::Case(c, false))
            }
            "warrant" if p.has_role("reviewer") => {
                let req: WarrantReq = parse(body)?;
                valid_id(&req.id, "warrant")?;
                // A warrant is a legal document: it is revoked, never edited or re-issued under
                // its ID (re-posting a revoked warrant's ID would otherwise make it active again).
                if self.snap.read().map(|s| s.warrants.contains_key(&req.id)).unwrap_or(true) {
                    return Err(GatewayError::Invalid(
                        "conflict",
                        format!("warrant `{}` already exists; issue a new one under a new ID", clip(&req.id)),
                    ));
                }
                let case = self.case_facts(&req.case).map_err(|_| {
                    GatewayError::Invalid("unknown_case", "the warrant's case does not exist".into())
                })?;
                if !case.open {
                    return Err(GatewayError::Invalid(
                        "case_closed",
                        format!("case `{}` is closed: no warrant can be issued for it", clip(&case.id)),
                    ));
                }
                // Independence: not the requester's side, not the case's unit.
                if case.officers.contains(&p.subject) || (!p.unit.is_empty() && p.unit == case.unit) {
                    return Err(GatewayError::Invalid(
                        "reviewer_not_independent",
                        "a reviewer may not issue warrants for their own unit's or their own cases".into(),
                    ));
                }
                for c in &req.categories {
                    if !matches!(c.as_str(), "identity" | "cdr" | "location") {
                        return Err(GatewayError::Invalid(
                            "invalid_category",
                            format!("unknown category `{}`", clip(c)),
                        ));
                    }
                }
                let when = |s: &str, name: &str| {
                    parse_when(s).ok_or_else(|| {
                        GatewayError::Invalid(
                            "invalid_time",
                            format!("`{name}` must be RFC 3339 or Unix seconds"),
                        )
                    })
                };
                let w = Warrant {
                    id: req.id,
                    case: req.case,
                    issuer: p.subject.clone(),
                    subjects: self.subject_indexes(&req.subjects)?,
                    categories: req.categories,
                    data_from: when(&req.data_from, "data_from")?,
                    data_to: when(&req.data_to, "data_to")?,
                    valid_from: when(&req.valid_from, "valid_from")?,
                    valid_to: when(&req.valid_to, "valid_to")?,
                    status: "active".into(),
                };
                if w.id.trim().is_empty() || w.valid_to <= w.valid_from || w.data_to < w.data_from {
                    return Err(GatewayError::Invalid(
                        "invalid_warrant",
                        "a warrant needs an ID and non-empty periods".into(),
                    ));
                }
                ctx.warrant = w.id.clone();
                (json!({ "warrant": w.id }), Change::Warrant(w))
            }
            "revoke_warrant" if p.has_role("reviewer") || is_admin => {
                let id = id.unwrap_or_default();
                let mut w =
                    self.snap.read().ok().and_then(|s| s.warrants.get(id).cloned()).ok_or_else(|| {
                        GatewayError::NotFound("not_found", format!("warrant `{}` not found", clip(id)))
                    })?;
                w.status = "revoked".into();
                (json!({ "warrant": id, "status": "revoked" }), Change::Warrant(w))
            }
            _ => return Err(GatewayError::Denied(vec!["role_not_allowed".into()])),
        };
        let entry = self.entry(p, ctx, "allow", vec![], vec![], 200);
        let receipt = self.audit(&entry).await?;
        // The entry is written: make the change. Should the store fail now, the error is logged
        // as this request's outcome too, so the log over-reports an attempt, never a change.
        self.apply(change)?;
        Ok(Answer { body: result, receipt })
    }

    /// Make an administrative change whose audit entry has been written.
    fn apply(&self, change: Change) -> Result<(), GatewayError> {
        match change {
            Change::Officer(o) => {
                self.registry.store().put_officer(&o)?;
                self.update_snapshot(|s| {
                    s.officers.insert(o.id.clone(), o);
                })
            }
            Change::Credential(cred) => {
                self.registry.store().put_credential(&cred)?;
                self.update_snapshot(|s| {
                    s.creds.insert(cred.sha256.clone(), cred);
                })
            }
            Change::RevokeCredential(id) => {
                self.registry.store().revoke_credential(&id)?;
                self.update_snapshot(|s| {
                    for c in s.creds.values_mut().filter(|c| c.id == id) {
                        c.revoked = true;
                    }
                })
            }
            Change::Case(c, link) => {
                self.registry.store().put_case(&c)?;
                if link {
                    self.link_case(&c);
                }
                self.update_snapshot(|s| {
                    s.cases.insert(c.id.clone(), c);
                })
            }
            Change::Warrant(w) => {
                self.registry.store().put_warrant(&w)?;
                self.update_snapshot(|s| {
                    s.warrants.insert(w.id.clone(), w);
                })
            }
        }
    }

    /// Issue a credential; the token is returned once and only its hash is stored.
    pub fn issue_token(
        &self,
        subject: &str,
        admin: bool,
        expires: Option<i64>,
    ) -> Result<(String, Credential), GatewayError> {
        let (token, cred) = self.new_credential(subject, admin, expires)?;
        self.apply(Change::Credential(cred.clone()))?;
        Ok((token, cred))
    }

    /// A new credential and its token, not yet stored.
    fn new_credential(
        &self,
        subject: &str,
        admin: bool,
        expires: Option<i64>,
    ) -> Result<(String, Credential), GatewayError> {
        let token = custos_server::auth::new_token().map_err(internal)?;
        let sha = token_hash(&token);
        let cred = Credential {
            id: sha[..16].to_string(),
            sha256: sha,
            subject: subject.to_string(),
            admin,
            expires,
            revoked: false,
            created: self.now(),
        };
        Ok((token, cred))
    }

    /// Blind indexes of plaintext identifiers (NIDs or MSISDNs).
    pub fn subject_indexes(&self, idents: &[String]) -> Result<Vec<String>, GatewayError> {
        idents
            .iter()
            .map(|s| {
                if let Some(m) = normalize_msisdn(s) {
                    Ok(self.registry.vault().blind("msisdn", &m))
                } else if let Some(n) = normalize_nid(s) {
                    Ok(self.registry.vault().blind("nid", &n))
                } else {
                    Err(GatewayError::Invalid(
                        "invalid_subject",
                        format!("`{}` is neither an NID nor a mobile number", clip(s)),
                    ))
                }
            })
            .collect()
    }
}

impl Gateway {
    /// Refuse a suspended officer's every request, with the reason (they authenticate, so the
    /// attempt is audited under their name). Admin credentials and citizens are not officers.
    pub fn ensure_active(&self, p: &Principal) -> Result<(), GatewayError> {
        if p.admin {
            return Ok(());
        }
        match self.snap.read().ok().and_then(|s| s.officers.get(&p.subject).map(|o| o.status == "active")) {
            Some(false) => Err(GatewayError::Denied(vec!["officer_suspended".into()])),
            _ => Ok(()),
        }
    }
}

impl Authenticate for Gateway {
    fn authenticate(&self, token: &str) -> Option<Principal> {
        if token.starts_with("cit_") && token.len() <= 128 {
            return self.citizen_principal(token);
        }
        if !token.starts_with("cst_") || token.len() > 128 {
            return None;
        }
        let sha = token_hash(token);
        let now = self.now();
        let snap = self.snap.read().ok()?;
        let c = snap.creds.get(&sha).filter(|c| !c.revoked && c.expires.is_none_or(|e| now < e))?;
        if c.admin {
            return Some(Principal {
                cred_id: c.id.clone(),
                subject: "admin".into(),
                admin: true,
                roles: vec![],
                unit: String::new(),
                client: None,
            });
        }
        let o = snap.officers.get(&c.subject)?;
        // A suspended officer is still known (what they try is logged under their name) but
        // holds no role: nothing role-gated (oversight, warrants, entry bundles) is open to them.
        let roles = if o.status == "active" { o.roles.clone() } else { vec![] };
        Some(Principal {
            cred_id: c.id.clone(),
            subject: o.id.clone(),
            admin: false,
            roles,
            unit: o.unit.clone(),
            client: None,
        })
    }

    fn unauthenticated(&self, path: &str, reason: &str, client: Option<std::net::IpAddr>) {
        self.note_refused(None, path, reason, client);
    }

    fn refused_certificate(&self, p: &Principal, path: &str, reason: &str, client: Option<std::net::IpAddr>) {
        self.note_refused(Some(p), path, reason, client);
    }
}

fn quota_kind(action: &str) -> Option<&'static str> {
    match action {
        "identity_lookup" => Some("identity_lookup"),
        "cdr_query" => Some("cdr_query"),
        "name_search" => Some("name_search"),
        "routine_check" => Some("routine_check"),
        _ => None,
    }
}

pub(crate) fn clip(s: &str) -> String {
    s.chars().take(60).collect()
}

/// IDs of officers, cases and warrants: 1 to 64 characters with no whitespace or control
/// characters, as they name accounts and records in the audit log, exports and reports.
fn valid_id(id: &str, what: &str) -> Result<(), GatewayError> {
    let n = id.chars().count();
    if !(1..=64).contains(&n) || id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(GatewayError::Invalid(
            "invalid_id",
            format!(
                "{what} `id` must be 1 to 64 characters without spaces or control characters, not {:?}",
                clip(id)
            ),
        ));
    }
    Ok(())
}

/// Names the gateway gives principals that are not officers: the admin credentials and
/// signed-in citizens. An officer of one of these names would share their audit trail and,
/// being looked up by name, lend them an officer's roles and cases.
const RESERVED_SUBJECTS: [&str; 2] = ["admin", "citizen"];

fn validate_officer(o: &Officer) -> Result<(), GatewayError> {
    valid_id(&o.id, "officer")?;
    if RESERVED_SUBJECTS.iter().any(|r| o.id.eq_ignore_ascii_case(r)) {
        return Err(GatewayError::Invalid(
            "reserved_id",
            format!("`{}` names the gateway's own principals and cannot be an officer's ID", clip(&o.id)),
        ));
    }
    if o.name.trim().is_empty() || o.unit.trim().is_empty() {
        return Err(GatewayError::Invalid(
            "invalid_officer",
            "an officer needs a `name` and a `unit`".into(),
        ));
    }
    for r in &o.roles {
        if !custos_store::model::ROLES.contains(&r.as_str()) {
            return Err(GatewayError::Invalid("invalid_role", format!("unknown role `{}`", clip(r))));
        }
    }
    if !matches!(o.status.as_str(), "active" | "suspended") {
        return Err(GatewayError::Invalid(
            "invalid_status",
            "`status` must be `active` or `suspended`".into(),
        ));
    }
    Ok(())
}

/// Hash binding an approval to one exact request (canonical JSON, `approval` removed).
pub fn request_hash(action: &str, requester: &str, body: &Value) -> String {
    let mut b = body.clone();
    if let Some(o) = b.as_object_mut() {
        o.remove("approval");
    }
    sha_hex(&format!("{action}\n{requester}\n{}", canonical(&b)))
}

/// JSON with object keys sorted at every level (independent of the client's key order).
fn canonical(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| format!("{}:{}", Value::String((*k).clone()), canonical(&m[k.as_str()])))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(a) => format!("[{}]", a.iter().map(canonical).collect::<Vec<_>>().join(",")),
        v => v.to_string(),
    }
}

pub(crate) fn parse<T: for<'de> Deserialize<'de>>(body: &Value) -> Result<T, GatewayError> {
    serde_json::from_value(body.clone())
        .map_err(|e| GatewayError::BadRequest("invalid_body", format!("invalid request: {e}")))
}

/// Whether officer `o` may give approvals for requests of an officer of `requester_unit`:
/// a reviewer for any unit, a supervisor for their own (the requester aside; see `approve`).
fn gives_approvals_for(o: &OfficerFacts, requester_unit: Option<&str>) -> bool {
    o.roles.iter().any(|r| r == "reviewer")
        || (o.roles.iter().any(|r| r == "supervisor") && requester_unit == Some(o.unit.as_str()))
}

/// The action an approval is for (`name_search`, `cdr_query`): its summary's first word.
fn approval_action(a: &Approval) -> &str {
    a.summary.split(' ').next().unwrap_or_default()
}

/// Fill an audit entry's case, warrant, purpose and subject commitment from the request an
/// approval is for (a name search's name, or a call-record query's number, as the endpoint
/// itself would commit to them).
fn describe_request(vault: &custos_store::Vault, action: &str, request: &Value, ctx: &mut Ctx) {
    let field = |k: &str| request.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    (ctx.case, ctx.warrant, ctx.purpose) = (field("case"), field("warrant"), field("purpose"));
    let bi = if action == "name_search" {
        Some(vault.blind("name", &field("name").to_lowercase()))
    } else {
        normalize_msisdn(&field("msisdn")).map(|m| vault.blind("msisdn", &m))
    };
    ctx.subjects = bi.map(|b| vec![vault.commit(&b)]).unwrap_or_default();
}

/// [`parse`] for the request an approval is asked for, named as the body's `request`.
fn parse_request<T: for<'de> Deserialize<'de>>(request: &Value) -> Result<T, GatewayError> {
    serde_json::from_value(request.clone())
        .map_err(|e| GatewayError::BadRequest("invalid_body", format!("invalid `request`: {e}")))
}

/// Identity lookup request.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityLookupReq {
    /// National ID (10, 13 or 17 digits).
    pub nid: Option<String>,
    /// Mobile number.
    pub msisdn: Option<String>,
    /// Case (omit for a routine check).
    pub case: Option<String>,
    /// Warrant.
    pub warrant: Option<String>,
    /// Declared purpose.
    pub purpose: String,
}

/// CDR query request.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CdrQueryReq {
    /// Mobile number.
    pub msisdn: String,
    /// Period start (RFC 3339 or Unix seconds).
    pub from: String,
    /// Period end.
    pub to: String,
    /// Case.
    pub case: String,
    /// Warrant.
    pub warrant: String,
    /// Declared purpose.
    pub purpose: String,
    /// Approval ID (when the query needs one).
    pub approval: Option<String>,
}

/// Name search request.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NameSearchReq {
    /// Name (Latin or Bangla).
    pub name: String,
    /// Case.
    pub case: String,
    /// Warrant.
    pub warrant: String,
    /// Declared purpose.
    pub purpose: String,
    /// Approval ID (required).
    pub approval: Option<String>,
}

/// Break-glass request.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BreakGlassReq {
    /// Case.
    pub case: String,
    /// Written justification (at least 20 characters).
    pub justification: String,
    /// Duration in minutes.
    pub minutes: i64,
}

/// Case administration request.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseReq {
    /// Case ID.
    pub id: String,
    /// Unit.
    pub unit: String,
    /// Assigned officers.
    #[serde(default)]
    pub officers: Vec<String>,
    /// Linked subjects (NIDs or MSISDNs; stored as blind indexes).
    #[serde(default)]
    pub subjects: Vec<String>,
    /// Open.
    #[serde(default = "yes")]
    pub open: bool,
    /// Covert.
    #[serde(default)]
    pub covert: bool,
}

fn yes() -> bool {
    true
}

/// An administrative change, made once its audit entry is written (the bool: feed a case's
/// links to the live detector).
enum Change {
    Officer(Officer),
    Credential(Credential),
    RevokeCredential(String),
    Case(Case, bool),
    Warrant(Warrant),
}

/// Closing a break-glass review: the supervisor's finding.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewReq {
    /// The finding (required).
    #[serde(default)]
    pub note: String,
}

/// Token issuing request: an officer's token, or (`admin: true`) an admin credential.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenReq {
    /// The officer the token is for.
    #[serde(default)]
    pub officer: Option<String>,
    /// An admin credential instead of an officer's token.
    #[serde(default)]
    pub admin: Option<bool>,
    /// Days until the token expires (1 to 3650; 90 if not given).
    #[serde(default)]
    pub expires_in_days: Option<i64>,
}

/// Warrant issuing request.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WarrantReq {
    /// Warrant ID.
    pub id: String,
    /// Case.
    pub case: String,
    /// Subjects covered (NIDs or MSISDNs).
    pub subjects: Vec<String>,
    /// Categories: `identity`, `cdr`, `location`.
    pub categories: Vec<String>,
    /// Data period start.
    pub data_from: String,
    /// Data period end.
    pub data_to: String,
    /// Valid from.
    pub valid_from: String,
    /// Valid until.
    pub valid_to: String,
}

fn put(m: &mut Map<String, Value>, k: &str, v: impl Into<Value>) {
    m.insert(k.to_string(), v.into());
}

/// The names of the groups released with identity records (`cdr` false) or call records.
fn released(groups: &[FieldGroup], cdr: bool) -> Vec<String> {
    let of_cdr = |g: &FieldGroup| matches!(g, FieldGroup::Cdr | FieldGroup::Location);
    groups.iter().filter(|g| of_cdr(g) == cdr).map(|g| g.as_str().to_string()).collect()
}

/// The fields of a citizen record the caller may see.
pub fn minimise_citizen(c: &Citizen, groups: &[FieldGroup]) -> Value {
    let mut m = Map::new();
    if groups.contains(&FieldGroup::Basic) {
        put(&mut m, "nid", c.nid.clone());
        put(&mut m, "name_bn", c.name_bn.clone());
        put(&mut m, "name_en", c.name_en.clone());
        put(&mut m, "dob", c.dob.clone());
        put(&mut m, "gender", c.gender.clone());
    }
    if groups.contains(&FieldGroup::Family) {
        put(&mut m, "father", c.father.clone());
        put(&mut m, "mother", c.mother.clone());
    }
    if groups.contains(&FieldGroup::Address) {
        put(&mut m, "division", c.division.clone());
        put(&mut m, "district", c.district.clone());
        put(&mut m, "upazila", c.upazila.clone());
        put(&mut m, "address", c.address.clone());
    }
    if groups.contains(&FieldGroup::Contact) {
        put(&mut m, "msisdns", c.msisdns.clone());
    }
    Value::Object(m)
}

/// The fields of a CDR the caller may see.
pub fn minimise_cdr(c: &Cdr, groups: &[FieldGroup]) -> Value {
    let mut m = Map::new();
    if groups.contains(&FieldGroup::Cdr) {
        put(&mut m, "caller", c.caller.clone());
        put(&mut m, "callee", c.callee.clone());
        put(&mut m, "start", custos_detect::time::format_utc(c.start));
        put(&mut m, "duration", c.duration);
        put(&mut m, "type", c.kind.clone());
    }
    if groups.contains(&FieldGroup::Location) {
        put(&mut m, "cell_id", c.cell_id.clone());
        put(&mut m, "imei", c.imei.clone());
    }
    Value::Object(m)
}
