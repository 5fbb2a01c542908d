//! # muster-slack
//!
//! Muster's Slack adapter, as plain libraries with no server of their own:
//!
//! - [`signature`]: verify (and, for tests, produce) `X-Slack-Signature` headers.
//! - [`payload`]: parse slash commands, interaction payloads and Events API bodies into
//!   typed values ("parse, don't validate"); unknown kinds parse to an `Other` variant.
//! - [`client`]: [`SlackClient`], a small Web API client with typed results and typed,
//!   classified errors (`name_taken`, rate limits with `Retry-After`, 5xx, timeouts).
//! - [`blocks`]: Block Kit builders for the declare modal, the welcome and announcement
//!   messages, confirmations and modal validation errors, all text from the Fluent
//!   messages in `muster-core`, in English and French. A directory: shared helpers in
//!   `mod.rs`, then `declare.rs`, `incident.rs` and `notices.rs`.
//! - [`limits`]: checks of every built view and message against Block Kit limits.
//! - [`manifest`]: the Slack app manifest for a deployment.
//! - [`socket`]: the Socket Mode transport (WebSocket connections opened by Muster, acks,
//!   refresh and reconnection with backoff).
//! - [`provision`]: Slack on the engine's chat port: [`provision::SlackPlatform`] plans the
//!   steps (every declaration's setup, a change's follow-ups; no token needed) and
//!   [`provision::SlackProvisioner`] runs them, with [`marks`] to find what an interrupted
//!   step already made.
//! - [`replay`]: the memory of signatures already accepted, so a replay is not acted on.
//!
//! The web endpoints (`/slack/commands`, `/slack/interactions`, `/slack/events`) live in
//! `muster-server` and call these; the engine runs the steps. This crate reaches the record
//! only through the engine: it does not depend on the store.

pub mod blocks;
pub mod client;
pub mod limits;
pub mod manifest;
pub mod marks;
pub mod payload;
pub mod provision;
pub mod replay;
pub mod signature;
pub mod socket;

pub use client::{SlackClient, SlackClientConfig, SlackError};
pub use signature::{SignatureError, Verifier};
