//! Who leaked it: the guilt model of Papadimitriou & Garcia-Molina ("Data Leakage Detection",
//! IEEE TKDE 2011), over the accesses made before each leaked record was posted.
//!
//! For each leaked record `r`, `V_r` is the set of officers who pulled it before it appeared.
//! With `p` the probability that the leaker obtained a record some other way (guessing, another
//! source), the record was leaked by one given holder with probability `(1 - p) / |V_r|`, so
//!
//! `Pr{G_i | S} = 1 - Π_{r ∈ S, i ∈ V_r} (1 - (1 - p) / |V_r|)`.
//!
//! Records only one officer pulled weigh most; records many officers pulled weigh little; records
//! nobody pulled say nothing about anyone. Coalitions (pairs, and triples when pairs do not explain
//! the leak) are ranked by the expected number of leaked records they are responsible for,
//! `Σ_r (1 - p)·|C ∩ V_r| / |V_r|`, each member carrying at least two records' worth; their
//! guilt is computed with the coalition as one agent.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

/// One access to a subject by an officer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// Officer.
    pub officer: String,
    /// Subject (normalised identifier or commitment).
    pub subject: String,
    /// Unix seconds.
    pub time: i64,
    /// Case cited.
    pub case: String,
}

/// A leaked record: its subject key and when it was first posted (if known).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaked {
    /// Subject key, as in the accesses.
    pub subject: String,
    /// First posting time.
    pub posted: Option<i64>,
}

/// A ranked suspect.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suspect {
    /// Officer.
    pub officer: String,
    /// Probability of guilt under the model.
    pub guilt: f64,
    /// Leaked records this officer pulled before they were posted.
    pub covered: usize,
    /// Of those, records no other officer pulled.
    pub exclusive: usize,
    /// First such access (RFC 3339).
    pub first_access: String,
    /// Last such access (RFC 3339).
    pub last_access: String,
    /// Cases cited for those accesses.
    #[serde(skip)]
    pub cases: Vec<String>,
}

/// A ranked coalition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coalition {
    /// Members.
    pub officers: Vec<String>,
    /// Leaked records the coalition pulled.
    pub covered: usize,
    /// Probability that the coalition (as one agent) leaked them.
    pub guilt: f64,
    /// Expected number of leaked records the coalition is responsible for (the ranking key).
    #[serde(skip)]
    pub weight: f64,
}

/// The attribution of one leak.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribution {
    /// Leaked records matched to at least one access before posting.
    pub matched: usize,
    /// Suspects, most likely first.
    pub suspects: Vec<Suspect>,
    /// Coalitions, most likely first.
    pub coalitions: Vec<Coalition>,
}

/// Probability that a leaked record came from somewhere other than the officers who pulled it.
pub const DEFAULT_P: f64 = 0.2;

fn guilt(records: &[&BTreeSet<usize>], members: &[usize], p: f64) -> f64 {
    let mut keep = 1.0;
    for v in records {
        let k = members.iter().filter(|m| v.contains(m)).count();
        if k > 0 {
            keep *= 1.0 - (1.0 - p) * k as f64 / v.len() as f64;
        }
    }
    1.0 - keep
}

