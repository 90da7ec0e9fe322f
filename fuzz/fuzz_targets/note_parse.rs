//! Signed notes, checkpoints, keys, tile paths, witness bodies and entry bundles from
//! arbitrary bytes.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| custos_tlog::fuzzing::parse_untrusted_text(data));
