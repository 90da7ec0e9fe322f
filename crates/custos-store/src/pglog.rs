//! One audit log for several gateway replicas, sequenced in PostgreSQL.
//!
//! - A replica **submits** an entry: one `INSERT` into `log_pending`, committed before the call
//!   returns, so an acknowledged request's entry is durable in the database.
//! - Exactly one **sequencer** at a time moves pending entries into `log_entries`, giving each the
//!   next index. Leadership is a session-level advisory lock held on the sequencer's own
//!   connection (released by the server the moment that connection or its process dies); each
//!   new leader bumps the `epoch` in the single `log_state` row. Every sequencing transaction
//!   locks that row (`SELECT … FOR UPDATE`) and checks the epoch is still its own, so a deposed
//!   leader — one that lost the lock, or was overtaken by [`PgSequencer::take_over`] — can never
//!   write: its transaction sees the newer epoch and stops ([`StoreError::Conflict`]). Indices
//!   are a primary key and `size` only grows inside that locked row, so two sequencers racing
//!   can never give one index two entries: a size has exactly one prefix, hence one root and
//!   one checkpoint.
//! - Every replica **mirrors** `log_entries` in index order into its own tile store and signs the
//!   same checkpoints (Ed25519 signatures are deterministic and a checkpoint body carries no
//!   time), so the tiles and checkpoints served are identical whichever replica answers.
//!
//! SQL relied on beyond the store's: `BIGSERIAL`, `pg_try_advisory_lock(class, key)` (session
//! level; the key is a hash of the schema's name). An engine without advisory locks would elect by lease in `log_state` with the
//! same epoch fencing.

use postgres::Client;

use crate::pg::{connect, db};
use crate::StoreError;

/// Migration 3: the shared log.
pub const MIGRATION: &str = "
CREATE TABLE IF NOT EXISTS log_pending(id BIGSERIAL PRIMARY KEY, leaf BYTEA NOT NULL, at BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS log_entries(idx BIGINT PRIMARY KEY, leaf BYTEA NOT NULL, pending_id BIGINT NOT NULL UNIQUE, epoch BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS log_state(one BOOLEAN PRIMARY KEY CHECK (one), epoch BIGINT NOT NULL, size BIGINT NOT NULL, leader TEXT NOT NULL DEFAULT '');
INSERT INTO log_state(one, epoch, size) VALUES (TRUE, 0, 0) ON CONFLICT DO NOTHING;
";

/// The advisory lock class of the sequencer; the second key is a hash of the schema's name, so
/// logs in different schemas of one database elect their leaders apart.
const LEADER_LOCK: i32 = 721_534_730;

/// An integrated entry: index, the pending ID it was submitted under, its bytes.
pub type LogRow = (u64, i64, Vec<u8>);

/// Submit an entry; returns its pending ID once committed.
pub fn submit(c: &mut Client, leaf: &[u8], at: i64) -> Result<i64, StoreError> {
    let r = c
        .query_one("INSERT INTO log_pending(leaf, at) VALUES ($1, $2) RETURNING id", &[&leaf, &at])
        .map_err(db)?;
    Ok(r.get(0))
}

/// Submit several entries in one statement and one commit (a group commit): their pending
/// IDs, in the order given.
pub fn submit_batch(c: &mut Client, leaves: &[Vec<u8>], at: &[i64]) -> Result<Vec<i64>, StoreError> {
    // Rows are inserted in the order of `n`, so the sequence hands out increasing IDs in that
    // order: the sorted IDs are the entries' IDs in the order given.
    let rows = c
        .query(
            "INSERT INTO log_pending(leaf, at) SELECT l, a FROM UNNEST($1::BYTEA[], $2::BIGINT[]) WITH ORDINALITY AS t(l, a, n) ORDER BY n RETURNING id",
            &[&leaves, &at],
        )
        .map_err(db)?;
    let mut ids: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    ids.sort_unstable();
    if ids.len() != leaves.len() {
        return Err(StoreError::Db(format!(
            "{} entries submitted, {} IDs returned",
            leaves.len(),
            ids.len()
        )));
    }
    Ok(ids)
}

/// A connection of its own for submitting entries in groups.
pub struct PgSubmitter {
    client: Client,
}

impl std::fmt::Debug for PgSubmitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgSubmitter").finish_non_exhaustive()
    }
}

impl PgSubmitter {
    /// Connect.
    pub fn connect(url: &str, schema: Option<&str>) -> Result<Self, StoreError> {
        Ok(Self { client: connect(url, schema)? })
    }

    /// Submit entries in one commit; their pending IDs in order.
    pub fn submit(&mut self, leaves: &[Vec<u8>], at: &[i64]) -> Result<Vec<i64>, StoreError> {
        submit_batch(&mut self.client, leaves, at)
    }
}

/// Integrated entries from index `from`, at most `limit`, in index order.
pub fn entries(c: &mut Client, from: u64, limit: usize) -> Result<Vec<LogRow>, StoreError> {
    let (from, limit) = (from as i64, limit as i64);
    let rows = c
        .query(
            "SELECT idx, pending_id, leaf FROM log_entries WHERE idx >= $1 ORDER BY idx LIMIT $2",
            &[&from, &limit],
        )
        .map_err(db)?;
    Ok(rows.iter().map(|r| (r.get::<_, i64>(0) as u64, r.get(1), r.get(2))).collect())
}

/// The integrated size, the epoch and the leader's name.
pub fn state(c: &mut Client) -> Result<(u64, i64, String), StoreError> {
    let r = c.query_one("SELECT size, epoch, leader FROM log_state", &[]).map_err(db)?;
    Ok((r.get::<_, i64>(0) as u64, r.get(1), r.get(2)))
}

