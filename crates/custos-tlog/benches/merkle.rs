//! Merkle micro-benchmarks beside raw SHA-256 over the same bytes.
//! Run: `cargo bench -p custos-tlog --bench merkle`.

#![allow(missing_docs, clippy::unwrap_used, reason = "benchmark code")]

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use custos_tlog::merkle::{
    consistency_proof, inclusion_proof, leaf_hash, verify_consistency, verify_inclusion, MemoryTree,
};
use sha2::{Digest, Sha256};

const N: u64 = 1_000_000;

fn bench(c: &mut Criterion) {
    let entry = vec![0x5au8; 1024];
    let mut g = c.benchmark_group("hash_1KiB");
    g.throughput(Throughput::Bytes(1024));
    g.bench_function("baseline_raw_sha256", |b| b.iter(|| Sha256::digest(black_box(&entry))));
    g.bench_function("rfc6962_leaf_hash", |b| b.iter(|| leaf_hash(black_box(&entry))));
    g.finish();

    let mut t = MemoryTree::new();
    for i in 0..N {
        t.push_leaf(leaf_hash(&i.to_le_bytes()));
    }
    let root = t.root();
    let mut g = c.benchmark_group("proofs_at_1M");
    let mut i = 0u64;
    g.bench_function("inclusion_generate", |b| {
        b.iter(|| {
            i = (i + 7919) % N;
            inclusion_proof(&t, black_box(i), N).unwrap()
        })
    });
    g.bench_function("inclusion_verify", |b| {
        b.iter_batched(
            || {
                i = (i + 7919) % N;
                (i, inclusion_proof(&t, i, N).unwrap())
            },
            |(i, p)| verify_inclusion(&leaf_hash(&i.to_le_bytes()), i, N, &p, &root).unwrap(),
            BatchSize::SmallInput,
        )
    });
    let old = 654_321;
    let old_root = custos_tlog::merkle::tree_hash(&t, old).unwrap();
    g.bench_function("consistency_generate", |b| {
        b.iter(|| consistency_proof(&t, black_box(old), N).unwrap())
    });
    let cp = consistency_proof(&t, old, N).unwrap();
    g.bench_function("consistency_verify", |b| {
        b.iter(|| verify_consistency(old, N, &old_root, &root, black_box(&cp)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
