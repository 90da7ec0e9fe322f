//! The gateway's HTTP API (axum). JSON in and out; every error is
//! `{"error": {"code", "message"}}` with its status. Every authenticated request is audited
//! exactly once, including bad input; unauthenticated ones are logged, rate-limited.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use custos_server::auth::{Authenticate, HasAuth, Principal};
use custos_server::error::{ApiError, Param};
use serde_json::{json, Value};
use utoipa::OpenApi;

use crate::service::{
    clip, new_id, BreakGlassReq, CaseReq, CdrQueryReq, Ctx, Gateway, GatewayError, IdentityLookupReq,
    NameSearchReq, WarrantReq,
};

/// Largest request body accepted.
pub const MAX_BODY: usize = 64 * 1024;

/// Router state.
#[derive(Clone)]
pub struct GwState(pub Arc<Gateway>);

impl HasAuth for GwState {
    fn auth(&self) -> &dyn Authenticate {
        self.0.as_ref()
    }
}

enum Op {
    IdentityLookup,
    CdrQuery,
    NameSearch,
    RequestApproval,
    Approve(String),
    BreakGlass,
    CloseBreakGlass(String),
    Admin(&'static str, Option<String>),
    TriageAlert(String),
    ReleaseCase(String),
}

fn to_api(e: &GatewayError) -> ApiError {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut err = ApiError::new(status, e.code(), e.to_string());
    if let GatewayError::Denied(r) = e {
        err.message = format!("denied by policy: {}", r.join(", "));
    }
    if let GatewayError::Internal(d) = e {
        tracing::error!(detail = %d, "internal error");
        err.message = "internal error".into();
    }
    err
}

fn with_reasons(e: &GatewayError, req: &str) -> Response {
    let api = to_api(e);
    let mut body = json!({ "error": { "code": api.code, "message": api.message } });
    if let GatewayError::Denied(r) = e {
        body["error"]["reasons"] = json!(r);
    }
    let mut resp = (api.status, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(req) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

/// How long an uploaded export may take (up to [`MAX_EXPORT`] bytes over a slow line).
pub const EXPORT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

/// A body of at most `limit` bytes that arrives within `within`: a client that sends its
/// headers and then trickles (or withholds) the body gets a 408, not a task held forever.
async fn read_body(
    body: Body,
    limit: usize,
    within: std::time::Duration,
) -> Result<axum::body::Bytes, GatewayError> {
    match tokio::time::timeout(within, axum::body::to_bytes(body, limit)).await {
        Ok(r) => r.map_err(|_| GatewayError::TooLarge(limit)),
        Err(_) => Err(GatewayError::TimedOut(within.as_secs())),
    }
}

async fn read_json(g: &Gateway, headers: &HeaderMap, body: Body) -> Result<Value, GatewayError> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !ct.trim().to_ascii_lowercase().starts_with("application/json") {
        return Err(GatewayError::UnsupportedMediaType);
    }
    let bytes = read_body(body, MAX_BODY, g.cfg.body_timeout).await?;
    let v: Value = serde_json::from_slice(&bytes)
        .map_err(|e| GatewayError::BadRequest("malformed_json", format!("body is not valid JSON: {e}")))?;
    if !v.is_object() {
        return Err(GatewayError::BadRequest("malformed_json", "body must be a JSON object".into()));
    }
    Ok(v)
}

async fn dispatch(
    g: &Gateway,
    p: &Principal,
    ctx: &mut Ctx,
    op: Op,
    body: &Value,
) -> Result<crate::service::Answer, GatewayError> {
    g.ensure_active(p)?;
    match op {
        Op::IdentityLookup => g.identity_lookup(p, ctx, body).await,
        Op::CdrQuery => g.cdr_query(p, ctx, body).await,
        Op::NameSearch => g.name_search(p, ctx, body).await,
        Op::RequestApproval => g.request_approval(p, ctx, body).await,
        Op::Approve(id) => g.approve(p, ctx, &id).await,
        Op::BreakGlass => g.break_glass(p, ctx, body).await,
        Op::CloseBreakGlass(id) => g.close_break_glass(p, ctx, &id, body).await,
        Op::Admin(what, id) => g.admin(p, ctx, what, id.as_deref(), body).await,
        Op::TriageAlert(id) => g.triage_alert(p, ctx, &id, body).await,
        Op::ReleaseCase(id) => g.release_case(p, ctx, &id).await,
    }
}

fn op_name(op: &Op) -> &'static str {
    match op {
        Op::IdentityLookup => "identity_lookup",
        Op::CdrQuery => "cdr_query",
        Op::NameSearch => "name_search",
        Op::RequestApproval => "approval_request",
        Op::Approve(_) => "approval_grant",
        Op::BreakGlass => "break_glass",
        Op::CloseBreakGlass(_) => "break_glass_review",
        Op::Admin(..) => "admin",
        Op::TriageAlert(_) => "alert_triage",
        Op::ReleaseCase(_) => "case_release",
    }
}

async fn handle(
    g: &Gateway,
    principal: Result<Principal, ApiError>,
    headers: &HeaderMap,
    body: Body,
    op: Op,
    needs_body: bool,
) -> Response {
    let started = std::time::Instant::now();
    let p = match principal {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let mut ctx = Ctx { req: new_id("r-"), action: op_name(&op).to_string(), ..Ctx::default() };
    let v = if needs_body {
        match read_json(g, headers, body).await {
            Ok(v) => v,
            Err(e) => {
                let e = g.fail(&p, &ctx, e).await;
                return with_reasons(&e, &ctx.req);
            }
        }
    } else {
        Value::Object(Default::default())
    };
    let resp = match dispatch(g, &p, &mut ctx, op, &v).await {
        Ok(answer) => {
            let mut body = answer.body;
            body["receipt"] = json!({
                "index": answer.receipt.index,
                "tree_size": answer.receipt.tree_size,
                "leaf_hash": custos_tlog::checkpoint::encode_hash(&answer.receipt.leaf_hash),
            });
            let mut r = (StatusCode::OK, Json(body)).into_response();
            if let Ok(h) = HeaderValue::from_str(&ctx.req) {
                r.headers_mut().insert("x-request-id", h);
            }
            r
        }
        Err(GatewayError::AuditUnavailable) => with_reasons(&GatewayError::AuditUnavailable, &ctx.req),
        Err(e) => {
            let e = g.fail(&p, &ctx, e).await;
            with_reasons(&e, &ctx.req)
        }
    };
    g.metrics.latency_us.fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
    resp
}

/// A path parameter, or the mistake in it as the gateway's bad-input error.
fn param<T>(p: Param<T>) -> Result<T, GatewayError> {
    p.0.map_err(|e| GatewayError::BadRequest(e.code, e.message))
}

/// [`handle`] for an operation on the object a path parameter names: a malformed parameter is
/// bad input, answered in JSON and audited under the operation's name.
async fn handle_on(
    g: &Gateway,
    principal: Result<Principal, ApiError>,
    headers: &HeaderMap,
    body: Body,
    id: Param<String>,
    op: impl Fn(String) -> Op,
    needs_body: bool,
) -> Response {
    match param(id) {
        Ok(id) => handle(g, principal, headers, body, op(id), needs_body).await,
        Err(e) => audited_result(g, principal, op_name(&op(String::new())), |_| Err(e)).await,
    }
}

/// Look up an identity record by NID or MSISDN (a routine check when no case is given).
#[utoipa::path(post, path = "/v1/identity/lookup", request_body = IdentityLookupReq,
    responses((status = 200, description = "`{record, receipt}` with the fields the policy allows"),
              (status = 400), (status = 401), (status = 403), (status = 404), (status = 413), (status = 415),
              (status = 422), (status = 429), (status = 503)))]
