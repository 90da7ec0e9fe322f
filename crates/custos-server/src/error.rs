//! The single HTTP error boundary: every failure becomes a status and
//! `{"error": {"code": "…", "message": "…"}}`. Client mistakes are logged at debug level,
//! server faults at error level with their detail (the client gets a safe message).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// An error to send to an HTTP client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// Human-readable message, safe to show to the client.
    pub message: String,
}

impl ApiError {
    /// A new error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into() }
    }

    /// 400 malformed input.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 401 missing or invalid credential.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
    }

    /// 403 authenticated but not allowed.
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    /// 404 no such resource.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 503: the audit log cannot take entries, so nothing is served (fail-closed).
    pub fn audit_unavailable(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "audit log unavailable");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "audit_unavailable",
            "the audit log is unavailable; no data is served",
        )
    }

    /// 500 with the detail logged, not sent.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_client_error() {
            tracing::debug!(status = %self.status, code = self.code, message = %self.message, "client error");
        }
        let body = serde_json::json!({"error": {"code": self.code, "message": self.message}});
        (self.status, Json(body)).into_response()
    }
}

/// The answer to a method a route does not take (axum keeps the `Allow` header listing the
/// ones it does): JSON like every other error, not an empty body.
pub async fn method_not_allowed() -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take that method; the `Allow` header lists those it takes",
    )
    .into_response()
}

/// A path parameter, or the client's mistake in it (not UTF-8 once percent-decoded, not a
/// number where one is due) as a 400 [`ApiError`] in JSON, never axum's plain-text rejection.
/// It never rejects the request itself, so a handler that audits bad input (the gateway
/// writes one audit entry for every authenticated request) audits this mistake too.
#[derive(Debug)]
pub struct Param<T>(pub Result<T, ApiError>);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> axum::extract::FromRequestParts<S> for Param<T> {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let got = axum::extract::Path::<T>::from_request_parts(parts, state).await;
        Ok(Self(got.map(|axum::extract::Path(v)| v).map_err(|e| {
            // axum words it "Invalid URL: Cannot parse `-1` to a `u64`".
            let text = e.body_text();
            let detail = text.strip_prefix("Invalid URL: ").unwrap_or(&text);
            let mut chars = detail.chars();
            let detail: String =
                chars.next().map(|c| c.to_lowercase().chain(chars).collect()).unwrap_or_default();
            ApiError::bad_request("invalid_path", format!("malformed path parameter: {detail}"))
        })))
    }
}
