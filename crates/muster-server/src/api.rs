//! The REST API under `/api/v1`: JSON in, JSON out, every lifecycle operation of the CLI.
//!
//! Routes are declared once, in [`operations`], as (description, handler) pairs; both the
//! router and `/api/v1/openapi.json` are built from that list, so the description cannot
//! drift from what is served.

use crate::AppState;
use crate::auth::Viewer;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, patch, post, put};
use axum::{Extension, Json, Router};
use muster_core::incident::IncidentDetail;
use muster_core::report::ReportFormat;
use muster_core::{IncidentRef, Lang};
use muster_engine::{
    ActionInput, Declaration, Declared, EditInput, EngineError, ImpactInput, ListQuery,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::collections::BTreeMap;

mod care;

/// One documented operation.
pub struct Op {
    pub method: &'static str,
    pub path: &'static str,
    pub id: &'static str,
    pub summary: &'static str,
    pub body: Option<&'static str>,
    pub response: &'static str,
    pub success: u16,
}

fn operations() -> Vec<(Op, MethodRouter<AppState>)> {
    let mut ops = core_operations();
    ops.extend(care::operations());
    ops
}

fn core_operations() -> Vec<(Op, MethodRouter<AppState>)> {
    vec![
        (
            Op {
                method: "get",
                path: "/incidents",
                id: "listIncidents",
                summary: "List incidents, newest first",
                body: None,
                response: "IncidentPage",
                success: 200,
            },
            get(list),
        ),
        (
            Op {
                method: "post",
                path: "/incidents",
                id: "declareIncident",
                summary: "Declare an incident",
                body: Some("Declaration"),
                response: "IncidentDetail",
                success: 201,
            },
            post(declare),
        ),
        (
            Op {
                method: "get",
                path: "/incidents/{id}",
                id: "getIncident",
                summary: "Get an incident with its history",
                body: None,
                response: "IncidentDetail",
                success: 200,
            },
            get(show),
        ),
        (
            Op {
                method: "patch",
                path: "/incidents/{id}",
                id: "editIncident",
                summary: "Edit title, description, team or report sections",
                body: Some("Edit"),
                response: "IncidentDetail",
                success: 200,
            },
            patch(edit),
        ),
        (
            Op {
                method: "post",
                path: "/incidents/{id}/status",
                id: "setStatus",
                summary: "Move to another status",
                body: Some("StatusChange"),
                response: "IncidentDetail",
                success: 200,
            },
            post(set_status),
        ),
        (
            Op {
                method: "post",
                path: "/incidents/{id}/severity",
                id: "setSeverity",
                summary: "Change the severity",
                body: Some("SeverityChange"),
                response: "IncidentDetail",
                success: 200,
            },
            post(set_severity),
        ),
        (
            Op {
                method: "post",
                path: "/incidents/{id}/roles",
                id: "assignRole",
                summary: "Give a role to someone",
                body: Some("RoleAssignment"),
                response: "IncidentDetail",
                success: 200,
            },
            post(assign_role),
        ),
        (
            Op {
                method: "post",
                path: "/incidents/{id}/timeline",
                id: "addNote",
                summary: "Add a timeline note",
                body: Some("Note"),
                response: "IncidentDetail",
                success: 201,
            },
            post(add_note),
        ),
        (
            Op {
                method: "put",
                path: "/incidents/{id}/timeline/{entry}",
                id: "editNote",
                summary: "Rewrite one's own note (the earlier text is kept in history, hidden)",
                body: Some("NoteText"),
                response: "IncidentDetail",
                success: 200,
            },
            put(edit_note),
        ),
        (
            Op {
                method: "delete",
                path: "/incidents/{id}/timeline/{entry}",
                id: "deleteNote",
                summary: "Withdraw one's own note (its text is kept in history, hidden)",
                body: None,
                response: "IncidentDetail",
                success: 200,
            },
            delete(delete_note),
        ),
        (
            Op {
                method: "post",
                path: "/incidents/{id}/timeline/{entry}/key",
                id: "markKeyMoment",
                summary: "Mark or unmark a timeline entry as a key moment (the report highlights it)",
                body: Some("KeyMoment"),
                response: "IncidentDetail",
                success: 200,
            },
            post(key_moment),
        ),
        (
            Op {
                method: "post",
                path: "/incidents/{id}/updates",
                id: "postUpdate",
                summary: "Post a status update",
                body: Some("Update"),
                response: "IncidentDetail",
                success: 201,
            },
            post(post_update),
        ),
        (
            Op {
                method: "post",
                path: "/incidents/{id}/actions",
                id: "addAction",
                summary: "Add an action item",
                body: Some("NewAction"),
                response: "IncidentDetail",
                success: 201,
            },
            post(add_action),
        ),
        (
            Op {
                method: "post",
                path: "/incidents/{id}/actions/{number}/done",
                id: "completeAction",
                summary: "Mark an action item done",
                body: None,
                response: "IncidentDetail",
                success: 200,
            },
            post(action_done),
        ),
        (
            Op {
                method: "put",
                path: "/incidents/{id}/actions/{number}",
                id: "editAction",
                summary: "Rewrite an action item (text, type, priority, owner, link)",
                body: Some("NewAction"),
                response: "IncidentDetail",
                success: 200,
            },
            put(edit_action),
        ),
        (
            Op {
                method: "post",
                path: "/incidents/{id}/actions/{number}/reopen",
                id: "reopenAction",
                summary: "Open a done action item again",
                body: None,
                response: "IncidentDetail",
                success: 200,
            },
            post(reopen_action),
        ),
        (
            Op {
                method: "delete",
                path: "/incidents/{id}/roles/{role}",
                id: "clearRole",
                summary: "Clear a role: nobody holds it any more (its history is kept)",
                body: None,
                response: "IncidentDetail",
                success: 200,
            },
            delete(clear_role),
        ),
        (
            Op {
                method: "post",
                path: "/incidents/{id}/impact",
                id: "setImpact",
                summary: "Record impact times",
                body: Some("Impact"),
                response: "IncidentDetail",
                success: 200,
            },
            post(set_impact),
        ),
        (
            Op {
                method: "post",
                path: "/incidents/{id}/resolve",
                id: "resolveIncident",
                summary: "Resolve: record the end of impact",
                body: None,
                response: "IncidentDetail",
                success: 200,
            },
            post(resolve),
        ),
        (
            Op {
                method: "post",
                path: "/incidents/{id}/close",
                id: "closeIncident",
                summary: "Close the incident",
                body: None,
                response: "IncidentDetail",
                success: 200,
            },
            post(close),
        ),
        (
            Op {
                method: "get",
                path: "/incidents/{id}/report",
                id: "getReport",
                summary: "The rendered report (format=md|html, lang=en|fr)",
                body: None,
                response: "Report",
                success: 200,
            },
            get(report),
        ),
        (
            Op {
                method: "post",
                path: "/alerts/alertmanager",
                id: "receiveAlertmanager",
                summary: "Receive an Alertmanager (version 4) or Grafana (version 1) webhook delivery; a token is required even on loopback; bodies up to 1 MiB",
                body: Some("AlertmanagerPayload"),
                response: "AlertReceipt",
                success: 202,
            },
            post(crate::alerts::alertmanager),
        ),
        (
            Op {
                method: "post",
                path: "/alerts/webhook",
                id: "receiveAlertEvent",
                summary: "Receive a generic alert event; a token is required even on loopback",
                body: Some("AlertEvent"),
                response: "AlertReceipt",
                success: 202,
            },
            post(crate::alerts::webhook),
        ),
        (
            Op {
                method: "get",
                path: "/openapi.json",
                id: "openapi",
                summary: "This description",
                body: None,
                response: "OpenApi",
                success: 200,
            },
            get(openapi),
        ),
    ]
}

pub fn routes(_state: &AppState) -> Router<AppState> {
    let mut by_path: BTreeMap<&'static str, MethodRouter<AppState>> = BTreeMap::new();
    for (op, handler) in operations() {
        let entry = by_path.remove(op.path);
        by_path.insert(
            op.path,
            match entry {
                Some(existing) => existing.merge(handler),
                None => handler,
            },
        );
    }
    let mut router = Router::new();
    for (path, handler) in by_path {
        router = router.route(path, handler);
    }
    router.fallback(|Extension(lang): Extension<Lang>| async move {
        error_response(
            StatusCode::NOT_FOUND,
            "no_such_route",
            lang.t("web-api-no-route"),
        )
    })
}

/// A JSON error with a stable code.
pub fn error_response(status: StatusCode, code: &str, message: String) -> Response {
    (
        status,
        Json(json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

struct ApiError(Response);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0
    }
}

fn engine_error(e: &EngineError, lang: Lang) -> ApiError {
    let status = match e {
        EngineError::Domain(d)
            if d.code() == "incident_not_found" || d.code() == "bad_incident_ref" =>
        {
            StatusCode::NOT_FOUND
        }
        EngineError::Domain(_) => StatusCode::UNPROCESSABLE_ENTITY,
        EngineError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        _ if e.is_conflict() => StatusCode::CONFLICT,
        EngineError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        EngineError::Template(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let res = match e.fields() {
        // Every field's problem at once, keyed as the request names the fields.
        Some(fields) => {
            let by_field: serde_json::Map<String, serde_json::Value> = fields
                .iter()
                .map(|(f, err)| (f.as_str().to_owned(), json!(err.message(lang))))
                .collect();
            (
                status,
                Json(json!({"error": {"code": e.code(), "message": e.message(lang), "fields": by_field}})),
            )
                .into_response()
        }
        None => error_response(status, e.code(), e.message(lang)),
    };
    ApiError(crate::trouble::with_retry_after(res, e))
}

/// `Json<T>` whose rejections are our JSON errors.
struct Body<T>(T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let lang = req.extensions().get::<Lang>().copied().unwrap_or_default();
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            // Cut off at the limit while read: the same answer as a declared length over it.
            Err(rej) if rej.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError(crate::errors::api_too_large(lang)))
            }
            Err(rej) => Err(ApiError(error_response(
                rej.status(),
                "bad_request_body",
                lang.format(
                    "web-api-bad-body",
                    &muster_core::i18n::Args::new().with("detail", rej.body_text()),
                ),
            ))),
        }
    }
}

