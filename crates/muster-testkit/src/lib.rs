//! # muster-testkit
//!
//! Test doubles of the services Muster talks to, for tests only (a dev-dependency):
//!
//! - [`sim::SlackSim`]: a stateful Slack Web API simulator on 127.0.0.1, which accepts
//!   only requests that match Slack's published method descriptions ([`spec`]) and
//!   answers in the shape of their response examples, with real errors, latency, and
//!   injected failures and rate limits. Its request path and state are in `sim/mod.rs`
//!   and `sim/http.rs`; each family of Slack methods (`conversations.*`, `chat.*`, ...)
//!   has its own file in `sim/`.
//! - [`socket::SocketSim`]: the simulator's Socket Mode server (WebSockets handed out by
//!   `apps.connections.open`), which can drop connections, ask for a refresh and redeliver
//!   envelopes.
//! - [`chat::TestChat`]: a second chat platform on the engine's chat port, in memory, to
//!   prove a platform plugs in without the engine or the Slack adapter knowing it.
//! - [`pagerduty::PagerDutySim`]: PagerDuty's Events API v2, stateful, validating the
//!   documented schema, with injected 429 and 500 answers.
//! - [`secrets`]: planted secrets and the check that logs never hold them.
//! - [`signed`]: correctly signed slash commands, interactions and events, as Slack
//!   sends them, for end-to-end tests of the Slack endpoints.

pub mod chat;
pub mod pagerduty;
pub mod process;
pub mod secrets;
pub mod signed;
pub mod sim;
pub mod socket;
pub mod spec;

pub use pagerduty::{PagerDutySim, PdAlertState, PdEvent};
pub use signed::{Input, SignedRequest, Signer, SlashCommandRequest, payloads};
pub use sim::{
    Call, Fault, FaultedCall, SimBookmark, SimChannel, SimFile, SimMessage, SimView, SlackSim,
};
pub use socket::{EnvelopeKind, SimAck, SocketSim};

/// Serve `app` on a free port of 127.0.0.1 until the task is aborted (a fake's `Drop`).
pub(crate) async fn serve_local(
    app: axum::Router,
) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, task)
}
