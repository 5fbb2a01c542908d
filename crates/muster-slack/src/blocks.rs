//! Block Kit builders: the declare modal (with its language toggle), the welcome message
//! in the incident channel, the announcement, confirmations and modal validation errors.
//!
//! Every sentence comes from the Fluent messages in `muster-core` (`slack-*` ids), so each
//! builder takes a [`Lang`]. Text people typed is escaped for mrkdwn and every text is
//! truncated to its Block Kit limit (see [`crate::limits`]), so a 150-character title or a
//! 3,000-character description can never make Slack refuse a view or a message.
//!
//! Block and action ids are constants in [`ids`]: the interaction handlers match on them.

use crate::limits;
use crate::payload::{MessageAction, View, ViewState};
use muster_core::config::Config;
use muster_core::i18n::Args;
use muster_core::title::{MAX_TITLE_CHARS, Title};
use muster_core::{DomainError, Lang};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

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

/// A channel mention, `<#C123>`.
pub fn channel_mention(channel_id: &str) -> String {
    format!("<#{channel_id}>")
}

/// A link with escaped label, `<url|label>`.
pub fn link(url: &str, label: &str) -> String {
    let url = url.replace('|', "%7C").replace('>', "%3E");
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

// ---------------------------------------------------------------------------------------
// The declare modal
// ---------------------------------------------------------------------------------------

/// What the modal carries in `private_metadata` between opening and submission.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ModalMetadata {
    pub lang: Lang,
    /// Where `/incident` was typed (for the confirmation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_channel: Option<String>,
    /// The message the incident is declared from (message shortcut).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceMessage>,
}

/// A message an incident was declared from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceMessage {
    pub channel: String,
    pub ts: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
}

impl ModalMetadata {
    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("metadata serialises")
    }

    /// Decode; unreadable metadata gives the defaults (it is ours, but it transits Slack).
    pub fn decode(s: &str) -> Self {
        serde_json::from_str(s).unwrap_or_default()
    }
}

/// The values of the declare form, typed or not yet valid.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeclareForm {
    pub title: String,
    pub severity: Option<String>,
    pub team: Option<String>,
    pub security: Option<bool>,
    pub description: String,
    pub meta: ModalMetadata,
}

/// A field the user must fix, keyed by the input's block id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub block_id: &'static str,
    pub message: String,
}

/// A declaration that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidDeclaration {
    pub title: Title,
    /// Canonical severity name from the configuration.
    pub severity: String,
    /// Canonical team key, when one was given.
    pub team: Option<String>,
    pub security: bool,
    /// Trimmed; may be empty.
    pub description: String,
    pub lang: Lang,
    pub origin_channel: Option<String>,
    pub source: Option<SourceMessage>,
}

impl DeclareForm {
    /// The form `/incident [text]` opens: the title prefilled with the command text.
    pub fn from_command(text: &str, lang: Lang, origin_channel: Option<&str>) -> Self {
        DeclareForm {
            title: limits::truncate_exact(text.trim(), MAX_TITLE_CHARS),
            meta: ModalMetadata {
                lang,
                origin_channel: origin_channel.map(str::to_owned),
                source: None,
            },
            ..Default::default()
        }
    }

    /// The form the message shortcut opens: title from the message's first line,
    /// description from its text, and a link back to it.
    pub fn from_message(action: &MessageAction, lang: Lang) -> Self {
        let text = action.message.text.trim();
        let first_line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        DeclareForm {
            title: limits::truncate(first_line.trim(), MAX_TITLE_CHARS),
            description: limits::truncate_exact(text, muster_core::incident::MAX_TEXT_CHARS),
            meta: ModalMetadata {
                lang,
                origin_channel: Some(action.channel.id.clone()),
                source: Some(SourceMessage {
                    channel: action.channel.id.clone(),
                    ts: action.message.ts.clone(),
                    author: action.message.user.clone(),
                }),
            },
            ..Default::default()
        }
    }

