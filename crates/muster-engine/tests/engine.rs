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

fn domain(e: EngineError) -> DomainError {
    match e {
        EngineError::Domain(d) => d,
        other => panic!("expected a refused request, got {other:?}"),
    }
}

#[tokio::test]
async fn impact_times_are_ordered_and_not_in_the_future() {
    let dir = tempfile::tempdir().unwrap();
    let (e, _) = engine(&dir).await;
    let d = e.declare(declaration("Impact")).await.unwrap();
    let r = IncidentRef::Id(d.incident.id);
    let impact = |started: &str, detected: &str| muster_engine::ImpactInput {
        started: Some(started.into()),
        detected: Some(detected.into()),
        ..Default::default()
    };
    // Detected before it started: refused (was accepted).
    let err = domain(
        e.set_impact(r, impact("13:30", "13:10"), "bob")
            .await
            .unwrap_err(),
    );
    assert_eq!(err.code(), "impact_out_of_order");
    // Ten minutes ahead of the clock (14:00): refused; within the skew: kept.
    let err = domain(
        e.set_impact(r, impact("13:00", "14:10"), "bob")
            .await
            .unwrap_err(),
    );
    assert_eq!(err.code(), "time_in_future");
    assert!(err.message(Lang::En).contains("5 minutes"));
    e.set_impact(r, impact("13:00", "14:04"), "bob")
        .await
        .unwrap();
    let d = e.get(r).await.unwrap();
    assert_eq!(
        d.incident.impact.detected_at,
        Some(Utc.with_ymd_and_hms(2026, 11, 26, 14, 4, 0).unwrap())
    );
}

#[tokio::test]
async fn notes_are_dated_within_the_incident() {
    let dir = tempfile::tempdir().unwrap();
    let (e, clock) = engine(&dir).await;
    let d = e.declare(declaration("Notes")).await.unwrap();
    let r = IncidentRef::Id(d.incident.id);
    clock.advance(chrono::Duration::days(1));
    let before = len_of(&e, r).await;
    let err = domain(
        e.add_note(r, "seen earlier", Some("2026-11-25 23:59"), "bob")
            .await
            .unwrap_err(),
    );
    assert_eq!(err.code(), "note_before_incident");
    assert!(err.message(Lang::Fr).contains("2026-11-26"));
    let err = domain(
        e.add_note(r, "later", Some("2026-11-27 18:00"), "bob")
            .await
            .unwrap_err(),
    );
    assert_eq!(err.code(), "time_in_future");
    assert_eq!(len_of(&e, r).await, before, "refused notes wrote nothing");
    // Earlier on the declaration's day is fine.
    e.add_note(r, "first alert", Some("2026-11-26 08:00"), "bob")
        .await
        .unwrap();
    assert_eq!(len_of(&e, r).await, before + 1);
}

async fn len_of(e: &Engine, r: IncidentRef) -> usize {
    e.get(r).await.unwrap().timeline.len()
}

#[tokio::test]
async fn a_keyed_declaration_declares_once_and_finds_it_again() {
    let dir = tempfile::tempdir().unwrap();
    let (e, _) = engine(&dir).await;
    assert!(e.declared_by("web:k1").await.unwrap().is_none());
    let first = e
        .declare_keyed(declaration("Once"), "web:k1")
        .await
        .unwrap();
    assert!(first.is_new());
    // The same key again, even with other fields: the first incident, nothing new.
    let again = e
        .declare_keyed(declaration("Twice"), "web:k1")
        .await
        .unwrap();
    assert!(!again.is_new());
    assert_eq!(again.detail().incident.id, first.detail().incident.id);
    assert_eq!(again.detail().incident.title.as_str(), "Once");
    let other = e
        .declare_keyed(declaration("Other"), "web:k2")
        .await
        .unwrap();
    assert_ne!(
        other.detail().incident.number,
        first.detail().incident.number
    );
    assert_eq!(
        e.declared_by("web:k1").await.unwrap().unwrap().incident.id,
        first.detail().incident.id
    );
}
