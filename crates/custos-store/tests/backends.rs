//! The store's contract, run against every backend: SQLite (always) and PostgreSQL (when one
//! is reachable at `CUSTOS_TEST_POSTGRES`, default `host=127.0.0.1 port=5432 user=postgres
//! dbname=test`). Without PostgreSQL its half is skipped with a notice, unless
//! `CUSTOS_REQUIRE_POSTGRES=1`, which CI sets. Each PostgreSQL test runs in a schema of its own,
//! dropped afterwards, so runs never collide.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code")]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use custos_store::pg::PgStore;
use custos_store::sqlite::SqliteStore;
use custos_store::{
    Approval, BreakGlass, Case, Cdr, Citizen, Credential, LocalKek, Officer, Registry, Store, StoreError,
    Warrant,
};

fn pg_url() -> String {
    std::env::var("CUSTOS_TEST_POSTGRES")
        .unwrap_or_else(|_| "host=127.0.0.1 port=5432 user=postgres dbname=test".into())
}

/// A place to open stores, and to open them again (restart) or a second time (a replica).
enum Backend {
    Sqlite(tempfile::TempDir),
    Pg(String),
}

impl Backend {
    fn open(&self) -> Box<dyn Store> {
        match self {
            Backend::Sqlite(d) => Box::new(SqliteStore::open(&d.path().join("custos.db")).unwrap()),
            Backend::Pg(schema) => Box::new(PgStore::open(&pg_url(), Some(schema)).unwrap()),
        }
    }
    fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite(_) => "sqlite",
            Backend::Pg(_) => "postgres",
        }
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Backend::Pg(schema) = self {
            if let Ok(mut c) = postgres::Client::connect(&pg_url(), postgres::NoTls) {
                let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"));
            }
        }
    }
}

