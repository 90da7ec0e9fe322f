//! The records store of Custos.
//!
//! [`Store`] is the storage trait: rows of opaque sealed blobs keyed by blind indexes, plus
//! officers, credentials, cases, warrants, approvals and break-glass grants. It knows nothing
//! of plaintext. [`Registry`] sits on top: it seals and opens records with the [`Vault`],
//! computes blind indexes, and is what the gateway uses. The embedded implementation is
//! [`sqlite::SqliteStore`] (WAL); [`pg::PgStore`] is the PostgreSQL one, for several gateway
//! replicas over one database. Both pass the same test suite (`tests/backends.rs`).
//!
//! Invariant: the database never holds a plaintext identifier (NID, MSISDN) or a citizen's
//! name — only blind indexes and ciphertexts.

pub mod crypto;
pub mod fuzzing;
pub mod import;
pub mod kms;
pub mod model;
pub mod pg;
pub mod pglog;
mod pgtls;
pub mod sqlite;

pub use crypto::{Category, KeyWrapper, LocalKek, Vault};
pub use model::*;

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database failed.
    #[error("database error: {0}")]
    Db(String),
    /// The settings for reaching the database are unusable (connection string, TLS files).
    #[error("database settings: {0}")]
    Config(String),
    /// A key or a ciphertext failed.
    #[error("crypto error: {0}")]
    Crypto(String),
    /// A stored value does not decode.
    #[error("corrupt record {what}: {reason}")]
    Corrupt {
        /// Which record.
        what: String,
        /// Why.
        reason: String,
    },
    /// A referenced row does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The row conflicts with an existing one.
    #[error("{0} already exists")]
    Conflict(String),
}

/// A sealed row: its ID and sealed bytes.
pub type SealedRow = (i64, Vec<u8>);

/// Storage of Custos records. Implementations must be safe to share between threads.
pub trait Store: Send + Sync {
    /// Meta values (wrapped keys, settings).
    fn meta_get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Set a meta value.
    fn meta_put(&self, key: &str, value: &[u8]) -> Result<(), StoreError>;

    /// Reserve the next citizen ID (so the ciphertext can be bound to it).
    fn next_citizen_id(&self) -> Result<i64, StoreError>;
    /// Insert citizens: `(id, nid blind index, sealed record, msisdn indexes, name-token indexes)`.
    fn put_citizens(&self, rows: &[CitizenRow]) -> Result<(), StoreError>;
    /// A citizen by NID blind index.
    fn citizen_by_nid(&self, nid_bi: &str) -> Result<Option<SealedRow>, StoreError>;
    /// A citizen by MSISDN blind index.
    fn citizen_by_msisdn(&self, msisdn_bi: &str) -> Result<Option<SealedRow>, StoreError>;
    /// Citizens having every one of the name-token indexes (at most `limit`).
    fn citizens_by_name(&self, token_bis: &[String], limit: usize) -> Result<Vec<SealedRow>, StoreError>;
    /// Number of citizens.
    fn citizen_count(&self) -> Result<u64, StoreError>;

    /// Reserve the next CDR ID.
    fn next_cdr_id(&self) -> Result<i64, StoreError>;
    /// Insert CDRs: `(id, party indexes, sealed record)`.
    fn put_cdrs(&self, rows: &[CdrRow]) -> Result<(), StoreError>;
    /// CDRs where the party index is caller or callee.
    fn cdrs_by_party(&self, party_bi: &str) -> Result<Vec<SealedRow>, StoreError>;

    /// Insert or replace an officer.
    fn put_officer(&self, o: &Officer) -> Result<(), StoreError>;
    /// All officers.
    fn officers(&self) -> Result<Vec<Officer>, StoreError>;

    /// Insert a credential.
    fn put_credential(&self, c: &Credential) -> Result<(), StoreError>;
    /// All credentials.
    fn credentials(&self) -> Result<Vec<Credential>, StoreError>;
    /// Revoke a credential by ID.
    fn revoke_credential(&self, id: &str) -> Result<(), StoreError>;

