//! Reminders in the incident channel (`muster_core::care`): what is due, in each
//! language, with buttons to act on it, snooze it or dismiss it.

use super::{SlackMessage, button, ids, section, t, tf};
use muster_core::Lang;
use muster_core::care::{NoticeKind, format_seconds};
use muster_core::config::Config;
use serde_json::{Value, json};

/// The snoozes a reminder offers, as typed (`/incident snooze 1h` takes the same).
pub use muster_core::care::SNOOZES;
/// How long "keep open" keeps a stale incident quiet.
pub const KEEP_OPEN: &str = "7d";

/// What a reminder says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderInfo {
    /// Opaque incident id: the buttons' value starts with it.
    pub incident_id: String,
    /// `INC-42`.
    pub number: String,
    pub key: String,
    pub kind: NoticeKind,
    /// How long it has been (since the last update, the last activity, the declaration).
    pub since_seconds: i64,
}

/// A snooze button's value: the incident, the reminder and how long.
pub fn snooze_value(incident_id: &str, key: &str, duration: &str) -> String {
    format!("{incident_id} {key} {duration}")
}

/// Read a snooze or dismiss button's value: (incident, key, duration if a snooze).
pub fn parse_care_value(value: &str) -> Option<(&str, &str, Option<&str>)> {
    let mut parts = value.split(' ');
    let incident = parts.next().filter(|s| !s.is_empty())?;
    let key = parts.next().filter(|s| !s.is_empty())?;
    let duration = parts.next();
    parts.next().is_none().then_some((incident, key, duration))
}

/// The reminder, one line per language, then its buttons.
pub fn reminder_message(info: &ReminderInfo, config: &Config, langs: &[Lang]) -> SlackMessage {
    let langs = if langs.is_empty() {
        &[Lang::En][..]
    } else {
        langs
    };
    let since = format_seconds(info.since_seconds);
    let number = info.number.as_str();
    let line = |l: Lang| match &info.kind {
        NoticeKind::Update => tf(
            l,
            "care-update-due",
            &[("number", number), ("since", &since)],
        ),
        NoticeKind::Role(role) => tf(
            l,
            "care-role-missing",
            &[("number", number), ("role", &config.role_label(role, l))],
        ),
        NoticeKind::Stale => tf(l, "care-stale", &[("number", number), ("since", &since)]),
    };
    let each = |f: &dyn Fn(Lang) -> String, sep: &str| -> String {
        langs.iter().map(|&l| f(l)).collect::<Vec<_>>().join(sep)
    };
    let text = each(&line, "\n");
    let id = info.incident_id.as_str();
    let mut buttons: Vec<Value> = Vec::new();
    match &info.kind {
        NoticeKind::Update => buttons.push(button(
            &each(&|l| t(l, "slack-button-post-update"), " / "),
            ids::ACTION_POST_UPDATE,
            id,
        )),
        NoticeKind::Role(_) => buttons.push(button(
            &each(&|l| t(l, "slack-button-assign-roles"), " / "),
            ids::ACTION_ASSIGN_ROLES,
            id,
        )),
        NoticeKind::Stale => buttons.push(button(
            &each(&|l| t(l, "slack-button-resolve"), " / "),
            ids::ACTION_RESOLVE,
            id,
        )),
    }
    let snoozes: &[&str] = if info.kind == NoticeKind::Stale {
        &[KEEP_OPEN]
    } else {
        &SNOOZES
    };
    for d in snoozes {
        let label_id = if info.kind == NoticeKind::Stale {
            "care-button-keep-open"
        } else {
            "care-button-snooze"
        };
        buttons.push(button(
            &each(&|l| tf(l, label_id, &[("duration", d)]), " / "),
            &format!("{}{d}", ids::ACTION_CARE_SNOOZE),
            &snooze_value(id, &info.key, d),
        ));
    }
    buttons.push(button(
        &each(&|l| t(l, "care-button-dismiss"), " / "),
        ids::ACTION_CARE_DISMISS,
        &format!("{id} {}", info.key),
    ));
    SlackMessage {
        text: super::super::limits::truncate(&text, super::super::limits::MAX_SECTION_TEXT),
        blocks: vec![
            section(&text),
            json!({ "type": "actions", "block_id": ids::BLOCK_CARE_ACTIONS, "elements": buttons }),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action_ids(m: &SlackMessage) -> Vec<&str> {
        m.blocks[1]["elements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["action_id"].as_str().unwrap())
            .collect()
    }

    fn info(kind: NoticeKind) -> ReminderInfo {
        ReminderInfo {
            incident_id: "0190-abc".into(),
            number: "INC-7".into(),
            key: "status-update".into(),
            kind,
            since_seconds: 15 * 60,
        }
    }

    #[test]
    fn a_reminder_says_what_is_due_in_every_language_with_its_buttons() {
        let c = Config::default();
        let m = reminder_message(&info(NoticeKind::Update), &c, &[Lang::En, Lang::Fr]);
        assert!(
            m.text.contains("INC-7") && m.text.contains("15m"),
            "{}",
            m.text
        );
        assert_eq!(m.text.lines().count(), 2);
        let actions = &m.blocks[1]["elements"];
        assert_eq!(
            action_ids(&m),
            [
                ids::ACTION_POST_UPDATE,
                "care_snooze_30m",
                "care_snooze_1h",
                "care_snooze_2h",
                ids::ACTION_CARE_DISMISS
            ]
        );
        let snooze = actions[2]["value"].as_str().unwrap();
        assert_eq!(
            parse_care_value(snooze),
            Some(("0190-abc", "status-update", Some("1h")))
        );
        let dismiss = actions[4]["value"].as_str().unwrap();
        assert_eq!(
            parse_care_value(dismiss),
            Some(("0190-abc", "status-update", None))
        );
        assert_eq!(parse_care_value("a b c d"), None);
        assert_eq!(parse_care_value("a"), None);
    }

    #[test]
    fn the_stale_nudge_offers_resolve_and_keep_open() {
        let c = Config::default();
        let m = reminder_message(&info(NoticeKind::Stale), &c, &[Lang::En]);
        assert_eq!(
            action_ids(&m),
            [
                ids::ACTION_RESOLVE,
                "care_snooze_7d",
                ids::ACTION_CARE_DISMISS
            ]
        );
        let role = reminder_message(&info(NoticeKind::Role("commander".into())), &c, &[Lang::Fr]);
        assert!(role.text.contains("Commandant"), "{}", role.text);
    }
}
