//! Helpers shared by the store's test files.

use chrono::{TimeZone, Utc};
use muster_core::incident::{ExternalRef, ResourceKind, TimelineEvent};
use muster_core::{ChannelName, IncidentId, Title};
use muster_store::NewIncident;

pub fn new_incident(title: &str, security: bool) -> NewIncident {
    let at = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
    NewIncident {
        id: IncidentId(uuid::Uuid::now_v7()),
        title: Title::parse(title).unwrap(),
        description: String::new(),
        severity: "SEV2".into(),
        status: "Open".into(),
        team: Some("notify".into()),
        security,
        drill: false,
        channel_name: ChannelName::parse("incident-2026-11-26-x").unwrap(),
        declared_by: "alice".into(),
        declared_at: at,
        roles: vec![("commander".into(), "alice".into())],
        resources: vec![ExternalRef {
            kind: ResourceKind::Meeting,
            system: "jitsi".into(),
            external_id: "room".into(),
            url: Some("https://meet.jit.si/room".into()),
            name: None,
        }],
        events: vec![TimelineEvent::Note {
            text: "declared".into(),
        }],
    }
}

pub fn url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}/muster.db", dir.path().display())
}
