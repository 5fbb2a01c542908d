//! Socket Mode: Slack delivers events, slash commands and interactions over WebSockets that
//! Muster opens, for deployments that cannot expose a public URL.
//!
//! [`SocketMode::run`] keeps `connections` WebSockets open at once. Each connection:
//!
//! 1. asks `apps.connections.open` (with the app-level `xapp-` token) for a fresh URL, and
//!    connects (`wss://` with rustls for Slack, `ws://` for the simulator);
//! 2. waits for `hello`;
//! 3. gives every envelope to the [`Handler`], then sends the ack it returns
//!    (`{"envelope_id": …, "payload": …}`). A handler that cannot accept an envelope
//!    durably answers [`Ack::Withhold`]: no ack is sent and Slack redelivers it later;
//! 4. on `disconnect` with reason `warning` or `refresh_requested` (or any reason but
//!    `link_disabled`), opens its replacement first and closes itself once the
//!    replacement has said `hello` (still acking what arrives meanwhile);
//! 5. on `disconnect` with reason `link_disabled` (Socket Mode was turned off for the app),
//!    stops every connection: `run` returns [`SocketModeError::LinkDisabled`] and nothing
//!    reconnects;
//! 6. when the socket drops, fails to connect, or stays silent too long, is replaced after
//!    a jittered exponential backoff (reset by the next `hello`).
//!
//! Redeliveries ("no envelope handled twice") are the handler's business: Slack may
//! redeliver an envelope on another connection, so deduplication must be shared by all of
//! them (Muster's handler uses the durable idempotency keys of the store).
//!
//! The URL's ticket and the app token are never logged.

use crate::client::{SlackClient, SlackError};
use crate::payload::{SocketEnvelope, SocketMessage, socket_ack};
use futures_util::{SinkExt, StreamExt};
use muster_core::Secret;
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;

/// A log filter directive to add wherever logs are configured: tungstenite's handshake
/// traces quote the request line, and with it the URL's one-time ticket.
pub const QUIET_HANDSHAKE: &str = "tungstenite::handshake=debug";

/// How long Slack waits for an ack: the longest a closing connection waits for the
/// envelopes it is handling.
const ACK_WINDOW: Duration = Duration::from_secs(3);

/// The most connections Slack allows an app at once.
pub const MAX_CONNECTIONS: usize = 10;

/// What to answer for an envelope.
#[derive(Debug, Clone, PartialEq)]
pub enum Ack {
    /// Acknowledge, with an optional response payload (a slash command's message, a view
    /// submission's `response_action`).
    Send(Option<Value>),
    /// Do not acknowledge: the envelope was not accepted (e.g. the database is down), so
    /// Slack will deliver it again.
    Withhold,
}

/// Handles one envelope. Called concurrently, on any connection; must be quick (Slack
/// waits 3 seconds for the ack): record, enqueue, and leave slow work to the background.
pub type Handler =
    Arc<dyn Fn(SocketEnvelope) -> Pin<Box<dyn Future<Output = Ack> + Send>> + Send + Sync>;

/// How Socket Mode behaves.
#[derive(Debug, Clone)]
pub struct SocketModeConfig {
    /// Connections kept open at once (1 to [`MAX_CONNECTIONS`]).
    pub connections: usize,
    /// The first reconnection delay, doubled on each failure in a row…
    pub backoff_min: Duration,
    /// …up to this.
    pub backoff_max: Duration,
    /// A connection with nothing received for this long is considered dead. A ping is
    /// sent at a third of it.
    pub idle_timeout: Duration,
    /// How long to wait for `hello` after connecting.
    pub hello_timeout: Duration,
}

impl Default for SocketModeConfig {
    fn default() -> Self {
        SocketModeConfig {
            connections: 2,
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(90),
            hello_timeout: Duration::from_secs(15),
        }
    }
}

/// Why Socket Mode stopped for good.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SocketModeError {
    /// Slack disabled Socket Mode for the app (`disconnect` with reason `link_disabled`).
    #[error("Slack disabled Socket Mode for this app (link_disabled)")]
    LinkDisabled,
    /// `apps.connections.open` refused the token (`invalid_auth`, `not_allowed_token_type`…).
    #[error("apps.connections.open refused the app-level token: {0}")]
    Refused(String),
}

/// Live counters, shared with whoever started Socket Mode (tests, metrics, readiness).
#[derive(Debug, Default)]
pub struct SocketStats {
    open: AtomicUsize,
    connects: AtomicU64,
    drops: AtomicU64,
    refreshes: AtomicU64,
    acks: AtomicU64,
}