    /// Insert or replace a case (with its officers and subject indexes).
    fn put_case(&self, c: &Case) -> Result<(), StoreError>;
    /// All cases.
    fn cases(&self) -> Result<Vec<Case>, StoreError>;

    /// Insert or replace a warrant.
    fn put_warrant(&self, w: &Warrant) -> Result<(), StoreError>;
    /// All warrants.
    fn warrants(&self) -> Result<Vec<Warrant>, StoreError>;

    /// Insert or replace an approval.
    fn put_approval(&self, a: &Approval) -> Result<(), StoreError>;
    /// An approval by ID.
    fn approval(&self, id: &str) -> Result<Option<Approval>, StoreError>;
    /// Mark an approval used, once: false if it was already used.
    fn use_approval(&self, id: &str) -> Result<bool, StoreError>;
    /// Approvals not yet used that expire after `now` (unix seconds), in ID order.
    fn open_approvals(&self, now: i64) -> Result<Vec<Approval>, StoreError>;

    /// Insert or replace a break-glass grant.
    fn put_break_glass(&self, b: &BreakGlass) -> Result<(), StoreError>;
    /// All break-glass grants.
    fn break_glasses(&self) -> Result<Vec<BreakGlass>, StoreError>;

    /// All approvals (for moving an installation).
    fn approvals(&self) -> Result<Vec<Approval>, StoreError>;
    /// All meta keys.
    fn meta_keys(&self) -> Result<Vec<String>, StoreError>;
    /// Citizen rows with IDs above `after`, in ID order, at most `limit` (for moving an
    /// installation: sealed bytes and indexes as stored).
    fn citizen_rows(&self, after: i64, limit: usize) -> Result<Vec<CitizenRow>, StoreError>;
    /// CDR rows with IDs above `after`, in ID order, at most `limit`.
    fn cdr_rows(&self, after: i64, limit: usize) -> Result<Vec<CdrRow>, StoreError>;
    /// Number of CDRs.
    fn cdr_count(&self) -> Result<u64, StoreError>;

    /// Whether several processes may share this store, so that daily quotas must be kept in it
    /// rather than in each process's memory.
    fn shared(&self) -> bool {
        false
    }
    /// Requests counted today against an officer's quota of a kind.
    fn quota_used(&self, officer: &str, kind: &str, day: i64) -> Result<i64, StoreError>;
    /// Count one request against the quota if fewer than `limit` are counted, atomically
    /// across every process on the store; false if the quota is spent.
    fn quota_take(&self, officer: &str, kind: &str, day: i64, limit: i64) -> Result<bool, StoreError>;

    /// Submit an audit entry to the log shared by every process on this store, durably; its
    /// pending ID. `None` when the store keeps no shared log (each process has its own).
    fn log_submit(&self, _leaf: &[u8], _at: i64) -> Result<Option<i64>, StoreError> {
        Ok(None)
    }
    /// Integrated entries of the shared log from index `from`, in order.
    fn log_entries(&self, _from: u64, _limit: usize) -> Result<Vec<pglog::LogRow>, StoreError> {
        Ok(vec![])
    }
    /// The shared log's integrated size, epoch and leader.
    fn log_state(&self) -> Result<(u64, i64, String), StoreError> {
        Ok((0, 0, String::new()))
    }
    /// Seed an empty shared log with existing entries; false if it is not empty.
    fn log_adopt(&self, _leaves: Vec<Vec<u8>>) -> Result<bool, StoreError> {
        Ok(false)
    }
    /// A sequencer for the shared log, if the store keeps one.
    fn log_sequencer(&self, _name: &str) -> Result<Option<pglog::PgSequencer>, StoreError> {
        Ok(None)
    }
    /// A connection that submits entries to the shared log in groups, if the store keeps one.
    fn log_submitter(&self) -> Result<Option<pglog::PgSubmitter>, StoreError> {
        Ok(None)
    }
}

