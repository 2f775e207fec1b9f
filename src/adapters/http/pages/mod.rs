//! The web pages for the panel and the project team: server-rendered HTML (minijinja templates
//! compiled in), no JavaScript needed, on the same operations and rules as the API. Sign-in
//! with a member's token gives a session cookie; every form carries the session's CSRF token.

pub mod session;

use super::{AppState, Shared};
use crate::domain::panel::members::{Member, Role};
use crate::domain::statement::{Score, StatementId};
use crate::pipeline::{digest, panel};
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use minijinja::{Environment, Value, context};
use serde::Deserialize;
use session::{COOKIE, Session, Sessions, cookie_id, csrf_ok};
use std::collections::HashMap;

/// The pages' templates and sessions.
pub struct Pages {
    env: Environment<'static>,
    pub sessions: Sessions,
    session_hours: u64,
}

impl Pages {
    pub fn new(session_hours: u64) -> Pages {
        let mut env = Environment::new();
        for (name, source) in [
            ("layout.html", include_str!("templates/layout.html")),
            ("login.html", include_str!("templates/login.html")),
            ("error.html", include_str!("templates/error.html")),
            ("queue.html", include_str!("templates/queue.html")),
            ("case.html", include_str!("templates/case.html")),
            ("correct.html", include_str!("templates/correct.html")),
            ("attention.html", include_str!("templates/attention.html")),
            ("release.html", include_str!("templates/release.html")),
        ] {
            env.add_template(name, source)
                .expect("the page templates are valid");
        }
        Pages {
            env,
            sessions: Sessions::default(),
            session_hours: session_hours.max(1),
        }
    }

    fn render(&self, status: StatusCode, name: &str, ctx: Value) -> Response {
        match self.env.get_template(name).and_then(|t| t.render(ctx)) {
            Ok(html) => (
                status,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                html,
            )
                .into_response(),
            Err(e) => {
                tracing::error!(error = %e, page = name, "A page failed to render.");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        }
    }
}

/// The pages' routes.
pub fn router() -> Router<Shared> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/queue") }))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/queue", get(queue))
        .route("/pull", post(pull))
        .route("/conflicts", post(declare_conflict))
        .route("/cases/{reference}", get(case))
        .route("/cases/{reference}/files/{*name}", get(file))
        .route("/cases/{reference}/decision", post(decide))
        .route(
            "/cases/{reference}/correct",
            get(correct_page).post(correct),
        )
        .route("/attention", get(attention))
        .route("/release", get(release_page).post(release))
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// A signed-in member and their session.
pub struct Signed {
    member: Member,
    session: Session,
}

impl FromRequestParts<Shared> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Self, Response> {
        let to_login = || Redirect::to("/login").into_response();
        let id = cookie_id(&parts.headers).ok_or_else(to_login)?;
        let session = state.pages.sessions.get(&id, now()).ok_or_else(to_login)?;
        // The token must still be in the tokens file.
        let mut member = state
            .members
            .by_hash(&session.token_sha256)
            .ok_or_else(to_login)?;
        member
            .conflicts
            .extend(panel::declared_conflicts(&state.ctx, &member.name).unwrap_or_default());
        Ok(Signed { member, session })
    }
}

/// Any serialisable value as a template value.
fn ser<T: serde::Serialize>(v: T) -> Value {
    Value::from(minijinja::value::Serde(v))
}

fn member_value(m: &Member) -> Value {
    context! {
        name => m.name.clone(),
        role => if m.role == Role::Team { "team" } else { "panel" },
    }
}

fn page_ctx(s: &Signed, extra: Value) -> Value {
    context! {
        member => member_value(&s.member),
        csrf => s.session.csrf.clone(),
        ..extra
    }
}

fn refuse(
    state: &AppState,
    s: &Signed,
    status: StatusCode,
    heading: &str,
    message: &str,
) -> Response {
    state.pages.render(
        status,
        "error.html",
        page_ctx(s, context! { heading => heading, message => message }),
    )
}

fn team_only(state: &AppState, s: &Signed) -> Option<Response> {
    (s.member.role != Role::Team).then(|| {
        refuse(
            state,
            s,
            StatusCode::FORBIDDEN,
            "Not allowed",
            "This page is for the project team.",
        )
    })
}

