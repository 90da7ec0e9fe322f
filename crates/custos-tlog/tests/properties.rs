//! Property tests: honest proofs verify for random sizes and indices; any single-bit change to
//! a proof, a leaf, a root or a size makes verification fail.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code")]

use custos_tlog::merkle::{
    consistency_proof, inclusion_proof, leaf_hash, tree_hash, verify_consistency, verify_inclusion,
    MemoryTree,
};
use proptest::prelude::*;

fn tree(n: u64) -> MemoryTree {
    let mut t = MemoryTree::new();
    for i in 0..n {
        t.push_entry(&i.to_be_bytes());
    }
    t
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn inclusion_proofs_verify_and_break_on_any_bit(size in 1u64..3000, idx_seed: u64, bit: usize) {
        let t = tree(size);
        let idx = idx_seed % size;
        let root = t.root();
        let leaf = leaf_hash(&idx.to_be_bytes());
        let proof = inclusion_proof(&t, idx, size).unwrap();
        prop_assert!(verify_inclusion(&leaf, idx, size, &proof, &root).is_ok());

        // Flip one bit somewhere in (leaf, proof..., root).
        let total_bits = 256 * (proof.len() + 2);
        let b = bit % total_bits;
        let (mut leaf2, mut proof2, mut root2) = (leaf, proof.clone(), root);
        let which = b / 256;
        let (byte, mask) = ((b % 256) / 8, 1u8 << (b % 8));
        if which == 0 { leaf2[byte] ^= mask }
        else if which == proof.len() + 1 { root2[byte] ^= mask }
        else { proof2[which - 1][byte] ^= mask }
        prop_assert!(verify_inclusion(&leaf2, idx, size, &proof2, &root2).is_err());
        // A wrong index or size fails too.
        if idx + 1 < size {
            prop_assert!(verify_inclusion(&leaf, idx + 1, size, &proof, &root).is_err());
        }
    }

    #[test]
    fn consistency_proofs_verify_and_break_on_any_bit(new in 2u64..3000, old_seed: u64, bit: usize) {
        let t = tree(new);
        let old = 1 + old_seed % (new - 1);
        let (r1, r2) = (tree_hash(&t, old).unwrap(), t.root());
        let proof = consistency_proof(&t, old, new).unwrap();
        prop_assert!(verify_consistency(old, new, &r1, &r2, &proof).is_ok());

        let total_bits = 256 * (proof.len() + 2);
        let b = bit % total_bits;
        let (mut a, mut p, mut c) = (r1, proof.clone(), r2);
        let which = b / 256;
        let (byte, mask) = ((b % 256) / 8, 1u8 << (b % 8));
        if which == 0 { a[byte] ^= mask }
        else if which == proof.len() + 1 { c[byte] ^= mask }
        else { p[which - 1][byte] ^= mask }
        prop_assert!(verify_consistency(old, new, &a, &c, &p).is_err());
    }

    #[test]
    fn untrusted_text_never_panics(s in ".{0,300}") {
        custos_tlog::fuzzing::parse_untrusted_text(s.as_bytes());
    }

    #[test]
    fn arbitrary_proofs_never_panic(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        custos_tlog::fuzzing::verify_proofs(&data);
    }
}
