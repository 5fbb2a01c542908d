//! Block Kit builders: the declare modal (with its language toggle), the welcome message
//! in the incident channel, the announcement, confirmations and modal validation errors.
//!
//! Every sentence comes from the Fluent messages in `muster-core` (`slack-*` ids), so each
//! builder takes a [`Lang`]. Text people typed is escaped for mrkdwn and every text is
//! truncated to its Block Kit limit (see [`crate::limits`]), so a 150-character title or a
//! 3,000-character description can never make Slack refuse a view or a message.
//!
//! Block and action ids are constants in [`ids`]: the interaction handlers match on them.
//!
//! The builders live in three files, re-exported here so every path stays
//! `muster_slack::blocks::…`: `declare.rs` (the declare form and its modal), `incident.rs`
//! (the welcome message, the announcement and the roles and update modals) and `notices.rs`
//! (help, confirmations and provisioning notices). This file holds what they share: the
//! [`ids`], [`SlackMessage`], the mrkdwn helpers, the small block builders and
//! [`FieldError`].

use crate::limits;
use muster_core::Lang;
use muster_core::i18n::Args;
use serde_json::{Value, json};

mod care;
mod declare;
mod incident;
mod notices;

pub use care::{
    KEEP_OPEN, ReminderInfo, SNOOZES, parse_care_value, reminder_message, snooze_value,
};
pub use declare::{
    DeclareForm, ModalMetadata, SourceMessage, ViewUpdate, declare_modal, relang_update,
};
pub use incident::{
    AnnouncementInfo, IncidentModalMetadata, UpdateForm, WelcomeInfo, announcement_message,
    roles_from_view, roles_modal, security_announcement, update_from_view, update_modal,
    welcome_message,
};
pub use notices::{
    declare_received, help_message, in_each, not_incident_channel, pending_line,
    provisioning_delayed, provisioning_recovered, request_failed, step_failed, step_name,
    unknown_subcommand,
};

/// Block, action and callback ids used by the builders and expected by the handlers.
pub mod ids {
    /// `callback_id` of the declare modal.
    pub const CALLBACK_DECLARE: &str = "declare_incident";
    /// `callback_id` of the message shortcut (see [`crate::manifest`]).
    pub const CALLBACK_DECLARE_FROM_MESSAGE: &str = "declare_from_message";

    pub const BLOCK_LANG: &str = "lang";
    /// Action id of the language buttons; the button's `value` is `en` or `fr`.
    pub const ACTION_LANG: &str = "declare_lang";
    pub const ACTION_LANG_EN: &str = "declare_lang_en";
    pub const ACTION_LANG_FR: &str = "declare_lang_fr";
    pub const BLOCK_TITLE: &str = "title";
    pub const ACTION_TITLE: &str = "title_input";
    pub const BLOCK_SEVERITY: &str = "severity";
    pub const ACTION_SEVERITY: &str = "severity_select";
    pub const BLOCK_TEAM: &str = "team";
    pub const ACTION_TEAM: &str = "team_input";
    pub const BLOCK_SECURITY: &str = "security";
    pub const ACTION_SECURITY: &str = "security_choice";
    pub const BLOCK_DESCRIPTION: &str = "description";
    pub const ACTION_DESCRIPTION: &str = "description_input";

    /// Buttons of the welcome message; their `value` is the incident's opaque id.
    pub const BLOCK_INCIDENT_ACTIONS: &str = "incident_actions";
    pub const ACTION_ASSIGN_ROLES: &str = "incident_assign_roles";
    pub const ACTION_POST_UPDATE: &str = "incident_post_update";
    pub const ACTION_RESOLVE: &str = "incident_resolve";
    /// Retry button of a failed optional step; `value` is the step's id.
    pub const ACTION_RETRY_STEP: &str = "incident_retry_step";

