//! Encryption at rest and blind indexes.
//!
//! - A key-encryption key (KEK) — a 32-byte key file made by `custos init`, or derived from a
//!   passphrase with Argon2id — wraps the data keys; an external KMS can stand in through
//!   [`KeyWrapper`].
//! - Data keys: one per category (`identity`, `cdr`), one for blind indexes, one for audit
//!   commitments. They are generated at init, stored only wrapped (XChaCha20-Poly1305).
//! - Every record is sealed with XChaCha20-Poly1305 under its category's key; the associated
//!   data binds the ciphertext to its record ID and category, so a ciphertext moved to another
//!   row or category does not open.
//! - Blind indexes: `HMAC-SHA256(blind key, kind ‖ 0 ‖ normalised value)`. The database only
//!   ever sees these, never an identifier or a name.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::StoreError;

/// Wraps and unwraps data keys (a local KEK, or an external KMS).
pub trait KeyWrapper: Send + Sync {
    /// Wrap a data key.
    fn wrap(&self, name: &str, key: &[u8; 32]) -> Result<Vec<u8>, StoreError>;
    /// Unwrap a data key.
    fn unwrap_key(&self, name: &str, wrapped: &[u8]) -> Result<[u8; 32], StoreError>;
}

/// A local key-encryption key.
pub struct LocalKek([u8; 32]);

impl std::fmt::Debug for LocalKek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LocalKek(..)")
    }
}

/// Random bytes from the OS.
pub fn random<const N: usize>() -> Result<[u8; N], StoreError> {
    let mut b = [0u8; N];
    getrandom::getrandom(&mut b).map_err(|e| StoreError::Crypto(format!("no randomness: {e}")))?;
    Ok(b)
}

impl LocalKek {
    /// A KEK from 32 key bytes.
    pub fn from_bytes(k: [u8; 32]) -> Self {
        Self(k)
    }

    /// A fresh random KEK.
    pub fn generate() -> Result<Self, StoreError> {
        Ok(Self(random()?))
    }

    /// The key bytes (to write the key file).
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Derive a KEK from a passphrase with Argon2id and a 16-byte salt.
    pub fn from_passphrase(pass: &[u8], salt: &[u8; 16]) -> Result<Self, StoreError> {
        let mut out = [0u8; 32];
        argon2::Argon2::default()
            .hash_password_into(pass, salt, &mut out)
            .map_err(|e| StoreError::Crypto(format!("argon2: {e}")))?;
        Ok(Self(out))
    }
}

fn seal(key: &[u8; 32], ad: &[u8], plain: &[u8]) -> Result<Vec<u8>, StoreError> {
    let cipher = XChaCha20Poly1305::new(key.into());
    let nonce: [u8; 24] = random()?;
    let ct = cipher
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad: ad })
        .map_err(|_| StoreError::Crypto("encryption failed".into()))?;
    let mut out = Vec::with_capacity(24 + ct.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

fn open(key: &[u8; 32], ad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, StoreError> {
    if sealed.len() < 24 + 16 {
        return Err(StoreError::Crypto("ciphertext too short".into()));
    }
    let cipher = XChaCha20Poly1305::new(key.into());
    cipher
        .decrypt(XNonce::from_slice(&sealed[..24]), Payload { msg: &sealed[24..], aad: ad })
        .map_err(|_| StoreError::Crypto("ciphertext does not open: wrong key, or moved or altered".into()))
}

impl KeyWrapper for LocalKek {
    fn wrap(&self, name: &str, key: &[u8; 32]) -> Result<Vec<u8>, StoreError> {
        seal(&self.0, format!("custos-data-key:{name}").as_bytes(), key)
    }

    fn unwrap_key(&self, name: &str, wrapped: &[u8]) -> Result<[u8; 32], StoreError> {
        let k = open(&self.0, format!("custos-data-key:{name}").as_bytes(), wrapped).map_err(|_| {
            StoreError::Crypto(format!("data key `{name}` does not unwrap: wrong key-encryption key?"))
        })?;
        k.try_into().map_err(|_| StoreError::Crypto(format!("data key `{name}` has the wrong length")))
    }
}

/// The data keys, unwrapped in memory.
#[derive(Clone)]
pub struct Vault {
    identity: [u8; 32],
    cdr: [u8; 32],
    blind: [u8; 32],
    audit: [u8; 32],
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(..)")
    }
}

/// Record categories with their own data key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// Identity records.
    Identity,
    /// Call-detail records.
    Cdr,
}

impl Category {
    fn as_str(self) -> &'static str {
        match self {
            Category::Identity => "identity",
            Category::Cdr => "cdr",
        }
    }
}

const KEY_NAMES: [&str; 4] = ["identity", "cdr", "blind", "audit"];

/// Data keys in wrapped form, by name.
pub type WrappedKeys = Vec<(String, Vec<u8>)>;

impl Vault {
    /// Generate fresh data keys and return them with their wrapped forms.
    pub fn generate(wrapper: &dyn KeyWrapper) -> Result<(Self, WrappedKeys), StoreError> {
        let vault = Self { identity: random()?, cdr: random()?, blind: random()?, audit: random()? };
        let wrapped = vault.wrap_all(wrapper)?;
        Ok((vault, wrapped))
    }

    /// Unwrap stored data keys.
    pub fn unwrap_all(wrapper: &dyn KeyWrapper, wrapped: &[(String, Vec<u8>)]) -> Result<Self, StoreError> {
        let get = |n: &str| -> Result<[u8; 32], StoreError> {
            let w = wrapped
                .iter()
                .find(|(k, _)| k == n)
                .ok_or_else(|| StoreError::Crypto(format!("data key `{n}` missing")))?;
            wrapper.unwrap_key(n, &w.1)
        };
        Ok(Self { identity: get("identity")?, cdr: get("cdr")?, blind: get("blind")?, audit: get("audit")? })
    }

