//! Handling of parsed, trusted Slack requests, whatever the transport: a slash command,
//! an interaction or an event callback gives a [`Reply`] (the ack), which the HTTP
//! endpoints turn into a response and Socket Mode into an envelope ack.
//!
//! Ack first, everywhere: no Slack call is awaited before a request is answered. A handler
//! checks, writes to the record through the engine (the incident and its workflow, a
//! queued step) and answers; what needs Slack runs from the queue (the workflow's steps,
//! a message to capture, a credential warning, a role whose holder's name must be read)
//! or right after the ack (opening a modal, whose trigger expires in 3 s). Duplicate
//! deliveries (Slack retries, a view submitted twice) are recognised by their event id or
//! view id and do nothing.

use super::{Reply, SlackApp};
use crate::AppState;
use muster_core::i18n::Args;
use muster_core::incident::{ExternalRef, IncidentDetail, ResourceKind};
use muster_core::step::{StepId, StepKind};
use muster_core::{IncidentId, IncidentRef, Lang};
use muster_engine::{ActionInput, EngineError, Origin, PlannedStep};
use muster_slack::blocks::{self, DeclareForm, SlackMessage, ids};
use muster_slack::payload::{
    BlockActions, Event, EventCallback, Interaction, MessageAction, SlashCommand, ViewSubmission,
};
use muster_slack::provision::{self as steps, PLATFORM};
use serde_json::json;
use std::sync::Arc;

pub(super) fn lang_of(app: &SlackApp) -> Lang {
    app.config.languages.first().copied().unwrap_or_default()
}

/// The languages Muster speaks in channels (`[slack] languages`, in order).
fn langs_of(app: &SlackApp) -> &[Lang] {
    &app.config.languages
}

/// A message in every configured language, one paragraph each; `line` escapes what people
/// typed.
pub(super) fn each(app: &SlackApp, line: impl Fn(Lang) -> String) -> SlackMessage {
    blocks::in_each(langs_of(app), line)
}

/// A refused request, said to the person who asked, in every language. The message may
/// quote what they typed (`unknown status <…>`), so it is escaped as a whole.
pub(super) fn refused(app: &SlackApp, e: &EngineError) -> SlackMessage {
    each(app, |l| blocks::escape(&e.message(l)))
}

pub(super) fn ephemeral(msg: SlackMessage) -> Reply {
    Reply::Json(msg.ephemeral_response())
}

pub(super) fn in_channel(msg: SlackMessage) -> Reply {
    Reply::Json(msg.in_channel_response())
}

/// A slash command: help, an in-channel subcommand, or the declare modal.
pub(super) async fn command(state: &AppState, app: Arc<SlackApp>, cmd: SlashCommand) -> Reply {
    let state = state.clone();
    let lang = lang_of(&app);
    let (sub, rest) = cmd.subcommand();
    let incident = incident_of_channel(&state, &cmd.channel_id).await;
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
    ) || super::care::SUBCOMMANDS.contains(&sub.as_str());
    let emoji = app
        .config
        .timeline_emojis
        .first()
        .cloned()
        .unwrap_or_default();
    if sub == "help" || sub == "aide" {
        let l = if sub == "aide" { Lang::Fr } else { lang };
        return ephemeral(blocks::help_message(l, &app.config.command, &emoji));
    }
    match (incident, known) {
        (Some(id), true) => in_channel_command(&state, &app, id, &cmd, &sub, rest, lang).await,
        // In an incident channel a first word that is no subcommand is a typo
        // (`/incident frobnicate`), not the title of a new incident.
        (Some(_), false) if !sub.is_empty() => ephemeral(blocks::unknown_subcommand(
            lang,
            &app.config.command,
            &sub,
            &emoji,
        )),
        (None, true) if !rest.is_empty() || sub != "status" => {
            ephemeral(blocks::not_incident_channel(lang, &app.config.command))
        }
        _ => {
            // Anything else declares: open the modal with the text as the title.
            let form = DeclareForm::from_command(&cmd.text, lang, Some(&cmd.channel_id));
            let view = blocks::declare_modal(&form, state.engine.config());
            // Ack now, open the modal right after: the trigger id stays valid for 3 s,
            // and the ack must not wait on Slack's own latency.
            let busy = each(&app, |l| l.t("slack-busy"));
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
                return ephemeral(busy);
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
            match person_name(state, who.trim()) {
                Person::Known(person) => (
                    e.assign_role(r, role, &person, &by).await,
                    "cli-role-assigned",
                ),
                Person::SlackUser(user) => {
                    // Only a user id Slack resolved reaches here (see `person_name`).
                    return queue_role(state, app, id, role, &user, &by, &cmd.trigger_id).await;
                }
            }
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
        "snooze" | "dismiss" => return super::care::command(state, app, r, sub, rest, &by).await,
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
            in_channel(changed(app, message_id, &d, state))
        }
        Err(err) => ephemeral(refused(app, &err)),
    }
}

