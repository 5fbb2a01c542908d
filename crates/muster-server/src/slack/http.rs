//! The Slack HTTP endpoints: verify the signature, parse, call the shared handler, answer
//! its [`Reply`].

use super::{Reply, SlackApp, handle};
use crate::AppState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::post;
use muster_slack::payload::{EventBody, Interaction, SlashCommand};
use std::sync::Arc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/slack/commands", post(commands))
        .route("/slack/interactions", post(interactions))
        .route("/slack/events", post(events))
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        match self {
            Reply::Empty => StatusCode::OK.into_response(),
            Reply::Json(v) => Json(v).into_response(),
            Reply::Unavailable => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        }
    }
}

/// Verify, or answer why not. Slack never shows this to people; operators see the status.
fn verified<'a>(
    state: &'a AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<&'a Arc<SlackApp>, (StatusCode, &'static str)> {
    let Some(app) = state.slack.as_ref() else {
        return Err((StatusCode::NOT_FOUND, "Slack is not configured\n"));
    };
    let Some(verifier) = app.verifier.as_ref() else {
        return Err((
            StatusCode::NOT_FOUND,
            "Slack uses Socket Mode here, not request URLs\n",
        ));
    };
    let now = state.engine.now().timestamp();
    if let Err(e) = verifier.verify_headers(headers, body, now) {
        tracing::warn!(error = %e, "refused a Slack request with a bad signature");
        return Err((StatusCode::UNAUTHORIZED, "invalid signature\n"));
    }
    let get = |h: &str| headers.get(h).and_then(|v| v.to_str().ok()).unwrap_or("");
    let ts = get(muster_slack::signature::TIMESTAMP_HEADER)
        .parse()
        .unwrap_or(now);
    let signature = get(muster_slack::signature::SIGNATURE_HEADER);
    if app.replays.check(signature, ts, now) == muster_slack::replay::Seen::Again {
        // Seen already: a replay, or a Slack retry of what is being handled. Either way,
        // acting again would duplicate it; answering 200 stops Slack's retries.
        tracing::info!(
            retry = ?muster_slack::signature::retry_num(headers),
            "ignored a Slack request whose signature was already used"
        );
        return Err((StatusCode::OK, ""));
    }
    Ok(app)
}

/// Verify, then parse; or the response that says why not.
fn parsed<T, E: std::fmt::Display>(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
    parse: impl FnOnce(&[u8]) -> Result<T, E>,
) -> Result<(Arc<SlackApp>, T), (StatusCode, String)> {
    let app = verified(state, headers, body).map_err(|(code, why)| (code, why.to_owned()))?;
    let value = parse(body).map_err(|e| (StatusCode::BAD_REQUEST, e.to_string()))?;
    Ok((app.clone(), value))
}

async fn commands(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    match parsed(&state, &headers, &body, SlashCommand::from_form) {
        Ok((app, cmd)) => handle::command(&state, app, cmd).await.into_response(),
        Err(r) => r.into_response(),
    }
}

async fn interactions(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    match parsed(&state, &headers, &body, Interaction::from_form) {
        Ok((app, i)) => handle::interaction(&state, app, i).await.into_response(),
        Err(r) => r.into_response(),
    }
}

async fn events(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let app = match verified(&state, &headers, &body) {
        Ok(a) => a.clone(),
        Err(r) => return r.into_response(),
    };
    match EventBody::from_json(&body) {
        Ok(v @ EventBody::UrlVerification { .. }) => Json(v.challenge_response()).into_response(),
        Ok(EventBody::EventCallback(cb)) => handle::event_callback(&state, &app, *cb)
            .await
            .into_response(),
        Ok(_) => StatusCode::OK.into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    }
}
