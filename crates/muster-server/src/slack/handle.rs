//! Handling of parsed, trusted Slack requests, whatever the transport: a slash command,
//! an interaction or an event callback gives a [`Reply`] (the ack), which the HTTP
//! endpoints turn into a response and Socket Mode into an envelope ack.
//!
//! Handlers answer well inside Slack's 3-second window: declaring stores the incident and
//! enqueues the provisioning workflow, which the background worker runs; duplicate
//! deliveries (Slack retries, a view submitted twice) are recognised by their event id or
//! view id and do nothing.

use super::{Reply, SlackApp};
use crate::AppState;
use muster_core::i18n::Args;
use muster_core::incident::{IncidentDetail, ResourceKind};
use muster_core::{IncidentId, IncidentRef, Lang};
use muster_engine::workflow::Provisioner;
use muster_engine::{ActionInput, Declaration, EngineError};
use muster_slack::blocks::{self, DeclareForm, SlackMessage, ids};
use muster_slack::payload::{Event, EventCallback, Interaction, SlashCommand};
use muster_store::NewJob;
use serde_json::json;
use std::sync::Arc;

pub(super) fn lang_of(app: &SlackApp) -> Lang {
    app.config.languages.first().copied().unwrap_or_default()
}

fn ephemeral(msg: SlackMessage) -> Reply {
    Reply::Json(msg.ephemeral_response())
}

fn in_channel(msg: SlackMessage) -> Reply {
    Reply::Json(msg.in_channel_response())
}

/// A slash command: help, an in-channel subcommand, or the declare modal.
pub(super) async fn command(state: &AppState, app: Arc<SlackApp>, cmd: SlashCommand) -> Reply {
    let state = state.clone();
    let lang = lang_of(&app);
    let (sub, rest) = cmd.subcommand();
    let incident = state
        .engine
        .store()
        .incident_by_resource(ResourceKind::Channel, "slack", &cmd.channel_id)
        .await
        .ok()
        .flatten();
    let known = matches!(
        sub.as_str(),
        "status"
            | "severity"
            | "role"
            | "update"
            | "note"
            | "action"
            | "resolve"
            | "close"
            | "show"
            | "help"
            | "aide"
    );
    if sub == "help" || sub == "aide" {
        let l = if sub == "aide" { Lang::Fr } else { lang };
        let emoji = app
            .config
            .timeline_emojis
            .first()
            .cloned()
            .unwrap_or_default();
        return ephemeral(blocks::help_message(l, &app.config.command, &emoji));
    }
    match (incident, known) {
        (Some(id), true) => in_channel_command(&state, &app, id, &cmd, &sub, rest, lang).await,
        (None, true) if !rest.is_empty() || sub != "status" => {
            ephemeral(blocks::not_incident_channel(lang, &app.config.command))
        }
        _ => {
            // Anything else declares: open the modal with the text as the title.
            let form = DeclareForm::from_command(&cmd.text, lang, Some(&cmd.channel_id));
            let view = blocks::declare_modal(&form, state.engine.config());
            // Ack now, open the modal right after: the trigger id stays valid for 3 s,
            // and the ack must not wait on Slack's own latency.
            let queued = crate::abuse::spawn_after_ack(state.abuse.clone(), async move {
                if let Err(e) = app.client.views_open(&cmd.trigger_id, &view).await {
                    tracing::warn!(error = %e, "could not open the declare modal");
                    let msg = blocks::request_failed(lang, &e.to_string());
                    let _ = app
                        .client
                        .chat_post_ephemeral(&cmd.channel_id, &cmd.user_id, &msg)
                        .await;
                }
            });
            if !queued {
                return ephemeral(SlackMessage::text(lang.t("slack-busy")));
            }
            Reply::Empty
        }
    }
}

