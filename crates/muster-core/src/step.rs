//! Workflow steps, typed: which chat platform runs a step and what it does.
//!
//! A step is stored as text (`slack/channel`, `slack/update/3`, `matrix/capture/$ev`) so
//! the queue's unique key (incident, step) dedupes it, and parsed once when a worker
//! claims it. The platform part is a name the engine routes by; the engine never looks
//! inside it, so a new platform needs no change here or in the engine.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a step does on its platform.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StepKind {
    /// Make the incident's channel or room.
    Channel,
    /// Invite the declarer and the people the invite rules name.
    Invite,
    /// Topic and purpose.
    Topic,
    /// Links to the meeting and the report.
    Bookmarks,
    /// The welcome message in the incident's channel.
    Welcome,
    /// The announcement in the announcement channels.
    Announce,
    /// Link the chat message an incident was declared from.
    SourceLink,
    /// Re-render the announcement; named by the incident's version after the change.
    Refresh(i64),
    /// Post status update n under the announcement, then refresh it.
    Update(u32),
    /// Archive the channel (the incident was closed).
    Archive,
    /// Put a chat message on the timeline (or take it off); named by the chat delivery,
    /// so a redelivered event finds its step already queued.
    Capture(String),
    /// Warn in a thread that a credential was pasted; named by the chat delivery.
    SecretWarning(String),
    /// Assign a role to a chat user once their name is known; named by the delivery.
    AssignRole(String),
    /// Page the responders (a paging platform's trigger); once per incident.
    Page,
    /// Tell the paging platform the incident is resolved; once per incident.
    PageResolve,
    /// Tell the incident's channel that every alert of its group is resolved.
    AlertsResolved,
    /// A reminder or nudge at a due time (`muster_core::care::occurrence`: key and time).
    /// On the `care` platform, the engine's check of whether it is still due; on a chat
    /// platform, the message that says it.
    Remind(String),
}

impl StepKind {
    /// Setup steps make the incident's place in chat: people wait on them to start
    /// working, so they are reported when delayed and listed as pending.
    pub fn is_setup(&self) -> bool {
        matches!(
            self,
            StepKind::Channel
                | StepKind::Invite
                | StepKind::Topic
                | StepKind::Bookmarks
                | StepKind::Welcome
                | StepKind::Announce
        )
    }

    /// The kind's name, without its argument (message ids use it: `slack-step-name-…`).
    pub fn name(&self) -> &'static str {
        match self {
            StepKind::Channel => "channel",
            StepKind::Invite => "invite",
            StepKind::Topic => "topic",
            StepKind::Bookmarks => "bookmarks",
            StepKind::Welcome => "welcome",
            StepKind::Announce => "announce",
            StepKind::SourceLink => "source-link",
            StepKind::Refresh(_) => "refresh",
            StepKind::Update(_) => "update",
            StepKind::Archive => "archive",
            StepKind::Capture(_) => "capture",
            StepKind::SecretWarning(_) => "secret-warning",
            StepKind::AssignRole(_) => "assign-role",
            StepKind::Page => "page",
            StepKind::PageResolve => "page-resolve",
            StepKind::AlertsResolved => "alerts-resolved",
            StepKind::Remind(_) => "remind",
        }
    }

    fn arg(&self) -> Option<String> {
        match self {
            StepKind::Refresh(v) => Some(v.to_string()),
            StepKind::Update(n) => Some(n.to_string()),
            StepKind::Capture(d)
            | StepKind::SecretWarning(d)
            | StepKind::AssignRole(d)
            | StepKind::Remind(d) => Some(d.clone()),
            _ => None,
        }
    }

    fn parse(name: &str, arg: Option<&str>) -> Option<StepKind> {
        let delivery = |a: Option<&str>| a.filter(|a| !a.is_empty()).map(str::to_owned);
        Some(match (name, arg) {
            ("channel", None) => StepKind::Channel,
            ("invite", None) => StepKind::Invite,
            ("topic", None) => StepKind::Topic,
            ("bookmarks", None) => StepKind::Bookmarks,
            ("welcome", None) => StepKind::Welcome,
            ("announce", None) => StepKind::Announce,
            ("source-link", None) => StepKind::SourceLink,
            ("page", None) => StepKind::Page,
            ("page-resolve", None) => StepKind::PageResolve,
            ("alerts-resolved", None) => StepKind::AlertsResolved,
            ("archive", None) => StepKind::Archive,
            ("refresh", Some(v)) => StepKind::Refresh(v.parse().ok()?),
            ("update", Some(n)) => StepKind::Update(n.parse().ok()?),
            ("capture", a) => StepKind::Capture(delivery(a)?),
            ("secret-warning", a) => StepKind::SecretWarning(delivery(a)?),
            ("assign-role", a) => StepKind::AssignRole(delivery(a)?),
            ("remind", a) => StepKind::Remind(delivery(a)?),
            _ => return None,
        })
    }
}