    /// Read the form back from a view (a submission, or a block action inside it).
    pub fn from_view(view: &View) -> Self {
        Self::from_state(&view.state, ModalMetadata::decode(&view.private_metadata))
    }

    pub fn from_state(state: &ViewState, meta: ModalMetadata) -> Self {
        use ids::*;
        let text = |b, a| state.text(b, a).map(str::to_owned);
        DeclareForm {
            title: text(BLOCK_TITLE, ACTION_TITLE).unwrap_or_default(),
            severity: text(BLOCK_SEVERITY, ACTION_SEVERITY),
            team: text(BLOCK_TEAM, ACTION_TEAM),
            security: text(BLOCK_SECURITY, ACTION_SECURITY).map(|v| v == "yes"),
            description: text(BLOCK_DESCRIPTION, ACTION_DESCRIPTION).unwrap_or_default(),
            meta,
        }
    }

    /// Check every field against the configuration; all problems at once, in the form's
    /// language, keyed by block id for [`validation_errors`].
    pub fn validate(&self, config: &Config) -> Result<ValidDeclaration, Vec<FieldError>> {
        let lang = self.meta.lang;
        let mut errors = vec![];
        let mut fail = |block_id, e: DomainError| {
            errors.push(FieldError {
                block_id,
                message: e.message(lang),
            })
        };
        let title = Title::parse(&self.title)
            .map_err(|e| fail(ids::BLOCK_TITLE, e))
            .ok();
        let severity = match self.severity.as_deref() {
            Some(s) => config
                .severity(s)
                .map(|d| d.name.clone())
                .map_err(|e| fail(ids::BLOCK_SEVERITY, e))
                .ok(),
            None => None,
        };
        let team = match self.team.as_deref() {
            Some(t) => config
                .team(t)
                .map(Some)
                .map_err(|e| fail(ids::BLOCK_TEAM, e))
                .ok(),
            None => Some(None),
        };
        let description = if self.description.trim().is_empty() {
            Some(String::new())
        } else {
            muster_core::incident::parse_text(&self.description)
                .map_err(|e| fail(ids::BLOCK_DESCRIPTION, e))
                .ok()
        };
        if self.severity.is_none() {
            errors.push(FieldError {
                block_id: ids::BLOCK_SEVERITY,
                message: t(lang, "slack-error-severity-required"),
            });
        }
        match (title, severity, team, description) {
            (Some(title), Some(severity), Some(team), Some(description)) if errors.is_empty() => {
                Ok(ValidDeclaration {
                    title,
                    severity,
                    team,
                    security: self.security.unwrap_or(false),
                    description,
                    lang,
                    origin_channel: self.meta.origin_channel.clone(),
                    source: self.meta.source.clone(),
                })
            }
            _ => Err(errors),
        }
    }
}