async fn in_channel_command(
    state: &AppState,
    app: &SlackApp,
    id: IncidentId,
    cmd: &SlashCommand,
    sub: &str,
    rest: &str,
    lang: Lang,
) -> Reply {
    let e = &state.engine;
    let r = IncidentRef::Id(id);
    let by = cmd.user_name.clone();
    let (result, message_id) = match sub {
        "status" if rest.is_empty() => return show(state, r, lang).await,
        "show" => return show(state, r, lang).await,
        "status" => (e.set_status(r, rest, &by).await, "cli-status-changed"),
        "severity" => (e.set_severity(r, rest, &by).await, "cli-severity-changed"),
        "role" => {
            let (role, who) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            let person = person_name(app, who.trim()).await;
            (
                e.assign_role(r, role, &person, &by).await,
                "cli-role-assigned",
            )
        }
        "update" => (e.post_update(r, rest, &by).await, "cli-update-posted"),
        "note" => (e.add_note(r, rest, None, &by).await, "cli-note-added"),
        "action" => {
            let input = ActionInput {
                text: rest.to_owned(),
                action_type: "Investigate".into(),
                priority: "P2".into(),
                owner: None,
                link: None,
            };
            (e.add_action(r, input, &by).await, "cli-action-added")
        }
        "resolve" => (e.resolve(r, &by).await, "cli-resolved"),
        "close" => (e.close(r, &by).await, "cli-closed"),
        _ => {
            return ephemeral(blocks::help_message(
                lang,
                &app.config.command,
                "floppy_disk",
            ));
        }
    };
    match result {
        Ok(d) => {
            // The change queued its Slack follow-ups (announcement, archive): run them.
            app.wake.notify_one();
            in_channel(SlackMessage::text(changed(message_id, &d, state, lang)))
        }
        Err(err) => ephemeral(SlackMessage::text(err.message(lang))),
    }
}

fn changed(message_id: &str, d: &IncidentDetail, state: &AppState, lang: Lang) -> String {
    lang.format(message_id, &d.message_args(state.engine.config(), lang))
}

async fn show(state: &AppState, r: IncidentRef, lang: Lang) -> Reply {
    match state.engine.get(r).await {
        Ok(d) => {
            let c = state.engine.config();
            let i = &d.incident;
            let roles = d
                .roles
                .iter()
                .map(|r| format!("{}: {}", c.role_label(&r.role, lang), r.person))
                .collect::<Vec<_>>()
                .join(" · ");
            let last = d
                .updates
                .last()
                .map(|u| format!("\n> {}", blocks::escape(&u.text)))
                .unwrap_or_default();
            let pending = state.engine.pending_setup(i.id).await.unwrap_or_default();
            let pending = if pending.is_empty() {
                String::new()
            } else {
                format!("\n_{}_", blocks::pending_line(lang, &pending))
            };
            let text = format!(
                "*{}: {}*\n{} · {} · {}{}{}",
                i.number,
                blocks::escape(i.title.as_str()),
                c.status_label(&i.status, lang),
                i.severity,
                blocks::escape(&roles),
                last,
                pending
            );
            ephemeral(SlackMessage::text(text))
        }
        Err(e) => ephemeral(SlackMessage::text(e.message(lang))),
    }
}

/// `<@U123|ana>` → `ana`; `<@U123>` → the user's name from Slack, or the id.
async fn person_name(app: &SlackApp, raw: &str) -> String {
    if let Some(inner) = raw.strip_prefix("<@").and_then(|s| s.strip_suffix('>')) {
        let (id, label) = inner.split_once('|').unwrap_or((inner, ""));
        if !label.is_empty() {
            return label.to_owned();
        }
        return match app.client.users_info(id).await {
            Ok(u) => u
                .display_name
                .filter(|d| !d.is_empty())
                .or(u.real_name)
                .unwrap_or(u.name),
            Err(_) => id.to_owned(),
        };
    }
    raw.trim_start_matches('@').to_owned()
}

