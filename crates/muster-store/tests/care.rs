//! Upgrading a database made before reminders existed.

use muster_store::Store;
use std::borrow::Cow;

mod common;
use common::{new_incident, url};

#[tokio::test]
async fn upgrading_schedules_a_reminder_check_for_every_incident_not_closed() {
    let dir = tempfile::tempdir().unwrap();
    let u = url(&dir);
    // The schema as it was before migration 9.
    let old = Store::connect(&u).await.unwrap();
    let mut before = sqlx::migrate!("./migrations/sqlite");
    before.migrations = Cow::Owned(
        before
            .migrations
            .iter()
            .filter(|m| m.version < 9)
            .cloned()
            .collect(),
    );
    let pool = sqlx::SqlitePool::connect(&u).await.unwrap();
    before.run(&pool).await.unwrap();
    let open = old
        .insert_incident(new_incident("still open", false))
        .await
        .unwrap();
    let closed = old
        .insert_incident(new_incident("long closed", false))
        .await
        .unwrap();
    sqlx::query("UPDATE incidents SET closed_at = declared_at, status = 'Closed' WHERE id = ?")
        .bind(closed.id.to_string())
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    old.migrate().await.unwrap();
    let pool = sqlx::SqlitePool::connect(&u).await.unwrap();
    let checks: Vec<String> =
        sqlx::query_scalar("SELECT incident_id FROM jobs WHERE step = 'care/remind/check.0'")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(checks, [open.id.to_string()]);
    // Due at once.
    let due = old
        .claim(chrono::Utc::now(), std::time::Duration::from_secs(30), 16)
        .await
        .unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].step, "care/remind/check.0");
}