/// The declare modal (a `views.open` / `views.update` view object).
pub fn declare_modal(form: &DeclareForm, config: &Config) -> Value {
    use ids::*;
    let lang = form.meta.lang;
    let mut blocks = vec![
        section(&t(lang, "slack-modal-intro")),
        json!({
            "type": "actions",
            "block_id": BLOCK_LANG,
            "elements": [
                button(&t(Lang::En, "slack-lang-en"), ACTION_LANG_EN, "en"),
                button(&t(Lang::Fr, "slack-lang-fr"), ACTION_LANG_FR, "fr"),
            ],
        }),
    ];
    if let Some(src) = &form.meta.source {
        let author = src.author.as_deref().map(mention).unwrap_or_default();
        let excerpt = escape(&form.description);
        blocks.push(context(&format!(
            "{}\n>{}",
            tf(lang, "slack-modal-source", &[("author", &author)]),
            excerpt.replace('\n', "\n>")
        )));
    }

    let mut title_el = json!({
        "type": "plain_text_input",
        "action_id": ACTION_TITLE,
        "max_length": MAX_TITLE_CHARS,
        "placeholder": plain(&t(lang, "slack-modal-title-placeholder"), limits::MAX_PLACEHOLDER),
    });
    if !form.title.is_empty() {
        title_el["initial_value"] = json!(limits::truncate_exact(&form.title, MAX_TITLE_CHARS));
    }
    blocks.push(input(
        BLOCK_TITLE,
        &t(lang, "slack-modal-title-label"),
        title_el,
        false,
        Some(&t(lang, "slack-modal-title-hint")),
    ));

    let sev_options: Vec<Value> = config
        .severities
        .iter()
        .take(limits::MAX_OPTIONS)
        .map(|s| option(&s.name, &s.name, s.description.get(lang)))
        .collect();
    let chosen = form
        .severity
        .as_deref()
        .and_then(|s| config.severity(s).ok())
        .or_else(|| config.severity(&config.default_severity).ok());
    let mut sev_el = json!({
        "type": "static_select",
        "action_id": ACTION_SEVERITY,
        "placeholder": plain(&t(lang, "slack-modal-severity-placeholder"), limits::MAX_PLACEHOLDER),
        "options": sev_options,
    });
    if let Some(def) = chosen {
        sev_el["initial_option"] = option(&def.name, &def.name, def.description.get(lang));
    }
    blocks.push(input(
        BLOCK_SEVERITY,
        &t(lang, "slack-modal-severity-label"),
        sev_el,
        false,
        None,
    ));
    // Option descriptions are cut at 75 characters: the full text of every level follows.
    let levels: Vec<String> = config
        .severities
        .iter()
        .map(|s| {
            format!(
                "*{}*: {}",
                escape(&s.name),
                escape(s.description.get(lang).unwrap_or(""))
            )
        })
        .collect();
    blocks.push(context(&format!(
        "{}\n{}",
        t(lang, "slack-modal-severity-levels"),
        levels.join("\n")
    )));

    let team_el = if config.teams.is_empty() {
        let mut el = json!({
            "type": "plain_text_input",
            "action_id": ACTION_TEAM,
            "max_length": 80,
            "placeholder": plain(&t(lang, "slack-modal-team-placeholder"), limits::MAX_PLACEHOLDER),
        });
        if let Some(team) = &form.team {
            el["initial_value"] = json!(limits::truncate_exact(team, 80));
        }
        el
    } else {
        let opts: Vec<Value> = config
            .teams
            .iter()
            .take(limits::MAX_OPTIONS)
            .map(|d| option(&d.name, &d.key, None))
            .collect();
        let mut el = json!({
            "type": "static_select",
            "action_id": ACTION_TEAM,
            "placeholder": plain(&t(lang, "slack-modal-team-placeholder"), limits::MAX_PLACEHOLDER),
            "options": opts,
        });
        if let Some(d) = form
            .team
            .as_deref()
            .and_then(|t| config.team(t).ok())
            .and_then(|k| config.teams.iter().find(|d| d.key == k))
        {
            el["initial_option"] = option(&d.name, &d.key, None);
        }
        el
    };
    blocks.push(input(
        BLOCK_TEAM,
        &t(lang, "slack-modal-team-label"),
        team_el,
        true,
        None,
    ));

    let yes = option(&t(lang, "slack-yes"), "yes", None);
    let no = option(&t(lang, "slack-no"), "no", None);
    let initial = if form.security == Some(true) {
        yes.clone()
    } else {
        no.clone()
    };
    blocks.push(input(
        BLOCK_SECURITY,
        &t(lang, "slack-modal-security-label"),
        json!({
            "type": "radio_buttons",
            "action_id": ACTION_SECURITY,
            "options": [no, yes],
            "initial_option": initial,
        }),
        false,
        Some(&t(lang, "slack-modal-security-hint")),
    ));

    let mut desc_el = json!({
        "type": "plain_text_input",
        "action_id": ACTION_DESCRIPTION,
        "multiline": true,
        "max_length": muster_core::incident::MAX_TEXT_CHARS,
        "placeholder": plain(&t(lang, "slack-modal-description-placeholder"), limits::MAX_PLACEHOLDER),
    });
    if !form.description.is_empty() {
        desc_el["initial_value"] = json!(limits::truncate_exact(
            &form.description,
            muster_core::incident::MAX_TEXT_CHARS
        ));
    }
    blocks.push(input(
        BLOCK_DESCRIPTION,
        &t(lang, "slack-modal-description-label"),
        desc_el,
        true,
        None,
    ));

    modal(
        lang,
        CALLBACK_DECLARE,
        ("slack-modal-title", "slack-modal-submit"),
        form.meta.encode(),
        blocks,
    )
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

/// A `views.update` call to make.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewUpdate {
    pub view_id: String,
    pub hash: Option<String>,
    pub view: Value,
}

