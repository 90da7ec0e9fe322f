//! Inclusion and consistency proof verification on arbitrary input; honest proofs always verify.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| custos_tlog::fuzzing::verify_proofs(data));