/// `Path<T>` that refuses what cannot be read with our JSON error (`bad_path`, 400): a
/// malformed `%`-escape (which axum would pass on undecoded) or a value of the wrong type.
struct ApiPath<T>(T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let lang = parts.extensions.get::<Lang>().copied().unwrap_or_default();
        let bad = || {
            ApiError(error_response(
                StatusCode::BAD_REQUEST,
                "bad_path",
                lang.t("web-api-bad-path"),
            ))
        };
        if !well_escaped(parts.uri.path()) {
            return Err(bad());
        }
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(ApiPath(v)),
            Err(_) => Err(bad()),
        }
    }
}

/// Every `%` starts a two-digit hexadecimal escape.
fn well_escaped(path: &str) -> bool {
    let b = path.as_bytes();
    b.iter().enumerate().all(|(i, c)| {
        *c != b'%'
            || b.get(i + 1..i + 3)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
    })
}

/// Find an incident the viewer may see; hidden ones are "not found", not "forbidden".
async fn visible(
    state: &AppState,
    viewer: &Viewer,
    lang: Lang,
    id: &str,
) -> Result<IncidentDetail, ApiError> {
    let r: IncidentRef = id
        .parse()
        .map_err(|e: muster_core::DomainError| engine_error(&e.into(), lang))?;
    let d = state
        .engine
        .get(r)
        .await
        .map_err(|e| engine_error(&e, lang))?;
    if !viewer.may_see(&d, "api") {
        return Err(engine_error(
            &muster_core::DomainError::IncidentNotFound(id.to_owned()).into(),
            lang,
        ));
    }
    Ok(d)
}

