//! The declare form: the modal `/incident` and the message shortcut open (with its
//! language toggle), its `private_metadata`, and reading and checking a submission. Kept
//! apart because it is the largest builder and the only one with its own validation.

use super::{
    FieldError, button, context, escape, ids, input, mention, modal, option, plain, section, t, tf,
};
use crate::limits;
use crate::payload::{MessageAction, View, ViewState};
use muster_core::Lang;
use muster_core::config::Config;
use muster_core::title::MAX_TITLE_CHARS;
use muster_engine::{Declaration, DeclareField, FieldErrors, Origin};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

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

    /// The declaration as typed, by `by`, from `origin`. The engine checks it
    /// ([`muster_engine::check_declaration`]): the form has no rules of its own.
    pub fn declaration(&self, by: &str, origin: Origin) -> Declaration {
        Declaration {
            title: self.title.clone(),
            severity: self.severity.clone(),
            team: self.team.clone(),
            security: self.security.unwrap_or(false),
            drill: false,
            description: Some(self.description.clone()),
            by: by.to_owned(),
            origin,
            resources: vec![],
        }
    }

    /// The engine's verdict under each input, in the form's language, for
    /// [`validation_errors`](super::validation_errors).
    pub fn errors(&self, errors: &FieldErrors) -> Vec<FieldError> {
        errors
            .iter()
            .map(|(field, e)| FieldError {
                block_id: match field {
                    DeclareField::Severity => ids::BLOCK_SEVERITY,
                    DeclareField::Team => ids::BLOCK_TEAM,
                    DeclareField::Description => ids::BLOCK_DESCRIPTION,
                    // The declarer is Slack's user: a problem there is shown on the title.
                    DeclareField::Title | DeclareField::By => ids::BLOCK_TITLE,
                },
                message: e.message(self.meta.lang),
            })
            .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
