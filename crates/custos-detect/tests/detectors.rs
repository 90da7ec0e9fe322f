//! Each detector on crafted streams: it fires on the abuse it is for and stays quiet on the
//! benign look-alike.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code")]

use custos_detect::input::{Action, CaseLinks, LogReader, WatchLabel};
use custos_detect::{Config, Engine, Event, Severity};
use proptest::prelude::*;

const DAY: i64 = 86_400;
const T0: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

fn ev(t: i64, officer: &str, unit: &str, action: Action, subject: &str, case: &str) -> Event {
    Event {
        time: t,
        offset: 0,
        officer: officer.into(),
        unit: unit.into(),
        action,
        subject: subject.into(),
        case: case.into(),
        allowed: true,
        records: 1,
    }
}

/// Twelve officers of one unit doing explained case work 09:00–17:00 for `days` days.
fn background(days: i64, per_day: i64) -> (Vec<Event>, CaseLinks) {
    let mut evs = Vec::new();
    let mut links = CaseLinks::default();
    for o in 0..12 {
        let officer = format!("o{o}");
        let case = format!("C{o}");
        links.officers.push((case.clone(), officer.clone()));
        for k in 0..20 {
            links.subjects.push((case.clone(), format!("{o}{k:08}")));
        }
        for d in 0..days {
            for k in 0..per_day {
                let t = T0 + d * DAY + 9 * 3600 + (k * 8 * 3600) / per_day + o;
                evs.push(ev(
                    t,
                    &officer,
                    "U",
                    Action::IdentityLookup,
                    &format!("{o}{:08}", (d + k) % 20),
                    &case,
                ));
            }
        }
    }
    (evs, links)
}

/// Whether the report holds an alert of `detector` on `officer` at `at_least` or above.
fn flagged(r: &custos_detect::Report, officer: &str, detector: &str, at_least: Severity) -> bool {
    r.alerts.iter().any(|a| a.officer == officer && a.detector == detector && a.severity >= at_least)
}

fn run(mut evs: Vec<Event>, links: &CaseLinks, watch: &[(String, WatchLabel)]) -> custos_detect::Report {
    evs.sort_by_key(|e| e.time);
    let mut e = Engine::new(Config::default());
    e.load_cases(links);
    e.load_watch(watch);
    for x in &evs {
        e.push(x);
    }
    e.report()
}

/// o1 (unit U) finds a number's owner at 10:00 and x9 (unit V, or `x9_unit`) pulls its calls at
/// 15:00, on days 10-15, each citing the case given (or none: "").
fn shared_pulls(evs: &mut Vec<Event>, o1_case: &str, x9_unit: &str, x9_case: &str) {
    for d in 10..16 {
        let s = format!("8801{d:09}");
        evs.push(ev(T0 + d * DAY + 10 * 3600, "o1", "U", Action::SubscriberLookup, &s, o1_case));
        evs.push(ev(T0 + d * DAY + 15 * 3600, "x9", x9_unit, Action::CdrQuery, &s, x9_case));
    }
}

/// The officers with a collusion alert.
fn colluders(r: &custos_detect::Report) -> Vec<&str> {
    r.alerts.iter().filter(|a| a.detector == "collusion").map(|a| a.officer.as_str()).collect()
}

/// Unit D's six desk officers `d0`-`d5` check 40 people a day 08:00-18:00 for `days` days,
/// citing no case; `subject(desk, day, k)` names the k-th person of a desk's day.
fn desk_checks(evs: &mut Vec<Event>, days: i64, subject: impl Fn(i64, i64, i64) -> String) {
    for desk in 0..6 {
        for d in 0..days {
            for k in 0..40 {
                let t = T0 + d * DAY + 8 * 3600 + k * 900 + desk;
                let s = subject(desk, d, k);
                evs.push(ev(t, &format!("d{desk}"), "D", Action::IdentityLookup, &s, ""));
            }
        }
    }
}

#[test]
fn benign_work_raises_nothing() {
    let (evs, links) = background(30, 10);
    let r = run(evs, &links, &[]);
    assert!(r.alerts.is_empty(), "{:#?}", r.alerts);
    assert!(
        r.officers.iter().all(|o| o.score < 3.0),
        "{:?}",
        r.officers.iter().map(|o| o.score).collect::<Vec<_>>()
    );
}

#[test]
fn a_whole_unit_rising_together_is_not_an_alarm() {
    let (mut evs, links) = background(30, 10);
    // Days 20–24: everyone triples their (explained) work after an incident.
    for o in 0..12 {
        for d in 20..25 {
            for k in 0..20 {
                let t = T0 + d * DAY + 10 * 3600 + k * 600 + o;
                evs.push(ev(
                    t,
                    &format!("o{o}"),
                    "U",
                    Action::IdentityLookup,
                    &format!("{o}{:08}", k % 20),
                    &format!("C{o}"),
                ));
            }
        }
    }
    let r = run(evs, &links, &[]);
    assert!(r.alerts.iter().all(|a| a.detector != "volume"), "{:#?}", r.alerts);
}

#[test]
fn unexplained_lookups_are_flagged_with_reasons() {
    let (mut evs, links) = background(30, 10);
    for d in 20..26 {
        for k in 0..4 {
            evs.push(ev(
                T0 + d * DAY + 11 * 3600 + k * 60,
                "o3",
                "U",
                Action::CdrQuery,
                &format!("88017{d:02}{k:06}"),
                "",
            ));
        }
    }
    let r = run(evs, &links, &[]);
    assert_eq!(r.officers[0].officer, "o3");
    assert!(
        r.officers[0].reasons.iter().any(|x| x.code.starts_with("unexplained")),
        "{:?}",
        r.officers[0].reasons
    );
    assert!(r.officers[0].first_flagged.is_some());
    assert!(r.officers[1].score < r.officers[0].score / 4.0);
}

/// `n` unexplained identity lookups (subjects in no case) by `officer` on day `d` during the day shift.
fn unexplained(evs: &mut Vec<Event>, officer: &str, d: i64, n: i64, tag: i64) {
    for k in 0..n {
        let t = T0 + d * DAY + 10 * 3600 + k * 300;
        // Spread out, so that they do not look enumerated.
        let subject = format!("7{:010}", (tag * 1_000 + d * 10 + k) * 7_919_993);
        evs.push(ev(t, officer, "U", Action::IdentityLookup, &subject, ""));
    }
}

#[test]
fn working_more_is_read_as_volume_once_not_again_as_unexplained_access() {
    // Everyone: ten explained lookups a day and two unexplained ones (routine checks).
    let (mut evs, links) = background(40, 10);
    for o in 0..12 {
        for d in 0..40 {
            let busy = o == 1 && d >= 33;
            unexplained(&mut evs, &format!("o{o}"), d, if busy { 8 } else { 2 }, o);
        }
    }
    // o1 works four times as much in the last week, in the same proportions; o2 does the same
    // amount of work as ever but most of it is now unexplained.
    let mut links = links;
    for k in 20..50 {
        links.subjects.push(("C1".into(), format!("1{k:08}")));
    }
    for d in 33..40 {
        for k in 20..50 {
            let t = T0 + d * DAY + 9 * 3600 + k * 600 + 1;
            evs.push(ev(t, "o1", "U", Action::IdentityLookup, &format!("1{k:08}"), "C1"));
        }
        unexplained(&mut evs, "o2", d, 8, 99);
    }
    let r = run(evs, &links, &[]);
    let fired = |o: &str, det: &str| r.alerts.iter().any(|a| a.officer == o && a.detector == det);
    assert!(!fired("o1", "unexplained_access"), "{:#?}", r.alerts);
    assert!(!fired("o1", "combined"), "{:#?}", r.alerts);
    assert!(fired("o2", "unexplained_access"), "{:#?}", r.alerts);
    let weight = |o: &str| {
        let x = r.officers.iter().find(|x| x.officer == o).unwrap();
        x.reasons.iter().filter(|w| w.code == "unexplained_access").map(|w| w.weight).sum::<f64>()
    };
    assert!(weight("o1") < 1.0 && weight("o2") > 5.0, "{:#?}", &r.officers[..2]);
}

/// Each officer's call-record queries on their own case's subjects, citing the case or not.
fn call_records(evs: &mut Vec<Event>, o: usize, days: std::ops::Range<i64>, cite: bool) {
    for d in days {
        for k in 0..2 {
            let t = T0 + d * DAY + 14 * 3600 + k * 900 + o as i64;
            let case = if cite { format!("C{o}") } else { String::new() };
            evs.push(ev(
                t,
                &format!("o{o}"),
                "U",
                Action::CdrQuery,
                &format!("{o}{:08}", (d + k) % 20),
                &case,
            ));
        }
    }
}

#[test]
fn call_records_pulled_citing_no_case_stand_out_only_where_peers_cite_one() {
    // Peers cite their case for every call-record query; o4 stops citing one.
    let (mut evs, links) = background(30, 10);
    for o in 0..12 {
        call_records(&mut evs, o, 0..25, true);
        call_records(&mut evs, o, 25..30, o != 4);
    }
    let r = run(evs, &links, &[]);
    let on_o4: Vec<_> = r.alerts.iter().filter(|a| a.officer == "o4").collect();
    assert!(on_o4.iter().any(|a| a.detail.contains("citing no case")), "{:#?}", r.alerts);
    assert!(r.alerts.iter().all(|a| a.officer == "o4"), "{:#?}", r.alerts);

    // An officer who never cites one is compared with their own habit once it is known.
    let (mut evs, links) = background(40, 10);
    for o in 0..12 {
        call_records(&mut evs, o, 0..40, o != 6);
    }
    let r = run(evs, &links, &[]);
    let late = T0 + 21 * DAY;
    assert!(
        r.alerts
            .iter()
            .all(|a| !(a.officer == "o6" && a.unix >= late && a.detail.contains("citing no case"))),
        "{:#?}",
        r.alerts
    );

    // Where nobody records a case for call records, not citing one says nothing.
    let (mut evs, links) = background(30, 10);
    for o in 0..12 {
        call_records(&mut evs, o, 0..30, false);
    }
    let r = run(evs, &links, &[]);
    assert!(r.alerts.iter().all(|a| !a.detail.contains("citing no case")), "{:#?}", r.alerts);
}

#[test]
fn honeytokens_are_critical_at_once() {
    let (mut evs, links) = background(10, 10);
    evs.push(ev(T0 + 5 * DAY + 12 * 3600, "o7", "U", Action::IdentityLookup, "9999999999", ""));
    let r = run(evs, &links, &[("9999999999".into(), WatchLabel::Honeytoken)]);
    let a = r.alerts.iter().find(|a| a.detector == "honeytoken").unwrap();
    assert_eq!((a.officer.as_str(), a.severity), ("o7", Severity::Critical));
    assert_eq!(a.time, "2026-01-06T12:00:00Z");
    assert_eq!(r.officers[0].officer, "o7");
}

#[test]
fn a_honeytoken_written_with_a_label_in_the_log_is_the_watch_lists_person() {
    // The log writes `NID:` before the number and the watch list the bare number (and a
    // phone number in its local form against the log's `tel:+880…`): the same people.
    let (evs, links) = background(10, 10);
    let csv = "time,officer,unit,action,subject,case,outcome,records\n\
               1767614400,o7,U,NID Check,NID:9999999999,,ok,1\n\
               1767618000,o8,U,CDR Pull,tel:+880 1999-000111,,ok,4\n";
    let mut all = evs;
    all.extend(custos_detect::input::LogReader::new(csv.as_bytes()).unwrap().map(Result::unwrap));
    let watch = custos_detect::input::read_watch(
        "subject,label\n9999999999,honeytoken\n01999000111,decoy\n".as_bytes(),
    )
    .unwrap()
    .value;
    let r = run(all, &links, &watch);
    for o in ["o7", "o8"] {
        assert!(flagged(&r, o, "honeytoken", Severity::Critical), "{o}: {:#?}", r.alerts);
    }
}

#[test]
fn a_credential_used_without_its_certificate_is_high_at_once_and_escalates() {
    let (mut evs, links) = background(10, 10);
    let misuse = |t: i64| {
        let mut e = ev(t, "o4", "U", Action::parse("credential_without_certificate"), "", "");
        e.allowed = false;
        e.records = 0;
        e
    };
    evs.push(misuse(T0 + 6 * DAY + 2 * 3600));
    let r = run(evs.clone(), &links, &[]);
    let a: Vec<_> = r.alerts.iter().filter(|a| a.detector == "credential_misuse").collect();
    assert_eq!(a.len(), 1, "{a:#?}");
    assert_eq!((a[0].officer.as_str(), a[0].severity), ("o4", Severity::High));
    assert!(a[0].detail.contains("without the client certificate"), "{}", a[0].detail);
    let o4 = r.officers.iter().find(|o| o.officer == "o4").unwrap();
    assert_eq!(o4.first_flagged.as_deref(), Some("2026-01-07T02:00:00Z"));
    assert!(o4.reasons.iter().any(|x| x.code == "credential_misuse"));
    assert_eq!(r.officers[0].officer, "o4");
    // Three more the same night: the second is high again (not news), the fourth within the
    // window critical; the honest officers beside raise nothing.
    evs.push(misuse(T0 + 6 * DAY + 2 * 3600 + 60));
    evs.push(misuse(T0 + 6 * DAY + 2 * 3600 + 120));
    evs.push(misuse(T0 + 6 * DAY + 2 * 3600 + 180));
    let r = run(evs, &links, &[]);
    let sev: Vec<_> =
        r.alerts.iter().filter(|a| a.detector == "credential_misuse").map(|a| a.severity).collect();
    assert_eq!(sev, vec![Severity::High, Severity::Critical]);
    assert!(r.alerts.iter().all(|a| a.officer == "o4"), "{:#?}", r.alerts);
}