async fn identity_lookup(
    State(s): State<GwState>,
    p: Result<Principal, ApiError>,
    h: HeaderMap,
    b: Body,
) -> Response {
    handle(&s.0, p, &h, b, Op::IdentityLookup, true).await
}

/// Call-detail records of a number over a period, within the warrant's data period.
#[utoipa::path(post, path = "/v1/cdr/query", request_body = CdrQueryReq,
    responses((status = 200, description = "`{records, receipt}`"), (status = 403), (status = 422), (status = 429), (status = 503)))]
async fn cdr_query(
    State(s): State<GwState>,
    p: Result<Principal, ApiError>,
    h: HeaderMap,
    b: Body,
) -> Response {
    handle(&s.0, p, &h, b, Op::CdrQuery, true).await
}

/// Search identity records by name (needs a second officer's approval).
#[utoipa::path(post, path = "/v1/identity/search", request_body = NameSearchReq,
    responses((status = 200, description = "`{records, receipt}`"), (status = 403), (status = 503)))]
async fn name_search(
    State(s): State<GwState>,
    p: Result<Principal, ApiError>,
    h: HeaderMap,
    b: Body,
) -> Response {
    handle(&s.0, p, &h, b, Op::NameSearch, true).await
}

/// Ask for a second officer's approval of one exact request: `{action, request}`.
#[utoipa::path(post, path = "/v1/approvals", responses((status = 200, description = "`{approval, request_hash, expires}`")))]
async fn request_approval(
    State(s): State<GwState>,
    p: Result<Principal, ApiError>,
    h: HeaderMap,
    b: Body,
) -> Response {
    handle(&s.0, p, &h, b, Op::RequestApproval, true).await
}

/// Open approvals the caller may give, or asked for (without their requests). Audited.
#[utoipa::path(get, path = "/v1/approvals", responses((status = 200), (status = 403)))]
async fn approvals_list(State(s): State<GwState>, p: Result<Principal, ApiError>) -> Response {
    audited_result(&s.0, p, "view_approvals", |p| s.0.approvals_view(p)).await
}

