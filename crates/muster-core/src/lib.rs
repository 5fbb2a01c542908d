//! # muster-core
//!
//! The domain of Muster, with no I/O and no async runtime: the incident record and the
//! types that make its invalid states unrepresentable (titles, channel names, incident
//! references), the lifecycle rules taken from the configuration, the configuration model
//! itself, every user-facing message in English and French, and report rendering. It also
//! holds the record's write vocabulary as plain data ([`record`]: a change, a new
//! incident, a page of results, a queued step) and typed workflow steps ([`step`]), so
//! that adapters can speak of them without depending on the store.
//!
//! Everything that touches the outside world (database, clock, randomness, chat platforms)
//! lives in other crates and hands plain values to this one. That keeps the rules testable
//! by property tests and lets every adapter share one definition of "valid".

pub mod alert;
pub mod care;
pub mod channel;
pub mod config;
pub mod error;
pub mod i18n;
pub mod ids;
pub mod incident;
pub mod markdown;
pub mod metrics;
pub mod record;
pub mod report;
pub mod secret;
pub mod step;
pub mod time;
pub mod title;

pub use channel::ChannelName;
pub use config::Config;
pub use error::DomainError;
pub use i18n::Lang;
pub use ids::{IncidentId, IncidentNumber, IncidentRef};
pub use secret::Secret;
pub use step::{JobState, StepId, StepKind};
pub use title::Title;