/// Forms are refused without the session's CSRF token.
fn forged(state: &AppState, s: &Signed, submitted: Option<&String>) -> Option<Response> {
    (!submitted.is_some_and(|c| csrf_ok(&s.session, c))).then(|| {
        refuse(
            state,
            s,
            StatusCode::FORBIDDEN,
            "Not allowed",
            "This form has expired or did not come from this site. Go back, reload the page and try again.",
        )
    })
}

async fn login_page(State(s): State<Shared>) -> Response {
    s.pages.render(StatusCode::OK, "login.html", context! {})
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
}

async fn login(State(s): State<Shared>, Form(f): Form<LoginForm>) -> Response {
    let Some(member) = s.members.authenticate(f.token.trim()) else {
        return s.pages.render(
            StatusCode::UNAUTHORIZED,
            "login.html",
            context! { error => "That token is not valid." },
        );
    };
    let id = s
        .pages
        .sessions
        .start(member.token_sha256, now(), s.pages.session_hours);
    let cookie = format!(
        "{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        s.pages.session_hours * 3600
    );
    let mut r = Redirect::to("/queue").into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

async fn logout(
    State(s): State<Shared>,
    headers: HeaderMap,
    signed: Signed,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Some(r) = forged(&s, &signed, f.get("csrf")) {
        return r;
    }
    if let Some(id) = cookie_id(&headers) {
        s.pages.sessions.end(&id);
    }
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("yjsend_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    r
}

#[derive(Deserialize, Default)]
struct QueueQuery {
    state: Option<String>,
    region: Option<String>,
    none: Option<String>,
    declared: Option<String>,
}

/// A member declares a conflict of interest (audited); the queue and pulls pass it by.
async fn declare_conflict(
    State(s): State<Shared>,
    signed: Signed,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Some(r) = forged(&s, &signed, f.get("csrf")) {
        return r;
    }
    let Some(conflict) = f.get("conflict").filter(|c| !c.trim().is_empty()) else {
        return Redirect::to("/queue").into_response();
    };
    match panel::declare_conflicts(&s.ctx, &signed.member.name, std::slice::from_ref(conflict)) {
        Ok(_) => {
            let _ = s.ctx.store.flush().await;
            Redirect::to("/queue?declared=1").into_response()
        }
        Err(e) => refuse(
            &s,
            &signed,
            StatusCode::UNPROCESSABLE_ENTITY,
            "Not saved",
            &e.to_string(),
        ),
    }
}

async fn queue(State(s): State<Shared>, signed: Signed, Query(q): Query<QueueQuery>) -> Response {
    let items = match panel::queue(&s.ctx, &signed.member, now()) {
        Ok(items) => items,
        Err(e) => {
            return refuse(
                &s,
                &signed,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Error",
                &e.to_string(),
            );
        }
    };
    let state = q.state.clone().filter(|v| !v.is_empty());
    let region = q.region.clone().filter(|v| !v.is_empty());
    let items: Vec<_> = items
        .into_iter()
        .filter(|i| {
            let st = serde_json::to_value(i.state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string));
            state.as_ref().is_none_or(|want| st.as_ref() == Some(want))
                && region
                    .as_ref()
                    .is_none_or(|r| i.region.as_deref() == Some(r.as_str()))
        })
        .collect();
    let mut regions: Vec<String> = s
        .ctx
        .roster
        .load()
        .partnerships
        .iter()
        .filter_map(|p| p.region.clone())
        .collect();
    regions.sort();
    regions.dedup();
    s.pages.render(
        StatusCode::OK,
        "queue.html",
        page_ctx(
            &signed,
            context! {
                items => ser(&items),
                regions => regions,
                filter => context! { state => state, region => region },
                notice => q.none.map(|_| "No case is waiting for you.")
                    .or(q.declared.map(|_| "Declared: those cases will not come to you.")),
                conflicts => signed.member.conflicts.iter().map(|c| c.as_string()).collect::<Vec<_>>(),
                partnerships => s.ctx.roster.load().partnerships.iter()
                    .map(|p| context! { id => p.id.clone(), name => p.name.clone() })
                    .collect::<Vec<_>>(),
            },
        ),
    )
}

async fn pull(
    State(s): State<Shared>,
    signed: Signed,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Some(r) = forged(&s, &signed, f.get("csrf")) {
        return r;
    }
    if signed.member.role != Role::Panel {
        return refuse(
            &s,
            &signed,
            StatusCode::FORBIDDEN,
            "Not allowed",
            "Pulling is for panel members.",
        );
    }
    match panel::pull(&s.ctx, &signed.member, now()) {
        Ok(Some(case)) => {
            let _ = s.ctx.store.flush().await;
            Redirect::to(&format!("/cases/{}", case.case.reference)).into_response()
        }
        Ok(None) => Redirect::to("/queue?none=1").into_response(),
        Err(e) => refuse(
            &s,
            &signed,
            StatusCode::INTERNAL_SERVER_ERROR,
            "Error",
            &e.to_string(),
        ),
    }
}

/// The case page, with an optional error (a refused decision) and its status.
/// The refused form's values come back so nothing typed is lost.
fn case_page(
    s: &AppState,
    signed: &Signed,
    reference: &str,
    error: Option<(StatusCode, String)>,
    form: &HashMap<String, String>,
) -> Response {
    let v = match panel::view(&s.ctx, &signed.member, reference) {
        Ok(Some(v)) => v,
        Ok(None) => {
            return refuse(
                s,
                signed,
                StatusCode::NOT_FOUND,
                "Not found",
                &format!("There is no case {reference}."),
            );
        }
        Err(e) => {
            return refuse(
                s,
                signed,
                StatusCode::FORBIDDEN,
                "Not allowed",
                &e.to_string(),
            );
        }
    };
    let current = panel::record(&s.ctx, v.case.current()).ok().flatten();
    let (mut rows, mut qm, mut ql) = (Vec::new(), Vec::new(), Vec::new());
    if let Some(rec) = &current {
        let scores = rec.typed_scores();
        for id in StatementId::ALL {
            let score = scores.get(&id).map(|v| v.value());
            let baseline = v.baseline.get(id.as_str()).copied();
            let change = crate::compose::view::change(score, baseline);
            rows.push(context! { id => id.as_str(), title => id.short_title(), score => score, baseline => baseline, change => change });
        }
        let standing = s.ctx.standing(rec);
        qm = standing.quality_mark.criteria;
        ql = standing.quality_lead.criteria;
    }
    // Each submission with what changed from the one before it.
    let mut submissions = Vec::new();
    let subs = &v.submissions;
    for (i, sub) in subs.iter().enumerate() {
        let scores: Vec<String> = StatementId::ALL
            .iter()
            .map(|id| {
                format!(
                    "{}: {}",
                    id.as_str(),
                    sub.scores
                        .get(id.as_str())
                        .map_or("-".into(), |x| x.to_string())
                )
            })
            .collect();
        let changes = subs.get(i + 1).map(|older| {
            StatementId::ALL
                .iter()
                .filter(|id| older.scores.get(id.as_str()) != sub.scores.get(id.as_str()))
                .map(|id| {
                    format!(
                        "{} {} → {}",
                        id.as_str(),
                        older
                            .scores
                            .get(id.as_str())
                            .map_or("-".into(), |x| x.to_string()),
                        sub.scores
                            .get(id.as_str())
                            .map_or("-".into(), |x| x.to_string())
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        });
        submissions.push(context! { reference => sub.reference.clone(), received_at => sub.received_at.clone(), scores => scores.join(", "), changes => changes });
    }
    let audit: Vec<Value> = v
        .audit
        .iter()
        .map(|a| {
            let at = jiff::Timestamp::from_second(a.at)
                .map(|t| t.to_zoned(s.ctx.round.load().timezone.clone()).strftime("%-d %b %Y %H:%M").to_string())
                .unwrap_or_default();
            context! { at => at, who => a.who.clone(), action => a.action.clone(), detail => a.detail.clone() }
        })
        .collect();
    let (status, error) = match error {
        Some((st, e)) => (st, Some(e)),
        None => (StatusCode::OK, None),
    };
    s.pages.render(
        status,
        "case.html",
        page_ctx(
            signed,
            context! {
                v => ser(&v),
                current => current.as_ref().map(ser),
                rows => rows,
                qm => ser(&qm),
                ql => ser(&ql),
                submissions => submissions,
                audit => audit,
                error => error,
                form => context! {
                    outcome => form.get("outcome").cloned(),
                    commendation => form.contains_key("commendation"),
                    feedback => form.get("feedback").cloned(),
                },
            },
        ),
    )
}

async fn case(State(s): State<Shared>, signed: Signed, Path(reference): Path<String>) -> Response {
    case_page(&s, &signed, &reference, None, &HashMap::new())
}

async fn file(
    State(s): State<Shared>,
    signed: Signed,
    Path((reference, name)): Path<(String, String)>,
) -> Response {
    match panel::file(&s.ctx, &signed.member, &reference, &name) {
        Ok(Some((content_type, bytes))) => {
            let inline = content_type.starts_with("image/") || content_type == "application/pdf";
            let disposition = format!(
                "{}; filename=\"{}\"",
                if inline { "inline" } else { "attachment" },
                name.rsplit('/').next().unwrap_or(&name).replace('"', "")
            );
            (
                [
                    (header::CONTENT_TYPE, content_type),
                    (header::CONTENT_DISPOSITION, disposition),
                ],
                bytes,
            )
                .into_response()
        }
        Ok(None) => refuse(
            &s,
            &signed,
            StatusCode::NOT_FOUND,
            "Not found",
            "There is no such file.",
        ),
        Err(e) => refuse(
            &s,
            &signed,
            StatusCode::FORBIDDEN,
            "Not allowed",
            &e.to_string(),
        ),
    }
}

async fn decide(
    State(s): State<Shared>,
    signed: Signed,
    Path(reference): Path<String>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Some(r) = forged(&s, &signed, f.get("csrf")) {
        return r;
    }
    let outcome = f
        .get("outcome")
        .and_then(|o| serde_json::from_value(serde_json::Value::String(o.clone())).ok());
    let Some(outcome) = outcome else {
        return case_page(
            &s,
            &signed,
            &reference,
            Some((
                StatusCode::UNPROCESSABLE_ENTITY,
                "Choose an outcome.".into(),
            )),
            &f,
        );
    };
    let request = panel::DecisionRequest {
        outcome,
        commendation: f
            .get("commendation")
            .filter(|c| c.as_str() == "child_first")
            .map(|_| crate::domain::panel::case::Commendation::ChildFirst),
        feedback: f.get("feedback").cloned().unwrap_or_default(),
    };
    match panel::decide(&s.ctx, &signed.member, &reference, &request, now()) {
        Ok(v) => {
            let _ = s.ctx.store.flush().await;
            s.ctx.outbox_wake.notify_one();
            Redirect::to(&format!("/cases/{}", v.case.reference)).into_response()
        }
        Err(e) => {
            use crate::domain::panel::case::CaseError;
            let status = match &e {
                panel::PanelError::Case(CaseError::Invalid(_)) => StatusCode::UNPROCESSABLE_ENTITY,
                panel::PanelError::Case(CaseError::Conflict) | panel::PanelError::TeamOnly => {
                    StatusCode::FORBIDDEN
                }
                panel::PanelError::NotFound(_) => StatusCode::NOT_FOUND,
                _ => StatusCode::CONFLICT,
            };
            case_page(&s, &signed, &reference, Some((status, e.to_string())), &f)
        }
    }
}

async fn correct_page(
    State(s): State<Shared>,
    signed: Signed,
    Path(reference): Path<String>,
) -> Response {
    if let Some(r) = team_only(&s, &signed) {
        return r;
    }
    let Some(rec) = panel::record(&s.ctx, &reference).ok().flatten() else {
        return refuse(
            &s,
            &signed,
            StatusCode::NOT_FOUND,
            "Not found",
            &format!("There is no message {reference}."),
        );
    };
    let linked = rec.case_study_statements();
    let statements: Vec<Value> = StatementId::ALL
        .iter()
        .map(|id| {
            context! {
                id => id.as_str(),
                score => rec.scores.get(id.as_str()).copied(),
                case_study => linked.contains(id),
            }
        })
        .collect();
    s.pages.render(
        StatusCode::OK,
        "correct.html",
        page_ctx(
            &signed,
            context! { reference => reference, statements => statements },
        ),
    )
}

async fn correct(
    State(s): State<Shared>,
    signed: Signed,
    Path(reference): Path<String>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Some(r) = forged(&s, &signed, f.get("csrf")) {
        return r;
    }
    if let Some(r) = team_only(&s, &signed) {
        return r;
    }
    let mut scores = crate::domain::statement::Scores::new();
    let mut case_studies = Vec::new();
    for id in StatementId::ALL {
        let key = format!("s{}", id.as_str());
        if let Some(v) = f.get(&key).map(|v| v.trim()).filter(|v| !v.is_empty()) {
            match v.parse::<u8>().ok().and_then(Score::new) {
                Some(score) => {
                    scores.insert(id, score);
                }
                None => {
                    return refuse(
                        &s,
                        &signed,
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "Not saved",
                        &format!(
                            "Statement {}: {v:?} is not a score from 0 to 10.",
                            id.as_str()
                        ),
                    );
                }
            }
        }
        if f.contains_key(&format!("cs{}", id.as_str())) {
            case_studies.push(id);
        }
    }
    let correction = panel::Correction {
        scores,
        case_studies,
        reason: f.get("reason").cloned().unwrap_or_default(),
        send_reply: f.contains_key("send_reply"),
    };
    match panel::correct(&s.ctx, &signed.member, &reference, &correction, now()).await {
        Ok(()) => {
            let _ = s.ctx.store.flush().await;
            match s.ctx.store.case(&reference).ok().flatten() {
                Some(c) => Redirect::to(&format!("/cases/{}", c.reference)).into_response(),
                None => Redirect::to("/attention").into_response(),
            }
        }
        Err(e) => refuse(
            &s,
            &signed,
            StatusCode::UNPROCESSABLE_ENTITY,
            "Not saved",
            &e.to_string(),
        ),
    }
}

async fn attention(State(s): State<Shared>, signed: Signed) -> Response {
    if let Some(r) = team_only(&s, &signed) {
        return r;
    }
    // Everything on record, not only what arrived since the last digest.
    match digest::view(&s.ctx, jiff::Timestamp::now(), 0, false) {
        Ok(built) => s.pages.render(
            StatusCode::OK,
            "attention.html",
            page_ctx(&signed, context! { d => ser(&built.view) }),
        ),
        Err(e) => refuse(
            &s,
            &signed,
            StatusCode::INTERNAL_SERVER_ERROR,
            "Error",
            &e.to_string(),
        ),
    }
}

#[derive(Deserialize, Default)]
struct ReleaseQuery {
    released: Option<usize>,
}

async fn release_page(
    State(s): State<Shared>,
    signed: Signed,
    Query(q): Query<ReleaseQuery>,
) -> Response {
    if let Some(r) = team_only(&s, &signed) {
        return r;
    }
    let mut drafts = Vec::new();
    for item in s.ctx.store.outbox_items().unwrap_or_default() {
        if item.state != crate::adapters::store::OutboxState::Held {
            continue;
        }
        let bytes = s
            .ctx
            .store
            .outbox_bytes(item.id)
            .ok()
            .flatten()
            .unwrap_or_default();
        let text = mail_parser::MessageParser::default()
            .parse(&bytes)
            .and_then(|m| m.body_text(0).map(|t| t.into_owned()))
            .unwrap_or_default();
        drafts.push(context! { to => item.recipients.join(", "), text => text });
    }
    s.pages.render(
        StatusCode::OK,
        "release.html",
        page_ctx(
            &signed,
            context! {
                drafts => drafts,
                notice => q.released.map(|n| format!("Released {n} outcome emails.")),
            },
        ),
    )
}

async fn release(
    State(s): State<Shared>,
    signed: Signed,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Some(r) = forged(&s, &signed, f.get("csrf")) {
        return r;
    }
    if let Some(r) = team_only(&s, &signed) {
        return r;
    }
    match panel::release(&s.ctx, &signed.member, now()) {
        Ok(n) => {
            let _ = s.ctx.store.flush().await;
            s.ctx.outbox_wake.notify_one();
            Redirect::to(&format!("/release?released={n}")).into_response()
        }
        Err(e) => refuse(
            &s,
            &signed,
            StatusCode::FORBIDDEN,
            "Not allowed",
            &e.to_string(),
        ),
    }
}
