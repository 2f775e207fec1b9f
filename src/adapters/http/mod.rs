//! The panel API (axum, in the daemon, on `panel.listen`): bearer tokens checked against the
//! tokens file (reloaded when it changes), JSON in and out, and the operations of
//! `pipeline::panel` behind them. A request without a valid token gets 401 and nothing else.

mod members_file;
pub mod pages;

use crate::domain::panel::members::{Member, Role};
use crate::pipeline::{Ctx, digest, panel};
use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::{HeaderMap, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
pub use members_file::MembersFile;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;

/// What every handler shares.
pub struct AppState {
    pub ctx: Arc<Ctx>,
    pub members: MembersFile,
    pub pages: pages::Pages,
}

pub(crate) type Shared = Arc<AppState>;

/// The routes of the spec.
pub fn router(state: Shared) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/queue", get(queue))
        .route("/api/pull", post(pull))
        .route("/api/cases/{reference}", get(case))
        .route("/api/cases/{reference}/files/{*name}", get(file))
        .route("/api/cases/{reference}/decision", post(decide))
        .route("/api/release", post(release))
        .route("/api/outbox", get(outbox))
        .route("/api/outbox/retry", post(retry_outbox))
        .route("/api/digest", post(digest_now))
        .route("/api/report", get(report))
        .route("/api/backup", get(backup))
        .route("/api/cases/{reference}/reevaluate", post(reevaluate))
        .route("/api/conflicts", get(conflicts).post(declare_conflicts))
        .merge(pages::router())
        .with_state(state)
}

/// An authenticated member.
pub struct Authed(pub Member);