#[test]
fn a_watch_listed_person_looked_up_says_what_explanation_is_missing() {
    let watch = [("5550001111".to_string(), WatchLabel::Vip), ("5550002222".to_string(), WatchLabel::Vip)];
    // `o1`'s watch-listed alerts (severity, detail) and the detail of their `vip_access` reason,
    // after lookups of the watch-listed persons at the given days and cases.
    let vip = |evs: &mut Vec<Event>, links: &CaseLinks, lookups: &[(&str, i64, &str)]| {
        for (subject, day, case) in lookups {
            evs.push(ev(T0 + day * DAY + 11 * 3600, "o1", "U", Action::IdentityLookup, subject, case));
        }
        let r = run(std::mem::take(evs), links, &watch);
        let alerts: Vec<(Severity, String)> = r
            .alerts
            .iter()
            .filter(|a| a.detector == "vip_access")
            .map(|a| {
                assert_eq!(a.officer, "o1", "{a:#?}");
                (a.severity, a.detail.clone())
            })
            .collect();
        let o1 = r.officers.iter().find(|o| o.officer == "o1").unwrap();
        let reason = o1.reasons.iter().find(|x| x.code == "vip_access").map(|x| x.detail.clone());
        (alerts, reason)
    };
    let (mut evs, links) = background(40, 5);
    let none = CaseLinks::default();
    // Checked against case links: one lookup is high, with or without a case cited.
    let (alerts, _) = vip(&mut evs, &links, &[("5550001111", 5, "C1")]);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert_eq!(alerts[0].0, Severity::High);
    assert!(alerts[0].1.ends_with("not linked to their cases"), "{alerts:#?}");
    evs = background(40, 5).0;
    let (alerts, _) = vip(&mut evs, &links, &[("5550001111", 5, "")]);
    assert_eq!(alerts.iter().map(|a| a.0).collect::<Vec<_>>(), vec![Severity::High]);
    // Where the log links no subjects to cases, nothing can check why: the officer may be
    // working that person's case. One lookup is a reason in the score, not an alert, whether
    // it cites a case, cites none, or the log has no case column at all.
    for case in ["C1", ""] {
        evs = background(40, 5).0;
        let (alerts, reason) = vip(&mut evs, &none, &[("5550001111", 5, case)]);
        assert!(alerts.is_empty(), "{alerts:#?}");
        let reason = reason.unwrap_or_default();
        let why =
            if case.is_empty() { "citing no case" } else { "citing case `C1`, which the log cannot check" };
        assert!(reason.contains(why), "{reason}");
    }
    evs = background(40, 5).0;
    for e in &mut evs {
        e.case.clear();
    }
    let (alerts, reason) = vip(&mut evs, &none, &[("5550001111", 5, "")]);
    assert!(alerts.is_empty(), "{alerts:#?}");
    assert!(reason.unwrap_or_default().ends_with("(the log says nothing of cases)"));
    // A second watch-listed person within a month is high, and says so; after a month the
    // count starts again.
    evs = background(40, 5).0;
    let (alerts, _) = vip(&mut evs, &none, &[("5550001111", 5, "C1"), ("5550002222", 25, "C1")]);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert_eq!(alerts[0].0, Severity::High);
    assert!(
        alerts[0].1.contains("`5550002222`")
            && alerts[0].1.ends_with("1 other watch-listed lookup in the last 28 days")
    );
    evs = background(40, 5).0;
    let (alerts, _) = vip(&mut evs, &none, &[("5550001111", 5, ""), ("5550002222", 9, "")]);
    assert_eq!(alerts.iter().map(|a| a.0).collect::<Vec<_>>(), vec![Severity::High]);
    evs = background(40, 5).0;
    let (alerts, _) = vip(&mut evs, &none, &[("5550001111", 3, "C1"), ("5550002222", 35, "C1")]);
    assert!(alerts.is_empty(), "{alerts:#?}");
    // The same person looked up again and again under the same case (that case's target) is
    // the lookup already counted, whatever the days between; under another case it is a
    // second claim, and high.
    let again = [
        ("5550001111", 5, "C1"),
        ("5550001111", 9, "C1"),
        ("5550001111", 14, "C1"),
        ("5550001111", 20, "C1"),
    ];
    evs = background(40, 5).0;
    let (alerts, _) = vip(&mut evs, &none, &again);
    assert!(alerts.is_empty(), "{alerts:#?}");
    evs = background(40, 5).0;
    let (alerts, _) = vip(&mut evs, &none, &[&again[..], &[("5550001111", 22, "C7")]].concat());
    assert_eq!(alerts.iter().map(|a| a.0).collect::<Vec<_>>(), vec![Severity::High]);
}

#[test]
fn enumerated_identifiers_are_a_sweep() {
    let (mut evs, links) = background(10, 10);
    for k in 0..40 {
        evs.push(ev(
            T0 + 8 * DAY + 23 * 3600 + k * 30,
            "o2",
            "U",
            Action::IdentityLookup,
            &format!("{}", 5_550_000_000u64 + k as u64),
            "",
        ));
    }
    let r = run(evs, &links, &[]);
    assert!(r.alerts.iter().any(|a| a.officer == "o2" && a.detector == "enumeration"), "{:#?}", r.alerts);
    assert_eq!(r.officers[0].officer, "o2");
}

#[test]
fn two_officers_pulling_the_same_unexplained_subjects_collude() {
    let (mut evs, links) = background(20, 10);
    shared_pulls(&mut evs, "", "V", "");
    let r = run(evs, &links, &[]);
    let c = colluders(&r);
    assert!(c.contains(&"o1") && c.contains(&"x9"), "{:#?}", r.alerts);
}

#[test]
fn colleagues_sharing_work_in_a_log_without_cases_is_not_collusion() {
    // No case links, no case cited: every access is unexplained, and teammates pull the same
    // subjects day after day. Nothing tells their shared work from a shared buyer, so no
    // collusion is claimed; the other signals still compare each officer with the peers.
    let mut evs = Vec::new();
    for o in 0..12 {
        let team = o / 2;
        for d in 0..20 {
            for k in 0..6 {
                let t = T0 + d * DAY + 9 * 3600 + k * 1200 + o;
                let subject = format!("5{team:02}{:07}", (d * 3 + k) * 7_919);
                evs.push(ev(t, &format!("o{o}"), "U", Action::IdentityLookup, &subject, ""));
            }
        }
    }
    let r = run(evs, &CaseLinks::default(), &[]);
    assert!(r.alerts.iter().all(|a| a.detector != "collusion"), "{:#?}", r.alerts);
}

/// Read any text as an access log and run every row it accepts through the engine.
fn read_and_score(text: &str) {
    if let Ok(rdr) = LogReader::new(text.as_bytes()) {
        let mut e = Engine::new(Config::default());
        for row in rdr.flatten() {
            e.push(&row);
        }
        let _ = e.report();
    }
}

proptest! {
    #[test]
    fn arbitrary_log_text_never_panics(s in "(time,officer,unit,action,subject,case,outcome,records\n)?[ -~\n,\"]{0,400}") {
        read_and_score(&s);
    }

    #[test]
    fn arbitrary_time_text_never_panics(s in "[0-9/.:Tt +\\-Zzé০]{0,40}") {
        if let Some((t, _)) = custos_detect::time::parse_log_time(&s, 6 * 3600) {
            // Whatever is read is a time that formats (no overflow past the calendar).
            prop_assert!(custos_detect::time::format_utc(t.unix).len() >= 20);
        }
    }

    #[test]
    fn arbitrary_times_with_month_names_and_zones_never_panic(
        s in "((Mon|tue|Sunday|Thurs|Sat),? )?\\[?[0-9]{0,4}[-/ ,]{0,2}(Jan|mar|MARCH|Sept|Marx|Dec)?[-/ ,]{0,2}[0-9]{0,5}[: T]?[0-9.:]{0,16}( ?(AM|pm|UTC|GMT|Z|BST|BDT|[+-][0-9:]{0,5}))?( [0-9]{0,5})?\\]?"
    ) {
        if let Some((t, _)) = custos_detect::time::parse_log_time(&s, 6 * 3600) {
            prop_assert!(custos_detect::time::format_utc(t.unix).len() >= 20);
        }
    }

    #[test]
    fn arbitrary_bytes_behind_a_gzip_or_utf16_mark_never_panic(
        mark in proptest::sample::select(vec![vec![0x1f, 0x8b], vec![0x1f, 0x8b, 8, 0], vec![0xff, 0xfe], vec![0xfe, 0xff], vec![]]),
        body in proptest::collection::vec(any::<u8>(), 0..400),
    ) {
        custos_detect::fuzzing::parse_log(&[mark, body].concat());
    }

    #[test]
    fn arbitrary_nested_json_never_panics(s in "\\{(\"[a-z.@]{1,6}\":(\\{\"[a-z]{1,5}\":(\"[ -~]{0,8}\"|[0-9]{1,10}|\\{\\}|\\[\\]),?\\}|\"[ -~]{0,8}\"|[0-9]{1,10}),?){0,8}\\}\n?"
    ) {
        read_and_score(&s);
        read_and_score(&format!("{s}{s}"));
    }

    #[test]
    fn arbitrary_json_arrays_never_panic(s in "[ \n]?\\[[ -~\n{}\\[\\],\"\\\\]{0,300}") {
        read_and_score(&s);
    }

    #[test]
    fn rows_as_json_lines_and_as_one_json_array_read_the_same(
        rows in proptest::collection::vec((0i64..2_000_000_000, "[a-z]{1,6}", "[0-9]{10}", "[ -~]{0,12}"), 0..12),
        pretty in any::<bool>(),
    ) {
        let objs: Vec<String> = rows
            .iter()
            .map(|(t, o, s, note)| {
                serde_json::json!({"time": t, "officer": o, "action": "NID verify", "subject": s, "note": note})
                    .to_string()
            })
            .collect();
        let lines = objs.join("\n");
        let array = if pretty { format!("[\n  {}\n]\n", objs.join(",\n  ")) } else { format!("[{}]", objs.join(",")) };
        let read = |text: &str| -> Vec<(i64, String, String)> {
            LogReader::new(text.as_bytes())
                .map(|r| r.flatten().map(|e| (e.time, e.officer, e.subject)).collect())
                .unwrap_or_default()
        };
        let want: Vec<(i64, String, String)> = rows.iter().map(|(t, o, s, _)| (*t, o.clone(), s.clone())).collect();
        prop_assert_eq!(read(&array), want.clone());
        prop_assert_eq!(read(&lines), want);
    }

    #[test]
    fn numeric_dates_in_either_order_are_the_same_instant(
        y in 1990i64..2100, m in 1u32..=12, d in 13u32..=28, h in 0u32..24, mi in 0u32..60,
    ) {
        let iso = format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:00Z");
        let want = custos_detect::time::parse_time(&iso).map(|t| t.unix);
        let mut order = custos_detect::time::DateOrder::Unknown;
        for s in [format!("{d}/{m}/{y} {h:02}:{mi:02}"), format!("{d:02}.{m:02}.{y} {h}:{mi:02}:00")] {
            let got = match custos_detect::time::parse_log_time_in(&s, 0, &mut order) {
                custos_detect::time::LogTime::At(t, _) => Some(t.unix),
                _ => None,
            };
            prop_assert_eq!(got, want, "{}", s);
        }
        prop_assert_eq!(order, custos_detect::time::DateOrder::DayFirst);
        let mut order = custos_detect::time::DateOrder::Unknown;
        let us = format!("{m:02}/{d:02}/{y} {:02}:{mi:02} {}", (h + 11) % 12 + 1, if h < 12 { "AM" } else { "PM" });
        let got = match custos_detect::time::parse_log_time_in(&us, 0, &mut order) {
            custos_detect::time::LogTime::At(t, _) => Some(t.unix),
            _ => None,
        };
        prop_assert_eq!(got, want, "{}", us);
        prop_assert_eq!(order, custos_detect::time::DateOrder::MonthFirst);
    }

    #[test]
    fn arbitrary_headers_and_labelled_subjects_never_panic(
        header in "([A-Za-z_ .#\\-]{0,16},){0,9}[A-Za-z_ ]{0,16}",
        rows in "([ -~]{0,20}(NID|tel|ID#|nid=|msisdn:)[ :=#+\\-]{0,2}[0-9 +\\-]{0,18},?){0,6}\n{0,3}"
    ) {
        let text = format!("{header}\n{rows}");
        if let Ok(rdr) = LogReader::new(text.as_bytes()) {
            let _ = rdr.guessed_columns().len();
            let mut e = Engine::new(Config::default());
            for row in rdr.flatten() {
                e.push(&row);
            }
            let _ = e.report();
        }
        let _ = custos_detect::input::read_cases(text.as_bytes());
        let _ = custos_detect::input::read_watch(text.as_bytes());
    }
}

#[test]
fn a_rare_act_is_judged_against_all_the_peers_have_done_not_one_week() {
    // Nobody in the unit has pulled call records citing no case in 33 days; o3 starts to,
    // one a day. Once a handful is more than the unit's whole history makes plausible it is
    // flagged, and as the evidence grows the alert is raised again as high.
    let (mut evs, links) = background(40, 10);
    for o in 0..12 {
        call_records(&mut evs, o, 0..40, true);
    }
    for d in 33..40 {
        let mut e = ev(T0 + d * DAY + 11 * 3600, "o3", "U", Action::CdrQuery, &format!("3{:08}", d % 20), "");
        e.records = 4;
        evs.push(e);
    }
    let r = run(evs, &links, &[]);
    let caseless: Vec<_> =
        r.alerts.iter().filter(|a| a.officer == "o3" && a.detail.contains("citing no case")).collect();
    let medium = caseless.iter().find(|a| a.severity == Severity::Medium).expect("a medium alert");
    assert!(medium.unix < T0 + 37 * DAY, "flagged on {}", medium.time);
    assert!(
        caseless.iter().any(|a| a.severity >= Severity::High && a.unix > medium.unix),
        "the medium alert held back the high one: {caseless:#?}"
    );
    assert!(r.alerts.iter().all(|a| a.officer == "o3"), "{:#?}", r.alerts);

    // Every officer is denied now and then, each about once a month, so in most weeks most of
    // them have no denial at all. Four in a week is then not a burst out of nothing.
    let (mut evs, links) = background(40, 10);
    for o in 0..12i64 {
        for d in (0..40).filter(|d| (d + 3 * o) % 30 == 0) {
            let mut e =
                ev(T0 + d * DAY + 10 * 3600, &format!("o{o}"), "U", Action::IdentityLookup, "7000000001", "");
            (e.allowed, e.records) = (false, 0);
            evs.push(e);
        }
    }
    for d in 33..37 {
        let mut e = ev(T0 + d * DAY + 10 * 3600 + 60, "o5", "U", Action::IdentityLookup, "7000000002", "");
        (e.allowed, e.records) = (false, 0);
        evs.push(e);
    }
    let r = run(evs, &links, &[]);
    assert!(r.alerts.iter().all(|a| !a.detail.contains("denied")), "{:#?}", r.alerts);
}

#[test]
fn two_units_on_one_suspect_under_their_own_cases_in_a_log_without_links_do_not_collude() {
    // No case links: each officer cites a case of their own for the suspects both units work
    // on. That is declared work, not a secret share; the same pulls citing no case are.
    let (mut evs, _) = background(20, 10);
    let mut secret = evs.clone();
    shared_pulls(&mut evs, "C1", "V", "CASE-V-7");
    shared_pulls(&mut secret, "", "V", "");
    let r = run(evs, &CaseLinks::default(), &[]);
    assert!(r.alerts.iter().all(|a| a.detector != "collusion"), "{:#?}", r.alerts);
    let r = run(secret, &CaseLinks::default(), &[]);
    let c = colluders(&r);
    assert!(c.contains(&"o1") && c.contains(&"x9"), "{:#?}", r.alerts);
}

