//! The PostgreSQL store: the same [`Store`] contract as SQLite, for several gateway replicas
//! over one database.
//!
//! Connections live on a small pool of dedicated threads (the synchronous `postgres` client runs
//! its own event loop, which must not run inside the caller's async runtime); a call hands a job
//! to the pool and waits for its answer, as a SQLite call waits for its file.
//!
//! SQL relied on (no extension; PostgreSQL 12+, and the PostgreSQL-compatible distributed
//! engines): `CREATE TABLE/SEQUENCE IF NOT EXISTS`, `INSERT … ON CONFLICT … DO UPDATE/NOTHING`,
//! `UNNEST` of parallel arrays for bulk inserts, `= ANY($1)` with `GROUP BY … HAVING`,
//! sequences with `nextval` (IDs handed out in blocks, so replicas never collide), `SELECT … FOR
//! UPDATE`, `COLLATE "C"` for byte order, and `pg_advisory_xact_lock` to serialise migrations.
//! Schema changes are versioned in `custos_migrations`.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

use postgres::error::SqlState;
use postgres::{Client, NoTls};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{
    Approval, BreakGlass, Case, CdrRow, CitizenRow, Credential, Officer, SealedRow, Store, StoreError,
    Warrant,
};

/// Versioned migrations: (version, SQL). Never edit one that shipped; add the next.
pub const MIGRATIONS: [(i32, &str); 3] = [
    (
    1,
    "
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value BYTEA NOT NULL);
CREATE SEQUENCE IF NOT EXISTS citizen_ids INCREMENT BY 1000 START WITH 1;
CREATE SEQUENCE IF NOT EXISTS cdr_ids INCREMENT BY 1000 START WITH 1;
CREATE TABLE IF NOT EXISTS citizens(id BIGINT PRIMARY KEY, nid_bi TEXT NOT NULL UNIQUE, sealed BYTEA NOT NULL);
CREATE TABLE IF NOT EXISTS citizen_msisdn(msisdn_bi TEXT NOT NULL, citizen_id BIGINT NOT NULL, PRIMARY KEY(msisdn_bi, citizen_id));
CREATE TABLE IF NOT EXISTS citizen_name(token_bi TEXT NOT NULL, citizen_id BIGINT NOT NULL, PRIMARY KEY(token_bi, citizen_id));
CREATE TABLE IF NOT EXISTS cdrs(id BIGINT PRIMARY KEY, sealed BYTEA NOT NULL);
CREATE TABLE IF NOT EXISTS cdr_party(party_bi TEXT NOT NULL, cdr_id BIGINT NOT NULL, PRIMARY KEY(party_bi, cdr_id));
CREATE TABLE IF NOT EXISTS officers(id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS credentials(id TEXT PRIMARY KEY, sha256 TEXT NOT NULL UNIQUE, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cases(id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS warrants(id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS approvals(id TEXT PRIMARY KEY, doc TEXT NOT NULL, used BOOLEAN NOT NULL DEFAULT FALSE);
CREATE TABLE IF NOT EXISTS break_glass(id TEXT PRIMARY KEY, doc TEXT NOT NULL);
",
    ),
    (
        2,
        "CREATE TABLE IF NOT EXISTS quotas(officer TEXT NOT NULL, kind TEXT NOT NULL, day BIGINT NOT NULL, used BIGINT NOT NULL, PRIMARY KEY(officer, kind, day));",
    ),
    (3, crate::pglog::MIGRATION),
];

/// IDs a sequence step hands out (the `INCREMENT BY` above).
const ID_BLOCK: i64 = 1000;
/// Connections in the pool (one per request waiting on the database, up to this many).
const POOL: usize = 16;

type Job = Box<dyn FnOnce(&mut Client) + Send>;

/// The PostgreSQL store.
pub struct PgStore {
    jobs: SyncSender<Job>,
    url: String,
    schema: Option<String>,
    citizen_ids: Mutex<(i64, i64)>,
    cdr_ids: Mutex<(i64, i64)>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

/// An error with its causes (a TLS failure sits beneath "error performing TLS handshake").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}

pub(crate) fn db(e: postgres::Error) -> StoreError {
    StoreError::Db(e.to_string())
}

fn to_doc<T: Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Db(e.to_string()))
}

fn from_doc<T: DeserializeOwned>(what: &str, s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt { what: what.to_string(), reason: e.to_string() })
}

fn quote_ident(s: &str) -> Result<String, StoreError> {
    if s.is_empty()
        || s.len() > 63
        || !s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(StoreError::Db(format!("invalid schema name `{s}` (lowercase letters, digits, _)")));
    }
    Ok(format!("\"{s}\""))
}

