//! Use cases against a real SQLite store and a controlled clock.

use chrono::{TimeZone, Utc};
use muster_core::config::Config;
use muster_core::incident::TimelineEvent;
use muster_core::report::ReportFormat;
use muster_core::{DomainError, IncidentId, IncidentRef, Lang};
use muster_engine::{Declaration, Engine, EngineError, FixedClock};
use muster_store::Store;
use std::sync::Arc;

async fn engine(dir: &tempfile::TempDir) -> (Engine, Arc<FixedClock>) {
    let url = format!("sqlite://{}/m.db", dir.path().display());
    let store = Store::open(&url).await.unwrap();
    let clock = Arc::new(FixedClock::new(
        Utc.with_ymd_and_hms(2026, 11, 26, 14, 0, 0).unwrap(),
    ));
    (
        Engine::new(store, Arc::new(Config::default()), clock.clone()),
        clock,
    )
}

fn declaration(title: &str) -> Declaration {
    Declaration {
        title: title.into(),
        by: "alice".into(),
        ..Declaration::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_transitions_apply_once() {
    let dir = tempfile::tempdir().unwrap();
    let (e, _) = engine(&dir).await;
    let e = Arc::new(e);
    let d = e.declare(declaration("Race")).await.unwrap();
    let r = IncidentRef::Id(d.incident.id);
    let mut tasks = Vec::new();
    for k in 0..8 {
        let e = e.clone();
        tasks.push(tokio::spawn(async move {
            e.set_status(r, "In Progress", &format!("p{k}")).await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(EngineError::Domain(DomainError::AlreadyInStatus(_))) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(ok, 1, "exactly one person moved it");
    let d = e.get(r).await.unwrap();
    let changes = d
        .timeline
        .iter()
        .filter(|t| matches!(t.event, TimelineEvent::StatusChanged { .. }))
        .count();
    assert_eq!(changes, 1);
}

#[tokio::test]
async fn times_come_from_the_clock_and_channel_names_from_the_day() {
    let dir = tempfile::tempdir().unwrap();
    let (e, clock) = engine(&dir).await;
    let d = e.declare(declaration("Ça ne répond plus")).await.unwrap();
    assert_eq!(
        d.incident.channel_name.as_str(),
        "incident-2026-11-26-ca-ne-repond-plus"
    );
    clock.advance(chrono::Duration::minutes(30));
    let d = e
        .resolve(IncidentRef::Id(d.incident.id), "bob")
        .await
        .unwrap();
    assert_eq!(
        d.incident.resolved_at,
        Some(Utc.with_ymd_and_hms(2026, 11, 26, 14, 30, 0).unwrap())
    );
    assert_eq!(d.incident.status, "Ready to be Reviewed");
    let md = e
        .report(
            IncidentRef::Id(d.incident.id),
            Lang::En,
            ReportFormat::Markdown,
        )
        .await
        .unwrap();
    assert!(md.contains("| 30 min |"), "{md}");
    let err = e
        .resolve(IncidentRef::Id(d.incident.id), "bob")
        .await
        .unwrap_err();
    assert!(err.is_user_error());
}

#[tokio::test]
async fn unknown_incidents_are_user_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (e, _) = engine(&dir).await;
    let err = e
        .add_note(
            IncidentRef::Id(IncidentId(uuid::Uuid::nil())),
            "x",
            None,
            "a",
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "incident_not_found");
    assert!(err.is_user_error());
}

#[tokio::test]
async fn tokens_note_their_last_use_once_a_minute_and_keep_history() {
    let dir = tempfile::tempdir().unwrap();
    let (e, clock) = engine(&dir).await;
    assert!(e.create_token("deploy-bot", "h1").await.unwrap());
    assert_eq!(e.list_tokens().await.unwrap()[0].last_used_at, None);
    assert_eq!(
        e.token_name("h1").await.unwrap().as_deref(),
        Some("deploy-bot")
    );
    let first = e.list_tokens().await.unwrap()[0].last_used_at.clone();
    assert!(first.is_some(), "the first use is recorded");
    // Within the minute: not written again.
    clock.advance(chrono::Duration::seconds(30));
    e.token_name("h1").await.unwrap();
    assert_eq!(e.list_tokens().await.unwrap()[0].last_used_at, first);
    clock.advance(chrono::Duration::seconds(31));
    e.token_name("h1").await.unwrap();
    assert_ne!(e.list_tokens().await.unwrap()[0].last_used_at, first);

    // A new token under a revoked one's name keeps the revoked record.
    assert!(
        !e.create_token("deploy-bot", "h2").await.unwrap(),
        "name in use"
    );
    assert!(e.revoke_token("deploy-bot").await.unwrap());
    assert!(e.create_token("deploy-bot", "h2").await.unwrap());
    let list = e.list_tokens().await.unwrap();
    assert_eq!(list.len(), 2, "{list:?}");
    assert!(list[0].revoked_at.is_some() && list[0].last_used_at.is_some());
    assert!(list[1].revoked_at.is_none());
    assert_eq!(e.token_name("h1").await.unwrap(), None);
    assert_eq!(
        e.token_name("h2").await.unwrap().as_deref(),
        Some("deploy-bot")
    );
    assert!(!e.create_token("deploy-bot", "h3").await.unwrap());
}