/// The confirmation everyone in the channel sees, in every language. Its values are
/// what people typed (title, role holders, status), so they are escaped: a role given
/// to `<!channel>` must not ping the channel.
fn changed(app: &SlackApp, message_id: &str, d: &IncidentDetail, state: &AppState) -> SlackMessage {
    each(app, |l| {
        let args = d
            .message_args(state.engine.config(), l)
            .map_text(blocks::escape);
        l.format(message_id, &args)
    })
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
            let pending: Vec<String> = state
                .engine
                .pending_setup(i.id)
                .await
                .unwrap_or_default()
                .iter()
                .map(|s| s.kind.name().to_owned())
                .collect();
            let pending = if pending.is_empty() {
                String::new()
            } else {
                format!("\n_{}_", blocks::pending_line(lang, &pending))
            };
            let text = format!(
                "*{}: {}*\n{} · {} · {}{}{}",
                i.number,
                blocks::escape(i.title.as_str()),
                blocks::escape(&c.status_label(&i.status, lang)),
                blocks::escape(&i.severity),
                blocks::escape(&roles),
                last,
                pending
            );
            ephemeral(SlackMessage::text(text))
        }
        Err(e) => ephemeral(SlackMessage::text(blocks::escape(&e.message(lang)))),
    }
}

/// Who a role goes to, as typed after `/incident role <role>`.
enum Person {
    /// A name the record can take now: typed plainly, labelled in the mention
    /// (`<@U123|ana>`), or mapped by `[[people]]`.
    Known(String),
    /// A Slack user whose name must be read from Slack, after the ack.
    SlackUser(String),
}

fn person_name(state: &AppState, raw: &str) -> Person {
    if let Some((id, label)) = user_mention(raw) {
        if !label.is_empty() {
            return Person::Known(label.to_owned());
        }
        return match state.engine.config().person_for_chat_id(PLATFORM, id) {
            Some(name) => Person::Known(name.to_owned()),
            None => Person::SlackUser(id.to_owned()),
        };
    }
    // Anything else (`ana`, `<!channel>`, `<@U1> <!here>`) is a name, kept as typed and
    // escaped wherever it is shown.
    Person::Known(raw.trim_start_matches('@').to_owned())
}

/// `<@U123>` or `<@U123|label>`, as Slack writes a mention it resolved: the user id
/// (letters and digits only, so nothing built from it can carry markup) and the label.
fn user_mention(raw: &str) -> Option<(&str, &str)> {
    let inner = raw.strip_prefix("<@")?.strip_suffix('>')?;
    let (id, label) = inner.split_once('|').unwrap_or((inner, ""));
    let plain_id = !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric());
    (plain_id && !label.contains(['<', '>'])).then_some((id, label))
}

/// Queue the assignment of `role` to a Slack user whose name is read after the ack: the
/// role is checked now, so a typo is answered at once.
async fn queue_role(
    state: &AppState,
    app: &SlackApp,
    id: IncidentId,
    role: &str,
    user: &str,
    by: &str,
    delivery: &str,
) -> Reply {
    let role = match state.engine.config().role(role) {
        Ok(r) => r.clone(),
        Err(e) => return ephemeral(refused(app, &EngineError::from(e))),
    };
    let step = PlannedStep::new(StepKind::AssignRole(delivery.to_owned()))
        .with_input(steps::assign_role_input(&role.key, user, by));
    match state.engine.queue_step(id, PLATFORM, step).await {
        Ok(()) => in_channel(each(app, |l| {
            l.format(
                "slack-role-queued",
                &Args::new()
                    .with("role", blocks::escape(role.label(l)))
                    .with("person", blocks::mention(user)),
            )
        })),
        Err(e) => ephemeral(refused(app, &e)),
    }
}

