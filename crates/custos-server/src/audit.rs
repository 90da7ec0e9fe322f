//! The audit log over HTTP, on the C2SP `tlog-tiles` paths under `/audit/`:
//!
//! - `GET /audit/checkpoint`: the latest published checkpoint (with witness cosignatures when
//!   witnesses are configured), `text/plain; charset=utf-8`, not cached.
//! - `GET /audit/tile/<L>/<N>[.p/<W>]`: hash tiles; public (they reveal only hashes).
//! - `GET /audit/tile/entries/<N>[.p/<W>]`: entry bundles; they say who did what, so only a
//!   credential with the auditor or admin role may read them.
//!
//! Full tiles are immutable and cached for a year; partial tiles briefly. A tile that does
//! not exist (yet) is 404; a malformed path is 400.

use std::sync::{Arc, RwLock};

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use custos_logstore::LogStore;
use custos_tlog::tile::{Tile, TileKind};

use crate::auth::{Authenticate, HasAuth, Principal};
use crate::error::{ApiError, Param};

/// Shared state of the audit routes.
#[derive(Clone)]
pub struct AuditState {
    /// The log.
    pub log: LogStore,
    /// Who resolves credentials.
    pub auth: Arc<dyn Authenticate>,
    /// The latest checkpoint published with cosignatures, if witnesses are configured.
    pub published: Arc<RwLock<Option<String>>>,
}

impl HasAuth for AuditState {
    fn auth(&self) -> &dyn Authenticate {
        self.auth.as_ref()
    }
}

/// The `/audit/…` routes.
pub fn router(state: AuditState) -> Router {
    Router::new()
        .route("/audit/checkpoint", get(checkpoint))
        .route("/audit/tile/{*rest}", get(tile))
        .method_not_allowed_fallback(crate::error::method_not_allowed)
        .with_state(state)
}

fn text(body: String, cache: &'static str, content_type: &'static str) -> Response {
    let mut r = body.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    r
}

async fn checkpoint(State(s): State<AuditState>) -> Response {
    let published = s.published.read().map(|p| p.clone()).unwrap_or_else(|p| p.into_inner().clone());
    let body = published.unwrap_or_else(|| s.log.committed().checkpoint);
    text(body, "no-store", "text/plain; charset=utf-8")
}

async fn tile(
    State(s): State<AuditState>,
    Param(rest): Param<String>,
    principal: Result<Principal, ApiError>,
) -> Result<Response, ApiError> {
    let path = format!("tile/{}", rest?);
    let t = Tile::parse(&path).map_err(|e| ApiError::bad_request("bad_tile_path", e.to_string()))?;
    if t.kind == TileKind::Entries {
        let p = principal?;
        if !(p.has_role("auditor") || p.has_role("admin")) {
            return Err(ApiError::forbidden(
                "role_not_allowed",
                "entry bundles are served only to the auditor and admin roles",
            ));
        }
    }
    let log = s.log.clone();
    let bytes = tokio::task::spawn_blocking(move || log.tile(&t))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found(format!("`{path}` does not exist in the current tree")))?;
    let cache = if t.is_full() { "public, max-age=31536000, immutable" } else { "public, max-age=60" };
    let mut r = (StatusCode::OK, bytes).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    Ok(r)
}
