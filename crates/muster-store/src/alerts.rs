//! Alert deliveries and the incidents their groups declared.
//!
//! [`Store::receive_alerts`] records a delivery and what it causes in one transaction that
//! takes SQLite's write lock with its first statement, so concurrent deliveries of the
//! same group (Alertmanager HA peers send twice) are serialised: the first declares, the
//! next finds the group's open incident and attaches.

use crate::store::{append_entry, insert_incident_in};
use crate::{Store, StoreError};
use muster_core::IncidentId;
use muster_core::incident::TimelineEvent;
use muster_core::record::{AlertDelivery, AlertOutcome, NewIncident, NewJob};
use muster_core::time::to_storage;
use sqlx::{Row, Sqlite, Transaction};

/// Who the timeline says wrote alert entries.
pub const ALERT_AUTHOR: &str = "alerts";

impl Store {
    /// The group's open (not closed) incident, if any.
    pub async fn alert_group_incident(
        &self,
        source: &str,
        group_key: &str,
    ) -> Result<Option<IncidentId>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        open_incident(&mut conn, source, group_key).await
    }

    /// Record `delivery` and what it causes, in one transaction:
    /// - `expected` is the group's open incident as the caller read it; if the group's
    ///   open incident is another one now, nothing is written ([`AlertOutcome::Stale`]);
    /// - no open incident: `declare` (the incident, its workflow) is inserted when given
    ///   and the delivery has a firing alert, and the group points at it;
    /// - an open incident: each alert new to it or whose status changed adds a timeline
    ///   entry; when the last firing alert resolves, an [`TimelineEvent::AlertsResolved`]
    ///   entry is added and `when_all_resolved` is queued.
    pub async fn receive_alerts(
        &self,
        delivery: &AlertDelivery,
        expected: Option<IncidentId>,
        declare: Option<(NewIncident, Vec<NewJob>)>,
        when_all_resolved: &[NewJob],
    ) -> Result<AlertOutcome, StoreError> {
        let now = to_storage(delivery.received_at);
        let mut tx = self.pool().begin().await?;
        // The first statement writes, so the transaction holds the write lock before it reads.
        let delivery_id: i64 = sqlx::query(
            "INSERT INTO alert_deliveries (source, group_key, received_at, action, payload) VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(&delivery.source)
        .bind(&delivery.group_key)
        .bind(&now)
        .bind(&delivery.action)
        .bind(&delivery.payload)
        .fetch_one(&mut *tx)
        .await?
        .get(0);
        let current = open_incident(&mut tx, &delivery.source, &delivery.group_key).await?;
        if current != expected {
            tx.rollback().await?;
            return Ok(AlertOutcome::Stale);
        }
        let outcome = match current {
            None => match declare {
                Some((new, jobs)) if delivery.alerts.iter().any(|a| a.firing) => {
                    let id = new.id;
                    insert_incident_in(&mut tx, &new).await?;
                    crate::jobs::enqueue_in(&mut tx, id, &jobs, new.declared_at).await?;
                    sqlx::query(
                        "INSERT INTO alert_groups (source, group_key, incident_id, created_at) VALUES (?, ?, ?, ?)",
                    )
                    .bind(&delivery.source)
                    .bind(&delivery.group_key)
                    .bind(id.to_string())
                    .bind(&now)
                    .execute(&mut *tx)
                    .await?;
                    upsert_alerts(&mut tx, id, delivery, &now).await?;
                    AlertOutcome::Declared(id)
                }
                _ => AlertOutcome::Recorded,
            },
            Some(id) => {
                let events = upsert_alerts(&mut tx, id, delivery, &now).await?;
                let mut entries = events.len();
                if !events.is_empty() {
                    crate::capture::bump_version(&mut tx, id, delivery.received_at).await?;
                    for e in &events {
                        append_entry(&mut tx, id, &now, &now, ALERT_AUTHOR, e, None).await?;
                    }
                    let resolved_now = events
                        .iter()
                        .any(|e| matches!(e, TimelineEvent::AlertResolved { .. }));
                    let firing: i64 = sqlx::query(
                        "SELECT COUNT(*) FROM alerts WHERE incident_id = ? AND firing = 1",
                    )
                    .bind(id.to_string())
                    .fetch_one(&mut *tx)
                    .await?
                    .get(0);
                    if resolved_now && firing == 0 {
                        append_entry(
                            &mut tx,
                            id,
                            &now,
                            &now,
                            ALERT_AUTHOR,
                            &TimelineEvent::AlertsResolved,
                            None,
                        )
                        .await?;
                        entries += 1;
                        crate::jobs::enqueue_in(
                            &mut tx,
                            id,
                            when_all_resolved,
                            delivery.received_at,
                        )
                        .await?;
                    }
                }
                AlertOutcome::Attached {
                    incident: id,
                    entries,
                }
            }
        };
        let incident = match &outcome {
            AlertOutcome::Declared(id) | AlertOutcome::Attached { incident: id, .. } => {
                Some(id.to_string())
            }
            _ => None,
        };
        sqlx::query("UPDATE alert_deliveries SET incident_id = ? WHERE id = ?")
            .bind(incident)
            .bind(delivery_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// How many deliveries were recorded for a group (for tests and diagnostics).
    pub async fn alert_deliveries(
        &self,
        source: &str,
        group_key: &str,
    ) -> Result<Vec<(String, Option<String>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT payload, incident_id FROM alert_deliveries WHERE source = ? AND group_key = ? ORDER BY id",
        )
        .bind(source)
        .bind(group_key)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }
}

async fn open_incident(
    conn: &mut sqlx::SqliteConnection,
    source: &str,
    group_key: &str,
) -> Result<Option<IncidentId>, StoreError> {
    let row = sqlx::query(
        "SELECT g.incident_id FROM alert_groups g JOIN incidents i ON i.id = g.incident_id WHERE g.source = ? AND g.group_key = ? AND i.closed_at IS NULL ORDER BY g.created_at DESC, g.rowid DESC LIMIT 1",
    )
    .bind(source)
    .bind(group_key)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        let s: String = r.get(0);
        uuid::Uuid::parse_str(&s)
            .map(IncidentId)
            .map_err(|_| StoreError::Other(format!("bad incident id {s:?} in alert_groups")))
    })
    .transpose()
}

