//! Care over time: reminders and the stale nudge, kept in the durable job queue.
//!
//! Each due time is a step of the `care` platform, `care/remind/<key>.<unix seconds>`,
//! queued with its `run_after`: claimed like every other step (with a lease), so a
//! restart neither loses nor repeats one, and several workers say each once. When it
//! runs, [`Engine::care_check`] asks the rules ([`muster_core::care`]) again against the
//! record as it is now: if the reminder is no longer due (an update was posted, it was
//! snoozed, the incident was resolved) it schedules the new due time instead; if it is,
//! it records that it was said, queues each chat platform's message
//! ([`crate::ChatPlatform::remind`]) and schedules the next one, in one transaction that
//! only one check can win. A declaration queues each reminder's first due time with the
//! incident; changes that may make a reminder due sooner (severity, status, roles) queue a
//! `check` that looks at every reminder at once.

use crate::workflow::{BoxFuture, StepInput, StepOutcome, StepRunner};
use crate::{Engine, EngineError};
use muster_core::care::{
    CHECK, CareState, CareView, MAX_SNOOZE_DAYS, NoticeKind, STALE, occurrence, parse_duration,
};
use muster_core::incident::{IncidentDetail, TimelineEvent};
use muster_core::record::{Change, NewIncident, NewJob};
use muster_core::step::{StepId, StepKind};
use muster_core::time::Timestamp;
use muster_core::{DomainError, IncidentId, IncidentRef};
use muster_store::CareChange;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

pub use muster_core::care::PLATFORM;

/// A reminder as a chat platform says it: the input of its `remind` step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// The reminder's key (what snooze and dismiss name).
    pub key: String,
    #[serde(flatten)]
    pub kind: NoticeKind,
    /// How long it has been: since the last update (or the declaration), since the
    /// last activity (stale), since the declaration (a missing role).
    pub since_seconds: i64,
}

impl Notice {
    pub fn from_input(input: Option<&serde_json::Value>) -> Option<Notice> {
        serde_json::from_value(input?.clone()).ok()
    }

    /// The usual way to say it on a chat platform: one `remind/<name>` step, once the
    /// incident's channel exists, with this notice as its input.
    pub fn step(&self, name: &str) -> crate::PlannedStep {
        crate::PlannedStep::new(StepKind::Remind(name.to_owned()))
            .after(StepKind::Channel)
            .with_input(serde_json::to_value(self).unwrap_or_default())
    }
}

/// One reminder of an incident, as pages, the API and the CLI show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReminderStatus {
    pub key: String,
    #[serde(flatten)]
    pub kind: NoticeKind,
    /// When it is next said; `None` when it does not apply now.
    pub due: Option<Timestamp>,
    pub last_sent: Option<Timestamp>,
    pub snoozed_until: Option<Timestamp>,
    pub dismissed: bool,
}

/// The next status update due among `reminders`, if one is scheduled.
pub fn next_update_due(reminders: &[ReminderStatus]) -> Option<Timestamp> {
    reminders
        .iter()
        .filter(|r| r.kind == NoticeKind::Update)
        .filter_map(|r| r.due)
        .min()
}

fn step(arg: String) -> StepId {
    StepId::new(PLATFORM, StepKind::Remind(arg))
}

fn job(arg: String) -> NewJob {
    NewJob {
        step: step(arg),
        depends_on: None,
        input: None,
    }
}

/// A new incident's first reminders, each queued for its due time with the incident.
pub(crate) fn setup(engine: &Engine, new: &NewIncident) -> Vec<NewJob> {
    let care = &engine.config().care;
    let view = CareView {
        severity: new.severity.clone(),
        status: new.status.clone(),
        resolved: false,
        closed: false,
        roles: new.roles.iter().map(|(role, _)| role.clone()).collect(),
        declared_at: new.declared_at,
        last_update: None,
        last_activity: new.declared_at,
    };
    care.keys()
        .into_iter()
        .filter_map(|k| {
            let due = care.due(k, &view, &CareState::default())?;
            Some(job(occurrence(k, due)))
        })
        .collect()
}

/// A check after a change that may bring a reminder forward or make one apply.
pub(crate) fn follow_up(engine: &Engine, change: &Change, version: Timestamp) -> Option<NewJob> {
    let relevant = change.severity.is_some() || change.status.is_some() || !change.roles.is_empty();
    (relevant && !engine.config().care.is_empty())
        .then(|| job(format!("{CHECK}.{}", version.timestamp_micros())))
}

