//! What an incident shows in Slack: the welcome message in its channel, the announcement,
//! and the roles and status-update modals the welcome message's buttons open (with reading
//! them back). Kept apart from the declare form, which comes before an incident exists.

use super::{
    FieldError, SlackMessage, Who, button, channel_mention, escape, field, header, ids, input,
    link, modal, option, plain, section, t, tf,
};
use crate::limits;
use crate::payload::View;
use muster_core::Lang;
use muster_core::config::Config;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------
// Messages in the incident channel and the announcement channel
// ---------------------------------------------------------------------------------------

/// What the welcome message says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WelcomeInfo {
    /// Opaque incident id: the buttons' value.
    pub incident_id: String,
    /// `INC-42`.
    pub number: String,
    pub title: String,
    pub severity: String,
    /// The Incident Commander.
    pub commander: Who,
    pub meeting_url: Option<String>,
    pub report_url: Option<String>,
    pub security: bool,
    /// Emoji name (no colons) that adds a message to the timeline.
    pub timeline_emoji: String,
    /// Minutes between status updates for this severity.
    pub update_every_minutes: u32,
    /// The slash command, e.g. `/incident`.
    pub command: String,
}

/// The first message in the incident channel, in each of `langs` (one section each,
/// separated by a divider), with the action buttons once at the end.
pub fn welcome_message(info: &WelcomeInfo, langs: &[Lang]) -> SlackMessage {
    use ids::*;
    let langs = if langs.is_empty() {
        &[Lang::En][..]
    } else {
        langs
    };
    let title = escape(&info.title);
    let mut blocks = vec![];
    for (i, &lang) in langs.iter().enumerate() {
        if i > 0 {
            blocks.push(json!({ "type": "divider" }));
        }
        let num = info.number.as_str();
        blocks.push(header(&format!("{num}: {}", info.title)));
        let mut intro = tf(lang, "slack-welcome-intro", &[("number", num)]);
        intro.push(' ');
        intro.push_str(&tf(
            lang,
            "slack-welcome-commander",
            &[("commander", &info.commander.render())],
        ));
        if info.security {
            intro.push_str("\n:lock: ");
            intro.push_str(&t(lang, "slack-welcome-security"));
        }
        blocks.push(section(&intro));
        let mut fields = vec![field(
            &t(lang, "slack-label-severity"),
            &escape(&info.severity),
        )];
        if let Some(url) = &info.meeting_url {
            fields.push(field(&t(lang, "slack-label-meeting"), &link(url, url)));
        }
        if let Some(url) = &info.report_url {
            fields.push(field(
                &t(lang, "slack-label-report"),
                &link(url, &t(lang, "slack-label-report")),
            ));
        }
        blocks.push(json!({ "type": "section", "fields": fields }));
        let minutes = info.update_every_minutes.to_string();
        let steps = [
            t(lang, "slack-welcome-next-meeting"),
            t(lang, "slack-welcome-next-roles"),
            tf(
                lang,
                "slack-welcome-next-timeline",
                &[("emoji", &info.timeline_emoji)],
            ),
            tf(lang, "slack-welcome-next-update", &[("minutes", &minutes)]),
            tf(
                lang,
                "slack-welcome-next-help",
                &[("command", &info.command)],
            ),
        ];
        let list: Vec<String> = steps
            .iter()
            .enumerate()
            .map(|(n, s)| format!("{}. {s}", n + 1))
            .collect();
        blocks.push(section(&format!(
            "*{}*\n{}",
            t(lang, "slack-welcome-next-heading"),
            list.join("\n")
        )));
    }
    let lang = langs[0];
    let each = |text: &dyn Fn(Lang) -> String, sep: &str| {
        langs.iter().map(|&l| text(l)).collect::<Vec<_>>().join(sep)
    };
    let value = info.incident_id.as_str();
    let mut buttons: Vec<Value> = [
        (ACTION_ASSIGN_ROLES, "slack-button-assign-roles"),
        (ACTION_POST_UPDATE, "slack-button-post-update"),
        (ACTION_RESOLVE, "slack-button-resolve"),
    ]
    .iter()
    .map(|(action, msg)| button(&each(&|l| t(l, msg), " / "), action, value))
    .collect();
    // Resolving asks for confirmation first, in every language like the buttons. The
    // dialog's buttons are short: the first language only.
    buttons[2]["style"] = json!("primary");
    let number = [("number", info.number.as_str())];
    buttons[2]["confirm"] = json!({
        "title": plain(&each(&|l| tf(l, "slack-confirm-resolve-title", &number), " / "), limits::MAX_CONFIRM_TITLE),
        "text": plain(&each(&|l| t(l, "slack-confirm-resolve-text"), "\n\n"), limits::MAX_CONFIRM_TEXT),
        "confirm": plain(&t(lang, "slack-button-resolve"), limits::MAX_CONFIRM_BUTTON),
        "deny": plain(&t(lang, "slack-modal-close"), limits::MAX_CONFIRM_BUTTON),
    });
    blocks.push(
        json!({ "type": "actions", "block_id": BLOCK_INCIDENT_ACTIONS, "elements": buttons }),
    );
    SlackMessage {
        text: limits::truncate(
            &tf(
                lang,
                "slack-welcome-fallback",
                &[("number", &info.number), ("title", &title)],
            ),
            limits::MAX_MESSAGE_TEXT,
        ),
        blocks,
    }
}

