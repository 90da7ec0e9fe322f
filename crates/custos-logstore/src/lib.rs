//! Durable storage of the Custos audit log, with group commit and crash recovery.
//!
//! # Layout (`DIR/log/`)
//!
//! | file | content | grows by |
//! |---|---|---|
//! | `entries.dat` | every entry as `u16 BE length ‖ bytes`: the concatenation of all entry bundles | append |
//! | `index.dat` | `u64 LE` byte offset in `entries.dat` of every entry | append |
//! | `hashes.dat` | every complete Merkle node hash, in storage order ([`custos_tlog::merkle::stored_hash_index`]) | append |
//! | `commits.log` | one CRC-protected record per durable commit: size, entry bytes, root, signed checkpoint | append |
//! | `log.key` | the log's signing key (private key text, mode 0600) | written once |
//!
//! Tiles are views of these files: an entry bundle is a contiguous slice of `entries.dat`, a
//! hash tile gathers 256 hashes of one tree level from `hashes.dat`. Nothing is ever
//! rewritten, so a full tile is immutable once written.
//!
//! # Durability (invariants)
//!
//! - An index is returned to a caller only after its entry, its index slot, every hash its
//!   leaf completes, and a commit record naming a size that covers it are on disk (fsync'd).
//! - The commit record is written only after the data it covers is durable, so the last
//!   valid commit record always describes a complete prefix of the data files.
//! - On open, bytes past the last commit are uncommitted (never acknowledged) and are cut
//!   off; a commit record cut short by a crash fails its CRC and is dropped with them.
//! - Readers only ever see the committed prefix, so no torn or half-written tile is served.
//! - The store refuses to open (and so to sign) if the hashes on disk do not recompute to
//!   the last signed root: it never signs a checkpoint inconsistent with an earlier one.
//! - After any write error the store stops accepting appends (fail-closed) until reopened.

mod files;
mod seq;

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use custos_tlog::checkpoint::Checkpoint;
use custos_tlog::merkle::{self, Hash, HashReader, ProofError};
use custos_tlog::note::{self, Signer, Verifier, ALG_ED25519};
use custos_tlog::tile::{Tile, MAX_ENTRY_BYTES};

pub use files::{read_commits, CommitRecord, StoreFiles};
pub use seq::Receipt;

/// An entry queued for appending (see [`LogStore::append_pending`]); resolves to its receipt
/// once durable.
#[derive(Debug)]
pub struct PendingAppend(seq::ReplyRx);

impl std::future::Future for PendingAppend {
    type Output = Result<Receipt, LogError>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0).poll(cx).map(|r| {
            r.map_err(|_| LogError::Unavailable("sequencer stopped".into()))??
                .into_iter()
                .next()
                .ok_or_else(|| LogError::State("empty receipt".into()))
        })
    }
}

/// Errors from the log store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// An entry is larger than a bundle can hold.
    #[error("entry of {0} bytes is larger than the 65535-byte limit")]
    EntryTooLarge(usize),
    /// A filesystem operation failed.
    #[error("log storage i/o on `{path}`: {error}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error (in the message, so not also a `source` that a report of the
        /// error chain would print a second time).
        error: std::io::Error,
    },
    /// The stored log is inconsistent (damaged or tampered with).
    #[error("log store is corrupt: {0}")]
    Corrupt(String),
    /// The store was asked to do something its state does not allow.
    #[error("{0}")]
    State(String),
    /// The store stopped accepting appends after a write failure (fail-closed).
    #[error("audit log is unavailable: {0}")]
    Unavailable(String),
    /// A signing key could not be parsed.
    #[error(transparent)]
    Key(#[from] note::NoteError),
    /// A proof could not be built.
    #[error(transparent)]
    Proof(#[from] ProofError),
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> LogError + '_ {
    move |error| LogError::Io { path: path.to_path_buf(), error }
}

/// Write a file atomically: write a temporary file, fsync it, rename over, fsync the folder.
pub fn atomic_write(path: &Path, bytes: &[u8], private: bool) -> Result<(), LogError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = path.with_extension("tmp");
    {
        let mut opts = OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        if private {
            use std::os::unix::fs::OpenOptionsExt as _;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp).map_err(io_err(&tmp))?;
        f.write_all(bytes).map_err(io_err(&tmp))?;
        f.sync_all().map_err(io_err(&tmp))?;
    }
    fs::rename(&tmp, path).map_err(io_err(path))?;
    File::open(dir).and_then(|d| d.sync_all()).map_err(io_err(dir))?;
    Ok(())
}

