//! NID and mobile-number extraction; every hit re-classifies to itself.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| custos_leak::fuzzing::extract(data));
