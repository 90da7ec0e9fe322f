//! Detection quality on simulated worlds: ROC AUC over officers, recall within an analyst
//! budget, precision@k, time to the first high alert, false alerts per 1,000 officer-days, and
//! the share of accesses explained.

use std::collections::{HashMap, HashSet};

use custos_detect::{analyze, Report, Severity};

use crate::{simulate, Params, World};

/// Per-scenario outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioResult {
    /// Scenario.
    pub scenario: String,
    /// Officer.
    pub officer: String,
    /// Rank in the risk list (1 = top).
    pub rank: usize,
    /// Hours from the first abusive access to the first high alert (None: never flagged).
    pub hours_to_flag: Option<f64>,
}

/// Quality of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Quality {
    /// Seed.
    pub seed: u64,
    /// Officers.
    pub officers: usize,
    /// Insiders planted.
    pub insiders: usize,
    /// ROC AUC of the score over officers.
    pub auc: f64,
    /// Share of insiders within the top 2×insiders.
    pub recall_at_budget: f64,
    /// Share of the top-k (k = insiders) who are insiders.
    pub precision_at_k: f64,
    /// Alerts (any severity) on officers who are not insiders, per 1,000 officer-days.
    pub false_alerts_per_1000: f64,
    /// High-or-above alerts on non-insiders per 1,000 officer-days.
    pub false_high_per_1000: f64,
    /// Share of accesses explained by a case.
    pub explained_share: f64,
    /// Per insider.
    pub scenarios: Vec<ScenarioResult>,
}

/// ROC AUC (probability that a random positive outranks a random negative; ties count half).
pub fn auc(scores: &[(f64, bool)]) -> f64 {
    let pos: Vec<f64> = scores.iter().filter(|s| s.1).map(|s| s.0).collect();
    let neg: Vec<f64> = scores.iter().filter(|s| !s.1).map(|s| s.0).collect();
    if pos.is_empty() || neg.is_empty() {
        return f64::NAN;
    }
    let mut wins = 0.0;
    for p in &pos {
        for n in &neg {
            wins += if p > n {
                1.0
            } else if (p - n).abs() < f64::EPSILON {
                0.5
            } else {
                0.0
            };
        }
    }
    wins / (pos.len() * neg.len()) as f64
}

/// Score a report against a world's ground truth.
pub fn quality(world: &World, report: &Report, seed: u64) -> Quality {
    let truth: HashMap<&str, &crate::Insider> =
        world.insiders.iter().map(|i| (i.officer.as_str(), i)).collect();
    let scores: Vec<(f64, bool)> =
        report.officers.iter().map(|o| (o.score, truth.contains_key(o.officer.as_str()))).collect();
    let k = world.insiders.len();
    let top =
        |n: usize| report.officers.iter().take(n).filter(|o| truth.contains_key(o.officer.as_str())).count();
    let mut officer_days: HashSet<(&str, i64)> = HashSet::new();
    for e in &world.events {
        officer_days.insert((e.officer.as_str(), (e.time + i64::from(e.offset)).div_euclid(86_400)));
    }
    let od = officer_days.len().max(1) as f64;
    let false_alerts =
        report.alerts.iter().filter(|a| !truth.contains_key(a.officer.as_str())).count() as f64;
    let false_high = report
        .alerts
        .iter()
        .filter(|a| a.severity >= Severity::High && !truth.contains_key(a.officer.as_str()))
        .count() as f64;
    let mut first_high: HashMap<&str, i64> = HashMap::new();
    for a in &report.alerts {
        if a.severity >= Severity::High {
            let e = first_high.entry(a.officer.as_str()).or_insert(a.unix);
            *e = (*e).min(a.unix);
        }
    }
    let scenarios = world
        .insiders
        .iter()
        .map(|i| ScenarioResult {
            scenario: i.scenario.to_string(),
            officer: i.officer.clone(),
            rank: report.officers.iter().position(|o| o.officer == i.officer).map_or(usize::MAX, |p| p + 1),
            hours_to_flag: first_high.get(i.officer.as_str()).map(|&t| (t - i.onset) as f64 / 3600.0),
        })
        .collect();
    let total: u64 = report.officers.iter().map(|o| o.accesses).sum();
    let explained: f64 = report.officers.iter().map(|o| o.explained_share * o.accesses as f64).sum();
    Quality {
        seed,
        officers: report.officers.len(),
        insiders: k,
        auc: auc(&scores),
        recall_at_budget: top(2 * k) as f64 / k.max(1) as f64,
        precision_at_k: top(k) as f64 / k.max(1) as f64,
        false_alerts_per_1000: 1000.0 * false_alerts / od,
        false_high_per_1000: 1000.0 * false_high / od,
        explained_share: explained / total.max(1) as f64,
        scenarios,
    }
}

/// Simulate and evaluate one seed.
pub fn evaluate(p: Params) -> Quality {
    let world = simulate(p);
    let report = analyze(world.events.iter().cloned(), Some(&world.cases), &world.watch);
    quality(&world, &report, p.seed)
}