#[test]
fn two_officers_citing_cases_of_their_own_for_people_those_cases_never_held_collude() {
    // No case links. x9 (unit V) works six cases of their own from day 0. On days 10-15 a
    // buyer's person a day, new to every case, is pulled by o1 citing C1 and by x9 citing one of
    // their six cases in turn: cover, each citation a case that never held that person, and
    // no two pulls under the same pair of cases twice running. That is shared in secret (the
    // seed case's insiders cited their own cases for half their pulls); the look-alike above
    // (one case on each side, the same pair every day) is joint work after the first person.
    let (mut evs, _) = background(20, 10);
    for d in 0..20 {
        for k in 0..10 {
            let case = format!("V-{}", k % 6);
            let s = format!("9{:08}", (k % 6) * 100 + k);
            evs.push(ev(T0 + d * DAY + 9 * 3600 + k * 1800, "x9", "V", Action::IdentityLookup, &s, &case));
        }
    }
    for d in 10..16 {
        let s = format!("8801{d:09}");
        evs.push(ev(T0 + d * DAY + 10 * 3600, "o1", "U", Action::SubscriberLookup, &s, "C1"));
        let case = format!("V-{}", d % 6);
        evs.push(ev(T0 + d * DAY + 15 * 3600, "x9", "V", Action::CdrQuery, &s, &case));
    }
    let r = run(evs, &CaseLinks::default(), &[]);
    let c = colluders(&r);
    assert!(c.contains(&"o1") && c.contains(&"x9"), "{:#?}", r.alerts);
}

#[test]
fn pulls_citing_a_case_whose_file_holds_the_subject_are_not_collusion() {
    // An operations unit pulls call records for other units' cases: its officers are on none
    // of them, but each pull cites a case whose file holds the number. Two of them pulling
    // the same numbers, each for a different case that holds them, is work, not a secret.
    let (mut evs, mut links) = background(20, 10);
    let mut unlinked = evs.clone();
    for d in 10..16 {
        let s = format!("8801{d:09}");
        links.subjects.push(("C1".into(), s.clone()));
        links.subjects.push(("C2".into(), s.clone()));
        for (out, c1, c2) in [(&mut evs, "C1", "C2"), (&mut unlinked, "C-9", "C-8")] {
            out.push(ev(T0 + d * DAY + 10 * 3600, "x8", "OPS", Action::CdrQuery, &s, c1));
            out.push(ev(T0 + d * DAY + 15 * 3600, "x9", "OPS", Action::CdrQuery, &s, c2));
        }
    }
    let r = run(evs, &links, &[]);
    assert!(r.alerts.iter().all(|a| a.detector != "collusion"), "{:#?}", r.alerts);
    let x8 = r.officers.iter().find(|o| o.officer == "x8").unwrap();
    assert!(x8.explained_share > 0.5, "{x8:?}");
    // The same pulls citing cases that hold none of the numbers are shared in secret.
    let r = run(unlinked, &links, &[]);
    let c = colluders(&r);
    assert!(c.contains(&"x8") && c.contains(&"x9"), "{:#?}", r.alerts);
}

#[test]
fn two_officers_citing_one_case_for_the_same_subjects_share_them_in_the_open() {
    // Neither officer is on the case and its file does not hold the subjects (associates not
    // yet written in), but both pulls cite it: the case says why both looked.
    let (mut evs, links) = background(20, 10);
    shared_pulls(&mut evs, "C-77", "V", "C-77");
    let r = run(evs, &links, &[]);
    assert!(r.alerts.iter().all(|a| a.detector != "collusion"), "{:#?}", r.alerts);
}

#[test]
fn following_a_pull_by_an_officer_on_the_case_is_partly_explained() {
    // o1 works case C1 and pulls numbers its file does not hold yet; an officer of another
    // unit, on no case, then pulls the same numbers citing C1: following the case's lead.
    let (mut evs, links) = background(20, 10);
    shared_pulls(&mut evs, "C1", "OPS", "C1");
    let r = run(evs, &links, &[]);
    let x9 = r.officers.iter().find(|o| o.officer == "x9").unwrap();
    assert!((x9.explained_share - 0.75).abs() < 1e-9, "{x9:?}");
}

#[test]
fn where_a_log_says_nothing_of_units_or_cases_an_account_series_colleague_s_pull_explains() {
    // Only time, officer, action and subject. Two desks of four, `cid_0k` and `sb_0k`: each
    // day `cid_0k` pulls the people `cid_0(k+1)` pulled the day before (the team's shared
    // work), and `sb_01` some that `cid_03` pulled, outside its own series.
    let mut evs = Vec::new();
    let who = |k: i64| format!("cid_{:02}", k % 4);
    for d in 0..20 {
        for k in 0..4 {
            for j in 0..6 {
                // Desk `k` pulls on day `d` the people of batch `d + k`, which desk `k + 1`
                // pulled on day `d - 1`.
                let s = format!("{:04}{j:06}", d + k);
                evs.push(ev(
                    T0 + d * DAY + 9 * 3600 + k * 3600 + j * 60,
                    &who(k),
                    "",
                    Action::IdentityLookup,
                    &s,
                    "",
                ));
            }
            let own = format!("7{k}{d:04}0000");
            evs.push(ev(
                T0 + d * DAY + 14 * 3600 + k * 60,
                &format!("sb_{:02}", k),
                "",
                Action::IdentityLookup,
                &own,
                "",
            ));
        }
        let s = format!("{:04}{:06}", d + 3, 0);
        evs.push(ev(T0 + d * DAY + 16 * 3600, "sb_01", "", Action::IdentityLookup, &s, ""));
    }
    let r = run(evs.clone(), &CaseLinks::default(), &[]);
    let share = |name: &str| r.officers.iter().find(|o| o.officer == name).unwrap().explained_share;
    // After the first days, every pull of the desk is of people a colleague pulled the day
    // before (shared work explains three quarters of each).
    assert!(share("cid_01") > 0.5, "{}", share("cid_01"));
    // A person pulled by an officer of another series is not explained by that pull.
    assert!(share("sb_01") < 0.1, "{}", share("sb_01"));
    // A series every account has (`off_…`) says nothing of who works together.
    let renamed: Vec<Event> = evs
        .into_iter()
        .map(|mut e| {
            e.officer = e.officer.replace("cid_", "off_0").replace("sb_", "off_1");
            e
        })
        .collect();
    let r = run(renamed, &CaseLinks::default(), &[]);
    let off = r.officers.iter().find(|o| o.officer == "off_001").unwrap();
    assert!(off.explained_share < 0.1, "{off:?}");
}

#[test]
fn a_cited_case_the_case_file_never_mentions_is_an_unchecked_claim_not_nothing() {
    // The case links given hold the background's twelve cases. `u1` works `C-77`, which they
    // do not mention at all (its file was never exported), pulling its people every day;
    // `u2` pulls the same kind of people citing no case.
    let (mut evs, links) = background(30, 10);
    for d in 0..30 {
        for k in 0..8 {
            let t = T0 + d * DAY + 10 * 3600 + k * 1800;
            let s = format!("77{:08}", (d + k) % 40);
            evs.push(ev(t, "u1", "U", Action::IdentityLookup, &s, "C-77"));
            evs.push(ev(t + 60, "u2", "U", Action::IdentityLookup, &format!("88{:08}", (d + k) % 40), ""));
        }
    }
    let r = run(evs, &links, &[]);
    let share = |name: &str| r.officers.iter().find(|o| o.officer == name).unwrap().explained_share;
    // The citation halves what nothing else explains, as citing a case of one's own whose file
    // lacks the person does; no citation explains nothing.
    assert!((share("u1") - 0.5).abs() < 1e-9, "{}", share("u1"));
    assert!(share("u2") < 1e-9, "{}", share("u2"));
}

#[test]
fn a_placeholder_in_the_case_column_is_no_case_both_officers_cite() {
    // Another agency writes `N/A` where no case is cited. Read as a case number, it would be
    // one case both officers cite, and their shared pulls would look declared.
    let mut csv = String::from("time,officer,unit,action,subject,case,outcome,records\n");
    let mut rows = Vec::new();
    for d in 0..20 {
        for o in 0..6 {
            for k in 0..8 {
                let t = T0 + d * DAY + 9 * 3600 + k * 1800 + o;
                rows.push((t, format!("o{o},U,identity_lookup,{o}{:08},C{o}", (d + k) % 20)));
            }
        }
    }
    for d in 10..16 {
        let s = format!("8801{d:09}");
        rows.push((T0 + d * DAY + 10 * 3600, format!("o1,U,subscriber_lookup,{s},N/A")));
        rows.push((T0 + d * DAY + 15 * 3600, format!("x9,V,cdr_query,{s},n/a")));
    }
    rows.sort();
    for (t, r) in rows {
        csv.push_str(&format!("{t},{r},allowed,1\n"));
    }
    let evs: Vec<Event> = LogReader::new(csv.as_bytes()).unwrap().map(Result::unwrap).collect();
    let r = run(evs, &CaseLinks::default(), &[]);
    let c = colluders(&r);
    assert!(c.contains(&"o1") && c.contains(&"x9"), "{:#?}", r.alerts);
}

/// `n` lookups of people no case holds by `officer` of `unit` on day `d`, spread over `hours`
/// from 09:00, each a person not looked up before (a multiplicative hash, so not enumerated).
fn lookups_of_strangers(
    evs: &mut Vec<Event>,
    officer: &str,
    unit: &str,
    d: i64,
    n: i64,
    hours: i64,
    tag: i64,
) {
    for k in 0..n {
        let t = T0 + d * DAY + 9 * 3600 + k * hours * 3600 / n.max(1);
        let subject = format!("5{:010}", ((tag * 100 + d) * 1_000 + k) * 7_919_993 % 10_000_000_000);
        evs.push(ev(t, officer, unit, Action::IdentityLookup, &subject, ""));
    }
}

#[test]
fn an_officer_whose_work_comes_in_bursts_is_judged_on_their_own_bursts() {
    // An agency that keeps no case file: a unit of officers of steady habits (twenty lookups a
    // day), one of whom, in the last week, pulls sixty a day in two hours, and one whose work
    // comes in bursts: on about one day in four sixty lookups in an hour, on the others six,
    // and in the last week four such days (a week like that comes about once in fourteen).
    let mut evs = Vec::new();
    for o in 0..12 {
        for d in 0..42 {
            let (n, hours) = if o == 0 && d >= 35 { (60, 2) } else { (20, 8) };
            lookups_of_strangers(&mut evs, &format!("s{o}"), "U", d, n, hours, 50 + o);
        }
    }
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for d in 0..42 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let burst = if d < 35 { x.is_multiple_of(4) } else { matches!(d, 35 | 36 | 38 | 40) };
        let (n, hours) = if burst { (60, 1) } else { (6, 8) };
        lookups_of_strangers(&mut evs, "bursty", "U", d, n, hours, 99);
    }
    let r = run(evs, &CaseLinks::default(), &[]);
    // The busy week is this officer's work, not news: judged against their own history, the
    // count is held on the scale of their own day-to-day spread, not their peers'.
    let bursty: Vec<_> =
        r.alerts.iter().filter(|a| a.officer == "bursty" && a.detector == "volume").collect();
    assert!(bursty.is_empty(), "{bursty:#?}");
    // A change in the habits of an officer whose days are alike still is.
    assert!(flagged(&r, "s0", "volume", Severity::High), "{:#?}", r.alerts);
}

#[test]
fn a_new_case_brings_explained_work_not_a_volume_alarm() {
    // o2 has pulled no call records for 30 days; then a new case of theirs with 30 subjects
    // opens and they pull 20 call records a day on its subjects. More work, all of it
    // explained by the case: no alarm. The same pulls on subjects of no case are.
    let new_case = |links: &mut CaseLinks| {
        links.officers.push(("C2-NEW".into(), "o2".into()));
        for k in 0..30 {
            links.subjects.push(("C2-NEW".into(), format!("88017{:08}", k * 104_729)));
        }
    };
    let pulls = |evs: &mut Vec<Event>, prefix: &str, case: &str| {
        for d in 30..37 {
            for k in 0..20 {
                // Through the working day, on identifiers far apart (no sweep).
                let t = T0 + d * DAY + 9 * 3600 + k * 1500;
                let s = format!("{prefix}{:08}", ((d + k) % 30) * 104_729);
                evs.push(ev(t, "o2", "U", Action::CdrQuery, &s, case));
            }
        }
    };
    let (mut evs, mut links) = background(37, 10);
    for o in (0..12).filter(|&o| o != 2) {
        call_records(&mut evs, o, 0..37, true);
    }
    new_case(&mut links);
    let mut unexplained = evs.clone();
    pulls(&mut evs, "88017", "C2-NEW");
    let r = run(evs, &links, &[]);
    assert!(r.alerts.iter().all(|a| a.officer != "o2"), "{:#?}", r.alerts);

    pulls(&mut unexplained, "88019", "C2");
    let r = run(unexplained, &links, &[]);
    let on_o2: Vec<_> = r.alerts.iter().filter(|a| a.officer == "o2").collect();
    assert!(on_o2.iter().any(|a| a.severity >= Severity::High), "{:#?}", r.alerts);
    assert!(on_o2.iter().any(|a| a.detector == "volume"), "{on_o2:#?}");
}

#[test]
fn a_desk_officer_given_a_case_is_judged_as_case_work() {
    // Twelve case workers, about one request in twenty denied (a warrant that does not cover
    // the query); five desk officers doing routine checks citing no case, never denied. From
    // day 25 desk officer d0 works a case of their own at case workers' pace, denials and all:
    // held against the desk, those denials would read as probing the policy.
    let (mut evs, mut links) = background(35, 10);
    let denied = |t: i64, officer: &str, subject: &str, case: &str| Event {
        allowed: false,
        records: 0,
        ..ev(t, officer, "U", Action::CdrQuery, subject, case)
    };
    for o in 0..12 {
        for d in (o % 2..35).step_by(2) {
            let s = format!("{o}{:08}", d % 20);
            evs.push(denied(T0 + d * DAY + 15 * 3600 + o, &format!("o{o}"), &s, &format!("C{o}")));
        }
    }
    for n in 0..5 {
        let officer = format!("d{n}");
        for d in 0..25 {
            for k in 0..10 {
                let t = T0 + d * DAY + 9 * 3600 + k * 2800 + n;
                let s = format!("{}", 7_000_000_000 + (n * 10_000 + d * 100 + k) * 7919);
                evs.push(ev(t, &officer, "U", Action::IdentityLookup, &s, ""));
            }
        }
    }
    links.officers.push(("C-D0".into(), "d0".into()));
    for k in 0..30 {
        links.subjects.push(("C-D0".into(), format!("88015{:08}", k * 104_729)));
    }
    let subject = |d: i64, k: i64| format!("88015{:08}", ((d * 7 + k) % 30) * 104_729);
    for d in 25..35 {
        for k in 0..10 {
            let t = T0 + d * DAY + 9 * 3600 + k * 2800;
            evs.push(ev(t, "d0", "U", Action::IdentityLookup, &subject(d, k), "C-D0"));
        }
        if d % 2 == 1 {
            evs.push(denied(T0 + d * DAY + 16 * 3600, "d0", &subject(d, 0), "C-D0"));
        }
    }
    let mut probing = evs.clone();
    let r = run(evs, &links, &[]);
    let on_d0: Vec<_> = r.alerts.iter().filter(|a| a.officer == "d0").collect();
    assert!(on_d0.is_empty(), "{on_d0:#?}");

    // Ten times the denials is probing, whatever the peers.
    for d in 30..32 {
        for k in 0..10 {
            probing.push(denied(T0 + d * DAY + 17 * 3600 + k * 60, "d0", &subject(d, k + 1), "C-D0"));
        }
    }
    let r = run(probing, &links, &[]);
    assert!(flagged(&r, "d0", "denials", Severity::High), "{:#?}", r.alerts);
}

