//! Reminders and the stale nudge with a controlled clock: scheduled in the job queue,
//! said once when due, moved by updates and snoozes, stopped by dismissals, and kept
//! across a restart (a new engine and worker on the same database).

use chrono::{Duration, TimeZone, Utc};
use muster_core::config::Config;
use muster_core::incident::TimelineEvent;
use muster_core::{DomainError, IncidentRef};
use muster_engine::workflow::Worker;
use muster_engine::{Declaration, Engine, EngineError, FixedClock};
use muster_store::Store;
use muster_testkit::chat::TestChat;
use std::sync::Arc;

struct World {
    engine: Arc<Engine>,
    worker: Worker,
    clock: Arc<FixedClock>,
    chat: TestChat,
}

async fn world(url: &str, config: &Config, at: chrono::DateTime<Utc>) -> World {
    let store = Store::open(url).await.unwrap();
    let clock = Arc::new(FixedClock::new(at));
    let chat = TestChat::new();
    let engine = Arc::new(
        Engine::new(store, Arc::new(config.clone()), clock.clone())
            .with_chat(Arc::new(chat.clone())),
    );
    let worker = Worker::new(engine.clone()).with_runner(Arc::new(chat.clone()));
    World {
        engine,
        worker,
        clock,
        chat,
    }
}

impl World {
    /// Run every step due now, until none is left.
    async fn settle(&self) {
        for _ in 0..20 {
            if self.worker.run_once().await.unwrap() == 0 {
                return;
            }
        }
        panic!("the queue does not settle");
    }

    async fn after(&self, minutes: i64) {
        self.clock.advance(Duration::minutes(minutes));
        self.settle().await;
    }

    fn reminders(&self) -> Vec<String> {
        self.chat
            .rooms()
            .iter()
            .flat_map(|r| r.messages.clone())
            .filter(|m| m.contains("remind"))
            .collect()
    }
}

fn start() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 14, 0, 0).unwrap()
}

fn sev1() -> Declaration {
    Declaration {
        title: "Payments down".into(),
        severity: Some("SEV1".into()),
        by: "alice".into(),
        ..Declaration::default()
    }
}

#[tokio::test]
async fn status_update_reminders_follow_updates_snoozes_and_dismissals() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/m.db", dir.path().display());
    let w = world(&url, &Config::default(), start()).await;
    let d = w.engine.declare(sev1()).await.unwrap();
    let r = IncidentRef::Id(d.incident.id);
    w.settle().await;
    let due = w.engine.reminders(&d).await.unwrap();
    let update = due.iter().find(|s| s.key == "status-update").unwrap();
    assert_eq!(update.due, Some(start() + Duration::minutes(15)));

    w.after(14).await;
    assert!(w.reminders().is_empty());
    w.after(1).await;
    assert_eq!(w.reminders(), ["INC-1: remind status-update"]);
    // Running the queue again says nothing more.
    w.settle().await;
    assert_eq!(w.reminders().len(), 1);

    // An update resets the timer: 15 minutes from the update, not from the reminder.
    w.after(10).await;
    w.engine
        .post_update(r, "Rolling back", "bob")
        .await
        .unwrap();
    w.after(14).await;
    assert_eq!(w.reminders().len(), 1);
    w.after(1).await;
    assert_eq!(w.reminders().len(), 2);

    // Snoozed for an hour: nothing until then, then once.
    let (d, until) = w.engine.snooze(r, None, "1h", "bob").await.unwrap();
    assert_eq!(until, w.engine.now() + Duration::hours(1));
    assert!(
        d.timeline.iter().any(|e| matches!(&e.event,
        TimelineEvent::ReminderSnoozed { key, until: u } if key == "status-update" && *u == until))
    );
    w.after(59).await;
    assert_eq!(w.reminders().len(), 2);
    w.after(1).await;
    assert_eq!(w.reminders().len(), 3);

    // Dismissed: never again for this incident.
    w.engine.dismiss(r, "status-update", "bob").await.unwrap();
    w.after(120).await;
    assert_eq!(w.reminders().len(), 3);
    let d = w.engine.get(r).await.unwrap();
    let status = w.engine.reminders(&d).await.unwrap();
    let update = status.iter().find(|s| s.key == "status-update").unwrap();
    assert!(update.dismissed && update.due.is_none());
}