    /// `callback_id` of the roles modal (opened by the assign-roles button).
    pub const CALLBACK_ROLES: &str = "incident_roles";
    /// Block ids of the roles modal are this prefix followed by the role key.
    pub const BLOCK_ROLE_PREFIX: &str = "role:";
    pub const ACTION_ROLE_USER: &str = "role_user";
    /// `callback_id` of the status-update modal (opened by the post-update button).
    pub const CALLBACK_UPDATE: &str = "incident_update";
    pub const BLOCK_UPDATE_TEXT: &str = "update_text";
    pub const ACTION_UPDATE_TEXT: &str = "update_text_input";
    pub const BLOCK_UPDATE_STATUS: &str = "update_status";
    pub const ACTION_UPDATE_STATUS: &str = "update_status_select";

    /// Buttons of a reminder (`blocks::reminder_message`): snooze buttons are this
    /// prefix and their duration (`care_snooze_1h`); values name the incident and key.
    pub const BLOCK_CARE_ACTIONS: &str = "care_actions";
    pub const ACTION_CARE_SNOOZE: &str = "care_snooze_";
    pub const ACTION_CARE_DISMISS: &str = "care_dismiss";
}

/// A message: fallback `text` (notifications, screen readers) plus `blocks`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SlackMessage {
    pub text: String,
    pub blocks: Vec<Value>,
}

impl SlackMessage {
    /// A message of one section of mrkdwn text (the text is used as given: escape what
    /// people typed with [`escape`] first).
    pub fn text(text: impl Into<String>) -> Self {
        let text = text.into();
        SlackMessage {
            blocks: vec![section(&text)],
            text: limits::truncate(&text, limits::MAX_SECTION_TEXT),
        }
    }

    /// `{"text": ..., "blocks": [...]}`, for a `response_url` or a command's ack body.
    pub fn to_json(&self) -> Value {
        json!({ "text": self.text, "blocks": self.blocks })
    }

    /// The body of a slash-command ack that only the invoking user sees.
    pub fn ephemeral_response(&self) -> Value {
        let mut v = self.to_json();
        v["response_type"] = json!("ephemeral");
        v
    }

    /// The body of a slash-command ack that everyone in the channel sees.
    pub fn in_channel_response(&self) -> Value {
        let mut v = self.to_json();
        v["response_type"] = json!("in_channel");
        v
    }
}

// ---------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------

/// Escape text people typed for mrkdwn: `&`, `<` and `>` (Slack's three control
/// characters). Formatting characters are left alone on purpose.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A user mention, `<@U123>`.
pub fn mention(user_id: &str) -> String {
    format!("<@{user_id}>")
}

/// A person a message names: a Slack user (mentioned, so Slack shows their name) or,
/// for someone with no known Slack id (declared from the web as `alice`), their name as
/// the record has it, as plain text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    User(String),
    Named(String),
}

impl Who {
    pub fn render(&self) -> String {
        match self {
            Who::User(id) => mention(id),
            Who::Named(name) => escape(name),
        }
    }
}

/// A Slack user id.
impl From<&str> for Who {
    fn from(id: &str) -> Who {
        Who::User(id.to_owned())
    }
}

/// A channel mention, `<#C123>`.
pub fn channel_mention(channel_id: &str) -> String {
    format!("<#{channel_id}>")
}

/// A link with escaped label, `<url|label>`. The URL cannot end the link early or open
/// another (`|`, `<`, `>` percent-encoded) and its `&` is escaped as Slack asks.
pub fn link(url: &str, label: &str) -> String {
    let url = url
        .replace('|', "%7C")
        .replace('<', "%3C")
        .replace('>', "%3E")
        .replace('&', "&amp;");
    format!("<{url}|{}>", escape(label))
}

fn plain(text: &str, max: usize) -> Value {
    json!({ "type": "plain_text", "text": limits::truncate(text, max), "emoji": true })
}

fn mrkdwn(text: &str, max: usize) -> Value {
    json!({ "type": "mrkdwn", "text": limits::truncate_mrkdwn(text, max) })
}

fn section(text: &str) -> Value {
    json!({ "type": "section", "text": mrkdwn(text, limits::MAX_SECTION_TEXT) })
}

