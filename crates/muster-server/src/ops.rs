//! Operations endpoints: liveness, readiness and Prometheus metrics.

use crate::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use std::fmt::Write;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready when the database would take a write now: a write probe that is rolled back
/// (see `Store::check_writable`), so a locked, read-only or full database takes the
/// instance out of rotation, with the reason's stable code in the body.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.engine.readiness().await {
        Ok(()) => (StatusCode::OK, "ready\n".to_owned()),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: database {}: {}\n", e.code(), e),
        ),
    }
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut out = String::with_capacity(4096);
    let record = state.engine.metrics().await;
    match &record {
        Ok(m) => {
            let rows = m.incidents.clone();
            let _ = writeln!(
                out,
                "# HELP muster_incidents Incidents by status and severity (drills and security incidents excluded)."
            );
            let _ = writeln!(out, "# TYPE muster_incidents gauge");
            for (status, severity, n) in rows {
                let _ = writeln!(
                    out,
                    "muster_incidents{{status=\"{}\",severity=\"{}\"}} {n}",
                    crate::prometheus::escape(&status),
                    crate::prometheus::escape(&severity)
                );
            }
            let _ = writeln!(
                out,
                "# HELP muster_up Whether the database answered this scrape."
            );
            let _ = writeln!(out, "# TYPE muster_up gauge");
            let _ = writeln!(out, "muster_up 1");
        }
        Err(_) => {
            let _ = writeln!(out, "# TYPE muster_up gauge");
            let _ = writeln!(out, "muster_up 0");
        }
    }
    if let Ok(m) = &record {
        let (pending, failed) = (m.steps_pending, m.steps_failed);
        let _ = writeln!(
            out,
            "# HELP muster_workflow_steps Workflow steps not yet done."
        );
        let _ = writeln!(out, "# TYPE muster_workflow_steps gauge");
        let _ = writeln!(out, "muster_workflow_steps{{state=\"pending\"}} {pending}");
        let _ = writeln!(out, "muster_workflow_steps{{state=\"failed\"}} {failed}");
        crate::ops_care::render(&m.reminders, &mut out);
    }
    if let Some(socket) = state.slack.as_ref().and_then(|a| a.socket_stats.get()) {
        let _ = writeln!(
            out,
            "# HELP muster_slack_socket_connections Socket Mode connections open now."
        );
        let _ = writeln!(out, "# TYPE muster_slack_socket_connections gauge");
        let _ = writeln!(out, "muster_slack_socket_connections {}", socket.open());
        let _ = writeln!(
            out,
            "# HELP muster_slack_socket_events_total Socket Mode connections made, dropped and replaced on Slack's request, and envelopes acked."
        );
        let _ = writeln!(out, "# TYPE muster_slack_socket_events_total counter");
        for (event, n) in [
            ("connect", socket.connects()),
            ("drop", socket.drops()),
            ("refresh", socket.refreshes()),
            ("ack", socket.acks()),
        ] {
            let _ = writeln!(
                out,
                "muster_slack_socket_events_total{{event=\"{event}\"}} {n}"
            );
        }
    }
    state.http.render(&mut out);
    state.abuse.render(&mut out);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
}