impl Engine {
    /// Every configured reminder of the incident, with when it is next due.
    pub async fn reminders(&self, d: &IncidentDetail) -> Result<Vec<ReminderStatus>, EngineError> {
        let (states, view) = self.care_view(d).await?;
        let care = &self.config().care;
        Ok(care
            .keys()
            .into_iter()
            .filter_map(|key| {
                let state = states.get(key).cloned().unwrap_or_default();
                Some(ReminderStatus {
                    key: key.to_owned(),
                    kind: care.kind(key)?,
                    due: care.due(key, &view, &state),
                    last_sent: state.last_sent,
                    snoozed_until: state.snoozed_until,
                    dismissed: state.dismissed,
                })
            })
            .collect())
    }

    async fn care_view(
        &self,
        d: &IncidentDetail,
    ) -> Result<(std::collections::HashMap<String, CareState>, CareView), EngineError> {
        let (states, chat) = self.store().care_state(d.incident.id).await?;
        let c = self.config();
        let view = CareView::of(d, &c.closed_status, &c.resolved_status, chat);
        Ok((states, view))
    }

    /// The reminder keys `key` names (all but the stale nudge when `None`).
    fn care_keys(&self, key: Option<&str>) -> Result<Vec<String>, DomainError> {
        let keys = self.config().care.keys();
        let unknown = |given: &str| DomainError::UnknownReminder {
            given: given.to_owned(),
            valid: keys.iter().map(|k| (*k).to_owned()).collect(),
        };
        match key.map(str::trim) {
            Some(k) => keys
                .iter()
                .find(|c| c.eq_ignore_ascii_case(k))
                .map(|c| vec![(*c).to_owned()])
                .ok_or_else(|| unknown(k)),
            None => {
                let all: Vec<String> = keys
                    .iter()
                    .filter(|k| **k != STALE)
                    .map(|k| (*k).to_owned())
                    .collect();
                if all.is_empty() {
                    return Err(unknown(""));
                }
                Ok(all)
            }
        }
    }

    /// Put reminders off for `duration` (`30m`, `1h`, `2d`): one key, or every reminder
    /// but the stale nudge. Answers when they are due again at the earliest.
    pub async fn snooze(
        &self,
        r: IncidentRef,
        key: Option<&str>,
        duration: &str,
        by: &str,
    ) -> Result<(IncidentDetail, Timestamp), EngineError> {
        let length = parse_duration(duration)
            .filter(|d| *d <= chrono::Duration::days(MAX_SNOOZE_DAYS))
            .ok_or_else(|| DomainError::BadDuration(duration.trim().to_owned()))?;
        let keys = self.care_keys(key)?;
        let by = crate::engine::person(by)?;
        let d = self.get(r).await?;
        let now = self.now();
        let until = muster_core::care::ceil_seconds(now + length);
        let change = CareChange {
            events: keys
                .iter()
                .map(|k| TimelineEvent::ReminderSnoozed {
                    key: k.clone(),
                    until,
                })
                .collect(),
            scheduled: keys
                .iter()
                .map(|k| (step(occurrence(k, until)), until))
                .collect(),
            keys,
            snooze_until: Some(until),
        };
        self.store()
            .care_change(d.incident.id, &change, &by, now)
            .await?;
        Ok((self.get(IncidentRef::Id(d.incident.id)).await?, until))
    }

    /// Stop reminder `key` for this incident.
    pub async fn dismiss(
        &self,
        r: IncidentRef,
        key: &str,
        by: &str,
    ) -> Result<IncidentDetail, EngineError> {
        let keys = self.care_keys(Some(key))?;
        let by = crate::engine::person(by)?;
        let d = self.get(r).await?;
        let change = CareChange {
            events: keys
                .iter()
                .map(|k| TimelineEvent::ReminderDismissed { key: k.clone() })
                .collect(),
            scheduled: Vec::new(),
            keys,
            snooze_until: None,
        };
        self.store()
            .care_change(d.incident.id, &change, &by, self.now())
            .await?;
        self.get(IncidentRef::Id(d.incident.id)).await
    }

