//! The append-only files of a log and their crash recovery (see the crate docs for the layout).

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};

use custos_tlog::merkle::{stored_hash_count, stored_hash_index, Hash, ProofError};
use custos_tlog::tile::{Tile, TileKind, TILE_WIDTH};

use crate::{io_err, LogError};

const COMMIT_MAGIC: &[u8; 4] = b"CXCM";
/// Fixed part of the commit payload before the checkpoint text.
const PAYLOAD_FIXED: usize = 8 + 8 + 32;
/// The largest commit payload accepted when reading.
const MAX_PAYLOAD: usize = 1 << 20;

/// One durable commit: the log's size, entry bytes and root, with the signed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitRecord {
    /// Tree size.
    pub size: u64,
    /// Bytes of `entries.dat` covered.
    pub entries_len: u64,
    /// Root hash.
    pub root: Hash,
    /// Signed checkpoint note.
    pub checkpoint: String,
}

impl CommitRecord {
    /// The on-disk encoding of this record.
    pub fn encode(&self) -> Vec<u8> {
        let mut payload = Vec::with_capacity(PAYLOAD_FIXED + self.checkpoint.len());
        payload.extend_from_slice(&self.size.to_le_bytes());
        payload.extend_from_slice(&self.entries_len.to_le_bytes());
        payload.extend_from_slice(&self.root);
        payload.extend_from_slice(self.checkpoint.as_bytes());
        let len = payload.len() as u32;
        let mut out = Vec::with_capacity(payload.len() + 16);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&payload);
        out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(COMMIT_MAGIC);
        out
    }

    fn decode(payload: &[u8]) -> Option<Self> {
        if payload.len() < PAYLOAD_FIXED {
            return None;
        }
        let size = u64::from_le_bytes(payload[0..8].try_into().ok()?);
        let entries_len = u64::from_le_bytes(payload[8..16].try_into().ok()?);
        let root: Hash = payload[16..48].try_into().ok()?;
        let checkpoint = String::from_utf8(payload[48..].to_vec()).ok()?;
        Some(Self { size, entries_len, root, checkpoint })
    }
}

/// Try to decode the record starting at `pos`; returns it and its end offset.
fn record_at(buf: &[u8], pos: usize) -> Option<(CommitRecord, usize)> {
    let len = u32::from_le_bytes(buf.get(pos..pos + 4)?.try_into().ok()?) as usize;
    if len > MAX_PAYLOAD {
        return None;
    }
    let payload = buf.get(pos + 4..pos + 4 + len)?;
    let tail = buf.get(pos + 4 + len..pos + 4 + len + 12)?;
    let crc = u32::from_le_bytes(tail[0..4].try_into().ok()?);
    let len2 = u32::from_le_bytes(tail[4..8].try_into().ok()?) as usize;
    if crc != crc32fast::hash(payload) || len2 != len || &tail[8..12] != COMMIT_MAGIC {
        return None;
    }
    Some((CommitRecord::decode(payload)?, pos + len + 16))
}

/// Read every valid commit record of a `commits.log`, in order; also returns the byte length
/// of the valid prefix (anything after it is a torn or damaged tail).
pub fn read_commits(path: &Path) -> Result<(Vec<CommitRecord>, u64), LogError> {
    let buf = std::fs::read(path).map_err(io_err(path))?;
    let mut out = Vec::new();
    let mut pos = 0usize;
    while let Some((r, end)) = record_at(&buf, pos) {
        out.push(r);
        pos = end;
    }
    Ok((out, pos as u64))
}

/// Read the last commit record from the end of the file, if the tail is intact.
fn last_commit_fast(f: &File, path: &Path) -> Result<Option<(CommitRecord, u64)>, LogError> {
    let len = f.metadata().map_err(io_err(path))?.len();
    if len < 16 {
        return Ok(None);
    }
    let mut foot = [0u8; 8];
    f.read_exact_at(&mut foot, len - 8).map_err(io_err(path))?;
    if &foot[4..] != COMMIT_MAGIC {
        return Ok(None);
    }
    let plen = u64::from(u32::from_le_bytes([foot[0], foot[1], foot[2], foot[3]]));
    let rec_len = plen + 16;
    if plen as usize > MAX_PAYLOAD || rec_len > len {
        return Ok(None);
    }
    let mut buf = vec![0u8; rec_len as usize];
    f.read_exact_at(&mut buf, len - rec_len).map_err(io_err(path))?;
    Ok(record_at(&buf, 0).map(|(r, _)| (r, len)))
}

