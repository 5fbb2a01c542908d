//! Timeline entries captured from outside (a chat message saved by a reaction), keyed by
//! their source (`source_key`, e.g. `slack:{channel}:{ts}`) so that capturing the same
//! message twice keeps one entry, removing it hides the entry (soft delete) and edits
//! rewrite it.
//!
//! Each operation bumps the incident's `updated_at` in the same transaction, as
//! [`Store::apply`] does: `updated_at` is the incident's version, so a change computed
//! from a read made before a capture is refused as a conflict and re-checked.

use crate::{Store, StoreError};
use muster_core::IncidentId;
use muster_core::incident::TimelineEvent;
use muster_core::time::{Timestamp, from_storage, to_storage};
use sqlx::{Sqlite, Transaction};

impl Store {
    /// Add a captured entry, or do nothing if the incident already shows one for
    /// `source_key`. An entry removed earlier is revived with the new content (the
    /// message was reacted to again). Returns true when an entry appeared in the
    /// timeline (new or revived), false when one was already there.
    pub async fn capture_entry(
        &self,
        incident: IncidentId,
        source_key: &str,
        at: Timestamp,
        author: &str,
        event: &TimelineEvent,
        recorded_at: Timestamp,
    ) -> Result<bool, StoreError> {
        let (kind, json) = event_json(event)?;
        let mut tx = self.pool().begin().await?;
        // Writing the incident row first takes SQLite's write lock at once.
        bump_version(&mut tx, incident, recorded_at).await?;
        let recorded = to_storage(recorded_at);
        let inserted = sqlx::query(
            "INSERT INTO timeline_entries (incident_id, at, recorded_at, author, kind, event, source_key) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (incident_id, source_key) WHERE source_key IS NOT NULL DO NOTHING",
        )
        .bind(incident.to_string())
        .bind(to_storage(at))
        .bind(&recorded)
        .bind(author)
        .bind(&kind)
        .bind(&json)
        .bind(source_key)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        let appeared = if inserted {
            true
        } else {
            sqlx::query(
                "UPDATE timeline_entries SET deleted_at = NULL, at = ?, recorded_at = ?, author = ?, kind = ?, event = ? WHERE incident_id = ? AND source_key = ? AND deleted_at IS NOT NULL",
            )
            .bind(to_storage(at))
            .bind(&recorded)
            .bind(author)
            .bind(&kind)
            .bind(&json)
            .bind(incident.to_string())
            .bind(source_key)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1
        };
        finish(tx, appeared).await
    }

    /// Hide the entry captured from `source_key` (soft delete). Returns false if there
    /// is no such entry, or it is already removed.
    pub async fn remove_captured(
        &self,
        incident: IncidentId,
        source_key: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool().begin().await?;
        bump_version(&mut tx, incident, now).await?;
        let removed = sqlx::query(
            "UPDATE timeline_entries SET deleted_at = ? WHERE incident_id = ? AND source_key = ? AND deleted_at IS NULL",
        )
        .bind(to_storage(now))
        .bind(incident.to_string())
        .bind(source_key)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        finish(tx, removed).await
    }

    /// Rewrite the event of the live entry captured from `source_key` (the message was
    /// edited). Returns false if there is no such live entry or it already says that.
    pub async fn update_captured(
        &self,
        incident: IncidentId,
        source_key: &str,
        event: &TimelineEvent,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let (kind, json) = event_json(event)?;
        let mut tx = self.pool().begin().await?;
        bump_version(&mut tx, incident, now).await?;
        let updated = sqlx::query(
            "UPDATE timeline_entries SET kind = ?, event = ? WHERE incident_id = ? AND source_key = ? AND deleted_at IS NULL AND event <> ?",
        )
        .bind(&kind)
        .bind(&json)
        .bind(incident.to_string())
        .bind(source_key)
        .bind(&json)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        finish(tx, updated).await
    }

    /// The live entry captured from `source_key`, if any: (when, author, event).
    pub async fn captured(
        &self,
        incident: IncidentId,
        source_key: &str,
    ) -> Result<Option<(Timestamp, String, TimelineEvent)>, StoreError> {
        let row: Option<(String, String, String)> = sqlx::query_as(
            "SELECT at, author, event FROM timeline_entries WHERE incident_id = ? AND source_key = ? AND deleted_at IS NULL",
        )
        .bind(incident.to_string())
        .bind(source_key)
        .fetch_optional(self.pool())
        .await?;
        let Some((at, author, event)) = row else {
            return Ok(None);
        };
        let bad = || StoreError::Other("unreadable captured timeline entry in the database".into());
        let at = from_storage(&at).ok_or_else(bad)?;
        let event = serde_json::from_str(&event).map_err(|_| bad())?;
        Ok(Some((at, author, event)))
    }
}

fn event_json(event: &TimelineEvent) -> Result<(String, String), StoreError> {
    let json = serde_json::to_value(event).map_err(|e| StoreError::Other(e.to_string()))?;
    let kind = json
        .get("kind")
        .and_then(|k| k.as_str())
        .unwrap_or("unknown")
        .to_owned();
    Ok((kind, json.to_string()))
}

/// Move the incident's version forward: `max(now, old + 1 µs)`, as [`Store::apply`]
/// does. Fails with `Other` if there is no such incident.
pub(crate) async fn bump_version(
    tx: &mut Transaction<'_, Sqlite>,
    incident: IncidentId,
    now: Timestamp,
) -> Result<(), StoreError> {
    let id = incident.to_string();
    // The UPDATE comes first so the transaction holds the write lock before it reads.
    let touched = sqlx::query("UPDATE incidents SET updated_at = updated_at WHERE id = ?")
        .bind(&id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if touched != 1 {
        return Err(StoreError::Other(format!("no incident {id}")));
    }
    let old: String = sqlx::query_scalar("SELECT updated_at FROM incidents WHERE id = ?")
        .bind(&id)
        .fetch_one(&mut **tx)
        .await?;
    let old = from_storage(&old)
        .ok_or_else(|| StoreError::Other("unreadable updated_at in the database".into()))?;
    let next = if now <= old {
        old + chrono::Duration::microseconds(1)
    } else {
        now
    };
    sqlx::query("UPDATE incidents SET updated_at = ? WHERE id = ?")
        .bind(to_storage(next))
        .bind(&id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Commit when something changed; otherwise roll back so the incident's version stays
/// put (a duplicate capture must not make a concurrent change conflict).
async fn finish(tx: Transaction<'_, Sqlite>, changed: bool) -> Result<bool, StoreError> {
    if changed {
        tx.commit().await?;
    } else {
        tx.rollback().await?;
    }
    Ok(changed)
}
