//! Several gateways over one PostgreSQL store share one audit log.
//!
//! A request's entry is submitted to the database (durable there before anything else happens),
//! one elected sequencer among the replicas gives it its index ([`custos_store::pglog`]), and
//! every replica mirrors the sequenced entries, in order, into its own tile store — the same
//! leaves in the same order, so the same tiles and the same signed checkpoints on every replica.
//! The request is answered once its entry is in this replica's mirror, with the final receipt;
//! if that does not happen within [`INTEGRATION_TIMEOUT`], the request fails closed (503) and the
//! entry still lands in the log.
//!
//! The live detector is fed from the mirror, not from the requests, so every replica's detector
//! sees every event of every replica exactly once, in log order; after a restart it is rebuilt
//! from the mirror like before. An administrative change or a break-glass grant made on any
//! replica reaches every replica's snapshot when its entry is mirrored.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use custos_logstore::Receipt;
use custos_store::StoreError;

use crate::audit::AuditEntry;
use crate::service::{internal, parse_when, Gateway, GatewayError};

/// How long a request waits for its entry to be sequenced and mirrored.
pub const INTEGRATION_TIMEOUT: Duration = Duration::from_secs(10);
/// Entries fetched per mirror round and sequenced per transaction.
const BATCH: usize = 4096;
/// Receipts kept for entries nobody here waits for (other replicas', or not yet awaited).
const KEEP_DONE: usize = 65_536;
/// Polling when idle backs off from 1 ms to this, and returns to 1 ms at the first entry.
const IDLE_MAX: Duration = Duration::from_millis(20);

/// Meta key whose value changes with every change to what a gateway's snapshot holds
/// (officers, credentials, cases, warrants, break-glass grants).
pub(crate) const SNAPSHOT_VERSION: &str = "snapshot_version";
/// How often a replica looks whether another has changed the snapshot.
const SNAPSHOT_POLL: Duration = Duration::from_millis(100);

fn backoff(idle: &mut Duration) {
    std::thread::sleep(*idle);
    *idle = (*idle * 2).min(IDLE_MAX);
}

/// Upper bounds (µs) of the merge-delay histogram's buckets; the last is open.
const DELAY_BOUNDS_US: [u64; 11] =
    [500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000];

/// An entry to submit, its time, and where its pending ID goes.
type Submission = (Vec<u8>, i64, tokio::sync::oneshot::Sender<Result<i64, String>>);

/// This replica's side of the shared log.
#[derive(Debug, Default)]
pub struct SharedLog {
    waiters: Mutex<Waiters>,
    /// To the submitter thread, which writes entries in groups (one commit for many).
    submit: std::sync::OnceLock<std::sync::mpsc::Sender<Submission>>,
    leader: AtomicBool,
    /// Merge delays seen by this replica's requests (submitted → in the mirror), per bucket.
    delays: [AtomicU64; 12],
    /// This replica's name (shown as the leader while it sequences).
    pub name: String,
}

#[derive(Debug, Default)]
struct Waiters {
    waiting: HashMap<i64, tokio::sync::oneshot::Sender<Receipt>>,
    done: BTreeMap<i64, Receipt>,
}

impl SharedLog {
    /// Whether this replica is the sequencer now.
    pub fn is_leader(&self) -> bool {
        self.leader.load(Ordering::Relaxed)
    }

    /// The merge delay of this replica's requests: count, and upper bounds of the median, the
    /// 99th percentile and the largest (in milliseconds; `null` past the last bucket, 1 s).
    pub fn merge_delay(&self) -> serde_json::Value {
        let counts: Vec<u64> = self.delays.iter().map(|c| c.load(Ordering::Relaxed)).collect();
        let total: u64 = counts.iter().sum();
        let bound = |i: usize| DELAY_BOUNDS_US.get(i).map(|us| *us as f64 / 1000.0);
        let quantile = |q: f64| {
            let want = (q * total as f64).ceil().max(1.0) as u64;
            let mut seen = 0;
            for (i, c) in counts.iter().enumerate() {
                seen += c;
                if seen >= want {
                    return bound(i);
                }
            }
            None
        };
        let max = counts.iter().rposition(|c| *c > 0).and_then(bound);
        serde_json::json!({
            "count": total,
            "p50_ms_at_most": if total > 0 { quantile(0.5) } else { None },
            "p99_ms_at_most": if total > 0 { quantile(0.99) } else { None },
            "max_ms_at_most": max,
        })
    }

