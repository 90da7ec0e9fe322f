//! Access logs (CSV or JSON Lines) through the parser and the detection engine.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| custos_detect::fuzzing::parse_log(data));
