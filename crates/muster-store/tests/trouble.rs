//! A database in trouble (locked, read-only, full): each is reported as what it is, a
//! write that fails leaves nothing half-stored, and everything stored before is intact.

use common::url;
use muster_core::IncidentRef;
use muster_store::{Fault, FaultSwitch, NewIncident, NewJob, Store, StoreError, StoreOptions};
use sqlx::Connection;
use std::time::{Duration, Instant};

mod common;

fn new_incident(title: &str, description: &str) -> NewIncident {
    NewIncident {
        description: description.into(),
        ..common::new_incident(title, false)
    }
}

fn steps(input_bytes: usize) -> Vec<NewJob> {
    ["channel", "invite", "announce"]
        .iter()
        .map(|s| NewJob {
            step: format!("slack/{s}").parse().unwrap(),
            depends_on: None,
            input: Some(serde_json::json!({"pad": "x".repeat(input_bytes)})),
        })
        .collect()
}

async fn open(dir: &tempfile::TempDir) -> (Store, FaultSwitch) {
    let switch = FaultSwitch::default();
    let store = Store::open_with(&url(dir), StoreOptions::default().fault(switch.clone()))
        .await
        .unwrap();
    (store, switch)
}

/// Counts straight from the file, and the rules no failure may break: every incident
/// has its first timeline entry, no step or key exists without its incident.
async fn audit(dir: &tempfile::TempDir) -> (i64, i64, i64) {
    let mut c = sqlx::SqliteConnection::connect(&url(dir)).await.unwrap();
    let one = |q: &'static str| sqlx::query_scalar::<_, i64>(q);
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(check, "ok");
    let bare = one("SELECT COUNT(*) FROM incidents i WHERE NOT EXISTS (SELECT 1 FROM timeline_entries t WHERE t.incident_id = i.id)")
        .fetch_one(&mut c).await.unwrap();
    assert_eq!(bare, 0, "an incident without its first timeline entry");
    let orphans = one("SELECT COUNT(*) FROM jobs j WHERE NOT EXISTS (SELECT 1 FROM incidents i WHERE i.id = j.incident_id)")
        .fetch_one(&mut c).await.unwrap();
    assert_eq!(orphans, 0, "workflow steps without their incident");
    let gap = one("SELECT (SELECT value FROM counters WHERE name = 'incident_number') - COALESCE((SELECT MAX(number) FROM incidents), 0)")
        .fetch_one(&mut c).await.unwrap();
    assert_eq!(
        gap, 0,
        "a number was used up by a declaration that was not stored"
    );
    (
        one("SELECT COUNT(*) FROM incidents")
            .fetch_one(&mut c)
            .await
            .unwrap(),
        one("SELECT COUNT(*) FROM jobs")
            .fetch_one(&mut c)
            .await
            .unwrap(),
        one("SELECT COUNT(*) FROM idempotency_keys")
            .fetch_one(&mut c)
            .await
            .unwrap(),
    )
}

#[tokio::test]
async fn a_declaration_with_its_key_and_steps_is_stored_whole_and_once() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(&dir).await;
    let first = store
        .insert_incident_once(new_incident("one", ""), "view:1", &steps(10))
        .await
        .unwrap();
    assert!(first.is_some());
    let again = store
        .insert_incident_once(new_incident("one", ""), "view:1", &steps(10))
        .await
        .unwrap();
    assert!(again.is_none(), "the same delivery declares once");
    assert_eq!(audit(&dir).await, (1, 3, 1));
}

#[tokio::test]
async fn a_full_database_is_reported_and_nothing_is_half_stored() {
    let dir = tempfile::tempdir().unwrap();
    let (store, switch) = open(&dir).await;
    for k in 0..3 {
        store
            .insert_incident_once(
                new_incident(&format!("before {k}"), ""),
                &format!("k{k}"),
                &steps(10),
            )
            .await
            .unwrap();
    }
    let before = audit(&dir).await;
    switch.set(Fault::Full);
    // Big enough that the incident, or else its steps, need a new page.
    let err = store
        .insert_incident_once(
            new_incident("during", &"d".repeat(3000)),
            "k-during",
            &steps(20_000),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Full), "{err:?}");
    assert!(matches!(
        store.check_writable().await,
        Err(StoreError::Full)
    ));
    assert_eq!(
        audit(&dir).await,
        before,
        "nothing of the failed declaration was kept"
    );
    switch.set(Fault::None);
    store.check_writable().await.unwrap();
    let after = store
        .insert_incident_once(
            new_incident("during", &"d".repeat(3000)),
            "k-during",
            &steps(20_000),
        )
        .await
        .unwrap()
        .expect("the key of the failed attempt was not kept, so sending again declares");
    assert_eq!(after.number.0, 4, "numbers stay consecutive");
    for n in 1..=3 {
        let d = store
            .detail(IncidentRef::Number(muster_core::IncidentNumber(n)))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(d.incident.title.as_str(), format!("before {}", n - 1));
        assert_eq!(d.timeline.len(), 1);
        assert_eq!(d.roles.len(), 1);
    }
}

#[tokio::test]
async fn a_read_only_database_is_reported_even_when_running_as_root() {
    // `query_only` is enforced by SQLite, so this holds whatever the file permissions.
    let dir = tempfile::tempdir().unwrap();
    let (store, switch) = open(&dir).await;
    store
        .insert_incident(new_incident("before", ""))
        .await
        .unwrap();
    switch.set(Fault::ReadOnly);
    let err = store
        .insert_incident_once(new_incident("during", ""), "k", &steps(10))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::ReadOnly), "{err:?}");
    assert!(matches!(
        store.check_writable().await,
        Err(StoreError::ReadOnly)
    ));
    // Reading still works: people can see what was recorded.
    assert_eq!(store.count().await.unwrap(), 1);
    assert_eq!(audit(&dir).await, (1, 0, 0));
    switch.set(Fault::None);
    store.check_writable().await.unwrap();
}

#[tokio::test]
async fn a_read_only_file_is_reported_by_the_write_probe() {
    let dir = tempfile::tempdir().unwrap();
    Store::open(&url(&dir)).await.unwrap().close().await;
    let ro = Store::connect(&format!("{}?mode=ro", url(&dir)))
        .await
        .unwrap();
    let err = ro.check_writable().await.unwrap_err();
    assert!(matches!(err, StoreError::ReadOnly), "{err:?}");
}

#[tokio::test]
async fn the_write_probe_reports_a_locked_database_quickly_and_keeps_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(&dir).await;
    store.check_writable().await.unwrap();
    store.check_writable().await.unwrap();
    assert_eq!(audit(&dir).await, (0, 0, 0), "the probe keeps nothing");
    let mut holder = sqlx::SqliteConnection::connect(&url(&dir)).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut holder)
        .await
        .unwrap();
    let t = Instant::now();
    let err = store.check_writable().await.unwrap_err();
    assert!(matches!(err, StoreError::Locked), "{err:?}");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();
    store.check_writable().await.unwrap();
}
