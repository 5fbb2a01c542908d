//! The store against real SQLite files.

use chrono::Utc;
use muster_core::{IncidentNumber, IncidentRef};
use muster_store::{Change, ListFilter, Store, StoreError};
use std::time::Duration;

mod common;
use common::{new_incident, url};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_declarations_get_distinct_consecutive_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&url(&dir)).await.unwrap();
    // A second pool on the same file, as a second process would have.
    let other = Store::open(&url(&dir)).await.unwrap();
    let mut tasks = Vec::new();
    for k in 0..40 {
        let s = if k % 2 == 0 {
            store.clone()
        } else {
            other.clone()
        };
        tasks.push(tokio::spawn(async move {
            s.insert_incident(new_incident(&format!("incident {k}"), false))
                .await
                .unwrap()
                .number
                .0
        }));
    }
    let mut numbers = Vec::new();
    for t in tasks {
        numbers.push(t.await.unwrap());
    }
    numbers.sort();
    assert_eq!(numbers, (1..=40).collect::<Vec<i64>>());
}

#[tokio::test]
async fn a_stale_change_is_refused_as_a_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&url(&dir)).await.unwrap();
    let i = store
        .insert_incident(new_incident("x", false))
        .await
        .unwrap();
    let now = i.declared_at + chrono::Duration::seconds(1);
    let change = Change {
        status: Some("In Progress".into()),
        ..Change::default()
    };
    store.apply(&i, "bob", now, change.clone()).await.unwrap();
    // `i` is now stale: applying another change based on it must not silently win.
    let err = store.apply(&i, "carol", now, change).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict), "{err:?}");
    let d = store
        .detail(IncidentRef::Number(IncidentNumber(1)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.incident.status, "In Progress");
    assert_eq!(d.timeline.len(), 1, "the refused change appended nothing");
}

#[tokio::test]
async fn listing_filters_searches_and_hides_security_incidents() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&url(&dir)).await.unwrap();
    for k in 0..30 {
        store
            .insert_incident(new_incident(&format!("db outage 100% {k}"), k % 10 == 0))
            .await
            .unwrap();
    }
    let mut f = ListFilter {
        limit: 10,
        ..ListFilter::default()
    };
    let p = store.list(&f).await.unwrap();
    assert_eq!(p.total, 27);
    assert_eq!(p.items.len(), 10);
    assert_eq!(p.items[0].number.0, 30, "newest first");
    assert!(p.items.iter().all(|i| !i.security));
    f.include_security = true;
    assert_eq!(store.list(&f).await.unwrap().total, 30);
    f.search = Some("100%".into());
    assert_eq!(store.list(&f).await.unwrap().total, 30);
    f.search = Some("% 29".into());
    assert_eq!(
        store.list(&f).await.unwrap().total,
        1,
        "% is matched literally"
    );
    f.search = None;
    f.status = Some("Closed".into());
    assert_eq!(store.list(&f).await.unwrap().total, 0);
}

#[tokio::test]
async fn a_locked_database_is_reported_as_locked() {
    let dir = tempfile::tempdir().unwrap();
    let holder = Store::open(&url(&dir)).await.unwrap();
    let waiter = Store::connect_with(&url(&dir), Duration::from_millis(200))
        .await
        .unwrap();
    // Hold the write lock in an open transaction, as a stuck process would.
    let mut conn = sqlx::SqliteConnection::connect(&url(&dir)).await.unwrap();
    use sqlx::Connection;
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut conn)
        .await
        .unwrap();
    let err = waiter
        .insert_incident(new_incident("x", false))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Locked), "{err:?}");
    sqlx::query("ROLLBACK").execute(&mut conn).await.unwrap();
    assert_eq!(holder.count().await.unwrap(), 0);
    waiter
        .insert_incident(new_incident("x", false))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_read_only_database_is_reported_as_read_only() {
    let dir = tempfile::tempdir().unwrap();
    Store::open(&url(&dir)).await.unwrap().close().await;
    let ro = Store::connect(&format!("{}?mode=ro", url(&dir)))
        .await
        .unwrap();
    let err = ro
        .insert_incident(new_incident("x", false))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::ReadOnly), "{err:?}");
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_reported_as_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("muster.db"), vec![b'x'; 8192]).unwrap();
    let err = Store::open(&url(&dir)).await.unwrap_err();
    assert!(matches!(err, StoreError::Corrupt), "{err:?}");
}

#[tokio::test]
async fn migrations_are_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&url(&dir)).await.unwrap();
    assert_eq!(s.migrate().await.unwrap(), 0);
    s.ping().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_delivery_declares_once_with_its_workflow_across_pools() {
    let dir = tempfile::tempdir().unwrap();
    let a = Store::open(&url(&dir)).await.unwrap();
    let b = Store::open(&url(&dir)).await.unwrap();
    let jobs = [
        muster_store::NewJob {
            step: "slack/channel".parse().unwrap(),
            depends_on: None,
            input: None,
        },
        muster_store::NewJob {
            step: "slack/announce".parse().unwrap(),
            depends_on: Some("slack/channel".parse().unwrap()),
            input: None,
        },
    ];
    // The same delivery, twenty times at once from two "processes".
    let mut tasks = Vec::new();
    for k in 0..20 {
        let s = if k % 2 == 0 { a.clone() } else { b.clone() };
        let jobs = jobs.clone();
        tasks.push(tokio::spawn(async move {
            s.insert_incident_once(new_incident("checkout down", false), "slack:view:V1", &jobs)
                .await
                .unwrap()
        }));
    }
    let mut declared = vec![];
    for t in tasks {
        declared.extend(t.await.unwrap());
    }
    assert_eq!(declared.len(), 1, "one delivery, one incident");
    assert_eq!(a.count().await.unwrap(), 1);
    let steps: Vec<String> = a
        .jobs_for(declared[0].id)
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.step)
        .collect();
    assert_eq!(steps, ["slack/channel", "slack/announce"]);
    // Another delivery declares another incident.
    let other = a
        .insert_incident_once(new_incident("checkout down", false), "slack:view:V2", &jobs)
        .await
        .unwrap();
    assert!(other.is_some());
    assert_eq!(a.count().await.unwrap(), 2);
}

#[tokio::test]
async fn reservations_tell_mine_from_earlier_and_others() {
    use muster_store::Reservation;
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&url(&dir)).await.unwrap();
    let x = s.insert_incident(new_incident("x", false)).await.unwrap();
    let y = s.insert_incident(new_incident("y", false)).await.unwrap();
    let now = Utc::now();
    assert_eq!(s.reserve("k", x.id, now).await.unwrap(), Reservation::New);
    assert_eq!(
        s.reserve("k", x.id, now).await.unwrap(),
        Reservation::Earlier
    );
    assert_eq!(s.reserve("k", y.id, now).await.unwrap(), Reservation::Taken);
}
