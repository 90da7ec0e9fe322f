//! Print a diagnostic view of one simulated evaluation: `cargo run --release -p custos-sim --example diag -- SEED`.
#![allow(clippy::unwrap_used, missing_docs, reason = "diagnostic tool")]
use std::collections::HashMap;

fn main() {
    let seed = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(11);
    let p = custos_sim::Params { seed, citizens: 20_000, officers: 160, days: 45 };
    let w = custos_sim::simulate(p);
    let r = custos_detect::analyze(w.events.iter().cloned(), Some(&w.cases), &w.watch);
    let q = custos_sim::eval::quality(&w, &r, seed);
    println!(
        "events {} auc {:.3} recall {:.2} p@k {:.2} false/1000 {:.2} high/1000 {:.2} explained {:.2}",
        w.events.len(),
        q.auc,
        q.recall_at_budget,
        q.precision_at_k,
        q.false_alerts_per_1000,
        q.false_high_per_1000,
        q.explained_share
    );
    let truth: HashMap<_, _> = w.insiders.iter().map(|i| (i.officer.clone(), i.scenario)).collect();
    for o in r.officers.iter().take(25) {
        println!(
            "{:8.2} {} {:10} {:18} {}",
            o.score,
            o.officer,
            o.unit,
            truth.get(&o.officer).copied().unwrap_or("-"),
            o.reasons.iter().map(|x| format!("{}={:.1}", x.code, x.weight)).collect::<Vec<_>>().join(" ")
        );
    }
    let mut by: HashMap<(String, bool), usize> = HashMap::new();
    for a in &r.alerts {
        *by.entry((a.detector.clone(), truth.contains_key(&a.officer))).or_default() += 1;
    }
    let mut v: Vec<_> = by.into_iter().collect();
    v.sort();
    println!("alerts by detector (insider?): {v:?}");
    for a in r.alerts.iter().filter(|a| !truth.contains_key(&a.officer)).take(12) {
        println!("FP {} {} {:?} {}", a.officer, a.detector, a.severity, a.detail);
    }
    if let Ok(who) = std::env::var("WHO") {
        let onset = w.insiders.iter().find(|i| i.officer == who).map(|i| i.onset).unwrap_or(0);
        for a in r.alerts.iter().filter(|a| a.officer == who) {
            println!(
                "  +{:6.1}h {:?} {} {}",
                (a.unix - onset) as f64 / 3600.0,
                a.severity,
                a.detector,
                a.detail
            );
        }
        let n = w
            .events
            .iter()
            .filter(|e| e.officer == who && e.time >= onset && e.time < onset + 3 * 86400)
            .count();
        println!("  events in first 3 days after onset: {n}");
    }
    for s in &q.scenarios {
        println!(
            "{:20} {} rank {} flag {:?}",
            s.scenario,
            s.officer,
            s.rank,
            s.hours_to_flag.map(|h| h.round())
        );
    }
}
