//! One-line entry points for the fuzz targets in `fuzz/`. Each must never panic.

use crate::merkle::{self, Hash, MemoryTree};

/// Parse arbitrary bytes as a signed note, a checkpoint and a tile path.
pub fn parse_untrusted_text(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(n) = crate::note::parse(s) {
        let _ = crate::checkpoint::Checkpoint::parse(&n.text);
    }
    let _ = crate::note::Verifier::from_text(s);
    let _ = crate::note::Signer::from_private_key_text(s);
    if let Ok(t) = crate::tile::Tile::parse(s) {
        // Round trip: a parsed path formats back to itself.
        assert_eq!(t.path(), s);
    }
    let _ = crate::witness::parse_request(s);
    let _ = crate::tile::decode_bundle(data, 256);
}

/// Verify arbitrary proofs; and check that honest proofs for a tree derived from the input
/// always verify.
pub fn verify_proofs(data: &[u8]) {
    if data.len() < 16 {
        return;
    }
    let a = u64::from_le_bytes(data[..8].try_into().unwrap_or_default());
    let b = u64::from_le_bytes(data[8..16].try_into().unwrap_or_default());
    let hashes: Vec<Hash> = data[16..].chunks_exact(32).map(|c| c.try_into().unwrap_or_default()).collect();
    if let Some((first, rest)) = hashes.split_first() {
        let root = rest.first().copied().unwrap_or_default();
        let _ = merkle::verify_inclusion(first, a, b, rest, &root);
        let _ = merkle::verify_consistency(a, b, first, &root, rest);
    }
    // Honest proofs over a small tree always verify.
    let size = (a % 300) + 1;
    let idx = b % size;
    let mut t = MemoryTree::new();
    for i in 0..size {
        t.push_entry(&i.to_le_bytes());
    }
    let root = t.root();
    if let Ok(p) = merkle::inclusion_proof(&t, idx, size) {
        assert!(
            merkle::verify_inclusion(&merkle::leaf_hash(&idx.to_le_bytes()), idx, size, &p, &root).is_ok()
        );
    }
    let old = idx + 1;
    if let (Ok(p), Ok(old_root)) = (merkle::consistency_proof(&t, old, size), merkle::tree_hash(&t, old)) {
        assert!(merkle::verify_consistency(old, size, &old_root, &root, &p).is_ok());
    }
}