/// What an approval vouches for: the request, opened from its seal, with its state (the
/// requester; a reviewer or a supervisor of the requester's unit). Audited.
#[utoipa::path(get, path = "/v1/approvals/{id}", params(("id" = String, Path)), responses((status = 200), (status = 403), (status = 404)))]
async fn approval_view(
    State(s): State<GwState>,
    p: Result<Principal, ApiError>,
    id: Param<String>,
) -> Response {
    audited_result_in(&s.0, p, "view_approval", |p, ctx| s.0.approval_view(p, ctx, &param(id)?)).await
}

/// Approve a request (a supervisor or reviewer other than the requester).
#[utoipa::path(post, path = "/v1/approvals/{id}/approve", params(("id" = String, Path)), responses((status = 200), (status = 403)))]
async fn approve(
    State(s): State<GwState>,
    p: Result<Principal, ApiError>,
    id: Param<String>,
    h: HeaderMap,
    b: Body,
) -> Response {
    handle_on(&s.0, p, &h, b, id, Op::Approve, false).await
}

/// Emergency access for a case with a written justification; raises an alert and opens a review.
#[utoipa::path(post, path = "/v1/break-glass", request_body = BreakGlassReq, responses((status = 200), (status = 422)))]
async fn break_glass(
    State(s): State<GwState>,
    p: Result<Principal, ApiError>,
    h: HeaderMap,
    b: Body,
) -> Response {
    handle(&s.0, p, &h, b, Op::BreakGlass, true).await
}

/// Close a break-glass review with a note (a supervisor other than the officer).
#[utoipa::path(post, path = "/v1/break-glass/{id}/close", params(("id" = String, Path)), request_body = crate::service::ReviewReq, responses((status = 200), (status = 400), (status = 403), (status = 404), (status = 422)))]
async fn close_break_glass(
    State(s): State<GwState>,
    p: Result<Principal, ApiError>,
    id: Param<String>,
    h: HeaderMap,
    b: Body,
) -> Response {
    handle_on(&s.0, p, &h, b, id, Op::CloseBreakGlass, true).await
}

/// Create or update an officer (admin).
#[utoipa::path(post, path = "/v1/admin/officers", responses((status = 200), (status = 403), (status = 422)))]
async fn admin_officer(
    State(s): State<GwState>,
    p: Result<Principal, ApiError>,
    h: HeaderMap,
    b: Body,
) -> Response {
    handle(&s.0, p, &h, b, Op::Admin("officer", None), true).await
}

/// Issue an API token for an officer (admin): `{officer, expires_in_days}`; shown once.
#[utoipa::path(post, path = "/v1/admin/tokens", request_body = crate::service::TokenReq, responses((status = 200), (status = 400), (status = 403), (status = 422)))]
async fn admin_token(
    State(s): State<GwState>,
    p: Result<Principal, ApiError>,
    h: HeaderMap,
    b: Body,
) -> Response {
    handle(&s.0, p, &h, b, Op::Admin("token", None), true).await
}

/// Revoke a token (admin).
#[utoipa::path(post, path = "/v1/admin/tokens/{id}/revoke", params(("id" = String, Path)), responses((status = 200), (status = 404)))]
async fn admin_revoke(
    State(s): State<GwState>,
    p: Result<Principal, ApiError>,
    id: Param<String>,
    h: HeaderMap,
    b: Body,
) -> Response {
    handle_on(&s.0, p, &h, b, id, |id| Op::Admin("revoke_token", Some(id)), false).await
}

/// Create or update a case (admin or supervisor).
#[utoipa::path(post, path = "/v1/admin/cases", request_body = CaseReq, responses((status = 200), (status = 403)))]
async fn admin_case(
    State(s): State<GwState>,
    p: Result<Principal, ApiError>,
    h: HeaderMap,
    b: Body,
) -> Response {
    handle(&s.0, p, &h, b, Op::Admin("case", None), true).await
}

/// Close a case (admin or supervisor).
#[utoipa::path(post, path = "/v1/admin/cases/{id}/close", params(("id" = String, Path)), responses((status = 200), (status = 404)))]
async fn admin_close_case(
    State(s): State<GwState>,
    p: Result<Principal, ApiError>,
    id: Param<String>,
    h: HeaderMap,
    b: Body,
) -> Response {
    handle_on(&s.0, p, &h, b, id, |id| Op::Admin("close_case", Some(id)), false).await
}

/// Issue a warrant (an independent reviewer).
#[utoipa::path(post, path = "/v1/warrants", request_body = WarrantReq, responses((status = 200), (status = 403), (status = 422)))]
async fn warrant(
    State(s): State<GwState>,
    p: Result<Principal, ApiError>,
    h: HeaderMap,
    b: Body,
) -> Response {
    handle(&s.0, p, &h, b, Op::Admin("warrant", None), true).await
}

