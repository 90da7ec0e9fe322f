//! RFC 6962 / RFC 9162 §2.1 Merkle tree math.
//!
//! Leaves hash as `SHA-256(0x00 ‖ entry)`, interior nodes as `SHA-256(0x01 ‖ left ‖ right)`.
//! A node is named by `(level, index)`: level 0 holds leaf hashes, the node `(l, i)` covers the
//! leaves `[i·2^l, (i+1)·2^l)`. Only *complete* nodes exist in storage; the hash of any other
//! range is recomputed from the complete nodes it decomposes into.
//!
//! Storage order ("stored hash index", as in Go's `tlog` package): when leaf `m` is appended,
//! its hash is written, then the hashes of every subtree it completes, lowest level first. The
//! whole tree of `n` leaves therefore occupies exactly [`stored_hash_count`]`(n)` = `2n -
//! popcount(n)` hashes, and appending never rewrites an earlier one.

use sha2::{Digest, Sha256};

/// A SHA-256 hash: a leaf hash, a node hash or a tree root.
pub type Hash = [u8; 32];

/// The root of the empty tree: `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The RFC 6962 leaf hash `SHA-256(0x00 ‖ entry)`.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(entry);
    h.finalize().into()
}

/// The RFC 6962 interior node hash `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut buf = [0u8; 65];
    buf[0] = 1;
    buf[1..33].copy_from_slice(left);
    buf[33..].copy_from_slice(right);
    Sha256::digest(buf).into()
}

/// Errors from proof generation and verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The index is not inside the tree (`index >= size`).
    #[error("index {index} is outside a tree of size {size}")]
    IndexOutOfRange {
        /// The requested leaf index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// Consistency was asked from a larger tree to a smaller one.
    #[error("old size {old} is larger than new size {new}")]
    SizesReversed {
        /// The older size.
        old: u64,
        /// The newer size.
        new: u64,
    },
    /// Consistency with the empty tree proves nothing and is refused.
    #[error("a consistency proof from the empty tree proves nothing")]
    EmptyOldTree,
    /// The proof has the wrong number of hashes for these sizes.
    #[error("proof has {got} hashes, expected {want}")]
    WrongLength {
        /// Hashes in the proof.
        got: usize,
        /// Hashes these sizes require.
        want: usize,
    },
    /// The proof was well-formed but the recomputed root differs.
    #[error("proof does not verify: recomputed root differs")]
    RootMismatch,
    /// The hash storage could not supply a node.
    #[error("hash of node (level {level}, index {index}) is unavailable: {reason}")]
    Unavailable {
        /// Node level.
        level: u8,
        /// Node index within the level.
        index: u64,
        /// Why the reader failed.
        reason: String,
    },
}

/// Source of complete node hashes, e.g. a tile store or an in-memory tree.
pub trait HashReader {
    /// The hash of the complete node `(level, index)`; it must exist in the tree being read.
    fn node(&self, level: u8, index: u64) -> Result<Hash, ProofError>;
}

/// Number of hashes stored for a tree of `n` leaves: `2n - popcount(n)`.
pub fn stored_hash_count(n: u64) -> u64 {
    2 * n - u64::from(n.count_ones())
}

/// Position of node `(level, index)` in storage order (see the module docs).
pub fn stored_hash_index(level: u8, index: u64) -> u64 {
    // The node is written right after the last leaf it covers and the lower nodes that leaf
    // completes.
    let last_leaf = ((index + 1) << level) - 1;
    stored_hash_count(last_leaf) + u64::from(level)
}

/// Largest power of two strictly smaller than `n` (`n >= 2`).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// Merkle Tree Hash of the leaves `[lo, hi)`, built from complete nodes.
///
/// `lo` must be a multiple of the largest power of two not above `hi - lo` (always true for
/// the ranges that RFC 6962 proofs visit).
pub fn subtree_hash<R: HashReader + ?Sized>(reader: &R, lo: u64, hi: u64) -> Result<Hash, ProofError> {
    if hi <= lo {
        return Ok(empty_root());
    }
    // Decompose [lo, hi) into maximal aligned power-of-two blocks, left to right, then fold
    // from the right (RFC 6962's recursion always puts the smaller remainder on the right).
    let mut parts: Vec<Hash> = Vec::with_capacity(64);
    let mut start = lo;
    while start < hi {
        let remaining = hi - start;
        let mut level = 63 - remaining.leading_zeros();
        // Respect alignment of `start`.
        if start != 0 {
            level = level.min(start.trailing_zeros());
        }
        let level_u8 = u8::try_from(level).unwrap_or(63);
        parts.push(reader.node(level_u8, start >> level)?);
        start += 1u64 << level;
    }
    let mut acc = parts.pop().unwrap_or_else(empty_root);
    while let Some(left) = parts.pop() {
        acc = node_hash(&left, &acc);
    }
    Ok(acc)
}

