//! The browser pages: the oversight dashboard (`/`) and the citizens' report (`/citizen`).
//! Plain HTML, CSS and JavaScript embedded in the binary — no CDN, no build step, works
//! offline — served with a strict Content-Security-Policy (scripts and styles only from this
//! origin, no inline code, no framing).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use custos_server::error::Param;

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

fn page(body: &'static str, content_type: &'static str) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// `GET /`: the oversight dashboard.
pub async fn dashboard() -> Response {
    page(include_str!("../ui/dashboard.html"), "text/html; charset=utf-8")
}

/// `GET /citizen`: who looked at my data.
pub async fn citizen() -> Response {
    page(include_str!("../ui/citizen.html"), "text/html; charset=utf-8")
}

/// `GET /ui/{file}`: the pages' scripts and style sheet.
pub async fn asset(Param(file): Param<String>) -> Response {
    let file = match file {
        Ok(file) => file,
        Err(e) => return e.into_response(),
    };
    match file.as_str() {
        "app.js" => page(include_str!("../ui/app.js"), "text/javascript; charset=utf-8"),
        "citizen.js" => page(include_str!("../ui/citizen.js"), "text/javascript; charset=utf-8"),
        "common.js" => page(include_str!("../ui/common.js"), "text/javascript; charset=utf-8"),
        "style.css" => page(include_str!("../ui/style.css"), "text/css; charset=utf-8"),
        _ => custos_server::error::ApiError::not_found("no such file").into_response(),
    }
}