/// An approval from its stored document and the separately kept `used` flag.
pub(crate) fn approval_from(id: &str, doc: &str, used: bool) -> Result<Approval, StoreError> {
    let mut a: Approval = serde_json::from_str(doc)
        .map_err(|e| StoreError::Corrupt { what: format!("approval {id}"), reason: e.to_string() })?;
    a.used = used;
    Ok(a)
}

/// A citizen row as stored.
#[derive(Debug, Clone)]
pub struct CitizenRow {
    /// Row ID.
    pub id: i64,
    /// NID blind index.
    pub nid_bi: String,
    /// Sealed record.
    pub sealed: Vec<u8>,
    /// MSISDN blind indexes.
    pub msisdn_bis: Vec<String>,
    /// Name-token blind indexes.
    pub name_bis: Vec<String>,
}

/// A CDR row as stored.
#[derive(Debug, Clone)]
pub struct CdrRow {
    /// Row ID.
    pub id: i64,
    /// Party blind indexes (caller, callee).
    pub party_bis: Vec<String>,
    /// Sealed record.
    pub sealed: Vec<u8>,
}

/// Normalise a Bangladeshi mobile number to `8801XXXXXXXXX`; `None` if it is not one.
pub fn normalize_msisdn(s: &str) -> Option<String> {
    let d: String = s
        .chars()
        .map(|c| match c {
            '\u{09E6}'..='\u{09EF}' => char::from(b'0' + (c as u32 - 0x09E6) as u8),
            c => c,
        })
        .filter(char::is_ascii_digit)
        .collect();
    let d = if let Some(r) = d.strip_prefix("00") { r.to_string() } else { d };
    let d = if d.len() == 11 && d.starts_with("01") { format!("88{d}") } else { d };
    let ok = d.len() == 13 && d.starts_with("8801") && matches!(d.as_bytes()[4], b'3'..=b'9');
    ok.then_some(d)
}

/// Normalise a national ID: digits only, 10, 13 or 17 of them.
pub fn normalize_nid(s: &str) -> Option<String> {
    let d: String = s
        .chars()
        .map(|c| match c {
            '\u{09E6}'..='\u{09EF}' => char::from(b'0' + (c as u32 - 0x09E6) as u8),
            c => c,
        })
        .filter(|c| !matches!(c, ' ' | '-'))
        .collect();
    (matches!(d.len(), 10 | 13 | 17) && d.bytes().all(|b| b.is_ascii_digit())).then_some(d)
}

/// Lower-cased name tokens (Latin or Bangla), for name search blind indexes.
pub fn name_tokens(name: &str) -> Vec<String> {
    name.split(|c: char| c.is_whitespace() || c == '.' || c == ',')
        .filter(|t| t.chars().count() >= 2)
        .map(|t| t.to_lowercase())
        .collect()
}

/// The store plus the vault: plaintext in, plaintext out, sealed in between.
pub struct Registry {
    store: Box<dyn Store>,
    vault: Vault,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").finish_non_exhaustive()
    }
}

const WRAPPED_KEYS: &str = "wrapped_keys";
/// The data keys wrapped under the next key-encryption key, while a rotation switches to it
/// (empty when none is under way).
const WRAPPED_KEYS_NEXT: &str = "wrapped_keys_next";

fn parse_wrapped(bytes: &[u8]) -> Result<crate::crypto::WrappedKeys, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Crypto(e.to_string()))
}

fn encode_wrapped(wrapped: &crate::crypto::WrappedKeys) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(wrapped).map_err(|e| StoreError::Crypto(e.to_string()))
}