/// A view submission, block action or message shortcut.
pub(super) async fn interaction(
    state: &AppState,
    app: Arc<SlackApp>,
    interaction: Interaction,
) -> Reply {
    let state = state.clone();
    let lang = lang_of(&app);
    match interaction {
        Interaction::ViewSubmission(sub)
            if sub.view.callback_id == ids::CALLBACK_DECLARE
                || sub.view.callback_id == ids::CALLBACK_DECLARE_FROM_MESSAGE =>
        {
            let form = DeclareForm::from_view(&sub.view);
            let valid = match form.validate(state.engine.config()) {
                Ok(v) => v,
                Err(errors) => return Reply::Json(blocks::validation_errors(&errors)),
            };
            let by = sub
                .user
                .username
                .clone()
                .or(sub.user.name.clone())
                .unwrap_or_else(|| sub.user.id.clone());
            let input = json!({"user_id": sub.user.id, "user_name": by, "lang": valid.lang.code(), "origin_channel": valid.origin_channel});
            // The incident, the delivery key and the workflow are one transaction: the
            // same submission delivered twice declares once, and a failure keeps nothing,
            // so pressing Submit again declares.
            let declared = state
                .engine
                .declare_once(
                    Declaration {
                        title: valid.title.to_string(),
                        severity: Some(valid.severity.clone()),
                        team: valid.team.clone(),
                        security: valid.security,
                        drill: false,
                        description: Some(valid.description.clone()),
                        by: by.clone(),
                    },
                    &format!("slack:view:{}", sub.view.id),
                    app.provisioner.as_ref() as &dyn Provisioner,
                    input,
                )
                .await;
            let d = match declared {
                Ok(Some(d)) => d,
                Ok(None) => return Reply::Json(json!({})),
                Err(e) => {
                    tracing::warn!(error = %e, code = e.code(), "a declaration from Slack was not saved");
                    return field_error(
                        ids::BLOCK_TITLE,
                        crate::trouble::declare_failed(&e, valid.lang),
                    );
                }
            };
            if let Some(src) = &valid.source {
                let link = app
                    .client
                    .chat_get_permalink(&src.channel, &src.ts)
                    .await
                    .ok();
                let r = muster_core::incident::ExternalRef {
                    kind: ResourceKind::SourceMessage,
                    system: "slack".into(),
                    external_id: format!("{}:{}", src.channel, src.ts),
                    url: link,
                };
                let _ = state.engine.store().set_resource(d.incident.id, &r).await;
            }
            app.wake.notify_one();
            Reply::Json(json!({}))
        }
        Interaction::ViewSubmission(sub) if sub.view.callback_id == ids::CALLBACK_ROLES => {
            let (meta, chosen) = blocks::roles_from_view(&sub.view);
            let Ok(r) = meta.incident_id.parse::<IncidentRef>() else {
                return Reply::Json(json!({}));
            };
            let by = actor(&sub.user);
            let current = state
                .engine
                .get(r)
                .await
                .map(|d| d.roles)
                .unwrap_or_default();
            for (role, user) in chosen {
                let person = user_display(&app, &user).await;
                if current.iter().any(|c| c.role == role && c.person == person) {
                    continue;
                }
                if let Err(e) = state.engine.assign_role(r, &role, &person, &by).await {
                    return field_error(ids::BLOCK_ROLE_PREFIX, e.message(meta.lang));
                }
            }
            Reply::Json(json!({}))
        }
        Interaction::ViewSubmission(sub) if sub.view.callback_id == ids::CALLBACK_UPDATE => {
            let form = match blocks::update_from_view(&sub.view) {
                Ok(f) => f,
                Err(errors) => return Reply::Json(blocks::validation_errors(&errors)),
            };
            let Ok(r) = form.meta.incident_id.parse::<IncidentRef>() else {
                return Reply::Json(json!({}));
            };
            let by = actor(&sub.user);
            let fail =
                |e: EngineError| field_error(ids::BLOCK_UPDATE_STATUS, e.message(form.meta.lang));
            let current = match state.engine.get(r).await {
                Ok(d) => d,
                Err(e) => return fail(e),
            };
            if let Some(status) = form
                .status
                .as_deref()
                .filter(|s| *s != current.incident.status)
                && let Err(e) = state.engine.set_status(r, status, &by).await
            {
                return fail(e);
            }
            match state.engine.post_update(r, &form.text, &by).await {
                Ok(_) => {
                    // Posting under the announcement was queued with the update.
                    app.wake.notify_one();
                    Reply::Json(json!({}))
                }
                Err(e) => fail(e),
            }
        }
        Interaction::BlockActions(ba) => {
            for action in &ba.actions {
                let incident_meta = |id: &str| blocks::IncidentModalMetadata {
                    incident_id: id.to_owned(),
                    lang,
                };
                if (action.action_id == ids::ACTION_ASSIGN_ROLES
                    || action.action_id == ids::ACTION_POST_UPDATE)
                    && let (Some(id), Some(trigger)) =
                        (action.value.as_deref(), ba.trigger_id.as_deref())
                    && let Ok(d) = state
                        .engine
                        .get(
                            id.parse()
                                .unwrap_or(IncidentRef::Number(muster_core::IncidentNumber(0))),
                        )
                        .await
                {
                    let meta = incident_meta(id);
                    let view = if action.action_id == ids::ACTION_ASSIGN_ROLES {
                        blocks::roles_modal(
                            state.engine.config(),
                            &meta,
                            &d.incident.number.to_string(),
                            &[],
                        )
                    } else {
                        blocks::update_modal(state.engine.config(), &meta, &d.incident.status)
                    };
                    if let Err(e) = app.client.views_open(trigger, &view).await {
                        tracing::warn!(error = %e, "could not open a modal");
                    }
                    continue;
                }
                if action.action_id.starts_with(ids::ACTION_LANG) {
                    if let Some(view) = &ba.view
                        && let Some(update) =
                            blocks::relang_update(view, &action.action_id, state.engine.config())
                        && let Err(e) = app
                            .client
                            .views_update(&update.view_id, update.hash.as_deref(), &update.view)
                            .await
                    {
                        tracing::warn!(error = %e, "could not switch the modal's language");
                    }
                } else if action.action_id == ids::ACTION_RESOLVE {
                    if let Some(id) = action
                        .value
                        .as_deref()
                        .and_then(|v| v.parse::<IncidentRef>().ok())
                    {
                        let by = actor(&ba.user);
                        let resolved = state.engine.resolve(id, &by).await;
                        app.wake.notify_one();
                        if let (Err(e), Some(ch)) = (resolved, ba.channel.as_ref()) {
                            let _ = app
                                .client
                                .chat_post_ephemeral(
                                    &ch.id,
                                    &ba.user.id,
                                    &SlackMessage::text(e.message(lang)),
                                )
                                .await;
                        }
                    }
                } else if action.action_id == ids::ACTION_RETRY_STEP
                    && let (Some(step), Some(ch)) = (action.value.as_deref(), ba.channel.as_ref())
                    && let Ok(Some(id)) = state
                        .engine
                        .store()
                        .incident_by_resource(ResourceKind::Channel, "slack", &ch.id)
                        .await
                {
                    let _ = state
                        .engine
                        .store()
                        .requeue(id, step, state.engine.now())
                        .await;
                    app.wake.notify_one();
                }
            }
            Reply::Empty
        }
        Interaction::MessageAction(ma) if ma.callback_id == ids::CALLBACK_DECLARE_FROM_MESSAGE => {
            let form = DeclareForm::from_message(&ma, lang);
            let view = blocks::declare_modal(&form, state.engine.config());
            if let Err(e) = app.client.views_open(&ma.trigger_id, &view).await {
                tracing::warn!(error = %e, "could not open the declare modal");
            }
            Reply::Empty
        }
        _ => Reply::Empty,
    }
}

