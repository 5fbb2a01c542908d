//! The workflow worker while the database refuses writes: a step whose outside effect
//! happened but whose outcome could not be recorded is not lost and not run again; the
//! worker backs off instead of spinning, and finishes once the database takes writes.

use muster_core::config::Config;
use muster_core::incident::IncidentDetail;
use muster_core::record::Change;
use muster_core::step::{StepId, StepKind};
use muster_engine::workflow::{BoxFuture, StepInput, StepOutcome, StepRunner, Worker};
use muster_engine::{ChatPlatform, Declaration, Engine, Origin, PlannedStep, SystemClock};
use muster_store::{Fault, FaultSwitch, Store, StoreOptions};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Two steps; the first "calls Slack" and, right after, the database turns read-only
/// (or full), so its outcome cannot be recorded.
struct Fake {
    switch: FaultSwitch,
    trouble: Fault,
    runs: Mutex<Vec<String>>,
    reported: AtomicUsize,
}

impl ChatPlatform for Fake {
    fn name(&self) -> &str {
        "fake"
    }

    fn setup(&self, _: &Origin) -> Vec<PlannedStep> {
        vec![
            PlannedStep::new(StepKind::Channel),
            PlannedStep::new(StepKind::Announce).after(StepKind::Channel),
        ]
    }

    fn follow_ups(
        &self,
        _: &IncidentDetail,
        _: &Change,
        _: muster_core::time::Timestamp,
    ) -> Vec<PlannedStep> {
        vec![]
    }
}

impl StepRunner for Fake {
    fn platform(&self) -> &str {
        "fake"
    }

    fn run<'a>(&'a self, step: StepInput<'a>) -> BoxFuture<'a, StepOutcome> {
        Box::pin(async move {
            self.runs
                .lock()
                .unwrap()
                .push(step.step.kind.name().to_owned());
            if step.step.kind == StepKind::Channel {
                self.switch.set(self.trouble);
            }
            StepOutcome::Done {
                // Big enough to need new pages, more than a fresh database keeps free (a
                // migration that rebuilt a table leaves some): a full disk refuses it.
                output: Some(serde_json::json!({"channel_id": "C1", "pad": "p".repeat(200_000)})),
                resources: vec![],
            }
        })
    }

    fn report_failure<'a>(&'a self, _: StepInput<'a>, _: &'a str) -> BoxFuture<'a, ()> {
        self.reported.fetch_add(1, Ordering::SeqCst);
        Box::pin(async {})
    }
}

struct Setup {
    _dir: tempfile::TempDir,
    engine: Arc<Engine>,
    /// The database behind the engine, to inspect the queue.
    store: Store,
    fake: Arc<Fake>,
    switch: FaultSwitch,
}

async fn setup(trouble: Fault) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let switch = FaultSwitch::default();
    let store = Store::open_with(
        &format!("sqlite://{}/w.db", dir.path().display()),
        StoreOptions::default().fault(switch.clone()),
    )
    .await
    .unwrap();
    let fake = Arc::new(Fake {
        switch: switch.clone(),
        trouble,
        runs: Mutex::new(Vec::new()),
        reported: AtomicUsize::new(0),
    });
    let engine = Arc::new(
        Engine::new(
            store.clone(),
            // Without reminders: their scheduled checks would be more steps in flight.
            Arc::new(Config::from_toml("reminders = []\n[stale]\nafter = \"off\"\n").unwrap()),
            Arc::new(SystemClock),
        )
        .with_chat(fake.clone()),
    );
    let d = engine
        .declare_once(
            Declaration {
                title: "Checkout down".into(),
                by: "ana".into(),
                ..Declaration::default()
            },
            "view:1",
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(store.jobs_for(d.incident.id).await.unwrap().len(), 2);
    Setup {
        _dir: dir,
        engine,
        store,
        fake,
        switch,
    }
}

async fn states(engine: &Engine, store: &Store) -> Vec<String> {
    let d = engine.get("INC-1".parse().unwrap()).await.unwrap();
    store
        .jobs_for(d.incident.id)
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.state.to_string())
        .collect()
}

async fn survives(trouble: Fault) {
    let Setup {
        _dir,
        engine,
        store,
        fake,
        switch,
    } = setup(trouble).await;
    let worker = Worker::new(engine.clone())
        .with_runner(fake.clone())
        .with_backoff(Duration::from_millis(20), Duration::from_millis(200));
    // The step ran, its outcome could not be written: kept, not lost, not failed.
    assert!(worker.run_once().await.is_err());
    assert_eq!(worker.unrecorded().await, 1);
    assert_eq!(states(&engine, &store).await, ["pending", "pending"]);
    // While the trouble lasts, nothing new is claimed and nothing runs again.
    for _ in 0..3 {
        assert!(worker.run_once().await.is_err());
    }
    assert_eq!(*fake.runs.lock().unwrap(), ["channel"]);
    // The loop keeps trying with backoff, and finishes once writes work again.
    let stop = Arc::new(tokio::sync::Notify::new());
    let stopped = stop.clone();
    let engine2 = engine.clone();
    let task = tokio::spawn(async move { worker.run(stopped.notified()).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        *fake.runs.lock().unwrap(),
        ["channel"],
        "no spinning re-runs"
    );
    switch.set(Fault::None);
    for _ in 0..200 {
        if states(&engine2, &store).await == ["done", "done"] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.notify_one();
    task.await.unwrap();
    assert_eq!(states(&engine, &store).await, ["done", "done"]);
    assert_eq!(
        *fake.runs.lock().unwrap(),
        ["channel", "announce"],
        "the step that had run was recorded, not run twice"
    );
    let d = engine.get("INC-1".parse().unwrap()).await.unwrap();
    let out = store
        .job_output(d.incident.id, &StepId::new("fake", StepKind::Channel))
        .await
        .unwrap();
    assert_eq!(out.unwrap()["channel_id"], "C1", "its output was kept");
    assert_eq!(fake.reported.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_read_only_database_mid_run_loses_and_repeats_nothing() {
    survives(Fault::ReadOnly).await;
}

#[tokio::test]
async fn a_full_database_mid_run_loses_and_repeats_nothing() {
    survives(Fault::Full).await;
}
