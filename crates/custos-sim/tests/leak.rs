//! Leak attribution on simulated agencies: channels mixing leaked records with random numbers
//! and reposts of records many officers pulled legitimately; lone sellers, the seed-case pair,
//! colluding officers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code")]

use std::collections::{BTreeMap, BTreeSet};

use custos_leak::attribution::{attribute, Access, Leaked, DEFAULT_P};
use custos_leak::extract::extract;
use custos_leak::telegram::JsonMessages;
use custos_sim::{simulate, telegram_export, Params};

#[test]
fn leakers_rank_first_and_pairs_are_the_top_coalition() {
    let mut scenarios = 0;
    let mut first = 0;
    for seed in [21u64, 22, 23] {
        let w = simulate(Params { seed, citizens: 20_000, officers: 160, days: 45 });
        let accesses: Vec<Access> = w
            .events
            .iter()
            .filter(|e| e.allowed)
            .map(|e| Access {
                officer: e.officer.clone(),
                subject: e.subject.clone(),
                time: e.time,
                case: e.case.clone(),
            })
            .collect();
        // Records many officers pulled legitimately (reposted "famous" records).
        let mut holders: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for e in &w.events {
            holders.entry(e.subject.as_str()).or_default().insert(e.officer.as_str());
        }
        let popular: Vec<(String, i64)> = holders
            .iter()
            .filter(|(_, o)| o.len() >= 3)
            .take(15)
            .map(|(s, _)| (s.to_string(), w.events[0].time + 40 * 86_400))
            .collect();
        let by_scenario = |name: &str| -> Vec<String> {
            w.insiders.iter().filter(|i| i.scenario == name).map(|i| i.officer.clone()).collect()
        };
        for scenario in ["seed_case_pair", "colluding_pair", "low_and_slow"] {
            let sellers = by_scenario(scenario);
            let mut posts: Vec<(String, i64)> = w
                .leaked
                .iter()
                .filter(|l| sellers.contains(&l.officer))
                .map(|l| (l.subject.clone(), l.time))
                .collect();
            posts.sort();
            posts.dedup_by(|a, b| a.0 == b.0);
            if posts.len() < 10 {
                continue;
            }
            posts.truncate(60);
            posts.extend(popular.iter().cloned());
            // Random numbers nobody pulled.
            for k in 0..20 {
                posts.push((format!("88017{:08}", 12_345_678 + k * 7919), w.events[0].time + 86_400));
            }
            let export = telegram_export("Data Bazar", &posts, seed);
            let mut leaked = Vec::new();
            for m in JsonMessages::new(export.as_bytes(), 6 * 3600) {
                let m = m.unwrap();
                for h in extract(&m.text) {
                    leaked.push(Leaked { subject: h.value, posted: m.date });
                }
            }
            let a = attribute(&accesses, &leaked, DEFAULT_P, 20);
            scenarios += 1;
            let top = &a.suspects[0].officer;
            if sellers.contains(top) {
                first += 1;
            } else {
                eprintln!(
                    "seed {seed} {scenario}: top suspect {top}, sellers {sellers:?}: {:?}",
                    &a.suspects[..3]
                );
            }
            if sellers.len() == 2 {
                let mut want = sellers.clone();
                want.sort();
                assert_eq!(
                    a.coalitions[0].officers,
                    want,
                    "seed {seed} {scenario}: {:?}",
                    &a.coalitions[..3]
                );
            }
        }
    }
    assert!(scenarios >= 6, "{scenarios} scenarios");
    assert_eq!(first, scenarios, "true leaker first in {first} of {scenarios}");
}