impl FromRequestParts<Shared> for Authed {
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Self, StatusCode> {
        let token = bearer(&parts.headers).ok_or(StatusCode::UNAUTHORIZED)?;
        let mut member = state
            .members
            .authenticate(token)
            .ok_or(StatusCode::UNAUTHORIZED)?;
        // Conflicts declared through the API add to those in the tokens file.
        member
            .conflicts
            .extend(panel::declared_conflicts(&state.ctx, &member.name).unwrap_or_default());
        Ok(Authed(member))
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// An error as JSON with the status that fits it.
struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

impl From<panel::PanelError> for ApiError {
    fn from(e: panel::PanelError) -> ApiError {
        use crate::domain::panel::case::CaseError;
        let status = match &e {
            panel::PanelError::NotFound(_) => StatusCode::NOT_FOUND,
            panel::PanelError::TeamOnly => StatusCode::FORBIDDEN,
            panel::PanelError::Case(CaseError::Conflict) => StatusCode::FORBIDDEN,
            panel::PanelError::Case(CaseError::Invalid(_)) => StatusCode::UNPROCESSABLE_ENTITY,
            panel::PanelError::Case(_) => StatusCode::CONFLICT,
            panel::PanelError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %e, "Panel API failure.");
        }
        ApiError(status, e.to_string())
    }
}

/// A change is on disk before the member is told it happened.
async fn durable(s: &Shared) -> Result<(), ApiError> {
    s.ctx
        .store
        .flush()
        .await
        .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

fn forbidden(what: &str) -> ApiError {
    ApiError(StatusCode::FORBIDDEN, what.to_string())
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// Liveness and readiness, no case data.
async fn healthz(State(s): State<Shared>) -> Response {
    use crate::adapters::oauth2::{LAST_ERROR, LAST_OK};
    let meta = |k: &str| s.ctx.store.meta_get(k).ok().flatten();
    let expires = crate::pipeline::digest::credentials_expire(&s.ctx)
        .ok()
        .flatten()
        .map(|(d, what)| json!({ "date": d.to_string(), "what": what }));
    Json(json!({
        "status": "ok",
        "mailbox_last_ok": meta("mailbox_last_ok"),
        "signin": {
            "oauth2_last_ok": meta(LAST_OK),
            "oauth2_last_error": meta(LAST_ERROR),
            "expires": expires,
        },
    }))
    .into_response()
}

/// Prometheus text: from loopback, or with any valid token.
async fn metrics(
    State(s): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let allowed = peer.ip().is_loopback()
        || bearer(&headers).is_some_and(|t| s.members.authenticate(t).is_some());
    if !allowed {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    match metrics_text(&s.ctx) {
        Ok(text) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response(),
        Err(e) => ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

fn metrics_text(ctx: &Ctx) -> Result<String, crate::adapters::store::StoreError> {
    use crate::adapters::store::OutboxState;
    use std::fmt::Write;
    let items = ctx.store.outbox_items()?;
    let count = |kind: &str, state: OutboxState| {
        items
            .iter()
            .filter(|i| i.kind == kind && i.state == state)
            .count()
    };
    let mut out = String::new();
    let mut metric = |name: &str, help: &str, value: String| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
        );
    };
    metric(
        "yjsend_messages_processed",
        "Messages in the ledger.",
        ctx.store.record_count().to_string(),
    );
    metric(
        "yjsend_replies_sent",
        "Auto-replies accepted by the mail server.",
        count("reply", OutboxState::Sent).to_string(),
    );
    metric(
        "yjsend_outbox_depth",
        "Messages waiting to be sent.",
        items
            .iter()
            .filter(|i| i.state == OutboxState::Pending)
            .count()
            .to_string(),
    );
    metric(
        "yjsend_outbox_failed",
        "Messages that could not be delivered.",
        items
            .iter()
            .filter(|i| i.state == OutboxState::Failed)
            .count()
            .to_string(),
    );
    let last_ok = ctx
        .store
        .meta_get("mailbox_last_ok")?
        .and_then(|t| t.parse::<jiff::Timestamp>().ok());
    metric(
        "yjsend_mailbox_last_success_seconds",
        "When the mailbox was last read successfully (Unix time).",
        last_ok.map_or(0, |t| t.as_second()).to_string(),
    );
    let connected =
        last_ok.is_some_and(|t| jiff::Timestamp::now().as_second() - t.as_second() < 300);
    metric(
        "yjsend_mailbox_up",
        "1 when the mailbox was read in the last five minutes.",
        u8::from(connected).to_string(),
    );
    Ok(out)
}

/// Queue filters: `?state=ready&partnership=oxfordshire&region=South%20East&incomplete=true`.
#[derive(Debug, serde::Deserialize)]
struct QueueFilter {
    state: Option<String>,
    partnership: Option<String>,
    region: Option<String>,
    incomplete: Option<bool>,
}

async fn queue(
    State(s): State<Shared>,
    Authed(m): Authed,
    axum::extract::Query(f): axum::extract::Query<QueueFilter>,
) -> Result<Response, ApiError> {
    let q: Vec<_> = panel::queue(&s.ctx, &m, now())?
        .into_iter()
        .filter(|item| {
            let state = serde_json::to_value(item.state).ok();
            f.state
                .as_deref()
                .is_none_or(|want| state.as_ref().and_then(|v| v.as_str()) == Some(want))
                && f.partnership
                    .as_deref()
                    .is_none_or(|p| item.partnership == p)
                && f.region.as_deref().is_none_or(|r| {
                    item.region
                        .as_deref()
                        .is_some_and(|g| g.eq_ignore_ascii_case(r))
                })
                && f.incomplete.is_none_or(|i| item.incomplete == i)
        })
        .collect();
    Ok(Json(q).into_response())
}

/// The caller's conflicts of interest (tokens file and declared).
async fn conflicts(Authed(m): Authed) -> Response {
    let list: Vec<String> = m.conflicts.iter().map(|c| c.as_string()).collect();
    Json(json!({ "conflicts": list })).into_response()
}

#[derive(Debug, serde::Deserialize)]
struct Declare {
    /// Partnership ids, or `region:NAME`.
    add: Vec<String>,
}

/// Declares conflicts of interest for the caller: the queue and pulls pass those cases by.
async fn declare_conflicts(
    State(s): State<Shared>,
    Authed(m): Authed,
    body: Result<Json<Declare>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(d) = body.map_err(|e| ApiError(e.status(), e.body_text()))?;
    let list = panel::declare_conflicts(&s.ctx, &m.name, &d.add)?;
    durable(&s).await?;
    Ok(Json(json!({ "conflicts": list })).into_response())
}

async fn pull(State(s): State<Shared>, Authed(m): Authed) -> Result<Response, ApiError> {
    if m.role != Role::Panel {
        return Err(forbidden("pulling is for panel members"));
    }
    let pulled = panel::pull(&s.ctx, &m, now())?;
    durable(&s).await?;
    Ok(match pulled {
        Some(case) => Json(case).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

async fn case(
    State(s): State<Shared>,
    Authed(m): Authed,
    Path(reference): Path<String>,
) -> Result<Response, ApiError> {
    match panel::view(&s.ctx, &m, &reference)? {
        Some(case) => Ok(Json(case).into_response()),
        None => Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("no case {reference}"),
        )),
    }
}

async fn file(
    State(s): State<Shared>,
    Authed(m): Authed,
    Path((reference, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    match panel::file(&s.ctx, &m, &reference, &name)? {
        Some((content_type, bytes)) => Ok((
            [
                (header::CONTENT_TYPE, content_type),
                (
                    header::CONTENT_DISPOSITION,
                    format!(
                        "attachment; filename=\"{}\"",
                        name.rsplit('/').next().unwrap_or(&name).replace('"', "")
                    ),
                ),
            ],
            bytes,
        )
            .into_response()),
        None => Err(ApiError(StatusCode::NOT_FOUND, format!("no file {name}"))),
    }
}

async fn decide(
    State(s): State<Shared>,
    Authed(m): Authed,
    Path(reference): Path<String>,
    body: Result<Json<panel::DecisionRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(request) = body.map_err(|e| ApiError(e.status(), e.body_text()))?;
    let case = panel::decide(&s.ctx, &m, &reference, &request, now())?;
    durable(&s).await?;
    s.ctx.outbox_wake.notify_one();
    Ok(Json(case).into_response())
}

async fn release(State(s): State<Shared>, Authed(m): Authed) -> Result<Response, ApiError> {
    let n = panel::release(&s.ctx, &m, now())?;
    durable(&s).await?;
    s.ctx.outbox_wake.notify_one();
    Ok(Json(json!({ "released": n })).into_response())
}

/// What is waiting to go out or could not be delivered (team only; no message content).
async fn outbox(State(s): State<Shared>, Authed(m): Authed) -> Result<Response, ApiError> {
    if m.role != Role::Team {
        return Err(forbidden("only the project team may do that"));
    }
    let items = crate::pipeline::panel::undelivered(&s.ctx)
        .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(Json(items).into_response())
}

/// Undelivered messages back in line (team only).
async fn retry_outbox(State(s): State<Shared>, Authed(m): Authed) -> Result<Response, ApiError> {
    let n = panel::retry_failed(&s.ctx, &m, now())?;
    durable(&s).await?;
    s.ctx.outbox_wake.notify_one();
    Ok(Json(json!({ "requeued": n })).into_response())
}

async fn digest_now(State(s): State<Shared>, Authed(m): Authed) -> Result<Response, ApiError> {
    if m.role != Role::Team {
        return Err(forbidden("only the project team may do that"));
    }
    let queued = digest::queue(&s.ctx, jiff::Timestamp::now(), None)
        .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    s.ctx.outbox_wake.notify_one();
    Ok(Json(json!({ "queued": queued })).into_response())
}

/// The funder report (team only).
async fn report(State(s): State<Shared>, Authed(m): Authed) -> Result<Response, ApiError> {
    if m.role != Role::Team {
        return Err(forbidden("only the project team may do that"));
    }
    let round = s.ctx.round.load();
    let bytes = panel::report(
        &s.ctx.store,
        &round,
        &s.ctx.roster.load(),
        Some(&round.reference_prefix),
    )
    .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e))?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )],
        bytes,
    )
        .into_response())
}

#[derive(Debug, Default, serde::Deserialize)]
struct Reevaluate {
    #[serde(default)]
    send_reply: bool,
}

/// Reads a stored message again (team only), after a roster or reader fix.
async fn reevaluate(
    State(s): State<Shared>,
    Authed(m): Authed,
    Path(reference): Path<String>,
    body: Option<Json<Reevaluate>>,
) -> Result<Response, ApiError> {
    let send = body.map(|Json(b)| b.send_reply).unwrap_or(false);
    panel::reevaluate(&s.ctx, &m, &reference, send, now()).await?;
    durable(&s).await?;
    let record = panel::record(&s.ctx, &reference)
        .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let standing = record.as_ref().map(|r| s.ctx.standing(r));
    Ok(Json(json!({
        "reference": reference,
        "partnership": record.as_ref().and_then(|r| r.partnership.clone()),
        "quality_mark": standing.as_ref().map(|s| s.quality_mark.provisional.as_str()),
        "quality_lead": standing.as_ref().map(|s| s.quality_lead.provisional.as_str()),
        "reply_sent": send,
    }))
    .into_response())
}

/// A consistent backup of the store (team only).
async fn backup(State(s): State<Shared>, Authed(m): Authed) -> Result<Response, ApiError> {
    if m.role != Role::Team {
        return Err(forbidden("only the project team may do that"));
    }
    let bytes = panel::backup(&s.ctx)
        .await
        .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    tracing::info!(by = m.name, bytes = bytes.len(), "Backup taken.");
    Ok(([(header::CONTENT_TYPE, "application/gzip")], bytes).into_response())
}

/// Serves the API on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Shared,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