    fn record_delay(&self, d: Duration) {
        let us = d.as_micros() as u64;
        let i = DELAY_BOUNDS_US.iter().position(|b| us <= *b).unwrap_or(DELAY_BOUNDS_US.len());
        self.delays[i].fetch_add(1, Ordering::Relaxed);
    }

    /// Submit an entry, durably (with whatever else was submitted at the same moment, in one
    /// commit); its pending ID.
    pub(crate) async fn submit(&self, leaf: Vec<u8>, at: i64) -> Result<i64, GatewayError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let sender = self.submit.get().ok_or(GatewayError::AuditUnavailable)?;
        sender.send((leaf, at, tx)).map_err(|_| GatewayError::AuditUnavailable)?;
        match rx.await {
            Ok(Ok(id)) => Ok(id),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "shared audit submit failed: failing closed");
                Err(GatewayError::AuditUnavailable)
            }
            Err(_) => Err(GatewayError::AuditUnavailable),
        }
    }

    /// Submit an entry without waiting for it (best effort: unauthenticated attempts).
    pub(crate) fn submit_detached(&self, leaf: Vec<u8>, at: i64) {
        let (tx, _) = tokio::sync::oneshot::channel();
        if self.submit.get().is_none_or(|s| s.send((leaf, at, tx)).is_err()) {
            tracing::warn!("unauthenticated attempt not logged: the submitter has stopped");
        }
    }

    /// Wait for the receipt of the entry submitted as `pending`.
    pub(crate) async fn receipt(&self, pending: i64) -> Result<Receipt, GatewayError> {
        let started = std::time::Instant::now();
        let r = self.wait(pending).await;
        if r.is_ok() {
            self.record_delay(started.elapsed());
        }
        r
    }

    async fn wait(&self, pending: i64) -> Result<Receipt, GatewayError> {
        let rx = {
            let mut w = self.waiters.lock().map_err(|_| internal("waiters lock"))?;
            if let Some(r) = w.done.remove(&pending) {
                return Ok(r);
            }
            let (tx, rx) = tokio::sync::oneshot::channel();
            w.waiting.insert(pending, tx);
            rx
        };
        match tokio::time::timeout(INTEGRATION_TIMEOUT, rx).await {
            Ok(Ok(r)) => Ok(r),
            _ => {
                if let Ok(mut w) = self.waiters.lock() {
                    w.waiting.remove(&pending);
                }
                tracing::error!(pending, "audit entry not sequenced in time: failing closed");
                Err(GatewayError::AuditUnavailable)
            }
        }
    }

    fn integrated(&self, pending: i64, r: Receipt) {
        let Ok(mut w) = self.waiters.lock() else { return };
        match w.waiting.remove(&pending) {
            Some(tx) => {
                let _ = tx.send(r);
            }
            None => {
                w.done.insert(pending, r);
                while w.done.len() > KEEP_DONE {
                    w.done.pop_first();
                }
            }
        }
    }
}