impl Registry {
    /// Initialise a fresh store: generate data keys and keep them only wrapped.
    pub fn init(store: Box<dyn Store>, wrapper: &dyn KeyWrapper) -> Result<Self, StoreError> {
        if store.meta_get(WRAPPED_KEYS)?.is_some() {
            return Err(StoreError::Conflict("a key set".into()));
        }
        let (vault, wrapped) = Vault::generate(wrapper)?;
        store.meta_put(WRAPPED_KEYS, &encode_wrapped(&wrapped)?)?;
        Ok(Self { store, vault })
    }

    /// Open an initialised store. A rotation of the key-encryption key interrupted after the
    /// new key took over (see [`Registry::stage_rewrap`]) is completed here: the key set staged
    /// under it becomes the key set.
    pub fn open(store: Box<dyn Store>, wrapper: &dyn KeyWrapper) -> Result<Self, StoreError> {
        let bytes = store
            .meta_get(WRAPPED_KEYS)?
            .ok_or_else(|| StoreError::NotFound("the wrapped key set".into()))?;
        let current = Vault::unwrap_all(wrapper, &parse_wrapped(&bytes)?);
        let vault = match current {
            Ok(v) => v,
            Err(e) => {
                let next = store.meta_get(WRAPPED_KEYS_NEXT)?.filter(|b| !b.is_empty());
                let Some(next) = next else { return Err(e) };
                let Ok(v) = Vault::unwrap_all(wrapper, &parse_wrapped(&next)?) else { return Err(e) };
                store.meta_put(WRAPPED_KEYS, &next)?;
                store.meta_put(WRAPPED_KEYS_NEXT, b"")?;
                v
            }
        };
        Ok(Self { vault, store })
    }

    /// Rotating the key-encryption key, step 1: keep the data keys wrapped under `next` beside
    /// the current set. The data keys themselves do not change, so nothing is re-encrypted.
    /// Step 2 is the caller's: make `next` the key-encryption key in use (its file); until
    /// then the current key still opens the store, after it `next` does ([`Registry::open`]
    /// completes the switch if step 3 never ran). Step 3: [`Registry::commit_rewrap`].
    pub fn stage_rewrap(&self, next: &dyn KeyWrapper) -> Result<(), StoreError> {
        self.store.meta_put(WRAPPED_KEYS_NEXT, &encode_wrapped(&self.vault.wrap_all(next)?)?)
    }

    /// Rotating the key-encryption key, step 3: the set staged under `next` becomes the key
    /// set, once checked to unwrap under it to the very keys in use.
    pub fn commit_rewrap(&self, next: &dyn KeyWrapper) -> Result<(), StoreError> {
        let staged = self
            .store
            .meta_get(WRAPPED_KEYS_NEXT)?
            .filter(|b| !b.is_empty())
            .ok_or_else(|| StoreError::NotFound("a staged key set".into()))?;
        if !Vault::unwrap_all(next, &parse_wrapped(&staged)?)?.same_keys(&self.vault) {
            return Err(StoreError::Crypto("the staged key set holds other data keys".into()));
        }
        self.store.meta_put(WRAPPED_KEYS, &staged)?;
        self.store.meta_put(WRAPPED_KEYS_NEXT, b"")
    }

    /// The vault (blind indexes, commitments).
    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    /// The raw store.
    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// Add citizens (identifiers must be normalised already).
    pub fn add_citizens(&self, citizens: &[Citizen]) -> Result<Vec<i64>, StoreError> {
        let mut rows = Vec::with_capacity(citizens.len());
        let mut ids = Vec::with_capacity(citizens.len());
        for c in citizens {
            let id = self.store.next_citizen_id()?;
            let plain = serde_json::to_vec(c).map_err(|e| StoreError::Crypto(e.to_string()))?;
            let mut name_bis: Vec<String> = name_tokens(&c.name_en)
                .into_iter()
                .chain(name_tokens(&c.name_bn))
                .map(|t| self.vault.blind("name", &t))
                .collect();
            name_bis.sort();
            name_bis.dedup();
            rows.push(CitizenRow {
                id,
                nid_bi: self.vault.blind("nid", &c.nid),
                sealed: self.vault.seal(Category::Identity, id, &plain)?,
                msisdn_bis: c.msisdns.iter().map(|m| self.vault.blind("msisdn", m)).collect(),
                name_bis,
            });
            ids.push(id);
        }
        self.store.put_citizens(&rows)?;
        Ok(ids)
    }