/// If `action` is one of the modal's language buttons, the update that re-renders the
/// modal in that language, keeping every value typed so far (same block and action ids,
/// and the values set as initial values).
pub fn relang_update(view: &View, action_id: &str, config: &Config) -> Option<ViewUpdate> {
    let lang = match action_id {
        ids::ACTION_LANG_EN => Lang::En,
        ids::ACTION_LANG_FR => Lang::Fr,
        _ => return None,
    };
    let mut form = DeclareForm::from_view(view);
    form.meta.lang = lang;
    Some(ViewUpdate {
        view_id: view.id.clone(),
        hash: view.hash.clone(),
        view: declare_modal(&form, config),
    })
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
    /// Slack user id of the Incident Commander.
    pub commander: String,
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
            &[("commander", &mention(&info.commander))],
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
    let value = info.incident_id.as_str();
    let mut buttons: Vec<Value> = [
        (ACTION_ASSIGN_ROLES, "slack-button-assign-roles"),
        (ACTION_POST_UPDATE, "slack-button-post-update"),
        (ACTION_RESOLVE, "slack-button-resolve"),
    ]
    .iter()
    .map(|(action, msg)| {
        let label = langs
            .iter()
            .map(|l| t(*l, msg))
            .collect::<Vec<_>>()
            .join(" / ");
        button(&label, action, value)
    })
    .collect();
    // Resolving asks for confirmation first.
    buttons[2]["style"] = json!("primary");
    buttons[2]["confirm"] = json!({
        "title": plain(&tf(lang, "slack-confirm-resolve-title", &[("number", &info.number)]), limits::MAX_CONFIRM_TITLE),
        "text": plain(&t(lang, "slack-confirm-resolve-text"), limits::MAX_CONFIRM_TEXT),
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
    pub declarer: String,
    pub commander: String,
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
                &[("declarer", &mention(&info.declarer))]
            )
        );
        body.push('\n');
        if info.security {
            body.push_str(&tf(
                lang,
                "slack-announce-private",
                &[("commander", &mention(&info.commander))],
            ));
        } else {
            body.push_str(&tf(lang, "slack-announce-join", &[("channel", &channel)]));
        }
        blocks.push(section(&body));
        let mut fields = vec![
            field(&t(lang, "slack-label-severity"), &escape(&info.severity)),
            field(&t(lang, "slack-label-status"), &escape(&info.status)),
            field(&t(lang, "slack-label-commander"), &mention(&info.commander)),
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

// ---------------------------------------------------------------------------------------
// Modals opened from the welcome message's buttons, and help
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

/// `/incident help`: every command, and how the timeline works.
pub fn help_message(lang: Lang, command: &str, timeline_emoji: &str) -> SlackMessage {
    let lines: Vec<String> = [
        "slack-help-declare",
        "slack-help-status",
        "slack-help-severity",
        "slack-help-role",
        "slack-help-update",
        "slack-help-note",
        "slack-help-action",
        "slack-help-resolve",
        "slack-help-close",
        "slack-help-show",
    ]
    .iter()
    .map(|id| format!("• {}", tf(lang, id, &[("command", command)])))
    .collect();
    let heading = t(lang, "slack-help-heading");
    SlackMessage {
        text: heading.clone(),
        blocks: vec![
            header(&heading),
            section(&lines.join("\n")),
            context(&tf(
                lang,
                "slack-help-timeline",
                &[("emoji", timeline_emoji)],
            )),
        ],
    }
}

/// The ephemeral confirmation after a valid declaration.
pub fn declare_received(lang: Lang, title: &str) -> SlackMessage {
    SlackMessage::text(tf(
        lang,
        "slack-declare-received",
        &[("title", &escape(title))],
    ))
}

/// "This only works in an incident channel."
pub fn not_incident_channel(lang: Lang, command: &str) -> SlackMessage {
    SlackMessage::text(tf(
        lang,
        "slack-not-incident-channel",
        &[("command", command)],
    ))
}

/// A refused request or failed command, with the reason (already in `lang`).
pub fn request_failed(lang: Lang, detail: &str) -> SlackMessage {
    SlackMessage::text(tf(
        lang,
        "slack-request-failed",
        &[("detail", &escape(detail))],
    ))
}

/// A failed optional step, posted in the incident channel with a retry button whose
/// value is `step_id`.
/// What a workflow step does, in words (the step id itself for steps without a name).
pub fn step_name(lang: Lang, step: &str) -> String {
    let id = format!("slack-step-name-{step}");
    if lang.has(&id) {
        lang.t(&id)
    } else {
        step.to_owned()
    }
}

fn step_names(lang: Lang, steps: &[String]) -> String {
    steps
        .iter()
        .map(|s| step_name(lang, s))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One paragraph per language.
fn in_each(langs: &[Lang], line: impl Fn(Lang) -> String) -> SlackMessage {
    let langs = if langs.is_empty() {
        &[Lang::En][..]
    } else {
        langs
    };
    SlackMessage::text(
        langs
            .iter()
            .map(|&l| line(l))
            .collect::<Vec<_>>()
            .join("\n\n"),
    )
}

/// Slack keeps failing for a while: say that Muster is on it and what is still pending.
pub fn provisioning_delayed(
    langs: &[Lang],
    number: &str,
    detail: &str,
    pending: &[String],
) -> SlackMessage {
    in_each(langs, |l| {
        tf(
            l,
            "slack-provisioning-delayed",
            &[
                ("number", number),
                ("detail", &escape(detail)),
                ("steps", &step_names(l, pending)),
            ],
        )
    })
}

/// After a delay, everything is done.
pub fn provisioning_recovered(langs: &[Lang], number: &str) -> SlackMessage {
    in_each(langs, |l| {
        tf(l, "slack-provisioning-recovered", &[("number", number)])
    })
}

/// The line `show` adds while setup steps are pending.
pub fn pending_line(lang: Lang, pending: &[String]) -> String {
    tf(
        lang,
        "slack-show-pending",
        &[("steps", &step_names(lang, pending))],
    )
}

pub fn step_failed(lang: Lang, step: &str, detail: &str, step_id: &str) -> SlackMessage {
    let text = tf(
        lang,
        "slack-step-failed",
        &[("step", &escape(step)), ("detail", &escape(detail))],
    );
    let mut m = SlackMessage::text(text);
    m.blocks.push(json!({
        "type": "actions",
        "elements": [button(&t(lang, "slack-button-retry"), ids::ACTION_RETRY_STEP, step_id)],
    }));
    m
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
    fn metadata_round_trips_and_tolerates_garbage() {
        let m = ModalMetadata {
            lang: Lang::Fr,
            origin_channel: Some("C1".into()),
            source: Some(SourceMessage {
                channel: "C2".into(),
                ts: "1.2".into(),
                author: None,
            }),
        };
        assert_eq!(ModalMetadata::decode(&m.encode()), m);
        assert_eq!(ModalMetadata::decode("not json"), ModalMetadata::default());
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