/// Root hash of the tree of the first `size` leaves.
pub fn tree_hash<R: HashReader + ?Sized>(reader: &R, size: u64) -> Result<Hash, ProofError> {
    subtree_hash(reader, 0, size)
}

/// RFC 9162 §2.1.3.1 inclusion proof of leaf `index` in the tree of `size` leaves.
pub fn inclusion_proof<R: HashReader + ?Sized>(
    reader: &R,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut proof = Vec::with_capacity(64);
    let (mut lo, mut hi) = (0u64, size);
    // Walk down from the root, collecting siblings; the proof lists them leaf-first.
    let mut siblings = Vec::with_capacity(64);
    while hi - lo > 1 {
        let k = split_point(hi - lo);
        if index - lo < k {
            siblings.push((lo + k, hi));
            hi = lo + k;
        } else {
            siblings.push((lo, lo + k));
            lo += k;
        }
    }
    for &(a, b) in siblings.iter().rev() {
        proof.push(subtree_hash(reader, a, b)?);
    }
    Ok(proof)
}

/// RFC 9162 §2.1.4.1 consistency proof between the trees of `old` and `new` leaves.
pub fn consistency_proof<R: HashReader + ?Sized>(
    reader: &R,
    old: u64,
    new: u64,
) -> Result<Vec<Hash>, ProofError> {
    if old > new {
        return Err(ProofError::SizesReversed { old, new });
    }
    if old == 0 || old == new {
        return Ok(Vec::new());
    }
    // SUBPROOF(m, D[lo:hi], b), unrolled: collect the sibling ranges top-down, emit bottom-up.
    let mut ranges: Vec<(u64, u64)> = Vec::with_capacity(64);
    let (mut m, mut lo, mut hi, mut whole) = (old, 0u64, new, true);
    loop {
        let n = hi - lo;
        if m == n {
            if !whole {
                ranges.push((lo, hi));
            }
            break;
        }
        let k = split_point(n);
        if m <= k {
            ranges.push((lo + k, hi));
            hi = lo + k;
        } else {
            ranges.push((lo, lo + k));
            m -= k;
            lo += k;
            whole = false;
        }
    }
    ranges.iter().rev().map(|&(a, b)| subtree_hash(reader, a, b)).collect()
}

