//! Entry point of the access-log fuzz target. It must never panic.

/// Parse arbitrary bytes as an access log, a case file and a watch list, and run every valid
/// row through the engine.
pub fn parse_log(data: &[u8]) {
    if let Ok(rdr) = crate::input::LogReader::new(data) {
        let mut e = crate::Engine::new(crate::Config::default());
        for row in rdr.take(10_000).flatten() {
            e.push(&crate::Event::from(row));
        }
        let _ = e.report();
    }
    let _ = crate::input::read_cases(data);
    let _ = crate::input::read_watch(data);
}
