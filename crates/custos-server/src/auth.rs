//! Authentication: bearer tokens resolved once per request into a [`Principal`].
//!
//! Tokens are `cst_` followed by 43 base64url characters (256 random bits); only their SHA-256
//! is ever stored. Who resolves them is pluggable ([`Authenticate`]): the gateway resolves
//! them against its records store; [`TokenStore`] is a small file-backed implementation for a
//! log served without a gateway, and for tests.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Credential (token) ID.
    pub cred_id: String,
    /// Officer ID, or `admin` for an admin credential.
    pub subject: String,
    /// An admin credential (separate from officer credentials).
    pub admin: bool,
    /// The officer's roles (empty for admin credentials).
    pub roles: Vec<String>,
    /// The officer's unit.
    pub unit: String,
    /// The address the request came from, where the accept loop gave it (set by the
    /// extractor; `None` for principals made outside a request).
    pub client: Option<IpAddr>,
}

impl Principal {
    /// Whether the caller has a role (admin credentials have `admin`).
    pub fn has_role(&self, role: &str) -> bool {
        (self.admin && role == "admin") || self.roles.iter().any(|r| r == role)
    }
}

/// Resolves presented tokens.
pub trait Authenticate: Send + Sync {
    /// The principal of a valid (known, unexpired, unrevoked) token.
    fn authenticate(&self, token: &str) -> Option<Principal>;
    /// Called for a request without a valid credential (for rate-limited audit logging), with
    /// the client's address where the accept loop gave it.
    fn unauthenticated(&self, _path: &str, _reason: &str, _client: Option<IpAddr>) {}
    /// Called for a valid credential refused because the connection's client certificate does
    /// not vouch for it (see [`PeerCertificate`]): by default as any unauthenticated attempt.
    /// Someone else may hold the token, so an implementation may log it under its officer.
    fn refused_certificate(&self, _p: &Principal, path: &str, reason: &str, client: Option<IpAddr>) {
        self.unauthenticated(path, reason, client);
    }
}

/// Anything that can authenticate (router states).
pub trait HasAuth {
    /// The authenticator.
    fn auth(&self) -> &dyn Authenticate;
}

/// SHA-256 of a token, hex.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Lowercase hexadecimal of some bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// Make a new random token.
pub fn new_token() -> Result<String, String> {
    let raw = custos_logstore::random_bytes::<32>().map_err(|e| e.to_string())?;
    Ok(format!("cst_{}", URL_SAFE_NO_PAD.encode(raw)))
}

/// Seconds since the Unix epoch.
pub fn now_unix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn bearer(parts: &Parts) -> Result<&str, &'static str> {
    let mut all = parts.headers.get_all(axum::http::header::AUTHORIZATION).iter();
    let header = all.next().ok_or("an `Authorization: Bearer` credential is required")?;
    // Two credentials in one request: which one acts is ambiguous, so neither does.
    if all.next().is_some() {
        return Err("a request carries one Authorization header, not several");
    }
    // The scheme name is case-insensitive (RFC 9110 §11.1); the token follows one or more spaces.
    let h = header.to_str().map_err(|_| "the Authorization header must be `Bearer <token>`")?;
    match h.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Ok(token.trim())
        }
        _ => Err("the Authorization header must be `Bearer <token>`"),
    }
}

/// The client certificate of the connection a request came on, on a server that binds
/// credentials to certificates (HTTPS with `--tls-client-ca`): the common names of its subject,
/// or `None` when the client presented none. A request without this extension came to a server
/// that does not bind them.
///
/// On such a server an officer's or admin's token is accepted only over a connection whose
/// certificate (verified against the officers' CA during the handshake) names that officer (or
/// `admin`): a token copied off a workstation is useless without the workstation's key. Citizen
/// sessions, which come from citizens' own devices, are not bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerCertificate(pub Option<Arc<[String]>>);

impl PeerCertificate {
    /// Whether this certificate vouches for `p`: it names `p`'s subject, or `p` is a citizen's
    /// session (subject `citizen`, an ID no officer may take, with that role alone).
    pub fn vouches_for(&self, p: &Principal) -> bool {
        let citizen = !p.admin && p.subject == "citizen" && p.roles.len() == 1 && p.has_role("citizen");
        citizen || self.0.as_deref().is_some_and(|names| names.contains(&p.subject))
    }
}

impl<S: HasAuth + Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let path = parts.uri.path().to_string();
        let client = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        let token = match bearer(parts) {
            Ok(t) => t,
            Err(why) => {
                state.auth().unauthenticated(&path, "no credential", client);
                return Err(ApiError::unauthenticated(why));
            }
        };
        let Some(p) = state.auth().authenticate(token) else {
            state.auth().unauthenticated(&path, "unknown, expired or revoked credential", client);
            return Err(ApiError::unauthenticated("the credential is unknown, expired or revoked"));
        };
        let p = Principal { client, ..p };
        if let Some(cert) = parts.extensions.get::<PeerCertificate>() {
            if !cert.vouches_for(&p) {
                let why = match &cert.0 {
                    None => format!(
                        "the credential of `{}` came without a client certificate (this server binds credentials to certificates)",
                        p.subject
                    ),
                    Some(names) => format!(
                        "the credential of `{}` came with a client certificate naming {:?}, not them",
                        p.subject, names
                    ),
                };
                state.auth().refused_certificate(&p, &path, &why, client);
                return Err(ApiError::unauthenticated(why));
            }
        }
        Ok(p)
    }
}