impl Gateway {
    /// Join the log shared through the store, if the store keeps one (PostgreSQL): check this
    /// data directory's log is a prefix of it (or seed an empty shared log with it), then start
    /// the mirror and a sequencer candidate. Without a shared store it does nothing.
    pub fn start_shared_log(self: &Arc<Self>, name: &str) -> Result<(), GatewayError> {
        let store = self.registry.store();
        if !store.shared() {
            return Ok(());
        }
        let local = self.log.committed().size;
        let (size, ..) = store.log_state().map_err(db)?;
        if size == 0 && local > 0 {
            let mut leaves = Vec::with_capacity(local as usize);
            for i in 0..local {
                leaves.push(self.log.entry(i).map_err(internal)?.unwrap_or_default());
            }
            if store.log_adopt(leaves).map_err(db)? {
                tracing::info!(entries = local, "the shared log starts from this data directory's log");
            }
        }
        let (size, ..) = store.log_state().map_err(db)?;
        if local > size {
            return Err(GatewayError::Internal(format!(
                "this data directory's audit log has {local} entries, the shared log only {size}: refusing to serve from a diverged log"
            )));
        }
        if local > 0 {
            let mine = self.log.entry(local - 1).map_err(internal)?;
            let theirs = store.log_entries(local - 1, 1).map_err(db)?.pop().map(|r| r.2);
            if mine != theirs {
                return Err(GatewayError::Internal(format!(
                    "entry {} of this data directory's audit log differs from the shared log's: refusing to serve from a diverged log",
                    local - 1
                )));
            }
        }
        let shared = Arc::new(SharedLog { name: name.to_string(), ..SharedLog::default() });
        let (tx, rx) = std::sync::mpsc::channel::<Submission>();
        let _ = shared.submit.set(tx);
        let weak = Arc::downgrade(self);
        std::thread::Builder::new()
            .name("custos-submit".into())
            .spawn(move || submitter(weak, rx))
            .map_err(|e| GatewayError::Internal(format!("cannot start the log submitter: {e}")))?;
        self.shared_log
            .set(shared.clone())
            .map_err(|_| GatewayError::Internal("the shared log is already started".into()))?;
        let weak = Arc::downgrade(self);
        std::thread::Builder::new()
            .name("custos-mirror".into())
            .spawn(move || mirror(weak, shared))
            .map_err(|e| GatewayError::Internal(format!("cannot start the log mirror: {e}")))?;
        let weak = Arc::downgrade(self);
        let name = name.to_string();
        std::thread::Builder::new()
            .name("custos-sequencer".into())
            .spawn(move || sequencer(weak, &name))
            .map_err(|e| GatewayError::Internal(format!("cannot start the sequencer: {e}")))?;
        Ok(())
    }
}

fn db(e: StoreError) -> GatewayError {
    GatewayError::Internal(format!("shared log: {e}"))
}

/// Write submitted entries in groups: everything waiting when the previous commit ends goes
/// into the next one.
fn submitter(weak: Weak<Gateway>, rx: std::sync::mpsc::Receiver<Submission>) {
    let mut conn = None;
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(s) => batch.push(s),
                Err(_) => break,
            }
        }
        if conn.is_none() {
            let Some(g) = weak.upgrade() else { return };
            conn = match g.registry.store().log_submitter() {
                Ok(c) => c,
                Err(e) => {
                    for (.., tx) in batch {
                        let _ = tx.send(Err(e.to_string()));
                    }
                    drop(g);
                    std::thread::sleep(Duration::from_millis(200));
                    continue;
                }
            };
        }
        let Some(c) = conn.as_mut() else { return };
        let (mut leaves, mut ats, mut txs) = (Vec::new(), Vec::new(), Vec::new());
        for (leaf, at, tx) in batch {
            leaves.push(leaf);
            ats.push(at);
            txs.push(tx);
        }
        match c.submit(&leaves, &ats) {
            Ok(ids) => {
                for (tx, id) in txs.into_iter().zip(ids) {
                    let _ = tx.send(Ok(id));
                }
            }
            Err(e) => {
                conn = None;
                for tx in txs {
                    let _ = tx.send(Err(e.to_string()));
                }
            }
        }
    }
}

/// Copy sequenced entries into the local tile store, in order; feed the detector; wake the
/// requests waiting for them.
fn mirror(weak: Weak<Gateway>, shared: Arc<SharedLog>) {
    let mut idle = Duration::from_millis(1);
    // Administrative changes are stored after their entry is in the log, so a replica reads
    // the snapshot again when the announced version moves, not when it sees the entry.
    let mut version =
        weak.upgrade().and_then(|g| g.registry.store().meta_get(SNAPSHOT_VERSION).ok().flatten());
    let mut polled = std::time::Instant::now();
    loop {
        let Some(g) = weak.upgrade() else { return };
        if polled.elapsed() >= SNAPSHOT_POLL {
            polled = std::time::Instant::now();
            if let Ok(v) = g.registry.store().meta_get(SNAPSHOT_VERSION) {
                if v != version {
                    match g.reload() {
                        Ok(()) => version = v,
                        Err(e) => {
                            tracing::warn!(error = %e, "shared log: cannot reload the snapshot after a change")
                        }
                    }
                }
            }
        }
        let from = g.log.committed().size;
        let rows = match g.registry.store().log_entries(from, BATCH) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "shared log: cannot read sequenced entries; retrying");
                drop(g);
                std::thread::sleep(Duration::from_millis(200));
                continue;
            }
        };
        if rows.is_empty() {
            drop(g);
            backoff(&mut idle);
            continue;
        }
        idle = Duration::from_millis(1);
        let leaves: Vec<Vec<u8>> = rows.iter().map(|r| r.2.clone()).collect();
        let receipts = match g.log.append_batch(leaves) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "shared log: cannot write the mirror; retrying");
                drop(g);
                std::thread::sleep(Duration::from_millis(200));
                continue;
            }
        };
        for ((idx, pending, leaf), r) in rows.iter().zip(receipts) {
            if r.index != *idx {
                // Cannot happen while this process is the only writer of its mirror.
                g.log.halt(&format!("mirror index {} for shared index {idx}", r.index));
                tracing::error!(local = r.index, shared = idx, "shared log: the mirror diverged; halted");
                return;
            }
            if let Ok(e) = serde_json::from_slice::<AuditEntry>(leaf) {
                if let Some(t) = parse_when(&e.time) {
                    g.committed(*idx, &e, t);
                }
            }
            shared.integrated(*pending, r);
        }
    }
}

