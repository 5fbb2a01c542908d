//! [`TestChat`]: a second chat platform for tests, implemented against the engine's chat
//! port exactly as a real adapter would be (a planner and a step runner), with its
//! state in memory. It proves the port carries a platform the engine and the Slack
//! adapter know nothing about: one declaration, a channel on each platform.
//!
//! Like the real ones, it refuses what a chat service refuses: a room name already taken
//! (so the step must try `-2`), an invite or a message to a room that does not exist, a
//! message to an archived room. `fail_next` makes its next calls fail (a retryable
//! outage) to test delay and retry paths.

use muster_core::incident::{ExternalRef, IncidentDetail, ResourceKind};
use muster_core::record::Change;
use muster_core::step::StepKind;
use muster_core::time::Timestamp;
use muster_engine::workflow::{BoxFuture, StepInput, StepOutcome, StepRunner};
use muster_engine::{ChatPlatform, Origin, PlannedStep};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The platform's name in step ids, resources and `[[people]]`.
pub const TEST_CHAT: &str = "testchat";

/// A room on the test platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    pub id: String,
    pub name: String,
    pub members: Vec<String>,
    pub topic: Option<String>,
    /// Messages posted in the room, in order.
    pub messages: Vec<String>,
    pub archived: bool,
}

#[derive(Debug, Default)]
struct State {
    rooms: Vec<Room>,
    /// Posted to the announcement room: (incident number, text).
    announcements: Vec<(String, String)>,
    calls: Vec<String>,
    failures_left: u32,
}

/// The test platform: clone it freely, every clone shares one state.
#[derive(Debug, Clone, Default)]
pub struct TestChat {
    state: Arc<Mutex<State>>,
}

impl TestChat {
    pub fn new() -> TestChat {
        TestChat::default()
    }

    /// A room that exists already (an earlier incident's, or someone's), to force `-2`.
    pub fn add_room(&self, name: &str) {
        let mut s = self.lock();
        let id = format!("room{}", s.rooms.len() + 1);
        s.rooms.push(Room {
            id,
            name: name.to_owned(),
            members: vec![],
            topic: None,
            messages: vec![],
            archived: false,
        });
    }

    /// Make the next `n` calls fail as an outage would.
    pub fn fail_next(&self, n: u32) {
        self.lock().failures_left = n;
    }

    pub fn rooms(&self) -> Vec<Room> {
        self.lock().rooms.clone()
    }

    pub fn room_named(&self, name: &str) -> Option<Room> {
        self.lock().rooms.iter().find(|r| r.name == name).cloned()
    }

    pub fn announcements(&self) -> Vec<(String, String)> {
        self.lock().announcements.clone()
    }

    /// Every call made, as `method room`.
    pub fn calls(&self) -> Vec<String> {
        self.lock().calls.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One call to the service: counted, and refused while an outage is injected.
    fn call(&self, what: String) -> Result<std::sync::MutexGuard<'_, State>, String> {
        let mut s = self.lock();
        s.calls.push(what);
        if s.failures_left > 0 {
            s.failures_left -= 1;
            return Err("service_unavailable".into());
        }
        Ok(s)
    }
}

fn room_of(d: &IncidentDetail) -> Option<&str> {
    d.resource_of(ResourceKind::Channel, TEST_CHAT)
        .map(|r| r.external_id.as_str())
}

fn done() -> StepOutcome {
    StepOutcome::Done {
        output: None,
        resources: vec![],
    }
}

fn retry(error: String) -> StepOutcome {
    StepOutcome::Retry {
        after: Duration::from_millis(50),
        error,
    }
}

impl ChatPlatform for TestChat {
    fn name(&self) -> &str {
        TEST_CHAT
    }

    fn setup(&self, _origin: &Origin) -> Vec<PlannedStep> {
        let after_room = |k| PlannedStep::new(k).after(StepKind::Channel);
        vec![
            PlannedStep::new(StepKind::Channel),
            after_room(StepKind::Invite),
            after_room(StepKind::Topic),
            after_room(StepKind::Welcome),
            after_room(StepKind::Announce),
        ]
    }

