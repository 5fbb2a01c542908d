//! The incident record and everything appended to it.
//!
//! The record is the system of record: external things (channel, meeting, report, the chat
//! message an incident came from) are typed references on it, never parsed back out of
//! names. History is append-only rows (timeline entries, status updates, role assignments,
//! action items); the incident row holds only the current state those rows lead to.

use crate::config::Config;
use crate::i18n::{Args, Lang};
use crate::ids::{IncidentId, IncidentNumber};
use crate::time::{Timestamp, display};
use crate::{ChannelName, DomainError, Title};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Longest free text (description, note, update, action) we accept, in characters. Slack
/// section blocks hold 3,000; longer notes belong in the report.
pub const MAX_TEXT_CHARS: usize = 3000;

/// Trim free text and check it is neither empty nor too long.
pub fn parse_text(raw: &str) -> Result<String, DomainError> {
    let t = raw.trim();
    if t.is_empty() {
        return Err(DomainError::EmptyText);
    }
    let n = t.chars().count();
    if n > MAX_TEXT_CHARS {
        return Err(DomainError::TextTooLong {
            max: MAX_TEXT_CHARS,
            actual: n,
        });
    }
    Ok(t.to_owned())
}

/// A URL someone attached to an action item: http(s) only, so a report never carries a
/// `javascript:` link.
pub fn parse_link(raw: &str) -> Result<String, DomainError> {
    let t = raw.trim();
    let ok = (t.starts_with("https://") || t.starts_with("http://"))
        && t.len() > 8
        && t.len() <= 2000
        && !t.contains(char::is_whitespace);
    if ok {
        Ok(t.to_owned())
    } else {
        Err(DomainError::BadUrl(t.chars().take(80).collect()))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Impact {
    pub detected_at: Option<Timestamp>,
    pub started_at: Option<Timestamp>,
    pub mitigated_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
}

/// How far ahead of the server's clock a typed time may be. Laptops and servers disagree by
/// a minute or two; anything further ahead is a typo (a wrong day, a local time taken for
/// UTC), and a future time would make reports and metrics lie.
pub const MAX_CLOCK_SKEW_MINUTES: i64 = 5;

/// Refuse a typed time `at` that is further ahead of `now` than the clock skew.
pub fn check_not_future(at: Timestamp, now: Timestamp) -> Result<(), DomainError> {
    if at > now + chrono::Duration::minutes(MAX_CLOCK_SKEW_MINUTES) {
        return Err(DomainError::TimeInFuture {
            value: display(at),
            minutes: MAX_CLOCK_SKEW_MINUTES,
        });
    }
    Ok(())
}

/// A note back-dated to `at` on an incident declared at `declared_at`: not before the
/// declaration's day (UTC; earlier facts belong in the impact times or the report), not in
/// the future.
pub fn check_note_time(
    at: Timestamp,
    declared_at: Timestamp,
    now: Timestamp,
) -> Result<(), DomainError> {
    if at.date_naive() < declared_at.date_naive() {
        return Err(DomainError::NoteBeforeIncident {
            value: display(at),
            day: declared_at.date_naive().to_string(),
        });
    }
    check_not_future(at, now)
}

impl Impact {
    /// The times in the order impact happens: it starts, someone notices, it is mitigated,
    /// it ends. Each is optional.
    fn in_order(&self) -> [(&'static str, Option<Timestamp>); 4] {
        [
            ("started", self.started_at),
            ("detected", self.detected_at),
            ("mitigated", self.mitigated_at),
            ("ended", self.ended_at),
        ]
    }

    /// started ≤ detected ≤ mitigated ≤ ended, for the times that are known. Every pair is
    /// compared, not only neighbours, because any of them may be missing.
    pub fn check_order(&self) -> Result<(), DomainError> {
        let times = self.in_order();
        for (i, (a, at)) in times.iter().enumerate() {
            for (b, bt) in &times[i + 1..] {
                if let (Some(x), Some(y)) = (at, bt)
                    && y < x
                {
                    return Err(DomainError::ImpactOutOfOrder {
                        earlier: (*a).to_owned(),
                        later: (*b).to_owned(),
                    });
                }
            }
        }
        Ok(())
    }
}

/// The review narrative: the report sections people write after the fact.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Narrative {
    pub summary: String,
    pub impact_users: String,
    pub impact_staff: String,
    pub impact_partners: String,
    pub impact_other: String,
    pub trigger: String,
    pub detection: String,
    pub resolution: String,
    pub root_causes: String,
    pub went_well: String,
    pub went_wrong: String,
    pub got_lucky: String,
}

impl Narrative {
    pub const FIELDS: [&'static str; 12] = [
        "summary",
        "impact_users",
        "impact_staff",
        "impact_partners",
        "impact_other",
        "trigger",
        "detection",
        "resolution",
        "root_causes",
        "went_well",
        "went_wrong",
        "got_lucky",
    ];

    pub fn field_mut(&mut self, name: &str) -> Option<&mut String> {
        Some(match name {
            "summary" => &mut self.summary,
            "impact_users" => &mut self.impact_users,
            "impact_staff" => &mut self.impact_staff,
            "impact_partners" => &mut self.impact_partners,
            "impact_other" => &mut self.impact_other,
            "trigger" => &mut self.trigger,
            "detection" => &mut self.detection,
            "resolution" => &mut self.resolution,
            "root_causes" => &mut self.root_causes,
            "went_well" => &mut self.went_well,
            "went_wrong" => &mut self.went_wrong,
            "got_lucky" => &mut self.got_lucky,
            _ => return None,
        })
    }
}

/// What kind of external thing a reference points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    Channel,
    Meeting,
    Report,
    SourceMessage,
    /// The alert an incident was declared from (its generator's or dashboard's link).
    Alert,
}

impl ResourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Channel => "channel",
            ResourceKind::Meeting => "meeting",
            ResourceKind::Report => "report",
            ResourceKind::SourceMessage => "source_message",
            ResourceKind::Alert => "alert",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "channel" => ResourceKind::Channel,
            "meeting" => ResourceKind::Meeting,
            "report" => ResourceKind::Report,
            "source_message" => ResourceKind::SourceMessage,
            "alert" => ResourceKind::Alert,
            _ => return None,
        })
    }
}