    /// The data keys wrapped under `wrapper` (to rotate the key-encryption key).
    pub fn wrap_all(&self, wrapper: &dyn KeyWrapper) -> Result<WrappedKeys, StoreError> {
        let keys = [&self.identity, &self.cdr, &self.blind, &self.audit];
        KEY_NAMES.iter().zip(keys).map(|(n, k)| wrapper.wrap(n, k).map(|w| (n.to_string(), w))).collect()
    }

    /// Whether two vaults hold the same data keys.
    pub fn same_keys(&self, other: &Vault) -> bool {
        self.identity == other.identity
            && self.cdr == other.cdr
            && self.blind == other.blind
            && self.audit == other.audit
    }

    fn key(&self, c: Category) -> &[u8; 32] {
        match c {
            Category::Identity => &self.identity,
            Category::Cdr => &self.cdr,
        }
    }

    /// Seal a record's bytes, bound to its ID and category.
    pub fn seal(&self, c: Category, record_id: i64, plain: &[u8]) -> Result<Vec<u8>, StoreError> {
        seal(self.key(c), format!("{}:{record_id}", c.as_str()).as_bytes(), plain)
    }

    /// Open a record's bytes.
    pub fn open(&self, c: Category, record_id: i64, sealed: &[u8]) -> Result<Vec<u8>, StoreError> {
        open(self.key(c), format!("{}:{record_id}", c.as_str()).as_bytes(), sealed)
    }

    /// Seal bytes that belong to something other than a numbered record (the request an
    /// approval vouches for), bound to its category and `label` (`approval:ap-…`). The
    /// associated data is `category#label`, where a record's is `category:id`, so no such
    /// ciphertext opens as a record's and no record's as one.
    pub fn seal_labelled(&self, c: Category, label: &str, plain: &[u8]) -> Result<Vec<u8>, StoreError> {
        seal(self.key(c), format!("{}#{label}", c.as_str()).as_bytes(), plain)
    }

    /// Open bytes sealed by [`Vault::seal_labelled`] under the same category and label.
    pub fn open_labelled(&self, c: Category, label: &str, sealed: &[u8]) -> Result<Vec<u8>, StoreError> {
        open(self.key(c), format!("{}#{label}", c.as_str()).as_bytes(), sealed)
    }

    /// Blind index of an identifier or a name token of some kind (`nid`, `msisdn`, `name`). An
    /// old 17-digit NID has the index of its 13 digits (the same holder: see
    /// [`custos_detect::input::canonical_nid`]), so lookups, warrants, case links and audit
    /// commitments meet whichever form was written.
    pub fn blind(&self, kind: &str, value: &str) -> String {
        let value = if kind == "nid" { custos_detect::input::canonical_nid(value) } else { value };
        B64.encode(hmac(&self.blind, &[kind.as_bytes(), &[0], value.as_bytes()]))
    }

    /// Keyed commitment of a value for the audit log (HMAC under the audit key).
    pub fn commit(&self, value: &str) -> String {
        let d = hmac(&self.audit, &[value.as_bytes()]);
        format!("c:{}", B64.encode(&d[..16]))
    }
}

/// HMAC-SHA256 over the concatenated parts. (HMAC takes keys of any length, so the key is
/// always accepted.)
fn hmac(key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
    match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(mut m) => {
            for p in parts {
                m.update(p);
            }
            m.finalize().into_bytes().into()
        }
        Err(_) => [0; 32],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_binds_record_and_category() {
        let kek = LocalKek::from_bytes([1; 32]);
        let (v, wrapped) = Vault::generate(&kek).unwrap();
        let sealed = v.seal(Category::Identity, 7, b"secret").unwrap();
        assert_eq!(v.open(Category::Identity, 7, &sealed).unwrap(), b"secret");
        assert!(v.open(Category::Identity, 8, &sealed).is_err());
        assert!(v.open(Category::Cdr, 7, &sealed).is_err());
        let v2 = Vault::unwrap_all(&kek, &wrapped).unwrap();
        assert_eq!(v2.open(Category::Identity, 7, &sealed).unwrap(), b"secret");
        assert!(Vault::unwrap_all(&LocalKek::from_bytes([2; 32]), &wrapped).is_err());
        assert_eq!(v.blind("nid", "123"), v2.blind("nid", "123"));
        assert_ne!(v.blind("nid", "123"), v.blind("msisdn", "123"));
        // An old 17-digit NID is its holder's birth year and 13-digit number: one index.
        assert_eq!(v.blind("nid", "19871234567890123"), v.blind("nid", "1234567890123"));
        assert_ne!(v.blind("msisdn", "19871234567890123"), v.blind("msisdn", "1234567890123"));
    }

    #[test]
    fn labelled_seals_open_only_under_their_label_and_never_as_records() {
        let (v, _) = Vault::generate(&LocalKek::from_bytes([3; 32])).unwrap();
        let sealed = v.seal_labelled(Category::Identity, "approval:ap-1", b"request").unwrap();
        assert_eq!(v.open_labelled(Category::Identity, "approval:ap-1", &sealed).unwrap(), b"request");
        assert!(v.open_labelled(Category::Identity, "approval:ap-2", &sealed).is_err());
        assert!(v.open_labelled(Category::Cdr, "approval:ap-1", &sealed).is_err());
        // A label that looks like a record ID still does not cross over, either way.
        let as_label = v.seal_labelled(Category::Identity, "7", b"x").unwrap();
        assert!(v.open(Category::Identity, 7, &as_label).is_err());
        let record = v.seal(Category::Identity, 7, b"x").unwrap();
        assert!(v.open_labelled(Category::Identity, "7", &record).is_err());
    }
}
