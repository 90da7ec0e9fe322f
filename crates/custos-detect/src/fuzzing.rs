//! Entry point of the access-log fuzz target. It must never panic.

/// Parse arbitrary bytes as an access log (read afresh and into one reused event, and through
/// the decoding of gzip and UTF-16), a case file and a watch list, and run every valid row
/// through the engine.
pub fn parse_log(data: &[u8]) {
    if let Ok(rdr) = crate::input::LogReader::new(data) {
        let mut e = crate::Engine::new(crate::Config::default());
        for row in rdr.take(10_000).flatten() {
            e.push(&row);
        }
        let _ = e.report();
    }
    // The path `custos analyze` takes: one event refilled row after row.
    if let Ok(mut rdr) = crate::input::LogReader::new(data) {
        let mut e = crate::Engine::new(crate::Config::default());
        let mut ev = crate::Event::default();
        for _ in 0..10_000 {
            match rdr.read_event(&mut ev) {
                None => break,
                Some(Ok(())) => e.push(&ev),
                Some(Err(_)) => ev = crate::Event::default(),
            }
        }
        let _ = e.report();
    }
    // Bytes that may be gzip or UTF-16 (a bad stream is an error of the row it cuts).
    if let Ok(text) = crate::input::decoded(std::io::Cursor::new(data.to_vec())) {
        if let Ok(rdr) = crate::input::LogReader::new(text) {
            for row in rdr.take(10_000).flatten() {
                std::hint::black_box(row);
            }
        }
    }
    let _ = crate::input::read_cases(data);
    let _ = crate::input::read_watch(data);
}
