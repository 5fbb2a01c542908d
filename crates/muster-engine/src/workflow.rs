//! The durable workflow: steps that create and keep things outside (a chat channel, its
//! invites, topic, bookmarks, welcome and announcement; status updates posted under it;
//! messages captured from it) as rows of the job queue.
//!
//! Steps are queued in the same transaction as what calls for them: a declaration, from
//! any source, queues every configured platform's setup ([`crate::ChatPlatform`]); a
//! change queues its follow-ups; a chat event queues its capture. A [`Worker`] claims due
//! steps with a lease, runs each through the [`StepRunner`] of the platform its
//! [`StepId`] names, and records the outcome. A crash leaves the step leased; when the
//! lease runs out another worker (or the restarted process) runs it again, so every step
//! must be idempotent, and the runner keeps them so (invites that tolerate
//! `already_in_channel`, a channel step that recognises its own channel).

use crate::chat::Origin;
use crate::{Engine, EngineError};
use muster_core::config::Config;
use muster_core::incident::{ExternalRef, IncidentDetail};
use muster_core::record::Job;
pub use muster_core::record::Reservation;
use muster_core::step::{JobState, StepId, StepKind};
use muster_core::{IncidentId, IncidentRef};
use serde_json::Value;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a step gets to work with.
pub struct StepInput<'a> {
    pub step: &'a StepId,
    /// 1 on the first run (reset by a retry button).
    pub attempt: i64,
    /// An earlier run of this step may have had its effect outside: it crashed, timed out
    /// or failed after sending. The step must look for that effect before acting again.
    pub resumed: bool,
    /// Durable reservations for this incident (e.g. the channel name about to be created).
    pub ledger: Ledger<'a>,
    pub detail: &'a IncidentDetail,
    /// Who declared and from where (setup steps).
    pub origin: &'a Origin,
    /// The step's own input (a status update's text, the message to capture).
    pub input: Option<&'a Value>,
    pub config: &'a Config,
    /// Outputs of this platform's finished steps for the incident (e.g. where the
    /// announcement was posted).
    pub outputs: &'a HashMap<StepKind, Value>,
}

impl StepInput<'_> {
    /// The declarer's user id on this step's platform: the one who typed the command
    /// there, else the id `[[people]]` maps the recorded declarer to.
    pub fn declarer(&self) -> Option<String> {
        let platform = self.step.platform.as_str();
        self.origin
            .user_on(platform)
            .or_else(|| {
                self.config
                    .chat_id(&self.detail.incident.declared_by, platform)
            })
            .map(str::to_owned)
    }
}

/// What a step may write on its incident's record: reservations of scarce keys before
/// claiming them outside (so a crashed run's claim is recognised as ours by the next run
/// and never adopted by another incident), timeline entries captured from chat, and the
/// role assignments chat asked for.
#[derive(Clone, Copy)]
pub struct Ledger<'a> {
    engine: &'a Engine,
    incident: IncidentId,
}

impl Ledger<'_> {
    pub async fn reserve(&self, key: &str) -> Result<Reservation, EngineError> {
        Ok(self
            .engine
            .store()
            .reserve(key, self.incident, self.engine.now())
            .await?)
    }

    /// Whether `key` is reserved (by any incident).
    pub async fn is_reserved(&self, key: &str) -> Result<bool, EngineError> {
        Ok(self.engine.store().is_reserved(key).await?)
    }

    /// Put a chat message on the incident's timeline (once per source key).
    pub async fn capture(&self, m: crate::CapturedMessage) -> Result<bool, EngineError> {
        self.engine
            .capture_message(IncidentRef::Id(self.incident), m)
            .await
    }

    /// Take a captured chat message off the timeline.
    pub async fn uncapture(&self, source_key: &str) -> Result<bool, EngineError> {
        self.engine
            .uncapture_message(IncidentRef::Id(self.incident), source_key)
            .await
    }

    /// Give `role` to `person`, as `by` asked in chat (once the person's name is known).
    pub async fn assign_role(&self, role: &str, person: &str, by: &str) -> Result<(), EngineError> {
        self.engine
            .assign_role(IncidentRef::Id(self.incident), role, person, by)
            .await
            .map(drop)
    }

    /// Write a note on the timeline, as `by`.
    pub async fn note(&self, text: &str, by: &str) -> Result<(), EngineError> {
        self.engine
            .add_note(IncidentRef::Id(self.incident), text, None, by)
            .await
            .map(drop)
    }
}