fn header(text: &str) -> Value {
    json!({ "type": "header", "text": plain(text, limits::MAX_HEADER_TEXT) })
}

fn context(text: &str) -> Value {
    json!({ "type": "context", "elements": [mrkdwn(text, limits::MAX_CONTEXT_TEXT)] })
}

fn button(text: &str, action_id: &str, value: &str) -> Value {
    json!({
        "type": "button",
        "text": plain(text, limits::MAX_BUTTON_TEXT),
        "action_id": action_id,
        "value": limits::truncate(value, limits::MAX_BUTTON_VALUE),
    })
}

fn field(label: &str, value: &str) -> Value {
    mrkdwn(
        &format!("*{}*\n{}", escape(label), value),
        limits::MAX_SECTION_FIELD,
    )
}

fn t(lang: Lang, id: &str) -> String {
    lang.t(id)
}

fn tf(lang: Lang, id: &str, args: &[(&'static str, &str)]) -> String {
    let mut a = Args::new();
    for (k, v) in args {
        a.str(k, *v);
    }
    lang.format(id, &a)
}

fn option(text: &str, value: &str, description: Option<&str>) -> Value {
    let mut o = json!({
        "text": plain(text, limits::MAX_OPTION_TEXT),
        "value": limits::truncate(value, limits::MAX_OPTION_VALUE),
    });
    if let Some(d) = description.filter(|d| !d.is_empty()) {
        o["description"] = plain(d, limits::MAX_OPTION_DESCRIPTION);
    }
    o
}

/// A modal view: `(title, submit)` are message ids; the close button says "Cancel".
fn modal(
    lang: Lang,
    callback_id: &str,
    (title_id, submit_id): (&str, &str),
    private_metadata: String,
    blocks: Vec<Value>,
) -> Value {
    json!({
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(&t(lang, title_id), limits::MAX_MODAL_TITLE),
        "submit": plain(&t(lang, submit_id), limits::MAX_MODAL_BUTTON),
        "close": plain(&t(lang, "slack-modal-close"), limits::MAX_MODAL_BUTTON),
        "private_metadata": private_metadata,
        "blocks": blocks,
    })
}

fn input(block_id: &str, label: &str, element: Value, optional: bool, hint: Option<&str>) -> Value {
    let mut b = json!({
        "type": "input",
        "block_id": block_id,
        "label": plain(label, limits::MAX_INPUT_LABEL),
        "element": element,
        "optional": optional,
    });
    if let Some(h) = hint {
        b["hint"] = plain(h, limits::MAX_HINT);
    }
    b
}

// ---------------------------------------------------------------------------------------
// Modal validation errors (the declare and update modals)
// ---------------------------------------------------------------------------------------

/// A field the user must fix, keyed by the input's block id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub block_id: &'static str,
    pub message: String,
}

/// The answer to a view submission that shows `errors` under their fields.
pub fn validation_errors(errors: &[FieldError]) -> Value {
    let mut map = serde_json::Map::new();
    for e in errors {
        map.entry(e.block_id.to_owned())
            .or_insert_with(|| json!(limits::truncate(&e.message, limits::MAX_INPUT_ERROR)));
    }
    json!({ "response_action": "errors", "errors": map })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_and_links() {
        assert_eq!(escape("a<b>&c"), "a&lt;b&gt;&amp;c");
        assert_eq!(
            link("https://x.test/a|b", "<r>"),
            "<https://x.test/a%7Cb|&lt;r&gt;>"
        );
        assert_eq!(mention("U1"), "<@U1>");
        assert_eq!(channel_mention("C1"), "<#C1>");
    }

    #[test]
    fn ephemeral_response_shape() {
        let m = SlackMessage::text("hi");
        let v = m.ephemeral_response();
        assert_eq!(v["response_type"], "ephemeral");
        assert_eq!(v["text"], "hi");
        assert_eq!(v["blocks"][0]["type"], "section");
    }
}
