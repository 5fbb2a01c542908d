//! The durable job queue behind workflows, idempotency keys, and lookups by external id.

use crate::store::upsert_resource;
use crate::{Store, StoreError};
use muster_core::IncidentId;
use muster_core::incident::{ExternalRef, ResourceKind};
use muster_core::record::{Job, JobStatus, NewJob, Reservation};
use muster_core::step::{JobState, StepId};
use muster_core::time::{Timestamp, from_storage, to_storage};
use sqlx::Row;
use std::time::Duration;

fn parse_id(s: &str) -> Result<IncidentId, StoreError> {
    uuid::Uuid::parse_str(s)
        .map(IncidentId)
        .map_err(|_| StoreError::Other("unreadable incident id in jobs".into()))
}

impl Store {
    /// Add steps; steps the incident already has are left as they are.
    pub async fn enqueue(
        &self,
        incident: IncidentId,
        jobs: &[NewJob],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        enqueue_in(&mut tx, incident, jobs, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Claim up to `limit` due steps whose dependency is done, leasing them for `lease`.
    pub async fn claim(
        &self,
        now: Timestamp,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Job>, StoreError> {
        let now_s = to_storage(now);
        let until = to_storage(
            now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(60)),
        );
        let rows = sqlx::query(
            "UPDATE jobs SET locked_until = ?1, attempts = attempts + 1, runs = runs + 1, updated_at = ?2
             WHERE id IN (
                SELECT j.id FROM jobs j
                WHERE j.state = 'pending' AND j.run_after <= ?2
                  AND (j.locked_until IS NULL OR j.locked_until < ?2)
                  AND (j.depends_on IS NULL OR EXISTS (
                        SELECT 1 FROM jobs d WHERE d.incident_id = j.incident_id AND d.step = j.depends_on AND d.state = 'done'))
                ORDER BY j.id LIMIT ?3)
             RETURNING id, incident_id, step, attempts, runs, input",
        )
        .bind(&until)
        .bind(&now_s)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let input: Option<String> = r.try_get("input")?;
                Ok(Job {
                    id: r.try_get("id")?,
                    incident_id: parse_id(&r.try_get::<String, _>("incident_id")?)?,
                    step: r.try_get("step")?,
                    attempts: r.try_get("attempts")?,
                    runs: r.try_get("runs")?,
                    input: input.and_then(|s| serde_json::from_str(&s).ok()),
                })
            })
            .collect()
    }