pub enum StepOutcome {
    /// Done: keep `output` for later steps, and record `resources` on the incident.
    Done {
        output: Option<Value>,
        resources: Vec<ExternalRef>,
    },
    /// Try again after `after` (rate limit, outage).
    Retry { after: Duration, error: String },
    /// Retrying cannot help; a person must act (and may press "retry").
    Failed(String),
}

/// The side of a chat platform that talks to it: runs the steps its
/// [`ChatPlatform`](crate::ChatPlatform) planned.
pub trait StepRunner: Send + Sync {
    /// The platform whose steps this runs (the `platform` of their [`StepId`]).
    fn platform(&self) -> &str;
    fn run<'a>(&'a self, step: StepInput<'a>) -> BoxFuture<'a, StepOutcome>;
    /// Tell people a step gave up (e.g. a message with a retry button).
    fn report_failure<'a>(&'a self, step: StepInput<'a>, error: &'a str) -> BoxFuture<'a, ()>;
    /// Tell people a step keeps failing and is being retried, with the steps still pending.
    /// Called on every retry from the [`DELAY_NOTICE_AFTER`]th on: say it once.
    fn report_delay<'a>(
        &'a self,
        step: StepInput<'a>,
        error: &'a str,
        pending: &'a [StepId],
    ) -> BoxFuture<'a, ()> {
        let _ = (step, error, pending);
        Box::pin(async {})
    }
    /// The incident's last setup step is done. If people were told of a delay, tell them
    /// it is over.
    fn report_recovered<'a>(&'a self, step: StepInput<'a>) -> BoxFuture<'a, ()> {
        let _ = step;
        Box::pin(async {})
    }
}

/// How many times a step is retried before it is reported as failed.
pub const MAX_ATTEMPTS: i64 = 8;

/// After this many failed runs of a step, people are told what is still pending.
pub const DELAY_NOTICE_AFTER: i64 = 3;

/// How long a claimed step stays reserved without a heartbeat. A running step renews its
/// lease every third of this, so the lease only runs out when the process is gone; then
/// another worker (or the restarted process) picks the step up after at most this long.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

/// How long a step for a platform this process does not run waits before it is tried
/// again (another replica, or this one restarted with that platform configured).
const NO_RUNNER_RETRY: Duration = Duration::from_secs(60);

impl Engine {
    /// The incident's setup steps not done yet, on every platform.
    pub async fn pending_setup(&self, incident: IncidentId) -> Result<Vec<StepId>, EngineError> {
        Ok(self
            .store()
            .jobs_for(incident)
            .await?
            .into_iter()
            .filter(|j| j.state != JobState::Done)
            .filter_map(|j| j.step.parse::<StepId>().ok())
            .filter(|s| s.kind.is_setup())
            .collect())
    }
}

/// Runs due steps until told to stop.
///
/// When the database cannot take writes (locked, read-only, full), the worker keeps what
/// it could not record instead of losing it: a step whose outside effect happened but
/// whose outcome could not be written is remembered in memory and written first when the
/// database accepts writes again, before any new step is claimed, so this process does not
/// run it twice. (If the process stops meanwhile, the step's lease runs out and it runs
/// again; steps are idempotent for that reason.) While the trouble lasts the worker backs
/// off (doubling up to a ceiling) and logs once when it starts and once when it ends.
pub struct Worker {
    engine: Arc<Engine>,
    /// The runner of each platform, by name.
    runners: HashMap<String, Arc<dyn StepRunner>>,
    lease: Duration,
    wake: Arc<Notify>,
    backoff: (Duration, Duration),
    /// Outcomes of steps that ran but could not be recorded yet.
    unrecorded: tokio::sync::Mutex<Vec<Record>>,
}

/// The write that records a step's outcome.
#[derive(Debug, Clone)]
enum Record {
    Done {
        job: Job,
        output: Option<Value>,
        resources: Vec<ExternalRef>,
    },
    Retry {
        job: i64,
        at: muster_core::time::Timestamp,
        error: String,
    },
    Failed {
        job: i64,
        error: String,
    },
}

impl Record {
    async fn write(&self, engine: &Engine) -> Result<(), EngineError> {
        let store = engine.store();
        let now = engine.now();
        match self {
            Record::Done {
                job,
                output,
                resources,
            } => {
                store
                    .complete_job(job, output.clone(), resources, now)
                    .await?
            }
            Record::Retry { job, at, error } => store.retry_job(*job, *at, error, now).await?,
            Record::Failed { job, error } => store.fail_job(*job, error, now).await?,
        }
        Ok(())
    }
}

