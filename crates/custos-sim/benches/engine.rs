//! Throughput of the streaming detection engine on a simulated agency, beside a baseline loop
//! that only touches each event (clone + hash of the officer name) in the same run.
//! Run: `cargo bench -p custos-sim --bench engine`.

#![allow(missing_docs, clippy::unwrap_used, reason = "benchmark code")]

use std::hash::{Hash, Hasher};
use std::time::Instant;

/// The allocator the `custos` binary ships with (jemalloc, huge pages on: `.cargo/config.toml`),
/// so the bench measures the engine as `custos analyze` runs it.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    let w =
        custos_sim::simulate(custos_sim::Params { seed: 3, citizens: 500_000, officers: 2_400, days: 60 });
    let n = w.events.len() as f64;
    let t = Instant::now();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for e in &w.events {
        e.officer.hash(&mut h);
        e.subject.hash(&mut h);
    }
    let base = t.elapsed().as_secs_f64();
    // One core (the day's close on one thread), then as `custos analyze` runs it (the close on
    // two threads where there is a second core).
    let run = |threads: Option<usize>| {
        let mut best = f64::MAX;
        for _ in 0..3 {
            let t = Instant::now();
            let mut eng = custos_detect::Engine::new(custos_detect::Config::default());
            if let Some(n) = threads {
                eng.set_close_threads(n);
            }
            eng.load_cases(&w.cases);
            eng.load_watch(&w.watch);
            for e in &w.events {
                eng.push(e);
            }
            let r = eng.report();
            best = best.min(t.elapsed().as_secs_f64());
            assert!(!r.officers.is_empty());
        }
        best
    };
    let one = run(Some(1));
    let default = run(None);
    println!(
        "| events | baseline: hash officer+subject per event | engine, one core: push every event + final report | engine, the close on two threads |"
    );
    println!("|---|---|---|---|");
    println!(
        "| {n:.0} | {:.1} M events/s (h={}) | {:.2} M events/s ({:.2} s) | {:.2} M events/s ({:.2} s) |",
        n / base / 1e6,
        h.finish() % 10,
        n / one / 1e6,
        one,
        n / default / 1e6,
        default
    );
}