/// Connect, over TLS when the connection string asks for it (see [`crate::pgtls`]: libpq's
/// `sslmode`, `sslrootcert`, `sslcert`, `sslkey`).
pub(crate) fn connect(url: &str, schema: Option<&str>) -> Result<Client, StoreError> {
    let t = crate::pgtls::target(url)?;
    let c = match t.tls {
        Some(tls) => t.config.connect(tls),
        None => t.config.connect(NoTls),
    };
    let mut c =
        c.map_err(|e| StoreError::Db(format!("cannot connect to PostgreSQL: {}", error_chain(&e))))?;
    if let Some(s) = schema {
        let q = quote_ident(s)?;
        // Serialised like migrations: concurrent `CREATE SCHEMA IF NOT EXISTS` can collide.
        c.batch_execute(&format!(
            "BEGIN; SELECT pg_advisory_xact_lock(7215347301); CREATE SCHEMA IF NOT EXISTS {q}; COMMIT; SET search_path TO {q}"
        ))
        .map_err(db)?;
    }
    Ok(c)
}

/// Apply the migrations not yet applied, under a transaction-scoped advisory lock so that
/// replicas starting together migrate once.
pub fn migrate(c: &mut Client) -> Result<i32, StoreError> {
    let mut tx = c.transaction().map_err(db)?;
    tx.execute("SELECT pg_advisory_xact_lock(7215347301)", &[]).map_err(db)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS custos_migrations(version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    )
    .map_err(db)?;
    let done: Vec<i32> = tx
        .query("SELECT version FROM custos_migrations", &[])
        .map_err(db)?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut latest = done.iter().copied().max().unwrap_or(0);
    for (v, sql) in MIGRATIONS {
        if !done.contains(&v) {
            tx.batch_execute(sql).map_err(db)?;
            tx.execute("INSERT INTO custos_migrations(version) VALUES ($1)", &[&v]).map_err(db)?;
            latest = latest.max(v);
        }
    }
    tx.commit().map_err(db)?;
    Ok(latest)
}

fn worker(url: String, schema: Option<String>, rx: Arc<Mutex<Receiver<Job>>>, mut client: Client) {
    loop {
        let job = match rx.lock() {
            Ok(r) => match r.recv() {
                Ok(j) => j,
                Err(_) => return,
            },
            Err(_) => return,
        };
        // A lost connection is reopened before the next job; if that fails, the job fails on
        // the closed connection and its caller gets the error.
        if client.is_closed() {
            if let Ok(c) = connect(&url, schema.as_deref()) {
                client = c;
            }
        }
        job(&mut client);
    }
}

impl PgStore {
    /// The approvals a query (`SELECT id, doc, used …`, with `$1` the time when given) returns.
    fn approvals_where(&self, sql: &'static str, now: Option<i64>) -> Result<Vec<Approval>, StoreError> {
        let rows: Vec<(String, String, bool)> = self.run(move |c| {
            let rows = match &now {
                Some(t) => c.query(sql, &[t]),
                None => c.query(sql, &[]),
            };
            Ok(rows.map_err(db)?.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect())
        })?;
        rows.into_iter().map(|(id, d, used)| crate::approval_from(&id, &d, used)).collect()
    }

    /// Connect (`postgres://user@host:port/db` or key-value form), optionally inside a schema,
    /// and bring the schema up to date.
    pub fn open(url: &str, schema: Option<&str>) -> Result<Self, StoreError> {
        if let Some(s) = schema {
            quote_ident(s)?;
        }
        let (tx, rx) = sync_channel::<Job>(256);
        let rx = Arc::new(Mutex::new(rx));
        let (ready_tx, ready_rx) = sync_channel::<Result<(), StoreError>>(POOL);
        // Connections are made on their own threads too: the caller may be inside an async
        // runtime, where the synchronous client cannot run.
        for i in 0..POOL {
            let (u, s, r, ready) = (url.to_string(), schema.map(String::from), rx.clone(), ready_tx.clone());
            std::thread::Builder::new()
                .name("custos-pg".into())
                .spawn(move || {
                    let client = connect(&u, s.as_deref()).and_then(|mut c| {
                        if i == 0 {
                            migrate(&mut c)?;
                        }
                        Ok(c)
                    });
                    match client {
                        Ok(c) => {
                            let _ = ready.send(Ok(()));
                            worker(u, s, r, c);
                        }
                        Err(e) => {
                            let _ = ready.send(Err(e));
                        }
                    }
                })
                .map_err(|e| StoreError::Db(format!("cannot start a database thread: {e}")))?;
        }
        for _ in 0..POOL {
            ready_rx.recv().map_err(|_| StoreError::Db("a database thread stopped".into()))??;
        }
        Ok(Self {
            jobs: tx,
            url: url.to_string(),
            schema: schema.map(String::from),
            citizen_ids: Mutex::new((0, 0)),
            cdr_ids: Mutex::new((0, 0)),
        })
    }

