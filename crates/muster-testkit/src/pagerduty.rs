//! A PagerDuty Events API v2 fake (`POST /v2/enqueue`), stateful, that refuses what the
//! real service refuses (PagerDuty/developer-docs, events-API-v2): a routing key that is not
//! 32 characters, an unknown `event_action`, a trigger without `payload.summary` (at most
//! 1024 characters), `payload.source` or a known `payload.severity`, a `dedup_key` over 255
//! characters, an acknowledge or resolve without `dedup_key`, a body over 512 KB. Accepted
//! events answer 202 with the key; a trigger without `dedup_key` gets a fresh one.
//! Acknowledge and resolve are dropped (still 202) unless a trigger with the same routing
//! key and dedup key is open, as PagerDuty does. Faults can be queued: the next requests
//! answer 429 or 500 without being processed.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// An accepted event, as received.
#[derive(Debug, Clone, PartialEq)]
pub struct PdEvent {
    pub action: String,
    pub dedup_key: String,
    pub routing_key: String,
    pub body: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PdAlertState {
    Triggered,
    Acknowledged,
    Resolved,
}

#[derive(Default)]
struct World {
    events: Vec<PdEvent>,
    /// (routing key, dedup key) -> state.
    alerts: BTreeMap<(String, String), PdAlertState>,
    /// Answers forced on the next requests, in order.
    faults: VecDeque<u16>,
    /// Every request received, accepted or not: (status answered, body).
    requests: Vec<(u16, Value)>,
    next_key: u64,
}

pub struct PagerDutySim {
    world: Arc<Mutex<World>>,
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for PagerDutySim {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl PagerDutySim {
    pub async fn start() -> PagerDutySim {
        let world = Arc::new(Mutex::new(World::default()));
        let app = axum::Router::new()
            .route("/v2/enqueue", axum::routing::post(enqueue))
            .with_state(world.clone());
        let (addr, task) = crate::serve_local(app).await;
        PagerDutySim { world, addr, task }
    }

    /// The events URL to configure (`[paging.pagerduty] events_url`).
    pub fn events_url(&self) -> String {
        format!("http://{}/v2/enqueue", self.addr)
    }

    /// Answer the next requests with these statuses (429, 500…) before processing any.
    pub fn fail_next(&self, statuses: &[u16]) {
        self.world.lock().unwrap().faults.extend(statuses);
    }

    /// Accepted events, in order.
    pub fn events(&self) -> Vec<PdEvent> {
        self.world.lock().unwrap().events.clone()
    }

    /// Every request and the status it got.
    pub fn requests(&self) -> Vec<(u16, Value)> {
        self.world.lock().unwrap().requests.clone()
    }

    pub fn alert(&self, routing_key: &str, dedup_key: &str) -> Option<PdAlertState> {
        self.world
            .lock()
            .unwrap()
            .alerts
            .get(&(routing_key.to_owned(), dedup_key.to_owned()))
            .copied()
    }
}

const MAX_BODY: usize = 512 * 1024;
const SEVERITIES: [&str; 4] = ["critical", "error", "warning", "info"];

fn invalid(errors: Vec<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"status": "invalid event", "message": "Event object is invalid", "errors": errors})),
    )
        .into_response()
}

/// What is wrong with an event, as PagerDuty words it.
fn check(v: &Value) -> Vec<String> {
    let mut errors = vec![];
    let s = |k: &str| v.get(k).and_then(Value::as_str);
    match s("routing_key") {
        Some(k) if k.chars().count() == 32 => {}
        _ => errors.push("'routing_key' must be a 32 character integration key".into()),
    }
    let action = s("event_action");
    if !matches!(action, Some("trigger" | "acknowledge" | "resolve")) {
        errors.push(
            "'event_action' is invalid (must be one of trigger, acknowledge, resolve)".into(),
        );
    }
    if let Some(k) = v.get("dedup_key") {
        match k.as_str() {
            Some(k) if !k.is_empty() && k.chars().count() <= 255 => {}
            _ => errors.push("'dedup_key' must be a string of at most 255 characters".into()),
        }
    } else if action != Some("trigger") {
        errors.push("'dedup_key' is required for acknowledge and resolve".into());
    }
    if action == Some("trigger") {
        let p = v.get("payload");
        let ps = |k: &str| p.and_then(|p| p.get(k)).and_then(Value::as_str);
        match ps("summary") {
            Some(t) if !t.is_empty() && t.chars().count() <= 1024 => {}
            _ => errors.push("'payload.summary' is missing or longer than 1024 characters".into()),
        }
        if ps("source").is_none_or(str::is_empty) {
            errors.push("'payload.source' is missing".into());
        }
        if !ps("severity").is_some_and(|s| SEVERITIES.contains(&s)) {
            errors.push("'payload.severity' must be one of critical, error, warning, info".into());
        }
    }
    if let Some(links) = v.get("links") {
        let ok = links.as_array().is_some_and(|a| {
            a.iter()
                .all(|l| l.get("href").and_then(Value::as_str).is_some())
        });
        if !ok {
            errors.push("'links' must be an array of objects with an href".into());
        }
    }
    errors
}

async fn enqueue(State(world): State<Arc<Mutex<World>>>, body: Bytes) -> Response {
    let mut w = world.lock().unwrap();
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if let Some(status) = w.faults.pop_front() {
        w.requests.push((status, parsed));
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return (
            code,
            Json(json!({"status": "error", "message": "injected"})),
        )
            .into_response();
    }
    if body.len() > MAX_BODY {
        w.requests.push((413, Value::Null));
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    }
    if !parsed.is_object() {
        w.requests.push((400, parsed));
        return invalid(vec!["the body is not a JSON object".into()]);
    }
    let errors = check(&parsed);
    if !errors.is_empty() {
        w.requests.push((400, parsed));
        return invalid(errors);
    }
    w.requests.push((202, parsed.clone()));
    let action = parsed["event_action"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let routing_key = parsed["routing_key"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let dedup_key = match parsed.get("dedup_key").and_then(Value::as_str) {
        Some(k) => k.to_owned(),
        None => {
            w.next_key += 1;
            format!("pd-fake-{}", w.next_key)
        }
    };
    let key = (routing_key.clone(), dedup_key.clone());
    let open = matches!(
        w.alerts.get(&key),
        Some(PdAlertState::Triggered | PdAlertState::Acknowledged)
    );
    let accepted = match action.as_str() {
        "trigger" => {
            // A trigger on an open alert is deduplicated into it; after resolve it opens anew.
            if !open {
                w.alerts.insert(key, PdAlertState::Triggered);
            }
            true
        }
        // Without an open alert of the same routing key, PagerDuty drops it.
        "acknowledge" if open => {
            w.alerts.insert(key, PdAlertState::Acknowledged);
            true
        }
        "resolve" if open => {
            w.alerts.insert(key, PdAlertState::Resolved);
            true
        }
        _ => false,
    };
    if accepted {
        w.events.push(PdEvent {
            action,
            dedup_key: dedup_key.clone(),
            routing_key,
            body: parsed,
        });
    }
    (
        StatusCode::ACCEPTED,
        Json(json!({"status": "success", "message": "Event processed", "dedup_key": dedup_key})),
    )
        .into_response()
}