#[test]
fn a_first_call_record_pull_is_out_of_place_only_where_nothing_explains_it() {
    // After 20 days of identity checks o3 pulls call records for the first time. Citing their
    // own case, on a number not yet in its file (case files lag): work. Citing no case, on a
    // number of no case: a first-time act out of place.
    let first_pull = |case: &str| {
        let (mut evs, links) = background(22, 10);
        evs.push(ev(T0 + 20 * DAY + 15 * 3600, "o3", "U", Action::CdrQuery, "8801712345678", case));
        run(evs, &links, &[])
    };
    let r = first_pull("C3");
    assert!(r.alerts.iter().all(|a| a.detector != "first_time_traffic"), "{:#?}", r.alerts);
    let r = first_pull("");
    assert!(
        r.alerts.iter().any(|a| a.officer == "o3" && a.detector == "first_time_traffic"),
        "{:#?}",
        r.alerts
    );
    // Where the log links nobody to cases, a cited case is the only explanation there is.
    let unlinked = |case: &str| {
        let (mut evs, _) = background(22, 10);
        evs.push(ev(T0 + 20 * DAY + 15 * 3600, "o3", "U", Action::CdrQuery, "8801712345678", case));
        run(evs, &CaseLinks::default(), &[])
    };
    let first_time = |r: &custos_detect::Report| r.alerts.iter().any(|a| a.detector == "first_time_traffic");
    assert!(!first_time(&unlinked("C-ANY")));
    assert!(first_time(&unlinked("")));
    // The alert says what the log showed: a case cited elsewhere but not here, or a log that
    // says nothing of cases at all (its query's case unknown, not absent).
    let detail = |r: &custos_detect::Report| {
        r.alerts
            .iter()
            .find(|a| a.detector == "first_time_traffic")
            .map(|a| a.detail.clone())
            .unwrap_or_default()
    };
    assert!(detail(&unlinked("")).ends_with("citing no case"), "{}", detail(&unlinked("")));
    let (mut evs, _) = background(22, 10);
    evs.iter_mut().for_each(|e| e.case.clear());
    evs.push(ev(T0 + 20 * DAY + 15 * 3600, "o3", "U", Action::CdrQuery, "8801712345678", ""));
    // There nothing says the query was out of place: it is one of the officer's reasons,
    // not an alert.
    let r = run(evs, &CaseLinks::default(), &[]);
    assert!(!first_time(&r), "{:#?}", r.alerts);
    let o3 = r.officers.iter().find(|o| o.officer == "o3").unwrap();
    let reason = o3.reasons.iter().find(|x| x.code == "first_time_traffic").map(|x| x.detail.as_str());
    assert!(reason.is_some_and(|d| d.ends_with("(the log says nothing of cases)")), "{:#?}", o3.reasons);
}

/// Twelve officers of unit `U` on a rota: day shift (09:00–17:00) for `switch` days, then
/// nights (22:00–06:00), ten explained lookups a shift. `lone` works the nights alone.
fn rota(switch: i64, days: i64, lone: bool) -> (Vec<Event>, CaseLinks) {
    let (_, links) = background(0, 10);
    let mut evs = Vec::new();
    for o in 0..12 {
        for d in 0..days {
            let night = d >= switch && (!lone || o == 5);
            for k in 0..10 {
                let start = if night { 22 * 3600 } else { 9 * 3600 };
                let t = T0 + d * DAY + start + k * 2880 + o * 7;
                let s = format!("{o}{:08}", (d + k) % 20);
                evs.push(ev(t, &format!("o{o}"), "U", Action::IdentityLookup, &s, &format!("C{o}")));
            }
        }
    }
    (evs, links)
}

#[test]
fn a_unit_turning_to_night_shifts_together_is_not_an_alarm() {
    // The whole unit turns to nights on day 7 or day 20: judged against each one's own hours
    // alone, each of the twelve works at unusual hours; against the peers, nobody does.
    for switch in [7, 20] {
        let (evs, links) = rota(switch, switch + 6, false);
        let r = run(evs, &links, &[]);
        assert!(
            r.alerts.iter().all(|a| !a.detector.contains("off_hours")),
            "switch {switch}: {:#?}",
            r.alerts
        );
    }
    // One officer alone turning to nights is out of their own and the peers' pattern.
    let (evs, links) = rota(20, 26, true);
    let r = run(evs, &links, &[]);
    assert!(flagged(&r, "o5", "off_hours", Severity::High), "{:#?}", r.alerts);
    // And a run that keeps growing is reported a few times, not at every event.
    let on_o5 = r.alerts.iter().filter(|a| a.officer == "o5" && a.detector == "off_hours").count();
    assert!(on_o5 <= 5, "{on_o5} alerts: {:#?}", r.alerts);
}

/// A log that names no unit and links no case: sixty officers by day, each citing a case
/// numbered by year alone (`{k}/2026`), and twelve `r{o}` citing cases of one series
/// (`RAB/26/0{o}`), each their own, who turn to nights on day 20 (only `r5` if `lone`).
fn a_series_turning_to_nights(lone: bool) -> Vec<Event> {
    let mut evs = Vec::new();
    let mut shift = |who: String, case: String, night: &dyn Fn(i64) -> bool| {
        for d in 0..26 {
            for k in 0..10 {
                let start = if night(d) { 22 * 3600 } else { 9 * 3600 };
                let s = format!("{}{:07}", who.len(), (d * 10 + k) % 500);
                evs.push(ev(T0 + d * DAY + start + k * 2880, &who, "", Action::IdentityLookup, &s, &case));
            }
        }
    };
    for k in 0..60 {
        shift(format!("d{k}"), format!("{k}/2026"), &|_| false);
    }
    for o in 0..12 {
        shift(format!("r{o}"), format!("RAB/26/0{o}"), &move |d| d >= 20 && (!lone || o == 5));
    }
    evs
}

#[test]
fn where_no_unit_is_named_a_case_numbers_series_stands_in_for_it() {
    // The twelve share no case, so no case makes them a team; their cases' series does, and
    // their turning to nights together is the team's new shift, not twelve alarms.
    let r = run(a_series_turning_to_nights(false), &CaseLinks::default(), &[]);
    let off: Vec<_> = r.alerts.iter().filter(|a| a.detector.contains("off_hours")).collect();
    assert!(off.is_empty(), "{off:#?}");
    // The look-alike: one of them alone at night.
    let r = run(a_series_turning_to_nights(true), &CaseLinks::default(), &[]);
    assert!(
        flagged(&r, "r5", "off_hours", Severity::High)
            || flagged(&r, "r5", "unexplained_off_hours", Severity::High),
        "{:#?}",
        r.alerts
    );
}

/// Thirty officers of one unit, each on a case of their own, pulling twelve people a day
/// (09:00–17:00) for 30 days: officer `k`'s share of people their case's file does not hold
/// (new faces each day) runs from 10% to 40% by `k`, as files are kept better or worse.
/// `heavy` pulls `heavy_per_day` a day at a share of 35%; `trickle` pulls people no file holds
/// only, from day 23 on, at the usual volume.
fn file_shares(heavy_per_day: i64) -> (Vec<Event>, CaseLinks) {
    let mut evs = Vec::new();
    let mut links = CaseLinks::default();
    let mut officer = |id: usize, name: &str, per_day: i64, share: &dyn Fn(i64) -> f64| {
        let case = format!("C-{name}");
        links.officers.push((case.clone(), name.to_string()));
        for k in 0..50 {
            links.subjects.push((case.clone(), format!("{id:03}{k:07}")));
        }
        for d in 0..30 {
            let unexplained = (share(d) * per_day as f64).round() as i64;
            for k in 0..per_day {
                let t = T0 + d * DAY + 9 * 3600 + (k * 8 * 3600) / per_day;
                let s = if k < unexplained {
                    format!("9{id:03}{d:03}{k:04}")
                } else {
                    format!("{id:03}{:07}", (d + k) % 50)
                };
                evs.push(ev(t, name, "U", Action::IdentityLookup, &s, &case));
            }
        }
    };
    for k in 0..30 {
        let share = 0.1 + 0.3 * f64::from(k % 10) / 9.0;
        officer(100 + k as usize, &format!("o{k:02}"), 12, &move |_| share);
    }
    officer(200, "heavy", heavy_per_day, &|_| 0.35);
    officer(201, "trickle", 12, &|d| if d >= 23 { 1.0 } else { 0.2 });
    (evs, links)
}

#[test]
fn a_heavy_user_is_judged_on_how_far_officers_shares_of_unexplained_people_spread() {
    // Officers' shares of people their cases' files do not hold spread from 10% to 40%: at
    // 35%, within that spread, an analyst pulling ten times the people is not abusing them,
    // though their count of unexplained people is far above the peers'.
    let (evs, links) = file_shares(120);
    let r = run(evs, &links, &[]);
    assert!(!flagged(&r, "heavy", "unexplained_access", Severity::Medium), "{:#?}", r.alerts);
    // The look-alike: an officer of the usual volume who turns to pulling only people no case
    // holds.
    assert!(flagged(&r, "trickle", "unexplained_access", Severity::Medium), "{:#?}", r.alerts);
}

/// A log that names no unit and cites no case: sixty desk officers by day, and twelve who
/// turn to nights on day 20 (only the sixth if `lone`). With `numbered`, accounts are named
/// by their unit and a number (`desk-07`, `rab3_05`); without, by letters alone (`deskah`,
/// `nightaf`).
fn accounts_turning_to_nights(numbered: bool, lone: bool) -> Vec<Event> {
    let name = |unit: &str, k: u8| {
        if numbered {
            format!("{unit}{k:02}")
        } else {
            format!(
                "{}{}{}",
                unit.trim_end_matches(['-', '_', '3']),
                char::from(b'a' + k / 26),
                char::from(b'a' + k % 26)
            )
        }
    };
    let mut evs = Vec::new();
    let mut shift = |who: String, night: &dyn Fn(i64) -> bool| {
        for d in 0..26 {
            for k in 0..10 {
                let start = if night(d) { 22 * 3600 } else { 9 * 3600 };
                let s = format!("{}{:07}", who.len(), (d * 10 + k) % 500);
                evs.push(ev(T0 + d * DAY + start + k * 2880, &who, "", Action::IdentityLookup, &s, ""));
            }
        }
    };
    for k in 0..60 {
        shift(name("desk-", k), &|_| false);
    }
    for o in 0..12 {
        shift(name("rab3_", o), &move |d| d >= 20 && (!lone || o == 5));
    }
    evs
}

#[test]
fn where_no_unit_is_named_an_account_names_series_stands_in_for_it() {
    // Nothing in the log says the twelve `rab3_…` work together but their accounts' names:
    // their turning to nights together is their unit's new shift, not twelve alarms.
    let off_hours =
        |r: &custos_detect::Report| r.alerts.iter().filter(|a| a.detector.contains("off_hours")).count();
    let r = run(accounts_turning_to_nights(true, false), &CaseLinks::default(), &[]);
    assert_eq!(off_hours(&r), 0, "{:#?}", r.alerts);
    // The look-alike: one of them alone at night.
    let r = run(accounts_turning_to_nights(true, true), &CaseLinks::default(), &[]);
    assert!(
        flagged(&r, "rab3_05", "off_hours", Severity::High)
            || flagged(&r, "rab3_05", "unexplained_off_hours", Severity::High),
        "{:#?}",
        r.alerts
    );
    // Accounts whose names say nothing of a unit (no closing number) are judged against the
    // whole agency's hours, where twelve of seventy-two at night are out of its pattern.
    let r = run(accounts_turning_to_nights(false, false), &CaseLinks::default(), &[]);
    assert!(off_hours(&r) > 0, "{:#?}", r.alerts);
}

#[test]
fn a_joint_case_does_not_make_two_series_one_peer_group() {
    // No unit in the log. Nine officers work cases of the ALPHA series, whose warrants lapse
    // often (five refusals a day each); nine work BRAVO cases and are seldom refused. All of
    // ALPHA and one of BRAVO also work one joint case of ALPHA's, which makes them all one
    // team. On day 28 a BRAVO officer is refused 25 times: against BRAVO, that is
    // probing; against both series together, it would be an ALPHA officer's ordinary day.
    let mut evs = Vec::new();
    for (series, refusals) in [("ALPHA", 5), ("BRAVO", 0)] {
        for o in 0..9 {
            let officer = format!("{}{o}", &series[..1].to_lowercase());
            let case = format!("{series}-2026-{o:04}");
            for d in 0..30 {
                let denied = if officer == "b3" && d == 28 { 25 } else { refusals };
                for k in 0..10 + denied {
                    let t = T0 + d * DAY + 9 * 3600 + k * 1500;
                    let mut e =
                        ev(t, &officer, "", Action::IdentityLookup, &format!("{o}{:03}{:05}", d, k), &case);
                    e.allowed = k >= denied;
                    evs.push(e);
                }
            }
            if series == "ALPHA" || o == 0 {
                let t = T0 + 2 * DAY + 16 * 3600 + o;
                evs.push(ev(
                    t,
                    &officer,
                    "",
                    Action::IdentityLookup,
                    &format!("99{o}{series}"),
                    "ALPHA-2026-0099",
                ));
            }
        }
    }
    let r = run(evs, &CaseLinks::default(), &[]);
    assert!(flagged(&r, "b3", "denials", Severity::High), "{:#?}", r.alerts);
    let alpha: Vec<_> =
        r.alerts.iter().filter(|a| a.officer.starts_with('a') && a.detector == "denials").collect();
    assert!(alpha.is_empty(), "{alpha:#?}");
}

/// Officer `o{o}` works nights on their case on `days`.
fn night(evs: &mut Vec<Event>, o: i64, days: std::ops::Range<i64>) {
    for d in days {
        for k in 0..12 {
            let t = T0 + d * DAY + 22 * 3600 + k * 1200 + o;
            let s = format!("{o}{:08}", k % 20);
            evs.push(ev(t, &format!("o{o}"), "U", Action::IdentityLookup, &s, &format!("C{o}")));
        }
    }
}

/// The background's twelve officers as two teams of six on a case each (TEAM-A, TEAM-B); team A
/// works nights on days 25-27.
fn two_teams_and_a_night() -> (Vec<Event>, CaseLinks) {
    let (mut evs, mut links) = background(30, 10);
    for o in 0..12 {
        let team = if o < 6 { "TEAM-A" } else { "TEAM-B" };
        links.officers.push((team.into(), format!("o{o}")));
    }
    for o in 0..6 {
        night(&mut evs, o, 25..28);
    }
    (evs, links)
}

