//! Captured timeline entries (chat messages saved by a reaction) against real SQLite:
//! one entry per source, soft removal and revival, edits, and the incident's version.

use chrono::{TimeZone, Utc};
use muster_core::incident::{Incident, TimelineEvent};
use muster_core::time::Timestamp;
use muster_core::{ChannelName, IncidentId, IncidentRef, Title};
use muster_store::{Change, NewIncident, Store, StoreError};

const KEY: &str = "slack:C0INC0001:1764000000.001000";

fn t0() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
}

fn new_incident() -> NewIncident {
    NewIncident {
        id: IncidentId(uuid::Uuid::now_v7()),
        title: Title::parse("db down").unwrap(),
        description: String::new(),
        severity: "SEV2".into(),
        status: "Open".into(),
        team: None,
        security: false,
        drill: false,
        channel_name: ChannelName::parse("incident-2026-11-26-db-down").unwrap(),
        declared_by: "alice".into(),
        declared_at: t0(),
        roles: vec![],
        resources: vec![],
        events: vec![TimelineEvent::Note {
            text: "declared".into(),
        }],
    }
}

fn chat(text: &str) -> TimelineEvent {
    TimelineEvent::ChatMessage {
        text: text.into(),
        permalink: Some("https://sim.slack.test/archives/C0INC0001/p1764000000001000".into()),
        files: vec!["https://sim.slack.test/files/U1/F1/graph.png".into()],
        author: "U0ALICE01".into(),
    }
}

async fn setup() -> (tempfile::TempDir, Store, Incident) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/muster.db", dir.path().display());
    let store = Store::open(&url).await.unwrap();
    let i = store.insert_incident(new_incident()).await.unwrap();
    (dir, store, i)
}

async fn chat_entries(store: &Store, i: &Incident) -> Vec<(Timestamp, String, TimelineEvent)> {
    store
        .detail(IncidentRef::Id(i.id))
        .await
        .unwrap()
        .unwrap()
        .timeline
        .into_iter()
        .filter(|e| matches!(e.event, TimelineEvent::ChatMessage { .. }))
        .map(|e| (e.at, e.author, e.event))
        .collect()
}

async fn version(store: &Store, i: &Incident) -> Timestamp {
    store
        .find(IncidentRef::Id(i.id))
        .await
        .unwrap()
        .unwrap()
        .updated_at
}

#[tokio::test]
async fn capturing_twice_keeps_one_entry_at_the_original_time() {
    let (_d, store, i) = setup().await;
    let said_at = t0() + chrono::Duration::minutes(3);
    let now = t0() + chrono::Duration::minutes(10);
    let e = chat("db1 is back");
    assert!(
        store
            .capture_entry(i.id, KEY, said_at, "alice", &e, now)
            .await
            .unwrap()
    );
    let v1 = version(&store, &i).await;
    assert_eq!(v1, now, "the capture moved the incident's version");
    assert!(
        !store
            .capture_entry(i.id, KEY, said_at, "alice", &e, now)
            .await
            .unwrap(),
        "the second capture is a no-op"
    );
    assert_eq!(version(&store, &i).await, v1, "a no-op leaves the version");
    let entries = chat_entries(&store, &i).await;
    assert_eq!(entries, vec![(said_at, "alice".to_owned(), e.clone())]);
    // The same key on another incident is another entry.
    let other = store.insert_incident(new_incident()).await.unwrap();
    assert!(
        store
            .capture_entry(other.id, KEY, said_at, "alice", &e, now)
            .await
            .unwrap()
    );
    assert_eq!(chat_entries(&store, &i).await.len(), 1);
}

#[tokio::test]
async fn removal_hides_the_entry_and_a_new_capture_revives_it() {
    let (_d, store, i) = setup().await;
    let at = t0() + chrono::Duration::minutes(1);
    let now = t0() + chrono::Duration::minutes(2);
    store
        .capture_entry(i.id, KEY, at, "alice", &chat("first"), now)
        .await
        .unwrap();
    assert!(store.remove_captured(i.id, KEY, now).await.unwrap());
    assert!(chat_entries(&store, &i).await.is_empty());
    assert!(store.captured(i.id, KEY).await.unwrap().is_none());
    assert!(
        !store.remove_captured(i.id, KEY, now).await.unwrap(),
        "already removed"
    );
    assert!(
        !store
            .remove_captured(i.id, "slack:C0:1.2", now)
            .await
            .unwrap(),
        "never captured"
    );
    assert!(
        !store
            .update_captured(i.id, KEY, &chat("edited while removed"), now)
            .await
            .unwrap(),
        "a removed entry is not edited"
    );
    // Reacted to again: the entry comes back, with the content given now.
    assert!(
        store
            .capture_entry(i.id, KEY, at, "alice", &chat("again"), now)
            .await
            .unwrap()
    );
    assert_eq!(
        chat_entries(&store, &i).await,
        vec![(at, "alice".to_owned(), chat("again"))]
    );
}

