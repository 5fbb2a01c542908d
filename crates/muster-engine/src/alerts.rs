//! Alerts in: a delivery from monitoring declares an incident, joins its group's open
//! incident, or is only recorded, as `[alerts]` says. Declared like any other source, so
//! chat provisioning and paging follow.

use crate::engine::Declaration;
use crate::{Engine, EngineError};
use muster_core::alert::{AlertBatch, Decision, decide};
use muster_core::config::{AlertAction, AlertsConfig};
use muster_core::incident::{ExternalRef, IncidentDetail, ResourceKind, TimelineEvent};
use muster_core::record::{AlertDelivery, AlertOutcome, AlertState, Change, NewIncident, NewJob};
use muster_core::{IncidentId, IncidentRef};
use muster_store::StoreError;

/// How many times a delivery is planned again when a concurrent one changed its group.
const STALE_RETRIES: usize = 8;

/// What a delivery did, for the sender's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertReceipt {
    /// It declared this incident.
    Declared { id: IncidentId, number: i64 },
    /// It joined this open incident, adding `entries` timeline entries (0: a repeat).
    Attached {
        id: IncidentId,
        number: i64,
        entries: usize,
    },
    /// Recorded only; the rules' action says why (`record`: unmapped severity).
    Recorded { action: AlertAction },
}

impl Engine {
    /// Receive one alert delivery: record it (its `payload` already redacted) and what it
    /// causes, in one transaction, then answer. Concurrent deliveries of one group declare
    /// once: the store serialises them and a delivery planned against a stale view of its
    /// group is planned again.
    pub async fn receive_alerts(
        &self,
        batch: &AlertBatch,
        payload: String,
    ) -> Result<AlertReceipt, EngineError> {
        let empty = AlertsConfig {
            severity_label: "severity".into(),
            severities: Default::default(),
            team_label: "team".into(),
            rules: vec![],
            grafana: None,
        };
        let rules = self.config().alerts.as_ref().unwrap_or(&empty);
        let decision = decide(self.config(), rules, batch);
        let now = self.now();
        let delivery = AlertDelivery {
            source: batch.source.as_str().to_owned(),
            group_key: batch.group_key.clone(),
            received_at: now,
            action: decision.action.as_str().to_owned(),
            payload,
            alerts: batch
                .alerts
                .iter()
                .map(|a| AlertState {
                    fingerprint: a.fingerprint.clone(),
                    name: a.name.clone(),
                    firing: a.firing,
                    labels: serde_json::to_string(&a.labels).unwrap_or_default(),
                })
                .collect(),
        };
        for _ in 0..STALE_RETRIES {
            let expected = self
                .store()
                .alert_group_incident(&delivery.source, &delivery.group_key)
                .await?;
            let (declare, when_resolved) = match expected {
                None if decision.action == AlertAction::Declare && batch.any_firing() => {
                    (self.alert_declaration(batch, &decision)?, vec![])
                }
                None => (None, vec![]),
                Some(id) => {
                    let detail = self.get(IncidentRef::Id(id)).await?;
                    (None, self.all_resolved_steps(&detail))
                }
            };
            let queued = declare.as_ref().map_or(0, |(_, j)| j.len()) + when_resolved.len();
            let outcome = self
                .store()
                .receive_alerts(&delivery, expected, declare, &when_resolved)
                .await?;
            let number = |id| async move {
                self.get(IncidentRef::Id(id))
                    .await
                    .map(|d| d.incident.number.0)
            };
            return Ok(match outcome {
                AlertOutcome::Stale => continue,
                AlertOutcome::Declared(id) => {
                    self.queued_steps(queued);
                    AlertReceipt::Declared {
                        id,
                        number: number(id).await?,
                    }
                }
                AlertOutcome::Attached { incident, entries } => {
                    self.queued_steps(queued);
                    AlertReceipt::Attached {
                        id: incident,
                        number: number(incident).await?,
                        entries,
                    }
                }
                AlertOutcome::Recorded => AlertReceipt::Recorded {
                    action: decision.action,
                },
            });
        }
        Err(StoreError::Other("alert group kept changing; try again".into()).into())
    }

    /// The incident a batch declares, with every planner's setup; None when even the
    /// alert's name makes no valid title.
    fn alert_declaration(
        &self,
        batch: &AlertBatch,
        decision: &Decision,
    ) -> Result<Option<(NewIncident, Vec<NewJob>)>, EngineError> {
        let resources = decision
            .link
            .iter()
            .map(|url| ExternalRef {
                kind: ResourceKind::Alert,
                system: batch.source.as_str().to_owned(),
                external_id: batch.group_key.clone(),
                url: Some(url.clone()),
                name: None,
            })
            .collect::<Vec<_>>();
        let names = std::iter::once(decision.title.clone())
            .chain(batch.alerts.iter().map(|a| a.name.clone()));
        for title in names {
            let d = Declaration {
                title,
                severity: decision.severity.clone(),
                team: decision.team.clone(),
                by: batch.source.as_str().to_owned(),
                resources: resources.clone(),
                ..Declaration::default()
            };
            match self.prepare(d) {
                Ok((mut new, jobs)) => {
                    // Nobody declared it: no one gets the declarer's roles.
                    new.roles.clear();
                    new.events
                        .retain(|e| !matches!(e, TimelineEvent::RoleAssigned { .. }));
                    new.events
                        .extend(batch.alerts.iter().filter(|a| a.firing).map(|a| {
                            TimelineEvent::AlertFiring {
                                name: a.name.clone(),
                            }
                        }));
                    return Ok(Some((new, jobs)));
                }
                Err(e) if e.is_user_error() => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    /// What every planner does when the last alert of `detail`'s group resolves (a
    /// suggestion in its channel to resolve it); queued only if that happens.
    fn all_resolved_steps(&self, detail: &IncidentDetail) -> Vec<NewJob> {
        let change = Change {
            events: vec![(self.now(), TimelineEvent::AlertsResolved)],
            ..Change::default()
        };
        self.follow_ups(detail, &change, self.now())
    }
}