/// The open files of a log.
#[derive(Debug)]
pub struct StoreFiles {
    dir: PathBuf,
    entries: File,
    index: File,
    hashes: File,
    commits: File,
}

/// The sequencer's helper threads for the index and hash files.
pub(crate) struct DataWriters {
    index: FileWriter,
    hashes: FileWriter,
}

/// One thread appending buffers to one file and syncing it, a job at a time. Dropped, it stops
/// its thread and waits for it, so no handle of the file outlives the store's sequencer.
struct FileWriter {
    jobs: crate::Worker<Vec<u8>>,
    done: std::sync::mpsc::Receiver<(Vec<u8>, Result<(), LogError>)>,
    path: PathBuf,
}

impl FileWriter {
    fn start(file: &File, path: PathBuf) -> Result<Self, LogError> {
        let file = file.try_clone().map_err(io_err(&path))?;
        let (jobs, todo) = std::sync::mpsc::sync_channel::<Vec<u8>>(1);
        let (finished, done) = std::sync::mpsc::sync_channel(1);
        let p = path.clone();
        let thread = std::thread::Builder::new()
            .name("custos-log-sync".into())
            .spawn(move || {
                while let Ok(buf) = todo.recv() {
                    let mut w = &file;
                    let r = w.write_all(&buf).and_then(|()| file.sync_data()).map_err(io_err(&p));
                    if finished.send((buf, r)).is_err() {
                        break;
                    }
                }
            })
            .map_err(io_err(&path))?;
        Ok(Self { jobs: crate::Worker::new(jobs, thread), done, path })
    }

    fn gone(&self) -> LogError {
        LogError::State(format!("the writer of `{}` stopped", self.path.display()))
    }

    fn submit(&self, buf: Vec<u8>) -> Result<(), LogError> {
        self.jobs.send(buf).ok_or_else(|| self.gone())
    }

    /// The buffer of the job submitted last, once it is written and synced.
    fn wait(&self) -> Result<Vec<u8>, LogError> {
        let (buf, r) = self.done.recv().map_err(|_| self.gone())?;
        r.map(|()| buf)
    }
}

fn open_rw(path: &Path, create_new: bool) -> Result<File, LogError> {
    let mut o = OpenOptions::new();
    o.read(true).append(true);
    if create_new {
        o.create_new(true);
    }
    o.open(path).map_err(io_err(path))
}

impl StoreFiles {
    /// Create empty files in `dir`.
    pub(crate) fn create(dir: &Path) -> Result<Self, LogError> {
        Ok(Self {
            dir: dir.to_path_buf(),
            entries: open_rw(&dir.join("entries.dat"), true)?,
            index: open_rw(&dir.join("index.dat"), true)?,
            hashes: open_rw(&dir.join("hashes.dat"), true)?,
            commits: open_rw(&dir.join("commits.log"), true)?,
        })
    }

    fn open_existing(dir: &Path, write: bool) -> Result<Self, LogError> {
        let open = |name: &str| -> Result<File, LogError> {
            let p = dir.join(name);
            if write {
                open_rw(&p, false)
            } else {
                File::open(&p).map_err(io_err(&p))
            }
        };
        Ok(Self {
            dir: dir.to_path_buf(),
            entries: open("entries.dat")?,
            index: open("index.dat")?,
            hashes: open("hashes.dat")?,
            commits: open("commits.log")?,
        })
    }

    /// Open read-only (for verification); returns the last valid commit. Nothing is changed.
    pub fn open_read_only(dir: &Path) -> Result<(Self, CommitRecord), LogError> {
        let files = Self::open_existing(dir, false)?;
        let path = dir.join("commits.log");
        let last = match last_commit_fast(&files.commits, &path)? {
            Some((r, _)) => r,
            None => read_commits(&path)?
                .0
                .pop()
                .ok_or_else(|| LogError::Corrupt("commits.log holds no valid commit".into()))?,
        };
        Ok((files, last))
    }