/// A typed reference to something outside the record: `{system, id, url, name}`. An
/// incident has at most one of each kind per system (one Slack channel, one Matrix room).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalRef {
    pub kind: ResourceKind,
    pub system: String,
    pub external_id: String,
    pub url: Option<String>,
    /// The name people see, when it may differ from what was planned (a channel that got
    /// a `-2` suffix because the name was taken).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The incident row: identity and current state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    pub id: IncidentId,
    pub number: IncidentNumber,
    pub title: Title,
    pub description: String,
    pub severity: String,
    pub status: String,
    pub team: Option<String>,
    pub security: bool,
    pub drill: bool,
    pub channel_name: ChannelName,
    pub declared_by: String,
    pub declared_at: Timestamp,
    pub impact: Impact,
    pub resolved_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
    pub narrative: Narrative,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleAssignment {
    pub role: String,
    pub person: String,
    pub at: Timestamp,
    pub by: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusUpdate {
    pub at: Timestamp,
    pub author: String,
    pub text: String,
    pub status: String,
    pub severity: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ActionType {
    Investigate,
    Mitigate,
    Repair,
    Detect,
    Prevent,
}

impl ActionType {
    pub const ALL: [ActionType; 5] = [
        ActionType::Investigate,
        ActionType::Mitigate,
        ActionType::Repair,
        ActionType::Detect,
        ActionType::Prevent,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ActionType::Investigate => "Investigate",
            ActionType::Mitigate => "Mitigate",
            ActionType::Repair => "Repair",
            ActionType::Detect => "Detect",
            ActionType::Prevent => "Prevent",
        }
    }
    pub fn label(self, lang: Lang) -> String {
        lang.t(&format!(
            "action-type-{}",
            self.as_str().to_ascii_lowercase()
        ))
    }
}

impl FromStr for ActionType {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let g = s.trim().to_ascii_lowercase();
        ActionType::ALL
            .into_iter()
            .find(|t| {
                t.as_str().eq_ignore_ascii_case(&g)
                    || Lang::ALL.iter().any(|l| t.label(*l).to_lowercase() == g)
            })
            .ok_or_else(|| DomainError::UnknownActionType {
                given: s.trim().chars().take(40).collect(),
                valid: ActionType::ALL
                    .iter()
                    .map(|t| t.as_str().to_owned())
                    .collect(),
            })
    }
}