/// A step of one incident's workflow: the platform that runs it and what it does.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StepId {
    pub platform: String,
    pub kind: StepKind,
}

impl StepId {
    pub fn new(platform: impl Into<String>, kind: StepKind) -> StepId {
        StepId {
            platform: platform.into(),
            kind,
        }
    }
}

/// A platform name: lowercase ASCII letters, digits, `-` and `_`, starting with a letter.
pub fn is_platform_name(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some('a'..='z')) && c.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '-' | '_'))
}

impl fmt::Display for StepId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.platform, self.kind.name())?;
        if let Some(a) = self.kind.arg() {
            write!(f, "/{a}")?;
        }
        Ok(())
    }
}

/// A stored step name that is not a known step.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown workflow step {0:?}")]
pub struct UnknownStep(pub String);

impl FromStr for StepId {
    type Err = UnknownStep;
    fn from_str(s: &str) -> Result<StepId, UnknownStep> {
        let bad = || UnknownStep(s.to_owned());
        let mut parts = s.splitn(3, '/');
        let platform = parts
            .next()
            .filter(|p| is_platform_name(p))
            .ok_or_else(bad)?;
        let name = parts.next().ok_or_else(bad)?;
        let kind = StepKind::parse(name, parts.next()).ok_or_else(bad)?;
        Ok(StepId::new(platform, kind))
    }
}

impl Serialize for StepId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for StepId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<StepId, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Where a step is in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Waiting to run, running, or waiting to retry.
    Pending,
    Done,
    /// Gave up; a person may ask for a retry.
    Failed,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobState {
    type Err = String;
    fn from_str(s: &str) -> Result<JobState, String> {
        match s {
            "pending" => Ok(JobState::Pending),
            "done" => Ok(JobState::Done),
            "failed" => Ok(JobState::Failed),
            other => Err(format!("unknown job state {other:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_round_trip_through_text() {
        let all = [
            StepKind::Channel,
            StepKind::Invite,
            StepKind::Topic,
            StepKind::Bookmarks,
            StepKind::Welcome,
            StepKind::Announce,
            StepKind::SourceLink,
            StepKind::Refresh(1_764_000_000_123_456),
            StepKind::Update(3),
            StepKind::Archive,
            StepKind::Capture("Ev0123".into()),
            StepKind::SecretWarning("Ev9".into()),
            StepKind::AssignRole("a/b:c".into()),
            StepKind::Remind("status-update.1764000000".into()),
        ];
        for kind in all {
            for platform in ["slack", "matrix", "test-chat_2"] {
                let id = StepId::new(platform, kind.clone());
                let text = id.to_string();
                assert_eq!(text.parse::<StepId>(), Ok(id.clone()), "{text}");
                let json = serde_json::to_string(&id).unwrap();
                assert_eq!(serde_json::from_str::<StepId>(&json).unwrap(), id);
            }
        }
        assert_eq!(
            StepId::new("slack", StepKind::Update(2)).to_string(),
            "slack/update/2"
        );
    }

    #[test]
    fn unknown_or_malformed_steps_are_refused() {
        for bad in [
            "",
            "channel",
            "slack",
            "slack/",
            "slack/nope",
            "Slack/channel",
            "1slack/channel",
            "slack/channel/extra",
            "slack/update",
            "slack/update/x",
            "slack/refresh/",
            "slack/capture",
            "slack/capture/",
            "care/remind",
            "care/remind/",
            "refresh:12",
        ] {
            assert!(bad.parse::<StepId>().is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn only_the_places_people_wait_for_are_setup() {
        assert!(StepKind::Channel.is_setup() && StepKind::Announce.is_setup());
        assert!(!StepKind::Update(1).is_setup());
        assert!(!StepKind::Capture("e".into()).is_setup());
        assert!(!StepKind::Archive.is_setup());
    }

    #[test]
    fn job_states_round_trip() {
        for s in [JobState::Pending, JobState::Done, JobState::Failed] {
            assert_eq!(s.as_str().parse::<JobState>(), Ok(s));
        }
        assert!("finished".parse::<JobState>().is_err());
    }
}
