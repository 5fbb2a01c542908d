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
//! - [`secrets`]: planted secrets and the check that logs never hold them.
//! - [`signed`]: correctly signed slash commands, interactions and events, as Slack
//!   sends them, for end-to-end tests of the Slack endpoints.

pub mod chat;
pub mod secrets;
pub mod signed;
pub mod sim;
pub mod socket;
pub mod spec;

pub use signed::{Input, SignedRequest, Signer, SlashCommandRequest, payloads};
pub use sim::{
    Call, Fault, FaultedCall, SimBookmark, SimChannel, SimFile, SimMessage, SimView, SlackSim,
};
pub use socket::{EnvelopeKind, SimAck, SocketSim};
