//! Full-log verification from entry bundles and tiles.
//!
//! [`verify_log`] streams every entry bundle, recomputes every leaf hash, every hash tile at
//! every level and the root, and compares them with what the log serves and with the signed
//! checkpoint. Memory is bounded by one tile per level. When something disagrees it names
//! the first bad entry index or tile:
//!
//! - entries recompute to the checkpoint root but a served tile differs → that tile was
//!   altered;
//! - the served level-0 tiles recompute to the checkpoint root but the entries do not → the
//!   first entry whose hash differs from its tile was altered (changed, reordered);
//! - neither does → the first disagreement, or else a root mismatch (a consistent rewrite of
//!   both, which only the signed checkpoint reveals).

use crate::merkle::{leaf_hash, Frontier, Hash};
use crate::tile::{decode_bundle, Tile, TileKind, TILE_WIDTH};

/// Where tiles and bundles come from: a data directory or an HTTP prefix.
pub trait TileFetcher {
    /// Fetch the bytes of a tile or entry bundle.
    fn fetch(&mut self, tile: &Tile) -> Result<Vec<u8>, String>;
}

/// Why verification failed; each variant names where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// A tile or bundle could not be read.
    #[error("cannot read {tile}: {reason}")]
    Fetch {
        /// Tile path.
        tile: String,
        /// Why.
        reason: String,
    },
    /// An entry bundle does not hold the entries it must.
    #[error("entry bundle {tile} is damaged: {reason} (first bad index {index})")]
    Bundle {
        /// Bundle path.
        tile: String,
        /// First index that could not be read.
        index: u64,
        /// What was wrong.
        reason: String,
    },
    /// An entry does not hash to the recorded leaf hash and the tiles match the checkpoint.
    #[error("entry {index} was altered: its hash differs from {tile} and the signed root")]
    EntryAltered {
        /// Entry index.
        index: u64,
        /// Level-0 tile holding its leaf hash.
        tile: String,
    },
    /// A hash tile differs from the hashes recomputed from the entries.
    #[error("tile {tile} was altered at hash {position}")]
    TileAltered {
        /// Tile path.
        tile: String,
        /// Hash position within the tile.
        position: usize,
    },
    /// Entries and tiles agree with each other but not with the signed checkpoint.
    #[error("log content recomputes to root {computed} but the signed checkpoint says {expected}{hint}")]
    RootMismatch {
        /// Recomputed root (base64).
        computed: String,
        /// Checkpoint root (base64).
        expected: String,
        /// Where the first disagreement was, if any.
        hint: String,
    },
}

/// What a successful verification covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyReport {
    /// Entries verified.
    pub entries: u64,
    /// Entry bytes hashed.
    pub entry_bytes: u64,
    /// Tiles and bundles read.
    pub tiles: u64,
    /// The root recomputed at the size asked for with `root_at`, if any.
    pub root_at: Option<Hash>,
}

struct LevelCheck {
    computed: Vec<Hash>,
    index: u64,
}

fn tile_path(kind: TileKind, index: u64, width: usize) -> Tile {
    Tile { kind, index, width: u16::try_from(width).unwrap_or(256) }
}