    /// For `/metrics`: every due reminder of the incidents not closed, as (number, key,
    /// seconds until due); drills and security incidents left out, at most 500 incidents.
    pub(crate) async fn reminder_metrics(&self) -> Result<Vec<(String, String, f64)>, EngineError> {
        if self.config().care.is_empty() {
            return Ok(Vec::new());
        }
        let open = self
            .store()
            .all(&muster_core::record::ListFilter::default())
            .await?;
        let now = self.now();
        let mut out = Vec::new();
        for i in open
            .iter()
            .rev()
            .filter(|i| i.closed_at.is_none())
            .take(500)
        {
            let d = self.get(IncidentRef::Id(i.id)).await?;
            for r in self.reminders(&d).await? {
                if let Some(due) = r.due {
                    let left = (due - now).num_milliseconds() as f64 / 1000.0;
                    out.push((i.number.to_string(), r.key, left));
                }
            }
        }
        Ok(out)
    }

    /// A person wrote or reacted in the incident's chat: it is not stale.
    pub async fn chat_activity(&self, incident: IncidentId) -> Result<(), EngineError> {
        Ok(self
            .store()
            .touch_chat_activity(incident, self.now())
            .await?)
    }

    /// Run a scheduled check (`<key>.<n>`): say each reminder it names that is due now,
    /// schedule the others at their due time.
    ///
    /// Answers a delay when a reminder is due later under the very name of this check
    /// (this process's clock runs behind the one that scheduled it): the check must then
    /// run again itself, as a second row of that name cannot be queued.
    pub async fn care_check(
        &self,
        d: &IncidentDetail,
        arg: &str,
    ) -> Result<Option<std::time::Duration>, EngineError> {
        let key = arg.rsplit_once('.').map_or(arg, |(k, _)| k);
        let keys: Vec<String> = if key == CHECK {
            self.config()
                .care
                .keys()
                .into_iter()
                .map(str::to_owned)
                .collect()
        } else {
            vec![key.to_owned()]
        };
        let (states, view) = self.care_view(d).await?;
        let care = &self.config().care;
        let now = self.now();
        let mut again = None;
        for key in keys {
            let state = states.get(&key).cloned().unwrap_or_default();
            let Some(due) = care.due(&key, &view, &state) else {
                continue;
            };
            if due > now {
                let name = occurrence(&key, due);
                if name == arg {
                    again = Some((due - now).to_std().unwrap_or_default());
                    continue;
                }
                self.store()
                    .schedule(d.incident.id, &step(name), due, now)
                    .await?;
                continue;
            }
            let Some(kind) = care.kind(&key) else {
                continue;
            };
            let since = match kind {
                NoticeKind::Update => view.last_update.unwrap_or(view.declared_at),
                NoticeKind::Role(_) => view.declared_at,
                NoticeKind::Stale => view.last_activity,
            };
            let notice = Notice {
                key: key.clone(),
                kind,
                since_seconds: (now - since).num_seconds().max(0),
            };
            let name = occurrence(&key, now);
            let jobs: Vec<NewJob> = self
                .planners()
                .iter()
                .flat_map(|p| {
                    p.remind(&notice, &name)
                        .into_iter()
                        .map(|s| s.into_job(p.name(), None))
                })
                .collect();
            let said = CareState {
                last_sent: Some(now),
                ..state.clone()
            };
            let next = care
                .due(&key, &view, &said)
                .map(|t| (step(occurrence(&key, t)), t));
            let fired = self
                .store()
                .care_fire(d.incident.id, &key, state.last_sent, &jobs, next, now)
                .await?;
            if fired {
                self.queued_steps(jobs.len());
            }
        }
        Ok(again)
    }
}

/// Runs the `care` platform's steps: the engine's own scheduled checks.
pub struct CareRunner {
    engine: Arc<Engine>,
}

impl CareRunner {
    pub fn new(engine: Arc<Engine>) -> CareRunner {
        CareRunner { engine }
    }
}

impl StepRunner for CareRunner {
    fn platform(&self) -> &str {
        PLATFORM
    }

    fn run<'a>(&'a self, step: StepInput<'a>) -> BoxFuture<'a, StepOutcome> {
        Box::pin(async move {
            let StepKind::Remind(arg) = &step.step.kind else {
                return StepOutcome::Failed(format!("care does not run {}", step.step));
            };
            match self.engine.care_check(step.detail, arg).await {
                Ok(None) => StepOutcome::Done {
                    output: None,
                    resources: vec![],
                },
                Ok(Some(after)) => StepOutcome::Retry {
                    after,
                    error: "due later than this process's clock says".into(),
                },
                Err(e) => StepOutcome::Retry {
                    after: Duration::from_secs(5),
                    error: e.to_string(),
                },
            }
        })
    }

    fn report_failure<'a>(&'a self, step: StepInput<'a>, error: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            tracing::warn!(step = %step.step, error, "a reminder check gave up");
        })
    }
}
