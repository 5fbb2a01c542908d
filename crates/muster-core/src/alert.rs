//! Alerts from monitoring, as plain data: the payloads Muster accepts (Prometheus
//! Alertmanager's webhook version 4, Grafana-managed alerting's superset of it, and a small
//! generic JSON event), parsed into one [`AlertBatch`] shape, and the rules of `[alerts]`
//! that decide what a batch does ([`decide`]).
//!
//! Parsing is strict about what Muster needs (a version it knows, a group key, at least
//! one alert) and lenient about the rest: unknown fields are ignored, so a newer
//! Alertmanager (0.34 adds `notification_reason` and `routeLabels`) or Grafana still reads.

use crate::config::{AlertAction, AlertsConfig, Config};
use crate::title::MAX_TITLE_CHARS;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Largest alert delivery accepted, in bytes.
pub const MAX_ALERT_BODY: usize = 1024 * 1024;
/// Longest group key, fingerprint or alert name kept.
const MAX_KEY_CHARS: usize = 512;

pub type Labels = BTreeMap<String, String>;

/// Which endpoint a delivery came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertSource {
    /// Alertmanager (and Grafana, whose webhook body is a superset).
    Alertmanager,
    /// The generic JSON event.
    Webhook,
}

impl AlertSource {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertSource::Alertmanager => "alertmanager",
            AlertSource::Webhook => "webhook",
        }
    }
}

/// One alert of a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// Stable per alert within its source (Alertmanager's fingerprint, else its labels).
    pub fingerprint: String,
    pub firing: bool,
    /// The `alertname` label, else the fingerprint.
    pub name: String,
    pub labels: Labels,
    pub annotations: Labels,
    pub link: Option<String>,
}

/// A delivery, whatever its format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertBatch {
    pub source: AlertSource,
    /// Alertmanager's `groupKey`, or the generic event's `dedup_key`: one incident per
    /// group while it is not closed.
    pub group_key: String,
    pub alerts: Vec<Alert>,
    pub common_labels: Labels,
    pub common_annotations: Labels,
    /// A title the sender gave (the generic event's `title`).
    pub title: Option<String>,
    pub external_url: Option<String>,
    /// Alertmanager 0.34's `notification_reason`, when present.
    pub reason: Option<String>,
}

/// Why a delivery was refused (answered 400, and not retried by Alertmanager).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlertError {
    #[error("the body is not JSON of the expected shape: {0}")]
    NotJson(String),
    #[error(
        "unsupported payload version {0:?} (expected \"4\" from Alertmanager or \"1\" from Grafana)"
    )]
    WrongVersion(String),
    #[error("the payload has no alerts")]
    NoAlerts,
    #[error("the field {0} is missing or empty")]
    Missing(&'static str),
    #[error("the field status must be \"firing\" or \"resolved\", not {0:?}")]
    BadStatus(String),
}

