//! Client certificates' subject names, from arbitrary DER.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = custos_server::tls::subject_common_names(data);
});