/// Revoke a warrant (reviewer or admin).
#[utoipa::path(post, path = "/v1/warrants/{id}/revoke", params(("id" = String, Path)), responses((status = 200), (status = 404)))]
async fn revoke_warrant(
    State(s): State<GwState>,
    p: Result<Principal, ApiError>,
    id: Param<String>,
    h: HeaderMap,
    b: Body,
) -> Response {
    handle_on(&s.0, p, &h, b, id, |id| Op::Admin("revoke_warrant", Some(id)), false).await
}

/// Audit a read-only request and answer it (or 503 if it cannot be audited).
async fn audited_view(
    g: &Gateway,
    p: &Principal,
    action: &str,
    allowed: bool,
    body: impl FnOnce() -> Value,
) -> Response {
    let ctx = Ctx { req: new_id("r-"), action: action.to_string(), ..Ctx::default() };
    if !allowed {
        let e = g.fail(p, &ctx, GatewayError::Denied(vec!["role_not_allowed".into()])).await;
        return with_reasons(&e, &ctx.req);
    }
    let entry = g.entry(p, &ctx, "allow", vec![], vec![], 200);
    match g.audit(&entry).await {
        Ok(_) => (StatusCode::OK, Json(body())).into_response(),
        Err(e) => with_reasons(&e, &ctx.req),
    }
}

/// The alert queue, newest first, with triage states (auditors: all; supervisors: their unit).
#[utoipa::path(get, path = "/v1/alerts", responses((status = 200), (status = 401), (status = 403)))]
async fn alerts(State(s): State<GwState>, p: Result<Principal, ApiError>) -> Response {
    audited_result(&s.0, p, "view_alerts", |p| s.0.alert_queue(p)).await
}

/// Acknowledge, escalate or close an alert (as abuse or as a false positive, with a note).
#[utoipa::path(post, path = "/v1/alerts/{id}/triage", params(("id" = String, Path)), request_body = crate::oversight::TriageReq, responses((status = 200), (status = 400), (status = 403), (status = 404), (status = 422)))]
async fn triage_alert(
    State(s): State<GwState>,
    p: Result<Principal, ApiError>,
    id: Param<String>,
    h: HeaderMap,
    b: Body,
) -> Response {
    handle_on(&s.0, p, &h, b, id, Op::TriageAlert, true).await
}

/// An officer's daily activity, alerts and risk reasons (auditors; supervisors for their unit).
#[utoipa::path(get, path = "/v1/officers/{id}", params(("id" = String, Path)), responses((status = 200), (status = 403), (status = 404)))]
async fn officer_view(
    State(s): State<GwState>,
    p: Result<Principal, ApiError>,
    id: Param<String>,
) -> Response {
    audited_result(&s.0, p, "view_officer", |p| s.0.officer_view(p, &param(id)?)).await
}

/// Cases and warrants, without subjects (auditors, reviewers; supervisors for their unit).
#[utoipa::path(get, path = "/v1/cases", responses((status = 200), (status = 403)))]
async fn cases_view(State(s): State<GwState>, p: Result<Principal, ApiError>) -> Response {
    audited_result(&s.0, p, "view_cases", |p| s.0.cases_view(p)).await
}

/// Release a covert case's accesses to the citizens concerned (reviewer).
#[utoipa::path(post, path = "/v1/cases/{id}/release", params(("id" = String, Path)), responses((status = 200), (status = 403), (status = 404)))]
async fn release_case(
    State(s): State<GwState>,
    p: Result<Principal, ApiError>,
    id: Param<String>,
    h: HeaderMap,
    b: Body,
) -> Response {
    handle_on(&s.0, p, &h, b, id, Op::ReleaseCase, false).await
}

/// Who is signed in.
#[utoipa::path(get, path = "/v1/me", responses((status = 200), (status = 401)))]
async fn me(State(s): State<GwState>, p: Result<Principal, ApiError>) -> Response {
    audited_result(&s.0, p, "view_me", |p| {
        Ok(json!({"subject": p.subject, "roles": p.roles, "unit": p.unit, "admin": p.admin}))
    })
    .await
}

/// The latest checkpoint, its cosignatures and the log's key (auditors, reviewers, supervisors).
#[utoipa::path(get, path = "/v1/audit/status", responses((status = 200), (status = 403)))]
async fn audit_status(State(s): State<GwState>, p: Result<Principal, ApiError>) -> Response {
    audited_result(&s.0, p, "view_audit_status", |p| {
        oversight_role(p)?;
        Ok(s.0.log_status())
    })
    .await
}

/// Verify the whole log from its files against the signed root (auditors, admins).
#[utoipa::path(post, path = "/v1/audit/verify", responses((status = 200), (status = 403)))]
async fn audit_verify(State(s): State<GwState>, p: Result<Principal, ApiError>) -> Response {
    let g = s.0.clone();
    audited_result(&s.0, p, "verify_log", move |p| {
        if !(p.has_role("auditor") || p.has_role("admin")) {
            return Err(GatewayError::Denied(vec!["role_not_allowed".into()]));
        }
        tokio::task::block_in_place(|| g.verify_log())
    })
    .await
}