fn pg_available() -> bool {
    static CHECKED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *CHECKED.get_or_init(|| match postgres::Client::connect(&pg_url(), postgres::NoTls) {
        Ok(_) => true,
        Err(e) => {
            assert!(
                std::env::var("CUSTOS_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "CUSTOS_REQUIRE_POSTGRES=1 but PostgreSQL is unreachable at `{}`: {e}",
                pg_url()
            );
            eprintln!(
                "notice: PostgreSQL unreachable at `{}` ({e}); its half of the store tests is skipped",
                pg_url()
            );
            false
        }
    })
}

/// Every backend available, fresh.
fn backends() -> Vec<Backend> {
    static N: AtomicU32 = AtomicU32::new(0);
    let mut v = vec![Backend::Sqlite(tempfile::tempdir().unwrap())];
    if pg_available() {
        let nonce: u32 = rand_u32();
        v.push(Backend::Pg(format!(
            "custos_t_{}_{}_{nonce:08x}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        )));
    }
    v
}

fn rand_u32() -> u32 {
    let mut b = [0u8; 4];
    getrandom::getrandom(&mut b).unwrap();
    u32::from_le_bytes(b)
}

fn citizen(nid: &str, en: &str, msisdns: &[&str]) -> Citizen {
    Citizen {
        nid: nid.into(),
        name_en: en.into(),
        name_bn: "করিম রহমান".into(),
        dob: "1980-02-03".into(),
        msisdns: msisdns.iter().map(|m| m.to_string()).collect(),
        ..Citizen::default()
    }
}

const KEK: [u8; 32] = [5; 32];

#[test]
fn the_key_encryption_key_rotates_and_an_interrupted_rotation_completes() {
    let (a, b, c) =
        (LocalKek::from_bytes([1; 32]), LocalKek::from_bytes([2; 32]), LocalKek::from_bytes([3; 32]));
    for be in backends() {
        let reg = Registry::init(be.open(), &a).unwrap();
        reg.add_citizens(&[citizen("1234567890", "Karim Rahman", &["8801711111111"])]).unwrap();
        let name = |r: &Registry| r.citizen_by_nid("1234567890").unwrap().unwrap().1.name_en;
        // Staged under b: a still opens the store (the switch has not happened)...
        reg.stage_rewrap(&b).unwrap();
        assert_eq!(name(&Registry::open(be.open(), &a).unwrap()), "Karim Rahman", "{}", be.name());
        // ...and so does b, which completes the switch (a rotation interrupted after the new
        // key took over): from then on a no longer opens it.
        assert_eq!(name(&Registry::open(be.open(), &b).unwrap()), "Karim Rahman");
        assert!(Registry::open(be.open(), &a).is_err());
        // A full rotation b -> c; committing under a key that was not staged is refused.
        let reg = Registry::open(be.open(), &b).unwrap();
        reg.stage_rewrap(&c).unwrap();
        assert!(reg.commit_rewrap(&a).is_err());
        reg.commit_rewrap(&c).unwrap();
        assert!(reg.commit_rewrap(&c).is_err(), "nothing staged any more");
        assert!(Registry::open(be.open(), &b).is_err());
        let reg = Registry::open(be.open(), &c).unwrap();
        assert_eq!(name(&reg), "Karim Rahman");
        // The blind indexes did not change: the data keys are the same.
        assert!(reg.store().citizen_by_nid(&reg.vault().blind("nid", "1234567890")).unwrap().is_some());
    }
}

#[test]
fn citizens_are_sealed_indexed_and_found() {
    for b in backends() {
        let reg = Registry::init(b.open(), &LocalKek::from_bytes(KEK)).unwrap();
        let ids = reg
            .add_citizens(&[
                citizen("1234567890", "Karim Rahman", &["8801711111111", "8801911111111"]),
                citizen("2345678901", "Karim Uddin", &["8801822222222"]),
                citizen("19871234567890123", "Salma Begum", &["8801533333333"]),
            ])
            .unwrap();
        assert_eq!(ids.len(), 3, "{}", b.name());
        assert_eq!(reg.store().citizen_count().unwrap(), 3);
        let (id, c) = reg.citizen_by_nid("1234567890").unwrap().unwrap();
        assert_eq!((id, c.name_en.as_str()), (ids[0], "Karim Rahman"), "{}", b.name());
        assert_eq!(reg.citizen_by_msisdn("8801911111111").unwrap().unwrap().0, ids[0], "{}", b.name());
        assert!(reg.citizen_by_nid("9999999999").unwrap().is_none());
        // Name search: every word must match; the limit holds; order is stable (by ID).
        let karims: Vec<i64> = reg.search_name("karim", 10).unwrap().into_iter().map(|r| r.0).collect();
        assert_eq!(karims, vec![ids[0], ids[1]], "{}", b.name());
        let one: Vec<i64> = reg.search_name("Karim Uddin", 10).unwrap().into_iter().map(|r| r.0).collect();
        assert_eq!(one, vec![ids[1]], "{}", b.name());
        assert_eq!(reg.search_name("karim", 1).unwrap().len(), 1);
        assert!(reg.search_name("nobody", 10).unwrap().is_empty());
        // A duplicate NID is a conflict, and nothing of the failed batch lands.
        let dup =
            reg.add_citizens(&[citizen("5555555555", "New Person", &[]), citizen("1234567890", "Dup", &[])]);
        assert!(matches!(dup, Err(StoreError::Conflict(_))), "{}: {dup:?}", b.name());
        assert!(reg.citizen_by_nid("5555555555").unwrap().is_none(), "{}", b.name());
        // Nothing in the database is plaintext.
        let rows = reg.store().citizen_by_nid(&reg.vault().blind("nid", "1234567890")).unwrap().unwrap();
        assert!(!String::from_utf8_lossy(&rows.1).contains("Karim"));
    }
}

#[test]
fn call_records_by_party_and_period() {
    for b in backends() {
        let reg = Registry::init(b.open(), &LocalKek::from_bytes(KEK)).unwrap();
        let cdr = |a: &str, z: &str, t: i64| Cdr {
            caller: a.into(),
            callee: z.into(),
            start: t,
            duration: 30,
            kind: "voice".into(),
            cell_id: "470-01-1".into(),
            imei: "35".into(),
        };
        reg.add_cdrs(&[
            cdr("8801711111111", "8801822222222", 1_000),
            cdr("8801822222222", "8801711111111", 2_000),
            cdr("8801933333333", "8801822222222", 3_000),
        ])
        .unwrap();
        let of = |m: &str, from: i64, to: i64| reg.cdrs_of(m, from, to).unwrap().len();
        assert_eq!(of("8801711111111", 0, 10_000), 2, "{}", b.name());
        assert_eq!(of("8801822222222", 0, 10_000), 3, "{}", b.name());
        assert_eq!(of("8801822222222", 1_500, 2_500), 1, "{}", b.name());
        assert_eq!(of("8801544444444", 0, 10_000), 0);
    }
}

#[test]
fn officers_credentials_cases_warrants_grants_round_trip() {
    for b in backends() {
        let st = b.open();
        let o = Officer {
            id: "OFF-2".into(),
            name: "A".into(),
            unit: "ATU".into(),
            rank: "SI".into(),
            roles: vec!["investigator".into()],
            status: "active".into(),
        };
        st.put_officer(&o).unwrap();
        st.put_officer(&Officer { id: "OFF-10".into(), ..o.clone() }).unwrap();
        st.put_officer(&Officer { status: "suspended".into(), ..o.clone() }).unwrap();
        let all = st.officers().unwrap();
        // Byte order of IDs, whatever the backend's collation.
        assert_eq!(
            all.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(),
            vec!["OFF-10", "OFF-2"],
            "{}",
            b.name()
        );
        assert_eq!(all[1].status, "suspended");
        let cred = Credential {
            id: "c1".into(),
            sha256: "ab".repeat(32),
            subject: "OFF-2".into(),
            admin: false,
            expires: Some(99),
            revoked: false,
            created: 1,
        };
        st.put_credential(&cred).unwrap();
        st.revoke_credential("c1").unwrap();
        assert!(st.credentials().unwrap()[0].revoked, "{}", b.name());
        assert!(matches!(st.revoke_credential("nope"), Err(StoreError::NotFound(_))));
        let case = Case {
            id: "C1".into(),
            unit: "ATU".into(),
            officers: vec!["OFF-2".into()],
            subjects: vec!["bi1".into()],
            open: true,
            covert: true,
        };
        st.put_case(&case).unwrap();
        st.put_case(&Case { open: false, ..case.clone() }).unwrap();
        assert_eq!(st.cases().unwrap(), vec![Case { open: false, ..case }], "{}", b.name());
        let w = Warrant {
            id: "W1".into(),
            case: "C1".into(),
            issuer: "REV".into(),
            subjects: vec!["bi1".into()],
            categories: vec!["cdr".into()],
            data_from: 1,
            data_to: 2,
            valid_from: 3,
            valid_to: 4,
            status: "active".into(),
        };
        st.put_warrant(&w).unwrap();
        assert_eq!(st.warrants().unwrap(), vec![w]);
        let g = BreakGlass {
            id: "bg1".into(),
            officer: "OFF-2".into(),
            case: "C1".into(),
            justification: "urgent".into(),
            created: 1,
            expires: 2,
            review: "open".into(),
            review_note: None,
        };
        st.put_break_glass(&g).unwrap();
        assert_eq!(st.break_glasses().unwrap(), vec![g]);
        st.meta_put("k", b"v1").unwrap();
        st.meta_put("k", b"v2").unwrap();
        assert_eq!(st.meta_get("k").unwrap().as_deref(), Some(&b"v2"[..]));
        assert_eq!(st.meta_get("missing").unwrap(), None);
    }
}

#[test]
fn an_approval_is_spent_once_even_by_racing_replicas() {
    for b in backends() {
        let stores: Vec<Arc<dyn Store>> = (0..2).map(|_| Arc::from(b.open())).collect();
        let a = Approval {
            id: "ap1".into(),
            requester: "OFF-2".into(),
            request_hash: "h".into(),
            summary: "s".into(),
            approver: Some("SUP".into()),
            created: 1,
            expires: 2,
            used: false,
            sealed_request: Some("c2VhbGVk".into()),
        };
        stores[0].put_approval(&a).unwrap();
        assert_eq!(stores[1].approval("ap1").unwrap(), Some(a.clone()));
        let wins: usize = std::thread::scope(|s| {
            let hs: Vec<_> = (0..8)
                .map(|i| {
                    let st = stores[i % 2].clone();
                    s.spawn(move || st.use_approval("ap1").unwrap())
                })
                .collect();
            hs.into_iter().map(|h| usize::from(h.join().unwrap())).sum()
        });
        assert_eq!(wins, 1, "{}", b.name());
        assert!(stores[1].approval("ap1").unwrap().unwrap().used);
        // Re-putting the approval (e.g. recording the approver) does not un-spend it.
        stores[0].put_approval(&a).unwrap();
        assert!(stores[0].approval("ap1").unwrap().unwrap().used, "{}", b.name());
    }
}

#[test]
fn open_approvals_are_those_neither_used_nor_expired() {
    for b in backends() {
        let st = b.open();
        let ap = |id: &str, expires: i64| Approval {
            id: id.into(),
            requester: "OFF-2".into(),
            request_hash: "h".into(),
            summary: "name_search requested by OFF-2".into(),
            approver: None,
            created: 1,
            expires,
            used: false,
            sealed_request: None,
        };
        for a in [ap("ap-open", 100), ap("ap-expired", 10), ap("ap-used", 100), ap("ap-later", 1_000)] {
            st.put_approval(&a).unwrap();
        }
        assert!(st.use_approval("ap-used").unwrap());
        let ids = |now| st.open_approvals(now).unwrap().into_iter().map(|a| a.id).collect::<Vec<_>>();
        assert_eq!(ids(50), ["ap-later", "ap-open"], "{}", b.name());
        assert_eq!(ids(100), ["ap-later"], "{}: expiring at `now` is expired", b.name());
        assert!(ids(1_000).is_empty(), "{}", b.name());
    }
}

#[test]
fn data_survive_a_restart_and_ids_never_collide() {
    for b in backends() {
        {
            let reg = Registry::init(b.open(), &LocalKek::from_bytes(KEK)).unwrap();
            reg.add_citizens(&[citizen("1111111111", "Before Restart", &[])]).unwrap();
        }
        // Restart: the keys and the records are still there; new IDs follow.
        let reg = Registry::open(b.open(), &LocalKek::from_bytes(KEK)).unwrap();
        assert_eq!(reg.citizen_by_nid("1111111111").unwrap().unwrap().1.name_en, "Before Restart");
        // A wrong key-encryption key is refused.
        assert!(Registry::open(b.open(), &LocalKek::from_bytes([6; 32])).is_err(), "{}", b.name());
        let mut ids = reg.add_citizens(&[citizen("2222222222", "After Restart", &[])]).unwrap();
        let first = reg.citizen_by_nid("1111111111").unwrap().unwrap().0;
        assert_ne!(ids[0], first, "{}", b.name());
        if let Backend::Pg(_) = b {
            // A second replica on the same database allocates its own IDs.
            let other = Registry::open(b.open(), &LocalKek::from_bytes(KEK)).unwrap();
            ids.extend(other.add_citizens(&[citizen("3333333333", "Replica", &[])]).unwrap());
            ids.extend(reg.add_citizens(&[citizen("4444444444", "Again", &[])]).unwrap());
            let mut sorted = ids.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), ids.len(), "{ids:?}");
            assert_eq!(other.citizen_by_nid("4444444444").unwrap().unwrap().1.name_en, "Again");
        }
    }
}

#[test]
fn postgres_schema_is_versioned_and_migrates_once() {
    if !pg_available() {
        return;
    }
    let b = backends().pop().unwrap();
    let Backend::Pg(schema) = &b else { panic!("no postgres backend") };
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let s = schema.clone();
            std::thread::spawn(move || PgStore::open(&pg_url(), Some(&s)).unwrap().schema_version().unwrap())
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), custos_store::pg::MIGRATIONS.len() as i32);
    }
    let mut c = postgres::Client::connect(&pg_url(), postgres::NoTls).unwrap();
    let n: i64 =
        c.query_one(&format!("SELECT COUNT(*) FROM \"{schema}\".custos_migrations"), &[]).unwrap().get(0);
    assert_eq!(n, custos_store::pg::MIGRATIONS.len() as i64);
    assert!(PgStore::open(&pg_url(), Some("Bad Schema")).is_err());
}

