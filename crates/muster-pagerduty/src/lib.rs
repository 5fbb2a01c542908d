//! # muster-pagerduty
//!
//! Paging out through PagerDuty's Events API v2, on the engine's planner port:
//! - [`PagerDutyPlanner`] (pure) plans a `page` step when an incident of a listed severity
//!   is declared, from any source, or raised into the list, and a `page-resolve` step when
//!   a paged incident is resolved or closed. Steps are unique per incident, so an incident
//!   pages at most once and resolves at most once.
//! - [`PagerDutyRunner`] sends them: `trigger` with a `dedup_key` stable for the incident
//!   (`muster-<incident id>`), then `resolve` with the same key and routing key. 429, 5xx
//!   and network errors are retried with backoff; other refusals fail the step for a
//!   person to see. A security incident's page says nothing but its number and severity.

use muster_core::Secret;
use muster_core::config::{Config, PagerDutyConfig};
use muster_core::i18n::Args;
use muster_core::incident::{IncidentDetail, ResourceKind, TimelineEvent};
use muster_core::record::{Change, NewIncident};
use muster_core::step::StepKind;
use muster_core::time::Timestamp;
use muster_engine::chat::{Origin, PlannedStep, Planner};
use muster_engine::workflow::{BoxFuture, StepInput, StepOutcome, StepRunner};
use serde_json::{Value, json};
use std::time::Duration;

/// The planner's and runner's name in step ids.
pub const PLATFORM: &str = "pagerduty";
/// PagerDuty's limit on `payload.summary`.
pub const MAX_SUMMARY_CHARS: usize = 1024;

/// Plans pages from `[paging.pagerduty] severities` and the lifecycle's resolved and
/// closed statuses.
pub struct PagerDutyPlanner {
    severities: Vec<String>,
    resolved: String,
    closed: String,
}

impl PagerDutyPlanner {
    pub fn new(config: &Config, pd: &PagerDutyConfig) -> Self {
        PagerDutyPlanner {
            severities: pd.severities.clone(),
            resolved: config.resolved_status.clone(),
            closed: config.closed_status.clone(),
        }
    }

    fn pages(&self, severity: &str) -> bool {
        self.severities.iter().any(|s| s == severity)
    }

    /// Whether the incident was ever at a paging severity (so a page was planned).
    fn was_paged(&self, d: &IncidentDetail) -> bool {
        self.pages(&d.incident.severity)
            || d.timeline.iter().any(|e| match &e.event {
                TimelineEvent::Declared { severity, .. } => self.pages(severity),
                TimelineEvent::SeverityChanged { to, .. } => self.pages(to),
                _ => false,
            })
    }
}

impl Planner for PagerDutyPlanner {
    fn name(&self) -> &str {
        PLATFORM
    }

    fn setup(&self, incident: &NewIncident, _origin: &Origin) -> Vec<PlannedStep> {
        if self.pages(&incident.severity) && !incident.drill {
            vec![PlannedStep::new(StepKind::Page)]
        } else {
            vec![]
        }
    }

    fn follow_ups(
        &self,
        before: &IncidentDetail,
        change: &Change,
        _version: Timestamp,
    ) -> Vec<PlannedStep> {
        if before.incident.drill {
            return vec![];
        }
        let mut steps = vec![];
        let raised = change.severity.as_deref().is_some_and(|s| self.pages(s));
        if raised {
            // Unique per incident: an incident already paged is not paged again.
            steps.push(PlannedStep::new(StepKind::Page));
        }
        let ends = change
            .status
            .as_deref()
            .is_some_and(|s| s == self.resolved || s == self.closed);
        if ends && (raised || self.was_paged(before)) {
            steps.push(PlannedStep::new(StepKind::PageResolve).after(StepKind::Page));
        }
        steps
    }
}

/// Sends the planned events.
pub struct PagerDutyRunner {
    http: reqwest::Client,
    events_url: String,
    routing_key: Secret,
    /// Where the incident pages are (`[server] public_url`), for links.
    public_url: Option<String>,
}