/// Who acted, as the record names them: the Slack username, else the user id.
fn actor(user: &muster_slack::payload::UserRef) -> String {
    user.username.clone().unwrap_or_else(|| user.id.clone())
}

/// A `response_action: errors` ack with one message under one input.
fn field_error(block_id: &'static str, message: String) -> Reply {
    Reply::Json(blocks::validation_errors(&[blocks::FieldError {
        block_id,
        message,
    }]))
}

/// An Events API callback. Slack retries deliveries it thinks failed, over HTTP and Socket
/// Mode alike; each event id is handled once. Reactions become queued steps named by the
/// event id, which dedupes them in the same write that keeps them.
pub(super) async fn event_callback(
    state: &AppState,
    app: &Arc<SlackApp>,
    cb: EventCallback,
) -> Reply {
    let queued = matches!(
        cb.event,
        Event::ReactionAdded(_) | Event::ReactionRemoved(_)
    );
    if !queued {
        match state
            .engine
            .store()
            .remember(&format!("slack:event:{}", cb.event_id), state.engine.now())
            .await
        {
            Ok(true) => {}
            Ok(false) => return Reply::Empty,
            Err(_) => return Reply::Unavailable,
        }
    }
    if let Err(e) = handle_event(state, app, cb.event, &cb.event_id).await {
        // Not kept: let Slack deliver it again.
        tracing::warn!(error = %e, "could not keep a Slack event");
        return Reply::Unavailable;
    }
    Reply::Empty
}

/// A Slack user's name as people know it, or the id if Slack cannot say.
async fn user_display(app: &SlackApp, id: &str) -> String {
    app.client.display_name(id).await
}

/// The incident whose Slack channel this is, found through the record.
async fn incident_of_channel(state: &AppState, channel: &str) -> Option<IncidentId> {
    state
        .engine
        .store()
        .incident_by_resource(ResourceKind::Channel, "slack", channel)
        .await
        .ok()
        .flatten()
}