#[test]
fn daily_quotas_hold_across_processes() {
    for b in backends() {
        let stores: Vec<Arc<dyn Store>> = (0..2).map(|_| Arc::from(b.open())).collect();
        let taken: usize = std::thread::scope(|s| {
            let hs: Vec<_> = (0..6)
                .map(|i| {
                    let st = stores[i % 2].clone();
                    s.spawn(move || {
                        (0..5)
                            .filter(|_| st.quota_take("OFF-1", "routine_check", 20_000, 12).unwrap())
                            .count()
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).sum()
        });
        // Two handles on one database (two processes, in effect): the limit holds across both.
        assert_eq!(taken, 12, "{}", b.name());
        assert_eq!(stores[1].quota_used("OFF-1", "routine_check", 20_000).unwrap(), 12);
        assert_eq!(stores[0].quota_used("OFF-1", "routine_check", 20_001).unwrap(), 0);
        assert!(stores[0].quota_take("OFF-1", "cdr_query", 20_000, 1).unwrap());
        assert!(!stores[1].quota_take("OFF-1", "cdr_query", 20_000, 1).unwrap());
        assert_eq!(b.open().shared(), matches!(b, Backend::Pg(_)));
    }
}

/// Every integrated entry of a store's shared log, checked to be contiguous from index 0.
fn shared_entries(st: &dyn Store) -> Vec<custos_store::pglog::LogRow> {
    let mut all = Vec::new();
    loop {
        let part = st.log_entries(all.len() as u64, 1000).unwrap();
        if part.is_empty() {
            break;
        }
        all.extend(part);
    }
    for (i, (idx, ..)) in all.iter().enumerate() {
        assert_eq!(*idx, i as u64, "indices are contiguous");
    }
    all
}

#[test]
fn an_embedded_store_keeps_no_shared_log() {
    let st = SqliteStore::open(&tempfile::tempdir().unwrap().path().join("c.db")).unwrap();
    assert_eq!(st.log_submit(b"x", 0).unwrap(), None);
    assert!(st.log_sequencer("a").unwrap().is_none());
}

#[test]
fn racing_sequencers_integrate_each_entry_once_and_a_deposed_one_is_fenced() {
    if !pg_available() {
        return;
    }
    let b = backends().pop().unwrap();
    let Backend::Pg(schema) = &b else { panic!("no postgres backend") };
    let st: Arc<PgStore> = Arc::new(PgStore::open(&pg_url(), Some(schema)).unwrap());
    let mut a = st.sequencer("a").unwrap();
    let mut bb = st.sequencer("b").unwrap();
    assert!(a.try_lead().unwrap());
    assert!(!bb.try_lead().unwrap(), "the lock is held: one leader");
    // Four replicas submit while the two sequencers race; halfway, b takes over.
    let submitters: Vec<_> = (0..4)
        .map(|r| {
            let st = st.clone();
            std::thread::spawn(move || {
                (0..100)
                    .map(|i| st.log_submit(format!("r{r}-{i}").as_bytes(), i).unwrap().unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let race = |mut s: custos_store::pglog::PgSequencer, stop: Arc<std::sync::atomic::AtomicBool>| {
        std::thread::spawn(move || {
            let (mut integrated, mut fenced) = (0, false);
            while !stop.load(Ordering::SeqCst) {
                match s.sequence(7) {
                    Ok(n) => integrated += n,
                    Err(StoreError::Conflict(_)) => {
                        fenced = true;
                        assert_eq!(s.epoch(), None);
                    }
                    Err(e) => panic!("{e}"),
                }
            }
            (s, integrated, fenced)
        })
    };
    let ha = race(a, stop.clone());
    std::thread::sleep(std::time::Duration::from_millis(100));
    let epoch_b = bb.take_over().unwrap();
    let hb = race(bb, stop.clone());
    let mut submitted: Vec<i64> = submitters.into_iter().flat_map(|h| h.join().unwrap()).collect();
    // Wait until everything submitted is integrated.
    for _ in 0..500 {
        if st.log_state().unwrap().0 == 400 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    stop.store(true, Ordering::SeqCst);
    let (a, na, fenced_a) = ha.join().unwrap();
    let (_bb, nb, fenced_b) = hb.join().unwrap();
    assert!(fenced_a && a.epoch().is_none(), "the deposed sequencer was fenced");
    assert!(!fenced_b);
    assert_eq!(na + nb, 400);
    let rows = shared_entries(st.as_ref());
    assert_eq!(rows.len(), 400);
    let mut got: Vec<i64> = rows.iter().map(|r| r.1).collect();
    got.sort_unstable();
    submitted.sort_unstable();
    assert_eq!(got, submitted, "every submitted entry exactly once");
    // After the takeover nothing was written in the old epoch.
    let mut c = postgres::Client::connect(&pg_url(), postgres::NoTls).unwrap();
    let q = format!("SELECT MIN(idx) FROM \"{schema}\".log_entries WHERE epoch = $1");
    let first_b: Option<i64> = c.query_one(&q, &[&epoch_b]).unwrap().get(0);
    let q = format!("SELECT MAX(idx) FROM \"{schema}\".log_entries WHERE epoch < $1");
    let last_a: Option<i64> = c.query_one(&q, &[&epoch_b]).unwrap().get(0);
    if let (Some(f), Some(l)) = (first_b, last_a) {
        assert!(l < f, "old epoch entries ({l}) all precede the new epoch's ({f})");
    }
    let (size, epoch, leader) = st.log_state().unwrap();
    assert_eq!((size, epoch, leader.as_str()), (400, epoch_b, "b"));
}

#[test]
fn when_the_leader_dies_another_takes_over_and_nothing_is_lost() {
    if !pg_available() {
        return;
    }
    let b = backends().pop().unwrap();
    let Backend::Pg(schema) = &b else { panic!("no postgres backend") };
    let st = PgStore::open(&pg_url(), Some(schema)).unwrap();
    let mut a = st.sequencer("a").unwrap();
    let mut bb = st.sequencer("b").unwrap();
    assert!(a.try_lead().unwrap());
    for i in 0..10 {
        st.log_submit(format!("e{i}").as_bytes(), i).unwrap();
    }
    assert_eq!(a.sequence(100).unwrap(), 10);
    for i in 10..25 {
        st.log_submit(format!("e{i}").as_bytes(), i).unwrap();
    }
    assert!(!bb.try_lead().unwrap());
    // The leader's process dies: its connection closes and the server releases the lock.
    drop(a);
    let mut led = false;
    for _ in 0..200 {
        if bb.try_lead().unwrap() {
            led = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(led, "the survivor becomes the leader");
    // A group of entries submitted in one commit keeps its order.
    let mut sub = st.log_submitter().unwrap().unwrap();
    let group: Vec<Vec<u8>> = (25..30).map(|i| format!("e{i}").into_bytes()).collect();
    let ids = sub.submit(&group, &[0; 5]).unwrap();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(bb.sequence(100).unwrap(), 20);
    let rows = shared_entries(&st);
    let leaves: Vec<String> = rows.iter().map(|r| String::from_utf8(r.2.clone()).unwrap()).collect();
    assert_eq!(leaves, (0..30).map(|i| format!("e{i}")).collect::<Vec<_>>());
    assert_eq!(rows[25..].iter().map(|r| r.1).collect::<Vec<_>>(), ids);
    // Adopting an existing log only works on an empty one.
    assert!(!st.log_adopt(vec![b"x".to_vec()]).unwrap());
    let b2 = backends().pop().unwrap();
    let Backend::Pg(s2) = &b2 else { panic!("no postgres backend") };
    let st2 = PgStore::open(&pg_url(), Some(s2)).unwrap();
    assert!(st2.log_adopt(vec![b"old0".to_vec(), b"old1".to_vec()]).unwrap());
    st2.log_submit(b"new", 0).unwrap();
    let mut s = st2.sequencer("c").unwrap();
    assert!(s.try_lead().unwrap());
    assert_eq!(s.sequence(10).unwrap(), 1);
    let leaves: Vec<Vec<u8>> = shared_entries(&st2).into_iter().map(|r| r.2).collect();
    assert_eq!(leaves, vec![b"old0".to_vec(), b"old1".to_vec(), b"new".to_vec()]);
}