#[test]
fn where_the_log_names_no_unit_the_officers_of_the_same_cases_are_the_peers() {
    // No unit in the log. Two teams of six, each on a case of its own. On days 25–27 team A
    // works nights on its case (an incident): against all twelve, half of them at unusual
    // hours is an alarm for each; against their team, it is the team's night.
    let (mut evs, links) = two_teams_and_a_night();
    let mut lone = evs.clone();
    for e in &mut evs {
        e.unit.clear();
    }
    let r = run(evs, &links, &[]);
    assert!(r.alerts.is_empty(), "{:#?}", r.alerts);

    // One of team B at night alone is out of the team's pattern.
    night(&mut lone, 8, 25..28);
    for e in &mut lone {
        e.unit.clear();
    }
    let r = run(lone, &links, &[]);
    assert!(flagged(&r, "o8", "off_hours", Severity::High), "{:#?}", r.alerts);
}

/// Twelve officers on a three-shift rota for four weeks: ten lookups 48 minutes apart from
/// 09:00, 15:00 or 22:00, each officer turning weekly at their own point of the cycle and on
/// their own day of the week.
fn three_shift_rota() -> Vec<Event> {
    let mut evs = Vec::new();
    for o in 0..12i64 {
        for d in 0..28 {
            let start = [9, 15, 22][(((d + o) / 7 + o) % 3) as usize] * 3600;
            for k in 0..10 {
                let t = T0 + d * DAY + start + k * 2880 + o * 7;
                let s = format!("{o}{:08}", (d + k) % 20);
                evs.push(ev(t, &format!("o{o}"), "U", Action::IdentityLookup, &s, &format!("C{o}")));
            }
        }
    }
    evs
}

#[test]
fn officers_on_a_three_shift_rota_keep_working_their_units_hours() {
    // Twelve officers turn weekly through day, evening and night shifts, each at their own
    // point of the cycle and on their own day of the week, so the unit works round the clock
    // and one or two change shift on any day. In the third week each meets the one shift they
    // have not worked yet: not unusual for someone on a rota.
    let (_, links) = background(0, 10);
    let r = run(three_shift_rota(), &links, &[]);
    assert!(r.alerts.iter().all(|a| !a.detector.contains("off_hours")), "{:#?}", r.alerts);
}

#[test]
fn a_pair_sharing_too_few_subjects_to_collude_adds_to_the_evidence_of_the_rest() {
    // o1 looks up two numbers no case explains, late at night; x9 of another unit pulls the
    // same two numbers' calls the next afternoon. Neither the two shared subjects nor the two
    // late lookups is enough alone; together they are one officer's case.
    let (mut evs, links) = background(20, 10);
    for d in [12, 13] {
        let s = format!("8801{d:09}");
        evs.push(ev(T0 + d * DAY + 23 * 3600, "o1", "U", Action::SubscriberLookup, &s, ""));
        evs.push(ev(T0 + (d + 1) * DAY + 15 * 3600, "x9", "V", Action::CdrQuery, &s, ""));
    }
    let r = run(evs, &links, &[]);
    assert!(colluders(&r).is_empty(), "two shared subjects are not collusion alone: {:#?}", r.alerts);
    let combined: Vec<_> =
        r.alerts.iter().filter(|a| a.officer == "o1" && a.detector == "combined").collect();
    assert!(
        combined.iter().any(|a| a.severity >= Severity::High && a.detail.contains("collusion")),
        "{:#?}",
        r.alerts
    );
}

/// The background's officers, each also looking up one associate a day that their case's file
/// does not list yet (one in eleven of their lookups).
fn background_with_associates() -> (Vec<Event>, CaseLinks) {
    with_associates(background(30, 10))
}

/// `agency` (a [`background`] of 30 days), each officer also looking up at 14:00 one associate
/// a day that their case's file does not list yet.
fn with_associates(agency: (Vec<Event>, CaseLinks)) -> (Vec<Event>, CaseLinks) {
    let (mut evs, links) = agency;
    for o in 0..12 {
        for d in 0..30 {
            let s = format!("55{o:02}{d:06}");
            evs.push(ev(
                T0 + d * DAY + 14 * 3600 + o,
                &format!("o{o}"),
                "U",
                Action::IdentityLookup,
                &s,
                &format!("C{o}"),
            ));
        }
    }
    (evs, links)
}

/// From day 15, o3 swaps the first three of their daily file lookups (a [`background`]'s, one
/// every `spacing` seconds from 09:00) for three people the file does not list, citing the case
/// all the same.
fn o3_cites_the_case_for_strangers(evs: &mut Vec<Event>, spacing: i64) {
    evs.retain(|e| {
        !(e.officer == "o3" && e.time - T0 >= 15 * DAY && (e.time - T0) % DAY < 9 * 3600 + 3 * spacing)
    });
    for d in 15..30 {
        for j in 0..3 {
            let s = format!("77{d:04}{j:04}");
            evs.push(ev(T0 + d * DAY + 11 * 3600 + j * 60, "o3", "U", Action::IdentityLookup, &s, "C3"));
        }
    }
}

/// [`background_with_associates`]; from day 15, o3 swaps three of their daily file lookups for
/// three people the file does not list, citing the case all the same.
fn files_lag_and_one_cites_their_case_for_strangers() -> (Vec<Event>, CaseLinks) {
    let (mut evs, links) = background_with_associates();
    o3_cites_the_case_for_strangers(&mut evs, 2880);
    (evs, links)
}

#[test]
fn citing_ones_case_for_people_its_file_does_not_hold_stands_out_at_an_ordinary_volume() {
    let (evs, links) = files_lag_and_one_cites_their_case_for_strangers();
    let r = run(evs, &links, &[]);
    assert!(flagged(&r, "o3", "unexplained_access", Severity::High), "{:#?}", r.alerts);
    let o3 = r.alerts.iter().find(|a| a.officer == "o3").unwrap();
    assert!(o3.detail.contains("file does not hold"), "{o3:#?}");
    let others: Vec<_> = r.alerts.iter().filter(|a| a.officer != "o3").collect();
    assert!(others.is_empty(), "{others:#?}");
}

/// [`three_shift_rota`]; on the nights of days 24-27 o4 goes on from `from` seconds after the
/// night's last lookup (05:12) for seven more, twenty minutes apart, into hours the unit does
/// not work (06:00-07:30).
fn a_rota_night_that_runs_on(from: i64) -> Vec<Event> {
    let mut evs = three_shift_rota();
    for d in 24..28 {
        let last = T0 + d * DAY + 22 * 3600 + 9 * 2880 + 4 * 7;
        for k in 0..7 {
            let s = format!("4{:08}", (d + k) % 20);
            evs.push(ev(last + from + k * 1200, "o4", "U", Action::IdentityLookup, &s, "C4"));
        }
    }
    evs
}

#[test]
fn a_rota_night_that_runs_on_into_the_morning_is_overtime_and_work_resumed_after_a_break_is_not() {
    // o4 works all three shifts in turn; on four nights they go on without a break past the
    // night's end into hours nobody in the unit works: a stretch of work begun at a usual hour
    // (under ten hours long) is a shift with its overtime for an officer who works shifts.
    let (_, links) = background(0, 10);
    let off = |r: &custos_detect::Report| {
        r.alerts.iter().filter(|a| a.detector.contains("off_hours")).cloned().collect::<Vec<_>>()
    };
    let r = run(a_rota_night_that_runs_on(1200), &links, &[]);
    assert!(off(&r).is_empty(), "{:#?}", off(&r));
    // The look-alike: as many lookups after a break of an hour and a half.
    let r = run(a_rota_night_that_runs_on(5400), &links, &[]);
    assert!(flagged(&r, "o4", "off_hours", Severity::Medium), "{:#?}", r.alerts);
}

#[test]
fn an_officer_on_one_shift_who_stays_on_pulling_records_is_at_unusual_hours() {
    // The unit works 09:00-17:00; on days 20-27 o4 goes on without a break until 18:40. For an
    // officer of one shift, hours past it are unusual however they are reached (staying on
    // after work to pull records is how the seed case's insiders worked), unlike the tail of a
    // rota's night (see the test before).
    let (mut evs, links) = background(30, 10);
    for d in 20..28 {
        for k in 0..8 {
            let t = T0 + d * DAY + 16 * 3600 + 1200 * (k + 1);
            evs.push(ev(t, "o4", "U", Action::IdentityLookup, &format!("4{:08}", (d + k) % 20), "C4"));
        }
    }
    let r = run(evs, &links, &[]);
    assert!(flagged(&r, "o4", "off_hours", Severity::High), "{:#?}", r.alerts);
}

/// Sixty officers of one unit doing explained case work for ten days, ten lookups a day; each
/// day one of them (a different one each day) mistypes a number and finds nothing. On day 9,
/// `o59` (who has not mistyped before) finds nothing `misses` times.
fn a_large_unit_where_a_few_mistype(misses: i64) -> (Vec<Event>, CaseLinks) {
    let mut evs = Vec::new();
    let mut links = CaseLinks::default();
    for o in 0..60i64 {
        let (officer, case) = (format!("o{o}"), format!("C{o}"));
        links.officers.push((case.clone(), officer.clone()));
        for k in 0..10 {
            links.subjects.push((case.clone(), format!("{o:02}{k:08}")));
        }
        for d in 0..10 {
            for k in 0..10 {
                let t = T0 + d * DAY + 9 * 3600 + k * 2880 + o;
                let s = format!("{o:02}{:08}", (d + k) % 10);
                evs.push(ev(t, &officer, "U", Action::IdentityLookup, &s, &case));
            }
        }
    }
    let mut miss = |t: i64, officer: &str, k: i64| {
        let mut e = ev(t, officer, "U", Action::IdentityLookup, &format!("99{k:08}"), "");
        e.records = 0;
        evs.push(e);
    };
    for d in 0..10 {
        miss(T0 + d * DAY + 11 * 3600, &format!("o{}", d * 5), d);
    }
    for k in 0..misses {
        miss(T0 + 9 * DAY + 14 * 3600 + k * 60, "o59", 100 + k);
    }
    (evs, links)
}

#[test]
fn a_rare_slip_that_a_few_of_a_large_unit_make_is_judged_at_the_units_rate_of_it() {
    // Ten of sixty officers have found nothing once each in ten days: fewer than a fifth, so
    // the trimmed mean of the officers' rates is nothing at all, while the unit does it about
    // once a day. Two empty lookups in a day are then not a one-in-a-hundred-thousand event.
    let (evs, links) = a_large_unit_where_a_few_mistype(2);
    let r = run(evs, &links, &[]);
    assert!(r.alerts.is_empty(), "{:#?}", r.alerts);
    // The look-alike: eight in a few minutes still stands out.
    let (evs, links) = a_large_unit_where_a_few_mistype(8);
    let r = run(evs, &links, &[]);
    assert!(flagged(&r, "o59", "not_found", Severity::High), "{:#?}", r.alerts);
}

#[test]
fn a_log_that_does_not_say_what_was_found_reads_no_lookup_as_finding_nothing() {
    // The eight empty lookups in a few minutes above, in a log whose rows do not say how many
    // records each returned: nothing to read as a lookup that found no one.
    let (evs, links) = a_large_unit_where_a_few_mistype(8);
    let evs = evs.into_iter().map(|e| Event { records: custos_detect::RECORDS_UNKNOWN, ..e }).collect();
    let r = run(evs, &links, &[]);
    assert!(r.alerts.iter().all(|a| a.detector != "not_found"), "{:#?}", r.alerts);
}

/// [`background_with_associates`] and o12 of the same unit on case C12, looking up two people
/// of its file a day and, every `gap` days, one it does not hold; from day 15, if `strangers`,
/// two people the file does not hold a day besides, citing the case all the same.
fn a_light_citer(gap: i64, strangers: bool) -> (Vec<Event>, CaseLinks) {
    let (mut evs, mut links) = background_with_associates();
    links.officers.push(("C12".into(), "o12".into()));
    for k in 0..20 {
        links.subjects.push(("C12".into(), format!("12{k:08}")));
    }
    for d in 0..30 {
        let t = T0 + d * DAY + 10 * 3600;
        for k in 0..2 {
            let s = format!("12{:08}", (2 * d + k) % 20);
            evs.push(ev(t + k * 3600, "o12", "U", Action::IdentityLookup, &s, "C12"));
        }
        if d % gap == 0 {
            evs.push(ev(t + 3 * 3600, "o12", "U", Action::IdentityLookup, &format!("56{d:08}"), "C12"));
        }
        if strangers && d >= 15 {
            for j in 0..2 {
                let s = format!("77{d:04}{j:04}");
                evs.push(ev(t + 5 * 3600 + j * 60, "o12", "U", Action::IdentityLookup, &s, "C12"));
            }
        }
    }
    (evs, links)
}

#[test]
fn a_few_citations_a_day_are_held_against_the_agencys_share_not_the_peers_count() {
    // o12 cites their case two or three times a day, their peers eleven times; one in eleven
    // of everyone's citations is someone the file does not hold yet. From day 15 two of o12's
    // four daily citations are strangers: as many a day as a peer's one or two, but half of
    // o12's citations against the agency's one in eleven.
    let (evs, links) = a_light_citer(4, true);
    let r = run(evs, &links, &[]);
    assert!(flagged(&r, "o12", "unexplained_access", Severity::High), "{:#?}", r.alerts);
    let others: Vec<_> = r.alerts.iter().filter(|a| a.officer != "o12").collect();
    assert!(others.is_empty(), "{others:#?}");
    // The look-alike: one stranger every other day, as the files lag for everyone.
    let (evs, links) = a_light_citer(2, false);
    let r = run(evs, &links, &[]);
    assert!(r.alerts.is_empty(), "{:#?}", r.alerts);
}

#[test]
fn an_associate_the_file_lacks_pulled_day_after_day_is_one_person_not_one_a_day() {
    // From day 15, o5 follows three associates of their case that its file does not list yet,
    // pulling each of them every day: three people the file lacks, as every officer has a few,
    // not three more every day.
    let (mut evs, links) = background_with_associates();
    for d in 15..30 {
        for j in 0..3 {
            let t = T0 + d * DAY + (11 + j) * 3600 + 1800;
            evs.push(ev(t, "o5", "U", Action::IdentityLookup, &format!("880000{j:04}"), "C5"));
        }
    }
    let r = run(evs, &links, &[]);
    assert!(r.alerts.is_empty(), "{:#?}", r.alerts);
}

/// Twelve officers of one unit, each pulling all twenty people of their case's file every day
/// for 30 days and one associate a day new to the case, citing the case; no case links are
/// given. From day 15, if `strangers`, o3 swaps three of the file's people a day for three
/// strangers, citing the case all the same.
fn a_log_without_case_files(strangers: bool) -> Vec<Event> {
    let (mut evs, _) = with_associates(background(30, 20));
    if strangers {
        o3_cites_the_case_for_strangers(&mut evs, 1440);
    }
    evs
}

