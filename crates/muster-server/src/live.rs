//! Live pages: server-sent events that say "this changed", and the small first-party
//! script (`assets/live.js`, served by the binary under the same CSP) that then re-reads
//! the page and swaps its live regions. Without JavaScript nothing listens and the pages
//! offer a refresh link.
//!
//! A stream wakes on the engine's change announcements ([`muster_engine::Engine::changes`])
//! and re-reads now and then ([`POLL`]) to see writes this process did not announce (a
//! CLI on the same database). It sends an event only when what the viewer may see
//! changed: an incident page's stream, when its incident did; the list's, when an
//! incident the viewer may see did (a security incident they may not see sends nothing).
//! Streams are bounded ([`MAX_STREAMS`]) and end when the server shuts down.

use crate::AppState;
use crate::auth::Viewer;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use muster_core::IncidentRef;
use muster_core::ids::IncidentId;
use muster_engine::Engine;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// How often a stream re-reads its incident even when nothing was announced.
pub const POLL: Duration = Duration::from_secs(5);
/// Open live streams at most; beyond, a page is told to try later (its script retries,
/// and the refresh link always works).
pub const MAX_STREAMS: usize = 1024;

/// What a stream watches.
enum Watch {
    /// One incident, as last sent.
    Incident(Box<muster_core::incident::IncidentDetail>),
    /// Any incident this viewer may see.
    List(Viewer),
}

struct Stream {
    engine: Arc<Engine>,
    changes: tokio::sync::broadcast::Receiver<IncidentId>,
    closing: tokio::sync::watch::Receiver<bool>,
    tick: tokio::time::Interval,
    watch: Watch,
    _slot: tokio::sync::OwnedSemaphorePermit,
}

impl Stream {
    /// Wait for the next change worth telling; None when the server shuts down.
    async fn next(&mut self) -> Option<Event> {
        loop {
            let changed: Option<IncidentId> = tokio::select! {
                _ = self.closing.changed() => return None,
                r = self.changes.recv() => match r {
                    Ok(id) => Some(id),
                    // Missed some: re-read as if told.
                    Err(RecvError::Lagged(_)) => None,
                    Err(RecvError::Closed) => return None,
                },
                _ = self.tick.tick() => None,
            };
            if let Some(e) = self.check(changed).await {
                return Some(e);
            }
        }
    }

    async fn check(&mut self, changed: Option<IncidentId>) -> Option<Event> {
        match &mut self.watch {
            Watch::Incident(last) => {
                let id = last.incident.id;
                if changed.is_some_and(|c| c != id) {
                    return None;
                }
                let fresh = self.engine.get(IncidentRef::Id(id)).await.ok()?;
                if fresh == **last {
                    return None;
                }
                **last = fresh;
                Some(changed_event(&last.incident.updated_at.to_rfc3339()))
            }
            Watch::List(viewer) => {
                // The list re-reads only when told: a re-read of every page on each tick
                // would cost more than it finds.
                let id = changed?;
                let d = self.engine.get(IncidentRef::Id(id)).await.ok()?;
                viewer
                    .may_see(&d, "web")
                    .then(|| changed_event(&d.incident.updated_at.to_rfc3339()))
            }
        }
    }
}

fn changed_event(version: &str) -> Event {
    Event::default().event("changed").data(version)
}

fn stream(state: &AppState, watch: Watch) -> Response {
    let Ok(slot) = state.live_slots.clone().try_acquire_owned() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "10")],
            "too many live pages\n",
        )
            .into_response();
    };
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.reset();
    let s = Stream {
        engine: state.engine.clone(),
        changes: state.engine.changes(),
        closing: state.closing.subscribe(),
        tick,
        watch,
        _slot: slot,
    };
    let events = futures_util::stream::unfold(s, |mut s| async move {
        let e = s.next().await?;
        Some((Ok::<_, std::convert::Infallible>(e), s))
    });
    let mut res = Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(20)))
        .into_response();
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    res
}

/// `GET /incidents/{id}/events`: one incident's changes.
pub async fn incident_events(
    State(state): State<AppState>,
    page: crate::pages::PageCtx,
    Path(id): Path<String>,
) -> Response {
    match crate::pages::load(&state, &page, &id).await {
        Ok(d) => stream(&state, Watch::Incident(Box::new(d))),
        Err(r) => r,
    }
}

/// `GET /events`: changes to any incident the viewer may see, for the list.
pub async fn list_events(State(state): State<AppState>, page: crate::pages::PageCtx) -> Response {
    stream(&state, Watch::List(page.viewer().clone()))
}

/// `GET /assets/live.js`.
pub async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../assets/live.js"),
    )
}