    /// Open for appending and cut off anything past the last valid commit.
    pub(crate) fn open_and_recover(dir: &Path) -> Result<(Self, CommitRecord), LogError> {
        let files = Self::open_existing(dir, true)?;
        let cpath = dir.join("commits.log");
        let (last, valid_len) = match last_commit_fast(&files.commits, &cpath)? {
            Some(x) => x,
            None => {
                let (mut all, valid) = read_commits(&cpath)?;
                let last =
                    all.pop().ok_or_else(|| LogError::Corrupt("commits.log holds no valid commit".into()))?;
                tracing::warn!(valid, "commits.log had a torn tail; cutting it off");
                (last, valid)
            }
        };
        let want = [
            ("commits.log", &files.commits, valid_len),
            ("entries.dat", &files.entries, last.entries_len),
            ("index.dat", &files.index, 8 * last.size),
            ("hashes.dat", &files.hashes, 32 * stored_hash_count(last.size)),
        ];
        for (name, f, len) in want {
            let p = dir.join(name);
            let have = f.metadata().map_err(io_err(&p))?.len();
            if have < len {
                return Err(LogError::Corrupt(format!(
                    "`{}` holds {have} bytes but the last commit (size {}) covers {len}",
                    p.display(),
                    last.size
                )));
            }
            if have > len {
                tracing::info!(file = name, have, len, "cutting off uncommitted bytes");
                f.set_len(len).map_err(io_err(&p))?;
                f.sync_all().map_err(io_err(&p))?;
            }
        }
        Ok((files, last))
    }

    /// Append data for new entries and make it durable. Called only by the sequencer, with
    /// the writers it started once ([`StoreFiles::data_writers`]): the three files sync at
    /// once, the entries here and the index and hashes on the writers' threads. Each buffer
    /// comes back (cleared by the caller) for the next batch.
    pub(crate) fn append_data(
        &self,
        writers: &DataWriters,
        entries: &[u8],
        index: &mut Vec<u8>,
        hashes: &mut Vec<u8>,
    ) -> Result<(), LogError> {
        writers.hashes.submit(std::mem::take(hashes))?;
        let sent = writers.index.submit(std::mem::take(index));
        let p = self.dir.join("entries.dat");
        let mut w = &self.entries;
        let e = w.write_all(entries).and_then(|()| self.entries.sync_data()).map_err(io_err(&p));
        // Wait for every job handed out, whatever failed, so no write is left running.
        let h = writers.hashes.wait().map(|b| *hashes = b);
        let i = sent.and_then(|()| writers.index.wait().map(|b| *index = b));
        e.and(h).and(i)
    }

    /// Start the threads that append to and sync `index.dat` and `hashes.dat` beside the
    /// sequencer, one each for the store's life (two threads started per commit cost 8–14% of
    /// guarded lookups/s in the gateway bench: see BENCHMARKS.md).
    pub(crate) fn data_writers(&self) -> Result<DataWriters, LogError> {
        Ok(DataWriters {
            index: FileWriter::start(&self.index, self.dir.join("index.dat"))?,
            hashes: FileWriter::start(&self.hashes, self.dir.join("hashes.dat"))?,
        })
    }

    /// Append a commit record and make it durable.
    pub(crate) fn append_commit(&self, rec: &CommitRecord) -> Result<(), LogError> {
        let p = self.dir.join("commits.log");
        let mut w = &self.commits;
        w.write_all(&rec.encode()).map_err(io_err(&p))?;
        self.commits.sync_data().map_err(io_err(&p))
    }