/// Make `leaves` the first entries of an empty shared log (an embedded installation's log,
/// moved to the database). False, and nothing written, when the shared log is not empty.
pub fn adopt(c: &mut Client, leaves: &[Vec<u8>]) -> Result<bool, StoreError> {
    let mut tx = c.transaction().map_err(db)?;
    let size: i64 = tx.query_one("SELECT size FROM log_state FOR UPDATE", &[]).map_err(db)?.get(0);
    if size != 0 {
        return Ok(false);
    }
    for (k, part) in leaves.chunks(4096).enumerate() {
        let base = (k * 4096) as i64;
        let idx: Vec<i64> = (0..part.len() as i64).map(|i| base + i).collect();
        // Adopted entries were never pending: negative pending IDs keep them apart.
        let pid: Vec<i64> = idx.iter().map(|i| -1 - i).collect();
        tx.execute(
            "INSERT INTO log_entries(idx, leaf, pending_id, epoch) SELECT i, l, p, 0 FROM UNNEST($1::BIGINT[], $2::BYTEA[], $3::BIGINT[]) AS t(i, l, p)",
            &[&idx, &part, &pid],
        )
        .map_err(db)?;
    }
    tx.execute("UPDATE log_state SET size = $1", &[&(leaves.len() as i64)]).map_err(db)?;
    tx.commit().map_err(db)?;
    Ok(true)
}

/// A sequencer on its own connection (which holds the leader lock while it leads).
pub struct PgSequencer {
    client: Client,
    key: i32,
    name: String,
    epoch: Option<i64>,
}

impl std::fmt::Debug for PgSequencer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgSequencer").field("name", &self.name).field("epoch", &self.epoch).finish()
    }
}

impl PgSequencer {
    /// Connect a sequencer named `name` (shown as the leader while it leads).
    pub fn connect(url: &str, schema: Option<&str>, name: &str) -> Result<Self, StoreError> {
        // FNV-1a of the schema's name.
        let h = schema
            .unwrap_or("public")
            .bytes()
            .fold(0x811c_9dc5u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
        Ok(Self {
            client: connect(url, schema)?,
            key: i32::from_le_bytes(h.to_le_bytes()),
            name: name.to_string(),
            epoch: None,
        })
    }

    /// The epoch this sequencer leads in, if it leads.
    pub fn epoch(&self) -> Option<i64> {
        self.epoch
    }

    /// Become the leader if no one else holds the lock: take it and start a new epoch.
    pub fn try_lead(&mut self) -> Result<bool, StoreError> {
        if self.epoch.is_some() {
            return Ok(true);
        }
        let got: bool = self
            .client
            .query_one("SELECT pg_try_advisory_lock($1, $2)", &[&LEADER_LOCK, &self.key])
            .map_err(db)?
            .get(0);
        if !got {
            return Ok(false);
        }
        self.start_epoch()?;
        Ok(true)
    }

    /// Start a new epoch without the lock: for an operator who knows the old leader is gone
    /// but its session lingers, and for engines without advisory locks. The old leader is
    /// fenced at its next transaction.
    pub fn take_over(&mut self) -> Result<i64, StoreError> {
        self.start_epoch()
    }

    fn start_epoch(&mut self) -> Result<i64, StoreError> {
        let e: i64 = self
            .client
            .query_one("UPDATE log_state SET epoch = epoch + 1, leader = $1 RETURNING epoch", &[&self.name])
            .map_err(db)?
            .get(0);
        self.epoch = Some(e);
        Ok(e)
    }

    /// Integrate up to `max` pending entries, in the order they were submitted; returns how
    /// many. [`StoreError::Conflict`] when another sequencer has started a newer epoch (this one
    /// then stops leading and writes nothing).
    pub fn sequence(&mut self, max: usize) -> Result<usize, StoreError> {
        let Some(mine) = self.epoch else { return Ok(0) };
        let mut tx = self.client.transaction().map_err(db)?;
        let row = tx.query_one("SELECT epoch, size FROM log_state FOR UPDATE", &[]).map_err(db)?;
        let (epoch, size): (i64, i64) = (row.get(0), row.get(1));
        if epoch != mine {
            drop(tx);
            self.epoch = None;
            // Let go of the lock too, if held, so that the current leader's successor can take it.
            let _ = self.client.execute("SELECT pg_advisory_unlock($1, $2)", &[&LEADER_LOCK, &self.key]);
            return Err(StoreError::Conflict(format!("sequencer epoch {mine} (epoch {epoch} leads)")));
        }
        let rows = tx
            .query("SELECT id, leaf FROM log_pending ORDER BY id LIMIT $1", &[&(max as i64)])
            .map_err(db)?;
        if rows.is_empty() {
            return Ok(0);
        }
        let ids: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
        let leaves: Vec<Vec<u8>> = rows.iter().map(|r| r.get(1)).collect();
        let idx: Vec<i64> = (0..ids.len() as i64).map(|i| size + i).collect();
        let n = ids.len() as i64;
        tx.execute(
            "INSERT INTO log_entries(idx, leaf, pending_id, epoch) SELECT i, l, p, $4 FROM UNNEST($1::BIGINT[], $2::BYTEA[], $3::BIGINT[]) AS t(i, l, p)",
            &[&idx, &leaves, &ids, &mine],
        )
        .map_err(db)?;
        tx.execute("DELETE FROM log_pending WHERE id = ANY($1)", &[&ids]).map_err(db)?;
        tx.execute("UPDATE log_state SET size = size + $1", &[&n]).map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(ids.len())
    }
}
