//! C2SP `tlog-tiles` coordinates and paths.
//!
//! A tile at level `L` holds up to 256 consecutive Merkle hashes of tree level `8·L`; the
//! entry bundle `N` holds entries `[256·N, 256·N + W)` as big-endian `u16` length-prefixed
//! records. Paths are `tile/<L>/<N>[.p/<W>]` and `tile/entries/<N>[.p/<W>]`, with `N`
//! written in zero-padded 3-digit groups, all but the last prefixed with `x`.

/// Hashes (or entries) in a full tile.
pub const TILE_WIDTH: u64 = 256;
/// Tree levels spanned by one tile.
pub const TILE_HEIGHT: u32 = 8;
/// The largest entry a bundle can hold (its length prefix is a `u16`).
pub const MAX_ENTRY_BYTES: usize = u16::MAX as usize;

/// What a tile holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TileKind {
    /// Merkle hashes at tile level `L` (tree level `8·L`).
    Hash(u8),
    /// An entry bundle.
    Entries,
}

/// A tile: kind, index within its level and width (1..=256; 256 is a full tile).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tile {
    /// Hash level or entries.
    pub kind: TileKind,
    /// Index of the tile within its level.
    pub index: u64,
    /// Number of hashes or entries (256 for a full tile).
    pub width: u16,
}

/// Errors from parsing a tile path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TileError {
    /// The path is not a canonical tile path.
    #[error("malformed tile path `{path}`: {reason}")]
    Malformed {
        /// The path as given (truncated to 200 bytes).
        path: String,
        /// What was wrong.
        reason: &'static str,
    },
}

impl Tile {
    /// Whether the tile is full (256 wide).
    pub fn is_full(&self) -> bool {
        u64::from(self.width) == TILE_WIDTH
    }

    /// The tree level of the hashes in a hash tile.
    pub fn tree_level(&self) -> Option<u8> {
        match self.kind {
            TileKind::Hash(l) => Some(l * 8),
            TileKind::Entries => None,
        }
    }

    /// Index of the first hash (at the tile's tree level) or entry in the tile.
    pub fn first(&self) -> u64 {
        self.index * TILE_WIDTH
    }

    /// Whether this tile exists in a tree of `size` entries (full, or partial of exactly the
    /// width that size implies).
    pub fn exists_in(&self, size: u64) -> bool {
        let level = match self.kind {
            TileKind::Hash(l) => u32::from(l),
            TileKind::Entries => 0,
        };
        let shift = TILE_HEIGHT * level;
        // Number of complete hashes at this tile level.
        let count = if shift >= 64 { 0 } else { size >> shift };
        let full_tiles = count / TILE_WIDTH;
        if self.index < full_tiles {
            return self.is_full();
        }
        self.index == full_tiles && u64::from(self.width) == count % TILE_WIDTH
    }

    /// The relative path (`tile/…`) of this tile.
    pub fn path(&self) -> String {
        let level = match self.kind {
            TileKind::Hash(l) => l.to_string(),
            TileKind::Entries => "entries".to_string(),
        };
        let mut s = format!("tile/{level}/{}", encode_index(self.index));
        if !self.is_full() {
            s.push_str(&format!(".p/{}", self.width));
        }
        s
    }

    /// Parse a path relative to the log prefix, `tile/…`.
    pub fn parse(path: &str) -> Result<Self, TileError> {
        let err = |reason| TileError::Malformed { path: path.chars().take(200).collect(), reason };
        let rest = path.strip_prefix("tile/").ok_or_else(|| err("must start with `tile/`"))?;
        let (level, rest) = rest.split_once('/').ok_or_else(|| err("missing tile index"))?;
        let kind = if level == "entries" {
            TileKind::Entries
        } else {
            let l = crate::checkpoint::parse_decimal(level).ok_or_else(|| err("bad level"))?;
            if l > 63 {
                return Err(err("level above 63"));
            }
            TileKind::Hash(l as u8)
        };
        let mut parts: Vec<&str> = rest.split('/').collect();
        let mut width: u16 = 256;
        if parts.len() >= 2 {
            if let Some(last_idx) = parts[parts.len() - 2].strip_suffix(".p") {
                let w = crate::checkpoint::parse_decimal(parts[parts.len() - 1])
                    .ok_or_else(|| err("bad partial width"))?;
                if !(1..=255).contains(&w) {
                    return Err(err("partial width must be 1 to 255"));
                }
                width = w as u16;
                parts.pop();
                let n = parts.len();
                parts[n - 1] = last_idx;
            }
        }
        if parts.is_empty() || parts.len() > 7 {
            return Err(err("bad index"));
        }
        let mut index: u64 = 0;
        for (i, p) in parts.iter().enumerate() {
            let digits = if i + 1 < parts.len() {
                p.strip_prefix('x').ok_or_else(|| err("index groups but the last start with `x`"))?
            } else {
                p
            };
            if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err("index groups are three digits"));
            }
            let d: u64 = digits.parse().map_err(|_| err("bad index"))?;
            index = index
                .checked_mul(1000)
                .and_then(|v| v.checked_add(d))
                .ok_or_else(|| err("index too large"))?;
        }
        let tile = Tile { kind, index, width };
        // One canonical path per tile: no leading `x000` groups.
        if tile.path() != path {
            return Err(err("not the canonical form"));
        }
        Ok(tile)
    }
}

/// Encode a tile index in 3-digit groups (`1234067` → `x001/x234/067`).
pub fn encode_index(mut n: u64) -> String {
    let mut groups = vec![format!("{:03}", n % 1000)];
    n /= 1000;
    while n > 0 {
        groups.push(format!("x{:03}", n % 1000));
        n /= 1000;
    }
    groups.reverse();
    groups.join("/")
}