/// Action item priority, P0 (recurrence likely) to P3 (trivial risk).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Priority(u8);

impl Priority {
    pub fn level(self) -> u8 {
        self.0
    }
}

impl FromStr for Priority {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let digits = t.strip_prefix(['P', 'p']).unwrap_or(t);
        match digits {
            "0" | "1" | "2" | "3" => Ok(Priority(digits.as_bytes()[0] - b'0')),
            _ => Err(DomainError::UnknownPriority {
                given: t.chars().take(20).collect(),
            }),
        }
    }
}

impl TryFrom<String> for Priority {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Priority> for String {
    fn from(p: Priority) -> String {
        p.to_string()
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "P{}", self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionItem {
    pub number: i64,
    pub text: String,
    pub action_type: ActionType,
    pub priority: Priority,
    pub owner: Option<String>,
    pub link: Option<String>,
    pub created_at: Timestamp,
    pub created_by: String,
    pub done_at: Option<Timestamp>,
}

/// What happened, as data, so the timeline renders in whichever language reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TimelineEvent {
    Declared {
        title: String,
        severity: String,
        security: bool,
        drill: bool,
    },
    ChannelNamed {
        name: String,
    },
    MeetingCreated {
        url: String,
    },
    RoleAssigned {
        role: String,
        person: String,
    },
    StatusChanged {
        from: String,
        to: String,
    },
    SeverityChanged {
        from: String,
        to: String,
    },
    Note {
        text: String,
    },
    StatusUpdate {
        text: String,
    },
    ActionAdded {
        number: i64,
        text: String,
    },
    ActionDone {
        number: i64,
    },
    /// An action item's text, type, priority, owner or link rewritten.
    ActionEdited {
        number: i64,
    },
    /// A done action item opened again.
    ActionReopened {
        number: i64,
    },
    /// Nobody holds `role` any more.
    RoleCleared {
        role: String,
    },
    ImpactRecorded {
        field: String,
        at: Timestamp,
    },
    Resolved,
    Closed,
    Edited {
        fields: Vec<String>,
    },
    /// A chat message someone saved to the timeline (by reacting to it). The entry's
    /// `at` is the message's original time and its author the message's author.
    ChatMessage {
        text: String,
        permalink: Option<String>,
        #[serde(default)]
        files: Vec<String>,
        author: String,
    },
    /// A note was rewritten by its author: entry `seq` is kept in the database, hidden,
    /// and the new text is a new entry at the same time that names it (`edited_from`).
    NoteEdited {
        seq: i64,
    },
    /// A note was withdrawn by its author; entry `seq` is kept in the database, hidden.
    NoteDeleted {
        seq: i64,
    },
    /// Entry `seq` was marked (or unmarked) as a key moment, which the report highlights.
    KeyMoment {
        seq: i64,
        key: bool,
    },
    /// An alert of the incident's group started firing (or fired again).
    AlertFiring {
        name: String,
    },
    /// An alert of the incident's group resolved.
    AlertResolved {
        name: String,
    },
    /// Every alert of the incident's group is resolved; nothing is closed automatically.
    AlertsResolved,
    /// A reminder put off until `until` (`muster_core::care`).
    ReminderSnoozed {
        key: String,
        until: Timestamp,
    },
    /// A reminder that will not be said again for this incident.
    ReminderDismissed {
        key: String,
    },
}

impl TimelineEvent {
    /// Is this something a person wrote, rather than something Muster recorded?
    pub fn is_human(&self) -> bool {
        matches!(
            self,
            TimelineEvent::Note { .. }
                | TimelineEvent::StatusUpdate { .. }
                | TimelineEvent::ChatMessage { .. }
        )
    }

