//! Row ⇄ domain conversions. A row that does not parse back into the domain is reported as
//! corruption rather than papered over.

use crate::StoreError;
use muster_core::incident::{
    ActionItem, ExternalRef, Impact, Incident, Narrative, ResourceKind, RoleAssignment,
    StatusUpdate, TimelineEntry, TimelineEvent,
};
use muster_core::time::{Timestamp, from_storage};
use muster_core::{ChannelName, IncidentId, IncidentNumber, Title};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

pub(crate) const INCIDENT_COLUMNS: &str = "id, number, title, description, severity, status, team, security, drill, channel_name, declared_by, declared_at, detected_at, started_at, mitigated_at, ended_at, resolved_at, closed_at, summary, impact_users, impact_staff, impact_partners, impact_other, trigger_text, detection, resolution, root_causes, went_well, went_wrong, got_lucky, updated_at";

fn bad(what: &str) -> StoreError {
    StoreError::Other(format!("unreadable {what} in the database"))
}

pub(crate) fn time(row: &SqliteRow, col: &str) -> Result<Timestamp, StoreError> {
    let s: String = row.try_get(col)?;
    from_storage(&s).ok_or_else(|| bad(col))
}

pub(crate) fn opt_time(row: &SqliteRow, col: &str) -> Result<Option<Timestamp>, StoreError> {
    let s: Option<String> = row.try_get(col)?;
    s.map(|s| from_storage(&s).ok_or_else(|| bad(col)))
        .transpose()
}

pub(crate) fn incident(row: &SqliteRow) -> Result<Incident, StoreError> {
    let id: String = row.try_get("id")?;
    let title: String = row.try_get("title")?;
    let channel: String = row.try_get("channel_name")?;
    Ok(Incident {
        id: IncidentId(uuid::Uuid::parse_str(&id).map_err(|_| bad("incident id"))?),
        number: IncidentNumber(row.try_get("number")?),
        title: Title::parse(&title).map_err(|_| bad("title"))?,
        description: row.try_get("description")?,
        severity: row.try_get("severity")?,
        status: row.try_get("status")?,
        team: row.try_get("team")?,
        security: row.try_get::<i64, _>("security")? != 0,
        drill: row.try_get::<i64, _>("drill")? != 0,
        channel_name: ChannelName::parse(&channel).map_err(|_| bad("channel name"))?,
        declared_by: row.try_get("declared_by")?,
        declared_at: time(row, "declared_at")?,
        impact: Impact {
            detected_at: opt_time(row, "detected_at")?,
            started_at: opt_time(row, "started_at")?,
            mitigated_at: opt_time(row, "mitigated_at")?,
            ended_at: opt_time(row, "ended_at")?,
        },
        resolved_at: opt_time(row, "resolved_at")?,
        closed_at: opt_time(row, "closed_at")?,
        narrative: Narrative {
            summary: row.try_get("summary")?,
            impact_users: row.try_get("impact_users")?,
            impact_staff: row.try_get("impact_staff")?,
            impact_partners: row.try_get("impact_partners")?,
            impact_other: row.try_get("impact_other")?,
            trigger: row.try_get("trigger_text")?,
            detection: row.try_get("detection")?,
            resolution: row.try_get("resolution")?,
            root_causes: row.try_get("root_causes")?,
            went_well: row.try_get("went_well")?,
            went_wrong: row.try_get("went_wrong")?,
            got_lucky: row.try_get("got_lucky")?,
        },
        updated_at: time(row, "updated_at")?,
    })
}

/// Narrative field name → column name (only `trigger` differs: it is an SQL keyword).
pub(crate) fn narrative_column(field: &str) -> Option<&'static str> {
    Some(match field {
        "summary" => "summary",
        "impact_users" => "impact_users",
        "impact_staff" => "impact_staff",
        "impact_partners" => "impact_partners",
        "impact_other" => "impact_other",
        "trigger" => "trigger_text",
        "detection" => "detection",
        "resolution" => "resolution",
        "root_causes" => "root_causes",
        "went_well" => "went_well",
        "went_wrong" => "went_wrong",
        "got_lucky" => "got_lucky",
        _ => return None,
    })
}

pub(crate) fn timeline_entry(row: &SqliteRow) -> Result<TimelineEntry, StoreError> {
    let event: String = row.try_get("event")?;
    Ok(TimelineEntry {
        seq: row.try_get("seq")?,
        at: time(row, "at")?,
        recorded_at: time(row, "recorded_at")?,
        author: row.try_get("author")?,
        event: serde_json::from_str::<TimelineEvent>(&event).map_err(|_| bad("timeline entry"))?,
        key_moment: row.try_get::<i64, _>("key_moment")? != 0,
        edited_from: row.try_get("edited_from")?,
    })
}

pub(crate) fn role(row: &SqliteRow) -> Result<RoleAssignment, StoreError> {
    Ok(RoleAssignment {
        role: row.try_get("role")?,
        person: row.try_get("person")?,
        at: time(row, "at")?,
        by: row.try_get("assigned_by")?,
    })
}

pub(crate) fn update(row: &SqliteRow) -> Result<StatusUpdate, StoreError> {
    Ok(StatusUpdate {
        at: time(row, "at")?,
        author: row.try_get("author")?,
        text: row.try_get("text")?,
        status: row.try_get("status")?,
        severity: row.try_get("severity")?,
    })
}

pub(crate) fn action(row: &SqliteRow) -> Result<ActionItem, StoreError> {
    let t: String = row.try_get("action_type")?;
    let p: String = row.try_get("priority")?;
    Ok(ActionItem {
        number: row.try_get("number")?,
        text: row.try_get("text")?,
        action_type: t.parse().map_err(|_| bad("action type"))?,
        priority: p.parse().map_err(|_| bad("priority"))?,
        owner: row.try_get("owner")?,
        link: row.try_get("link")?,
        created_at: time(row, "created_at")?,
        created_by: row.try_get("created_by")?,
        done_at: opt_time(row, "done_at")?,
    })
}

pub(crate) fn resource(row: &SqliteRow) -> Result<ExternalRef, StoreError> {
    let kind: String = row.try_get("kind")?;
    Ok(ExternalRef {
        kind: ResourceKind::parse(&kind).ok_or_else(|| bad("resource kind"))?,
        system: row.try_get("system")?,
        external_id: row.try_get("external_id")?,
        url: row.try_get("url")?,
        name: row.try_get("name")?,
    })
}