/// The transparency report (`?format=json|csv|html`): aggregates only, safe to publish.
#[utoipa::path(get, path = "/v1/transparency", responses((status = 200), (status = 403)))]
async fn transparency(
    State(s): State<GwState>,
    p: Result<Principal, ApiError>,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    let format = q.get("format").cloned().unwrap_or_else(|| "json".into());
    let g = s.0.clone();
    let report = std::sync::Mutex::new(None);
    let resp = audited_result(&s.0, p, "view_transparency", |p| {
        oversight_role(p)?;
        if !matches!(format.as_str(), "json" | "csv" | "html") {
            return Err(GatewayError::BadRequest(
                "invalid_query",
                format!("`format` must be json, csv or html, not `{}`", clip(&format)),
            ));
        }
        let t = tokio::task::block_in_place(|| g.transparency())?;
        let v = json!({
            "requests": t.requests.iter().map(|((u, c, d), n)| json!({"unit": u, "category": c, "decision": d, "count": n})).collect::<Vec<_>>(),
            "warrants": t.warrants, "alerts": t.alerts.iter().map(|(k, (r, c))| json!({"severity": k, "raised": r, "confirmed_abuse": c})).collect::<Vec<_>>(),
        });
        if let Ok(mut r) = report.lock() {
            *r = Some(t);
        }
        Ok(v)
    })
    .await;
    let t = report.lock().ok().and_then(|mut r| r.take());
    match (format.as_str(), t) {
        ("csv", Some(t)) if resp.status() == StatusCode::OK => {
            ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], t.csv()).into_response()
        }
        ("html", Some(t)) if resp.status() == StatusCode::OK => {
            ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], t.html(s.0.log().origin())).into_response()
        }
        _ => resp,
    }
}

/// Ask for a one-time code for a citizen's sign-in: `{nid}`. Open to anyone; rate-limited.
#[utoipa::path(post, path = "/v1/citizens/otp", request_body = crate::citizen::OtpReq, responses((status = 400), (status = 200), (status = 422), (status = 429)))]
async fn citizen_otp(State(s): State<GwState>, h: HeaderMap, b: Body) -> Response {
    anonymous(&s.0, &h, b, |g, v| Box::pin(async move { g.citizen_request_code(&v).await })).await
}

/// Exchange an NID and its one-time code for a citizen session: `{nid, code}`.
#[utoipa::path(post, path = "/v1/citizens/session", request_body = crate::citizen::SessionReq, responses((status = 400), (status = 200), (status = 401), (status = 422)))]
async fn citizen_session(State(s): State<GwState>, h: HeaderMap, b: Body) -> Response {
    anonymous(&s.0, &h, b, |g, v| Box::pin(async move { g.citizen_sign_in(&v).await })).await
}

/// Who looked at my data (a signed-in citizen).
#[utoipa::path(get, path = "/v1/citizens/me/accesses", responses((status = 200), (status = 401), (status = 403)))]
async fn citizen_accesses(State(s): State<GwState>, p: Result<Principal, ApiError>) -> Response {
    let g = s.0.clone();
    audited_result(&s.0, p, "citizen_view_accesses", move |p| {
        tokio::task::block_in_place(|| g.citizen_accesses(p))
    })
    .await
}

/// An inclusion proof of one of my accesses against the latest signed checkpoint.
#[utoipa::path(get, path = "/v1/citizens/me/accesses/{index}/proof", params(("index" = u64, Path)), responses((status = 200), (status = 401), (status = 404)))]
async fn citizen_proof(
    State(s): State<GwState>,
    p: Result<Principal, ApiError>,
    index: Param<u64>,
) -> Response {
    audited_result(&s.0, p, "citizen_view_proof", |p| s.0.citizen_proof(p, param(index)?)).await
}

fn oversight_role(p: &Principal) -> Result<(), GatewayError> {
    if ["auditor", "supervisor", "reviewer", "admin"].iter().any(|r| p.has_role(r)) {
        Ok(())
    } else {
        Err(GatewayError::Denied(vec!["role_not_allowed".into()]))
    }
}

type AnonFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Value, GatewayError>> + Send + 'a>>;

/// An endpoint open to anyone (citizen sign-in): JSON in, JSON out; the service audits.
async fn anonymous(
    g: &Gateway,
    headers: &HeaderMap,
    body: Body,
    f: impl for<'a> FnOnce(&'a Gateway, Value) -> AnonFuture<'a>,
) -> Response {
    let req = new_id("r-");
    let v = match read_json(g, headers, body).await {
        Ok(v) => v,
        Err(e) => return with_reasons(&e, &req),
    };
    match f(g, v).await {
        Ok(body) => (StatusCode::OK, Json(body)).into_response(),
        Err(e) => with_reasons(&e, &req),
    }
}