/// A view submission, block action or message shortcut.
pub(super) async fn interaction(
    state: &AppState,
    app: Arc<SlackApp>,
    interaction: Interaction,
) -> Reply {
    match interaction {
        Interaction::ViewSubmission(sub)
            if sub.view.callback_id == ids::CALLBACK_DECLARE
                || sub.view.callback_id == ids::CALLBACK_DECLARE_FROM_MESSAGE =>
        {
            declare_submission(state, sub).await
        }
        Interaction::ViewSubmission(sub) if sub.view.callback_id == ids::CALLBACK_ROLES => {
            roles_submission(state, sub).await
        }
        Interaction::ViewSubmission(sub) if sub.view.callback_id == ids::CALLBACK_UPDATE => {
            update_submission(state, sub).await
        }
        Interaction::BlockActions(ba) => block_actions(state, app, ba).await,
        Interaction::MessageAction(ma) if ma.callback_id == ids::CALLBACK_DECLARE_FROM_MESSAGE => {
            message_action(state, app, ma)
        }
        _ => Reply::Empty,
    }
}

/// The declare modal submitted: the engine checks it (errors go back under each input),
/// then the incident, the delivery key and every platform's workflow are one
/// transaction: the same submission delivered twice declares once, and a failure keeps
/// nothing, so pressing Submit again declares.
async fn declare_submission(state: &AppState, sub: ViewSubmission) -> Reply {
    let form = DeclareForm::from_view(&sub.view);
    let by = sub
        .user
        .username
        .clone()
        .or(sub.user.name.clone())
        .unwrap_or_else(|| sub.user.id.clone());
    let source = form.meta.source.clone();
    let origin = Origin {
        origin_channel: form.meta.origin_channel.clone(),
        lang: Some(form.meta.lang.code().to_owned()),
        source_message: source.as_ref().map(|s| format!("{}:{}", s.channel, s.ts)),
        ..Origin::chat(PLATFORM, &sub.user.id)
    };
    let mut declaration = form.declaration(&by, origin);
    if let Some(src) = &source {
        // Recorded now; the `source-link` step adds its permalink after the ack.
        declaration.resources.push(ExternalRef {
            kind: ResourceKind::SourceMessage,
            system: PLATFORM.into(),
            external_id: format!("{}:{}", src.channel, src.ts),
            url: None,
            name: None,
        });
    }
    let declared = state
        .engine
        .declare_once(declaration, &format!("slack:view:{}", sub.view.id))
        .await;
    match declared {
        Ok(_) => Reply::Json(json!({})),
        Err(EngineError::Invalid(errors)) => {
            Reply::Json(blocks::validation_errors(&form.errors(&errors)))
        }
        Err(e) => {
            tracing::warn!(error = %e, code = e.code(), "a declaration from Slack was not saved");
            field_error(
                ids::BLOCK_TITLE,
                crate::trouble::declare_failed(&e, form.meta.lang),
            )
        }
    }
}

/// The roles modal submitted: a role given to someone new is queued, to be recorded
/// under the person's Slack name once it is read (after the ack).
async fn roles_submission(state: &AppState, sub: ViewSubmission) -> Reply {
    let (meta, chosen) = blocks::roles_from_view(&sub.view);
    let Ok(r) = meta.incident_id.parse::<IncidentRef>() else {
        return Reply::Json(json!({}));
    };
    let by = actor(&sub.user);
    let id = match state.engine.get(r).await {
        Ok(d) => d.incident.id,
        Err(e) => return field_error(ids::BLOCK_ROLE_PREFIX, e.message(meta.lang)),
    };
    for (role, user) in chosen {
        let step = PlannedStep::new(StepKind::AssignRole(format!("{}-{role}", sub.view.id)))
            .with_input(steps::assign_role_input(&role, &user, &by));
        if let Err(e) = state.engine.queue_step(id, PLATFORM, step).await {
            return field_error(ids::BLOCK_ROLE_PREFIX, e.message(meta.lang));
        }
    }
    Reply::Json(json!({}))
}

