//! The use cases adapters need besides the incident's lifecycle: find the incident a chat
//! channel belongs to, remember a delivery, queue a step from chat, retry a failed step,
//! readiness, API tokens and the numbers `/metrics` shows. Adapters reach the record only
//! through the engine; these keep them from improvising with the store.

use crate::chat::PlannedStep;
use crate::{Engine, EngineError};
use muster_core::IncidentId;
use muster_core::incident::{Incident, ResourceKind};
use muster_core::record::{ListFilter, TokenInfo};
use muster_core::step::StepId;

/// What `/metrics` may show of the record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordMetrics {
    /// Incidents by (status, severity); drills and security incidents left out.
    pub incidents: Vec<(String, String, u64)>,
    /// Workflow steps waiting to run, and steps that gave up.
    pub steps_pending: u64,
    pub steps_failed: u64,
    /// Reminders of incidents not closed: (incident number, reminder key, seconds until
    /// due, negative when overdue); drills and security incidents left out.
    pub reminders: Vec<(String, String, f64)>,
}

impl Engine {
    /// The incident whose channel on `platform` is `channel`, found through the record.
    pub async fn incident_by_chat_channel(
        &self,
        platform: &str,
        channel: &str,
    ) -> Result<Option<IncidentId>, EngineError> {
        Ok(self
            .store()
            .incident_by_resource(ResourceKind::Channel, platform, channel)
            .await?)
    }

    /// Remember a delivery (a chat event id, an envelope id): false if it came before.
    pub async fn remember_delivery(&self, key: &str) -> Result<bool, EngineError> {
        Ok(self.store().remember(key, self.now()).await?)
    }

    /// Queue a step a chat event calls for (capture a message, warn about a pasted
    /// credential, assign a role once the person's name is known). Named by the delivery,
    /// so the write that keeps it also dedupes a redelivery.
    pub async fn queue_step(
        &self,
        incident: IncidentId,
        platform: &str,
        step: PlannedStep,
    ) -> Result<(), EngineError> {
        let job = step.into_job(platform, None);
        self.store().enqueue(incident, &[job], self.now()).await?;
        self.queued_steps(1);
        Ok(())
    }

    /// Put a failed step back in the queue (a person pressed "retry"). False if the step
    /// is not failed (already retried, or done).
    pub async fn retry_step(
        &self,
        incident: IncidentId,
        step: &StepId,
    ) -> Result<bool, EngineError> {
        let requeued = self.store().requeue(incident, step, self.now()).await?;
        self.queued_steps(requeued as usize);
        Ok(requeued)
    }

    /// Whether the database would take a write now (a rolled-back probe).
    pub async fn readiness(&self) -> Result<(), EngineError> {
        Ok(self.store().check_writable().await?)
    }

    pub async fn metrics(&self) -> Result<RecordMetrics, EngineError> {
        let incidents = self.store().counts().await?;
        let (steps_pending, steps_failed) = self.store().queue_depth().await?;
        Ok(RecordMetrics {
            incidents,
            steps_pending,
            steps_failed,
            reminders: self.reminder_metrics().await?,
        })
    }

    /// Every incident the filter lets through, oldest first (for statistics).
    pub async fn all_incidents(&self, filter: &ListFilter) -> Result<Vec<Incident>, EngineError> {
        Ok(self.store().all(filter).await?)
    }

    /// The name of the active token with this SHA-256 hash, noting its use. The use is
    /// written at most once a minute per token: a write per call would queue every API
    /// request behind SQLite's single writer, and "last used" is read in minutes or days.
    /// A write that fails (database read-only or full) does not refuse the caller.
    pub async fn token_name(&self, hash: &str) -> Result<Option<String>, EngineError> {
        let Some((name, last)) = self.store().active_token(hash).await? else {
            return Ok(None);
        };
        let now = self.now();
        let stale = muster_core::time::to_storage(now - chrono::Duration::minutes(1));
        if last.is_none_or(|l| l < stale)
            && let Err(e) = self.store().touch_token(hash, now).await
        {
            tracing::warn!(error = %e, "could not record a token's last use");
        }
        Ok(Some(name))
    }

    /// Keep a new token's hash under `name`: false if an active token has that name.
    pub async fn create_token(&self, name: &str, hash: &str) -> Result<bool, EngineError> {
        Ok(self.store().create_token(name, hash, self.now()).await?)
    }

    pub async fn list_tokens(&self) -> Result<Vec<TokenInfo>, EngineError> {
        Ok(self.store().list_tokens().await?)
    }

    /// False if no active token has that name.
    pub async fn revoke_token(&self, name: &str) -> Result<bool, EngineError> {
        Ok(self.store().revoke_token(name, self.now()).await?)
    }

    /// Close the database's connections (a short-lived CLI command is done).
    pub async fn shutdown(&self) {
        self.store().close().await;
    }
}