    /// Move both ID sequences past the given IDs (after copying rows in with their IDs).
    pub fn advance_ids(&self, citizens: i64, cdrs: i64) -> Result<(), StoreError> {
        self.run(move |c| {
            c.execute("SELECT setval('citizen_ids', GREATEST($1::BIGINT, 1))", &[&citizens]).map_err(db)?;
            c.execute("SELECT setval('cdr_ids', GREATEST($1::BIGINT, 1))", &[&cdrs]).map_err(db)?;
            Ok(())
        })?;
        *self.citizen_ids.lock().map_err(|_| StoreError::Db("id lock poisoned".into()))? = (0, 0);
        *self.cdr_ids.lock().map_err(|_| StoreError::Db("id lock poisoned".into()))? = (0, 0);
        Ok(())
    }

    /// A sequencer of the shared audit log on a connection of its own.
    pub fn sequencer(&self, name: &str) -> Result<crate::pglog::PgSequencer, StoreError> {
        crate::pglog::PgSequencer::connect(&self.url, self.schema.as_deref(), name)
    }

    /// The applied schema version.
    pub fn schema_version(&self) -> Result<i32, StoreError> {
        self.run(|c| {
            let r =
                c.query_one("SELECT COALESCE(MAX(version), 0) FROM custos_migrations", &[]).map_err(db)?;
            Ok(r.get(0))
        })
    }