/// Fill a buffer with OS randomness.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], LogError> {
    let mut b = [0u8; N];
    getrandom::getrandom(&mut b)
        .map_err(|e| LogError::State(format!("the operating system gave no randomness: {e}")))?;
    Ok(b)
}

/// The state of the committed log, as readers see it.
#[derive(Debug, Clone)]
pub struct Committed {
    /// Tree size.
    pub size: u64,
    /// Bytes of `entries.dat` covered.
    pub entries_len: u64,
    /// Root hash.
    pub root: Hash,
    /// The signed checkpoint note for `size`.
    pub checkpoint: String,
}

/// Options for opening a log store.
#[derive(Debug, Clone)]
pub struct Options {
    /// The most entries sequenced into one commit.
    pub max_batch_entries: usize,
    /// The most entry bytes sequenced into one commit.
    pub max_batch_bytes: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self { max_batch_entries: 1 << 16, max_batch_bytes: 64 << 20 }
    }
}

/// An open, appendable audit log.
///
/// Cheap to clone; all clones share one sequencer thread, which stops when the last clone
/// is dropped.
#[derive(Clone)]
pub struct LogStore {
    shared: Arc<Shared>,
    seq: Arc<Sequencer>,
}

pub(crate) struct Shared {
    pub(crate) files: StoreFiles,
    pub(crate) committed: RwLock<Committed>,
    pub(crate) origin: String,
    pub(crate) verifier: Verifier,
    pub(crate) failed: RwLock<Option<String>>,
}

/// A thread fed through a bounded queue. Dropped, it closes the queue and waits for the thread
/// to finish what it was given.
pub(crate) struct Worker<T> {
    tx: Option<std::sync::mpsc::SyncSender<T>>,
    join: Option<std::thread::JoinHandle<()>>,
}

impl<T> Worker<T> {
    pub(crate) fn new(tx: std::sync::mpsc::SyncSender<T>, join: std::thread::JoinHandle<()>) -> Self {
        Self { tx: Some(tx), join: Some(join) }
    }

    /// Hand the thread a job; `None` if it has stopped.
    pub(crate) fn send(&self, job: T) -> Option<()> {
        self.tx.as_ref()?.send(job).ok()
    }
}

impl<T> Drop for Worker<T> {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(j) = self.join.take() {
            let _ = j.join();
        }
    }
}

/// The sequencer's handle. Dropped with the last [`LogStore`] clone: it closes the queue,
/// waits for the sequencer to finish, and only then (fields drop in order) releases the
/// process lock.
struct Sequencer {
    worker: Worker<seq::Request>,
    /// One writer process per log; the OS drops the lock if the process dies.
    _lock: File,
}

impl std::fmt::Debug for LogStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogStore").field("origin", &self.shared.origin).finish_non_exhaustive()
    }
}

/// The folder of the log inside a data directory.
pub fn log_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("log")
}

impl LogStore {
    /// Create a new, empty log in `data_dir/log` with a fresh Ed25519 key named `origin`, and
    /// commit the signed checkpoint of the empty tree. Refuses an existing log.
    pub fn init(data_dir: &Path, origin: &str) -> Result<Verifier, LogError> {
        let dir = log_dir(data_dir);
        if dir.join("commits.log").exists() {
            return Err(LogError::State(format!("a log already exists in `{}`", dir.display())));
        }
        // The origin is checked (as the key's name) before anything is created.
        let signer = Signer::from_seed(origin, ALG_ED25519, random_bytes::<32>()?)?;
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        atomic_write(&dir.join("log.key"), format!("{}\n", signer.private_key_text()).as_bytes(), true)?;
        let files = StoreFiles::create(&dir)?;
        let cp = Checkpoint {
            origin: origin.to_string(),
            size: 0,
            root: merkle::empty_root(),
            extensions: vec![],
        };
        let note = signer.sign(&cp.to_text())?;
        files.append_commit(&CommitRecord { size: 0, entries_len: 0, root: cp.root, checkpoint: note })?;
        File::open(&dir).and_then(|d| d.sync_all()).map_err(io_err(&dir))?;
        Ok(signer.verifier())
    }

    /// Whether another process (or another handle in this one) has the log in `data_dir` open
    /// for appending: a running server. False where there is no log.
    pub fn in_use(data_dir: &Path) -> bool {
        let Ok(f) = OpenOptions::new().write(true).open(log_dir(data_dir).join("lock")) else { return false };
        matches!(f.try_lock(), Err(std::fs::TryLockError::WouldBlock))
    }

