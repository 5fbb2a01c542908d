//! # muster-store
//!
//! Persistence for the incident record. The incident row holds current state; everything
//! that happens to an incident (timeline entries, status updates, role assignments, action
//! items) is appended as rows of its own inside the same transaction as the state change,
//! so history and state can never disagree and no caller ever rewrites a document.
//!
//! The plain data it takes and gives (`Change`, `NewIncident`, `NewJob`, `Page`…) is
//! `muster_core::record`, re-exported here. Only the engine (and the binary that builds
//! it) depends on this crate: adapters reach the record through the engine.
//!
//! SQLite is the embedded default (WAL mode, migrations embedded in the binary). Queries
//! use only runtime-checked SQL that PostgreSQL also speaks, so a second backend is a new
//! pool type and migration folder behind the same [`Store`] API, not a domain change.

mod alerts;
mod capture;
mod care;
pub use care::CareChange;
mod error;
mod fault;
mod jobs;
mod rows;
mod store;
mod tokens;

pub use alerts::ALERT_AUTHOR;
pub use error::StoreError;
pub use fault::{DEFAULT_BUSY_TIMEOUT, Fault, FaultSwitch, StoreOptions};
pub use store::Store;
// The write vocabulary is plain data in `muster-core`, shared with the engine and adapters.
pub use muster_core::record::{
    Change, Job, JobStatus, ListFilter, NewAction, NewIncident, NewJob, Page, Reservation,
    TokenInfo, next_version,
};