impl Worker {
    /// A worker with no chat runner yet: add one per platform with [`Worker::with_runner`].
    /// It runs the engine's own scheduled reminder checks ([`crate::care`]) from the start.
    pub fn new(engine: Arc<Engine>) -> Self {
        let care: Arc<dyn StepRunner> = Arc::new(crate::care::CareRunner::new(engine.clone()));
        Worker {
            wake: engine.steps_queued(),
            engine,
            runners: HashMap::from([(care.platform().to_owned(), care)]),
            lease: DEFAULT_LEASE,
            backoff: (Duration::from_secs(1), Duration::from_secs(60)),
            unrecorded: tokio::sync::Mutex::new(Vec::new()),
        }
    }

    /// Run `runner`'s platform's steps.
    pub fn with_runner(mut self, runner: Arc<dyn StepRunner>) -> Self {
        self.runners.insert(runner.platform().to_owned(), runner);
        self
    }

    /// How long to wait after the database refused a write: `first`, doubling up to `max`.
    pub fn with_backoff(mut self, first: Duration, max: Duration) -> Self {
        self.backoff = (first, max.max(first));
        self
    }

    /// How many step outcomes wait for the database to accept writes again.
    pub async fn unrecorded(&self) -> usize {
        self.unrecorded.lock().await.len()
    }

    /// Write the outcomes kept while the database refused writes, oldest first.
    async fn flush(&self) -> Result<(), EngineError> {
        let mut pending = self.unrecorded.lock().await;
        while let Some(r) = pending.first() {
            r.write(&self.engine).await?;
            pending.remove(0);
        }
        Ok(())
    }

    /// How long a claimed step stays reserved: after a crash, it runs again after this.
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Claim and run every due step once, independent steps concurrently. Returns how many
    /// ran. Outcomes that could not be recorded are kept and written first next time; then
    /// the error is returned, so the caller backs off.
    pub async fn run_once(&self) -> Result<usize, EngineError> {
        self.flush().await?;
        let jobs = self
            .engine
            .store()
            .claim(self.engine.now(), self.lease, 16)
            .await?;
        let n = jobs.len();
        let mut set = tokio::task::JoinSet::new();
        for job in jobs {
            let engine = self.engine.clone();
            let runners = self.runners.clone();
            let lease = self.lease;
            set.spawn(async move { run_job(&engine, &runners, job, lease).await });
        }
        let mut first_error = None;
        while let Some(r) = set.join_next().await {
            match r {
                Ok(Ok(())) => {}
                Ok(Err((record, e))) => {
                    if let Some(record) = record {
                        self.unrecorded.lock().await.push(record);
                    }
                    first_error.get_or_insert(e);
                }
                Err(e) => tracing::error!(error = %e, "a workflow step panicked"),
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(n),
        }
    }

    /// Run until `shutdown` resolves: work while there is work, otherwise sleep until the
    /// next step is due or someone wakes us; back off while the database refuses writes.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut trouble: Option<(&'static str, Duration)> = None;
        loop {
            let wait = match self.run_once().await {
                Ok(n) => {
                    if let Some((code, _)) = trouble.take() {
                        tracing::info!(
                            was = code,
                            "the database takes writes again; workflow steps resume"
                        );
                    }
                    if n > 0 {
                        continue;
                    }
                    let now = self.engine.now();
                    match self.engine.store().next_due().await {
                        Ok(Some(t)) if t > now => {
                            (t - now).to_std().unwrap_or(Duration::from_secs(1))
                        }
                        Ok(Some(_)) => Duration::from_millis(50),
                        _ => Duration::from_secs(5),
                    }
                    .min(Duration::from_secs(5))
                }
                Err(e) => {
                    let code = e.code();
                    let wait = match trouble {
                        Some((c, w)) if c == code => (w * 2).min(self.backoff.1),
                        _ => {
                            // Once per episode (or when the kind of trouble changes).
                            tracing::warn!(
                                error = %e,
                                code,
                                unrecorded = self.unrecorded.try_lock().map(|u| u.len()).unwrap_or(0),
                                "workflow paused: the database refuses writes; retrying with backoff, nothing is lost"
                            );
                            self.backoff.0
                        }
                    };
                    tracing::debug!(code, ?wait, "workflow still paused");
                    trouble = Some((code, wait));
                    wait
                }
            };
            tokio::select! {
                _ = &mut shutdown => return,
                _ = self.wake.notified(), if trouble.is_none() => {},
                _ = tokio::time::sleep(wait) => {},
            }
        }
    }
}

