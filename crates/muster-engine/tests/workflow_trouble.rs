//! The workflow worker while the database refuses writes: a step whose outside effect
//! happened but whose outcome could not be recorded is not lost and not run again; the
//! worker backs off instead of spinning, and finishes once the database takes writes.

use muster_core::config::Config;
use muster_engine::workflow::{BoxFuture, Provisioner, StepInput, StepOutcome, Worker};
use muster_engine::{Declaration, Engine, SystemClock};
use muster_store::{Fault, FaultSwitch, NewJob, Store, StoreOptions};
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

impl Provisioner for Fake {
    fn plan(&self) -> Vec<NewJob> {
        vec![
            NewJob {
                step: "channel".into(),
                depends_on: None,
                input: None,
            },
            NewJob {
                step: "announce".into(),
                depends_on: Some("channel".into()),
                input: None,
            },
        ]
    }

    fn run<'a>(&'a self, step: StepInput<'a>) -> BoxFuture<'a, StepOutcome> {
        Box::pin(async move {
            self.runs.lock().unwrap().push(step.step.to_owned());
            if step.step == "channel" {
                self.switch.set(self.trouble);
            }
            StepOutcome::Done {
                // Big enough to need new pages: a full disk refuses it.
                output: Some(serde_json::json!({"channel_id": "C1", "pad": "p".repeat(10_000)})),
                resources: vec![],
            }
        })
    }

    fn report_failure<'a>(&'a self, _: StepInput<'a>, _: &'a str) -> BoxFuture<'a, ()> {
        self.reported.fetch_add(1, Ordering::SeqCst);
        Box::pin(async {})
    }
}

async fn setup(trouble: Fault) -> (tempfile::TempDir, Arc<Engine>, Arc<Fake>, FaultSwitch) {
    let dir = tempfile::tempdir().unwrap();
    let switch = FaultSwitch::default();
    let store = Store::open_with(
        &format!("sqlite://{}/w.db", dir.path().display()),
        StoreOptions::default().fault(switch.clone()),
    )
    .await
    .unwrap();
    let engine = Arc::new(Engine::new(
        store,
        Arc::new(Config::default()),
        Arc::new(SystemClock),
    ));
    let fake = Arc::new(Fake {
        switch: switch.clone(),
        trouble,
        runs: Mutex::new(Vec::new()),
        reported: AtomicUsize::new(0),
    });
    let d = engine
        .declare_once(
            Declaration {
                title: "Checkout down".into(),
                by: "ana".into(),
                ..Declaration::default()
            },
            "view:1",
            fake.as_ref() as &dyn Provisioner,
            serde_json::json!({}),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        engine.store().jobs_for(d.incident.id).await.unwrap().len(),
        2
    );
    (dir, engine, fake, switch)
}

async fn states(engine: &Engine) -> Vec<String> {
    let d = engine.get("INC-1".parse().unwrap()).await.unwrap();
    engine
        .store()
        .jobs_for(d.incident.id)
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.state)
        .collect()
}

async fn survives(trouble: Fault) {
    let (_dir, engine, fake, switch) = setup(trouble).await;
    let worker = Worker::new(engine.clone(), fake.clone())
        .with_backoff(Duration::from_millis(20), Duration::from_millis(200));
    // The step ran, its outcome could not be written: kept, not lost, not failed.
    assert!(worker.run_once().await.is_err());
    assert_eq!(worker.unrecorded().await, 1);
    assert_eq!(states(&engine).await, ["pending", "pending"]);
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
        if states(&engine2).await == ["done", "done"] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.notify_one();
    task.await.unwrap();
    assert_eq!(states(&engine).await, ["done", "done"]);
    assert_eq!(
        *fake.runs.lock().unwrap(),
        ["channel", "announce"],
        "the step that had run was recorded, not run twice"
    );
    let d = engine.get("INC-1".parse().unwrap()).await.unwrap();
    let out = engine
        .store()
        .job_output(d.incident.id, "channel")
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