/// What the announcement says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnouncementInfo {
    pub number: String,
    pub title: String,
    pub severity: String,
    /// Status label to show (already in a display form).
    pub status: String,
    pub team: Option<String>,
    /// The incident channel's id.
    pub channel_id: String,
    /// Slack user ids.
    pub declarer: Who,
    pub commander: Who,
    pub security: bool,
}

/// The announcement in the announcement channel(s), in each of `langs` (English then
/// French by default). Post it once and `chat.update` it with a new status later.
pub fn announcement_message(info: &AnnouncementInfo, langs: &[Lang]) -> SlackMessage {
    let langs = if langs.is_empty() {
        &Lang::ALL[..]
    } else {
        langs
    };
    let mut blocks = vec![];
    let channel = channel_mention(&info.channel_id);
    for (i, &lang) in langs.iter().enumerate() {
        if i > 0 {
            blocks.push(json!({ "type": "divider" }));
        }
        blocks.push(header(&tf(
            lang,
            "slack-announce-header",
            &[("number", &info.number)],
        )));
        let mut body = format!(
            "*{}*\n{}",
            escape(&info.title),
            tf(
                lang,
                "slack-announce-declared-by",
                &[("declarer", &info.declarer.render())]
            )
        );
        body.push('\n');
        if info.security {
            body.push_str(&tf(
                lang,
                "slack-announce-private",
                &[("commander", &info.commander.render())],
            ));
        } else {
            body.push_str(&tf(lang, "slack-announce-join", &[("channel", &channel)]));
        }
        blocks.push(section(&body));
        let mut fields = vec![
            field(&t(lang, "slack-label-severity"), &escape(&info.severity)),
            field(&t(lang, "slack-label-status"), &escape(&info.status)),
            field(&t(lang, "slack-label-commander"), &info.commander.render()),
        ];
        if let Some(team) = &info.team {
            fields.push(field(&t(lang, "slack-label-team"), &escape(team)));
        }
        if !info.security {
            fields.push(field(&t(lang, "slack-label-channel"), &channel));
        }
        blocks.push(json!({ "type": "section", "fields": fields }));
    }
    SlackMessage {
        text: limits::truncate(
            &tf(
                langs[0],
                "slack-announce-fallback",
                &[
                    ("number", &info.number),
                    ("title", &escape(&info.title)),
                    ("severity", &escape(&info.severity)),
                ],
            ),
            limits::MAX_MESSAGE_TEXT,
        ),
        blocks,
    }
}

/// A security incident's announcement in public channels: one neutral line per language,
/// with its number and nothing else (no title, team, severity, people or channel), so
/// nothing sensitive reaches people outside it.
pub fn security_announcement(number: &str, langs: &[Lang]) -> SlackMessage {
    let langs = if langs.is_empty() {
        &Lang::ALL[..]
    } else {
        langs
    };
    let lines: Vec<String> = langs
        .iter()
        .map(|&l| tf(l, "slack-announce-security", &[("number", number)]))
        .collect();
    SlackMessage::text(lines.join("\n"))
}

// ---------------------------------------------------------------------------------------
// Modals opened from the welcome message's buttons
// ---------------------------------------------------------------------------------------

/// What the roles and update modals carry in `private_metadata`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct IncidentModalMetadata {
    /// The incident's opaque id (the button's value).
    pub incident_id: String,
    pub lang: Lang,
}

impl IncidentModalMetadata {
    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("metadata serialises")
    }

    pub fn decode(s: &str) -> Self {
        serde_json::from_str(s).unwrap_or_default()
    }
}