    fn follow_ups(
        &self,
        before: &IncidentDetail,
        change: &Change,
        _version: Timestamp,
    ) -> Vec<PlannedStep> {
        if room_of(before).is_none() {
            return vec![];
        }
        let mut steps = vec![];
        if let Some(text) = &change.update {
            let n = before.updates.len() as u32 + 1;
            steps.push(
                PlannedStep::new(StepKind::Update(n))
                    .after(StepKind::Announce)
                    .with_input(json!({ "text": text })),
            );
        }
        if change.closed_at.is_some() {
            steps.push(PlannedStep::new(StepKind::Archive));
        }
        steps
    }

    fn remind(&self, notice: &muster_engine::care::Notice, name: &str) -> Vec<PlannedStep> {
        vec![notice.step(name)]
    }
}

impl StepRunner for TestChat {
    fn platform(&self) -> &str {
        TEST_CHAT
    }

    fn run<'a>(&'a self, step: StepInput<'a>) -> BoxFuture<'a, StepOutcome> {
        Box::pin(async move {
            let d = step.detail;
            let i = &d.incident;
            let room = room_of(d).map(str::to_owned);
            let outcome = match (&step.step.kind, room) {
                (StepKind::Channel, Some(_)) => Ok(done()),
                (StepKind::Channel, None) => {
                    self.call(format!("create {}", i.channel_name))
                        .map(|mut s| {
                            // Taken names get a suffix, as on the real services.
                            let mut attempt = 1;
                            let name = loop {
                                let n = i.channel_name.with_collision_suffix(attempt).to_string();
                                if !s.rooms.iter().any(|r| r.name == n) {
                                    break n;
                                }
                                attempt += 1;
                            };
                            let id = format!("room{}", s.rooms.len() + 1);
                            s.rooms.push(Room {
                                id: id.clone(),
                                name: name.clone(),
                                members: vec![],
                                topic: None,
                                messages: vec![],
                                archived: false,
                            });
                            StepOutcome::Done {
                                output: Some(json!({ "room": id })),
                                resources: vec![ExternalRef {
                                    kind: ResourceKind::Channel,
                                    system: TEST_CHAT.into(),
                                    external_id: id,
                                    url: None,
                                    name: Some(name),
                                }],
                            }
                        })
                }
                (StepKind::Archive, None) => Ok(done()),
                (_, None) => Ok(retry("the room is not recorded yet".into())),
                (kind, Some(room)) => self.call(format!("{} {room}", kind.name())).map(|mut s| {
                    let number = i.number.to_string();
                    let Some(r) = s.rooms.iter_mut().find(|r| r.id == room) else {
                        return StepOutcome::Failed("room_not_found".into());
                    };
                    if r.archived {
                        return StepOutcome::Failed("room_archived".into());
                    }
                    let text = |t: &str| format!("{number}: {t}");
                    match kind {
                        StepKind::Invite => {
                            // The declarer, by their id here, when [[people]] knows it.
                            if let Some(who) = step.declarer()
                                && !r.members.contains(&who)
                            {
                                r.members.push(who);
                            }
                        }
                        StepKind::Topic => r.topic = Some(text(i.title.as_str())),
                        StepKind::Welcome => r.messages.push(text("welcome")),
                        StepKind::Update(_) => {
                            let t = step
                                .input
                                .and_then(|v| v.get("text")?.as_str())
                                .unwrap_or_default();
                            r.messages.push(text(t));
                        }
                        StepKind::Archive => r.archived = true,
                        StepKind::Remind(_) => {
                            let key = step
                                .input
                                .and_then(|v| v.get("key")?.as_str())
                                .unwrap_or_default();
                            r.messages.push(text(&format!("remind {key}")));
                        }
                        StepKind::Announce => {
                            // The rule every platform keeps: a security incident's public
                            // announcement says that it exists, nothing more.
                            let line = if i.security {
                                "declared".to_owned()
                            } else {
                                format!("{} declared by {}", i.title, i.declared_by)
                            };
                            s.announcements.push((number, line));
                        }
                        other => {
                            return StepOutcome::Failed(format!("testchat does not run {other:?}"));
                        }
                    }
                    done()
                }),
            };
            outcome.unwrap_or_else(retry)
        })
    }

    fn report_failure<'a>(&'a self, step: StepInput<'a>, error: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            tracing::warn!(step = %step.step, error, "a testchat step failed");
        })
    }
}