/// Verify the first `size` entries of a log against `root`, reading through `fetch`.
/// `progress` is called with the number of entries verified so far after each bundle.
///
/// `root_at` asks for the root of an earlier size to be recomputed on the way (to check
/// consistency with a checkpoint saved earlier); it lands in [`VerifyReport::root_at`].
pub fn verify_log(
    fetch: &mut dyn TileFetcher,
    size: u64,
    root: &Hash,
    root_at: Option<u64>,
    progress: &mut dyn FnMut(u64),
) -> Result<VerifyReport, VerifyError> {
    let mut from_entries = Frontier::new();
    let mut from_tiles = Frontier::new();
    let mut report = VerifyReport { entries: 0, entry_bytes: 0, tiles: 0, root_at: None };
    if root_at == Some(0) {
        report.root_at = Some(crate::merkle::empty_root());
    }
    // Per tile level >= 1: hashes recomputed from the entries, awaiting comparison.
    let mut levels: Vec<LevelCheck> = Vec::new();
    let mut first_entry_mismatch: Option<(u64, String)> = None;
    let mut first_tile_mismatch: Option<(String, usize)> = None;
    let mut get = |t: &Tile, report: &mut VerifyReport| -> Result<Vec<u8>, VerifyError> {
        report.tiles += 1;
        fetch.fetch(t).map_err(|reason| VerifyError::Fetch { tile: t.path(), reason })
    };
    let bundles = size.div_ceil(TILE_WIDTH);
    for b in 0..bundles {
        let width = (size - b * TILE_WIDTH).min(TILE_WIDTH) as usize;
        let bt = tile_path(TileKind::Entries, b, width);
        let bundle = get(&bt, &mut report)?;
        let entries = decode_bundle(&bundle, width).map_err(|e| VerifyError::Bundle {
            tile: bt.path(),
            index: b * TILE_WIDTH,
            reason: e.to_string(),
        })?;
        if entries.len() != width {
            return Err(VerifyError::Bundle {
                tile: bt.path(),
                index: b * TILE_WIDTH + entries.len() as u64,
                reason: format!("holds {} entries, expected {width}", entries.len()),
            });
        }
        let t0 = tile_path(TileKind::Hash(0), b, width);
        let tile0 = get(&t0, &mut report)?;
        if tile0.len() != 32 * width {
            return Err(VerifyError::TileAltered { tile: t0.path(), position: tile0.len() / 32 });
        }
        for (j, e) in entries.iter().enumerate() {
            let lh = leaf_hash(e);
            report.entry_bytes += e.len() as u64;
            let mut served = [0u8; 32];
            served.copy_from_slice(&tile0[32 * j..32 * j + 32]);
            let index = b * TILE_WIDTH + j as u64;
            if lh != served && first_entry_mismatch.is_none() {
                first_entry_mismatch = Some((index, t0.path()));
            }
            from_tiles.push(served, |_, _, _| {});
            from_entries.push(lh, |level, idx, h| {
                if level == 0 || level % 8 != 0 {
                    return;
                }
                let tl = usize::from(level / 8);
                while levels.len() < tl {
                    levels.push(LevelCheck { computed: Vec::with_capacity(256), index: 0 });
                }
                let lc = &mut levels[tl - 1];
                debug_assert_eq!(idx, lc.index * TILE_WIDTH + lc.computed.len() as u64);
                lc.computed.push(*h);
            });
            if root_at == Some(from_entries.size()) {
                report.root_at = Some(from_entries.root());
            }
        }
        report.entries += width as u64;
        // Compare any level >= 1 tile that just became full.
        for (i, lc) in levels.iter_mut().enumerate() {
            if lc.computed.len() as u64 == TILE_WIDTH {
                let t = tile_path(TileKind::Hash((i + 1) as u8), lc.index, 256);
                compare_tile(&get(&t, &mut report)?, &lc.computed, &t, &mut first_tile_mismatch);
                lc.computed.clear();
                lc.index += 1;
            }
        }
        progress(report.entries);
    }
    for (i, lc) in levels.iter().enumerate() {
        if !lc.computed.is_empty() {
            let t = tile_path(TileKind::Hash((i + 1) as u8), lc.index, lc.computed.len());
            compare_tile(&get(&t, &mut report)?, &lc.computed, &t, &mut first_tile_mismatch);
        }
    }
    let entries_root = from_entries.root();
    let tiles_root = from_tiles.root();
    if entries_root == *root {
        if let Some((tile, i)) = first_entry_mismatch.map(|(idx, t)| (t, (idx % TILE_WIDTH) as usize)) {
            return Err(VerifyError::TileAltered { tile, position: i });
        }
        if let Some((tile, position)) = first_tile_mismatch {
            return Err(VerifyError::TileAltered { tile, position });
        }
        return Ok(report);
    }
    if tiles_root == *root {
        if let Some((index, tile)) = first_entry_mismatch {
            return Err(VerifyError::EntryAltered { index, tile });
        }
    }
    let hint = match (&first_entry_mismatch, &first_tile_mismatch) {
        (Some((i, t)), _) => format!("; entry {i} first disagrees with {t}"),
        (None, Some((t, p))) => format!("; tile {t} first disagrees at hash {p}"),
        (None, None) => String::new(),
    };
    Err(VerifyError::RootMismatch {
        computed: crate::checkpoint::encode_hash(&entries_root),
        expected: crate::checkpoint::encode_hash(root),
        hint,
    })
}