impl PagerDutyRunner {
    pub fn new(
        pd: &PagerDutyConfig,
        routing_key: Secret,
        public_url: Option<String>,
    ) -> Result<Self, String> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(20))
            .user_agent(concat!("muster/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(PagerDutyRunner {
            http,
            events_url: pd.events_url.clone(),
            routing_key,
            public_url: public_url.map(|u| u.trim_end_matches('/').to_owned()),
        })
    }

    /// The event a step sends.
    pub fn event(&self, step: &StepInput<'_>) -> Value {
        let d = step.detail;
        let i = &d.incident;
        let dedup_key = format!("muster-{}", i.id);
        if step.step.kind == StepKind::PageResolve {
            return json!({
                "routing_key": self.routing_key.expose(),
                "event_action": "resolve",
                "dedup_key": dedup_key,
            });
        }
        let lang = step.config.language;
        let summary = if i.security {
            lang.format(
                "pagerduty-security-summary",
                &Args::new()
                    .with("number", i.number.to_string())
                    .with("severity", &i.severity),
            )
        } else {
            format!("{} {} ({})", i.number, i.title, i.severity)
        };
        let mut links = vec![];
        if let Some(u) = &self.public_url {
            links.push(json!({"href": format!("{u}/incidents/{}", i.number), "text": format!("{} in Muster", i.number)}));
        }
        if !i.security {
            for r in d
                .resources
                .iter()
                .filter(|r| r.kind == ResourceKind::Channel)
            {
                if let Some(url) = &r.url {
                    links.push(json!({"href": url, "text": format!("#{}", r.name.as_deref().unwrap_or(i.channel_name.as_str()))}));
                }
            }
            if let Some(url) = d.resource(ResourceKind::Alert).and_then(|r| r.url.as_ref()) {
                links.push(json!({"href": url, "text": "Alert"}));
            }
        }
        let mut event = json!({
            "routing_key": self.routing_key.expose(),
            "event_action": "trigger",
            "dedup_key": dedup_key,
            "payload": {
                "summary": summary.chars().take(MAX_SUMMARY_CHARS).collect::<String>(),
                "source": "muster",
                "severity": pd_severity(step.config, &i.severity),
                "component": if i.security { Value::Null } else { i.team.clone().map_or(Value::Null, Value::String) },
                "custom_details": {"incident": i.number.to_string(), "severity": i.severity},
            },
            "links": links,
            "client": "Muster",
        });
        if event["payload"]["component"].is_null() {
            event["payload"]
                .as_object_mut()
                .map(|p| p.remove("component"));
        }
        if let Some(u) = &self.public_url {
            event["client_url"] = json!(format!("{u}/incidents/{}", i.number));
        }
        event
    }
}

/// Muster's severities in order map to critical, error, warning, then info.
pub fn pd_severity(config: &Config, severity: &str) -> &'static str {
    match config.severities.iter().position(|s| s.name == severity) {
        Some(0) => "critical",
        Some(1) => "error",
        Some(2) => "warning",
        _ => "info",
    }
}

/// How long to wait before the `attempt`th retry: 2 s doubling, at most 5 minutes.
fn backoff(attempt: i64) -> Duration {
    let exp = attempt.clamp(1, 9) as u32 - 1;
    Duration::from_secs((2u64 << exp).min(300))
}

impl StepRunner for PagerDutyRunner {
    fn platform(&self) -> &str {
        PLATFORM
    }

    fn run<'a>(&'a self, step: StepInput<'a>) -> BoxFuture<'a, StepOutcome> {
        Box::pin(async move {
            if !matches!(step.step.kind, StepKind::Page | StepKind::PageResolve) {
                return StepOutcome::Failed(format!("{} is not a PagerDuty step", step.step));
            }
            let event = self.event(&step);
            let res = self.http.post(&self.events_url).json(&event).send().await;
            match res {
                Ok(r) if r.status().is_success() => StepOutcome::Done {
                    output: r.json::<Value>().await.ok(),
                    resources: vec![],
                },
                Ok(r) if r.status().as_u16() == 429 || r.status().is_server_error() => {
                    let after = r
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse::<u64>().ok())
                        .map(Duration::from_secs)
                        .unwrap_or_else(|| backoff(step.attempt))
                        .min(Duration::from_secs(300));
                    StepOutcome::Retry {
                        after,
                        error: format!("PagerDuty answered {}", r.status()),
                    }
                }
                Ok(r) => {
                    let status = r.status();
                    let body: String = r
                        .text()
                        .await
                        .unwrap_or_default()
                        .chars()
                        .take(300)
                        .collect();
                    StepOutcome::Failed(format!("PagerDuty refused the event ({status}): {body}"))
                }
                // The error names the URL, never the routing key (it is in the body).
                Err(e) => StepOutcome::Retry {
                    after: backoff(step.attempt),
                    error: format!("PagerDuty unreachable: {}", e.without_url()),
                },
            }
        })
    }

    fn report_failure<'a>(&'a self, step: StepInput<'a>, error: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            tracing::error!(step = %step.step, incident = %step.detail.incident.number, error, "paging failed");
        })
    }
}