#[tokio::test]
async fn an_edit_rewrites_the_live_entry() {
    let (_d, store, i) = setup().await;
    let at = t0() + chrono::Duration::minutes(1);
    store
        .capture_entry(i.id, KEY, at, "alice", &chat("typo"), at)
        .await
        .unwrap();
    let before = version(&store, &i).await;
    assert!(
        store
            .update_captured(i.id, KEY, &chat("fixed"), at)
            .await
            .unwrap()
    );
    let after = version(&store, &i).await;
    assert_eq!(
        after,
        before + chrono::Duration::microseconds(1),
        "the version moves forward even when the clock does not"
    );
    assert!(
        !store
            .update_captured(i.id, KEY, &chat("fixed"), at)
            .await
            .unwrap(),
        "the same text again changes nothing"
    );
    assert_eq!(version(&store, &i).await, after);
    assert_eq!(
        store.captured(i.id, KEY).await.unwrap(),
        Some((at, "alice".to_owned(), chat("fixed")))
    );
    assert!(
        !store
            .update_captured(i.id, "slack:C0:1.2", &chat("x"), at)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn a_capture_makes_a_change_read_before_it_conflict() {
    let (_d, store, i) = setup().await;
    let now = t0() + chrono::Duration::minutes(1);
    // `i` was read before the capture: a change computed from it is stale.
    store
        .capture_entry(i.id, KEY, now, "alice", &chat("x"), now)
        .await
        .unwrap();
    let change = Change {
        status: Some("In Progress".into()),
        ..Change::default()
    };
    let err = store
        .apply(&i, "bob", now, change.clone())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict), "{err:?}");
    let fresh = store.find(IncidentRef::Id(i.id)).await.unwrap().unwrap();
    let applied = store.apply(&fresh, "bob", now, change).await.unwrap();
    assert!(applied.updated_at > fresh.updated_at);
    // And the other way round: a capture after the change still bumps past it.
    store.remove_captured(i.id, KEY, now).await.unwrap();
    assert!(version(&store, &i).await > applied.updated_at);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_captures_and_changes_all_land_once() {
    let (_d, store, i) = setup().await;
    let now = t0() + chrono::Duration::minutes(1);
    let mut tasks = Vec::new();
    for k in 0..24 {
        let s = store.clone();
        let id = i.id;
        tasks.push(tokio::spawn(async move {
            if k % 3 == 0 {
                // A change through `apply`, re-read on conflict as the engine does.
                loop {
                    let fresh = s.find(IncidentRef::Id(id)).await.unwrap().unwrap();
                    let change = Change {
                        events: vec![(
                            now,
                            TimelineEvent::Note {
                                text: format!("note {k}"),
                            },
                        )],
                        ..Change::default()
                    };
                    match s.apply(&fresh, "bob", now, change).await {
                        Ok(_) => return true,
                        Err(StoreError::Conflict) => continue,
                        Err(e) => panic!("{e:?}"),
                    }
                }
            } else {
                // Eight messages, each captured twice concurrently.
                let key = format!("slack:C0INC0001:1764000000.{:06}", k % 8);
                s.capture_entry(id, &key, now, "alice", &chat(&key), now)
                    .await
                    .unwrap()
            }
        }));
    }
    let mut new = 0;
    for t in tasks {
        if t.await.unwrap() {
            new += 1;
        }
    }
    let d = store.detail(IncidentRef::Id(i.id)).await.unwrap().unwrap();
    let chats = d
        .timeline
        .iter()
        .filter(|e| matches!(e.event, TimelineEvent::ChatMessage { .. }))
        .count();
    let notes = d
        .timeline
        .iter()
        .filter(|e| matches!(&e.event, TimelineEvent::Note { text } if text.starts_with("note")))
        .count();
    assert_eq!(chats, 8, "one entry per message");
    assert_eq!(notes, 8, "every change landed once");
    assert_eq!(new, 16, "8 new captures plus 8 changes");
}