/// The status update modal submitted: a new status, then the update (which queues its
/// post under the announcement).
async fn update_submission(state: &AppState, sub: ViewSubmission) -> Reply {
    let form = match blocks::update_from_view(&sub.view) {
        Ok(f) => f,
        Err(errors) => return Reply::Json(blocks::validation_errors(&errors)),
    };
    let Ok(r) = form.meta.incident_id.parse::<IncidentRef>() else {
        return Reply::Json(json!({}));
    };
    let by = actor(&sub.user);
    let fail = |e: EngineError| field_error(ids::BLOCK_UPDATE_STATUS, e.message(form.meta.lang));
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
        Ok(_) => Reply::Json(json!({})),
        Err(e) => fail(e),
    }
}

/// Buttons: open the roles or update modal, switch the declare modal's language,
/// resolve, retry a failed step. Modals open and ephemeral answers post after the ack.
async fn block_actions(state: &AppState, app: Arc<SlackApp>, ba: BlockActions) -> Reply {
    let lang = lang_of(&app);
    for action in &ba.actions {
        let id = action.action_id.as_str();
        if id == ids::ACTION_ASSIGN_ROLES || id == ids::ACTION_POST_UPDATE {
            let (Some(value), Some(trigger)) = (action.value.as_deref(), ba.trigger_id.clone())
            else {
                continue;
            };
            let Ok(r) = value.parse::<IncidentRef>() else {
                continue;
            };
            let Ok(d) = state.engine.get(r).await else {
                continue;
            };
            let meta = blocks::IncidentModalMetadata {
                incident_id: value.to_owned(),
                lang,
            };
            let config = state.engine.config();
            let view = if id == ids::ACTION_ASSIGN_ROLES {
                blocks::roles_modal(config, &meta, &d.incident.number.to_string(), &[])
            } else {
                blocks::update_modal(config, &meta, &d.incident.status)
            };
            let client = app.client.clone();
            after_ack(state, async move {
                if let Err(e) = client.views_open(&trigger, &view).await {
                    tracing::warn!(error = %e, "could not open a modal");
                }
            });
        } else if id.starts_with(ids::ACTION_LANG) {
            if let Some(view) = &ba.view
                && let Some(update) = blocks::relang_update(view, id, state.engine.config())
            {
                let client = app.client.clone();
                after_ack(state, async move {
                    if let Err(e) = client
                        .views_update(&update.view_id, update.hash.as_deref(), &update.view)
                        .await
                    {
                        tracing::warn!(error = %e, "could not switch the modal's language");
                    }
                });
            }
        } else if id == ids::ACTION_RESOLVE {
            let Some(r) = action
                .value
                .as_deref()
                .and_then(|v| v.parse::<IncidentRef>().ok())
            else {
                continue;
            };
            let resolved = state.engine.resolve(r, &actor(&ba.user)).await;
            if let (Err(e), Some(ch)) = (resolved, ba.channel.as_ref()) {
                let (client, channel, user) =
                    (app.client.clone(), ch.id.clone(), ba.user.id.clone());
                let msg = refused(&app, &e);
                after_ack(state, async move {
                    let _ = client.chat_post_ephemeral(&channel, &user, &msg).await;
                });
            }
        } else if super::care::is_care_button(id) {
            super::care::button(state, &app, &ba, action).await;
        } else if id == ids::ACTION_RETRY_STEP
            && let (Some(step), Some(ch)) = (action.value.as_deref(), ba.channel.as_ref())
            && let Some(incident) = incident_of_channel(state, &ch.id).await
        {
            // Buttons posted before steps named their platform carry the bare step.
            let step = step
                .parse::<StepId>()
                .or_else(|_| format!("{PLATFORM}/{step}").parse::<StepId>());
            if let Ok(step) = step {
                let _ = state.engine.retry_step(incident, &step).await;
            }
        }
    }
    Reply::Empty
}