/// Write each alert's state; answer the timeline entries its changes call for.
async fn upsert_alerts(
    tx: &mut Transaction<'_, Sqlite>,
    incident: IncidentId,
    delivery: &AlertDelivery,
    now: &str,
) -> Result<Vec<TimelineEvent>, StoreError> {
    let id = incident.to_string();
    let mut events = vec![];
    for a in &delivery.alerts {
        let inserted = sqlx::query(
            "INSERT INTO alerts (incident_id, fingerprint, name, firing, labels, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (incident_id, fingerprint) DO NOTHING",
        )
        .bind(&id)
        .bind(&a.fingerprint)
        .bind(&a.name)
        .bind(a.firing)
        .bind(&a.labels)
        .bind(now)
        .bind(now)
        .execute(&mut **tx)
        .await?
        .rows_affected()
            == 1;
        let changed = inserted
            || sqlx::query(
                "UPDATE alerts SET firing = ?, last_seen_at = ? WHERE incident_id = ? AND fingerprint = ? AND firing <> ?",
            )
            .bind(a.firing)
            .bind(now)
            .bind(&id)
            .bind(&a.fingerprint)
            .bind(a.firing)
            .execute(&mut **tx)
            .await?
            .rows_affected()
                == 1;
        if !changed {
            sqlx::query(
                "UPDATE alerts SET last_seen_at = ? WHERE incident_id = ? AND fingerprint = ?",
            )
            .bind(now)
            .bind(&id)
            .bind(&a.fingerprint)
            .execute(&mut **tx)
            .await?;
            continue;
        }
        events.push(if a.firing {
            TimelineEvent::AlertFiring {
                name: a.name.clone(),
            }
        } else {
            TimelineEvent::AlertResolved {
                name: a.name.clone(),
            }
        });
    }
    Ok(events)
}
