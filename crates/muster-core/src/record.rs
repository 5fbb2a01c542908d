//! The write vocabulary of the record: plain data the engine builds and the store applies.
//!
//! These types live here, not in the store, so that adapters (pages, API, chat) can speak
//! about the record (a page of results, the steps a change calls for) without depending
//! on the database crate: only the engine talks to the store, and only the composition
//! root (the `muster` binary) builds one.

use crate::incident::{ActionType, ExternalRef, Incident, Priority, TimelineEvent};
use crate::step::{JobState, StepId};
use crate::time::Timestamp;
use crate::{ChannelName, IncidentId, Title};

/// Everything a declaration writes, in one transaction.
#[derive(Debug, Clone)]
pub struct NewIncident {
    pub id: IncidentId,
    pub title: Title,
    pub description: String,
    pub severity: String,
    pub status: String,
    pub team: Option<String>,
    pub security: bool,
    pub drill: bool,
    pub channel_name: ChannelName,
    pub declared_by: String,
    pub declared_at: Timestamp,
    /// Roles given, as (role, person); an empty person clears the role (history kept).
    pub roles: Vec<(String, String)>,
    pub resources: Vec<ExternalRef>,
    pub events: Vec<TimelineEvent>,
}

#[derive(Debug, Clone)]
pub struct NewAction {
    pub text: String,
    pub action_type: ActionType,
    pub priority: Priority,
    pub owner: Option<String>,
    pub link: Option<String>,
}

/// A change to one incident, applied atomically: the incident row's new state plus the
/// rows appended to its history. Applied only if nobody else changed the incident since
/// it was read, otherwise the store answers a conflict and the engine checks again.
#[derive(Debug, Clone, Default)]
pub struct Change {
    pub status: Option<String>,
    pub severity: Option<String>,
    pub title: Option<Title>,
    pub description: Option<String>,
    pub team: Option<Option<String>>,
    pub impact: Option<crate::incident::Impact>,
    pub resolved_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
    pub narrative: Vec<(&'static str, String)>,
    pub roles: Vec<(String, String)>,
    pub update: Option<String>,
    pub new_action: Option<(i64, NewAction)>,
    pub complete_action: Option<i64>,
    /// Action item `number` rewritten with these fields.
    pub edit_action: Option<(i64, NewAction)>,
    /// Done action item `number` opened again.
    pub reopen_action: Option<i64>,
    /// A note rewritten (`Some(text)`) or withdrawn (`None`) by its author: entry `seq`
    /// is hidden, never erased, and the new text is a new entry at the note's time, by
    /// its author, naming the entry it replaces.
    pub revise_note: Option<(i64, Option<String>)>,
    /// Entry `seq` marked (true) or unmarked as a key moment.
    pub key_moment: Option<(i64, bool)>,
    /// Timeline entries: when it happened and what.
    pub events: Vec<(Timestamp, TimelineEvent)>,
    /// Workflow steps the change calls for (e.g. refreshing the chat announcement),
    /// queued in the same transaction so a crash cannot keep the change and lose them.
    pub jobs: Vec<NewJob>,
}

#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub status: Option<String>,
    pub severity: Option<String>,
    pub team: Option<String>,
    /// Case-insensitive substring of the title.
    pub search: Option<String>,
    pub include_security: bool,
    /// Security incidents this person declared or held a role in are included even
    /// without `include_security`: their own people always see them.
    pub involving: Option<String>,
    pub include_drills: bool,
    pub limit: u32,
    pub offset: u32,
}

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
}

/// A step to add to an incident's workflow.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub step: StepId,
    /// Runs only once this step of the same incident is done.
    pub depends_on: Option<StepId>,
    pub input: Option<serde_json::Value>,
}

/// A step of a workflow, as claimed by a worker. `step` is kept as stored: the worker
/// parses it once ([`StepId`]) and fails a step it cannot read instead of stalling the
/// queue on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: i64,
    pub incident_id: IncidentId,
    pub step: String,
    pub attempts: i64,
    /// How many times the step was claimed, ever: more than 1 means an earlier run may have
    /// had its effect outside before it crashed, timed out or was retried.
    pub runs: i64,
    pub input: Option<serde_json::Value>,
}

/// A step's state, for showing what is still pending.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct JobStatus {
    pub step: String,
    pub state: JobState,
    pub attempts: i64,
    pub last_error: Option<String>,
}

/// Who holds a reserved key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// Reserved for this incident now.
    New,
    /// Reserved for this incident by an earlier run.
    Earlier,
    /// Reserved by another incident.
    Taken,
}

/// An API token as listed: never the token, only its name and dates.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TokenInfo {
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// The `updated_at` a change made at `now` gives `incident`. It doubles as the incident's
/// version, so it moves forward on every change, even two in the same microsecond.
pub fn next_version(incident: &Incident, now: Timestamp) -> Timestamp {
    if now <= incident.updated_at {
        incident.updated_at + chrono::Duration::microseconds(1)
    } else {
        now
    }
}

/// An alert delivery as the store records it: the redacted payload, and each alert's state.
#[derive(Debug, Clone)]
pub struct AlertDelivery {
    /// `alertmanager` or `webhook`.
    pub source: String,
    pub group_key: String,
    pub received_at: Timestamp,
    /// What the rules said (`declare`, `suggest`, `ignore`, `record`).
    pub action: String,
    /// The body as received, redacted.
    pub payload: String,
    pub alerts: Vec<AlertState>,
}

/// One alert of a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertState {
    pub fingerprint: String,
    pub name: String,
    pub firing: bool,
    /// Its labels, as JSON.
    pub labels: String,
}

/// What a delivery did to the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertOutcome {
    /// It declared this incident.
    Declared(IncidentId),
    /// Its group already had this open incident: new and resolved alerts were added to its
    /// timeline (`entries` of them; 0 for a repeat).
    Attached {
        incident: IncidentId,
        entries: usize,
    },
    /// Recorded only: no open incident for its group and nothing to declare.
    Recorded,
    /// The group's open incident is not the one the caller planned for (a concurrent
    /// delivery declared, or the incident was closed): nothing was written; plan again.
    Stale,
}