    /// Open the log in `data_dir/log`, recover from any crash, and start the sequencer.
    pub fn open(data_dir: &Path, opts: Options) -> Result<Self, LogError> {
        let dir = log_dir(data_dir);
        let key_path = dir.join("log.key");
        let key_text = fs::read_to_string(&key_path).map_err(io_err(&key_path))?;
        let signer = Signer::from_private_key_text(&key_text)?;
        // One process appends to a log at a time; the OS drops the lock if it dies.
        let lock_path = dir.join("lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(LogError::State(format!(
                    "the audit log in `{}` is in use by another process (a running `custos serve`?); use the HTTP API or stop it first",
                    dir.display()
                )))
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io_err(&lock_path)(e)),
        }
        let (files, last) = StoreFiles::open_and_recover(&dir)?;
        let verifier = signer.verifier();
        // Never build on a state that does not match the last signed checkpoint.
        let (note, _) = note::open(&last.checkpoint, std::slice::from_ref(&verifier))
            .map_err(|e| LogError::Corrupt(format!("last checkpoint does not verify: {e}")))?;
        let cp = Checkpoint::parse(&note.text).map_err(|e| LogError::Corrupt(e.to_string()))?;
        if cp.size != last.size || cp.root != last.root {
            return Err(LogError::Corrupt("commit record disagrees with its checkpoint".into()));
        }
        let frontier = merkle::Frontier::from_reader(&files.reader(last.size), last.size)?;
        if frontier.root() != last.root {
            return Err(LogError::Corrupt(format!(
                "stored hashes recompute to a different root than the checkpoint of size {}; run `custos audit verify`",
                last.size
            )));
        }
        let shared = Arc::new(Shared {
            files,
            committed: RwLock::new(Committed {
                size: last.size,
                entries_len: last.entries_len,
                root: last.root,
                checkpoint: last.checkpoint,
            }),
            origin: cp.origin,
            verifier,
            failed: RwLock::new(None),
        });
        let (tx, join) = seq::start(shared.clone(), signer, frontier, opts)?;
        Ok(Self { shared, seq: Arc::new(Sequencer { worker: Worker::new(tx, join), _lock: lock }) })
    }

    /// The log's verifier key.
    pub fn verifier(&self) -> &Verifier {
        &self.shared.verifier
    }

    /// The log's origin line.
    pub fn origin(&self) -> &str {
        &self.shared.origin
    }

    /// A snapshot of the committed state.
    pub fn committed(&self) -> Committed {
        match self.shared.committed.read() {
            Ok(c) => c.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Append one entry and wait until it is durable.
    pub fn append(&self, entry: Vec<u8>) -> Result<Receipt, LogError> {
        let rx = self.submit(vec![entry])?;
        let r = rx.blocking_recv().map_err(|_| LogError::Unavailable("sequencer stopped".into()))??;
        r.into_iter().next().ok_or_else(|| LogError::State("empty receipt".into()))
    }

    /// Append one entry; resolves once it is durable.
    pub async fn append_async(&self, entry: Vec<u8>) -> Result<Receipt, LogError> {
        self.append_pending(entry)?.await
    }

    /// Queue one entry for appending: the entry is on its way to the log whether or not the
    /// returned future is awaited (or dropped); awaited, it resolves once the entry is durable.
    pub fn append_pending(&self, entry: Vec<u8>) -> Result<PendingAppend, LogError> {
        Ok(PendingAppend(self.submit(vec![entry])?))
    }

    /// Append many entries (kept consecutive) and wait until all are durable.
    pub fn append_batch(&self, entries: Vec<Vec<u8>>) -> Result<Vec<Receipt>, LogError> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let rx = self.submit(entries)?;
        rx.blocking_recv().map_err(|_| LogError::Unavailable("sequencer stopped".into()))?
    }

    /// Stop accepting appends (as after a write failure) until the store is reopened. Used by
    /// operators who must freeze the log, and by the fail-closed tests.
    pub fn halt(&self, reason: &str) {
        if let Ok(mut f) = self.shared.failed.write() {
            *f = Some(reason.to_string());
        }
    }

    /// Why the store refuses appends (after a write failure or [`LogStore::halt`]), or `None`
    /// while it takes them.
    pub fn unavailable(&self) -> Option<String> {
        match self.shared.failed.read() {
            Ok(f) => f.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    fn submit(&self, entries: Vec<Vec<u8>>) -> Result<seq::ReplyRx, LogError> {
        if let Some(e) = entries.iter().find(|e| e.len() > MAX_ENTRY_BYTES) {
            return Err(LogError::EntryTooLarge(e.len()));
        }
        if let Ok(f) = self.shared.failed.read() {
            if let Some(why) = f.as_ref() {
                return Err(LogError::Unavailable(why.clone()));
            }
        }
        let hashed = entries
            .into_iter()
            .map(|e| {
                let h = merkle::leaf_hash(&e);
                (e, h)
            })
            .collect();
        let (reply, rx) = tokio::sync::oneshot::channel();
        self.seq
            .worker
            .send(seq::Request { entries: hashed, reply })
            .ok_or_else(|| LogError::Unavailable("sequencer stopped".into()))?;
        Ok(rx)
    }

    /// A hash reader over the committed tree.
    pub fn reader(&self) -> files::FileHashes<'_> {
        self.shared.files.reader(self.committed().size)
    }

    /// Bytes of a tile or entry bundle, if it exists in the committed tree.
    pub fn tile(&self, tile: &Tile) -> Result<Option<Vec<u8>>, LogError> {
        let c = self.committed();
        if !tile.exists_in(c.size) {
            return Ok(None);
        }
        self.shared.files.read_tile(tile, c.size, c.entries_len).map(Some)
    }

    /// The entry at `index` of the committed log.
    pub fn entry(&self, index: u64) -> Result<Option<Vec<u8>>, LogError> {
        let c = self.committed();
        if index >= c.size {
            return Ok(None);
        }
        self.shared.files.read_entry(index, c.size, c.entries_len).map(Some)
    }

    /// Inclusion proof of `index` in the tree of `size` (default: the committed size).
    pub fn inclusion_proof(&self, index: u64, size: Option<u64>) -> Result<(u64, Vec<Hash>), LogError> {
        let c = self.committed();
        let size = size.unwrap_or(c.size);
        if size > c.size {
            return Err(LogError::State(format!("size {size} is beyond the log's size {}", c.size)));
        }
        let r = self.shared.files.reader(c.size);
        Ok((size, merkle::inclusion_proof(&r, index, size)?))
    }

    /// Consistency proof from `old` to `new` (default: the committed size).
    pub fn consistency_proof(&self, old: u64, new: Option<u64>) -> Result<(u64, Vec<Hash>), LogError> {
        let c = self.committed();
        let new = new.unwrap_or(c.size);
        if new > c.size {
            return Err(LogError::State(format!("size {new} is beyond the log's size {}", c.size)));
        }
        let r = self.shared.files.reader(c.size);
        Ok((new, merkle::consistency_proof(&r, old, new)?))
    }

    /// Root hash of the tree of `size` (at most the committed size).
    pub fn root_at(&self, size: u64) -> Result<Hash, LogError> {
        let c = self.committed();
        if size > c.size {
            return Err(LogError::State(format!("size {size} is beyond the log's size {}", c.size)));
        }
        Ok(merkle::tree_hash(&self.shared.files.reader(c.size), size)?)
    }
}

impl HashReader for files::FileHashes<'_> {
    fn node(&self, level: u8, index: u64) -> Result<Hash, ProofError> {
        self.node_hash(level, index)
    }
}

/// A [`custos_tlog::verify::TileFetcher`] reading a log's files directly, read-only.
#[derive(Debug)]
pub struct DirTiles {
    files: StoreFiles,
    last: CommitRecord,
}

impl DirTiles {
    /// Open the log of a data directory for verification, without changing anything.
    pub fn open(data_dir: &Path) -> Result<Self, LogError> {
        let (files, last) = StoreFiles::open_read_only(&log_dir(data_dir))?;
        Ok(Self { files, last })
    }

    /// The last valid commit (its signed checkpoint is what verification checks).
    pub fn last_commit(&self) -> &CommitRecord {
        &self.last
    }

    /// The log's verifier key, derived from the key file in the data directory.
    pub fn verifier_from_dir(data_dir: &Path) -> Result<Verifier, LogError> {
        let p = log_dir(data_dir).join("log.key");
        let text = fs::read_to_string(&p).map_err(io_err(&p))?;
        Ok(Signer::from_private_key_text(&text)?.verifier())
    }
}

impl custos_tlog::verify::TileFetcher for DirTiles {
    fn fetch(&mut self, tile: &Tile) -> Result<Vec<u8>, String> {
        self.files.read_tile(tile, self.last.size, self.last.entries_len).map_err(|e| e.to_string())
    }
}