/// Attribute a leak given the accesses (any order). Accesses after a record's posting time do
/// not count; with no posting time, every access counts.
pub fn attribute(accesses: &[Access], leaked: &[Leaked], p: f64, max_suspects: usize) -> Attribution {
    let mut officers: Vec<String> = Vec::new();
    let mut oid: HashMap<&str, usize> = HashMap::new();
    let mut by_subject: HashMap<&str, Vec<&Access>> = HashMap::new();
    for a in accesses {
        by_subject.entry(a.subject.as_str()).or_default().push(a);
    }
    // V_r per leaked record (deduplicated by subject, earliest posting).
    let mut posted: BTreeMap<&str, Option<i64>> = BTreeMap::new();
    for l in leaked {
        let e = posted.entry(l.subject.as_str()).or_insert(l.posted);
        *e = match (*e, l.posted) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    let mut holders: Vec<BTreeSet<usize>> = Vec::new();
    let mut first_last: HashMap<usize, (i64, i64, BTreeSet<String>)> = HashMap::new();
    for (subject, when) in &posted {
        let Some(list) = by_subject.get(subject) else { continue };
        let mut v = BTreeSet::new();
        for a in list {
            if when.is_some_and(|t| a.time > t) {
                continue;
            }
            let i = *oid.entry(a.officer.as_str()).or_insert_with(|| {
                officers.push(a.officer.clone());
                officers.len() - 1
            });
            v.insert(i);
            let e = first_last.entry(i).or_insert((a.time, a.time, BTreeSet::new()));
            e.0 = e.0.min(a.time);
            e.1 = e.1.max(a.time);
            if !a.case.is_empty() {
                e.2.insert(a.case.clone());
            }
        }
        if !v.is_empty() {
            holders.push(v);
        }
    }
    let recs: Vec<&BTreeSet<usize>> = holders.iter().collect();
    let mut suspects: Vec<Suspect> = (0..officers.len())
        .map(|i| {
            let covered = recs.iter().filter(|v| v.contains(&i)).count();
            let exclusive = recs.iter().filter(|v| v.len() == 1 && v.contains(&i)).count();
            let (f, l, cases) = first_last.get(&i).cloned().unwrap_or((0, 0, BTreeSet::new()));
            Suspect {
                officer: officers[i].clone(),
                guilt: guilt(&recs, &[i], p),
                covered,
                exclusive,
                first_access: custos_detect::time::format_utc(f),
                last_access: custos_detect::time::format_utc(l),
                cases: cases.into_iter().collect(),
            }
        })
        .collect();
    suspects.sort_by(|a, b| {
        b.guilt.total_cmp(&a.guilt).then(b.exclusive.cmp(&a.exclusive)).then(a.officer.cmp(&b.officer))
    });

    // Coalitions among the strongest suspects.
    let top: Vec<usize> =
        suspects.iter().take(30).filter_map(|s| oid.get(s.officer.as_str()).copied()).collect();
    let cover = |m: &[usize]| recs.iter().filter(|v| m.iter().any(|x| v.contains(x))).count();
    // Expected number of leaked records an agent (or coalition) is responsible for under the
    // model: Σ_r (1 - p)·|C ∩ V_r| / |V_r|. Every member must carry at least two records' worth,
    // so a coalition is not padded with officers who merely pulled popular records.
    let share = |m: &[usize]| -> f64 {
        recs.iter()
            .map(|v| {
                let k = m.iter().filter(|x| v.contains(x)).count();
                (1.0 - p) * k as f64 / v.len() as f64
            })
            .sum()
    };
    // Two records' worth: two records the officer alone pulled, each the leaker's with
    // probability `1 - p` (so `2·(1 - p)`, not 2, which two such records never reach).
    let adds = |m: &[usize]| m.iter().all(|x| share(&[*x]) >= 2.0 * (1.0 - p) - 1e-9);
    let mut coalitions: Vec<Coalition> = Vec::new();
    let make = |m: Vec<usize>| -> Option<Coalition> {
        adds(&m).then(|| {
            let mut names: Vec<String> = m.iter().map(|&i| officers[i].clone()).collect();
            names.sort();
            Coalition { officers: names, covered: cover(&m), guilt: guilt(&recs, &m, p), weight: share(&m) }
        })
    };
    for (a, &x) in top.iter().enumerate() {
        for &y in &top[a + 1..] {
            coalitions.extend(make(vec![x, y]));
        }
    }
    let best_pair = coalitions.iter().map(|c| c.covered).max().unwrap_or(0);
    if !recs.is_empty() && best_pair * 10 < recs.len() * 9 {
        let t: Vec<usize> = top.iter().take(15).copied().collect();
        for a in 0..t.len() {
            for b in a + 1..t.len() {
                for c in b + 1..t.len() {
                    coalitions.extend(make(vec![t[a], t[b], t[c]]));
                }
            }
        }
    }
    // Parsimony: a coalition is kept only if it explains at least a fifth more than the best
    // coalition (or single officer) inside it — a third member who merely pulled some popular
    // records does not make a better explanation of the leak.
    let by_name: HashMap<&str, usize> = officers.iter().enumerate().map(|(i, o)| (o.as_str(), i)).collect();
    coalitions.retain(|c| {
        let m: Vec<usize> = c.officers.iter().filter_map(|o| by_name.get(o.as_str()).copied()).collect();
        let best_sub = (0..m.len())
            .map(|skip| {
                let sub: Vec<usize> =
                    m.iter().enumerate().filter(|(k, _)| *k != skip).map(|(_, x)| *x).collect();
                share(&sub)
            })
            .fold(0.0, f64::max);
        c.weight >= 1.2 * best_sub
    });
    coalitions.sort_by(|a, b| {
        b.weight
            .total_cmp(&a.weight)
            .then(a.officers.len().cmp(&b.officers.len()))
            .then(a.officers.cmp(&b.officers))
    });
    coalitions.truncate(10);
    suspects.truncate(max_suspects);
    Attribution { matched: recs.len(), suspects, coalitions }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acc(o: &str, s: &str, t: i64) -> Access {
        Access { officer: o.into(), subject: s.into(), time: t, case: String::new() }
    }

    #[test]
    fn exclusive_pulls_weigh_most_and_late_pulls_do_not_count() {
        let mut a = vec![];
        for k in 0..10 {
            a.push(acc("seller", &format!("s{k}"), 100));
        }
        // Everyone looked at the famous subject s0.
        for o in 0..20 {
            a.push(acc(&format!("o{o}"), "s0", 50));
        }
        // o1 pulled s5 only after it was posted.
        a.push(acc("o1", "s5", 10_000));
        let leaked: Vec<Leaked> = (0..10)
            .map(|k| Leaked { subject: format!("s{k}"), posted: Some(1000) })
            .chain([Leaked { subject: "random".into(), posted: Some(1000) }])
            .collect();
        let r = attribute(&a, &leaked, DEFAULT_P, 10);
        assert_eq!(r.matched, 10);
        assert_eq!(r.suspects[0].officer, "seller");
        assert_eq!((r.suspects[0].covered, r.suspects[0].exclusive), (10, 9));
        assert!(r.suspects[0].guilt > 0.99);
        assert!(r.suspects[1].guilt < 0.1);
    }

    #[test]
    fn a_partner_with_two_records_only_they_pulled_joins_the_coalition_one_with_one_does_not() {
        // A small leak: four records only `a` pulled, two only `b` pulled, and records many
        // officers pulled; `c` alone pulled one.
        let mut a = vec![];
        for (who, k) in [("a", 0), ("a", 1), ("a", 2), ("a", 3), ("b", 4), ("b", 5), ("c", 6)] {
            a.push(acc(who, &format!("s{k}"), 10));
        }
        for o in 0..6 {
            a.push(acc(&format!("o{o}"), "popular", 10));
        }
        let leaked: Vec<Leaked> = (0..7)
            .map(|k| format!("s{k}"))
            .chain(["popular".into()])
            .map(|subject| Leaked { subject, posted: None })
            .collect();
        let r = attribute(&a, &leaked, DEFAULT_P, 10);
        assert_eq!(r.coalitions[0].officers, ["a", "b"]);
        assert_eq!(r.coalitions[0].covered, 6);
        assert!(r.coalitions.iter().all(|c| !c.officers.contains(&"c".to_string())), "{:?}", r.coalitions);
    }

    #[test]
    fn colluding_pair_is_the_top_coalition() {
        let mut a = vec![];
        for k in 0..12 {
            let who = if k % 2 == 0 { "a" } else { "b" };
            a.push(acc(who, &format!("s{k}"), 10));
            a.push(acc(&format!("noise{k}"), &format!("s{k}"), 10));
        }
        let leaked: Vec<Leaked> =
            (0..12).map(|k| Leaked { subject: format!("s{k}"), posted: None }).collect();
        let r = attribute(&a, &leaked, DEFAULT_P, 10);
        assert_eq!(r.coalitions[0].officers, vec!["a".to_string(), "b".to_string()]);
        assert_eq!(r.coalitions[0].covered, 12);
    }
}