/// Roles of a file-backed credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Administration.
    Admin,
    /// Reads the audit log.
    Auditor,
    /// Any officer; no access to audit entries.
    Officer,
}

/// One file-backed credential (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    /// Token ID: first 8 bytes of SHA-256(token), hex.
    pub id: String,
    /// SHA-256(token), hex.
    pub sha256: String,
    /// Role.
    pub role: Role,
    /// Holder.
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

/// A file-backed credential store (`DIR/auth.json`).
#[derive(Debug, Clone)]
pub struct TokenStore {
    path: PathBuf,
    creds: Arc<RwLock<Vec<Credential>>>,
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

    /// Issue a token; returns it (shown once) and its stored credential.
    pub fn issue(
        &self,
        role: Role,
        subject: &str,
        expires: Option<u64>,
    ) -> Result<(String, Credential), AuthError> {
        let err = |reason: String| AuthError::File { path: self.path.clone(), reason };
        let token = new_token().map_err(err)?;
        let sha = token_hash(&token);
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
        let bytes = serde_json::to_vec_pretty(&*all).map_err(|e| err(e.to_string()))?;
        custos_logstore::atomic_write(&self.path, &bytes, true).map_err(|e| err(e.to_string()))?;
        Ok((token, cred))
    }
}

impl Authenticate for TokenStore {
    fn authenticate(&self, token: &str) -> Option<Principal> {
        if !token.starts_with("cst_") || token.len() > 128 {
            return None;
        }
        let sha = token_hash(token);
        let now = now_unix();
        let all = self.creds.read().unwrap_or_else(|p| p.into_inner());
        let c = all
            .iter()
            .find(|c| c.sha256 == sha)
            .filter(|c| !c.revoked && c.expires.is_none_or(|e| now < e))?;
        let roles = match c.role {
            Role::Admin => vec![],
            Role::Auditor => vec!["auditor".to_string()],
            Role::Officer => vec!["investigator".to_string()],
        };
        Some(Principal {
            cred_id: c.id.clone(),
            subject: c.subject.clone(),
            admin: c.role == Role::Admin,
            roles,
            unit: String::new(),
            client: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_vouches_for_whom_it_names_and_citizens_need_none() {
        let p = |subject: &str, roles: &[&str]| Principal {
            cred_id: "c".into(),
            subject: subject.into(),
            admin: subject == "admin",
            roles: roles.iter().map(|r| r.to_string()).collect(),
            unit: String::new(),
            client: None,
        };
        let names = PeerCertificate(Some(Arc::from(vec!["inv1".to_string(), "Inv 1".to_string()])));
        let none = PeerCertificate(None);
        assert!(names.vouches_for(&p("inv1", &["investigator"])));
        assert!(!names.vouches_for(&p("inv2", &["investigator"])));
        assert!(!names.vouches_for(&p("INV1", &["investigator"])));
        assert!(!names.vouches_for(&p("admin", &[])));
        assert!(!none.vouches_for(&p("inv1", &["investigator"])));
        assert!(none.vouches_for(&p("citizen", &["citizen"])));
        // A role alone does not make a citizen's session.
        assert!(!none.vouches_for(&p("inv1", &["citizen"])));
        assert!(!none.vouches_for(&p("citizen", &["citizen", "auditor"])));
    }

    #[test]
    fn token_hashes_are_lowercase_hex_sha256() {
        assert_eq!(hex(&[0x00, 0x0f, 0xab, 0xff]), "000fabff");
        assert_eq!(hex(&[]), "");
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(token_hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    fn parts(headers: &[&str]) -> Parts {
        let mut b = axum::http::Request::builder().uri("/v1/me");
        for h in headers {
            b = b.header(axum::http::header::AUTHORIZATION, *h);
        }
        b.body(()).unwrap().into_parts().0
    }

    #[test]
    fn bearer_tokens_are_read_with_any_case_of_scheme_and_only_alone() {
        for h in ["Bearer cst_x", "bearer cst_x", "BEARER   cst_x ", "Bearer cst_x\t"] {
            assert_eq!(bearer(&parts(&[h])), Ok("cst_x"), "{h:?}");
        }
        for h in ["Token cst_x", "Bearer", "Bearer   ", "Bearercst_x", "Basic Y3N0X3g="] {
            assert!(bearer(&parts(&[h])).is_err(), "{h:?}");
        }
        assert!(bearer(&parts(&[])).is_err());
        let two = parts(&["Bearer cst_x", "Bearer cst_y"]);
        assert_eq!(bearer(&two), Err("a request carries one Authorization header, not several"));
    }
}