impl SocketStats {
    /// Connections that said `hello` and are not closed yet.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }
    /// Connections that said `hello`, since the start.
    pub fn connects(&self) -> u64 {
        self.connects.load(Ordering::SeqCst)
    }
    /// Connections lost without a `disconnect` (dropped, failed, silent).
    pub fn drops(&self) -> u64 {
        self.drops.load(Ordering::SeqCst)
    }
    /// `disconnect` messages other than `link_disabled` (replaced connections).
    pub fn refreshes(&self) -> u64 {
        self.refreshes.load(Ordering::SeqCst)
    }
    /// Acks sent.
    pub fn acks(&self) -> u64 {
        self.acks.load(Ordering::SeqCst)
    }
}

/// The Socket Mode transport. See the module documentation.
pub struct SocketMode {
    client: SlackClient,
    config: SocketModeConfig,
    handler: Handler,
    stats: Arc<SocketStats>,
}

/// The delay before reconnection attempt `attempt` (0 = the first after a failure): the
/// exponential backoff with "equal jitter", between half of it and all of it.
pub fn backoff(config: &SocketModeConfig, attempt: u32) -> Duration {
    let base = config
        .backoff_min
        .saturating_mul(1u32.checked_shl(attempt.min(20)).unwrap_or(u32::MAX))
        .min(config.backoff_max);
    let half = base / 2;
    half + half.mul_f64(jitter())
}

/// A number in [0, 1) that differs between calls and processes (no extra dependency).
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// What a connection tells the supervisor.
#[derive(Debug)]
enum Report {
    Ready {
        slot: usize,
        generation: u64,
    },
    Refresh {
        slot: usize,
        generation: u64,
    },
    Closed {
        slot: usize,
        generation: u64,
        hello: bool,
    },
    LinkDisabled,
    Refused(String),
}

struct Slot {
    generation: u64,
    attempt: u32,
    /// The connection being replaced, closed once the current one says hello.
    retiring: Vec<watch::Sender<bool>>,
    close: watch::Sender<bool>,
}

impl SocketMode {
    /// `client` is any client for the right base URL; the app token replaces its token for
    /// `apps.connections.open` (the only method Socket Mode calls).
    pub fn new(
        client: &SlackClient,
        app_token: Secret,
        mut config: SocketModeConfig,
        handler: Handler,
    ) -> Self {
        config.connections = config.connections.clamp(1, MAX_CONNECTIONS);
        SocketMode {
            client: client.with_token(app_token),
            config,
            handler,
            stats: Arc::new(SocketStats::default()),
        }
    }

    pub fn stats(&self) -> Arc<SocketStats> {
        self.stats.clone()
    }

