//! Socket Mode: the same handlers as the HTTP endpoints, fed by envelopes.
//!
//! Every envelope is deduplicated with the store's durable idempotency keys, so a
//! redelivery (on another connection, after a reconnect, after a restart) does nothing
//! twice: events by their event id (as over HTTP; reactions in the write that queues
//! them), declaring view submissions by view id in the transaction that declares, other
//! slash commands and interactions by their envelope id. The ack is sent once the handler has recorded what it must
//! (incident, queued steps); when the store cannot remember the envelope, no ack is sent
//! and Slack delivers it again.

use super::{Reply, SlackApp, handle};
use crate::AppState;
use muster_slack::blocks::ids;
use muster_slack::payload::{EventBody, Interaction, SocketEnvelope, SocketPayload};
use muster_slack::socket::{Ack, Handler, SocketMode, SocketModeConfig};
use std::sync::Arc;

/// Socket Mode for this server: `connections` WebSockets opened with the app-level token,
/// envelopes handled like HTTP requests. Run it with [`SocketMode::run`].
pub fn socket_mode(
    state: &AppState,
    app_token: muster_core::Secret,
    config: SocketModeConfig,
) -> Option<SocketMode> {
    let app = state.slack.clone()?;
    let client = app.client.clone();
    let socket = SocketMode::new(
        &client,
        app_token,
        config,
        handler(state.clone(), app.clone()),
    );
    // For /metrics.
    let _ = app.socket_stats.set(socket.stats());
    Some(socket)
}

/// The envelope handler Socket Mode calls.
pub fn handler(state: AppState, app: Arc<SlackApp>) -> Handler {
    Arc::new(move |env| {
        let (state, app) = (state.clone(), app.clone());
        Box::pin(async move { envelope(&state, app, env).await })
    })
}

async fn envelope(state: &AppState, app: Arc<SlackApp>, env: SocketEnvelope) -> Ack {
    if env.retry_attempt.unwrap_or(0) > 0 {
        tracing::debug!(
            envelope = %env.envelope_id,
            attempt = env.retry_attempt,
            reason = env.retry_reason.as_deref().unwrap_or(""),
            "Slack redelivered an envelope"
        );
    }
    let reply = match env.payload {
        SocketPayload::Events(EventBody::EventCallback(cb)) => {
            handle::event_callback(state, &app, *cb).await
        }
        SocketPayload::Events(_) => Reply::Empty,
        SocketPayload::SlashCommand(cmd) => match first_delivery(state, &env.envelope_id).await {
            Some(true) => handle::command(state, app, *cmd).await,
            Some(false) => Reply::Empty,
            None => Reply::Unavailable,
        },
        // A declaration is deduplicated by view id in the transaction that declares
        // (`declare_once`): remembering the envelope first would lose it on a crash.
        SocketPayload::Interactive(i) if is_declaration(&i) => {
            handle::interaction(state, app, *i).await
        }
        SocketPayload::Interactive(i) => match first_delivery(state, &env.envelope_id).await {
            Some(true) => handle::interaction(state, app, *i).await,
            Some(false) => Reply::Empty,
            None => Reply::Unavailable,
        },
    };
    match reply {
        Reply::Empty => Ack::Send(None),
        Reply::Json(v) => Ack::Send(Some(v)),
        Reply::Unavailable => Ack::Withhold,
    }
}

fn is_declaration(i: &Interaction) -> bool {
    matches!(i, Interaction::ViewSubmission(sub)
        if sub.view.callback_id == ids::CALLBACK_DECLARE
            || sub.view.callback_id == ids::CALLBACK_DECLARE_FROM_MESSAGE)
}

/// Whether this envelope id is new (`None` when the store cannot say).
async fn first_delivery(state: &AppState, envelope_id: &str) -> Option<bool> {
    let key = format!("slack:envelope:{envelope_id}");
    match state.engine.remember_delivery(&key).await {
        Ok(new) => Some(new),
        Err(e) => {
            tracing::warn!(error = %e, "could not record a Socket Mode envelope");
            None
        }
    }
}
