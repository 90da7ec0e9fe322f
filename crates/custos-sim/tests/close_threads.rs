//! The day's close may score officers on two threads; what the engine decides must not depend
//! on it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code")]

use custos_detect::{Config, Engine, Report};
use custos_sim::Params;

fn run(w: &custos_sim::World, threads: usize) -> Report {
    let mut eng = Engine::new(Config::default());
    eng.set_close_threads(threads);
    eng.load_cases(&w.cases);
    eng.load_watch(&w.watch);
    for e in &w.events {
        eng.push(e);
    }
    eng.report()
}

#[test]
fn the_close_on_two_threads_decides_exactly_as_on_one() {
    // Enough officers for the close to split its work (see `PARALLEL_MIN` in custos-detect).
    let w = custos_sim::simulate(Params { seed: 5, citizens: 20_000, officers: 700, days: 12 });
    let one = run(&w, 1);
    let two = run(&w, 2);
    assert!(one.officers.len() >= 600, "{} officers", one.officers.len());
    assert!(!one.alerts.is_empty(), "no alerts to compare");
    assert_eq!(one, two);
}
