use crate::pages::Pages;
use crate::prometheus::HttpMetrics;
use muster_engine::Engine;
use std::sync::Arc;

/// Everything handlers share. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub(crate) engine: Arc<Engine>,
    pub(crate) pages: Arc<Pages>,
    pub(crate) http: Arc<HttpMetrics>,
    /// The listener is on loopback: anonymous local use is allowed.
    pub(crate) loopback: bool,
    pub(crate) slack: Option<Arc<crate::slack::SlackApp>>,
    /// Per-source limits, concurrency pools, bounded work after acks.
    pub(crate) abuse: Arc<crate::abuse::Guard>,
    /// Which `Host` values pages and API answer to (DNS rebinding).
    pub(crate) hosts: Arc<crate::host::HostPolicy>,
    /// Signs CSRF tokens. Made at start and never stored: a restart only asks people to
    /// reload open forms, and nothing on disk can leak it.
    pub(crate) csrf_key: Arc<[u8; 32]>,
    /// Live page streams in progress, at most [`crate::live::MAX_STREAMS`].
    pub(crate) live_slots: Arc<tokio::sync::Semaphore>,
    /// Set when the server shuts down, so live streams end and the shutdown completes.
    pub(crate) closing: Arc<tokio::sync::watch::Sender<bool>>,
    /// The secret of `[alerts.grafana]`, when deliveries must be signed.
    pub(crate) grafana_secret: Option<muster_core::Secret>,
}

impl AppState {
    pub fn new(engine: Engine, loopback: bool) -> Self {
        AppState {
            abuse: Arc::new(crate::abuse::Guard::new(&engine.config().server)),
            hosts: Arc::new(crate::host::HostPolicy::new(engine.config(), None)),
            csrf_key: Arc::new(crate::csrf::new_key()),
            engine: Arc::new(engine),
            pages: Arc::new(Pages::new()),
            http: Arc::new(HttpMetrics::default()),
            loopback,
            slack: None,
            live_slots: Arc::new(tokio::sync::Semaphore::new(crate::live::MAX_STREAMS)),
            closing: Arc::new(tokio::sync::watch::channel(false).0),
            grafana_secret: None,
        }
    }

    /// Require Grafana's HMAC signature (`[alerts.grafana]`) made with `secret`.
    pub fn with_grafana_secret(mut self, secret: muster_core::Secret) -> Self {
        self.grafana_secret = Some(secret);
        self
    }

    /// The address the listener is bound to: requests naming it (or localhost with its
    /// port) are answered. Without it, loopback names are accepted on any port.
    pub fn bound_to(mut self, addr: std::net::SocketAddr) -> Self {
        self.hosts = Arc::new(crate::host::HostPolicy::new(
            self.engine.config(),
            Some(addr),
        ));
        self
    }

    /// Serve the Slack endpoints with this app (see [`crate::slack::SlackApp`]).
    pub fn with_slack(mut self, app: crate::slack::SlackApp) -> Self {
        self.slack = Some(Arc::new(app));
        self
    }

    /// The abuse limits in force (counters, remembered sources).
    pub fn abuse(&self) -> &crate::abuse::Guard {
        &self.abuse
    }

    /// End every live page stream (the server is shutting down; open streams would keep
    /// a graceful shutdown waiting).
    pub fn close_streams(&self) {
        self.closing.send_replace(true);
    }

    /// Live page streams open now.
    pub fn live_streams(&self) -> usize {
        crate::live::MAX_STREAMS - self.live_slots.available_permits()
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// A shared handle on the engine, for background workers.
    pub fn engine_arc(&self) -> Arc<Engine> {
        self.engine.clone()
    }
}