/// Why a signed log failed verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignedLogError {
    /// The checkpoint is malformed or its signature does not verify with the given key.
    #[error("checkpoint rejected: {0}")]
    Checkpoint(String),
    /// The earlier checkpoint given to compare with is malformed or not signed by the key.
    #[error("earlier checkpoint rejected: {0}")]
    Since(String),
    /// The log is smaller than a checkpoint it signed before: it was rolled back.
    #[error("log was rolled back: it now has {now} entries but signed a checkpoint of {earlier}")]
    RolledBack {
        /// Current size.
        now: u64,
        /// The earlier checkpoint's size.
        earlier: u64,
    },
    /// The log's history differs from an earlier checkpoint: it was rewritten (a fork).
    #[error("log history was rewritten: the root at size {size} is no longer the one signed earlier")]
    Forked {
        /// The earlier checkpoint's size.
        size: u64,
    },
    /// Entries or tiles disagree with the checkpoint.
    #[error(transparent)]
    Content(#[from] VerifyError),
}

/// Verify a whole log against its signed checkpoint and, optionally, an earlier signed
/// checkpoint (which it must extend).
pub fn verify_signed_log(
    fetch: &mut dyn TileFetcher,
    signed_checkpoint: &str,
    key: &crate::note::Verifier,
    since: Option<&str>,
    progress: &mut dyn FnMut(u64),
) -> Result<(crate::checkpoint::Checkpoint, VerifyReport), SignedLogError> {
    use crate::checkpoint::Checkpoint;
    let open = |text: &str| -> Result<Checkpoint, String> {
        let (note, _) = crate::note::open(text, std::slice::from_ref(key)).map_err(|e| e.to_string())?;
        let cp = Checkpoint::parse(&note.text).map_err(|e| e.to_string())?;
        if cp.origin != key.name() {
            return Err(format!("origin `{}` is not the key's log `{}`", cp.origin, key.name()));
        }
        Ok(cp)
    };
    let cp = open(signed_checkpoint).map_err(SignedLogError::Checkpoint)?;
    let earlier = since.map(open).transpose().map_err(SignedLogError::Since)?;
    if let Some(e) = &earlier {
        if e.size > cp.size {
            return Err(SignedLogError::RolledBack { now: cp.size, earlier: e.size });
        }
    }
    let report = verify_log(fetch, cp.size, &cp.root, earlier.as_ref().map(|e| e.size), progress)?;
    if let Some(e) = &earlier {
        if report.root_at != Some(e.root) {
            return Err(SignedLogError::Forked { size: e.size });
        }
    }
    Ok((cp, report))
}

fn compare_tile(served: &[u8], computed: &[Hash], t: &Tile, first: &mut Option<(String, usize)>) {
    if first.is_some() {
        return;
    }
    if served.len() != computed.len() * 32 {
        *first = Some((t.path(), served.len().min(computed.len() * 32) / 32));
        return;
    }
    if let Some(pos) = computed.iter().enumerate().position(|(i, h)| served[32 * i..32 * i + 32] != h[..]) {
        *first = Some((t.path(), pos));
    }
}

