//! Profile helper: time the pieces of a Cedar decision.
#![allow(missing_docs, clippy::unwrap_used, reason = "profiling tool")]
use custos_policy::*;
fn main() {
    let p = Policy::default_policy().unwrap();
    let now = 1_800_000_000;
    let req = AccessRequest {
        action: ActionKind::IdentityLookup,
        officer: OfficerFacts {
            id: "inv1".into(),
            active: true,
            unit: "ATU".into(),
            roles: vec!["investigator".into()],
        },
        case: CaseFacts {
            id: "C1".into(),
            unit: "ATU".into(),
            open: true,
            covert: false,
            officers: vec!["inv1".into(), "inv7".into()],
        },
        warrant: Some(WarrantFacts {
            id: "W1".into(),
            status: "active".into(),
            case: "C1".into(),
            issuer: "rev1".into(),
            issuer_unit: "COURT".into(),
            issuer_is_reviewer: true,
            subjects: (0..12).map(|i| format!("subject-index-{i}")).collect(),
            categories: vec!["identity".into()],
            data_from: 0,
            data_to: now,
            valid_from: now - 10,
            valid_to: now + 86_400,
        }),
        now,
        hour: 10,
        hours: (0, 24),
        subject: "subject-index-3".into(),
        category: "identity".into(),
        period: (0, 0),
        purpose: "x".into(),
        quota_used: 3,
        quota_limit: 200,
        subscribers: 1,
        approval_threshold: 5,
        approved: false,
        break_glass: false,
    };
    let t = std::time::Instant::now();
    for _ in 0..50_000 {
        std::hint::black_box(p.decide(&req));
    }
    println!("{:.1} µs", t.elapsed().as_secs_f64() * 1e6 / 50_000.0);
}