/// Audit a read-only request whose answer may be refused, and answer it.
async fn audited_result(
    g: &Gateway,
    p: Result<Principal, ApiError>,
    action: &str,
    f: impl FnOnce(&Principal) -> Result<Value, GatewayError>,
) -> Response {
    audited_result_in(g, p, action, |p, _| f(p)).await
}

/// [`audited_result`] for a view that fills in the entry's case, purpose and subjects (what
/// the caller was shown).
async fn audited_result_in(
    g: &Gateway,
    p: Result<Principal, ApiError>,
    action: &str,
    f: impl FnOnce(&Principal, &mut Ctx) -> Result<Value, GatewayError>,
) -> Response {
    let p = match p {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let mut ctx = Ctx { req: new_id("r-"), action: action.to_string(), ..Ctx::default() };
    match g.ensure_active(&p).and_then(|()| f(&p, &mut ctx)) {
        Ok(body) => {
            let entry = g.entry(&p, &ctx, "allow", vec![], vec![], 200);
            match g.audit(&entry).await {
                Ok(_) => {
                    let mut r = (StatusCode::OK, Json(body)).into_response();
                    if let Ok(h) = HeaderValue::from_str(&ctx.req) {
                        r.headers_mut().insert("x-request-id", h);
                    }
                    r
                }
                Err(e) => with_reasons(&e, &ctx.req),
            }
        }
        Err(e) => {
            let e = g.fail(&p, &ctx, e).await;
            with_reasons(&e, &ctx.req)
        }
    }
}

/// An officer's risk score and reasons (auditor, supervisor).
#[utoipa::path(get, path = "/v1/officers/{id}/risk", params(("id" = String, Path)), responses((status = 200), (status = 403), (status = 404)))]
async fn officer_risk(
    State(s): State<GwState>,
    p: Result<Principal, ApiError>,
    id: Param<String>,
) -> Response {
    audited_result(&s.0, p, "view_risk", |p| {
        let id = param(id)?;
        s.0.in_scope(p, &id)?;
        let risk = s.0.risk().into_iter().find(|r| r.officer == id);
        // An officer with no account and nothing in the log is not one: 404, as for the
        // officer's page. A known officer with no scored activity yet has a null risk.
        if risk.is_none() && !s.0.knows_officer(&id) {
            return Err(GatewayError::NotFound("not_found", format!("no officer `{}`", clip(&id))));
        }
        Ok(json!({ "officer": id, "risk": risk }))
    })
    .await
}

/// Open break-glass reviews (supervisor, auditor).
#[utoipa::path(get, path = "/v1/break-glass/reviews", responses((status = 200), (status = 403)))]
async fn break_glass_reviews(State(s): State<GwState>, p: Result<Principal, ApiError>) -> Response {
    audited_result(&s.0, p, "view_break_glass", |p| {
        let reviews: Vec<_> =
            s.0.break_glass_reviews().into_iter().filter(|b| s.0.in_scope(p, &b.officer).is_ok()).collect();
        Ok(json!({ "reviews": reviews }))
    })
    .await
}

/// Largest uploaded export.
pub const MAX_EXPORT: usize = 64 << 20;

/// Upload a Telegram export (JSON, HTML or text) and trace it (auditors). The finding is kept;
/// an upload with no message in it is refused (422), not kept as a finding of nothing.
#[utoipa::path(post, path = "/v1/leaks", responses((status = 200, description = "the finding, with `leak` (its ID)"), (status = 403), (status = 413), (status = 415), (status = 422, description = "no message could be read from the upload")))]
async fn upload_leak(
    State(s): State<GwState>,
    p: Result<Principal, ApiError>,
    h: HeaderMap,
    b: Body,
) -> Response {
    let p = match p {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let g = &s.0;
    let mut ctx = Ctx { req: new_id("r-"), action: "leak_trace".into(), ..Ctx::default() };
    let ct =
        h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_ascii_lowercase();
    let kind = if ct.starts_with("application/json") {
        crate::leaks::ExportKind::Json
    } else if ct.starts_with("text/html") {
        crate::leaks::ExportKind::Html
    } else if ct.starts_with("text/plain") || ct.starts_with("text/csv") {
        crate::leaks::ExportKind::Text
    } else {
        let e = g.fail(&p, &ctx, GatewayError::UnsupportedMediaType).await;
        return with_reasons(&e, &ctx.req);
    };
    let bytes = match read_body(b, MAX_EXPORT, EXPORT_TIMEOUT).await {
        Ok(b) => b,
        Err(e) => {
            let e = g.fail(&p, &ctx, e).await;
            return with_reasons(&e, &ctx.req);
        }
    };
    match g.trace_leak(&p, &mut ctx, &bytes, kind).await {
        Ok(a) => {
            let mut body = a.body;
            body["receipt"] = json!({
                "index": a.receipt.index,
                "tree_size": a.receipt.tree_size,
                "leaf_hash": custos_tlog::checkpoint::encode_hash(&a.receipt.leaf_hash),
            });
            (StatusCode::OK, Json(body)).into_response()
        }
        Err(GatewayError::AuditUnavailable) => with_reasons(&GatewayError::AuditUnavailable, &ctx.req),
        Err(e) => {
            let e = g.fail(&p, &ctx, e).await;
            with_reasons(&e, &ctx.req)
        }
    }
}

/// A kept leak finding (auditors); identifiers appear as commitments.
#[utoipa::path(get, path = "/v1/leaks/{id}", params(("id" = String, Path)), responses((status = 200), (status = 403), (status = 404)))]
async fn get_leak(State(s): State<GwState>, p: Result<Principal, ApiError>, id: Param<String>) -> Response {
    let id = match param(id) {
        Ok(id) => id,
        Err(e) => return audited_result(&s.0, p, "view_leak", |_| Err(e)).await,
    };
    let p = match p {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let ok = p.has_role("auditor") || p.has_role("admin");
    let finding = if ok { s.0.leak_finding(&id) } else { Ok(None) };
    match finding {
        Ok(Some(f)) => audited_view(&s.0, &p, "view_leak", true, move || f).await,
        Ok(None) if ok => {
            let ctx = Ctx { req: new_id("r-"), action: "view_leak".into(), ..Ctx::default() };
            let e =
                s.0.fail(&p, &ctx, GatewayError::NotFound("not_found", "no such leak finding".into())).await;
            with_reasons(&e, &ctx.req)
        }
        Ok(None) => audited_view(&s.0, &p, "view_leak", false, || json!({})).await,
        Err(e) => with_reasons(&e, "-"),
    }
}

/// Liveness.
#[utoipa::path(get, path = "/healthz", responses((status = 200), (status = 503, description = "the audit log refuses appends, so every data request is answered 503")))]
async fn healthz(State(s): State<GwState>) -> Response {
    let c = s.0.log().committed();
    // A gateway whose log refuses appends answers every data request 503 (fail-closed): it is
    // not healthy, whatever else works. The reason (paths, OS errors) stays in the server's log.
    if s.0.log().unavailable().is_some() {
        let body = json!({
            "status": "audit_unavailable",
            "message": "the audit log refuses appends; data requests are answered 503",
            "audit_log_size": c.size,
        });
        return (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
    }
    Json(json!({ "status": "ok", "audit_log_size": c.size })).into_response()
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", responses((status = 200)))]
async fn metrics(State(s): State<GwState>) -> Response {
    let m = &s.0.metrics;
    let l = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    let (conns_open, conns_refused) = custos_server::connection_counts();
    let body = format!(
        "# HELP custos_requests_total Data requests by decision.\n# TYPE custos_requests_total counter\n\
         custos_requests_total{{decision=\"allow\"}} {}\ncustos_requests_total{{decision=\"deny\"}} {}\ncustos_requests_total{{decision=\"reject\"}} {}\n\
         # HELP custos_unauthenticated_total Requests without a valid credential.\n# TYPE custos_unauthenticated_total counter\ncustos_unauthenticated_total {}\n\
         # HELP custos_audit_failures_total Audit appends that failed (each answered 503).\n# TYPE custos_audit_failures_total counter\ncustos_audit_failures_total {}\n\
         # HELP custos_request_seconds_total Time spent handling requests.\n# TYPE custos_request_seconds_total counter\ncustos_request_seconds_total {:.6}\n\
         # HELP custos_audit_log_entries Entries in the audit log.\n# TYPE custos_audit_log_entries gauge\ncustos_audit_log_entries {}\n\
         # HELP custos_audit_log_available Whether the audit log takes appends (0: every data request is answered 503).\n# TYPE custos_audit_log_available gauge\ncustos_audit_log_available {}\n\
         # HELP custos_connections_open Connections open now.\n# TYPE custos_connections_open gauge\ncustos_connections_open {}\n\
         # HELP custos_connections_refused_total Connections refused over the limits in all or per address (answered 503).\n# TYPE custos_connections_refused_total counter\ncustos_connections_refused_total {}\n",
        l(&m.allowed),
        l(&m.denied),
        l(&m.rejected),
        l(&m.unauthenticated),
        l(&m.audit_failures),
        l(&m.latency_us) as f64 / 1e6,
        s.0.log().committed().size,
        u8::from(s.0.log().unavailable().is_none()),
        conns_open,
        conns_refused,
    );
    let mut r = body.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4"));
    r
}

/// The OpenAPI document of this API, generated from the code.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Custos gateway API",
        description = "Guarded access to identity and call records; every request audited before data leaves."
    ),
    paths(
        identity_lookup,
        cdr_query,
        name_search,
        request_approval,
        approvals_list,
        approval_view,
        approve,
        break_glass,
        close_break_glass,
        admin_officer,
        admin_token,
        admin_revoke,
        admin_case,
        admin_close_case,
        warrant,
        revoke_warrant,
        alerts,
        triage_alert,
        officer_view,
        officer_risk,
        cases_view,
        release_case,
        me,
        audit_status,
        audit_verify,
        transparency,
        citizen_otp,
        citizen_session,
        citizen_accesses,
        citizen_proof,
        break_glass_reviews,
        upload_leak,
        get_leak,
        healthz,
        metrics
    ),
    components(schemas(
        IdentityLookupReq,
        CdrQueryReq,
        NameSearchReq,
        BreakGlassReq,
        CaseReq,
        WarrantReq,
        crate::service::TokenReq,
        crate::oversight::TriageReq,
        crate::service::ReviewReq,
        crate::citizen::OtpReq,
        crate::citizen::SessionReq
    ))
)]
pub struct ApiDoc;

async fn openapi() -> Response {
    Json(ApiDoc::openapi()).into_response()
}

/// An unknown endpoint: a JSON 404.
async fn not_found(State(s): State<GwState>, req: axum::extract::Request) -> Response {
    unrouted(&s, req, "unknown_endpoint", GatewayError::NotFound("not_found", "no such endpoint".into()))
        .await
}

/// A method an endpoint does not take: a JSON 405 (axum adds the `Allow` header).
async fn method_not_allowed(State(s): State<GwState>, req: axum::extract::Request) -> Response {
    unrouted(&s, req, "method_not_allowed", GatewayError::MethodNotAllowed).await
}

/// A request no route takes. From a caller who sent a credential it is bad input like any
/// other, and audited (an account probing the API for what it does not offer leaves a
/// record); without one it is answered only (it asked for nothing that exists).
async fn unrouted(s: &GwState, req: axum::extract::Request, action: &str, e: GatewayError) -> Response {
    if !req.headers().contains_key(header::AUTHORIZATION) {
        return to_api(&e).into_response();
    }
    let (mut parts, _) = req.into_parts();
    let p = <Principal as axum::extract::FromRequestParts<GwState>>::from_request_parts(&mut parts, s).await;
    audited_result(&s.0, p, action, |_| Err(e)).await
}

/// The gateway's routes.
pub fn router(g: Arc<Gateway>) -> Router {
    Gateway::serve_from(&g);
    Router::new()
        .route("/v1/identity/lookup", post(identity_lookup))
        .route("/v1/identity/search", post(name_search))
        .route("/v1/cdr/query", post(cdr_query))
        .route("/v1/approvals", post(request_approval).get(approvals_list))
        .route("/v1/approvals/{id}", get(approval_view))
        .route("/v1/approvals/{id}/approve", post(approve))
        .route("/v1/break-glass", post(break_glass))
        .route("/v1/break-glass/reviews", get(break_glass_reviews))
        .route("/v1/break-glass/{id}/close", post(close_break_glass))
        .route("/v1/admin/officers", post(admin_officer))
        .route("/v1/admin/tokens", post(admin_token))
        .route("/v1/admin/tokens/{id}/revoke", post(admin_revoke))
        .route("/v1/admin/cases", post(admin_case))
        .route("/v1/admin/cases/{id}/close", post(admin_close_case))
        .route("/v1/warrants", post(warrant))
        .route("/v1/warrants/{id}/revoke", post(revoke_warrant))
        .route("/v1/leaks", post(upload_leak).layer(axum::extract::DefaultBodyLimit::max(MAX_EXPORT)))
        .route("/v1/leaks/{id}", get(get_leak))
        .route("/v1/alerts", get(alerts))
        .route("/v1/alerts/{id}/triage", post(triage_alert))
        .route("/v1/officers/{id}", get(officer_view))
        .route("/v1/officers/{id}/risk", get(officer_risk))
        .route("/v1/cases", get(cases_view))
        .route("/v1/cases/{id}/release", post(release_case))
        .route("/v1/me", get(me))
        .route("/v1/audit/status", get(audit_status))
        .route("/v1/audit/verify", post(audit_verify))
        .route("/v1/transparency", get(transparency))
        .route("/v1/citizens/otp", post(citizen_otp))
        .route("/v1/citizens/session", post(citizen_session))
        .route("/v1/citizens/me/accesses", get(citizen_accesses))
        .route("/v1/citizens/me/accesses/{index}/proof", get(citizen_proof))
        .route("/", get(crate::ui::dashboard))
        .route("/citizen", get(crate::ui::citizen))
        .route("/ui/{file}", get(crate::ui::asset))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY * 2))
        .layer(axum::middleware::map_response(private_answers))
        .with_state(GwState(g))
}

/// The API's answers carry citizens' records, credentials and findings: no cache (a browser's,
/// a proxy's) may keep them, and no browser may read them as another type. An answer that sets
/// its own policy (the dashboard's assets) keeps it.
async fn private_answers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    h.entry(header::X_CONTENT_TYPE_OPTIONS).or_insert(HeaderValue::from_static("nosniff"));
    r
}
