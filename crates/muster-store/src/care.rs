//! Care over time: what the reminder rules need besides the record (when each reminder
//! was last said, snoozes, dismissals, the last human activity in chat), and scheduled
//! steps, which are rows of the job queue due at a later time.

use crate::jobs::enqueue_in;
use crate::store::append_entry;
use crate::{Store, StoreError};
use muster_core::IncidentId;
use muster_core::care::CareState;
use muster_core::incident::TimelineEvent;
use muster_core::record::NewJob;
use muster_core::step::StepId;
use muster_core::time::{Timestamp, from_storage, to_storage};
use sqlx::Row;
use std::collections::HashMap;

/// Snooze or dismiss reminders of one incident, with their timeline entries.
#[derive(Debug, Clone)]
pub struct CareChange {
    pub keys: Vec<String>,
    /// Put off until then; `None` dismisses.
    pub snooze_until: Option<Timestamp>,
    pub events: Vec<TimelineEvent>,
    /// Steps to schedule (a check at the snooze's end), with their due time.
    pub scheduled: Vec<(StepId, Timestamp)>,
}

impl Store {
    /// Each reminder's stored state for an incident, by key, and the last human activity
    /// seen in its chat.
    pub async fn care_state(
        &self,
        incident: IncidentId,
    ) -> Result<(HashMap<String, CareState>, Option<Timestamp>), StoreError> {
        let rows = sqlx::query(
            "SELECT key, last_sent_at, snoozed_until, dismissed_at FROM care_state WHERE incident_id = ?",
        )
        .bind(incident.to_string())
        .fetch_all(self.pool())
        .await?;
        let time =
            |r: &sqlx::sqlite::SqliteRow, c: &str| -> Result<Option<Timestamp>, StoreError> {
                Ok(r.try_get::<Option<String>, _>(c)?
                    .as_deref()
                    .and_then(from_storage))
            };
        let mut states = HashMap::new();
        for r in &rows {
            states.insert(
                r.try_get::<String, _>("key")?,
                CareState {
                    last_sent: time(r, "last_sent_at")?,
                    snoozed_until: time(r, "snoozed_until")?,
                    dismissed: time(r, "dismissed_at")?.is_some(),
                },
            );
        }
        let activity: Option<String> =
            sqlx::query_scalar("SELECT last_at FROM chat_activity WHERE incident_id = ?")
                .bind(incident.to_string())
                .fetch_optional(self.pool())
                .await?;
        Ok((states, activity.as_deref().and_then(from_storage)))
    }

    /// Queue `step` to run at `at` (not before); a step the incident already has is left
    /// as it is, so scheduling the same due time twice keeps one row.
    pub async fn schedule(
        &self,
        incident: IncidentId,
        step: &StepId,
        at: Timestamp,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        schedule_in(&mut tx, incident, step, at, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Say reminder `key` now: record that it was said, queue the steps that say it and
    /// schedule the next check, in one transaction. Only if nobody said it since
    /// `last_sent` was read (two checks due at once say it once): false otherwise.
    pub async fn care_fire(
        &self,
        incident: IncidentId,
        key: &str,
        last_sent: Option<Timestamp>,
        jobs: &[NewJob],
        next: Option<(StepId, Timestamp)>,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool().begin().await?;
        let n = sqlx::query(
            "INSERT INTO care_state (incident_id, key, last_sent_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (incident_id, key) DO UPDATE SET last_sent_at = ?3
             WHERE care_state.last_sent_at IS ?4",
        )
        .bind(incident.to_string())
        .bind(key)
        .bind(to_storage(now))
        .bind(last_sent.map(to_storage))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Ok(false);
        }
        enqueue_in(&mut tx, incident, jobs, now).await?;
        if let Some((step, at)) = next {
            schedule_in(&mut tx, incident, &step, at, now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Snooze or dismiss reminders, with their timeline entries, in one transaction.
    pub async fn care_change(
        &self,
        incident: IncidentId,
        change: &CareChange,
        by: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        let at = to_storage(now);
        for key in &change.keys {
            let q = match change.snooze_until {
                Some(_) => {
                    "INSERT INTO care_state (incident_id, key, snoozed_until) VALUES (?1, ?2, ?3)
                     ON CONFLICT (incident_id, key) DO UPDATE SET snoozed_until = ?3"
                }
                None => {
                    "INSERT INTO care_state (incident_id, key, dismissed_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (incident_id, key) DO UPDATE SET dismissed_at = ?3"
                }
            };
            sqlx::query(q)
                .bind(incident.to_string())
                .bind(key)
                .bind(to_storage(change.snooze_until.unwrap_or(now)))
                .execute(&mut *tx)
                .await?;
        }
        for e in &change.events {
            append_entry(&mut tx, incident, &at, &at, by, e, None).await?;
        }
        for (step, when) in &change.scheduled {
            schedule_in(&mut tx, incident, step, *when, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A person wrote or reacted in the incident's chat at `at`.
    pub async fn touch_chat_activity(
        &self,
        incident: IncidentId,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO chat_activity (incident_id, last_at) VALUES (?1, ?2)
             ON CONFLICT (incident_id) DO UPDATE SET last_at = ?2 WHERE chat_activity.last_at < ?2",
        )
        .bind(incident.to_string())
        .bind(to_storage(at))
        .execute(self.pool())
        .await?;
        Ok(())
    }
}

async fn schedule_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    incident: IncidentId,
    step: &StepId,
    at: Timestamp,
    now: Timestamp,
) -> Result<(), StoreError> {
    let now_s = to_storage(now);
    sqlx::query(
        "INSERT INTO jobs (incident_id, step, run_after, created_at, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (incident_id, step) DO NOTHING",
    )
    .bind(incident.to_string())
    .bind(step.to_string())
    .bind(to_storage(at.max(now)))
    .bind(&now_s)
    .bind(&now_s)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
