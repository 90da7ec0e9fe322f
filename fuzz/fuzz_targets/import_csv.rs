//! Agencies' citizens and call-record CSV files, as `custos import` reads them.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| custos_store::fuzzing::import_rows(data));