type Ctx = (State<AppState>, Extension<Viewer>, Extension<Lang>);

async fn run<F, Fut>(ctx: Ctx, id: String, status: StatusCode, f: F) -> Result<Response, ApiError>
where
    F: FnOnce(AppState, IncidentRef, String) -> Fut,
    Fut: std::future::Future<Output = Result<IncidentDetail, EngineError>>,
{
    let (State(state), Extension(viewer), Extension(lang)) = ctx;
    let d = visible(&state, &viewer, lang, &id).await?;
    let by = viewer.author("api");
    let d = f(state, IncidentRef::Id(d.incident.id), by)
        .await
        .map_err(|e| engine_error(&e, lang))?;
    Ok((status, Json(d)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    status: Option<String>,
    severity: Option<String>,
    team: Option<String>,
    q: Option<String>,
    #[serde(default)]
    drills: bool,
    page: Option<u32>,
    per_page: Option<u32>,
}

async fn list(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Extension(lang): Extension<Lang>,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(p) = params.map_err(|r| {
        ApiError(error_response(
            StatusCode::BAD_REQUEST,
            "bad_query",
            r.body_text(),
        ))
    })?;
    let page = p.page.unwrap_or(1).max(1);
    let per_page = p.per_page.unwrap_or(50).clamp(1, 500);
    let q = ListQuery {
        status: p.status,
        severity: p.severity,
        team: p.team,
        search: p.q,
        include_security: viewer.sees_security,
        involving: Some(viewer.author("api")),
        include_drills: p.drills,
        page,
        per_page,
    };
    let r = state
        .engine
        .list(&q)
        .await
        .map_err(|e| engine_error(&e, lang))?;
    Ok(
        Json(json!({"total": r.total, "page": page, "per_page": per_page, "incidents": r.items}))
            .into_response(),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeclareBody {
    title: String,
    severity: Option<String>,
    team: Option<String>,
    #[serde(default)]
    security: bool,
    #[serde(default)]
    drill: bool,
    description: Option<String>,
}

/// Longest `Idempotency-Key` accepted (a UUID is 36).
const MAX_IDEMPOTENCY_KEY: usize = 200;

/// The delivery key of an `Idempotency-Key` header, namespaced by who sends it (the token's
/// name, or anonymous on loopback) so two clients' keys never meet. The key is visible
/// ASCII without spaces and comes after the last space, so no name can forge another's.
fn idempotency_key(headers: &header::HeaderMap, viewer: &Viewer) -> Result<Option<String>, BadKey> {
    let Some(raw) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = raw.to_str().unwrap_or("").trim();
    if key.is_empty()
        || key.len() > MAX_IDEMPOTENCY_KEY
        || !key.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(BadKey);
    }
    let who = match &viewer.name {
        Some(name) => format!("token={name}"),
        None => "anonymous".to_owned(),
    };
    Ok(Some(format!("api:{who} {key}")))
}

/// An `Idempotency-Key` header that is not one.
struct BadKey;

impl BadKey {
    fn answer(self, lang: Lang) -> ApiError {
        ApiError(error_response(
            StatusCode::BAD_REQUEST,
            "bad_idempotency_key",
            lang.format(
                "web-api-bad-idempotency-key",
                &muster_core::i18n::Args::new().with("max", MAX_IDEMPOTENCY_KEY.to_string()),
            ),
        ))
    }
}

/// Declare: 201 with the new incident; with an `Idempotency-Key` already used by this
/// client, 200 with the incident it declared (a retry after a lost answer is safe).
async fn declare(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Extension(lang): Extension<Lang>,
    headers: header::HeaderMap,
    Body(b): Body<DeclareBody>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers, &viewer).map_err(|b| b.answer(lang))?;
    let declaration = Declaration {
        title: b.title,
        severity: b.severity,
        team: b.team,
        security: b.security,
        drill: b.drill,
        description: b.description,
        by: viewer.author("api"),
        ..Declaration::default()
    };
    let declared = match key {
        Some(key) => state.engine.declare_keyed(declaration, &key).await,
        None => state.engine.declare(declaration).await.map(Declared::New),
    }
    .map_err(|e| engine_error(&e, lang))?;
    let status = if declared.is_new() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let d = declared.into_detail();
    Ok((
        status,
        [(
            header::LOCATION,
            format!("/api/v1/incidents/{}", d.incident.number),
        )],
        Json(d),
    )
        .into_response())
}

async fn show(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Extension(lang): Extension<Lang>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    Ok(Json(visible(&state, &viewer, lang, &id).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EditBody {
    title: Option<String>,
    description: Option<String>,
    team: Option<String>,
    #[serde(default)]
    narrative: BTreeMap<String, String>,
}

async fn edit(
    State(s): State<AppState>,
    v: Extension<Viewer>,
    l: Extension<Lang>,
    ApiPath(id): ApiPath<String>,
    Body(b): Body<EditBody>,
) -> Result<Response, ApiError> {
    run(
        (State(s), v, l),
        id,
        StatusCode::OK,
        |s, r, by| async move {
            s.engine
                .edit(
                    r,
                    EditInput {
                        title: b.title,
                        description: b.description,
                        team: b.team,
                        narrative: b.narrative.into_iter().collect(),
                    },
                    &by,
                )
                .await
        },
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    status: String,
}

async fn set_status(
    State(s): State<AppState>,
    v: Extension<Viewer>,
    l: Extension<Lang>,
    ApiPath(id): ApiPath<String>,
    Body(b): Body<StatusBody>,
) -> Result<Response, ApiError> {
    run(
        (State(s), v, l),
        id,
        StatusCode::OK,
        |s, r, by| async move { s.engine.set_status(r, &b.status, &by).await },
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeverityBody {
    severity: String,
}

async fn set_severity(
    State(s): State<AppState>,
    v: Extension<Viewer>,
    l: Extension<Lang>,
    ApiPath(id): ApiPath<String>,
    Body(b): Body<SeverityBody>,
) -> Result<Response, ApiError> {
    run(
        (State(s), v, l),
        id,
        StatusCode::OK,
        |s, r, by| async move { s.engine.set_severity(r, &b.severity, &by).await },
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleBody {
    role: String,
    person: String,
}

async fn assign_role(
    State(s): State<AppState>,
    v: Extension<Viewer>,
    l: Extension<Lang>,
    ApiPath(id): ApiPath<String>,
    Body(b): Body<RoleBody>,
) -> Result<Response, ApiError> {
    run(
        (State(s), v, l),
        id,
        StatusCode::OK,
        |s, r, by| async move { s.engine.assign_role(r, &b.role, &b.person, &by).await },
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteBody {
    text: String,
    at: Option<String>,
}

async fn add_note(
    State(s): State<AppState>,
    v: Extension<Viewer>,
    l: Extension<Lang>,
    ApiPath(id): ApiPath<String>,
    Body(b): Body<NoteBody>,
) -> Result<Response, ApiError> {
    run(
        (State(s), v, l),
        id,
        StatusCode::CREATED,
        |s, r, by| async move { s.engine.add_note(r, &b.text, b.at.as_deref(), &by).await },
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    text: String,
}

async fn post_update(
    State(s): State<AppState>,
    v: Extension<Viewer>,
    l: Extension<Lang>,
    ApiPath(id): ApiPath<String>,
    Body(b): Body<UpdateBody>,
) -> Result<Response, ApiError> {
    run(
        (State(s), v, l),
        id,
        StatusCode::CREATED,
        |s, r, by| async move { s.engine.post_update(r, &b.text, &by).await },
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionBody {
    text: String,
    #[serde(rename = "type")]
    action_type: String,
    priority: String,
    owner: Option<String>,
    link: Option<String>,
}

async fn add_action(
    State(s): State<AppState>,
    v: Extension<Viewer>,
    l: Extension<Lang>,
    ApiPath(id): ApiPath<String>,
    Body(b): Body<ActionBody>,
) -> Result<Response, ApiError> {
    run(
        (State(s), v, l),
        id,
        StatusCode::CREATED,
        |s, r, by| async move { s.engine.add_action(r, b.input(), &by).await },
    )
    .await
}

impl ActionBody {
    fn input(self) -> ActionInput {
        ActionInput {
            text: self.text,
            action_type: self.action_type,
            priority: self.priority,
            owner: self.owner,
            link: self.link,
        }
    }
}

async fn edit_action(
    State(s): State<AppState>,
    v: Extension<Viewer>,
    l: Extension<Lang>,
    ApiPath((id, number)): ApiPath<(String, i64)>,
    Body(b): Body<ActionBody>,
) -> Result<Response, ApiError> {
    run(
        (State(s), v, l),
        id,
        StatusCode::OK,
        |s, r, by| async move { s.engine.edit_action(r, number, b.input(), &by).await },
    )
    .await
}

async fn reopen_action(
    State(s): State<AppState>,
    v: Extension<Viewer>,
    l: Extension<Lang>,
    ApiPath((id, number)): ApiPath<(String, i64)>,
) -> Result<Response, ApiError> {
    run(
        (State(s), v, l),
        id,
        StatusCode::OK,
        |s, r, by| async move { s.engine.reopen_action(r, number, &by).await },
    )
    .await
}

async fn clear_role(
    State(s): State<AppState>,
    v: Extension<Viewer>,
    l: Extension<Lang>,
    ApiPath((id, role)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    run(
        (State(s), v, l),
        id,
        StatusCode::OK,
        |s, r, by| async move { s.engine.clear_role(r, &role, &by).await },
    )
    .await
}

async fn action_done(
    State(s): State<AppState>,
    v: Extension<Viewer>,
    l: Extension<Lang>,
    ApiPath((id, number)): ApiPath<(String, i64)>,
) -> Result<Response, ApiError> {
    run(
        (State(s), v, l),
        id,
        StatusCode::OK,
        |s, r, by| async move { s.engine.complete_action(r, number, &by).await },
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteTextBody {
    text: String,
}

async fn edit_note(
    State(s): State<AppState>,
    v: Extension<Viewer>,
    l: Extension<Lang>,
    ApiPath((id, entry)): ApiPath<(String, i64)>,
    Body(b): Body<NoteTextBody>,
) -> Result<Response, ApiError> {
    run(
        (State(s), v, l),
        id,
        StatusCode::OK,
        |s, r, by| async move { s.engine.revise_note(r, entry, Some(&b.text), &by).await },
    )
    .await
}

async fn delete_note(
    State(s): State<AppState>,
    v: Extension<Viewer>,
    l: Extension<Lang>,
    ApiPath((id, entry)): ApiPath<(String, i64)>,
) -> Result<Response, ApiError> {
    run(
        (State(s), v, l),
        id,
        StatusCode::OK,
        |s, r, by| async move { s.engine.revise_note(r, entry, None, &by).await },
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyMomentBody {
    key: bool,
}

async fn key_moment(
    State(s): State<AppState>,
    v: Extension<Viewer>,
    l: Extension<Lang>,
    ApiPath((id, entry)): ApiPath<(String, i64)>,
    Body(b): Body<KeyMomentBody>,
) -> Result<Response, ApiError> {
    run(
        (State(s), v, l),
        id,
        StatusCode::OK,
        |s, r, by| async move { s.engine.mark_key_moment(r, entry, b.key, &by).await },
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImpactBody {
    detected: Option<String>,
    started: Option<String>,
    mitigated: Option<String>,
    ended: Option<String>,
}

async fn set_impact(
    State(s): State<AppState>,
    v: Extension<Viewer>,
    l: Extension<Lang>,
    ApiPath(id): ApiPath<String>,
    Body(b): Body<ImpactBody>,
) -> Result<Response, ApiError> {
    run(
        (State(s), v, l),
        id,
        StatusCode::OK,
        |s, r, by| async move {
            s.engine
                .set_impact(
                    r,
                    ImpactInput {
                        detected: b.detected,
                        started: b.started,
                        mitigated: b.mitigated,
                        ended: b.ended,
                    },
                    &by,
                )
                .await
        },
    )
    .await
}

async fn resolve(
    State(s): State<AppState>,
    v: Extension<Viewer>,
    l: Extension<Lang>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    run(
        (State(s), v, l),
        id,
        StatusCode::OK,
        |s, r, by| async move { s.engine.resolve(r, &by).await },
    )
    .await
}

async fn close(
    State(s): State<AppState>,
    v: Extension<Viewer>,
    l: Extension<Lang>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    run(
        (State(s), v, l),
        id,
        StatusCode::OK,
        |s, r, by| async move { s.engine.close(r, &by).await },
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportParams {
    format: Option<String>,
    lang: Option<String>,
}

async fn report(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Extension(lang): Extension<Lang>,
    ApiPath(id): ApiPath<String>,
    params: Result<Query<ReportParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(p) = params.map_err(|r| {
        ApiError(error_response(
            StatusCode::BAD_REQUEST,
            "bad_query",
            r.body_text(),
        ))
    })?;
    let format: ReportFormat =
        p.format
            .as_deref()
            .unwrap_or("md")
            .parse()
            .map_err(|v: String| {
                ApiError(error_response(
                    StatusCode::BAD_REQUEST,
                    "bad_format",
                    lang.format(
                        "cli-bad-format",
                        &muster_core::i18n::Args::new().with("value", v),
                    ),
                ))
            })?;
    let report_lang = match p.lang.as_deref() {
        Some(l) => l
            .parse::<Lang>()
            .map_err(|e| engine_error(&e.into(), lang))?,
        None => lang,
    };
    let d = visible(&state, &viewer, lang, &id).await?;
    let text = state
        .engine
        .render_report(&d, report_lang, format)
        .map_err(|e| engine_error(&e, lang))?;
    let ct = match format {
        ReportFormat::Markdown => "text/markdown; charset=utf-8",
        ReportFormat::Html => "text/html; charset=utf-8",
    };
    Ok(([(header::CONTENT_TYPE, ct)], text).into_response())
}

async fn openapi() -> Json<Value> {
    Json(openapi_document())
}

/// The OpenAPI 3.1 description of exactly the operations in [`operations`].
pub fn openapi_document() -> Value {
    let mut paths = serde_json::Map::new();
    for (op, _) in operations() {
        let mut params = Vec::new();
        for (name, description) in [
            ("id", "INC-n, n, or the incident's opaque id"),
            ("number", "action item number"),
            (
                "entry",
                "timeline entry number (`seq` in the incident's timeline)",
            ),
        ] {
            if op.path.contains(&format!("{{{name}}}")) {
                params.push(json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"},
                    "description": description}));
            }
        }
        if op.id == "listIncidents" {
            for (name, ty) in [
                ("status", "string"),
                ("severity", "string"),
                ("team", "string"),
                ("q", "string"),
                ("drills", "boolean"),
                ("page", "integer"),
                ("per_page", "integer"),
            ] {
                params.push(
                    json!({"name": name, "in": "query", "required": false, "schema": {"type": ty}}),
                );
            }
        }
        if op.id == "getReport" {
            params.push(json!({"name": "format", "in": "query", "schema": {"type": "string", "enum": ["md", "html"]}}));
            params.push(json!({"name": "lang", "in": "query", "schema": {"type": "string", "enum": ["en", "fr"]}}));
        }
        let success = json!({"description": "Success", "content": {
            if op.response == "Report" { "text/markdown" } else { "application/json" }: {"schema": {"$ref": format!("#/components/schemas/{}", op.response)}}
        }});
        let error = |description: &str| json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
        let mut responses = serde_json::Map::new();
        responses.insert(op.success.to_string(), success.clone());
        let has_path = op.path.contains('{');
        if has_path || op.body.is_some() {
            responses.insert("400".into(), error(match (has_path, op.body.is_some()) {
                (true, true) => "`bad_path`: a path value cannot be read (malformed %-escape, not a number); `bad_request_body`: the body is not JSON",
                (true, false) => "`bad_path`: a path value cannot be read (malformed %-escape, not a number)",
                _ => "`bad_request_body`: the body is not JSON",
            }));
        }
        if has_path {
            responses.insert(
                "404".into(),
                error("`incident_not_found`, `bad_incident_ref`"),
            );
        }
        if op.body.is_some() {
            responses.insert(
                "413".into(),
                error("`body_too_large`: the body is over the limit; the message names the limits"),
            );
            responses.insert("422".into(), error("The request was understood and refused; declarations name each field at fault under `error.fields`"));
        }
        if op.id == "declareIncident" {
            params.push(json!({"name": "Idempotency-Key", "in": "header", "required": false, "schema": {"type": "string", "minLength": 1, "maxLength": MAX_IDEMPOTENCY_KEY},
                "description": "Declare once per key (per token): a repeat answers 200 with the incident the key declared, whatever its body says."}));
            let mut again = success;
            again["description"] = json!(
                "The incident this Idempotency-Key already declared (nothing new was declared)"
            );
            responses.insert("200".into(), again);
        }
        responses.insert(
            "default".into(),
            error("Error (405 `method_not_allowed`, 401, 429, 503 …)"),
        );
        let mut o = json!({
            "operationId": op.id,
            "summary": op.summary,
            "parameters": params,
            "responses": responses,
        });
        if let Some(body) = op.body {
            o["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{body}")}}}});
        }
        if op.id != "openapi" {
            o["security"] = json!([{"bearer": []}]);
        }
        let item = paths.entry(op.path.to_owned()).or_insert_with(|| json!({}));
        item[op.method] = o;
    }
    let s = |props: Value, required: &[&str]| json!({"type": "object", "additionalProperties": false, "properties": props, "required": required});
    let text = json!({"type": "string"});
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {"title": "Muster API", "version": env!("CARGO_PKG_VERSION"), "description": "Declare and run incidents. Every error, including those of the router (405), the body limit (413) and the path (400), is a JSON object `{\"error\": {\"code\", \"message\"}}` with a stable code and a message in the language asked for (Accept-Language)."},
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "A token from `muster token create NAME`."}},
            "schemas": {
                "Error": s(json!({"error": s(json!({"code": text, "message": text}), &["code", "message"])}), &["error"]),
                "Declaration": s(json!({"title": text, "severity": text, "team": text, "security": {"type": "boolean"}, "drill": {"type": "boolean"}, "description": text}), &["title"]),
                "Edit": s(json!({"title": text, "description": text, "team": text, "narrative": {"type": "object", "additionalProperties": {"type": "string"}, "description": "Report sections: summary, impact-users, impact-staff, impact-partners, impact-other, trigger, detection, resolution, root-causes, went-well, went-wrong, got-lucky"}}), &[]),
                "StatusChange": s(json!({"status": text}), &["status"]),
                "SeverityChange": s(json!({"severity": text}), &["severity"]),
                "RoleAssignment": s(json!({"role": text, "person": text}), &["role", "person"]),
                "Note": s(json!({"text": text, "at": {"type": "string", "description": "HH:MM (UTC today), YYYY-MM-DD HH:MM or RFC 3339"}}), &["text"]),
                "Update": s(json!({"text": text}), &["text"]),
                "NoteText": s(json!({"text": text}), &["text"]),
                "KeyMoment": s(json!({"key": {"type": "boolean"}}), &["key"]),
                "NewAction": s(json!({"text": text, "type": {"type": "string", "enum": ["Investigate", "Mitigate", "Repair", "Detect", "Prevent"]}, "priority": {"type": "string", "enum": ["P0", "P1", "P2", "P3"]}, "owner": text, "link": {"type": "string", "format": "uri"}}), &["text", "type", "priority"]),
                "Impact": s(json!({"detected": text, "started": text, "mitigated": text, "ended": text}), &[]),
                "Incident": {"type": "object", "description": "The incident row: id, number, title, description, severity, status, team, security, drill, channel_name, declared_by, declared_at, impact, resolved_at, closed_at, narrative, updated_at"},
                "IncidentDetail": {"type": "object", "properties": {"incident": {"$ref": "#/components/schemas/Incident"}, "roles": {"type": "array"}, "timeline": {"type": "array"}, "updates": {"type": "array"}, "actions": {"type": "array"}, "resources": {"type": "array"}}, "required": ["incident", "roles", "timeline", "updates", "actions", "resources"]},
                "IncidentPage": {"type": "object", "properties": {"total": {"type": "integer"}, "page": {"type": "integer"}, "per_page": {"type": "integer"}, "incidents": {"type": "array", "items": {"$ref": "#/components/schemas/Incident"}}}, "required": ["total", "page", "per_page", "incidents"]},
                "Report": {"type": "string"},
                "OpenApi": {"type": "object"},
                "AlertmanagerPayload": {"type": "object", "description": "Alertmanager's webhook body (version \"4\") or Grafana's (version \"1\"): groupKey, status, alerts[] {status, labels, annotations, generatorURL, fingerprint}, commonLabels, commonAnnotations, externalURL; unknown fields are ignored", "required": ["version", "groupKey", "alerts"]},
                "AlertEvent": {"type": "object", "properties": {"dedup_key": text, "title": text, "severity": text, "status": {"type": "string", "enum": ["firing", "resolved"]}, "source_url": {"type": "string", "format": "uri"}, "details": {}}, "required": ["dedup_key", "title"]},
                "AlertReceipt": {"type": "object", "properties": {"outcome": {"type": "string", "enum": ["declared", "attached", "recorded"]}, "incident": {"type": "object"}, "timeline_entries": {"type": "integer"}, "action": text}, "required": ["outcome"]}
            }
        }
    });
    if let (Some(all), serde_json::Value::Object(more)) = (
        doc["components"]["schemas"].as_object_mut(),
        care::schemas(),
    ) {
        all.extend(more);
    }
    doc
}

/// Every documented (method, path), for tests that check the description against the router.
pub fn documented_routes() -> Vec<(&'static str, &'static str)> {
    operations()
        .into_iter()
        .map(|(op, _)| (op.method, op.path))
        .collect()
}