    /// Run `f` on a pooled connection and wait for its answer.
    fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (tx, rx) = sync_channel(1);
        self.jobs
            .send(Box::new(move |c: &mut Client| {
                let _ = tx.send(f(c));
            }))
            .map_err(|_| StoreError::Db("the database pool has stopped".into()))?;
        rx.recv().map_err(|_| StoreError::Db("a database thread stopped".into()))?
    }

    fn next_id(&self, block: &Mutex<(i64, i64)>, seq: &'static str) -> Result<i64, StoreError> {
        let mut b = block.lock().map_err(|_| StoreError::Db("id lock poisoned".into()))?;
        if b.0 >= b.1 {
            let start: i64 = self.run(move |c| {
                Ok(c.query_one(&format!("SELECT nextval('{seq}')"), &[]).map_err(db)?.get(0))
            })?;
            *b = (start, start + ID_BLOCK);
        }
        let id = b.0;
        b.0 += 1;
        Ok(id)
    }

    fn docs<T: DeserializeOwned + Send + 'static>(&self, table: &'static str) -> Result<Vec<T>, StoreError> {
        self.run(move |c| {
            let rows = c
                .query(&format!("SELECT id, doc FROM {table} ORDER BY id COLLATE \"C\""), &[])
                .map_err(db)?;
            rows.iter()
                .map(|r| {
                    let (id, d): (String, String) = (r.get(0), r.get(1));
                    from_doc(&format!("{table} {id}"), &d)
                })
                .collect()
        })
    }

    fn put_doc(&self, table: &'static str, id: &str, doc: String) -> Result<(), StoreError> {
        let id = id.to_string();
        self.run(move |c| {
            c.execute(
                &format!(
                    "INSERT INTO {table}(id, doc) VALUES ($1, $2) ON CONFLICT(id) DO UPDATE SET doc = EXCLUDED.doc"
                ),
                &[&id, &doc],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    fn sealed_one(&self, sql: &'static str, key: &str) -> Result<Option<SealedRow>, StoreError> {
        let key = key.to_string();
        self.run(move |c| Ok(c.query_opt(sql, &[&key]).map_err(db)?.map(|r| (r.get(0), r.get(1)))))
    }
}

impl Store for PgStore {
    fn meta_get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let key = key.to_string();
        self.run(move |c| {
            Ok(c.query_opt("SELECT value FROM meta WHERE key = $1", &[&key]).map_err(db)?.map(|r| r.get(0)))
        })
    }

    fn meta_put(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        let (key, value) = (key.to_string(), value.to_vec());
        self.run(move |c| {
            c.execute(
                "INSERT INTO meta(key, value) VALUES ($1, $2) ON CONFLICT(key) DO UPDATE SET value = EXCLUDED.value",
                &[&key, &value],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    fn next_citizen_id(&self) -> Result<i64, StoreError> {
        self.next_id(&self.citizen_ids, "citizen_ids")
    }

    fn put_citizens(&self, rows: &[CitizenRow]) -> Result<(), StoreError> {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let nids: Vec<String> = rows.iter().map(|r| r.nid_bi.clone()).collect();
        let sealed: Vec<Vec<u8>> = rows.iter().map(|r| r.sealed.clone()).collect();
        let (mut m_bi, mut m_id, mut n_bi, mut n_id) = (vec![], vec![], vec![], vec![]);
        for r in rows {
            for b in &r.msisdn_bis {
                m_bi.push(b.clone());
                m_id.push(r.id);
            }
            for b in &r.name_bis {
                n_bi.push(b.clone());
                n_id.push(r.id);
            }
        }
        self.run(move |c| {
            let mut tx = c.transaction().map_err(db)?;
            tx.execute(
                "INSERT INTO citizens(id, nid_bi, sealed) SELECT * FROM UNNEST($1::BIGINT[], $2::TEXT[], $3::BYTEA[])",
                &[&ids, &nids, &sealed],
            )
            .map_err(|e| {
                if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
                    StoreError::Conflict("a citizen with the same NID".into())
                } else {
                    db(e)
                }
            })?;
            tx.execute(
                "INSERT INTO citizen_msisdn(msisdn_bi, citizen_id) SELECT * FROM UNNEST($1::TEXT[], $2::BIGINT[]) ON CONFLICT DO NOTHING",
                &[&m_bi, &m_id],
            )
            .map_err(db)?;
            tx.execute(
                "INSERT INTO citizen_name(token_bi, citizen_id) SELECT * FROM UNNEST($1::TEXT[], $2::BIGINT[]) ON CONFLICT DO NOTHING",
                &[&n_bi, &n_id],
            )
            .map_err(db)?;
            tx.commit().map_err(db)
        })
    }

    fn citizen_by_nid(&self, nid_bi: &str) -> Result<Option<SealedRow>, StoreError> {
        self.sealed_one("SELECT id, sealed FROM citizens WHERE nid_bi = $1", nid_bi)
    }

    fn citizen_by_msisdn(&self, msisdn_bi: &str) -> Result<Option<SealedRow>, StoreError> {
        self.sealed_one(
            "SELECT c.id, c.sealed FROM citizen_msisdn m JOIN citizens c ON c.id = m.citizen_id WHERE m.msisdn_bi = $1 ORDER BY c.id LIMIT 1",
            msisdn_bi,
        )
    }

    fn citizens_by_name(&self, token_bis: &[String], limit: usize) -> Result<Vec<SealedRow>, StoreError> {
        let mut tokens = token_bis.to_vec();
        tokens.sort();
        tokens.dedup();
        if tokens.is_empty() {
            return Ok(Vec::new());
        }
        let (n, limit) = (tokens.len() as i64, limit as i64);
        self.run(move |c| {
            let rows = c
                .query(
                    "SELECT c.id, c.sealed FROM citizens c WHERE c.id IN (
                       SELECT citizen_id FROM citizen_name WHERE token_bi = ANY($1)
                       GROUP BY citizen_id HAVING COUNT(DISTINCT token_bi) = $2)
                     ORDER BY c.id LIMIT $3",
                    &[&tokens, &n, &limit],
                )
                .map_err(db)?;
            Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        })
    }

    fn citizen_count(&self) -> Result<u64, StoreError> {
        self.run(|c| {
            Ok(c.query_one("SELECT COUNT(*) FROM citizens", &[]).map_err(db)?.get::<_, i64>(0) as u64)
        })
    }

    fn next_cdr_id(&self) -> Result<i64, StoreError> {
        self.next_id(&self.cdr_ids, "cdr_ids")
    }

    fn put_cdrs(&self, rows: &[CdrRow]) -> Result<(), StoreError> {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let sealed: Vec<Vec<u8>> = rows.iter().map(|r| r.sealed.clone()).collect();
        let (mut p_bi, mut p_id) = (vec![], vec![]);
        for r in rows {
            for b in &r.party_bis {
                p_bi.push(b.clone());
                p_id.push(r.id);
            }
        }
        self.run(move |c| {
            let mut tx = c.transaction().map_err(db)?;
            tx.execute(
                "INSERT INTO cdrs(id, sealed) SELECT * FROM UNNEST($1::BIGINT[], $2::BYTEA[])",
                &[&ids, &sealed],
            )
            .map_err(db)?;
            tx.execute(
                "INSERT INTO cdr_party(party_bi, cdr_id) SELECT * FROM UNNEST($1::TEXT[], $2::BIGINT[]) ON CONFLICT DO NOTHING",
                &[&p_bi, &p_id],
            )
            .map_err(db)?;
            tx.commit().map_err(db)
        })
    }

    fn cdrs_by_party(&self, party_bi: &str) -> Result<Vec<SealedRow>, StoreError> {
        let key = party_bi.to_string();
        self.run(move |c| {
            let rows = c
                .query(
                    "SELECT d.id, d.sealed FROM cdr_party p JOIN cdrs d ON d.id = p.cdr_id WHERE p.party_bi = $1 ORDER BY d.id",
                    &[&key],
                )
                .map_err(db)?;
            Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
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
        let (id, sha) = (cr.id.clone(), cr.sha256.clone());
        self.run(move |c| {
            c.execute(
                "INSERT INTO credentials(id, sha256, doc) VALUES ($1, $2, $3) ON CONFLICT(id) DO UPDATE SET doc = EXCLUDED.doc",
                &[&id, &sha, &doc],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    fn credentials(&self) -> Result<Vec<Credential>, StoreError> {
        self.docs("credentials")
    }

    fn revoke_credential(&self, id: &str) -> Result<(), StoreError> {
        let id = id.to_string();
        self.run(move |c| {
            let mut tx = c.transaction().map_err(db)?;
            let row = tx
                .query_opt("SELECT doc FROM credentials WHERE id = $1 FOR UPDATE", &[&id])
                .map_err(db)?
                .ok_or_else(|| StoreError::NotFound(format!("credential `{id}`")))?;
            let mut cred: Credential = from_doc(&format!("credential {id}"), &row.get::<_, String>(0))?;
            cred.revoked = true;
            tx.execute("UPDATE credentials SET doc = $2 WHERE id = $1", &[&id, &to_doc(&cred)?])
                .map_err(db)?;
            tx.commit().map_err(db)
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
        let (id, used) = (a.id.clone(), a.used);
        self.run(move |c| {
            c.execute(
                "INSERT INTO approvals(id, doc, used) VALUES ($1, $2, $3) ON CONFLICT(id) DO UPDATE SET doc = EXCLUDED.doc",
                &[&id, &doc, &used],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    fn approval(&self, id: &str) -> Result<Option<Approval>, StoreError> {
        let key = id.to_string();
        let row: Option<(String, bool)> = self.run(move |c| {
            Ok(c.query_opt("SELECT doc, used FROM approvals WHERE id = $1", &[&key])
                .map_err(db)?
                .map(|r| (r.get(0), r.get(1))))
        })?;
        row.map(|(d, used)| crate::approval_from(id, &d, used)).transpose()
    }

    fn use_approval(&self, id: &str) -> Result<bool, StoreError> {
        // Atomic across every replica: only one request can flip `used`.
        let id = id.to_string();
        self.run(move |c| {
            Ok(c.execute("UPDATE approvals SET used = TRUE WHERE id = $1 AND used = FALSE", &[&id])
                .map_err(db)?
                == 1)
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
            "SELECT id, doc, used FROM approvals WHERE NOT used \
             AND (doc::jsonb->>'expires')::bigint > $1 ORDER BY id COLLATE \"C\"",
            Some(now),
        )
    }

    fn approvals(&self) -> Result<Vec<Approval>, StoreError> {
        self.approvals_where("SELECT id, doc, used FROM approvals ORDER BY id COLLATE \"C\"", None)
    }

    fn meta_keys(&self) -> Result<Vec<String>, StoreError> {
        self.run(|c| {
            Ok(c.query("SELECT key FROM meta ORDER BY key COLLATE \"C\"", &[])
                .map_err(db)?
                .iter()
                .map(|r| r.get(0))
                .collect())
        })
    }

    fn citizen_rows(&self, after: i64, limit: usize) -> Result<Vec<CitizenRow>, StoreError> {
        let limit = limit as i64;
        self.run(move |c| {
            let rows = c
                .query(
                    "SELECT c.id, c.nid_bi, c.sealed,
                       ARRAY(SELECT msisdn_bi FROM citizen_msisdn m WHERE m.citizen_id = c.id ORDER BY msisdn_bi),
                       ARRAY(SELECT token_bi FROM citizen_name n WHERE n.citizen_id = c.id ORDER BY token_bi)
                     FROM citizens c WHERE c.id > $1 ORDER BY c.id LIMIT $2",
                    &[&after, &limit],
                )
                .map_err(db)?;
            Ok(rows
                .iter()
                .map(|r| CitizenRow { id: r.get(0), nid_bi: r.get(1), sealed: r.get(2), msisdn_bis: r.get(3), name_bis: r.get(4) })
                .collect())
        })
    }

    fn cdr_rows(&self, after: i64, limit: usize) -> Result<Vec<CdrRow>, StoreError> {
        let limit = limit as i64;
        self.run(move |c| {
            let rows = c
                .query(
                    "SELECT d.id, d.sealed, ARRAY(SELECT party_bi FROM cdr_party p WHERE p.cdr_id = d.id ORDER BY party_bi)
                     FROM cdrs d WHERE d.id > $1 ORDER BY d.id LIMIT $2",
                    &[&after, &limit],
                )
                .map_err(db)?;
            Ok(rows.iter().map(|r| CdrRow { id: r.get(0), sealed: r.get(1), party_bis: r.get(2) }).collect())
        })
    }

    fn cdr_count(&self) -> Result<u64, StoreError> {
        self.run(|c| Ok(c.query_one("SELECT COUNT(*) FROM cdrs", &[]).map_err(db)?.get::<_, i64>(0) as u64))
    }

    fn shared(&self) -> bool {
        true
    }

    fn log_submit(&self, leaf: &[u8], at: i64) -> Result<Option<i64>, StoreError> {
        let leaf = leaf.to_vec();
        self.run(move |c| crate::pglog::submit(c, &leaf, at)).map(Some)
    }

    fn log_entries(&self, from: u64, limit: usize) -> Result<Vec<crate::pglog::LogRow>, StoreError> {
        self.run(move |c| crate::pglog::entries(c, from, limit))
    }

    fn log_state(&self) -> Result<(u64, i64, String), StoreError> {
        self.run(crate::pglog::state)
    }

    fn log_adopt(&self, leaves: Vec<Vec<u8>>) -> Result<bool, StoreError> {
        self.run(move |c| crate::pglog::adopt(c, &leaves))
    }

    fn log_sequencer(&self, name: &str) -> Result<Option<crate::pglog::PgSequencer>, StoreError> {
        self.sequencer(name).map(Some)
    }

    fn log_submitter(&self) -> Result<Option<crate::pglog::PgSubmitter>, StoreError> {
        crate::pglog::PgSubmitter::connect(&self.url, self.schema.as_deref()).map(Some)
    }

    fn quota_used(&self, officer: &str, kind: &str, day: i64) -> Result<i64, StoreError> {
        let (o, k) = (officer.to_string(), kind.to_string());
        self.run(move |c| {
            Ok(c.query_opt(
                "SELECT used FROM quotas WHERE officer = $1 AND kind = $2 AND day = $3",
                &[&o, &k, &day],
            )
            .map_err(db)?
            .map_or(0, |r| r.get(0)))
        })
    }

    fn quota_take(&self, officer: &str, kind: &str, day: i64, limit: i64) -> Result<bool, StoreError> {
        let (o, k) = (officer.to_string(), kind.to_string());
        self.run(move |c| {
            let row = c
                .query_opt(
                    "INSERT INTO quotas(officer, kind, day, used) VALUES ($1, $2, $3, 1)
                     ON CONFLICT(officer, kind, day) DO UPDATE SET used = quotas.used + 1 WHERE quotas.used < $4
                     RETURNING used",
                    &[&o, &k, &day, &limit],
                )
                .map_err(db)?;
            Ok(row.is_some_and(|r| r.get::<_, i64>(0) <= limit))
        })
    }
}
