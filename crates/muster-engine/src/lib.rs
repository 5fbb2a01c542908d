//! # muster-engine
//!
//! The use cases: declare an incident, change its status, severity and roles, record notes,
//! status updates, action items and impact times, render its report. Every operation reads
//! the incident, checks the request against the domain rules in `muster-core`, and hands the
//! store one atomic [`Change`](muster_store::Change). If someone else changed the incident
//! in between, the store says so and the operation is re-checked against the fresh state,
//! so two people acting at once can never produce a transition the lifecycle forbids.
//!
//! The outside world reaches the engine only through ports ([`Clock`] today; chat
//! platforms, meetings and pagers next), so every adapter and test drives the same code.

mod capture;
mod engine;
mod error;
mod ports;
pub mod workflow;

pub use capture::CapturedMessage;
pub use engine::{ActionInput, Declaration, EditInput, Engine, ImpactInput, ListQuery, Template};
pub use error::EngineError;
pub use ports::{Clock, FixedClock, SystemClock};