/// Verify an RFC 9162 §2.1.3.2 inclusion proof.
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let want = inclusion_proof_len(index, size);
    if proof.len() != want {
        return Err(ProofError::WrongLength { got: proof.len(), want });
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return Err(ProofError::WrongLength { got: proof.len(), want });
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 || r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Number of hashes in an inclusion proof of `index` in a tree of `size` (`index < size`).
pub fn inclusion_proof_len(index: u64, size: u64) -> usize {
    // Inner part: levels where the paths to `index` and `size-1` diverge; border: set bits of
    // `index >> inner` (RFC 9162 decomposition).
    let inner = 64 - (index ^ (size - 1)).leading_zeros();
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    (inner + border) as usize
}

/// Verify an RFC 9162 §2.1.4.2 consistency proof from `(old, old_root)` to `(new, new_root)`.
///
/// Consistency from the empty tree is refused ([`ProofError::EmptyOldTree`]): it proves
/// nothing, and the witness protocol handles `old 0` before calling this.
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old > new {
        return Err(ProofError::SizesReversed { old, new });
    }
    if old == 0 {
        return Err(ProofError::EmptyOldTree);
    }
    if old == new {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength { got: proof.len(), want: 0 });
        }
        if old_root != new_root {
            return Err(ProofError::RootMismatch);
        }
        return Ok(());
    }
    if proof.is_empty() {
        return Err(ProofError::WrongLength { got: 0, want: 1 });
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let (mut fn_, mut sn) = (old - 1, new - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let mut fr = path[0];
    let mut sr = path[0];
    for c in &path[1..] {
        if sn == 0 {
            return Err(ProofError::WrongLength { got: proof.len(), want: proof.len() - 1 });
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 || fr != *old_root || sr != *new_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// The right edge of a tree: the roots of its maximal complete subtrees, largest first.
///
/// This is all the state needed to append leaves and compute the root. Invariant:
/// `hashes[i]` is the complete node at level `levels[i]`, levels strictly decrease, and the
/// set bits of `size` are exactly `levels`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    hashes: Vec<Hash>,
}

impl Frontier {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuild the frontier of a tree of `size` leaves from a reader.
    pub fn from_reader<R: HashReader + ?Sized>(reader: &R, size: u64) -> Result<Self, ProofError> {
        let mut hashes = Vec::new();
        let mut start = 0u64;
        for level in (0..64u32).rev() {
            if size & (1u64 << level) != 0 {
                let level_u8 = u8::try_from(level).unwrap_or(63);
                hashes.push(reader.node(level_u8, start >> level)?);
                start += 1u64 << level;
            }
        }
        Ok(Self { size, hashes })
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Append one leaf hash. Calls `emit(level, index, hash)` for the leaf and for every node
    /// it completes, in storage order.
    pub fn push(&mut self, leaf: Hash, mut emit: impl FnMut(u8, u64, &Hash)) {
        let index = self.size;
        emit(0, index, &leaf);
        let mut h = leaf;
        let mut level: u8 = 0;
        let mut i = index;
        while i & 1 == 1 {
            // The top of the stack is the left sibling at this level.
            let left = self.hashes.pop().unwrap_or_default();
            h = node_hash(&left, &h);
            level += 1;
            i >>= 1;
            emit(level, i, &h);
        }
        self.hashes.push(h);
        self.size += 1;
    }

    /// The root hash of the tree.
    pub fn root(&self) -> Hash {
        let mut iter = self.hashes.iter().rev();
        let Some(last) = iter.next() else {
            return empty_root();
        };
        iter.fold(*last, |acc, left| node_hash(left, &acc))
    }
}

/// An in-memory tree holding every stored hash; for tests, tools and small logs.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    frontier: Frontier,
    stored: Vec<Hash>,
}

impl MemoryTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Append an entry (hashes it as a leaf).
    pub fn push_entry(&mut self, entry: &[u8]) {
        self.push_leaf(leaf_hash(entry));
    }

    /// Append a leaf hash.
    pub fn push_leaf(&mut self, leaf: Hash) {
        let stored = &mut self.stored;
        self.frontier.push(leaf, |_, _, h| stored.push(*h));
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    /// Current root.
    pub fn root(&self) -> Hash {
        self.frontier.root()
    }
}

impl HashReader for MemoryTree {
    fn node(&self, level: u8, index: u64) -> Result<Hash, ProofError> {
        let unavailable = |reason: &str| ProofError::Unavailable { level, index, reason: reason.to_string() };
        if level > 63 || index.checked_add(1).and_then(|i| i.checked_shl(u32::from(level))).is_none() {
            return Err(unavailable("node beyond the addressable tree"));
        }
        let pos = stored_hash_index(level, index);
        usize::try_from(pos)
            .ok()
            .and_then(|p| self.stored.get(p))
            .copied()
            .ok_or_else(|| unavailable("node not yet complete"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference_mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split_point(n as u64) as usize;
                node_hash(&reference_mth(&leaves[..k]), &reference_mth(&leaves[k..]))
            }
        }
    }

    #[test]
    fn stored_index_matches_push_order() {
        let mut order = Vec::new();
        let mut f = Frontier::new();
        for i in 0..100u64 {
            f.push(leaf_hash(&i.to_be_bytes()), |l, n, _| order.push((l, n)));
        }
        for (pos, &(l, n)) in order.iter().enumerate() {
            assert_eq!(stored_hash_index(l, n), pos as u64, "node ({l},{n})");
        }
        assert_eq!(stored_hash_count(100), order.len() as u64);
    }

    #[test]
    fn roots_match_reference_for_all_small_sizes() {
        let mut t = MemoryTree::new();
        let mut leaves = Vec::new();
        for i in 0..300u64 {
            assert_eq!(t.root(), reference_mth(&leaves), "size {i}");
            assert_eq!(tree_hash(&t, i).unwrap(), reference_mth(&leaves));
            t.push_entry(&i.to_le_bytes());
            leaves.push(leaf_hash(&i.to_le_bytes()));
        }
        // Historical roots computed from the grown tree.
        for s in 0..300u64 {
            assert_eq!(tree_hash(&t, s).unwrap(), reference_mth(&leaves[..s as usize]));
        }
    }

    #[test]
    fn proofs_verify_exhaustively_for_small_trees() {
        let mut t = MemoryTree::new();
        for i in 0..70u64 {
            t.push_entry(&i.to_le_bytes());
        }
        for size in 1..=70u64 {
            let root = tree_hash(&t, size).unwrap();
            for idx in 0..size {
                let p = inclusion_proof(&t, idx, size).unwrap();
                assert_eq!(p.len(), inclusion_proof_len(idx, size));
                let leaf = leaf_hash(&idx.to_le_bytes());
                verify_inclusion(&leaf, idx, size, &p, &root).unwrap();
            }
            for old in 1..=size {
                let old_root = tree_hash(&t, old).unwrap();
                let p = consistency_proof(&t, old, size).unwrap();
                verify_consistency(old, size, &old_root, &root, &p).unwrap();
            }
        }
    }

    #[test]
    fn out_of_range_is_an_error() {
        let mut t = MemoryTree::new();
        t.push_entry(b"a");
        assert!(matches!(inclusion_proof(&t, 1, 1), Err(ProofError::IndexOutOfRange { .. })));
        assert!(matches!(consistency_proof(&t, 2, 1), Err(ProofError::SizesReversed { .. })));
        assert!(t.node(0, 5).is_err());
        assert!(t.node(70, 0).is_err());
    }
}