/// The roles modal: one person picker per configured role, prefilled with `current`
/// (role key, Slack user id) pairs.
pub fn roles_modal(
    config: &Config,
    meta: &IncidentModalMetadata,
    number: &str,
    current: &[(String, String)],
) -> Value {
    let lang = meta.lang;
    let mut blocks = vec![section(&tf(
        lang,
        "slack-roles-intro",
        &[("number", number)],
    ))];
    for role in config.roles.iter().take(limits::MAX_MODAL_BLOCKS - 1) {
        let mut el = json!({ "type": "users_select", "action_id": ids::ACTION_ROLE_USER });
        if let Some((_, user)) = current.iter().find(|(k, _)| *k == role.key) {
            el["initial_user"] = json!(user);
        }
        blocks.push(input(
            &format!("{}{}", ids::BLOCK_ROLE_PREFIX, role.key),
            role.label(lang),
            el,
            true,
            None,
        ));
    }
    modal(
        lang,
        ids::CALLBACK_ROLES,
        ("slack-roles-title", "slack-roles-submit"),
        meta.encode(),
        blocks,
    )
}

/// The roles chosen in a submitted roles modal: (role key, user id), in block order.
pub fn roles_from_view(view: &View) -> (IncidentModalMetadata, Vec<(String, String)>) {
    let meta = IncidentModalMetadata::decode(&view.private_metadata);
    let roles = view
        .state
        .values
        .iter()
        .filter_map(|(block, actions)| {
            let key = block.strip_prefix(ids::BLOCK_ROLE_PREFIX)?;
            let user = actions.get(ids::ACTION_ROLE_USER)?.selected_user.clone()?;
            Some((key.to_owned(), user))
        })
        .collect();
    (meta, roles)
}

/// The status-update modal: the update's text and the status (preselected: `status`).
pub fn update_modal(config: &Config, meta: &IncidentModalMetadata, status: &str) -> Value {
    let lang = meta.lang;
    let options: Vec<Value> = config
        .statuses
        .iter()
        .take(limits::MAX_OPTIONS)
        .map(|s| option(s.label(lang), &s.name, None))
        .collect();
    let mut status_el = json!({
        "type": "static_select",
        "action_id": ids::ACTION_UPDATE_STATUS,
        "options": options,
    });
    if let Some(s) = config.statuses.iter().find(|s| s.name == status) {
        status_el["initial_option"] = option(s.label(lang), &s.name, None);
    }
    let blocks = vec![
        input(
            ids::BLOCK_UPDATE_TEXT,
            &t(lang, "slack-update-text-label"),
            json!({
                "type": "plain_text_input",
                "action_id": ids::ACTION_UPDATE_TEXT,
                "multiline": true,
                "max_length": muster_core::incident::MAX_TEXT_CHARS,
                "placeholder": plain(&t(lang, "slack-update-text-placeholder"), limits::MAX_PLACEHOLDER),
            }),
            false,
            None,
        ),
        input(
            ids::BLOCK_UPDATE_STATUS,
            &t(lang, "slack-label-status"),
            status_el,
            true,
            None,
        ),
    ];
    modal(
        lang,
        ids::CALLBACK_UPDATE,
        ("slack-update-title", "slack-update-submit"),
        meta.encode(),
        blocks,
    )
}

/// A submitted update modal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateForm {
    pub meta: IncidentModalMetadata,
    /// Checked: not empty, at most 3,000 characters.
    pub text: String,
    /// Canonical status name, when one is selected.
    pub status: Option<String>,
}

/// Read and check a submitted update modal; errors are keyed by block id.
pub fn update_from_view(view: &View) -> Result<UpdateForm, Vec<FieldError>> {
    let meta = IncidentModalMetadata::decode(&view.private_metadata);
    let raw = view
        .state
        .text(ids::BLOCK_UPDATE_TEXT, ids::ACTION_UPDATE_TEXT)
        .unwrap_or("");
    match muster_core::incident::parse_text(raw) {
        Ok(text) => Ok(UpdateForm {
            status: view
                .state
                .text(ids::BLOCK_UPDATE_STATUS, ids::ACTION_UPDATE_STATUS)
                .map(str::to_owned),
            meta,
            text,
        }),
        Err(e) => Err(vec![FieldError {
            block_id: ids::BLOCK_UPDATE_TEXT,
            message: e.message(meta.lang),
        }]),
    }
}