/// Stand for leader; while leading, sequence pending entries as they come.
fn sequencer(weak: Weak<Gateway>, name: &str) {
    let mut seq = None;
    let mut idle = Duration::from_millis(1);
    loop {
        let Some(g) = weak.upgrade() else { return };
        let Some(shared) = g.shared_log.get().cloned() else { return };
        if seq.is_none() {
            seq = match g.registry.store().log_sequencer(name) {
                Ok(Some(s)) => Some(s),
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "shared log: sequencer cannot connect; retrying");
                    drop(g);
                    std::thread::sleep(Duration::from_millis(500));
                    continue;
                }
            };
        }
        drop(g);
        let Some(s) = seq.as_mut() else { continue };
        if s.epoch().is_none() {
            shared.leader.store(false, Ordering::Relaxed);
            match s.try_lead() {
                Ok(true) => {
                    tracing::info!(epoch = ?s.epoch(), "shared log: this replica is the sequencer");
                    shared.leader.store(true, Ordering::Relaxed);
                }
                Ok(false) => std::thread::sleep(Duration::from_millis(100)),
                Err(e) => {
                    tracing::warn!(error = %e, "shared log: election failed; reconnecting");
                    seq = None;
                    std::thread::sleep(Duration::from_millis(500));
                }
            }
            continue;
        }
        match s.sequence(BATCH) {
            Ok(0) => backoff(&mut idle),
            Ok(_) => idle = Duration::from_millis(1),
            Err(StoreError::Conflict(why)) => {
                tracing::warn!(%why, "shared log: another replica leads now");
                shared.leader.store(false, Ordering::Relaxed);
            }
            Err(e) => {
                tracing::warn!(error = %e, "shared log: sequencing failed; standing again");
                shared.leader.store(false, Ordering::Relaxed);
                seq = None;
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_delay_quantiles_are_bucket_upper_bounds() {
        let s = SharedLog::default();
        assert_eq!(s.merge_delay()["count"], 0);
        assert!(s.merge_delay()["p50_ms_at_most"].is_null());
        for ms in [0.3, 0.8, 0.9, 1.5, 3.0, 3.0, 4.0, 40.0, 45.0, 700.0] {
            s.record_delay(Duration::from_secs_f64(ms / 1000.0));
        }
        s.record_delay(Duration::from_secs(3));
        let m = s.merge_delay();
        assert_eq!(m["count"], 11);
        assert_eq!(m["p50_ms_at_most"], 5.0);
        assert_eq!(m["p99_ms_at_most"], serde_json::Value::Null, "past the last bucket");
        assert!(m["max_ms_at_most"].is_null());
    }

    #[tokio::test]
    async fn a_receipt_integrated_before_its_request_waits_is_kept_for_it() {
        let s = SharedLog::default();
        let r = Receipt { index: 7, tree_size: 8, leaf_hash: [1; 32] };
        s.integrated(42, r);
        assert_eq!(s.receipt(42).await.ok(), Some(r));
        // One integrated while waiting.
        let s = Arc::new(s);
        let s2 = s.clone();
        let waiter = tokio::spawn(async move { s2.receipt(43).await.ok() });
        tokio::time::sleep(Duration::from_millis(20)).await;
        s.integrated(43, Receipt { index: 8, ..r });
        assert_eq!(waiter.await.unwrap().map(|x| x.index), Some(8));
    }
}