    /// The step succeeded: record what it made on the incident and keep `output` for the
    /// steps after it, in one transaction, so a crash leaves either both or neither.
    pub async fn complete_job(
        &self,
        job: &Job,
        output: Option<serde_json::Value>,
        resources: &[ExternalRef],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        for r in resources {
            // Writing first takes SQLite's write lock at once: a read first would have to
            // upgrade its lock later, which fails at once (no busy wait) when another
            // step is writing.
            upsert_resource(&mut tx, job.incident_id, r).await?;
            if r.kind == ResourceKind::Channel
                && let Some(name) = &r.name
                && !has_other_channel(&mut tx, job.incident_id, &r.system).await?
            {
                name_channel(&mut tx, job.incident_id, name, now).await?;
            }
        }
        sqlx::query("UPDATE jobs SET state = 'done', locked_until = NULL, last_error = NULL, output = ?, updated_at = ? WHERE id = ?")
            .bind(output.map(|v| v.to_string()))
            .bind(to_storage(now))
            .bind(job.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Keep a running step reserved a while longer (a heartbeat while it waits on Slack).
    pub async fn extend_lease(&self, id: i64, until: Timestamp) -> Result<(), StoreError> {
        sqlx::query("UPDATE jobs SET locked_until = ? WHERE id = ? AND state = 'pending'")
            .bind(to_storage(until))
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Whether `key` is reserved, by any incident.
    pub async fn is_reserved(&self, key: &str) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM reservations WHERE key = ?")
            .bind(key)
            .fetch_one(self.pool())
            .await?;
        Ok(n > 0)
    }

    /// Reserve `key` for `incident` before asking for it outside.
    pub async fn reserve(
        &self,
        key: &str,
        incident: IncidentId,
        now: Timestamp,
    ) -> Result<Reservation, StoreError> {
        let inserted = sqlx::query("INSERT INTO reservations (key, incident_id, created_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(incident.to_string())
            .bind(to_storage(now))
            .execute(self.pool())
            .await?
            .rows_affected()
            == 1;
        if inserted {
            return Ok(Reservation::New);
        }
        let owner: String =
            sqlx::query_scalar("SELECT incident_id FROM reservations WHERE key = ?")
                .bind(key)
                .fetch_one(self.pool())
                .await?;
        Ok(if parse_id(&owner)? == incident {
            Reservation::Earlier
        } else {
            Reservation::Taken
        })
    }

    /// Try again after `at`.
    pub async fn retry_job(
        &self,
        id: i64,
        at: Timestamp,
        error: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE jobs SET locked_until = NULL, run_after = ?, last_error = ?, updated_at = ? WHERE id = ?")
            .bind(to_storage(at))
            .bind(error)
            .bind(to_storage(now))
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Give up on a step until someone asks for a retry.
    pub async fn fail_job(&self, id: i64, error: &str, now: Timestamp) -> Result<(), StoreError> {
        sqlx::query("UPDATE jobs SET state = 'failed', locked_until = NULL, last_error = ?, updated_at = ? WHERE id = ?")
            .bind(error)
            .bind(to_storage(now))
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Put a failed step back in the queue (the retry button).
    pub async fn requeue(
        &self,
        incident: IncidentId,
        step: &StepId,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query("UPDATE jobs SET state = 'pending', run_after = ?, attempts = 0, updated_at = ? WHERE incident_id = ? AND step = ? AND state = 'failed'")
            .bind(to_storage(now))
            .bind(to_storage(now))
            .bind(incident.to_string())
            .bind(step.to_string())
            .execute(self.pool())
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// What a finished step produced.
    pub async fn job_output(
        &self,
        incident: IncidentId,
        step: &StepId,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        let r = sqlx::query(
            "SELECT output FROM jobs WHERE incident_id = ? AND step = ? AND state = 'done'",
        )
        .bind(incident.to_string())
        .bind(step.to_string())
        .fetch_optional(self.pool())
        .await?;
        Ok(
            r.and_then(|r| r.try_get::<Option<String>, _>("output").ok().flatten())
                .and_then(|s| serde_json::from_str(&s).ok()),
        )
    }

    /// Outputs of every finished step of an incident, by step name.
    pub async fn job_outputs(
        &self,
        incident: IncidentId,
    ) -> Result<std::collections::HashMap<StepId, serde_json::Value>, StoreError> {
        let rows = sqlx::query("SELECT step, output FROM jobs WHERE incident_id = ? AND state = 'done' AND output IS NOT NULL")
            .bind(incident.to_string())
            .fetch_all(self.pool())
            .await?;
        let mut out = std::collections::HashMap::new();
        for r in rows {
            let step: String = r.try_get("step")?;
            let output: String = r.try_get("output")?;
            // A step this version cannot read has no reader for its output either.
            if let (Ok(step), Ok(v)) = (step.parse::<StepId>(), serde_json::from_str(&output)) {
                out.insert(step, v);
            }
        }
        Ok(out)
    }

    /// The incident's workflow steps, oldest first. The engine's scheduled reminder
    /// checks (`care/…`) are not work anyone waits for: they are left out here and in
    /// [`Store::queue_depth`], and shown as reminders instead.
    pub async fn jobs_for(&self, incident: IncidentId) -> Result<Vec<JobStatus>, StoreError> {
        let rows = sqlx::query(
            "SELECT step, state, attempts, last_error FROM jobs WHERE incident_id = ? AND step NOT LIKE 'care/%' ORDER BY id",
        )
        .bind(incident.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(JobStatus {
                    step: r.try_get("step")?,
                    state: r
                        .try_get::<String, _>("state")?
                        .parse::<JobState>()
                        .map_err(StoreError::Other)?,
                    attempts: r.try_get("attempts")?,
                    last_error: r.try_get("last_error")?,
                })
            })
            .collect()
    }

    /// Steps not yet done (pending or failed), for the queue-depth metric; scheduled
    /// reminder checks (`care/…`) left out.
    pub async fn queue_depth(&self) -> Result<(u64, u64), StoreError> {
        let r =
            sqlx::query("SELECT SUM(state = 'pending') AS p, SUM(state = 'failed') AS f FROM jobs WHERE step NOT LIKE 'care/%'")
                .fetch_one(self.pool())
                .await?;
        let p: Option<i64> = r.try_get("p")?;
        let f: Option<i64> = r.try_get("f")?;
        Ok((p.unwrap_or(0) as u64, f.unwrap_or(0) as u64))
    }

    /// When the next pending step is due, so an idle worker can sleep until then.
    pub async fn next_due(&self) -> Result<Option<Timestamp>, StoreError> {
        let r: Option<String> = sqlx::query_scalar("SELECT MIN(COALESCE(MAX(run_after, locked_until), run_after)) FROM jobs WHERE state = 'pending'")
            .fetch_one(self.pool())
            .await?;
        Ok(r.and_then(|s| from_storage(&s)))
    }

    /// The incident a delivery key declared (`insert_declared` with a key), if any: how a
    /// repeated submit or `Idempotency-Key` finds what the first one made.
    pub async fn incident_for_key(&self, key: &str) -> Result<Option<IncidentId>, StoreError> {
        let id: Option<Option<String>> =
            sqlx::query_scalar("SELECT incident_id FROM idempotency_keys WHERE key = ?")
                .bind(key)
                .fetch_optional(self.pool())
                .await?;
        id.flatten().as_deref().map(parse_id).transpose()
    }

    /// Remember a delivery; false if it was seen before.
    pub async fn remember(&self, key: &str, now: Timestamp) -> Result<bool, StoreError> {
        let r = sqlx::query("INSERT INTO idempotency_keys (key, created_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(to_storage(now))
            .execute(self.pool())
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Record or replace an external reference on an incident.
    pub async fn set_resource(
        &self,
        incident: IncidentId,
        r: &ExternalRef,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        upsert_resource(&mut tx, incident, r).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The incident that owns an external thing (a chat channel), found through the record.
    pub async fn incident_by_resource(
        &self,
        kind: ResourceKind,
        system: &str,
        external_id: &str,
    ) -> Result<Option<IncidentId>, StoreError> {
        let r = sqlx::query(
            "SELECT incident_id FROM resources WHERE kind = ? AND system = ? AND external_id = ?",
        )
        .bind(kind.as_str())
        .bind(system)
        .bind(external_id)
        .fetch_optional(self.pool())
        .await?;
        r.map(|r| parse_id(&r.try_get::<String, _>("incident_id")?))
            .transpose()
    }
}

pub(crate) async fn enqueue_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    incident: IncidentId,
    jobs: &[NewJob],
    now: Timestamp,
) -> Result<(), StoreError> {
    let now_s = to_storage(now);
    for j in jobs {
        sqlx::query(
            "INSERT INTO jobs (incident_id, step, depends_on, input, run_after, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (incident_id, step) DO NOTHING",
        )
        .bind(incident.to_string())
        .bind(j.step.to_string())
        .bind(j.depends_on.as_ref().map(StepId::to_string))
        .bind(j.input.as_ref().map(|v| v.to_string()))
        // A scheduled reminder check waits for the time its name says.
        .bind(muster_core::care::not_before(&j.step).map_or_else(|| now_s.clone(), |t| to_storage(t.max(now))))
        .bind(&now_s)
        .bind(&now_s)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Whether another platform already made a channel for the incident.
async fn has_other_channel(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    incident: IncidentId,
    system: &str,
) -> Result<bool, StoreError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM resources WHERE incident_id = ? AND kind = 'channel' AND system <> ?",
    )
    .bind(incident.to_string())
    .bind(system)
    .fetch_one(&mut **tx)
    .await?;
    Ok(n > 0)
}

/// The first channel made for an incident is called `name`: when that is not the planned
/// name (it was taken, so the platform added `-2`), the record follows, so the CLI, the
/// pages, the report and the API send people to the room that exists. With several
/// platforms, each one's own name stays on its resource (`IncidentDetail::channels`).
async fn name_channel(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    incident: IncidentId,
    name: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    let Ok(parsed) = muster_core::ChannelName::parse(name) else {
        // A platform's own naming (a Matrix alias) that is not a channel name: the
        // resource keeps it; the record's name stays the planned one.
        return Ok(());
    };
    let changed =
        sqlx::query("UPDATE incidents SET channel_name = ? WHERE id = ? AND channel_name <> ?")
            .bind(parsed.as_str())
            .bind(incident.to_string())
            .bind(parsed.as_str())
            .execute(&mut **tx)
            .await?
            .rows_affected()
            == 1;
    if changed {
        let at = to_storage(now);
        let event = muster_core::incident::TimelineEvent::ChannelNamed {
            name: parsed.to_string(),
        };
        crate::store::append_entry(tx, incident, &at, &at, "muster", &event, None).await?;
    }
    Ok(())
}