#[test]
fn without_case_files_a_case_holds_the_people_the_log_has_pulled_under_it() {
    // No case links: every citation is unexplained alike, so o3's three strangers a day in
    // place of three of the case's people change no count — unless a case's file is read from
    // the log itself, as the people pulled under it before. Against that, o3 cites the case for
    // people new to it at four times the agency's share.
    let r = run(a_log_without_case_files(true), &CaseLinks::default(), &[]);
    assert!(flagged(&r, "o3", "unexplained_access", Severity::High), "{:#?}", r.alerts);
    let others: Vec<_> = r.alerts.iter().filter(|a| a.officer != "o3").collect();
    assert!(others.is_empty(), "{others:#?}");
    // The look-alike: everyone's one associate a day, new to the case, is the agency's share.
    let r = run(a_log_without_case_files(false), &CaseLinks::default(), &[]);
    assert!(r.alerts.is_empty(), "{:#?}", r.alerts);
}

#[test]
fn officers_whose_files_lag_more_than_others_all_along_are_a_spread_not_abuse() {
    // The background's officers each look up, besides their file's people, none to three a
    // day that their case's file does not hold (officer o: o mod 4), all month: some teams keep
    // their files worse than others. The agency's share is one in eight; o3's is one in
    // four, all month — a habit the spread of officers' shares allows, and nobody's alarm.
    let (mut evs, links) = background(30, 10);
    for o in 0..12i64 {
        for d in 0..30 {
            for j in 0..o % 4 {
                let t = T0 + d * DAY + 14 * 3600 + j * 600 + o;
                let s = format!("55{o:02}{d:04}{j:02}");
                evs.push(ev(t, &format!("o{o}"), "U", Action::IdentityLookup, &s, &format!("C{o}")));
            }
        }
    }
    let r = run(evs, &links, &[]);
    assert!(r.alerts.is_empty(), "{:#?}", r.alerts);
    let high: Vec<_> = r.officers.iter().filter(|o| o.score >= 5.0).collect();
    assert!(high.is_empty(), "{high:#?}");
}

/// [`background_with_associates`] and four desk officers of the same unit doing `desk_per_day`
/// caseless checks a day; from day 20, o2's case is over and o2 does `o2_per_day` caseless
/// checks a day, as the desks do.
fn between_cases(desk_per_day: i64, o2_per_day: i64) -> (Vec<Event>, CaseLinks) {
    let (mut evs, links) = background_with_associates();
    evs.retain(|e| !(e.officer == "o2" && e.time - T0 >= 20 * DAY));
    let mut k = 0;
    let mut checks = |evs: &mut Vec<Event>, officer: &str, d: i64, n: i64| {
        for j in 0..n {
            k += 1;
            let t = T0 + d * DAY + 9 * 3600 + j * (8 * 3600 / n.max(1));
            evs.push(ev(t, officer, "U", Action::IdentityLookup, &format!("9{k:09}"), ""));
        }
    };
    for d in 0..30 {
        for desk in 0..4 {
            checks(&mut evs, &format!("desk{desk}"), d, desk_per_day);
        }
        if d >= 20 {
            checks(&mut evs, "o2", d, o2_per_day);
        }
    }
    (evs, links)
}

#[test]
fn an_investigator_between_cases_doing_routine_checks_is_judged_as_a_desk() {
    let (evs, links) = between_cases(12, 4);
    let r = run(evs, &links, &[]);
    let o2: Vec<_> = r.alerts.iter().filter(|a| a.officer == "o2").collect();
    assert!(o2.is_empty(), "{o2:#?}");
    // Many times what a desk does is still out of the ordinary for a desk.
    let (evs, links) = between_cases(12, 80);
    let r = run(evs, &links, &[]);
    assert!(r.alerts.iter().any(|a| a.officer == "o2" && a.severity >= Severity::High), "{:#?}", r.alerts);
}

#[test]
fn a_name_search_under_the_officers_own_case_is_explained_by_it() {
    // A name searched for is no person a case file could hold: under a case the officer works,
    // the case explains it; citing no case, nothing does.
    let unexplained = |case: &str| {
        let (mut evs, links) = background(20, 5);
        for k in 0..4 {
            let t = T0 + 15 * DAY + 11 * 3600 + k * 600;
            evs.push(ev(t, "o1", "U", Action::NameSearch, &format!("name {k}"), case));
        }
        let r = run(evs, &links, &[]);
        let o1 = r.officers.iter().find(|o| o.officer == "o1").unwrap();
        o1.reasons.iter().any(|x| x.code.starts_with("unexplained"))
            || r.alerts.iter().any(|a| a.officer == "o1" && a.detector.starts_with("unexplained"))
    };
    assert!(!unexplained("C1"), "searches under the officer's own case");
    assert!(unexplained(""), "searches citing no case");
    assert!(unexplained("C7"), "searches under another officer's case");
}

/// Twelve officers of unit `U` doing explained case work by day, each with one lookup in every
/// eleven at a scattered hour of the night or evening (00:00–06:00, 19:00–23:00: no one hour
/// under 1% of anyone's work, so each is unusual and counted as off-hours once the officer's
/// hours are known). `light` officers do a quarter of the work of the others, so their hours
/// are known days later.
fn scattered_nights(days: i64, light: &[i64]) -> (Vec<Event>, CaseLinks) {
    let (_, links) = background(0, 10);
    let hours = [0, 1, 2, 3, 4, 5, 19, 20, 21, 22, 23];
    let mut evs = Vec::new();
    for o in 0..12 {
        let scale = if light.contains(&o) { 1 } else { 4 };
        for d in 0..days {
            for k in 0..10 * scale {
                let t = T0 + d * DAY + 9 * 3600 + k * 8 * 3600 / (10 * scale) + o * 7;
                let s = format!("{o}{:08}", (d + k) % 20);
                evs.push(ev(t, &format!("o{o}"), "U", Action::IdentityLookup, &s, &format!("C{o}")));
            }
            for k in 0..scale {
                let h = hours[((d * 5 + o * 3 + k * 7) % 11) as usize];
                let t = T0 + d * DAY + h * 3600 + 600 * k + o * 11;
                let s = format!("{o}{:08}", (d + k + 3) % 20);
                evs.push(ev(t, &format!("o{o}"), "U", Action::IdentityLookup, &s, &format!("C{o}")));
            }
        }
    }
    (evs, links)
}