    /// Keep the connections open until `shutdown` completes (then `Ok`), Slack disables
    /// Socket Mode, or the token is refused.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), SocketModeError> {
        let this = Arc::new(self);
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut slots: Vec<Slot> = (0..this.config.connections)
            .map(|slot| Slot {
                generation: 0,
                attempt: 0,
                retiring: vec![],
                close: this.spawn(slot, 0, Duration::ZERO, tx.clone()),
            })
            .collect();
        tokio::pin!(shutdown);
        let result = loop {
            let report = tokio::select! {
                _ = &mut shutdown => break Ok(()),
                r = rx.recv() => match r {
                    Some(r) => r,
                    None => break Ok(()),
                },
            };
            match report {
                Report::Ready { slot, generation } if slots[slot].generation == generation => {
                    let s = &mut slots[slot];
                    s.attempt = 0;
                    for old in s.retiring.drain(..) {
                        let _ = old.send(true);
                    }
                }
                Report::Refresh { slot, generation } if slots[slot].generation == generation => {
                    // Open the replacement now; the old one closes when it is ready.
                    let s = &mut slots[slot];
                    s.generation += 1;
                    let close = this.spawn(slot, s.generation, Duration::ZERO, tx.clone());
                    s.retiring.push(std::mem::replace(&mut s.close, close));
                }
                Report::Closed {
                    slot,
                    generation,
                    hello,
                } if slots[slot].generation == generation => {
                    let s = &mut slots[slot];
                    if hello {
                        s.attempt = 0;
                    }
                    let delay = backoff(&this.config, s.attempt);
                    s.attempt = s.attempt.saturating_add(1);
                    s.generation += 1;
                    tracing::info!(
                        connection = slot,
                        delay_ms = delay.as_millis() as u64,
                        "Socket Mode connection lost, reconnecting after a backoff"
                    );
                    s.close = this.spawn(slot, s.generation, delay, tx.clone());
                }
                Report::LinkDisabled => break Err(SocketModeError::LinkDisabled),
                Report::Refused(code) => break Err(SocketModeError::Refused(code)),
                // Reports from connections already replaced.
                _ => {}
            }
        };
        for s in &slots {
            let _ = s.close.send(true);
            for old in &s.retiring {
                let _ = old.send(true);
            }
        }
        match &result {
            Err(SocketModeError::LinkDisabled) => tracing::error!(
                "Slack disabled Socket Mode for this app (link_disabled): Muster no longer \
                 receives Slack events; turn Socket Mode back on in the app settings and \
                 restart, or use the HTTP transport"
            ),
            Err(SocketModeError::Refused(code)) => tracing::error!(
                error = %code,
                "apps.connections.open refused the app-level token: Socket Mode stopped"
            ),
            Ok(()) => tracing::info!("Socket Mode stopped"),
        }
        result
    }

    fn spawn(
        self: &Arc<Self>,
        slot: usize,
        generation: u64,
        delay: Duration,
        tx: mpsc::UnboundedSender<Report>,
    ) -> watch::Sender<bool> {
        let (close_tx, close_rx) = watch::channel(false);
        let this = self.clone();
        tokio::spawn(async move {
            let report = this
                .connection(slot, generation, delay, close_rx, &tx)
                .await;
            let _ = tx.send(report);
        });
        close_tx
    }

    /// One connection, from `apps.connections.open` until it closes; answers the report
    /// that ends it.
    async fn connection(
        &self,
        slot: usize,
        generation: u64,
        delay: Duration,
        mut close: watch::Receiver<bool>,
        tx: &mpsc::UnboundedSender<Report>,
    ) -> Report {
        let closed = |hello| Report::Closed {
            slot,
            generation,
            hello,
        };
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = stopped(&mut close) => return closed(false),
        }
        let url = match self.client.apps_connections_open().await {
            Ok(u) => u,
            Err(e) if is_refusal(&e) => {
                return Report::Refused(e.api_error().unwrap_or_default().to_owned());
            }
            Err(e) => {
                tracing::warn!(connection = slot, error = %e, "apps.connections.open failed");
                self.stats.drops.fetch_add(1, Ordering::SeqCst);
                return closed(false);
            }
        };
        let ws = match tokio_tungstenite::connect_async(url.expose()).await {
            Ok((ws, _)) => ws,
            Err(e) => {
                // The error may quote the URL and its ticket: log its kind only.
                tracing::warn!(
                    connection = slot,
                    error = %ws_error_kind(&e),
                    "could not open the Socket Mode WebSocket"
                );
                self.stats.drops.fetch_add(1, Ordering::SeqCst);
                return closed(false);
            }
        };
        let (mut sink, mut stream) = ws.split();
        let (ack_tx, mut ack_rx) = mpsc::unbounded_channel::<Value>();
        let mut hello = false;
        let mut refreshing = false;
        let ping_every = self.config.idle_timeout / 3;
        let mut last_seen = tokio::time::Instant::now();
        let mut ping = tokio::time::interval(ping_every.max(Duration::from_millis(10)));
        ping.tick().await;
        let end = loop {
            let wait = if hello {
                self.config.idle_timeout
            } else {
                self.config.hello_timeout
            };
            let deadline = last_seen + wait;
            tokio::select! {
                _ = stopped(&mut close) => {
                    // Ack what is being handled before closing: Slack would redeliver it
                    // otherwise, and a redelivery loses the ack's payload.
                    drop(ack_tx);
                    let flush = async {
                        while let Some(ack) = ack_rx.recv().await {
                            if sink.send(Message::text(ack.to_string())).await.is_ok() {
                                self.stats.acks.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                    };
                    let _ = tokio::time::timeout(ACK_WINDOW, flush).await;
                    let _ = sink.send(Message::Close(None)).await;
                    break closed(hello);
                }
                Some(ack) = ack_rx.recv() => {
                    if sink.send(Message::text(ack.to_string())).await.is_ok() {
                        self.stats.acks.fetch_add(1, Ordering::SeqCst);
                    }
                }
                _ = ping.tick() => {
                    let _ = sink.send(Message::Ping(Vec::new().into())).await;
                }
                _ = tokio::time::sleep_until(deadline) => {
                    tracing::warn!(connection = slot, "Socket Mode connection silent too long");
                    self.stats.drops.fetch_add(1, Ordering::SeqCst);
                    break closed(hello);
                }
                msg = stream.next() => {
                    last_seen = tokio::time::Instant::now();
                    let text = match msg {
                        Some(Ok(Message::Text(t))) => t,
                        Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                            if !refreshing {
                                self.stats.drops.fetch_add(1, Ordering::SeqCst);
                            }
                            break closed(hello);
                        }
                        Some(Ok(_)) => continue,
                    };
                    match SocketMessage::from_json(&text) {
                        Ok(SocketMessage::Hello { num_connections }) => {
                            if !hello {
                                hello = true;
                                self.stats.open.fetch_add(1, Ordering::SeqCst);
                                self.stats.connects.fetch_add(1, Ordering::SeqCst);
                            }
                            tracing::info!(connection = slot, ?num_connections, "Socket Mode connected");
                            let _ = tx.send(Report::Ready { slot, generation });
                        }
                        Ok(SocketMessage::Disconnect { reason }) if reason == "link_disabled" => {
                            break Report::LinkDisabled;
                        }
                        Ok(SocketMessage::Disconnect { reason }) => {
                            tracing::info!(connection = slot, %reason, "Slack asked to reconnect");
                            if !refreshing {
                                refreshing = true;
                                self.stats.refreshes.fetch_add(1, Ordering::SeqCst);
                                let _ = tx.send(Report::Refresh { slot, generation });
                            }
                        }
                        Ok(SocketMessage::Envelope(env)) => {
                            let handler = self.handler.clone();
                            let ack_tx = ack_tx.clone();
                            tokio::spawn(async move {
                                let id = env.envelope_id.clone();
                                if let Ack::Send(payload) = handler(*env).await {
                                    let _ = ack_tx.send(socket_ack(&id, payload));
                                }
                            });
                        }
                        Ok(SocketMessage::Other { kind, .. }) => {
                            tracing::debug!(connection = slot, %kind, "ignored a Socket Mode message");
                        }
                        Err(e) => {
                            tracing::warn!(connection = slot, error = %e, "unreadable Socket Mode message");
                        }
                    }
                }
            }
        };
        if hello {
            self.stats.open.fetch_sub(1, Ordering::SeqCst);
        }
        end
    }
}

