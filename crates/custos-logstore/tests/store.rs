//! Behaviour of the durable log store: appends, reads, recovery, and tamper detection.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code")]

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::Path;

use custos_logstore::{read_commits, CommitRecord, DirTiles, LogError, LogStore, Options};
use custos_tlog::checkpoint::Checkpoint;
use custos_tlog::merkle::{leaf_hash, verify_consistency, verify_inclusion};
use custos_tlog::note::{self, Signer, ALG_ED25519};
use custos_tlog::tile::tiles_for_size;
use custos_tlog::verify::{verify_signed_log, MemoryTiles, SignedLogError, TileFetcher, VerifyError};

const ORIGIN: &str = "custos.test/audit";

fn entry(i: u64) -> Vec<u8> {
    format!("{{\"v\":1,\"i\":{i},\"pad\":\"{}\"}}", "x".repeat((i % 37) as usize)).into_bytes()
}

fn new_log(dir: &Path, n: u64) -> LogStore {
    LogStore::init(dir, ORIGIN).unwrap();
    let log = LogStore::open(dir, Options::default()).unwrap();
    if n > 0 {
        log.append_batch((0..n).map(entry).collect()).unwrap();
    }
    log
}

fn verify_dir(dir: &Path, since: Option<&str>) -> Result<u64, SignedLogError> {
    let key = DirTiles::verifier_from_dir(dir).unwrap();
    let mut t = DirTiles::open(dir).unwrap();
    let cp = t.last_commit().checkpoint.clone();
    verify_signed_log(&mut t, &cp, &key, since, &mut |_| {}).map(|(c, _)| c.size)
}

#[test]
fn appends_are_readable_and_tiles_match_a_reference() {
    let d = tempfile::tempdir().unwrap();
    let n = 70_000;
    let log = new_log(d.path(), n);
    let c = log.committed();
    assert_eq!(c.size, n);
    let mut reference = MemoryTiles::default();
    for i in 0..n {
        reference.push(&entry(i));
    }
    assert_eq!(c.root, reference.tree.root());
    for t in tiles_for_size(n) {
        assert_eq!(log.tile(&t).unwrap().unwrap(), reference.fetch(&t).unwrap(), "{}", t.path());
    }
    assert_eq!(log.entry(12_345).unwrap().unwrap(), entry(12_345));
    assert_eq!(log.entry(n).unwrap(), None);
    // A partial tile of a width the tree does not have is absent.
    let bogus = custos_tlog::tile::Tile::parse("tile/0/273.p/3").unwrap();
    assert_eq!(log.tile(&bogus).unwrap(), None);
    drop(log);
    // Reopen: same state; appends continue.
    let log = LogStore::open(d.path(), Options::default()).unwrap();
    assert_eq!(log.committed().root, c.root);
    let r = log.append(b"after reopen".to_vec()).unwrap();
    assert_eq!((r.index, r.tree_size), (n, n + 1));
    assert_eq!(verify_dir(d.path(), Some(&c.checkpoint)).unwrap(), n + 1);
}

#[test]
fn proofs_from_the_store_verify_against_its_checkpoints() {
    let d = tempfile::tempdir().unwrap();
    let log = new_log(d.path(), 1000);
    let old = log.committed();
    log.append_batch((1000..5000).map(entry).collect()).unwrap();
    let new = log.committed();
    let (note, _) = note::open(&new.checkpoint, std::slice::from_ref(log.verifier())).unwrap();
    let cp = Checkpoint::parse(&note.text).unwrap();
    for idx in [0u64, 1, 255, 256, 999, 4999] {
        let (size, proof) = log.inclusion_proof(idx, None).unwrap();
        verify_inclusion(&leaf_hash(&entry(idx)), idx, size, &proof, &cp.root).unwrap();
    }
    let (_, proof) = log.consistency_proof(old.size, None).unwrap();
    verify_consistency(old.size, new.size, &old.root, &new.root, &proof).unwrap();
    assert!(log.inclusion_proof(5000, None).is_err());
}