/// The message shortcut: open the declare modal prefilled from the message, after the ack.
fn message_action(state: &AppState, app: Arc<SlackApp>, ma: MessageAction) -> Reply {
    let lang = lang_of(&app);
    let form = DeclareForm::from_message(&ma, lang);
    let view = blocks::declare_modal(&form, state.engine.config());
    let client = app.client.clone();
    after_ack(state, async move {
        if let Err(e) = client.views_open(&ma.trigger_id, &view).await {
            tracing::warn!(error = %e, "could not open the declare modal");
        }
    });
    Reply::Empty
}

/// Call Slack right after the ack, within the bounded pool of such calls.
pub(super) fn after_ack(
    state: &AppState,
    work: impl std::future::Future<Output = ()> + Send + 'static,
) {
    if !crate::abuse::spawn_after_ack(state.abuse.clone(), work) {
        tracing::warn!("a Slack call after an ack was dropped: too many in flight");
    }
}

/// Who acted, as the record names them: the Slack username, else the user id.
pub(super) fn actor(user: &muster_slack::payload::UserRef) -> String {
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
    // What these cause is a step named by the event id: the write that keeps it is the
    // dedupe, so remembering the id first would only lose it on a crash in between.
    let queued = matches!(
        cb.event,
        Event::ReactionAdded(_) | Event::ReactionRemoved(_) | Event::Message(_)
    );
    if !queued {
        match state
            .engine
            .remember_delivery(&format!("slack:event:{}", cb.event_id))
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

/// The incident whose Slack channel this is, found through the record.
pub(super) async fn incident_of_channel(state: &AppState, channel: &str) -> Option<IncidentId> {
    state
        .engine
        .incident_by_chat_channel(PLATFORM, channel)
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
    use muster_slack::client::capture_key;
    match event {
        Event::ReactionAdded(r) => {
            if let Some(channel) = &r.item.channel {
                super::care::activity(state, channel).await;
            }
            return reaction(state, app, r, false, event_id).await;
        }
        Event::ReactionRemoved(r) => return reaction(state, app, r, true, event_id).await,
        Event::Message(m) if m.message.bot_id.is_none() && m.message.subtype.is_none() => {
            super::care::activity(state, &m.channel).await;
            return warn_about_secrets(state, app, &m.channel, &m.message, event_id).await;
        }
        Event::MessageChanged(m) => {
            if let Some(id) = incident_of_channel(state, &m.channel).await {
                let key = capture_key(&m.channel, &m.message.ts);
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
                let key = capture_key(&m.channel, &m.deleted_ts);
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
    let step = PlannedStep::new(StepKind::Capture(event_id.to_owned()))
        .with_input(steps::capture_input(&channel, &ts, removed));
    state.engine.queue_step(id, PLATFORM, step).await?;
    Ok(())
}

/// A credential pasted into an incident channel: found now, and a step queued (named by
/// the event, so a redelivery finds it) warns in a thread under the message, with what to
/// do, and records it redacted on the timeline.
async fn warn_about_secrets(
    state: &AppState,
    app: &SlackApp,
    channel: &str,
    msg: &muster_slack::payload::Message,
    event_id: &str,
) -> Result<(), EngineError> {
    let findings = app.scanner.scan_bytes(msg.text.as_bytes(), "slack");
    if findings.is_empty() {
        return Ok(());
    }
    let Some(id) = incident_of_channel(state, channel).await else {
        return Ok(());
    };
    let mut kinds: Vec<&str> = findings.iter().map(|f| f.rule_id.as_str()).collect();
    kinds.sort();
    kinds.dedup();
    let redacted: Vec<String> = findings
        .iter()
        .map(|f| format!("{} {}", f.rule_id, f.redacted))
        .collect();
    let input = steps::secret_warning_input(
        channel,
        &msg.ts,
        msg.user.as_deref(),
        &kinds.join(", "),
        &redacted,
    );
    let step = PlannedStep::new(StepKind::SecretWarning(event_id.to_owned())).with_input(input);
    state.engine.queue_step(id, PLATFORM, step).await?;
    Ok(())
}