    fn open_citizen(&self, row: SealedRow) -> Result<(i64, Citizen), StoreError> {
        let plain = self.vault.open(Category::Identity, row.0, &row.1)?;
        let c = serde_json::from_slice(&plain)
            .map_err(|e| StoreError::Corrupt { what: format!("citizen {}", row.0), reason: e.to_string() })?;
        Ok((row.0, c))
    }

    /// A citizen by NID.
    pub fn citizen_by_nid(&self, nid: &str) -> Result<Option<(i64, Citizen)>, StoreError> {
        self.citizen_by_blind("nid", &self.vault.blind("nid", nid))
    }

    /// A citizen by the blind index of an identifier of some kind (`nid` or `msisdn`), for a
    /// caller that already computed it with [`Vault::blind`].
    pub fn citizen_by_blind(&self, kind: &str, bi: &str) -> Result<Option<(i64, Citizen)>, StoreError> {
        let row = match kind {
            "nid" => self.store.citizen_by_nid(bi)?,
            "msisdn" => self.store.citizen_by_msisdn(bi)?,
            _ => None,
        };
        row.map(|r| self.open_citizen(r)).transpose()
    }

    /// A citizen by registered MSISDN.
    pub fn citizen_by_msisdn(&self, msisdn: &str) -> Result<Option<(i64, Citizen)>, StoreError> {
        self.citizen_by_blind("msisdn", &self.vault.blind("msisdn", msisdn))
    }

    /// Citizens whose names contain every token of `query`.
    pub fn search_name(&self, query: &str, limit: usize) -> Result<Vec<(i64, Citizen)>, StoreError> {
        let bis: Vec<String> = name_tokens(query).iter().map(|t| self.vault.blind("name", t)).collect();
        if bis.is_empty() {
            return Ok(Vec::new());
        }
        self.store.citizens_by_name(&bis, limit)?.into_iter().map(|r| self.open_citizen(r)).collect()
    }

    /// Add call-detail records.
    pub fn add_cdrs(&self, cdrs: &[Cdr]) -> Result<(), StoreError> {
        let mut rows = Vec::with_capacity(cdrs.len());
        for c in cdrs {
            let id = self.store.next_cdr_id()?;
            let plain = serde_json::to_vec(c).map_err(|e| StoreError::Crypto(e.to_string()))?;
            let mut party_bis =
                vec![self.vault.blind("msisdn", &c.caller), self.vault.blind("msisdn", &c.callee)];
            party_bis.dedup();
            rows.push(CdrRow { id, party_bis, sealed: self.vault.seal(Category::Cdr, id, &plain)? });
        }
        self.store.put_cdrs(&rows)
    }

    /// CDRs of a number (as caller or callee) starting within `[from, to]`, by start time.
    pub fn cdrs_of(&self, msisdn: &str, from: i64, to: i64) -> Result<Vec<(i64, Cdr)>, StoreError> {
        let mut out = Vec::new();
        for (id, sealed) in self.store.cdrs_by_party(&self.vault.blind("msisdn", msisdn))? {
            let plain = self.vault.open(Category::Cdr, id, &sealed)?;
            let c: Cdr = serde_json::from_slice(&plain)
                .map_err(|e| StoreError::Corrupt { what: format!("cdr {id}"), reason: e.to_string() })?;
            if c.start >= from && c.start <= to {
                out.push((id, c));
            }
        }
        out.sort_by_key(|(_, c)| c.start);
        Ok(out)
    }
}