impl AlertError {
    /// A stable code for the API's error body.
    pub fn code(&self) -> &'static str {
        match self {
            AlertError::NotJson(_) => "not_json",
            AlertError::WrongVersion(_) => "wrong_version",
            AlertError::NoAlerts => "no_alerts",
            AlertError::Missing(_) => "missing_field",
            AlertError::BadStatus(_) => "bad_status",
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AmPayload {
    version: Option<String>,
    group_key: Option<String>,
    #[serde(default)]
    common_labels: Labels,
    #[serde(default)]
    common_annotations: Labels,
    #[serde(rename = "externalURL")]
    external_url: Option<String>,
    #[serde(rename = "notification_reason")]
    notification_reason: Option<String>,
    /// Grafana's title of the notification.
    title: Option<String>,
    #[serde(default)]
    alerts: Vec<AmAlert>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AmAlert {
    status: String,
    #[serde(default)]
    labels: Labels,
    #[serde(default)]
    annotations: Labels,
    #[serde(rename = "generatorURL")]
    generator_url: Option<String>,
    /// Grafana's links, preferred to the generator's when present.
    #[serde(rename = "panelURL")]
    panel_url: Option<String>,
    #[serde(rename = "dashboardURL")]
    dashboard_url: Option<String>,
    fingerprint: Option<String>,
}

#[derive(Deserialize)]
struct WebhookEvent {
    dedup_key: Option<String>,
    title: Option<String>,
    severity: Option<String>,
    status: Option<String>,
    source_url: Option<String>,
    #[serde(default)]
    details: Option<serde_json::Value>,
}

fn clip(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

fn firing(status: &str) -> Result<bool, AlertError> {
    match status {
        "firing" => Ok(true),
        "resolved" => Ok(false),
        other => Err(AlertError::BadStatus(clip(other, 40))),
    }
}

fn link(raw: Option<&str>) -> Option<String> {
    raw.filter(|s| !s.is_empty())
        .and_then(|s| crate::incident::parse_link(s).ok())
}

/// Parse an Alertmanager (version "4") or Grafana (version "1") webhook body.
pub fn parse_alertmanager(body: &[u8]) -> Result<AlertBatch, AlertError> {
    let p: AmPayload =
        serde_json::from_slice(body).map_err(|e| AlertError::NotJson(clip(&e.to_string(), 200)))?;
    match p.version.as_deref() {
        Some("4") | Some("1") => {}
        other => return Err(AlertError::WrongVersion(clip(other.unwrap_or(""), 20))),
    }
    let group_key = p
        .group_key
        .filter(|k| !k.trim().is_empty())
        .ok_or(AlertError::Missing("groupKey"))?;
    if p.alerts.is_empty() {
        return Err(AlertError::NoAlerts);
    }
    let alerts = p
        .alerts
        .into_iter()
        .map(|a| {
            let fingerprint = a
                .fingerprint
                .filter(|f| !f.is_empty())
                .unwrap_or_else(|| labels_key(&a.labels));
            let name = a
                .labels
                .get("alertname")
                .cloned()
                .unwrap_or_else(|| fingerprint.clone());
            Ok(Alert {
                firing: firing(&a.status)?,
                name: clip(&name, MAX_KEY_CHARS),
                fingerprint: clip(&fingerprint, MAX_KEY_CHARS),
                link: link(a.panel_url.as_deref())
                    .or_else(|| link(a.dashboard_url.as_deref()))
                    .or_else(|| link(a.generator_url.as_deref())),
                labels: a.labels,
                annotations: a.annotations,
            })
        })
        .collect::<Result<Vec<_>, AlertError>>()?;
    Ok(AlertBatch {
        source: AlertSource::Alertmanager,
        group_key: clip(&group_key, MAX_KEY_CHARS),
        alerts: unique(alerts),
        common_labels: p.common_labels,
        common_annotations: p.common_annotations,
        title: p.title.filter(|t| !t.trim().is_empty()),
        external_url: link(p.external_url.as_deref()),
        reason: p.notification_reason,
    })
}

/// Parse the generic event `{"dedup_key","title","severity","status","source_url","details"}`.
/// Its severity is read like an Alertmanager `severity` label.
pub fn parse_webhook(body: &[u8], severity_label: &str) -> Result<AlertBatch, AlertError> {
    let e: WebhookEvent =
        serde_json::from_slice(body).map_err(|e| AlertError::NotJson(clip(&e.to_string(), 200)))?;
    let key = e
        .dedup_key
        .filter(|k| !k.trim().is_empty())
        .ok_or(AlertError::Missing("dedup_key"))?;
    let title = e
        .title
        .filter(|t| !t.trim().is_empty())
        .ok_or(AlertError::Missing("title"))?;
    let is_firing = firing(e.status.as_deref().unwrap_or("firing"))?;
    let mut labels = Labels::new();
    labels.insert("alertname".into(), clip(&title, MAX_KEY_CHARS));
    if let Some(s) = e.severity.filter(|s| !s.trim().is_empty()) {
        labels.insert(severity_label.to_owned(), s);
    }
    let mut annotations = Labels::new();
    if let Some(d) = e.details.filter(|d| !d.is_null()) {
        let text = match d {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        };
        annotations.insert("details".into(), clip(&text, 4000));
    }
    let key = clip(&key, MAX_KEY_CHARS);
    Ok(AlertBatch {
        source: AlertSource::Webhook,
        group_key: key.clone(),
        alerts: vec![Alert {
            fingerprint: key,
            firing: is_firing,
            name: clip(&title, MAX_KEY_CHARS),
            labels: labels.clone(),
            annotations,
            link: link(e.source_url.as_deref()),
        }],
        common_labels: labels,
        common_annotations: Labels::new(),
        title: Some(title),
        external_url: None,
        reason: None,
    })
}

/// One alert per fingerprint, the last one listed winning, in first-seen order.
fn unique(alerts: Vec<Alert>) -> Vec<Alert> {
    let mut at = std::collections::HashMap::new();
    let mut out: Vec<Alert> = Vec::with_capacity(alerts.len());
    for a in alerts {
        match at.get(&a.fingerprint) {
            Some(&i) => out[i] = a,
            None => {
                at.insert(a.fingerprint.clone(), out.len());
                out.push(a);
            }
        }
    }
    out
}

/// A stable key for an alert without a fingerprint: its labels, sorted.
fn labels_key(labels: &Labels) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// What `[alerts]` says a batch does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub action: AlertAction,
    /// The Muster severity, when the batch's severity label maps to one.
    pub severity: Option<String>,
    pub team: Option<String>,
    pub title: String,
    /// The alert's link (`generatorURL`, Grafana's panel, else `externalURL`).
    pub link: Option<String>,
}

impl AlertBatch {
    /// The labels rules match on: the group's common labels over the first alert's.
    pub fn labels(&self) -> Labels {
        let mut l = self
            .alerts
            .first()
            .map(|a| a.labels.clone())
            .unwrap_or_default();
        l.extend(self.common_labels.clone());
        l
    }

    pub fn any_firing(&self) -> bool {
        self.alerts.iter().any(|a| a.firing)
    }
}

/// Apply `[alerts]` to a batch: the first rule whose labels all match decides the action
/// (default: declare); an alert whose severity label maps to no Muster severity is only
/// recorded, whatever the rule says, unless the rule ignores it.
pub fn decide(config: &Config, alerts: &AlertsConfig, batch: &AlertBatch) -> Decision {
    let labels = batch.labels();
    let rule = alerts
        .rules
        .iter()
        .find(|r| r.matchers.iter().all(|(k, v)| labels.get(k) == Some(v)));
    let severity = rule.and_then(|r| r.severity.clone()).or_else(|| {
        labels
            .get(&alerts.severity_label)
            .and_then(|v| alerts.severities.get(&v.trim().to_lowercase()))
            .cloned()
    });
    let mut action = rule.map_or(AlertAction::Declare, |r| r.action);
    if severity.is_none() && action != AlertAction::Ignore {
        action = AlertAction::Record;
    }
    let team_label = rule
        .and_then(|r| r.team_label.as_deref())
        .unwrap_or(&alerts.team_label);
    let team = labels.get(team_label).and_then(|t| config.team(t).ok());
    let first = batch
        .alerts
        .iter()
        .find(|a| a.firing)
        .or(batch.alerts.first());
    let title = batch
        .common_annotations
        .get("summary")
        .or(batch.title.as_ref())
        .or(first.and_then(|a| a.annotations.get("summary")))
        .cloned()
        .or_else(|| first.map(|a| a.name.clone()))
        .unwrap_or_else(|| batch.group_key.clone());
    let title = clip(
        title
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .as_str(),
        MAX_TITLE_CHARS,
    );
    let link = first
        .and_then(|a| a.link.clone())
        .or_else(|| batch.external_url.clone());
    Decision {
        action,
        severity,
        team,
        title,
        link,
    }
}