#[test]
fn concurrent_appenders_get_unique_indices() {
    let d = tempfile::tempdir().unwrap();
    let log = new_log(d.path(), 0);
    let threads = 16;
    let per = 300;
    let mut all: Vec<(u64, Vec<u8>)> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|t| {
                let log = log.clone();
                s.spawn(move || {
                    (0..per)
                        .map(|i| {
                            let e = format!("t{t}-{i}").into_bytes();
                            let r = log.append(e.clone()).unwrap();
                            assert_eq!(r.leaf_hash, leaf_hash(&e));
                            assert!(r.index < r.tree_size);
                            (r.index, e)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    all.sort();
    assert_eq!(all.len() as u64, threads * per);
    for (k, (idx, e)) in all.iter().enumerate() {
        assert_eq!(*idx, k as u64);
        assert_eq!(&log.entry(*idx).unwrap().unwrap(), e);
    }
    // Fewer commits than appends: callers shared syncs.
    let (commits, _) = read_commits(&d.path().join("log/commits.log")).unwrap();
    assert!(commits.len() as u64 <= threads * per + 1);
    assert_eq!(verify_dir(d.path(), None).unwrap(), threads * per);
}

#[test]
fn oversized_entries_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let log = new_log(d.path(), 0);
    assert!(matches!(log.append(vec![0; 65_536]), Err(LogError::EntryTooLarge(65_536))));
    assert!(log.append(vec![0; 65_535]).is_ok());
    assert_eq!(log.committed().size, 1);
}

fn append_junk(path: &Path, junk: &[u8]) {
    OpenOptions::new().append(true).open(path).unwrap().write_all(junk).unwrap();
}

#[test]
fn uncommitted_and_torn_tails_are_cut_off_on_open() {
    let d = tempfile::tempdir().unwrap();
    let log = new_log(d.path(), 600);
    let c = log.committed();
    drop(log);
    let ld = d.path().join("log");
    append_junk(&ld.join("entries.dat"), b"\x00\x05hello\x00\x02hi");
    append_junk(&ld.join("index.dat"), &[1, 2, 3]);
    append_junk(&ld.join("hashes.dat"), &[9; 70]);
    // A commit record torn in the middle of being written.
    let rec = CommitRecord { size: 602, entries_len: 1, root: [0; 32], checkpoint: "x".into() }.encode();
    append_junk(&ld.join("commits.log"), &rec[..rec.len() - 3]);
    let log = LogStore::open(d.path(), Options::default()).unwrap();
    assert_eq!(log.committed().size, c.size);
    assert_eq!(log.committed().root, c.root);
    log.append(b"next".to_vec()).unwrap();
    drop(log);
    assert_eq!(verify_dir(d.path(), Some(&c.checkpoint)).unwrap(), 601);
}

fn flip_byte(path: &Path, at: u64) {
    let mut b = std::fs::read(path).unwrap();
    b[at as usize] ^= 0x20;
    std::fs::write(path, b).unwrap();
}

fn offset_of(dir: &Path, index: u64) -> u64 {
    let b = std::fs::read(dir.join("log/index.dat")).unwrap();
    u64::from_le_bytes(b[8 * index as usize..8 * index as usize + 8].try_into().unwrap())
}

#[test]
fn changed_entry_is_named() {
    let d = tempfile::tempdir().unwrap();
    drop(new_log(d.path(), 3000));
    flip_byte(&d.path().join("log/entries.dat"), offset_of(d.path(), 1234) + 5);
    let err = verify_dir(d.path(), None).unwrap_err();
    assert_eq!(
        err,
        SignedLogError::Content(VerifyError::EntryAltered { index: 1234, tile: "tile/0/004".into() })
    );
    assert!(err.to_string().contains("entry 1234"), "{err}");
    // The store refuses nothing on open (entries are not re-hashed), but verify names it.
}

#[test]
fn reordered_entries_are_named() {
    let d = tempfile::tempdir().unwrap();
    // Entries 37 and 74 have the same length (i % 37 == 0).
    drop(new_log(d.path(), 600));
    let p = d.path().join("log/entries.dat");
    let mut b = std::fs::read(&p).unwrap();
    let (a, c) = (offset_of(d.path(), 37) as usize, offset_of(d.path(), 74) as usize);
    let len = offset_of(d.path(), 38) as usize - a;
    let ea = b[a..a + len].to_vec();
    let ec = b[c..c + len].to_vec();
    b[a..a + len].copy_from_slice(&ec);
    b[c..c + len].copy_from_slice(&ea);
    std::fs::write(&p, b).unwrap();
    let err = verify_dir(d.path(), None).unwrap_err();
    assert_eq!(
        err,
        SignedLogError::Content(VerifyError::EntryAltered { index: 37, tile: "tile/0/000".into() })
    );
}

#[test]
fn deleted_entry_is_named() {
    let d = tempfile::tempdir().unwrap();
    drop(new_log(d.path(), 600));
    let p = d.path().join("log/entries.dat");
    let mut b = std::fs::read(&p).unwrap();
    let (a, e) = (offset_of(d.path(), 300) as usize, offset_of(d.path(), 301) as usize);
    b.drain(a..e);
    std::fs::write(&p, b).unwrap();
    let err = verify_dir(d.path(), None).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("300") || msg.contains("tile/entries/001"), "{msg}");
}

#[test]
fn truncated_entries_are_named() {
    let d = tempfile::tempdir().unwrap();
    drop(new_log(d.path(), 600));
    let p = d.path().join("log/entries.dat");
    let len = std::fs::metadata(&p).unwrap().len();
    OpenOptions::new().write(true).open(&p).unwrap().set_len(len - 100).unwrap();
    let err = verify_dir(d.path(), None).unwrap_err();
    assert!(err.to_string().contains("tile/entries/002.p/88"), "{err}");
    // The store itself refuses to open over missing acknowledged data.
    assert!(matches!(LogStore::open(d.path(), Options::default()), Err(LogError::Corrupt(_))));
}

#[test]
fn changed_tile_is_named() {
    let d = tempfile::tempdir().unwrap();
    drop(new_log(d.path(), 70_000));
    // Level-8 node 3 is a hash of level-1 tile 0, position 3.
    let pos = custos_tlog::merkle::stored_hash_index(8, 3);
    flip_byte(&d.path().join("log/hashes.dat"), 32 * pos + 7);
    let err = verify_dir(d.path(), None).unwrap_err();
    assert_eq!(
        err,
        SignedLogError::Content(VerifyError::TileAltered { tile: "tile/1/000".into(), position: 3 })
    );
    // A leaf hash in a level-0 tile.
    let d2 = tempfile::tempdir().unwrap();
    drop(new_log(d2.path(), 1000));
    let pos = custos_tlog::merkle::stored_hash_index(0, 700);
    flip_byte(&d2.path().join("log/hashes.dat"), 32 * pos);
    let err = verify_dir(d2.path(), None).unwrap_err();
    assert_eq!(
        err,
        SignedLogError::Content(VerifyError::TileAltered { tile: "tile/0/002".into(), position: 700 - 512 })
    );
    // The store refuses to open when its hashes no longer give the signed root.
    let pos = custos_tlog::merkle::stored_hash_index(9, 0);
    flip_byte(&d2.path().join("log/hashes.dat"), 32 * pos);
    assert!(LogStore::open(d2.path(), Options::default()).is_err());
}

fn replace_last_commit(dir: &Path, rec: CommitRecord) {
    let p = dir.join("log/commits.log");
    let (mut all, _) = read_commits(&p).unwrap();
    all.pop();
    all.push(rec);
    let bytes: Vec<u8> = all.iter().flat_map(|r| r.encode()).collect();
    std::fs::write(&p, bytes).unwrap();
}

#[test]
fn replaced_checkpoint_is_detected() {
    let d = tempfile::tempdir().unwrap();
    let log = new_log(d.path(), 500);
    let c = log.committed();
    drop(log);
    // Forged: same origin and content, signed by another key.
    let forger = Signer::from_seed(ORIGIN, ALG_ED25519, [42; 32]).unwrap();
    let cp = Checkpoint { origin: ORIGIN.into(), size: c.size, root: c.root, extensions: vec![] };
    let forged = forger.sign(&cp.to_text()).unwrap();
    replace_last_commit(
        d.path(),
        CommitRecord { size: c.size, entries_len: c.entries_len, root: c.root, checkpoint: forged },
    );
    assert!(matches!(verify_dir(d.path(), None), Err(SignedLogError::Checkpoint(_))));
}

#[test]
fn rollback_and_rewrite_are_detected_against_a_saved_checkpoint() {
    let d = tempfile::tempdir().unwrap();
    let log = new_log(d.path(), 500);
    let early = log.committed();
    log.append_batch((500..900).map(entry).collect()).unwrap();
    let late = log.committed();
    drop(log);
    // Roll back: drop the last commit record.
    let p = d.path().join("log/commits.log");
    let (mut all, _) = read_commits(&p).unwrap();
    all.pop();
    std::fs::write(&p, all.iter().flat_map(|r| r.encode()).collect::<Vec<u8>>()).unwrap();
    assert_eq!(verify_dir(d.path(), None).unwrap(), 500);
    assert_eq!(
        verify_dir(d.path(), Some(&late.checkpoint)).unwrap_err(),
        SignedLogError::RolledBack { now: 500, earlier: 900 }
    );
    // A saved checkpoint of the earlier size is still consistent.
    assert_eq!(verify_dir(d.path(), Some(&early.checkpoint)).unwrap(), 500);

    // Rewrite: a different log with the same key whose history differs from `early`.
    let d2 = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d2.path().join("log")).unwrap();
    LogStore::init(d2.path(), ORIGIN).unwrap();
    std::fs::copy(d.path().join("log/log.key"), d2.path().join("log/log.key")).unwrap();
    // Re-sign the empty checkpoint with the copied key so the store opens.
    let key = Signer::from_private_key_text(&std::fs::read_to_string(d.path().join("log/log.key")).unwrap())
        .unwrap();
    let empty = Checkpoint {
        origin: ORIGIN.into(),
        size: 0,
        root: custos_tlog::merkle::empty_root(),
        extensions: vec![],
    };
    replace_last_commit(
        d2.path(),
        CommitRecord {
            size: 0,
            entries_len: 0,
            root: empty.root,
            checkpoint: key.sign(&empty.to_text()).unwrap(),
        },
    );
    let other = LogStore::open(d2.path(), Options::default()).unwrap();
    other.append_batch((0..600).map(|i| format!("other {i}").into_bytes()).collect()).unwrap();
    drop(other);
    assert_eq!(
        verify_dir(d2.path(), Some(&early.checkpoint)).unwrap_err(),
        SignedLogError::Forked { size: 500 }
    );
}
