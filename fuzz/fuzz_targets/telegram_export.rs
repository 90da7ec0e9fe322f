//! Telegram Desktop exports (JSON with `\xHH`, HTML) from arbitrary bytes.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| custos_leak::fuzzing::parse_export(data));
