//! Reminders in the API (`muster_engine::care`): read them, snooze them, dismiss them.

use super::{ApiError, ApiPath, Body, Op, engine_error, visible};
use crate::AppState;
use crate::auth::Viewer;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use axum::{Extension, Json};
use muster_core::{IncidentRef, Lang};
use serde::Deserialize;
use serde_json::json;

pub(super) fn operations() -> Vec<(Op, MethodRouter<AppState>)> {
    vec![
        (
            Op {
                method: "get",
                path: "/incidents/{id}/reminders",
                id: "listReminders",
                summary: "The incident's reminders and when each is next due",
                body: None,
                response: "Reminders",
                success: 200,
            },
            get(reminders),
        ),
        (
            Op {
                method: "post",
                path: "/incidents/{id}/snooze",
                id: "snoozeReminders",
                summary: "Put reminders off (one key, or all but the stale nudge)",
                body: Some("Snooze"),
                response: "Snoozed",
                success: 200,
            },
            post(snooze),
        ),
        (
            Op {
                method: "post",
                path: "/incidents/{id}/dismiss",
                id: "dismissReminder",
                summary: "Stop a reminder for this incident",
                body: Some("Dismiss"),
                response: "Reminders",
                success: 200,
            },
            post(dismiss),
        ),
    ]
}

/// The schemas the operations above name.
pub(super) fn schemas() -> serde_json::Value {
    let text = json!({"type": "string"});
    let reminder = json!({"type": "object", "properties": {
        "key": text, "kind": {"type": "string", "enum": ["update", "role", "stale"]},
        "role": text, "due": {"type": ["string", "null"], "format": "date-time"},
        "last_sent": {"type": ["string", "null"]}, "snoozed_until": {"type": ["string", "null"]},
        "dismissed": {"type": "boolean"}}, "required": ["key", "kind", "due", "dismissed"]});
    json!({
        "Snooze": {"type": "object", "additionalProperties": false, "properties": {"duration": {"type": "string", "description": "Whole numbers with s, m, h or d: 30m, 1h, 2d"}, "key": text}, "required": ["duration"]},
        "Dismiss": {"type": "object", "additionalProperties": false, "properties": {"key": text}, "required": ["key"]},
        "Reminders": {"type": "array", "items": reminder},
        "Snoozed": {"type": "object", "properties": {"until": {"type": "string", "format": "date-time"}, "reminders": {"$ref": "#/components/schemas/Reminders"}}, "required": ["until", "reminders"]},
    })
}

async fn reminders(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Extension(lang): Extension<Lang>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let d = visible(&state, &viewer, lang, &id).await?;
    let list = state
        .engine
        .reminders(&d)
        .await
        .map_err(|e| engine_error(&e, lang))?;
    Ok(Json(list).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SnoozeBody {
    duration: String,
    key: Option<String>,
}

async fn snooze(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Extension(lang): Extension<Lang>,
    ApiPath(id): ApiPath<String>,
    Body(b): Body<SnoozeBody>,
) -> Result<Response, ApiError> {
    let d = visible(&state, &viewer, lang, &id).await?;
    let e = &state.engine;
    let (d, until) = e
        .snooze(
            IncidentRef::Id(d.incident.id),
            b.key.as_deref(),
            &b.duration,
            &viewer.author("api"),
        )
        .await
        .map_err(|e| engine_error(&e, lang))?;
    let list = e.reminders(&d).await.map_err(|e| engine_error(&e, lang))?;
    Ok(Json(json!({"until": until, "reminders": list})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DismissBody {
    key: String,
}

async fn dismiss(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Extension(lang): Extension<Lang>,
    ApiPath(id): ApiPath<String>,
    Body(b): Body<DismissBody>,
) -> Result<Response, ApiError> {
    let d = visible(&state, &viewer, lang, &id).await?;
    let e = &state.engine;
    let d = e
        .dismiss(
            IncidentRef::Id(d.incident.id),
            &b.key,
            &viewer.author("api"),
        )
        .await
        .map_err(|e| engine_error(&e, lang))?;
    let list = e.reminders(&d).await.map_err(|e| engine_error(&e, lang))?;
    Ok(Json(list).into_response())
}