/// All tiles (hash tiles of every level, and entry bundles) that make up a tree of `size`.
pub fn tiles_for_size(size: u64) -> Vec<Tile> {
    let mut out = Vec::new();
    let bundles = size.div_ceil(TILE_WIDTH);
    for i in 0..bundles {
        out.push(Tile { kind: TileKind::Entries, index: i, width: width_of(size, i) });
    }
    for level in 0..64u32 {
        let shift = TILE_HEIGHT * level;
        if shift >= 64 || size >> shift == 0 {
            break;
        }
        let count = size >> shift;
        for i in 0..count.div_ceil(TILE_WIDTH) {
            out.push(Tile { kind: TileKind::Hash(level as u8), index: i, width: width_of(count, i) });
        }
    }
    out
}

fn width_of(count: u64, index: u64) -> u16 {
    let rest = count - index * TILE_WIDTH;
    rest.min(TILE_WIDTH) as u16
}

/// Encode entries as an entry bundle; entries over 65,535 bytes are refused.
pub fn encode_bundle<'a>(entries: impl IntoIterator<Item = &'a [u8]>) -> Result<Vec<u8>, usize> {
    let mut out = Vec::new();
    for e in entries {
        let len = u16::try_from(e.len()).map_err(|_| e.len())?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    Ok(out)
}

/// Errors from decoding an entry bundle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// The bundle ends inside a length prefix or an entry.
    #[error("entry bundle truncated in entry {entry} (byte offset {offset})")]
    Truncated {
        /// Position of the entry within the bundle.
        entry: usize,
        /// Byte offset where it starts.
        offset: usize,
    },
    /// More entries than the bundle's width allows.
    #[error("entry bundle has more than {0} entries")]
    TooMany(usize),
}

/// Split an entry bundle into its entries, at most `max` of them.
pub fn decode_bundle(bundle: &[u8], max: usize) -> Result<Vec<&[u8]>, BundleError> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < bundle.len() {
        if out.len() == max {
            return Err(BundleError::TooMany(max));
        }
        let entry = out.len();
        let hdr = bundle.get(pos..pos + 2).ok_or(BundleError::Truncated { entry, offset: pos })?;
        let len = usize::from(u16::from_be_bytes([hdr[0], hdr[1]]));
        let body = bundle.get(pos + 2..pos + 2 + len).ok_or(BundleError::Truncated { entry, offset: pos })?;
        out.push(body);
        pos += 2 + len;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_round_trip() {
        for (t, p) in [
            (Tile { kind: TileKind::Hash(0), index: 0, width: 256 }, "tile/0/000"),
            (Tile { kind: TileKind::Hash(1), index: 1234067, width: 256 }, "tile/1/x001/x234/067"),
            (Tile { kind: TileKind::Entries, index: 5, width: 17 }, "tile/entries/005.p/17"),
            (Tile { kind: TileKind::Hash(2), index: 1000, width: 1 }, "tile/2/x001/000.p/1"),
        ] {
            assert_eq!(t.path(), p);
            assert_eq!(Tile::parse(p).unwrap(), t);
        }
    }

    #[test]
    fn malformed_paths_are_rejected() {
        for bad in [
            "",
            "tile/",
            "tile/0",
            "tile/0/",
            "tile/00/000",
            "tile/64/000",
            "tile/0/0",
            "tile/0/0000",
            "tile/0/x000/001",
            "tile/0/001/002",
            "tile/0/000.p/0",
            "tile/0/000.p/256",
            "tile/0/000.p/01",
            "tile/0/000.p/",
            "tile/-1/000",
            "tile/data/000",
            "tile/0/x001",
            "tile/0/abc",
            "tile/0/x001/x002/x003/x004/x005/x006/x007/008",
            "tile/0/000/",
            "tile/0/000.p/5/6",
        ] {
            assert!(Tile::parse(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn tiles_for_70000_match_spec_example() {
        let tiles = tiles_for_size(70_000);
        let l0: Vec<_> = tiles.iter().filter(|t| t.kind == TileKind::Hash(0)).collect();
        assert_eq!(l0.len(), 274);
        assert_eq!(l0[273].width, 112);
        let l1: Vec<_> = tiles.iter().filter(|t| t.kind == TileKind::Hash(1)).collect();
        assert_eq!(l1.len(), 2);
        assert_eq!(l1[1].width, 17);
        let l2: Vec<_> = tiles.iter().filter(|t| t.kind == TileKind::Hash(2)).collect();
        assert_eq!((l2.len(), l2[0].width), (1, 1));
        assert!(tiles.iter().all(|t| t.exists_in(70_000)));
        assert!(!Tile { kind: TileKind::Hash(0), index: 273, width: 111 }.exists_in(70_000));
        assert!(!Tile { kind: TileKind::Hash(0), index: 274, width: 1 }.exists_in(70_000));
        // A tree of 256 has a full level-0 tile and a level-1 tile of width 1.
        let t256 = tiles_for_size(256);
        assert!(t256.contains(&Tile { kind: TileKind::Hash(1), index: 0, width: 1 }));
    }

    #[test]
    fn bundles_round_trip_and_refuse_oversize() {
        let entries: Vec<&[u8]> = vec![b"", b"a", &[7u8; 300]];
        let b = encode_bundle(entries.iter().copied()).unwrap();
        assert_eq!(decode_bundle(&b, 256).unwrap(), entries);
        assert!(decode_bundle(&b[..b.len() - 1], 256).is_err());
        assert!(decode_bundle(&b, 2).is_err());
        let big = vec![0u8; 65_536];
        assert_eq!(encode_bundle([big.as_slice()]), Err(65_536));
    }
}
