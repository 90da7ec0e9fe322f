//! Entry points of the fuzz targets. They must never panic.

/// Parse arbitrary bytes as a Telegram JSON export, an HTML page and text, extracting
/// identifiers from every message.
pub fn parse_export(data: &[u8]) {
    for m in crate::telegram::JsonMessages::new(data, 0).take(10_000).flatten() {
        let _ = crate::extract::extract(&m.text);
    }
    let text = String::from_utf8_lossy(data);
    for m in crate::telegram::html_messages(&text, "fuzz", 0) {
        let _ = crate::extract::extract(&m.text);
    }
}

/// Extract identifiers from arbitrary text; every hit re-classifies to itself.
pub fn extract(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for h in crate::extract::extract(&text) {
        let again = crate::extract::classify(&h.value, false);
        assert!(again.is_some_and(|a| a == h), "{h:?} does not re-classify");
    }
}
