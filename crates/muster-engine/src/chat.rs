//! The chat port: what a chat platform plugs into so that every declaration, whatever its
//! source, gets its place in chat, and every change reaches it.
//!
//! A platform has two sides:
//! - [`ChatPlatform`], pure: which steps a new incident needs there ([`ChatPlatform::setup`])
//!   and which a change calls for ([`ChatPlatform::follow_ups`]). The engine asks every
//!   configured platform and queues their steps in the same transaction as the incident
//!   or the change, so a declaration from the web, the API, the CLI or an alert is
//!   provisioned exactly like one made in chat, and nothing is lost on a crash. Planning
//!   needs no credentials: a CLI working on the local database queues the steps and the
//!   running server's worker runs them.
//! - [`StepRunner`](crate::workflow::StepRunner), which talks to the platform: the
//!   [`Worker`](crate::workflow::Worker) routes each claimed step to the runner of the
//!   platform named in its [`StepId`].
//!
//! The engine knows platforms only by name; it never reads their ids or key formats.

use muster_core::incident::IncidentDetail;
use muster_core::record::{Change, NewIncident, NewJob};
use muster_core::step::{StepId, StepKind};
use muster_core::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;

/// A step as a platform plans it; the engine names it after the platform.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedStep {
    pub kind: StepKind,
    /// Runs once this step of the same platform is done.
    pub after: Option<StepKind>,
    /// The step's own input (a status update's text); setup steps get the [`Origin`].
    pub input: Option<Value>,
}

impl PlannedStep {
    pub fn new(kind: StepKind) -> PlannedStep {
        PlannedStep {
            kind,
            after: None,
            input: None,
        }
    }

    pub fn after(mut self, kind: StepKind) -> PlannedStep {
        self.after = Some(kind);
        self
    }

    pub fn with_input(mut self, input: Value) -> PlannedStep {
        self.input = Some(input);
        self
    }

    pub(crate) fn into_job(self, platform: &str, default_input: Option<&Value>) -> NewJob {
        NewJob {
            step: StepId::new(platform, self.kind),
            depends_on: self.after.map(|k| StepId::new(platform, k)),
            input: self.input.or_else(|| default_input.cloned()),
        }
    }
}

/// Where a declaration came from: the input of every setup step. Empty for the web, the
/// API, the CLI and alerts; a chat platform fills in who declared there and where, so it
/// can invite that person and answer them before the channel exists.
///
/// The field names are those the first chat adapter stored before there were several
/// platforms, so steps queued by an older version still read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// The platform the declaration was made on (`slack`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// The declarer's user id on that platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Where the declarer typed the command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_channel: Option<String>,
    /// The declarer's language there (`en`, `fr`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// The chat message the incident was declared from, as its platform names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_message: Option<String>,
}

impl Origin {
    /// Declared on `platform` by the user `user_id`.
    pub fn chat(platform: &str, user_id: &str) -> Origin {
        Origin {
            platform: Some(platform.to_owned()),
            user_id: Some(user_id.to_owned()),
            ..Origin::default()
        }
    }

    /// The declarer's id on `platform`, if the declaration was made there. Steps queued
    /// before platforms were named came from the only one there was, Slack.
    pub fn user_on(&self, platform: &str) -> Option<&str> {
        let from = self.platform.as_deref().unwrap_or("slack");
        (from == platform)
            .then_some(self.user_id.as_deref())
            .flatten()
    }

    pub fn from_input(input: Option<&Value>) -> Origin {
        input
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default()
    }

    pub fn to_input(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// A chat platform's plans. Pure: no I/O, no credentials.
pub trait ChatPlatform: Send + Sync {
    /// The platform's name in step ids, resources and `[[people]]` (`slack`).
    fn name(&self) -> &str;

    /// The steps a newly declared incident needs on this platform.
    fn setup(&self, origin: &Origin) -> Vec<PlannedStep>;

    /// The steps a change calls for (post a status update, refresh the announcement,
    /// archive on close). `before` is the incident the change was computed against;
    /// `version` is the incident's version after it, unique to the change.
    fn follow_ups(
        &self,
        before: &IncidentDetail,
        change: &Change,
        version: Timestamp,
    ) -> Vec<PlannedStep>;

    /// The steps that say a reminder in the incident's channel there (`notice` is their
    /// input; `name` names the occurrence, for the step's [`StepKind::Remind`]). None by
    /// default: a platform that cannot say reminders is skipped.
    fn remind(&self, notice: &crate::care::Notice, name: &str) -> Vec<PlannedStep> {
        let _ = (notice, name);
        Vec::new()
    }
}

/// What the engine plans steps with, for every declaration and change: each chat platform
/// (through [`ChatPlatform`]) and each outbound service that is not chat (paging). Unlike a
/// chat platform's setup, a planner sees the new incident, so it can decide by severity or
/// by the security flag (page a SEV1, never a SEV4). Pure: no I/O, no credentials.
pub trait Planner: Send + Sync {
    /// The name in step ids (`slack`, `pagerduty`): the runner of that name runs the steps.
    fn name(&self) -> &str;

    /// The steps a newly declared incident needs.
    fn setup(&self, incident: &NewIncident, origin: &Origin) -> Vec<PlannedStep>;

    /// The steps a change calls for; as [`ChatPlatform::follow_ups`].
    fn follow_ups(
        &self,
        before: &IncidentDetail,
        change: &Change,
        version: Timestamp,
    ) -> Vec<PlannedStep>;

    /// The steps that say a reminder; as [`ChatPlatform::remind`]. None for a planner that
    /// is not chat (paging).
    fn remind(&self, notice: &crate::care::Notice, name: &str) -> Vec<PlannedStep> {
        let _ = (notice, name);
        Vec::new()
    }
}

/// A chat platform as a planner: its setup does not depend on the incident.
pub(crate) struct ChatPlanner(pub Arc<dyn ChatPlatform>);

impl Planner for ChatPlanner {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn setup(&self, _incident: &NewIncident, origin: &Origin) -> Vec<PlannedStep> {
        self.0.setup(origin)
    }

    fn follow_ups(
        &self,
        before: &IncidentDetail,
        change: &Change,
        version: Timestamp,
    ) -> Vec<PlannedStep> {
        self.0.follow_ups(before, change, version)
    }

    fn remind(&self, notice: &crate::care::Notice, name: &str) -> Vec<PlannedStep> {
        self.0.remind(notice, name)
    }
}
