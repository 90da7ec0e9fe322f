//! The sequencer: one thread that turns queued appends into durable group commits.
//!
//! Callers hash their entries, queue them, and wait on a oneshot. The sequencer takes
//! everything queued (up to the batch limits), assigns consecutive indices, appends the
//! entries, index slots and new hashes, syncs them, signs a checkpoint for the new size,
//! appends and syncs the commit record, publishes the new committed state to readers, and
//! only then answers every caller in the batch. While one batch syncs, the next one queues:
//! many callers share one sync.

use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::Arc;

use custos_tlog::checkpoint::Checkpoint;
use custos_tlog::merkle::{Frontier, Hash};
use custos_tlog::note::Signer;

use crate::files::{CommitRecord, DataWriters};
use crate::{Committed, LogError, Options, Shared};

/// Proof that an entry is in the log: its index, the size of the first checkpoint covering
/// it, and its leaf hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    /// The entry's index.
    pub index: u64,
    /// Size of the signed checkpoint that first covers the entry.
    pub tree_size: u64,
    /// RFC 6962 leaf hash of the entry.
    pub leaf_hash: Hash,
}

pub(crate) type ReplyRx = tokio::sync::oneshot::Receiver<Result<Vec<Receipt>, LogError>>;

pub(crate) struct Request {
    pub(crate) entries: Vec<(Vec<u8>, Hash)>,
    pub(crate) reply: tokio::sync::oneshot::Sender<Result<Vec<Receipt>, LogError>>,
}

/// Queue depth before appenders block (back-pressure).
const QUEUE: usize = 1 << 16;

pub(crate) fn start(
    shared: Arc<Shared>,
    signer: Signer,
    frontier: Frontier,
    opts: Options,
) -> Result<(SyncSender<Request>, std::thread::JoinHandle<()>), LogError> {
    let (tx, rx) = std::sync::mpsc::sync_channel(QUEUE);
    let writers = shared.files.data_writers()?;
    let join = std::thread::Builder::new()
        .name("custos-log-sequencer".into())
        .spawn(move || run(&shared, &signer, &writers, frontier, &opts, &rx))
        .map_err(|e| LogError::State(format!("cannot start the sequencer thread: {e}")))?;
    Ok((tx, join))
}

fn run(
    shared: &Shared,
    signer: &Signer,
    writers: &DataWriters,
    mut frontier: Frontier,
    opts: &Options,
    rx: &Receiver<Request>,
) {
    let mut entries_len =
        shared.committed.read().map(|c| c.entries_len).unwrap_or_else(|p| p.into_inner().entries_len);
    let mut batch: Vec<Request> = Vec::new();
    let (mut ebuf, mut ibuf, mut hbuf) = (Vec::new(), Vec::new(), Vec::new());
    while let Ok(first) = rx.recv() {
        let mut n = first.entries.len();
        let mut bytes: usize = first.entries.iter().map(|(e, _)| e.len()).sum();
        batch.push(first);
        while n < opts.max_batch_entries && bytes < opts.max_batch_bytes {
            match rx.try_recv() {
                Ok(r) => {
                    n += r.entries.len();
                    bytes += r.entries.iter().map(|(e, _)| e.len()).sum::<usize>();
                    batch.push(r);
                }
                Err(_) => break,
            }
        }
        if let Some(why) = shared.failed.read().ok().and_then(|f| f.clone()) {
            for r in batch.drain(..) {
                let _ = r.reply.send(Err(LogError::Unavailable(why.clone())));
            }
            continue;
        }
        ebuf.clear();
        ibuf.clear();
        hbuf.clear();
        let before = frontier.clone();
        let mut receipts: Vec<Vec<Receipt>> = Vec::with_capacity(batch.len());
        let mut off = entries_len;
        for r in &batch {
            let mut rs = Vec::with_capacity(r.entries.len());
            for (e, h) in &r.entries {
                ibuf.extend_from_slice(&off.to_le_bytes());
                // Length checked by the caller (<= u16::MAX).
                ebuf.extend_from_slice(&(e.len() as u16).to_be_bytes());
                ebuf.extend_from_slice(e);
                off += 2 + e.len() as u64;
                rs.push(Receipt { index: frontier.size(), tree_size: 0, leaf_hash: *h });
                frontier.push(*h, |_, _, node| hbuf.extend_from_slice(node));
            }
            receipts.push(rs);
        }
        let size = frontier.size();
        let root = frontier.root();
        let result = commit(shared, signer, writers, &ebuf, &mut ibuf, &mut hbuf, size, off, root);
        match result {
            Ok(checkpoint) => {
                entries_len = off;
                match shared.committed.write() {
                    Ok(mut c) => *c = Committed { size, entries_len, root, checkpoint },
                    Err(p) => *p.into_inner() = Committed { size, entries_len, root, checkpoint },
                }
                for (r, mut rs) in batch.drain(..).zip(receipts) {
                    for x in &mut rs {
                        x.tree_size = size;
                    }
                    let _ = r.reply.send(Ok(rs));
                }
            }
            Err(e) => {
                // Fail closed: stop accepting appends; what was written past the last commit
                // is cut off on the next open.
                let why = e.to_string();
                tracing::error!(error = %why, "audit log write failed; refusing further appends");
                if let Ok(mut f) = shared.failed.write() {
                    *f = Some(why.clone());
                }
                frontier = before;
                for r in batch.drain(..) {
                    let _ = r.reply.send(Err(LogError::Unavailable(why.clone())));
                }
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn commit(
    shared: &Shared,
    signer: &Signer,
    writers: &DataWriters,
    ebuf: &[u8],
    ibuf: &mut Vec<u8>,
    hbuf: &mut Vec<u8>,
    size: u64,
    entries_len: u64,
    root: Hash,
) -> Result<String, LogError> {
    shared.files.append_data(writers, ebuf, ibuf, hbuf)?;
    let cp = Checkpoint { origin: shared.origin.clone(), size, root, extensions: vec![] };
    let checkpoint = signer.sign(&cp.to_text())?;
    shared.files.append_commit(&CommitRecord { size, entries_len, root, checkpoint: checkpoint.clone() })?;
    Ok(checkpoint)
}
