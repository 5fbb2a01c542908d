//! Slack: the HTTP endpoints (`/slack/commands`, `/slack/interactions`, `/slack/events`)
//! and the Socket Mode transport, both calling the same handlers.
//!
//! - [`http`]: verify the signature (v0 over the raw body, 5-minute window), parse, handle,
//!   answer the [`Reply`] as the HTTP response.
//! - [`socket`]: receive an envelope over a Socket Mode WebSocket, deduplicate it, handle
//!   it, send the [`Reply`] as the envelope's ack.
//! - `handle`: what a parsed, trusted slash command, interaction or event does, whatever
//!   brought it.

mod care;
mod handle;
mod http;
pub mod socket;

pub use http::routes;

use muster_slack::provision::SlackProvisioner;
use muster_slack::{SlackClient, Verifier};
use serde_json::Value;
use std::sync::Arc;

/// Everything the Slack handlers need.
pub struct SlackApp {
    /// Checks HTTP request signatures; `None` with Socket Mode only (the HTTP endpoints
    /// then answer 404).
    pub verifier: Option<Verifier>,
    pub client: SlackClient,
    pub provisioner: Arc<SlackProvisioner>,
    pub config: muster_core::config::SlackConfig,
    /// Finds credentials pasted into incident channels.
    pub scanner: Arc<muster_scan::Scanner>,
    /// Signatures already accepted: a replayed HTTP request is answered and not acted on.
    pub replays: muster_slack::replay::ReplayGuard,
    /// The Socket Mode transport's counters, once it runs.
    pub socket_stats: std::sync::OnceLock<Arc<muster_slack::socket::SocketStats>>,
}

impl SlackApp {
    /// The Slack side of `muster serve` over HTTP: the signing secret's verifier, the
    /// client, the provisioner built on it, and the default secret-scanning rules.
    pub fn new(
        client: SlackClient,
        config: muster_core::config::SlackConfig,
        signing_secret: muster_core::Secret,
    ) -> Result<SlackApp, muster_scan::ScanError> {
        Self::build(client, config, Some(Verifier::new(signing_secret)))
    }

    /// The same for Socket Mode, which needs no signing secret: Slack's envelopes arrive on
    /// connections Muster opened with the app-level token.
    pub fn for_socket_mode(
        client: SlackClient,
        config: muster_core::config::SlackConfig,
    ) -> Result<SlackApp, muster_scan::ScanError> {
        Self::build(client, config, None)
    }

    fn build(
        client: SlackClient,
        config: muster_core::config::SlackConfig,
        verifier: Option<Verifier>,
    ) -> Result<SlackApp, muster_scan::ScanError> {
        Ok(SlackApp {
            verifier,
            provisioner: Arc::new(SlackProvisioner::new(client.clone(), config.clone())),
            client,
            config,
            scanner: Arc::new(muster_scan::Scanner::new(
                muster_scan::RuleSet::default_rules(),
            )?),
            replays: Default::default(),
            socket_stats: Default::default(),
        })
    }

    /// A workflow worker running Slack's steps, woken whenever the engine queues one
    /// (a declaration or change from anywhere in this process, a step from chat).
    /// Add other platforms' runners to it with `Worker::with_runner`.
    pub fn worker(&self, engine: Arc<muster_engine::Engine>) -> muster_engine::workflow::Worker {
        muster_engine::workflow::Worker::new(engine)
            .with_runner(self.provisioner.clone())
            .with_lease(self.config.step_lease)
    }
}

/// The ack of a handled request, whatever the transport.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// Acknowledged, nothing to say (HTTP 200 with an empty body; an ack without payload).
    Empty,
    /// Acknowledged with a body: a slash command's message, a `response_action`.
    Json(Value),
    /// Not accepted (the database did not answer): HTTP 503, no Socket Mode ack, so that
    /// Slack delivers it again.
    Unavailable,
}