/// Completes when the connection is asked to close.
async fn stopped(close: &mut watch::Receiver<bool>) {
    let _ = close.wait_for(|c| *c).await;
}

/// Errors of `apps.connections.open` that retrying cannot fix.
fn is_refusal(e: &SlackError) -> bool {
    matches!(
        e.api_error(),
        Some(
            "invalid_auth"
                | "not_authed"
                | "not_allowed_token_type"
                | "missing_scope"
                | "account_inactive"
                | "token_revoked"
                | "token_expired"
                | "missing_args"
                | "no_permission"
        )
    )
}

fn ws_error_kind(e: &tokio_tungstenite::tungstenite::Error) -> &'static str {
    use tokio_tungstenite::tungstenite::Error as E;
    match e {
        E::Io(_) => "I/O error",
        E::Tls(_) => "TLS error",
        E::Url(_) => "bad URL",
        E::Http(_) => "HTTP error during the handshake",
        E::HttpFormat(_) => "malformed HTTP during the handshake",
        E::Protocol(_) => "WebSocket protocol error",
        _ => "WebSocket error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_caps() {
        let c = SocketModeConfig {
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_millis(1000),
            ..SocketModeConfig::default()
        };
        for attempt in 0..40 {
            let full = Duration::from_millis(100 * (1u64 << attempt.min(20))).min(c.backoff_max);
            let d = backoff(&c, attempt);
            assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?}");
        }
        let many: std::collections::BTreeSet<_> = (0..20).map(|_| backoff(&c, 3)).collect();
        assert!(many.len() > 1, "jitter varies");
    }

    #[test]
    fn refusals_stop_and_others_retry() {
        let api = |e: &str| SlackError::Api {
            method: "apps.connections.open".into(),
            error: e.into(),
        };
        assert!(is_refusal(&api("invalid_auth")));
        assert!(is_refusal(&api("not_allowed_token_type")));
        assert!(!is_refusal(&api("internal_error")));
        assert!(!is_refusal(&SlackError::Timeout {
            method: "apps.connections.open".into()
        }));
    }
}
