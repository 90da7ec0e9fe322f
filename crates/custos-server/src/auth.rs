//! Bearer-token credentials.
//!
//! Tokens are `cst_` followed by 43 base64url characters (256 random bits). Only their
//! SHA-256 is stored (`DIR/auth.json`), with an ID (the first 8 bytes of the hash, hex), a
//! role, a subject and an optional expiry. The first admin credential is written by
//! `custos init` to `DIR/admin.token` (mode 0600).
//!
//! The principal is resolved once per request by the [`Principal`] extractor, before any
//! handler code runs.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// Roles a credential can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Full administration.
    Admin,
    /// Reads the audit log and alerts.
    Auditor,
    /// Any other officer role (investigator, analyst, …); no access to audit entries.
    Officer,
}

/// One stored credential (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    /// Token ID: first 8 bytes of SHA-256(token), hex.
    pub id: String,
    /// SHA-256(token), hex.
    pub sha256: String,
    /// Role.
    pub role: Role,
    /// Who holds it (officer ID or `admin`).
    pub subject: String,
    /// Unix seconds after which it is refused, if any.
    pub expires: Option<u64>,
    /// Revoked credentials are refused.
    pub revoked: bool,
}

/// Errors of the credential file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// Reading or writing the credential file failed.
    #[error("credential file `{path}`: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// The credential store, loaded from `DIR/auth.json`.
#[derive(Debug, Clone)]
pub struct TokenStore {
    path: PathBuf,
    creds: Arc<RwLock<Vec<Credential>>>,
}

fn hash_hex(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Make a new random token.
pub fn new_token() -> Result<String, AuthError> {
    let raw = custos_logstore::random_bytes::<32>()
        .map_err(|e| AuthError::File { path: PathBuf::new(), reason: e.to_string() })?;
    Ok(format!("cst_{}", URL_SAFE_NO_PAD.encode(raw)))
}

impl TokenStore {
    /// Load (or start empty if the file does not exist).
    pub fn load(data_dir: &Path) -> Result<Self, AuthError> {
        let path = data_dir.join("auth.json");
        let creds = match std::fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b)
                .map_err(|e| AuthError::File { path: path.clone(), reason: e.to_string() })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(AuthError::File { path, reason: e.to_string() }),
        };
        Ok(Self { path, creds: Arc::new(RwLock::new(creds)) })
    }

    /// Issue a new token for `subject` with `role`; returns the token (shown once).
    pub fn issue(
        &self,
        role: Role,
        subject: &str,
        expires: Option<u64>,
    ) -> Result<(String, Credential), AuthError> {
        let token = new_token()?;
        let sha = hash_hex(&token);
        let cred = Credential {
            id: sha[..16].to_string(),
            sha256: sha,
            role,
            subject: subject.to_string(),
            expires,
            revoked: false,
        };
        let mut all = self.creds.write().unwrap_or_else(|p| p.into_inner());
        all.push(cred.clone());
        let bytes = serde_json::to_vec_pretty(&*all)
            .map_err(|e| AuthError::File { path: self.path.clone(), reason: e.to_string() })?;
        custos_logstore::atomic_write(&self.path, &bytes, true)
            .map_err(|e| AuthError::File { path: self.path.clone(), reason: e.to_string() })?;
        Ok((token, cred))
    }

    /// Resolve a presented token to its credential, if valid now.
    pub fn resolve(&self, token: &str, now: u64) -> Option<Credential> {
        if !token.starts_with("cst_") || token.len() > 128 {
            return None;
        }
        let sha = hash_hex(token);
        let all = self.creds.read().unwrap_or_else(|p| p.into_inner());
        all.iter()
            .find(|c| c.sha256 == sha)
            .filter(|c| !c.revoked && c.expires.is_none_or(|e| now < e))
            .cloned()
    }
}

/// Anything that holds a token store (router states).
pub trait HasTokens {
    /// The token store.
    fn tokens(&self) -> &TokenStore;
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Principal(pub Credential);

/// Seconds since the Unix epoch.
pub fn now_unix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl<S: HasTokens + Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthenticated("an `Authorization: Bearer` credential is required"))?;
        let token =
            header.to_str().ok().and_then(|h| h.strip_prefix("Bearer ")).ok_or_else(|| {
                ApiError::unauthenticated("the Authorization header must be `Bearer <token>`")
            })?;
        state
            .tokens()
            .resolve(token.trim(), now_unix())
            .map(Principal)
            .ok_or_else(|| ApiError::unauthenticated("the credential is unknown, expired or revoked"))
    }
}
