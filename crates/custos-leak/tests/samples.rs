//! The real-format Telegram Desktop samples in `../shared/samples/telegram/` (third-party
//! files, read at test time), and never-panic properties for the parsers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code")]

use std::path::PathBuf;

use custos_leak::telegram::{JsonMessages, Message};
use proptest::prelude::*;

fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/samples/telegram").join(name)
}

fn read(name: &str) -> (Vec<Message>, usize) {
    let f = std::fs::File::open(sample(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut ok = Vec::new();
    let mut bad = 0;
    for m in JsonMessages::new(f, 0) {
        match m {
            Ok(m) => ok.push(m),
            Err(_) => bad += 1,
        }
    }
    (ok, bad)
}

#[test]
fn dm_export_with_mixed_text_and_dates() {
    let (m, bad) = read("DM_2A_7M.json");
    // Seven chat messages and one service message at the end (plus the opening one): 8 objects.
    assert_eq!((m.len(), bad), (8, 0));
    assert!(m.iter().all(|x| x.date.is_some()), "{m:#?}");
    assert!(m.iter().any(|x| !x.text.is_empty()));
}

#[test]
fn big_generated_group_export() {
    let (m, bad) = read("BIG_20A_5475M.json");
    assert_eq!((m.len(), bad), (5475, 0));
    assert!(m.iter().filter(|x| x.date.is_some()).count() > 5000);
}

#[test]
fn chat_miner_single_and_account_exports() {
    let (single, bad) = read("chatminer_single_export.json");
    assert_eq!(bad, 0);
    assert!(!single.is_empty());
    let (batch, bad) = read("chatminer_batch_export.json");
    assert_eq!(bad, 0);
    assert!(!batch.is_empty());
    assert!(batch.iter().all(|m| !m.chat.is_empty()), "{batch:#?}");
}

proptest! {
    #[test]
    fn parsers_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        custos_leak::fuzzing::parse_export(&data);
        custos_leak::fuzzing::extract(&data);
    }

    #[test]
    fn json_like_input_never_panics(s in r#"[\{\}\[\]",:a-z0-9\\ x]{0,300}"#) {
        custos_leak::fuzzing::parse_export(s.as_bytes());
    }

    #[test]
    fn extracted_identifiers_reclassify(s in "[0-9০-৯ +().-]{0,60}") {
        custos_leak::fuzzing::extract(s.as_bytes());
    }
}
