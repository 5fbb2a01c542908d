//! Reminders, on the local database or through a server's API.

use super::{Backend, local, seg};
use crate::failure::Failure;
use muster_core::IncidentRef;
use muster_core::time::Timestamp;
use serde_json::{Value, json};

fn bad_response(e: impl std::fmt::Display) -> Failure {
    Failure::system("bad_response", e.to_string())
}

impl Backend {
    /// The incident's reminders, as the API shows them.
    pub async fn reminders(&self, id: IncidentRef) -> Result<Vec<Value>, Failure> {
        match self {
            Backend::Local(e, lang) => {
                let d = e.get(id).await.map_err(local(*lang))?;
                let list = e.reminders(&d).await.map_err(local(*lang))?;
                list.iter()
                    .map(|r| serde_json::to_value(r).map_err(bad_response))
                    .collect()
            }
            Backend::Remote(r) => r
                .call(
                    reqwest::Method::GET,
                    &format!("/incidents/{}/reminders", seg(id)),
                    None,
                )
                .await?
                .json()
                .await
                .map_err(bad_response),
        }
    }

    /// Put reminders off; answers until when.
    pub async fn snooze(
        &self,
        id: IncidentRef,
        key: Option<&str>,
        duration: &str,
        by: &str,
    ) -> Result<Timestamp, Failure> {
        match self {
            Backend::Local(e, lang) => e
                .snooze(id, key, duration, by)
                .await
                .map(|(_, until)| until)
                .map_err(local(*lang)),
            Backend::Remote(r) => {
                let v: Value = r
                    .call_as(
                        reqwest::Method::POST,
                        &format!("/incidents/{}/snooze", seg(id)),
                        Some(json!({"duration": duration, "key": key})),
                        Some(by),
                        None,
                    )
                    .await?
                    .json()
                    .await
                    .map_err(bad_response)?;
                serde_json::from_value(v["until"].clone()).map_err(bad_response)
            }
        }
    }

    /// Stop a reminder for this incident.
    pub async fn dismiss(&self, id: IncidentRef, key: &str, by: &str) -> Result<(), Failure> {
        match self {
            Backend::Local(e, lang) => e.dismiss(id, key, by).await.map(drop).map_err(local(*lang)),
            Backend::Remote(r) => r
                .call_as(
                    reqwest::Method::POST,
                    &format!("/incidents/{}/dismiss", seg(id)),
                    Some(json!({"key": key})),
                    Some(by),
                    None,
                )
                .await
                .map(drop),
        }
    }
}