    /// One line of text in `lang`. Status and role names use the configured labels.
    pub fn describe(&self, lang: Lang, config: &Config) -> String {
        use TimelineEvent::*;
        match self {
            Declared {
                title,
                severity,
                security,
                drill,
            } => {
                let mut s = lang.format(
                    "timeline-declared",
                    &Args::new().with("title", title).with("severity", severity),
                );
                if *security {
                    s.push_str(&lang.t("timeline-security-suffix"));
                }
                if *drill {
                    s.push_str(&lang.t("timeline-drill-suffix"));
                }
                s
            }
            ChannelNamed { name } => {
                lang.format("timeline-channel-named", &Args::new().with("name", name))
            }
            MeetingCreated { url } => {
                lang.format("timeline-meeting-created", &Args::new().with("url", url))
            }
            RoleAssigned { role, person } => lang.format(
                "timeline-role-assigned",
                &Args::new()
                    .with("role", config.role_label(role, lang))
                    .with("person", person),
            ),
            StatusChanged { from, to } => lang.format(
                "timeline-status-changed",
                &Args::new()
                    .with("from", config.status_label(from, lang))
                    .with("to", config.status_label(to, lang)),
            ),
            SeverityChanged { from, to } => lang.format(
                "timeline-severity-changed",
                &Args::new().with("from", from).with("to", to),
            ),
            Note { text } => text.clone(),
            StatusUpdate { text } => {
                lang.format("timeline-status-update", &Args::new().with("text", text))
            }
            ActionAdded { number, text } => {
                let mut a = Args::new();
                a.num("number", *number).str("text", text);
                lang.format("timeline-action-added", &a)
            }
            ActionDone { number } => {
                let mut a = Args::new();
                a.num("number", *number);
                lang.format("timeline-action-done", &a)
            }
            ActionEdited { number } => {
                let mut a = Args::new();
                a.num("number", *number);
                lang.format("timeline-action-edited", &a)
            }
            ActionReopened { number } => {
                let mut a = Args::new();
                a.num("number", *number);
                lang.format("timeline-action-reopened", &a)
            }
            RoleCleared { role } => lang.format(
                "timeline-role-cleared",
                &Args::new().with("role", config.role_label(role, lang)),
            ),
            ImpactRecorded { field, at } => lang.format(
                "timeline-impact-recorded",
                &Args::new()
                    .with("field", lang.t(&format!("impact-{field}")))
                    .with("at", display(*at)),
            ),
            Resolved => lang.t("timeline-resolved"),
            Closed => lang.t("timeline-closed"),
            Edited { fields } => {
                let names: Vec<String> = fields
                    .iter()
                    .map(|f| lang.t(&format!("field-{f}")))
                    .collect();
                lang.format(
                    "timeline-edited",
                    &Args::new().with("fields", names.join(", ")),
                )
            }
            NoteEdited { seq } => {
                let mut a = Args::new();
                a.num("number", *seq);
                lang.format("timeline-note-edited", &a)
            }
            NoteDeleted { seq } => {
                let mut a = Args::new();
                a.num("number", *seq);
                lang.format("timeline-note-deleted", &a)
            }
            KeyMoment { seq, key } => {
                let mut a = Args::new();
                a.num("number", *seq);
                let id = if *key {
                    "timeline-key-moment-marked"
                } else {
                    "timeline-key-moment-unmarked"
                };
                lang.format(id, &a)
            }
            ReminderSnoozed { key, until } => lang.format(
                "timeline-reminder-snoozed",
                &Args::new()
                    .with("key", key.as_str())
                    .with("until", display(*until)),
            ),
            ReminderDismissed { key } => lang.format(
                "timeline-reminder-dismissed",
                &Args::new().with("key", key.as_str()),
            ),
            ChatMessage {
                text,
                permalink,
                files,
                ..
            } => {
                let mut s = text.clone();
                if !files.is_empty() {
                    s.push(' ');
                    s.push_str(&lang.format(
                        "timeline-chat-files",
                        &Args::new().with("links", files.join(", ")),
                    ));
                }
                if let Some(url) = permalink {
                    s.push(' ');
                    s.push_str(
                        &lang.format("timeline-chat-permalink", &Args::new().with("url", url)),
                    );
                }
                s
            }
            AlertFiring { name } => {
                lang.format("timeline-alert-firing", &Args::new().with("name", name))
            }
            AlertResolved { name } => {
                lang.format("timeline-alert-resolved", &Args::new().with("name", name))
            }
            AlertsResolved => lang.t("timeline-alerts-resolved"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub seq: i64,
    /// When it happened (a note may be back-dated with `--at`).
    pub at: Timestamp,
    /// When Muster wrote it down.
    pub recorded_at: Timestamp,
    pub author: String,
    pub event: TimelineEvent,
    /// Marked as a key moment: the report highlights it.
    #[serde(default)]
    pub key_moment: bool,
    /// The entry this one rewrote (a note edited by its author), kept hidden in history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_from: Option<i64>,
}

/// An incident with everything appended to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentDetail {
    pub incident: Incident,
    /// Current holder of each role (latest assignment wins).
    pub roles: Vec<RoleAssignment>,
    pub timeline: Vec<TimelineEntry>,
    pub updates: Vec<StatusUpdate>,
    pub actions: Vec<ActionItem>,
    pub resources: Vec<ExternalRef>,
}

impl IncidentDetail {
    /// Whether `person` declared the incident or holds or held one of its roles: its own
    /// people, who always see it, security incident or not. Names match exactly
    /// (case-sensitive), as recorded.
    pub fn involves(&self, person: &str) -> bool {
        self.incident.declared_by == person
            || self.roles.iter().any(|r| r.person == person)
            || self.timeline.iter().any(|e| {
                matches!(&e.event, TimelineEvent::RoleAssigned { person: p, .. } if p == person)
            })
    }

    /// The first resource of `kind`, whatever system made it.
    pub fn resource(&self, kind: ResourceKind) -> Option<&ExternalRef> {
        self.resources.iter().find(|r| r.kind == kind)
    }

    /// The resource of `kind` that `system` made (its channel, its source message).
    pub fn resource_of(&self, kind: ResourceKind, system: &str) -> Option<&ExternalRef> {
        self.resources
            .iter()
            .find(|r| r.kind == kind && r.system == system)
    }

    /// The incident's chat channels as made, `(platform, name)`: the name each platform
    /// actually gave it (`-2` when the planned name was taken), else the planned name.
    pub fn channels(&self) -> Vec<(String, String)> {
        self.resources
            .iter()
            .filter(|r| r.kind == ResourceKind::Channel)
            .map(|r| {
                let name = r
                    .name
                    .clone()
                    .unwrap_or_else(|| self.incident.channel_name.to_string());
                (r.system.clone(), name)
            })
            .collect()
    }

    /// The incident's channel(s) for people to read: `#name`, or with several chat
    /// platforms whose names differ, `#name (slack), #name-2 (matrix)`.
    pub fn channel_label(&self) -> String {
        let made = self.channels();
        let planned = self.incident.channel_name.to_string();
        if made.iter().all(|(_, name)| *name == planned) {
            return format!("#{planned}");
        }
        made.iter()
            .map(|(platform, name)| format!("#{name} ({platform})"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The values confirmation messages use: `number`, `title`, `status` (label),
    /// `severity`, `roles` (current holders) and `action` (the newest action item).
    pub fn message_args(&self, config: &Config, lang: Lang) -> Args {
        let i = &self.incident;
        let roles = self
            .roles
            .iter()
            .map(|r| format!("{}: {}", config.role_label(&r.role, lang), r.person))
            .collect::<Vec<_>>()
            .join(", ");
        let mut a = Args::new()
            .with("number", i.number.to_string())
            .with("title", i.title.to_string())
            .with("status", config.status_label(&i.status, lang))
            .with("severity", i.severity.clone())
            .with("roles", roles);
        a.num(
            "action",
            self.actions.iter().map(|x| x.number).max().unwrap_or(0),
        );
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_and_types_parse() {
        assert_eq!("P0".parse::<Priority>().unwrap().level(), 0);
        assert_eq!("3".parse::<Priority>().unwrap().to_string(), "P3");
        assert!("P4".parse::<Priority>().is_err());
        assert_eq!(
            "mitigate".parse::<ActionType>().unwrap(),
            ActionType::Mitigate
        );
        assert_eq!(
            "Prévenir".parse::<ActionType>().unwrap(),
            ActionType::Prevent
        );
        let e = "Fix".parse::<ActionType>().unwrap_err();
        assert!(
            e.message(Lang::En)
                .contains("Investigate, Mitigate, Repair, Detect, Prevent")
        );
    }

    #[test]
    fn text_and_links_are_checked() {
        assert_eq!(parse_text("  hi "), Ok("hi".to_owned()));
        assert_eq!(parse_text(" \n"), Err(DomainError::EmptyText));
        assert!(parse_text(&"x".repeat(MAX_TEXT_CHARS + 1)).is_err());
        assert!(parse_link("https://github.com/x/y/issues/1").is_ok());
        assert!(parse_link("javascript:alert(1)").is_err());
    }

    #[test]
    fn impact_order_is_enforced() {
        let t0 = chrono::Utc::now();
        let i = Impact {
            started_at: Some(t0),
            ended_at: Some(t0 - chrono::Duration::minutes(1)),
            ..Default::default()
        };
        assert!(i.check_order().is_err());
    }

    #[test]
    fn impact_runs_started_detected_mitigated_ended() {
        let t0 = chrono::Utc::now();
        let m = |n| Some(t0 + chrono::Duration::minutes(n));
        // Detected before it started: refused (the old check let it through).
        let i = Impact {
            started_at: m(10),
            detected_at: m(5),
            ..Default::default()
        };
        assert_eq!(
            i.check_order(),
            Err(DomainError::ImpactOutOfOrder {
                earlier: "started".into(),
                later: "detected".into()
            })
        );
        // Mitigated before detected, with no start known.
        let i = Impact {
            detected_at: m(5),
            mitigated_at: m(1),
            ..Default::default()
        };
        assert!(i.check_order().is_err());
        // Ended before detected, the middle two unknown.
        let i = Impact {
            detected_at: m(5),
            ended_at: m(1),
            ..Default::default()
        };
        assert!(i.check_order().is_err());
        let ok = Impact {
            started_at: m(0),
            detected_at: m(0),
            mitigated_at: m(3),
            ended_at: m(9),
        };
        assert_eq!(ok.check_order(), Ok(()));
    }

    #[test]
    fn typed_times_are_not_in_the_future_nor_notes_before_the_incident() {
        let now = chrono::Utc::now();
        let skew = chrono::Duration::minutes(MAX_CLOCK_SKEW_MINUTES);
        assert!(check_not_future(now + skew, now).is_ok());
        assert!(matches!(
            check_not_future(now + skew + chrono::Duration::seconds(1), now),
            Err(DomainError::TimeInFuture { .. })
        ));
        use chrono::TimeZone;
        let declared = chrono::Utc.with_ymd_and_hms(2026, 3, 10, 9, 0, 0).unwrap();
        let now = declared + chrono::Duration::days(2);
        // Earlier on the declaration's day is fine (people write down what they saw).
        let morning = chrono::Utc.with_ymd_and_hms(2026, 3, 10, 0, 5, 0).unwrap();
        assert!(check_note_time(morning, declared, now).is_ok());
        assert!(matches!(
            check_note_time(morning - chrono::Duration::minutes(10), declared, now),
            Err(DomainError::NoteBeforeIncident { .. })
        ));
        assert!(check_note_time(now, declared, now).is_ok());
        assert!(check_note_time(now + chrono::Duration::hours(1), declared, now).is_err());
    }

    #[test]
    fn events_render_in_both_languages() {
        let c = Config::default();
        let e = TimelineEvent::StatusChanged {
            from: "Open".into(),
            to: "In Progress".into(),
        };
        assert!(e.describe(Lang::En, &c).contains("In Progress"));
        assert!(e.describe(Lang::Fr, &c).contains("En cours"));
        let e = TimelineEvent::RoleAssigned {
            role: "commander".into(),
            person: "ana".into(),
        };
        assert!(e.describe(Lang::Fr, &c).contains("Commandant"));
    }

    #[test]
    fn chat_messages_render_with_their_links_and_count_as_human() {
        let c = Config::default();
        let e = TimelineEvent::ChatMessage {
            text: "db1 is back".into(),
            permalink: Some("https://x.slack.com/archives/C1/p1".into()),
            files: vec!["https://files.example/a.png".into()],
            author: "U0ALICE01".into(),
        };
        assert!(e.is_human());
        let en = e.describe(Lang::En, &c);
        assert!(en.starts_with("db1 is back"), "{en}");
        assert!(en.contains("https://files.example/a.png"), "{en}");
        assert!(en.contains("https://x.slack.com/archives/C1/p1"), "{en}");
        let fr = e.describe(Lang::Fr, &c);
        assert!(fr.contains("https://files.example/a.png"), "{fr}");
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["kind"], "chat_message");
        // Entries written without files still read back.
        let back: TimelineEvent = serde_json::from_value(serde_json::json!({
            "kind": "chat_message", "text": "t", "permalink": null, "author": "a"
        }))
        .unwrap();
        assert!(matches!(back, TimelineEvent::ChatMessage { files, .. } if files.is_empty()));
    }
}
