//! `POST /api/v1/alerts/alertmanager` and `/api/v1/alerts/webhook`: thin handlers that
//! check the token, parse the delivery, redact it and hand it to
//! [`Engine::receive_alerts`](muster_engine::Engine::receive_alerts), which records it
//! before the answer. 202 once stored; 400 for what retrying cannot fix (Alertmanager does
//! not retry 4xx); 503 when the database is in trouble (Alertmanager retries 5xx).

use crate::AppState;
use crate::api::error_response;
use crate::auth::Viewer;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use muster_core::Lang;
use muster_core::alert::{AlertBatch, AlertError, parse_alertmanager, parse_webhook};
use muster_core::i18n::Args;
use muster_engine::AlertReceipt;
use serde_json::json;
use std::sync::{Arc, OnceLock};

/// The redaction rules, compiled on the first alert.
static SCANNER: OnceLock<Arc<muster_scan::Scanner>> = OnceLock::new();

pub(crate) async fn alertmanager(
    State(state): State<AppState>,
    Extension(lang): Extension<Lang>,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let (Some(secret), Some(g), Ok(bytes)) = (
        &state.grafana_secret,
        state
            .engine
            .config()
            .alerts
            .as_ref()
            .and_then(|a| a.grafana.as_ref()),
        &body,
    ) && !grafana_signed(secret, g, &headers, bytes)
    {
        return error_response(
            StatusCode::UNAUTHORIZED,
            "bad_signature",
            lang.t("alert-error-bad-signature"),
        );
    }
    receive(&state, lang, &viewer, body, parse_alertmanager).await
}

/// Grafana's signature (grafana/alerting http/hmac.go): hex HMAC-SHA256 over
/// `timestamp:body` when a timestamp header is configured, else over the body.
fn grafana_signed(
    secret: &muster_core::Secret,
    g: &muster_core::config::GrafanaSignature,
    headers: &HeaderMap,
    body: &[u8],
) -> bool {
    use hmac::{Hmac, KeyInit, Mac};
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let Some(given) = get(&g.header).and_then(|h| hex::decode(h.trim()).ok()) else {
        return false;
    };
    let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret.expose().as_bytes())
        .expect("HMAC accepts keys of any length");
    if let Some(ts) = &g.timestamp_header {
        let Some(t) = get(ts) else {
            return false;
        };
        mac.update(t.as_bytes());
        mac.update(b":");
    }
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

pub(crate) async fn webhook(
    State(state): State<AppState>,
    Extension(lang): Extension<Lang>,
    Extension(viewer): Extension<Viewer>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let label = state
        .engine
        .config()
        .alerts
        .as_ref()
        .map_or("severity", |a| a.severity_label.as_str())
        .to_owned();
    receive(&state, lang, &viewer, body, |b| parse_webhook(b, &label)).await
}

async fn receive(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    body: Result<Bytes, BytesRejection>,
    parse: impl FnOnce(&[u8]) -> Result<AlertBatch, AlertError>,
) -> Response {
    // Alerts need a token even on loopback: a local process must not page people.
    if viewer.name.is_none() {
        return error_response(
            StatusCode::UNAUTHORIZED,
            "token_required",
            lang.t("alert-error-token-required"),
        );
    }
    if state.engine.config().alerts.is_none() {
        return error_response(
            StatusCode::NOT_FOUND,
            "alerts_not_configured",
            lang.t("alert-error-not-configured"),
        );
    }
    let body = match body {
        Ok(b) => b,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                lang.t("alert-error-too-large"),
            );
        }
        Err(e) => {
            return error_response(e.status(), "bad_request_body", e.body_text());
        }
    };
    let batch = match parse(&body) {
        Ok(b) => b,
        Err(e) => return error_response(StatusCode::BAD_REQUEST, e.code(), message(&e, lang)),
    };
    let scanner = SCANNER
        .get_or_init(|| Arc::new(muster_scan::Scanner::with_default_rules()))
        .clone();
    let payload = muster_scan::Redactor::new(scanner).redact_str(&String::from_utf8_lossy(&body));
    match state.engine.receive_alerts(&batch, payload).await {
        Ok(r) => (StatusCode::ACCEPTED, Json(receipt(&r))).into_response(),
        Err(e) => {
            let res = error_response(
                if e.is_user_error() {
                    StatusCode::UNPROCESSABLE_ENTITY
                } else {
                    StatusCode::SERVICE_UNAVAILABLE
                },
                e.code(),
                e.message(lang),
            );
            crate::trouble::with_retry_after(res, &e)
        }
    }
}

fn receipt(r: &AlertReceipt) -> serde_json::Value {
    match r {
        AlertReceipt::Declared { id, number } => {
            json!({"outcome": "declared", "incident": {"id": id.to_string(), "number": format!("INC-{number}")}})
        }
        AlertReceipt::Attached {
            id,
            number,
            entries,
        } => {
            json!({"outcome": "attached", "incident": {"id": id.to_string(), "number": format!("INC-{number}")}, "timeline_entries": entries})
        }
        AlertReceipt::Recorded { action } => {
            json!({"outcome": "recorded", "action": action.as_str()})
        }
    }
}

fn message(e: &AlertError, lang: Lang) -> String {
    let mut a = Args::new();
    let id = match e {
        AlertError::NotJson(d) => {
            a.str("detail", d);
            "alert-error-not-json"
        }
        AlertError::WrongVersion(v) => {
            a.str("value", v);
            "alert-error-wrong-version"
        }
        AlertError::NoAlerts => "alert-error-no-alerts",
        AlertError::Missing(f) => {
            a.str("field", *f);
            "alert-error-missing-field"
        }
        AlertError::BadStatus(v) => {
            a.str("value", v);
            "alert-error-bad-status"
        }
    };
    lang.format(id, &a)
}