#[test]
fn off_hours_early_in_a_log_are_judged_against_the_peers_accesses_whose_hours_were_known() {
    // Every officer works a scattered hour of the night in one lookup of eleven, from the
    // log's first day; all but o0 work a quarter as much, so their hours are known days after
    // o0's. Nobody's hours differ from the others': no off-hours alert on anyone.
    let (evs, links) = scattered_nights(12, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    let r = run(evs, &links, &[]);
    let off: Vec<_> = r.alerts.iter().filter(|a| a.detector.contains("off_hours")).collect();
    assert!(off.is_empty(), "{off:#?}");
    // The look-alike: the same log where o0 alone works those hours.
    let (mut evs, links) = scattered_nights(12, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    evs.retain(|e| e.officer == "o0" || (9..17).contains(&(e.time.rem_euclid(DAY) / 3600)));
    let r = run(evs, &links, &[]);
    assert!(flagged(&r, "o0", "off_hours", Severity::High), "{:#?}", r.alerts);
}

#[test]
fn unexplained_lookups_at_unusual_hours_are_one_alert_not_one_per_signal() {
    // o5 alone turns to nights on day 20, in a log that links no case and cites none: every
    // off-hours lookup is also an unexplained subject at an unusual hour. The two signals
    // count the same lookups: each severity is reported once within the window, on one or the
    // other, not on both.
    let (evs, _) = rota(20, 27, true);
    let evs: Vec<Event> = evs.into_iter().map(|e| Event { case: String::new(), ..e }).collect();
    let r = run(evs, &CaseLinks::default(), &[]);
    assert!(
        flagged(&r, "o5", "off_hours", Severity::High)
            || flagged(&r, "o5", "unexplained_off_hours", Severity::High)
    );
    let hours: Vec<_> =
        r.alerts.iter().filter(|a| a.officer == "o5" && a.detector.contains("off_hours")).collect();
    for a in &hours {
        let twice = hours.iter().any(|b| {
            b.detector != a.detector && b.severity == a.severity && (b.unix - a.unix).abs() < 7 * DAY
        });
        assert!(!twice, "{hours:#?}");
    }
}

#[test]
fn a_colleague_leaving_the_case_blank_on_the_teams_own_work_is_not_collusion() {
    // Case links are given, but the case o1 cites is not in them. o1 cites it for the
    // numbers; x9 pulls the same numbers leaving the case field blank. Of one unit, that is
    // the team's own work with the field left empty: no collusion. The same blank pulls by an
    // officer of another unit are a share no case declares for them.
    let (evs, links) = background(20, 10);
    let mut team = evs.clone();
    shared_pulls(&mut team, "C-77", "U", "");
    let r = run(team, &links, &[]);
    assert!(r.alerts.iter().all(|a| a.detector != "collusion"), "{:#?}", r.alerts);
    let mut other = evs;
    shared_pulls(&mut other, "C-77", "V", "");
    let r = run(other, &links, &[]);
    let c = colluders(&r);
    assert!(c.contains(&"o1") && c.contains(&"x9"), "{:#?}", r.alerts);
}

/// o1 pulls a number citing `K-1` at 10:00, then o1 at 11:00 and o2 at 15:00 pull it again
/// leaving the case field blank (o2 of unit `o2_unit`), on days 10-15.
fn blank_after_citing(evs: &mut Vec<Event>, o2: &str, o2_unit: &str) {
    for d in 10..16 {
        let s = format!("8801{d:09}");
        evs.push(ev(T0 + d * DAY + 10 * 3600, "o1", "U", Action::SubscriberLookup, &s, "K-1"));
        evs.push(ev(T0 + d * DAY + 11 * 3600, "o1", "U", Action::CdrQuery, &s, ""));
        evs.push(ev(T0 + d * DAY + 15 * 3600, o2, o2_unit, Action::CdrQuery, &s, ""));
    }
}

#[test]
fn colleagues_leaving_the_case_blank_on_people_their_team_cited_are_not_colluding() {
    // No case links: the cited case is the only explanation there is. o1 pulls each number
    // under K-1, then o1 and their colleague o2 pull it again with the case field left blank:
    // the team's own work under K-1, which the log shows, not two officers sharing people in
    // secret.
    let (evs, _) = background(20, 10);
    let mut team = evs.clone();
    blank_after_citing(&mut team, "o2", "U");
    let r = run(team, &CaseLinks::default(), &[]);
    assert!(r.alerts.iter().all(|a| a.detector != "collusion"), "{:#?}", r.alerts);
    // The look-alike: an officer of another unit pulling the same people with the case left
    // blank has no citation of theirs or their unit's to explain it.
    let mut other = evs;
    blank_after_citing(&mut other, "x9", "V");
    let r = run(other, &CaseLinks::default(), &[]);
    let c = colluders(&r);
    assert!(c.contains(&"o1") && c.contains(&"x9"), "{:#?}", r.alerts);
}

#[test]
fn a_routine_check_of_someone_a_colleague_cited_is_not_a_citation_the_file_lacks() {
    // Six desk officers of unit D check identities all day citing no case. On days 12-16, x9
    // of unit V and then i1 of D cite o1's case C1 for a person its file does not hold, and
    // desk officer d0 checks the same person that evening. d0 cited nothing: no "citing a case whose file does not hold
    // the subject" on d0.
    let (mut evs, links) = background(20, 10);
    desk_checks(&mut evs, 20, |desk, d, k| format!("9{desk}{d:03}{k:05}"));
    for d in 12..17 {
        let s = format!("5{d:09}");
        evs.push(ev(T0 + d * DAY + 9 * 3600, "x9", "V", Action::IdentityLookup, &s, "C1"));
        evs.push(ev(T0 + d * DAY + 10 * 3600, "i1", "D", Action::IdentityLookup, &s, "C1"));
        evs.push(ev(T0 + d * DAY + 17 * 3600, "d0", "D", Action::IdentityLookup, &s, ""));
    }
    let r = run(evs, &links, &[]);
    let d0: Vec<_> = r.alerts.iter().filter(|a| a.officer == "d0").collect();
    assert!(d0.iter().all(|a| !a.detail.contains("citing a case")), "{d0:#?}");
}

/// A unit of twelve: `before` days of 09:00-17:00 with a lookup at 18:00 or 19:00 every third
/// day, then 30 days of short days (09:00-15:00, thrice as busy: a month of Ramadan hours), then
/// 4 days of normal hours again, when `back` works on to 20:00.
fn a_season_of_short_days(before: i64, back: &str) -> (Vec<Event>, CaseLinks) {
    let (_, links) = background(0, 10);
    let mut evs = Vec::new();
    for o in 0..12 {
        let officer = format!("o{o}");
        let case = format!("C{o}");
        let mut look = |t: i64, k: i64| {
            let s = format!("{o}{:08}", k % 20);
            evs.push(ev(t + o, &officer, "U", Action::IdentityLookup, &s, &case));
        };
        for d in 0..before + 34 {
            let (from, hours, n) = if (before..before + 30).contains(&d) { (9, 6, 30) } else { (9, 8, 10) };
            for k in 0..n {
                look(T0 + d * DAY + from * 3600 + k * hours * 3600 / n, d + k);
            }
            if d < before && d % 3 == 0 {
                look(T0 + d * DAY + (18 + d % 2) * 3600, d);
            }
            if d >= before + 30 && officer == back {
                for k in 0..4 {
                    look(T0 + d * DAY + 18 * 3600 + k * 1800, d + k);
                }
            }
        }
    }
    (evs, links)
}

#[test]
fn hours_an_officer_worked_stay_theirs_after_a_season_of_short_days() {
    // o3 worked on to 19:00 now and then before the month of short days thinned those hours
    // in their profile, and does again after it: no unusual hours. The season may begin after
    // two working weeks (ten active days) as well as after more.
    for before in [16, 11] {
        let (evs, links) = a_season_of_short_days(before, "o3");
        let r = run(evs, &links, &[]);
        let off: Vec<_> = r.alerts.iter().filter(|a| a.detector.contains("off_hours")).collect();
        assert!(off.is_empty(), "{before} days before: {off:#?}");
        // The look-alike: an hour o3 never worked before is unusual after the season as before.
        let (mut evs, links) = a_season_of_short_days(before, "o3");
        let back = T0 + (before + 30) * DAY;
        evs.retain(|e| e.officer == "o3" && e.time >= back || e.time.rem_euclid(DAY) < 18 * 3600);
        let r = run(evs, &links, &[]);
        assert!(flagged(&r, "o3", "off_hours", Severity::Medium), "{before} days before: {:#?}", r.alerts);
    }
}

#[test]
fn an_officer_whose_case_no_file_holds_in_a_unit_turning_to_nights_is_not_hiding_night_work() {
    // The whole unit turns to nights on day 20. o5's case and its people are in no file: every
    // lookup of theirs is unexplained, by day as by night, as it was before. Their nights are
    // the unit's and their unexplained share their own: no unexplained subjects at unusual hours.
    let uncased = |evs: Vec<Event>| -> Vec<Event> {
        let theirs = |e: Event| Event { case: "X-5".into(), subject: format!("7{}", e.subject), ..e };
        evs.into_iter().map(|e| if e.officer == "o5" { theirs(e) } else { e }).collect()
    };
    let (evs, links) = rota(20, 26, false);
    let r = run(uncased(evs), &links, &[]);
    let off: Vec<_> = r.alerts.iter().filter(|a| a.detector.contains("off_hours")).collect();
    assert!(off.is_empty(), "{off:#?}");
    // The look-alike: o5 alone turning to nights is at unusual hours all the same.
    let (evs, links) = rota(20, 26, true);
    let r = run(uncased(evs), &links, &[]);
    assert!(
        flagged(&r, "o5", "off_hours", Severity::High)
            || flagged(&r, "o5", "unexplained_off_hours", Severity::High),
        "{:#?}",
        r.alerts
    );
}

#[test]
fn where_the_log_says_nothing_of_cases_repeat_access_and_shared_work_explain() {
    // A log with no case column: twelve officers of one unit return, day after day, to the
    // people of their work (their own and a colleague's), with a new one now and then. From
    // day 30, o5 looks up ten people a day whom nobody in the unit has touched: the same
    // volume, but nothing of the unit's work explains them.
    let mut evs = Vec::new();
    for d in 0..40 {
        for o in 0..12i64 {
            for k in 0..10 {
                let t = T0 + d * DAY + 9 * 3600 + k * 2400 + o * 60;
                let subject = if o == 5 && d >= 30 {
                    format!("7{:09}", d * 100 + k)
                } else if k == 0 {
                    format!("6{o:02}{d:07}") // someone new
                } else {
                    // Their own people, and (every third) a colleague's.
                    let owner = if k % 3 == 0 { (o + 1) % 12 } else { o };
                    format!("5{owner:02}{:07}", (d + k) % 12)
                };
                evs.push(ev(t, &format!("o{o}"), "U", Action::IdentityLookup, &subject, ""));
            }
        }
    }
    let r = run(evs, &CaseLinks::default(), &[]);
    assert!(flagged(&r, "o5", "unexplained_access", Severity::High), "{:#?}", r.alerts);
    let others: Vec<_> = r.alerts.iter().filter(|a| a.officer != "o5").collect();
    assert!(others.is_empty(), "{others:#?}");
    assert_eq!(r.officers[0].officer, "o5");
}

#[test]
fn a_task_force_officer_leaving_the_case_blank_on_its_people_is_not_collusion() {
    // No case links. From day 20, a task force: `t1` of unit X pulls its people citing `JTF-1`,
    // and `t2` of unit Y, who cites `JTF-1` too, pulls the same people within hours with the
    // case field left blank on four of them. They work one case: the blank field is that
    // case's work, not two officers of different units sharing people in secret. An officer
    // who never cited `JTF-1` pulling them the same way is.
    let task_force = |second_cites: bool| {
        let (mut evs, _) = background(30, 10);
        for d in 20..26 {
            for k in 0..3 {
                let person = format!("9{d:03}{k:06}");
                let t = T0 + d * DAY + 10 * 3600 + k * 600;
                evs.push(ev(t, "t1", "X", Action::IdentityLookup, &person, "JTF-1"));
                let blank = (d + k) % 2 == 0;
                let case = if blank || !second_cites { "" } else { "JTF-1" };
                evs.push(ev(t + 3600, "t2", "Y", Action::IdentityLookup, &person, case));
            }
        }
        run(evs, &CaseLinks::default(), &[])
    };
    let r = task_force(true);
    assert!(r.alerts.iter().all(|a| a.detector != "collusion"), "{:#?}", r.alerts);
    let r = task_force(false);
    assert!(flagged(&r, "t2", "collusion", Severity::High), "{:#?}", r.alerts);
}

/// Twelve officers' case work for 45 days, and each day two routine lookups of people no case
/// holds: every tenth such person is pulled again the next day, every hundredth on a third
/// day. With `regulars`, each officer also checks one person of their own, no case cited,
/// every third day: a log where coming back to unexplained people is everyone's habit.
fn returns_background(regulars: bool) -> (Vec<Event>, CaseLinks) {
    let (mut evs, links) = background(45, 6);
    let mut n = 0;
    for d in 0..45 {
        for o in 0..12 {
            let officer = format!("o{o}");
            for k in 0..2 {
                n += 1;
                let t = T0 + d * DAY + 11 * 3600 + k * 1800 + o;
                let who = format!("7{n:09}");
                evs.push(ev(t, &officer, "U", Action::IdentityLookup, &who, ""));
                if n % 10 == 0 && d + 1 < 45 {
                    evs.push(ev(t + DAY, &officer, "U", Action::IdentityLookup, &who, ""));
                }
                if n % 100 == 0 && d + 2 < 45 {
                    evs.push(ev(t + 2 * DAY, &officer, "U", Action::IdentityLookup, &who, ""));
                }
            }
            if regulars && d % 3 == o % 3 {
                let t = T0 + d * DAY + 14 * 3600 + o;
                evs.push(ev(t, &officer, "U", Action::IdentityLookup, &format!("+88017110{o:05}"), ""));
            }
        }
    }
    (evs, links)
}

/// `officer` pulls where one phone is, citing no case, on every third day from day 3: fifteen
/// days in six weeks, a minute's work each time, in office hours.
fn follow_one_phone(evs: &mut Vec<Event>, officer: &str, case: &str) {
    for d in (3..45).step_by(3) {
        evs.push(ev(T0 + d * DAY + 15 * 3600, officer, "U", Action::LocationQuery, "+8801719000999", case));
    }
}

#[test]
fn an_officer_who_keeps_coming_back_to_one_person_no_case_holds_is_flagged() {
    let (mut evs, links) = returns_background(false);
    follow_one_phone(&mut evs, "o5", "");
    let r = run(evs, &links, &[]);
    assert!(flagged(&r, "o5", "persistent_interest", Severity::High), "{:#?}", r.alerts);
    let o5 = r.officers.iter().find(|o| o.officer == "o5").unwrap();
    let reason = o5.reasons.iter().find(|x| x.code == "persistent_interest").unwrap();
    assert!(reason.detail.contains("`+8801719000999` on 14 separate days"), "{}", reason.detail);
    // The routine lookups that come back a day or two later flag nobody.
    assert!(
        !r.alerts.iter().any(|a| a.detector == "persistent_interest" && a.officer != "o5"),
        "{:#?}",
        r.alerts
    );
}

#[test]
fn coming_back_to_a_person_ones_case_holds_is_case_work() {
    let (mut evs, links) = returns_background(false);
    // o6's case C6 holds `6` followed by eight digits: the phone is added to its file.
    let mut links = links;
    links.subjects.push(("C6".into(), "+8801719000999".into()));
    follow_one_phone(&mut evs, "o6", "C6");
    let r = run(evs, &links, &[]);
    assert!(!r.alerts.iter().any(|a| a.detector == "persistent_interest"), "{:#?}", r.alerts);
    let o6 = r.officers.iter().find(|o| o.officer == "o6").unwrap();
    assert!(!o6.reasons.iter().any(|x| x.code == "persistent_interest"), "{:?}", o6.reasons);
}

#[test]
fn where_every_officer_comes_back_to_people_no_case_holds_one_more_is_no_news() {
    let (mut evs, links) = returns_background(true);
    follow_one_phone(&mut evs, "o5", "");
    let r = run(evs, &links, &[]);
    assert!(!flagged(&r, "o5", "persistent_interest", Severity::Medium), "{:#?}", r.alerts);
}

/// A log that says nothing of cases or units: six desks checking 40 strangers a day each, one
/// in 25 finding nobody (mistyped numbers), and thirty investigators each pulling the
/// identities and call records of their own few suspects (four identity checks and two
/// call-record queries a day), who always find them. Every identity check cites no case, so
/// it is the action that tells a desk from an investigator: the desks' hundreds of strangers
/// and their empty lookups are desk work, not unexplained access against investigators' few.
#[test]
fn where_a_log_says_nothing_of_cases_desks_are_judged_against_desks() {
    let mut evs = Vec::new();
    let mut n = 0u64;
    for d in 0..40 {
        for k in 0..36i64 {
            let t0 = T0 + d * DAY + 9 * 3600 + k * 60;
            if k < 6 {
                for j in 0..40 {
                    n += 1;
                    let who = format!("3{:09}", n * 7_919_993 % 1_000_000_000);
                    let mut e = ev(
                        t0 + j * 600,
                        &format!("desk{}", ["a", "b", "c", "d", "e", "f"][k as usize]),
                        "",
                        Action::IdentityLookup,
                        &who,
                        "",
                    );
                    if n.is_multiple_of(25) {
                        e.records = 0;
                    }
                    evs.push(e);
                }
                continue;
            }
            let officer =
                format!("inv-{}{}", char::from(b'a' + (k / 26) as u8), char::from(b'a' + (k % 26) as u8));
            for j in 0..4 {
                let who = format!("5{k:02}{:07}", d / 5 * 4 + j);
                evs.push(ev(t0 + 1800 + j * 3000, &officer, "", Action::IdentityLookup, &who, ""));
            }
            for j in 0..2 {
                let phone = format!("+88017{k:02}{:06}", d / 5 * 2 + j);
                evs.push(ev(t0 + 2400 + j * 7000, &officer, "", Action::CdrQuery, &phone, ""));
            }
        }
    }
    let r = run(evs, &CaseLinks::default(), &[]);
    let desks: Vec<_> = r.alerts.iter().filter(|a| a.officer.starts_with("desk")).collect();
    assert!(desks.is_empty(), "{desks:#?}");
}

#[test]
fn collusion_evidence_short_of_an_alert_says_who_the_partner_is() {
    // o1 and x9 (another unit) share two people nothing explains, a day apart: fewer than an
    // alert needs, but evidence in both officers' scores, which must say what it is.
    let (mut evs, links) = background(20, 6);
    for d in 10..12 {
        let s = format!("8801{d:09}");
        evs.push(ev(T0 + d * DAY + 10 * 3600, "o1", "U", Action::SubscriberLookup, &s, ""));
        evs.push(ev(T0 + d * DAY + 15 * 3600, "x9", "V", Action::CdrQuery, &s, ""));
    }
    let r = run(evs, &links, &[]);
    assert!(colluders(&r).is_empty(), "{:#?}", r.alerts);
    for (me, other) in [("o1", "x9"), ("x9", "o1")] {
        let o = r.officers.iter().find(|o| o.officer == me).unwrap();
        let reason = o.reasons.iter().find(|x| x.code == "collusion").unwrap_or_else(|| panic!("{o:#?}"));
        assert!(
            reason.detail.starts_with("2 unexplained subjects also pulled by `")
                && reason.detail.contains(other),
            "{}",
            reason.detail
        );
    }
}

/// The collusion reason of `officer` in the report, if any.
fn collusion_reason<'a>(r: &'a custos_detect::Report, officer: &str) -> Option<&'a str> {
    let o = r.officers.iter().find(|o| o.officer == officer)?;
    o.reasons.iter().find(|x| x.code == "collusion").map(|x| x.detail.as_str())
}

/// A log that says nothing of cases: officers `o0`-`o11` of unit U and `v0`-`v11` of unit V,
/// each pulling people of their own every working day, teammates of U in twos pulling the
/// same people (their shared work, which the log does not record).
fn caseless_units(days: i64) -> Vec<Event> {
    let mut evs = Vec::new();
    for (unit, prefix) in [("U", "o"), ("V", "v")] {
        for o in 0..12 {
            let officer = format!("{prefix}{o}");
            for d in 0..days {
                for k in 0..8 {
                    let t = T0 + d * DAY + 9 * 3600 + k * 1800 + o;
                    let owner = if unit == "U" { o / 2 } else { 100 + o };
                    let subject = format!("7{owner:03}{:06}", (d * 8 + k) * 13);
                    evs.push(ev(t, &officer, unit, Action::IdentityLookup, &subject, ""));
                }
            }
        }
    }
    evs
}

#[test]
fn officers_of_two_units_sharing_people_in_a_log_without_cases_is_a_reason_not_an_alert() {
    // o1 of U and x9 of V pull the same six people on six days; teammates of U share every
    // person they pull. Nothing in the log says why anyone looked: the pair across units is
    // worth an auditor's look (a reason, in the score), not an alarm.
    let mut evs = caseless_units(20);
    shared_pulls(&mut evs, "", "V", "");
    let r = run(evs, &CaseLinks::default(), &[]);
    assert!(r.alerts.iter().all(|a| a.detector != "collusion"), "{:#?}", r.alerts);
    for (me, other) in [("o1", "x9"), ("x9", "o1")] {
        let why = collusion_reason(&r, me).unwrap_or_else(|| panic!("{me}: {:#?}", r.officers));
        assert!(why.contains(&format!("`{other}`")), "{why}");
    }
    // Teammates sharing all their work are colleagues, not a pair.
    assert!(collusion_reason(&r, "o2").is_none(), "{:#?}", r.officers);
    assert!(collusion_reason(&r, "o3").is_none(), "{:#?}", r.officers);
    let rank = |who: &str| r.officers.iter().position(|o| o.officer == who).unwrap();
    assert!(rank("o1") < rank("o2") && rank("x9") < rank("v1"), "{:#?}", r.officers);
}

/// A log that names neither cases nor units, where 40 pairs of officers (`a{i}` and `b{i}`)
/// share people over a fortnight, most one to three, a few up to twelve, beside people of
/// their own.
fn caseless_pairs() -> Vec<Event> {
    const SHARED: [i64; 40] = [
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 6, 6,
        6, 8, 8, 10, 10, 12,
    ];
    let mut evs = Vec::new();
    for (i, &shared) in (0i64..).zip(&SHARED) {
        for (who, hour) in [(format!("a{i}"), 9), (format!("b{i}"), 14)] {
            for d in 0..20 {
                for k in 0..6 {
                    let t = T0 + d * DAY + hour * 3600 + k * 600 + i;
                    // Scattered numbers: no run of neighbours reads as an enumeration.
                    let subject = if d >= 5 && d - 5 < shared && k == 0 {
                        format!("6{:09}", (i * 100 + d) * 7_919_011 % 1_000_000_007)
                    } else {
                        format!(
                            "8{:09}",
                            ((i * 2 + i64::from(hour == 9)) * 1000 + d * 6 + k) * 7_919_011 % 1_000_000_007
                        )
                    };
                    evs.push(ev(t, &who, "", Action::IdentityLookup, &subject, ""));
                }
            }
        }
    }
    evs
}