    /// A hash reader over a tree of `size` leaves.
    pub fn reader(&self, size: u64) -> FileHashes<'_> {
        FileHashes { files: self, size }
    }

    fn read_at(&self, f: &File, name: &str, pos: u64, len: usize) -> Result<Vec<u8>, LogError> {
        let mut buf = vec![0u8; len];
        f.read_exact_at(&mut buf, pos).map_err(io_err(&self.dir.join(name)))?;
        Ok(buf)
    }

    fn entry_offset(&self, index: u64, size: u64, entries_len: u64) -> Result<u64, LogError> {
        if index == size {
            return Ok(entries_len);
        }
        let b = self.read_at(&self.index, "index.dat", 8 * index, 8)?;
        let off = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
        if off > entries_len {
            return Err(LogError::Corrupt(format!(
                "index.dat: entry {index} points past the committed entries"
            )));
        }
        Ok(off)
    }

    /// Read one committed entry.
    pub fn read_entry(&self, index: u64, size: u64, entries_len: u64) -> Result<Vec<u8>, LogError> {
        let start = self.entry_offset(index, size, entries_len)?;
        let end = self.entry_offset(index + 1, size, entries_len)?;
        if end < start + 2 {
            return Err(LogError::Corrupt(format!("index.dat: entry {index} has a bad extent")));
        }
        let rec = self.read_at(&self.entries, "entries.dat", start, (end - start) as usize)?;
        Ok(rec[2..].to_vec())
    }

    /// Read a tile or entry bundle of a tree of `size` (the caller checked it exists).
    pub fn read_tile(&self, tile: &Tile, size: u64, entries_len: u64) -> Result<Vec<u8>, LogError> {
        let first = tile.first();
        let width = u64::from(tile.width);
        match tile.kind {
            TileKind::Entries => {
                let start = self.entry_offset(first, size, entries_len)?;
                let end = self.entry_offset(first + width, size, entries_len)?;
                if end < start {
                    return Err(LogError::Corrupt(format!(
                        "index.dat: bundle {} has a bad extent",
                        tile.path()
                    )));
                }
                self.read_at(&self.entries, "entries.dat", start, (end - start) as usize)
            }
            TileKind::Hash(0) => {
                // Leaf hashes of one bundle lie in one short stretch of hashes.dat.
                let p0 = stored_hash_index(0, first);
                let p1 = stored_hash_index(0, first + width - 1);
                let span = self.read_at(&self.hashes, "hashes.dat", 32 * p0, 32 * (p1 - p0 + 1) as usize)?;
                let mut out = Vec::with_capacity(32 * tile.width as usize);
                for i in first..first + width {
                    let at = (32 * (stored_hash_index(0, i) - p0)) as usize;
                    out.extend_from_slice(&span[at..at + 32]);
                }
                Ok(out)
            }
            TileKind::Hash(l) => {
                let r = self.reader(size);
                let mut out = Vec::with_capacity(32 * tile.width as usize);
                for i in first..first + width {
                    out.extend_from_slice(
                        &r.node_hash(l * 8, i).map_err(|e| LogError::Corrupt(e.to_string()))?,
                    );
                }
                Ok(out)
            }
        }
    }

    /// Total bytes of the entries file (for sizing reads).
    pub fn entries_file_len(&self) -> u64 {
        self.entries.metadata().map(|m| m.len()).unwrap_or(0)
    }

    /// Number of bundles in a tree of `size`.
    pub fn bundle_count(size: u64) -> u64 {
        size.div_ceil(TILE_WIDTH)
    }
}

/// Reads complete node hashes of a tree of `size` leaves from `hashes.dat`.
#[derive(Debug, Clone, Copy)]
pub struct FileHashes<'a> {
    files: &'a StoreFiles,
    size: u64,
}

impl FileHashes<'_> {
    /// The hash of the complete node `(level, index)`.
    pub fn node_hash(&self, level: u8, index: u64) -> Result<Hash, ProofError> {
        let unavailable = |reason: String| ProofError::Unavailable { level, index, reason };
        let complete = if level >= 64 { 0 } else { self.size >> level };
        if index >= complete {
            return Err(unavailable(format!("not a complete node of a tree of size {}", self.size)));
        }
        let pos = stored_hash_index(level, index);
        let mut h = [0u8; 32];
        self.files
            .hashes
            .read_exact_at(&mut h, 32 * pos)
            .map_err(|e| unavailable(format!("hashes.dat: {e}")))?;
        Ok(h)
    }
}
