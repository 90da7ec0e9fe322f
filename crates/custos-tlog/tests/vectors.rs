//! The third-party vectors in `../shared/vectors/`: RFC 6962 proofs from transparency-dev and
//! signed-note known answers from Go's sumdb/note. Read at test time, never copied.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code")]

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use custos_tlog::merkle::{verify_consistency, verify_inclusion, Hash};
use custos_tlog::note::{self, Signer, Verifier};
use serde::Deserialize;

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors")
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("read {}: {e}", d.display())) {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Decode a base64 hash; a value that is not 32 bytes makes the case invalid (`None`).
fn h(s: &str) -> Option<Hash> {
    B64.decode(s).ok()?.try_into().ok()
}

/// Decode a root. Some vectors use placeholder roots that are not 32 bytes ("don't care")
/// where only their equality matters; map those injectively to a hash that no real tree has.
fn root(s: &str) -> Option<Hash> {
    let raw = B64.decode(s).ok()?;
    Some(raw.clone().try_into().unwrap_or_else(|_| {
        use sha2::Digest as _;
        sha2::Sha256::digest([b"placeholder:".as_slice(), &raw].concat()).into()
    }))
}

fn hashes(v: &Option<Vec<String>>) -> Option<Vec<Hash>> {
    v.as_deref().unwrap_or_default().iter().map(|s| h(s)).collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Inclusion {
    leaf_idx: u64,
    tree_size: u64,
    root: String,
    leaf_hash: String,
    proof: Option<Vec<String>>,
    want_err: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Consistency {
    size1: u64,
    size2: u64,
    root1: String,
    root2: String,
    proof: Option<Vec<String>>,
    want_err: bool,
}

#[test]
fn inclusion_vectors() {
    let files = json_files(&shared().join("merkle/inclusion"));
    assert!(files.len() > 50, "expected the inclusion vectors, found {}", files.len());
    let (mut ok, mut rejected) = (0, 0);
    for f in files {
        let v: Inclusion = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        let result = match (h(&v.leaf_hash), root(&v.root), hashes(&v.proof)) {
            (Some(leaf), Some(root), Some(proof)) => {
                verify_inclusion(&leaf, v.leaf_idx, v.tree_size, &proof, &root).is_ok()
            }
            _ => false,
        };
        assert_eq!(result, !v.want_err, "{}", f.display());
        if result {
            ok += 1
        } else {
            rejected += 1
        }
    }
    assert!(ok > 0 && rejected > 0);
}

#[test]
fn consistency_vectors() {
    let files = json_files(&shared().join("merkle/consistency"));
    assert!(files.len() > 50, "expected the consistency vectors, found {}", files.len());
    let (mut ok, mut rejected) = (0, 0);
    for f in files {
        let v: Consistency = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        let result = match (root(&v.root1), root(&v.root2), hashes(&v.proof)) {
            (Some(r1), Some(r2), Some(proof)) => {
                verify_consistency(v.size1, v.size2, &r1, &r2, &proof).is_ok()
            }
            _ => false,
        };
        assert_eq!(result, !v.want_err, "{}", f.display());
        if result {
            ok += 1
        } else {
            rejected += 1
        }
    }
    assert!(ok > 0 && rejected > 0);
}

#[derive(Deserialize)]
struct NoteVectors {
    private_key: String,
    verifier_key: String,
    text: String,
    signed_note: String,
    second_verifier_key: String,
    second_signature_line: String,
    rejected_verifier_keys: Vec<String>,
}

fn note_vectors() -> NoteVectors {
    serde_json::from_str(&std::fs::read_to_string(shared().join("signed-note.json")).unwrap()).unwrap()
}

#[test]
fn signed_note_is_byte_exact() {
    let v = note_vectors();
    let signer = Signer::from_private_key_text(&v.private_key).unwrap();
    assert_eq!(signer.verifier().to_text(), v.verifier_key);
    assert_eq!(signer.private_key_text(), v.private_key);
    assert_eq!(format!("{:08x}", signer.key_id()), v.verifier_key.split('+').nth(1).unwrap());
    assert_eq!(signer.sign(&v.text).unwrap(), v.signed_note);
    let verifier = Verifier::from_text(&v.verifier_key).unwrap();
    let (n, sigs) = note::open(&v.signed_note, std::slice::from_ref(&verifier)).unwrap();
    assert_eq!(n.text, v.text);
    assert_eq!(sigs.len(), 1);
}

#[test]
fn signed_note_two_signers_and_unknown_keys() {
    let v = note_vectors();
    let both = format!("{}{}", v.signed_note, v.second_signature_line);
    let first = Verifier::from_text(&v.verifier_key).unwrap();
    let second = Verifier::from_text(&v.second_verifier_key).unwrap();
    // Knowing only one key, the other line is ignored.
    assert_eq!(note::open(&both, std::slice::from_ref(&first)).unwrap().1.len(), 1);
    assert_eq!(note::open(&both, std::slice::from_ref(&second)).unwrap().1.len(), 1);
    assert_eq!(note::open(&both, &[first, second.clone()]).unwrap().1.len(), 2);
    // The first note alone is not signed by the second key.
    assert!(note::open(&v.signed_note, &[second]).is_err());
}

#[test]
fn rejected_verifier_keys() {
    let v = note_vectors();
    assert!(!v.rejected_verifier_keys.is_empty());
    for k in &v.rejected_verifier_keys {
        assert!(Verifier::from_text(k).is_err(), "accepted {k}");
    }
}