/// Run one claimed step and record its outcome. On failure, the outcome still to be
/// recorded (if the step ran) and why it could not be.
async fn run_job(
    engine: &Engine,
    runners: &HashMap<String, Arc<dyn StepRunner>>,
    job: Job,
    lease: Duration,
) -> Result<(), (Option<Record>, EngineError)> {
    // Parsed once; a step this version cannot read, or whose platform this process does
    // not run, is recorded as such instead of stalling the queue.
    let (step, runner) = match job.step.parse::<StepId>() {
        Ok(step) => match runners.get(&step.platform) {
            Some(r) => (step, r.as_ref()),
            None => {
                let error = format!("no worker here runs {} steps", step.platform);
                return record_only(
                    engine,
                    &job,
                    StepOutcome::Retry {
                        after: NO_RUNNER_RETRY,
                        error,
                    },
                )
                .await;
            }
        },
        Err(e) => return record_only(engine, &job, StepOutcome::Failed(e.to_string())).await,
    };
    let detail = engine
        .get(IncidentRef::Id(job.incident_id))
        .await
        .map_err(|e| (None, e))?;
    let outputs: HashMap<StepKind, Value> = engine
        .store()
        .job_outputs(job.incident_id)
        .await
        .map_err(|e| (None, e.into()))?
        .into_iter()
        .filter(|(s, _)| s.platform == step.platform)
        .map(|(s, v)| (s.kind, v))
        .collect();
    let origin = Origin::from_input(job.input.as_ref());
    let input = || StepInput {
        step: &step,
        attempt: job.attempts,
        resumed: job.runs > 1,
        ledger: Ledger {
            engine,
            incident: job.incident_id,
        },
        detail: &detail,
        origin: &origin,
        input: job.input.as_ref(),
        config: engine.config(),
        outputs: &outputs,
    };
    let outcome = {
        let run = runner.run(input());
        tokio::pin!(run);
        // Renew the lease while the step waits on the outside, so a slow platform never
        // lets a second worker start the same step; only a dead process stops renewing.
        let mut beat = tokio::time::interval(lease / 3);
        beat.tick().await;
        loop {
            tokio::select! {
                outcome = &mut run => break outcome,
                _ = beat.tick() => {
                    let until = engine.now()
                        + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(30));
                    if let Err(e) = engine.store().extend_lease(job.id, until).await {
                        tracing::warn!(error = %e, step = %job.step, "could not renew a step's lease");
                    }
                }
            }
        }
    };
    let (record, then) = to_record(engine, &job, outcome);
    let written = record.write(engine).await;
    if let After::Failed(error) = &then {
        // Told even when the database refused to record it: people must know.
        runner.report_failure(input(), error).await;
    }
    if let Err(e) = written {
        return Err((Some(record), e));
    }
    let pending = || async {
        engine
            .pending_setup(job.incident_id)
            .await
            .map_err(|e| (None, e))
    };
    match then {
        // The last setup step done: if people were told of a delay, tell them it is over.
        After::Done if step.kind.is_setup() && pending().await?.is_empty() => {
            runner.report_recovered(input()).await;
        }
        After::Retry(error) if job.attempts >= DELAY_NOTICE_AFTER => {
            runner
                .report_delay(input(), &error, &pending().await?)
                .await;
        }
        _ => {}
    }
    Ok(())
}

/// Record the outcome of a step that could not be run here, telling nobody.
async fn record_only(
    engine: &Engine,
    job: &Job,
    outcome: StepOutcome,
) -> Result<(), (Option<Record>, EngineError)> {
    let (record, _) = to_record(engine, job, outcome);
    tracing::warn!(step = %job.step, "a workflow step cannot run in this process");
    match record.write(engine).await {
        Ok(()) => Ok(()),
        Err(e) => Err((Some(record), e)),
    }
}

/// What to record for a step's outcome, and what to tell people once it is recorded.
fn to_record(engine: &Engine, job: &Job, outcome: StepOutcome) -> (Record, After) {
    match outcome {
        StepOutcome::Done { output, resources } => (
            Record::Done {
                job: job.clone(),
                output,
                resources,
            },
            After::Done,
        ),
        StepOutcome::Retry { after, error } if job.attempts < MAX_ATTEMPTS => {
            let at = engine.now()
                + chrono::Duration::from_std(after).unwrap_or(chrono::Duration::seconds(5));
            let record = Record::Retry {
                job: job.id,
                at,
                error: error.clone(),
            };
            (record, After::Retry(error))
        }
        StepOutcome::Retry { error, .. } | StepOutcome::Failed(error) => {
            let record = Record::Failed {
                job: job.id,
                error: error.clone(),
            };
            (record, After::Failed(error))
        }
    }
}

/// What people are told after a step's outcome is recorded.
enum After {
    Done,
    Retry(String),
    Failed(String),
}
