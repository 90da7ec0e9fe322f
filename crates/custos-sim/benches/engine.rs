//! Throughput of the streaming detection engine on a simulated agency, beside a baseline loop
//! that only touches each event (a hash of its officer and subject) in the same run; the
//! events laid out in time order, as a reader hands them over (and, for comparison, as the
//! simulator leaves them).
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
    // The events as a reader hands them over: `custos analyze` fills one event from each row
    // and the gateway one from each request, so the event's text is fresh in cache. The
    // simulator's own events were built officer by officer and then sorted by time, so their
    // strings lie scattered over the heap and reading each costs a cache miss that neither of
    // those paths has; copied in time order, their strings follow each other in memory.
    let fresh: Vec<custos_detect::Event> = w.events.to_vec();
    let n = fresh.len() as f64;
    let t = Instant::now();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for e in &fresh {
        e.officer.hash(&mut h);
        e.subject.hash(&mut h);
    }
    let base = t.elapsed().as_secs_f64();
    // One core (the day's close on one thread), then as `custos analyze` runs it (the close on
    // two threads where there is a second core); and on one core over the simulator's own,
    // scattered events.
    let run = |threads: Option<usize>, events: &[custos_detect::Event]| {
        let mut best = f64::MAX;
        for _ in 0..3 {
            let t = Instant::now();
            let mut eng = custos_detect::Engine::new(custos_detect::Config::default());
            if let Some(n) = threads {
                eng.set_close_threads(n);
            }
            eng.load_cases(&w.cases);
            eng.load_watch(&w.watch);
            for e in events {
                eng.push(e);
            }
            let r = eng.report();
            best = best.min(t.elapsed().as_secs_f64());
            assert!(!r.officers.is_empty());
        }
        best
    };
    let one = run(Some(1), &fresh);
    let default = run(None, &fresh);
    let scattered = run(Some(1), &w.events);
    println!(
        "| events | baseline: hash officer+subject per event | engine, one core: push every event + final report | engine, the close on two threads | engine, one core, the simulator's scattered events |"
    );
    println!("|---|---|---|---|---|");
    println!(
        "| {n:.0} | {:.1} M events/s (h={}) | {:.2} M events/s ({:.2} s) | {:.2} M events/s ({:.2} s) | {:.2} M events/s ({:.2} s) |",
        n / base / 1e6,
        h.finish() % 10,
        n / one / 1e6,
        one,
        n / default / 1e6,
        default,
        n / scattered / 1e6,
        scattered
    );
}