#[tokio::test]
async fn severity_decides_the_interval_and_resolution_stops_reminders() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/m.db", dir.path().display());
    let w = world(&url, &Config::default(), start()).await;
    let d = w
        .engine
        .declare(Declaration {
            severity: Some("SEV3".into()),
            ..sev1()
        })
        .await
        .unwrap();
    let r = IncidentRef::Id(d.incident.id);
    w.settle().await;
    w.after(20).await;
    assert!(w.reminders().is_empty(), "SEV3 is every 2 h");
    // Raised to SEV1: a check at once; 15 minutes since the declaration have passed.
    w.engine.set_severity(r, "SEV1", "bob").await.unwrap();
    w.settle().await;
    assert_eq!(w.reminders().len(), 1);
    w.engine.resolve(r, "bob").await.unwrap();
    w.after(180).await;
    assert_eq!(w.reminders().len(), 1);
}

#[tokio::test]
async fn a_restart_neither_loses_nor_repeats_a_reminder() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/m.db", dir.path().display());
    let config = Config::default();
    let w = world(&url, &config, start()).await;
    w.engine.declare(sev1()).await.unwrap();
    w.settle().await;
    w.after(15).await;
    assert_eq!(w.reminders().len(), 1);
    drop(w);
    // Back an hour later (the process was down): the reminder missed meanwhile is said
    // once, not once per missed interval, and the one said before is not said again.
    let w = world(&url, &config, start() + Duration::minutes(75)).await;
    // The new TestChat has no rooms: give it the incident's room back.
    w.chat.add_room("placeholder");
    w.settle().await;
    let pending = w.engine.get("INC-1".parse().unwrap()).await.unwrap();
    let status = w.engine.reminders(&pending).await.unwrap();
    let update = status.iter().find(|s| s.key == "status-update").unwrap();
    assert_eq!(update.last_sent, Some(start() + Duration::minutes(75)));
    assert_eq!(update.due, Some(start() + Duration::minutes(90)));
}

#[tokio::test]
async fn snoozes_and_dismissals_check_what_they_are_given() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/m.db", dir.path().display());
    let w = world(&url, &Config::default(), start()).await;
    let d = w.engine.declare(sev1()).await.unwrap();
    let r = IncidentRef::Id(d.incident.id);
    for bad in ["", "soon", "0m", "200d"] {
        match w.engine.snooze(r, None, bad, "bob").await {
            Err(EngineError::Domain(DomainError::BadDuration(_))) => {}
            other => panic!("{bad:?}: {other:?}"),
        }
    }
    match w.engine.dismiss(r, "nope", "bob").await {
        Err(EngineError::Domain(DomainError::UnknownReminder { valid, .. })) => {
            assert_eq!(valid, ["status-update", "no-commander", "stale"]);
        }
        other => panic!("{other:?}"),
    }
    // Nothing was written by the refused requests.
    let after = w.engine.get(r).await.unwrap();
    assert_eq!(after.timeline.len(), d.timeline.len());
}

#[tokio::test]
async fn a_forgotten_incident_gets_a_stale_nudge_and_no_commander_a_nudge_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/m.db", dir.path().display());
    let config = Config::from_toml(
        "declarer_roles = [\"scribe\"]\n[[reminders]]\nkey = \"no-commander\"\nwhen = { no_role = \"commander\" }\nafter = \"10m\"\nonce = true\n[stale]\nafter = \"1d\"\n",
    )
    .unwrap();
    let w = world(&url, &config, start()).await;
    let d = w.engine.declare(sev1()).await.unwrap();
    let r = IncidentRef::Id(d.incident.id);
    w.settle().await;
    w.after(10).await;
    assert_eq!(w.reminders(), ["INC-1: remind no-commander"]);
    w.after(60).await;
    assert_eq!(w.reminders().len(), 1, "once");
    // Activity pushes the stale nudge back; none for a day, then one.
    w.engine.add_note(r, "looking", None, "bob").await.unwrap();
    w.after(23 * 60).await;
    assert_eq!(w.reminders().len(), 1);
    w.after(60).await;
    assert_eq!(w.reminders().last().unwrap(), "INC-1: remind stale");
    // Kept open for 7 days.
    w.engine
        .snooze(r, Some("stale"), "7d", "bob")
        .await
        .unwrap();
    w.after(6 * 24 * 60).await;
    assert_eq!(w.reminders().len(), 2);
}