/// Timeline from chat: a capture emoji adds the message, removing it takes it out, edits
/// follow the message, a deleted message leaves the timeline.
async fn handle_event(
    state: &AppState,
    app: &Arc<SlackApp>,
    event: Event,
    event_id: &str,
) -> Result<(), EngineError> {
    use muster_engine::CapturedMessage;
    match event {
        Event::ReactionAdded(r) => return reaction(state, app, r, false, event_id).await,
        Event::ReactionRemoved(r) => return reaction(state, app, r, true, event_id).await,
        Event::Message(m) if m.message.bot_id.is_none() && m.message.subtype.is_none() => {
            warn_about_secrets(state, app, &m.channel, &m.message).await;
        }
        Event::MessageChanged(m) => {
            if let Some(id) = incident_of_channel(state, &m.channel).await {
                let key = CapturedMessage::slack_key(&m.channel, &m.message.ts);
                if let Err(e) = state
                    .engine
                    .update_captured_message(IncidentRef::Id(id), &key, &m.message.text)
                    .await
                {
                    tracing::warn!(error = %e, "could not follow an edited message");
                }
            }
        }
        Event::MessageDeleted(m) => {
            if let Some(id) = incident_of_channel(state, &m.channel).await {
                let key = CapturedMessage::slack_key(&m.channel, &m.deleted_ts);
                let _ = state
                    .engine
                    .uncapture_message(IncidentRef::Id(id), &key)
                    .await;
            }
        }
        _ => {}
    }
    Ok(())
}

/// A capture emoji added or removed: queue the timeline step (reading the message calls
/// Slack, so it happens after the ack, and survives a crash because it is queued).
async fn reaction(
    state: &AppState,
    app: &Arc<SlackApp>,
    r: muster_slack::payload::ReactionEvent,
    removed: bool,
    event_id: &str,
) -> Result<(), EngineError> {
    if r.item.kind != "message" || !app.config.timeline_emojis.contains(&r.reaction) {
        return Ok(());
    }
    let (Some(channel), Some(ts)) = (r.item.channel, r.item.ts) else {
        return Ok(());
    };
    let Some(id) = incident_of_channel(state, &channel).await else {
        return Ok(());
    };
    let job = NewJob {
        step: format!(
            "{}{event_id}",
            muster_slack::provision::STEP_TIMELINE_PREFIX
        ),
        depends_on: None,
        input: Some(muster_slack::provision::timeline_input(
            &channel, &ts, removed,
        )),
    };
    state
        .engine
        .store()
        .enqueue(id, &[job], state.engine.now())
        .await?;
    app.wake.notify_one();
    Ok(())
}

/// A credential pasted into an incident channel: say so at once, in a thread under the
/// message, with what to do, and record it (redacted) on the timeline.
async fn warn_about_secrets(
    state: &AppState,
    app: &SlackApp,
    channel: &str,
    msg: &muster_slack::payload::Message,
) {
    let findings = app.scanner.scan_bytes(msg.text.as_bytes(), "slack");
    if findings.is_empty() {
        return;
    }
    let Some(id) = incident_of_channel(state, channel).await else {
        return;
    };
    let lang = lang_of(app);
    let mut kinds: Vec<&str> = findings.iter().map(|f| f.rule_id.as_str()).collect();
    kinds.sort();
    kinds.dedup();
    let kinds = kinds.join(", ");
    let author = match msg.user.as_deref() {
        Some(u) => user_display(app, u).await,
        None => "slack".to_owned(),
    };
    let warning = lang.format(
        "slack-secret-warning",
        &Args::new().with("kinds", kinds.clone()),
    );
    if let Err(e) = app
        .client
        .chat_post_message(channel, &SlackMessage::text(warning), Some(&msg.ts))
        .await
    {
        tracing::warn!(error = %e, "could not warn about a posted credential");
    }
    let redacted: Vec<String> = findings
        .iter()
        .map(|f| format!("{} {}", f.rule_id, f.redacted))
        .collect();
    let note = lang.format(
        "slack-secret-note",
        &Args::new()
            .with("author", author)
            .with("findings", redacted.join(", ")),
    );
    if let Err(e) = state
        .engine
        .add_note(IncidentRef::Id(id), &note, None, "muster")
        .await
    {
        tracing::warn!(error = %e, "could not record a posted credential");
    }
}