/// A [`TileFetcher`] over an in-memory log, for tests and tools.
#[derive(Debug, Default, Clone)]
pub struct MemoryTiles {
    /// Every entry in order.
    pub entries: Vec<Vec<u8>>,
    /// The tree over them.
    pub tree: crate::merkle::MemoryTree,
}

impl MemoryTiles {
    /// Append an entry.
    pub fn push(&mut self, e: &[u8]) {
        self.entries.push(e.to_vec());
        self.tree.push_entry(e);
    }
}

/// Read the bytes of a tile from any hash reader and entry source.
pub fn read_tile(
    reader: &dyn crate::merkle::HashReader,
    entry: &mut dyn FnMut(u64) -> Option<Vec<u8>>,
    tile: &Tile,
) -> Result<Vec<u8>, String> {
    let first = tile.first();
    let width = u64::from(tile.width);
    match tile.kind {
        TileKind::Entries => {
            let mut out = Vec::new();
            for i in first..first + width {
                let e = entry(i).ok_or_else(|| format!("entry {i} missing"))?;
                let len = u16::try_from(e.len()).map_err(|_| format!("entry {i} too large"))?;
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(&e);
            }
            Ok(out)
        }
        TileKind::Hash(l) => {
            let mut out = Vec::with_capacity(32 * tile.width as usize);
            for i in first..first + width {
                out.extend_from_slice(&reader.node(l * 8, i).map_err(|e| e.to_string())?);
            }
            Ok(out)
        }
    }
}

impl TileFetcher for MemoryTiles {
    fn fetch(&mut self, tile: &Tile) -> Result<Vec<u8>, String> {
        if !tile.exists_in(self.tree.size()) {
            return Err("no such tile".into());
        }
        let entries = &self.entries;
        read_tile(&self.tree, &mut |i| entries.get(i as usize).cloned(), tile)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(n: u64) -> MemoryTiles {
        let mut m = MemoryTiles::default();
        for i in 0..n {
            m.push(format!("entry {i}").as_bytes());
        }
        m
    }

    #[test]
    fn intact_logs_verify() {
        for n in [1u64, 255, 256, 257, 70_000] {
            let mut m = log(n);
            let root = m.tree.root();
            let r = verify_log(&mut m, n, &root, None, &mut |_| {}).unwrap();
            assert_eq!(r.entries, n);
        }
    }

    struct Tamper<F: FnMut(&Tile, &mut Vec<u8>)>(MemoryTiles, F);
    impl<F: FnMut(&Tile, &mut Vec<u8>)> TileFetcher for Tamper<F> {
        fn fetch(&mut self, tile: &Tile) -> Result<Vec<u8>, String> {
            let mut b = self.0.fetch(tile)?;
            (self.1)(tile, &mut b);
            Ok(b)
        }
    }

    #[test]
    fn altered_entry_is_named() {
        let m = log(70_000);
        let root = m.tree.root();
        let mut t = Tamper(m, |tile: &Tile, b: &mut Vec<u8>| {
            if tile.kind == TileKind::Entries && tile.index == 3 {
                let last = b.len() - 1;
                b[last] ^= 1;
            }
        });
        let err = verify_log(&mut t, 70_000, &root, None, &mut |_| {}).unwrap_err();
        assert_eq!(err, VerifyError::EntryAltered { index: 3 * 256 + 255, tile: "tile/0/003".into() });
    }

    #[test]
    fn altered_upper_tile_is_named() {
        let m = log(70_000);
        let root = m.tree.root();
        let mut t = Tamper(m, |tile: &Tile, b: &mut Vec<u8>| {
            if tile.kind == TileKind::Hash(1) && tile.index == 1 {
                b[40] ^= 1;
            }
        });
        let err = verify_log(&mut t, 70_000, &root, None, &mut |_| {}).unwrap_err();
        assert_eq!(err, VerifyError::TileAltered { tile: "tile/1/001.p/17".into(), position: 1 });
    }
}
