//! # muster-engine
//!
//! The use cases: declare an incident, change its status, severity and roles, record notes,
//! status updates, action items and impact times, render its report. Every operation reads
//! the incident, checks the request against the domain rules in `muster-core`, and hands the
//! store one atomic [`Change`](muster_core::record::Change). If someone else changed the
//! incident in between, the store says so and the operation is re-checked against the fresh
//! state, so two people acting at once can never produce a transition the lifecycle forbids.
//!
//! This crate is the only door to the record: adapters (pages, API, chat) call its use
//! cases and never see the store ([`Engine`] keeps it private).
//!
//! The outside world reaches the engine only through ports: the [`Clock`], and chat
//! platforms and paging ([`ChatPlatform`] and [`Planner`] plan their steps,
//! [`workflow::StepRunner`] runs them; `chat.rs`, `workflow.rs`). Alerts from monitoring
//! come in through [`Engine::receive_alerts`] (`alerts.rs`). Every declaration, whatever its source, queues every
//! configured platform's setup in its own transaction. Other use cases adapters need are
//! in `adapters.rs`.

mod adapters;
mod alerts;
mod capture;
pub mod care;
pub mod chat;
mod engine;
mod error;
mod ports;
pub mod workflow;

pub use adapters::RecordMetrics;
pub use alerts::AlertReceipt;
pub use capture::CapturedMessage;
pub use chat::{ChatPlatform, Origin, PlannedStep, Planner};
pub use engine::{
    ActionInput, Declaration, DeclareField, Declared, EditInput, Engine, FieldErrors, ImpactInput,
    ListQuery, Template, check_declaration,
};
pub use error::EngineError;
pub use ports::{Clock, FixedClock, SystemClock};