#[test]
fn where_many_pairs_share_people_in_a_log_naming_no_units_a_pair_sharing_as_much_is_no_reason() {
    // Who is whose colleague is unknown (no units, one account series for all): every pair
    // sharing a few people may be one team. Judged against how much pairs share in this very
    // log, a pair sharing what the others do is no reason (twelve people: a uniform draw from
    // everyone the log holds would call that collusion); one sharing far more still is.
    let mut evs = caseless_pairs();
    for d in 2..20 {
        for k in 0..4 {
            let s = format!("5{:09}", (d * 10 + k) * 7_919_011 % 1_000_000_007);
            evs.push(ev(T0 + d * DAY + 11 * 3600 + k * 60, "a0", "", Action::IdentityLookup, &s, ""));
            evs.push(ev(T0 + d * DAY + 16 * 3600 + k * 60, "b0", "", Action::IdentityLookup, &s, ""));
        }
    }
    let r = run(evs, &CaseLinks::default(), &[]);
    for i in 1..40 {
        for who in [format!("a{i}"), format!("b{i}")] {
            assert!(collusion_reason(&r, &who).is_none(), "{who}: {:?}", collusion_reason(&r, &who));
        }
    }
    let why = collusion_reason(&r, "a0").unwrap_or_else(|| panic!("{:#?}", &r.officers[..3]));
    assert!(why.contains("`b0`") && why.contains("pairs of officers"), "{why}");
}

#[test]
fn a_batch_of_lookups_under_ones_own_case_finding_nobody_is_one_not_many() {
    // A tower dump's follow-up: o3 checks the owners of 120 numbers under their own case one
    // afternoon, one in six of another operator (no record). The numbers came from one
    // artefact of the case: its empty lookups are one matter, not twenty. o5 checks as many
    // numbers citing no case: a sweep, whose empty lookups each count.
    let (mut evs, links) = background(30, 10);
    for (who, case) in [("o3", "C3"), ("o5", "")] {
        for k in 0..120i64 {
            let t = T0 + 20 * DAY + 13 * 3600 + k * 45;
            let n = format!("88017{:08}", (k * 7_919 + i64::from(case.is_empty())) * 104_729 % 100_000_000);
            let mut e = ev(t, who, "U", Action::SubscriberLookup, &n, case);
            e.records = u64::from(k % 6 != 0);
            evs.push(e);
        }
    }
    let r = run(evs, &links, &[]);
    assert!(!flagged(&r, "o3", "not_found", Severity::Medium), "{:#?}", r.alerts);
    assert!(flagged(&r, "o5", "not_found", Severity::High), "{:#?}", r.alerts);
}

#[test]
fn people_an_operation_of_several_units_pulls_are_no_pairs_secret_in_a_log_without_cases() {
    // v3 (unit V), w1 (unit W) and o7 (unit U) work one operation: each of its people is
    // pulled by all three within hours. o1 and x9 share people nobody else pulls. Where the
    // log says nothing of cases, only the pair is a reason.
    let mut evs = caseless_units(20);
    shared_pulls(&mut evs, "", "V", "");
    for d in 4..10 {
        let s = format!("4{:09}", d * 7_919_011 % 1_000_000_007);
        for (k, (who, unit)) in [("v3", "V"), ("w1", "W"), ("o7", "U")].into_iter().enumerate() {
            let t = T0 + d * DAY + 11 * 3600 + k as i64 * 1800;
            evs.push(ev(t, who, unit, Action::SubscriberLookup, &s, ""));
        }
    }
    let r = run(evs, &CaseLinks::default(), &[]);
    for who in ["v3", "w1", "o7"] {
        assert!(collusion_reason(&r, who).is_none(), "{who}: {:?}", collusion_reason(&r, who));
    }
    assert!(collusion_reason(&r, "o1").is_some_and(|w| w.contains("`x9`")), "{:#?}", r.officers);
}

proptest! {
    #[test]
    fn in_a_log_without_cases_collusion_pairs_only_officers_of_other_units_and_never_alerts(
        pulls in proptest::collection::vec((0u8..8, 0u8..12, 0i64..20 * 24, 0u8..3), 0..300),
        shares in proptest::collection::vec((0u8..2, 1u8..4, 0i64..20 * 24), 0..120),
    ) {
        // Eight officers in three units (unit `U{o % 3}`) pulling twelve people at random
        // hours over twenty days, citing no case; and pairs of o0..o4 (o0 and o3 of one unit)
        // each pulling a person of their own, an hour apart, that no one else pulls.
        let officer = |o: u8| (format!("o{o}"), format!("U{}", o % 3));
        let mut evs: Vec<Event> = Vec::new();
        for &(o, s, h, a) in &pulls {
            let action = match a {
                0 => Action::IdentityLookup,
                1 => Action::CdrQuery,
                _ => Action::SubscriberLookup,
            };
            let (who, unit) = officer(o);
            evs.push(ev(T0 + h * 3600 + i64::from(s), &who, &unit, action, &format!("88017{:08}", u32::from(s) * 7_919), ""));
        }
        for (k, &(o, d, h)) in (0u32..).zip(&shares) {
            let person = format!("9{:09}", k * 7_919_011 % 1_000_000_007);
            for (who, at) in [(o, h), ((o + d) % 8, h + 1)] {
                let (who, unit) = officer(who);
                evs.push(ev(T0 + at * 3600, &who, &unit, Action::IdentityLookup, &person, ""));
            }
        }
        let r = run(evs, &CaseLinks::default(), &[]);
        prop_assert!(r.alerts.iter().all(|a| a.detector != "collusion"));
        for o in &r.officers {
            for why in o.reasons.iter().filter(|x| x.code == "collusion") {
                let partner = why.detail.split('`').nth(1).unwrap_or_default();
                let theirs = r.officers.iter().find(|p| p.officer == partner);
                prop_assert!(theirs.is_some_and(|p| p.unit != o.unit), "{} {}", o.officer, why.detail);
            }
        }
    }
}

/// Whether the report alerts on `officer` for people of another unit's case.
fn foreign(r: &custos_detect::Report, officer: &str) -> bool {
    r.alerts.iter().any(|a| {
        a.officer == officer && a.detector == "unexplained_access" && a.detail.contains("another unit's")
    })
}

/// Two units of twelve at their case work for 30 days (`background`'s U, and W: officers
/// `w0`-`w11` on cases `D0`-`D11`), and `t`, who works U's case C0 beside o0 until day 15 and
/// is then transferred to W, where they work case DT. From day 16 `t` also pulls two people a
/// day of U's cases C3-C8, which they never worked, citing none. Beside them, o2 (of U)
/// pulls a person a day of their colleague o3's case citing none, and w5 (of W), who cites
/// U's case C4 on day 10 as a task force's officer would, pulls a person a day of C4 citing
/// none. Every officer of W also checks two new people a day citing none. Returns the events
/// and the links (t on C0 and DT).
fn transfer(days: i64) -> (Vec<Event>, CaseLinks) {
    let (mut evs, mut links) = background(days, 10);
    let (w, wl) = background(days, 10);
    evs.extend(w.into_iter().map(|e| Event {
        officer: e.officer.replace('o', "w"),
        unit: "W".into(),
        subject: format!("7{}", e.subject),
        case: e.case.replace('C', "D"),
        ..e
    }));
    links.officers.extend(wl.officers.into_iter().map(|(c, o)| (c.replace('C', "D"), o.replace('o', "w"))));
    links.subjects.extend(wl.subjects.into_iter().map(|(c, s)| (c.replace('C', "D"), format!("7{s}"))));
    links.officers.push(("C0".into(), "t".into()));
    links.officers.push(("DT".into(), "t".into()));
    for k in 0..10 {
        links.subjects.push(("DT".into(), format!("66{k:08}")));
    }
    for d in 0..days {
        let day = T0 + d * DAY;
        for k in 0..10 {
            let t = day + 9 * 3600 + k * 2400 + 17;
            evs.push(if d < 15 {
                ev(t, "t", "U", Action::IdentityLookup, &format!("0{:08}", (d + k) % 20), "C0")
            } else {
                ev(t, "t", "W", Action::IdentityLookup, &format!("66{:08}", (d + k) % 10), "DT")
            });
        }
        if d >= 16 {
            for k in 0..2 {
                let o = 3 + (d + k) % 6;
                let s = format!("{o}{:08}", (d * 3 + k) % 20);
                evs.push(ev(day + 14 * 3600 + k * 1800, "t", "W", Action::IdentityLookup, &s, ""));
            }
        }
        // Every officer of W checks two people a day citing no case (the unit's routine), so
        // that t's unexplained people are as many as their new peers'.
        for o in 0..12 {
            for k in 0..2 {
                let s = format!("9{o:02}{d:03}{k:04}");
                evs.push(ev(
                    day + 13 * 3600 + k * 1800 + o,
                    &format!("w{o}"),
                    "W",
                    Action::IdentityLookup,
                    &s,
                    "",
                ));
            }
        }
        if d >= 12 {
            let s = format!("3{:08}", d % 20);
            evs.push(ev(day + 15 * 3600, "o2", "U", Action::IdentityLookup, &s, ""));
            let s = format!("4{:08}", d % 20);
            evs.push(ev(day + 15 * 3600 + 60, "w5", "W", Action::IdentityLookup, &s, ""));
        }
        if d == 10 {
            evs.push(ev(day + 12 * 3600, "w5", "W", Action::IdentityLookup, "400000000", "C4"));
        }
    }
    (evs, links)
}

#[test]
fn a_transferred_officer_pulling_the_old_units_people_citing_none_is_unexplained() {
    // With the case file and without it (the log's citations say whose the people are), t's
    // pulls of U's people after the transfer are people of another unit's case, which t does
    // not work: unexplained access, at high. The look-alikes stay quiet on it: o2 pulls a
    // colleague's people, w5 the people of a case they have cited themself.
    for with_file in [true, false] {
        let (evs, links) = transfer(30);
        let links = if with_file { links } else { CaseLinks::default() };
        let r = run(evs, &links, &[]);
        assert!(flagged(&r, "t", "unexplained_access", Severity::High), "file {with_file}: {:#?}", r.alerts);
        assert!(foreign(&r, "t"), "file {with_file}: {:#?}", r.alerts);
        for quiet in ["o2", "w5"] {
            assert!(!foreign(&r, quiet), "{quiet}, file {with_file}: {:#?}", r.alerts);
        }
        let top = &r.officers[0];
        assert_eq!(
            top.officer,
            "t",
            "file {with_file}: {:#?}",
            r.officers.iter().take(3).collect::<Vec<_>>()
        );
    }
}

#[test]
fn a_new_desk_officers_first_checks_are_judged_as_a_desks_too() {
    // Unit D's six desk officers check 40 people a day citing no case; one check in ten is a
    // person of a case of U's (people under investigation come to the desk too). Its four
    // investigators work their own cases. On day 20 n0 joins the desk, and three of their
    // first four checks happen to be such people. With
    // fewer than five accesses n0 has no style yet: judged as case work alone, where nobody
    // pulls people of another unit's case, three would be an alert; as a desk, they are what
    // its checks meet.
    let (mut evs, links) = background(25, 10);
    desk_checks(&mut evs, 25, |desk, d, k| {
        if k % 10 == 3 {
            format!("{}{:08}", (desk + d) % 12, (k + d) % 20)
        } else {
            format!("9{desk}{d:03}{k:05}")
        }
    });
    // D's four investigators work their own cases.
    for i in 0..4 {
        for d in 0..25 {
            for k in 0..10 {
                let t = T0 + d * DAY + 9 * 3600 + k * 2700 + i;
                let s = format!("6{i}{:08}", (d + k) % 20);
                evs.push(ev(t, &format!("i{i}"), "D", Action::IdentityLookup, &s, &format!("E{i}")));
            }
        }
    }
    for k in 0..20_i64 {
        let s = if [0, 1, 3].contains(&k) {
            format!("{}{:08}", k + 2, k + 5)
        } else {
            format!("8{:09}", k * 48_611_327 + 12_345)
        };
        evs.push(ev(T0 + 20 * DAY + 9 * 3600 + k * 600 + 9, "n0", "D", Action::IdentityLookup, &s, ""));
    }
    for with_file in [true, false] {
        let links = if with_file { links.clone() } else { CaseLinks::default() };
        let r = run(evs.clone(), &links, &[]);
        let n0: Vec<_> = r.alerts.iter().filter(|a| a.officer == "n0").collect();
        assert!(n0.is_empty(), "file {with_file}: {n0:#?}");
    }
}

#[test]
fn where_the_log_names_no_unit_a_transferred_officer_is_told_by_the_series_they_cite_now() {
    // The same agency in a log without its unit column, cases numbered as units number them
    // (`U/26/3` of U, `W/26/3` of W). t's cases join U's and W's teams into one, so teams
    // cannot tell the units apart; the series t cites now (W's, since day 15) can: from day 16
    // on, U's people are of a series t has not cited for two weeks from day 29. The
    // look-alikes stay quiet, with the case file and without it.
    let number = |case: &str| match case.split_at(case.len().min(1)) {
        ("", _) => String::new(),
        ("C", n) => format!("U/26/{n}"),
        ("D", "T") => "W/26/99".to_string(),
        (_, n) => format!("W/26/{n}"),
    };
    for with_file in [true, false] {
        let (evs, links) = transfer(45);
        let evs: Vec<Event> =
            evs.into_iter().map(|e| Event { unit: String::new(), case: number(&e.case), ..e }).collect();
        let links = if with_file {
            CaseLinks {
                officers: links.officers.iter().map(|(c, o)| (number(c), o.clone())).collect(),
                subjects: links.subjects.iter().map(|(c, s)| (number(c), s.clone())).collect(),
            }
        } else {
            CaseLinks::default()
        };
        let r = run(evs, &links, &[]);
        assert!(foreign(&r, "t"), "file {with_file}: {:#?}", r.officers.iter().take(4).collect::<Vec<_>>());
        for quiet in ["o2", "w5"] {
            assert!(!foreign(&r, quiet), "{quiet}, file {with_file}: {:#?}", r.alerts);
        }
    }
}

#[test]
fn a_units_one_investigator_among_its_desks_is_judged_against_the_agencys_case_workers() {
    // Unit D: six desk officers checking 40 people a day citing no case, and one
    // investigator, i0, at case work under E0 (10 lookups a day of E0's people). U's twelve
    // investigators work their cases. From day 14, i0 also pulls the call records of two
    // numbers a day citing no case. Alone in D's case workers, i0 would set a quarter of their
    // own bar (a group shrunk towards the prior as if it had three more peers); against the
    // agency's case workers, who cite a case for every call record, it is unexplained.
    let (mut evs, mut links) = background(28, 10);
    links.officers.push(("E0".into(), "i0".into()));
    desk_checks(&mut evs, 28, |desk, d, k| format!("9{desk}{d:03}{k:05}"));
    for d in 0..28_i64 {
        let day = T0 + d * DAY;
        for k in 0..10 {
            let s = format!("64{:08}", (d + k) % 20);
            evs.push(ev(day + 9 * 3600 + k * 2700 + 7, "i0", "D", Action::IdentityLookup, &s, "E0"));
        }
        if d >= 14 {
            for k in 0..2 {
                let s = format!("8801{:09}", d * 7 + k * 480_131);
                evs.push(ev(day + 11 * 3600 + k * 3600, "i0", "D", Action::CdrQuery, &s, ""));
            }
        }
    }
    for k in 0..20 {
        links.subjects.push(("E0".into(), format!("64{k:08}")));
    }
    let r = run(evs, &links, &[]);
    assert!(flagged(&r, "i0", "unexplained_access", Severity::High), "{:#?}", r.alerts);
}
