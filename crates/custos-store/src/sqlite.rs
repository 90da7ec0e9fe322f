//! The embedded store: SQLite (bundled) in WAL mode, one writer connection and a small pool of
//! reader connections.

use std::path::Path;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::Mutex;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{
    Approval, BreakGlass, Case, CdrRow, CitizenRow, Credential, Officer, SealedRow, Store, StoreError,
    Warrant,
};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS citizens(id INTEGER PRIMARY KEY, nid_bi TEXT NOT NULL UNIQUE, sealed BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS citizen_msisdn(msisdn_bi TEXT NOT NULL, citizen_id INTEGER NOT NULL, PRIMARY KEY(msisdn_bi, citizen_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS citizen_name(token_bi TEXT NOT NULL, citizen_id INTEGER NOT NULL, PRIMARY KEY(token_bi, citizen_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cdrs(id INTEGER PRIMARY KEY, sealed BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS cdr_party(party_bi TEXT NOT NULL, cdr_id INTEGER NOT NULL, PRIMARY KEY(party_bi, cdr_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS officers(id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS credentials(id TEXT PRIMARY KEY, sha256 TEXT NOT NULL UNIQUE, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cases(id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS warrants(id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS approvals(id TEXT PRIMARY KEY, doc TEXT NOT NULL, used INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS break_glass(id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS quotas(officer TEXT NOT NULL, kind TEXT NOT NULL, day INTEGER NOT NULL, used INTEGER NOT NULL, PRIMARY KEY(officer, kind, day)) WITHOUT ROWID;
";

/// The SQLite store.
pub struct SqliteStore {
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    next_citizen: AtomicI64,
    next_cdr: AtomicI64,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("readers", &self.readers.len()).finish_non_exhaustive()
    }
}

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Db(e.to_string())
}

fn to_doc<T: Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Db(e.to_string()))
}

fn from_doc<T: DeserializeOwned>(what: &str, s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt { what: what.to_string(), reason: e.to_string() })
}

impl SqliteStore {
    /// The approvals a query (`SELECT id, doc, used …`) returns.
    fn approvals_where<P: rusqlite::Params>(
        &self,
        sql: &str,
        params: P,
    ) -> Result<Vec<Approval>, StoreError> {
        let rows: Vec<(String, String, bool)> = self.with_reader(|c| {
            let mut st = c.prepare_cached(sql).map_err(db)?;
            let rows = st
                .query_map(params, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            Ok(rows)
        })?;
        rows.into_iter().map(|(id, d, used)| crate::approval_from(&id, &d, used)).collect()
    }

    /// Open (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let writer = Connection::open(path).map_err(db)?;
        writer
            .execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;")
            .map_err(db)?;
        writer.execute_batch(SCHEMA).map_err(db)?;
        let max = |table: &str| -> Result<i64, StoreError> {
            writer
                .query_row(&format!("SELECT COALESCE(MAX(id), 0) FROM {table}"), [], |r| r.get(0))
                .map_err(db)
        };
        let (nc, nd) = (max("citizens")? + 1, max("cdrs")? + 1);
        let mut readers = Vec::new();
        for _ in 0..4 {
            let r = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(db)?;
            r.execute_batch("PRAGMA busy_timeout=5000;").map_err(db)?;
            readers.push(Mutex::new(r));
        }
        Ok(Self {
            writer: Mutex::new(writer),
            readers,
            next_reader: AtomicUsize::new(0),
            next_citizen: AtomicI64::new(nc),
            next_cdr: AtomicI64::new(nd),
        })
    }

    fn with_writer<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut c = self.writer.lock().map_err(|_| StoreError::Db("writer lock poisoned".into()))?;
        f(&mut c)
    }

    fn with_reader<T>(&self, f: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let n = self.readers.len();
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        for k in 0..n {
            if let Ok(c) = self.readers[(start + k) % n].try_lock() {
                return f(&c);
            }
        }
        let c = self.readers[start % n].lock().map_err(|_| StoreError::Db("reader lock poisoned".into()))?;
        f(&c)
    }

    fn docs<T: DeserializeOwned>(&self, table: &str) -> Result<Vec<T>, StoreError> {
        self.with_reader(|c| {
            let mut st = c.prepare_cached(&format!("SELECT id, doc FROM {table} ORDER BY id")).map_err(db)?;
            let rows = st
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            rows.iter().map(|(id, d)| from_doc(&format!("{table} {id}"), d)).collect()
        })
    }

    fn put_doc(&self, table: &str, id: &str, doc: String) -> Result<(), StoreError> {
        self.with_writer(|c| {
            c.execute(&format!("INSERT INTO {table}(id, doc) VALUES (?1, ?2) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc"), params![id, doc])
                .map_err(db)?;
            Ok(())
        })
    }

    fn sealed_one(&self, sql: &str, key: &str) -> Result<Option<SealedRow>, StoreError> {
        self.with_reader(|c| {
            c.prepare_cached(sql)
                .map_err(db)?
                .query_row([key], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
                .map_err(db)
        })
    }
}

impl Store for SqliteStore {
    fn meta_get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.with_reader(|c| {
            c.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional().map_err(db)
        })
    }

    fn meta_put(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.with_writer(|c| {
            c.execute("INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value", params![key, value])
                .map_err(db)?;
            Ok(())
        })
    }

    fn next_citizen_id(&self) -> Result<i64, StoreError> {
        Ok(self.next_citizen.fetch_add(1, Ordering::SeqCst))
    }

    fn put_citizens(&self, rows: &[CitizenRow]) -> Result<(), StoreError> {
        self.with_writer(|c| {
            let tx = c.transaction().map_err(db)?;
            {
                let mut ins = tx
                    .prepare_cached("INSERT INTO citizens(id, nid_bi, sealed) VALUES (?1, ?2, ?3)")
                    .map_err(db)?;
                let mut m = tx
                    .prepare_cached(
                        "INSERT OR IGNORE INTO citizen_msisdn(msisdn_bi, citizen_id) VALUES (?1, ?2)",
                    )
                    .map_err(db)?;
                let mut n = tx
                    .prepare_cached(
                        "INSERT OR IGNORE INTO citizen_name(token_bi, citizen_id) VALUES (?1, ?2)",
                    )
                    .map_err(db)?;
                for r in rows {
                    ins.execute(params![r.id, r.nid_bi, r.sealed]).map_err(|e| match e {
                        rusqlite::Error::SqliteFailure(f, _)
                            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                        {
                            StoreError::Conflict(format!("a citizen with the same NID (row {})", r.id))
                        }
                        e => db(e),
                    })?;
                    for b in &r.msisdn_bis {
                        m.execute(params![b, r.id]).map_err(db)?;
                    }
                    for b in &r.name_bis {
                        n.execute(params![b, r.id]).map_err(db)?;
                    }
                }
            }
            tx.commit().map_err(db)
        })
    }

    fn citizen_by_nid(&self, nid_bi: &str) -> Result<Option<SealedRow>, StoreError> {
        self.sealed_one("SELECT id, sealed FROM citizens WHERE nid_bi = ?1", nid_bi)
    }

    fn citizen_by_msisdn(&self, msisdn_bi: &str) -> Result<Option<SealedRow>, StoreError> {
        self.sealed_one(
            "SELECT c.id, c.sealed FROM citizen_msisdn m JOIN citizens c ON c.id = m.citizen_id WHERE m.msisdn_bi = ?1 LIMIT 1",
            msisdn_bi,
        )
    }

    fn citizens_by_name(&self, token_bis: &[String], limit: usize) -> Result<Vec<SealedRow>, StoreError> {
        let Some(first) = token_bis.first() else { return Ok(Vec::new()) };
        self.with_reader(|c| {
            let mut st = c
                .prepare_cached("SELECT c.id, c.sealed FROM citizen_name n JOIN citizens c ON c.id = n.citizen_id WHERE n.token_bi = ?1")
                .map_err(db)?;
            let rows: Vec<SealedRow> =
                st.query_map([first], |r| Ok((r.get(0)?, r.get(1)?))).map_err(db)?.collect::<Result<_, _>>().map_err(db)?;
            let mut has = c.prepare_cached("SELECT 1 FROM citizen_name WHERE token_bi = ?1 AND citizen_id = ?2").map_err(db)?;
            let mut out = Vec::new();
            for r in rows {
                let mut all = true;
                for t in &token_bis[1..] {
                    if !has.exists(params![t, r.0]).map_err(db)? {
                        all = false;
                        break;
                    }
                }
                if all {
                    out.push(r);
                    if out.len() >= limit {
                        break;
                    }
                }
            }
            Ok(out)
        })
    }

    fn citizen_count(&self) -> Result<u64, StoreError> {
        self.with_reader(|c| {
            c.query_row("SELECT COUNT(*) FROM citizens", [], |r| r.get::<_, i64>(0)).map_err(db)
        })
        .map(|n| n as u64)
    }

    fn next_cdr_id(&self) -> Result<i64, StoreError> {
        Ok(self.next_cdr.fetch_add(1, Ordering::SeqCst))
    }

    fn put_cdrs(&self, rows: &[CdrRow]) -> Result<(), StoreError> {
        self.with_writer(|c| {
            let tx = c.transaction().map_err(db)?;
            {
                let mut ins =
                    tx.prepare_cached("INSERT INTO cdrs(id, sealed) VALUES (?1, ?2)").map_err(db)?;
                let mut p = tx
                    .prepare_cached("INSERT OR IGNORE INTO cdr_party(party_bi, cdr_id) VALUES (?1, ?2)")
                    .map_err(db)?;
                for r in rows {
                    ins.execute(params![r.id, r.sealed]).map_err(db)?;
                    for b in &r.party_bis {
                        p.execute(params![b, r.id]).map_err(db)?;
                    }
                }
            }
            tx.commit().map_err(db)
        })
    }

    fn cdrs_by_party(&self, party_bi: &str) -> Result<Vec<SealedRow>, StoreError> {
        self.with_reader(|c| {
            let mut st = c
                .prepare_cached("SELECT d.id, d.sealed FROM cdr_party p JOIN cdrs d ON d.id = p.cdr_id WHERE p.party_bi = ?1 ORDER BY d.id")
                .map_err(db)?;
            let rows = st.query_map([party_bi], |r| Ok((r.get(0)?, r.get(1)?))).map_err(db)?.collect::<Result<_, _>>().map_err(db)?;
            Ok(rows)
        })
    }

    fn put_officer(&self, o: &Officer) -> Result<(), StoreError> {
        self.put_doc("officers", &o.id, to_doc(o)?)
    }

    fn officers(&self) -> Result<Vec<Officer>, StoreError> {
        self.docs("officers")
    }

    fn put_credential(&self, cr: &Credential) -> Result<(), StoreError> {
        let doc = to_doc(cr)?;
        self.with_writer(|c| {
            c.execute(
                "INSERT INTO credentials(id, sha256, doc) VALUES (?1, ?2, ?3) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc",
                params![cr.id, cr.sha256, doc],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    fn credentials(&self) -> Result<Vec<Credential>, StoreError> {
        self.docs("credentials")
    }

    fn revoke_credential(&self, id: &str) -> Result<(), StoreError> {
        // Read and rewritten on the one writer connection: no other write comes between.
        self.with_writer(|c| {
            let doc: String = c
                .query_row("SELECT doc FROM credentials WHERE id = ?1", [id], |r| r.get(0))
                .optional()
                .map_err(db)?
                .ok_or_else(|| StoreError::NotFound(format!("credential `{id}`")))?;
            let mut cred: Credential = from_doc(&format!("credential {id}"), &doc)?;
            cred.revoked = true;
            c.execute("UPDATE credentials SET doc = ?2 WHERE id = ?1", params![id, to_doc(&cred)?])
                .map_err(db)?;
            Ok(())
        })
    }

    fn put_case(&self, c: &Case) -> Result<(), StoreError> {
        self.put_doc("cases", &c.id, to_doc(c)?)
    }

    fn cases(&self) -> Result<Vec<Case>, StoreError> {
        self.docs("cases")
    }

    fn put_warrant(&self, w: &Warrant) -> Result<(), StoreError> {
        self.put_doc("warrants", &w.id, to_doc(w)?)
    }

    fn warrants(&self) -> Result<Vec<Warrant>, StoreError> {
        self.docs("warrants")
    }

    fn put_approval(&self, a: &Approval) -> Result<(), StoreError> {
        let doc = to_doc(a)?;
        self.with_writer(|c| {
            c.execute(
                "INSERT INTO approvals(id, doc, used) VALUES (?1, ?2, ?3) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc",
                params![a.id, doc, a.used],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    fn approval(&self, id: &str) -> Result<Option<Approval>, StoreError> {
        let row: Option<(String, bool)> = self.with_reader(|c| {
            c.query_row("SELECT doc, used FROM approvals WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
                .map_err(db)
        })?;
        row.map(|(d, used)| crate::approval_from(id, &d, used)).transpose()
    }

    fn use_approval(&self, id: &str) -> Result<bool, StoreError> {
        // Atomic: only one request can flip `used` from 0 to 1.
        self.with_writer(|c| {
            let n =
                c.execute("UPDATE approvals SET used = 1 WHERE id = ?1 AND used = 0", [id]).map_err(db)?;
            Ok(n == 1)
        })
    }

    fn put_break_glass(&self, b: &BreakGlass) -> Result<(), StoreError> {
        self.put_doc("break_glass", &b.id, to_doc(b)?)
    }

    fn break_glasses(&self) -> Result<Vec<BreakGlass>, StoreError> {
        self.docs("break_glass")
    }

    fn open_approvals(&self, now: i64) -> Result<Vec<Approval>, StoreError> {
        self.approvals_where(
            "SELECT id, doc, used FROM approvals WHERE used = 0 \
             AND CAST(json_extract(doc, '$.expires') AS INTEGER) > ?1 ORDER BY id",
            [now],
        )
    }

    fn approvals(&self) -> Result<Vec<Approval>, StoreError> {
        self.approvals_where("SELECT id, doc, used FROM approvals ORDER BY id", [])
    }

    fn meta_keys(&self) -> Result<Vec<String>, StoreError> {
        self.with_reader(|c| {
            let mut st = c.prepare_cached("SELECT key FROM meta ORDER BY key").map_err(db)?;
            let rows =
                st.query_map([], |r| r.get(0)).map_err(db)?.collect::<Result<Vec<_>, _>>().map_err(db)?;
            Ok(rows)
        })
    }

    fn citizen_rows(&self, after: i64, limit: usize) -> Result<Vec<CitizenRow>, StoreError> {
        self.with_reader(|c| {
            let mut st = c
                .prepare_cached("SELECT id, nid_bi, sealed FROM citizens WHERE id > ?1 ORDER BY id LIMIT ?2")
                .map_err(db)?;
            let base: Vec<(i64, String, Vec<u8>)> = st
                .query_map(params![after, limit as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .map_err(db)?
                .collect::<Result<_, _>>()
                .map_err(db)?;
            let mut m =
                c.prepare_cached("SELECT msisdn_bi FROM citizen_msisdn WHERE citizen_id = ?1").map_err(db)?;
            let mut n =
                c.prepare_cached("SELECT token_bi FROM citizen_name WHERE citizen_id = ?1").map_err(db)?;
            base.into_iter()
                .map(|(id, nid_bi, sealed)| {
                    let msisdn_bis = m
                        .query_map([id], |r| r.get(0))
                        .map_err(db)?
                        .collect::<Result<Vec<String>, _>>()
                        .map_err(db)?;
                    let name_bis = n
                        .query_map([id], |r| r.get(0))
                        .map_err(db)?
                        .collect::<Result<Vec<String>, _>>()
                        .map_err(db)?;
                    Ok(CitizenRow { id, nid_bi, sealed, msisdn_bis, name_bis })
                })
                .collect()
        })
    }

    fn cdr_rows(&self, after: i64, limit: usize) -> Result<Vec<CdrRow>, StoreError> {
        self.with_reader(|c| {
            let mut st = c
                .prepare_cached("SELECT id, sealed FROM cdrs WHERE id > ?1 ORDER BY id LIMIT ?2")
                .map_err(db)?;
            let base: Vec<(i64, Vec<u8>)> = st
                .query_map(params![after, limit as i64], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(db)?
                .collect::<Result<_, _>>()
                .map_err(db)?;
            let mut p = c.prepare_cached("SELECT party_bi FROM cdr_party WHERE cdr_id = ?1").map_err(db)?;
            base.into_iter()
                .map(|(id, sealed)| {
                    let party_bis = p
                        .query_map([id], |r| r.get(0))
                        .map_err(db)?
                        .collect::<Result<Vec<String>, _>>()
                        .map_err(db)?;
                    Ok(CdrRow { id, party_bis, sealed })
                })
                .collect()
        })
    }

    fn cdr_count(&self) -> Result<u64, StoreError> {
        self.with_reader(|c| c.query_row("SELECT COUNT(*) FROM cdrs", [], |r| r.get::<_, i64>(0)).map_err(db))
            .map(|n| n as u64)
    }

    fn quota_used(&self, officer: &str, kind: &str, day: i64) -> Result<i64, StoreError> {
        self.with_reader(|c| {
            c.query_row(
                "SELECT used FROM quotas WHERE officer = ?1 AND kind = ?2 AND day = ?3",
                params![officer, kind, day],
                |r| r.get(0),
            )
            .optional()
            .map_err(db)
            .map(|v| v.unwrap_or(0))
        })
    }

    fn quota_take(&self, officer: &str, kind: &str, day: i64, limit: i64) -> Result<bool, StoreError> {
        self.with_writer(|c| {
            let taken: Option<i64> = c
                .query_row(
                    "INSERT INTO quotas(officer, kind, day, used) VALUES (?1, ?2, ?3, 1)
                     ON CONFLICT(officer, kind, day) DO UPDATE SET used = used + 1 WHERE used < ?4
                     RETURNING used",
                    params![officer, kind, day, limit],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db)?;
            Ok(taken.is_some_and(|u| u <= limit))
        })
    }
}
