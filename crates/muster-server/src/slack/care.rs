//! Reminders in Slack (`muster_engine::care`): `/incident snooze 1h [key]`,
//! `/incident dismiss key`, the snooze and dismiss buttons of a reminder, and the human
//! activity that keeps an incident from going stale (messages and reactions in its
//! channel; the bot's own do not count).

use super::SlackApp;
use super::handle::{actor, after_ack, each, ephemeral, in_channel, incident_of_channel, refused};
use crate::AppState;
use muster_core::i18n::Args;
use muster_core::time::{Timestamp, display};
use muster_core::{IncidentRef, Lang};
use muster_slack::blocks::{self, SlackMessage, ids};
use muster_slack::payload::{BlockAction, BlockActions};

/// The subcommands handled here.
pub(super) const SUBCOMMANDS: [&str; 2] = ["snooze", "dismiss"];

fn snoozed(app: &SlackApp, number: &str, until: Timestamp) -> SlackMessage {
    each(app, |l: Lang| {
        l.format(
            "care-snoozed",
            Args::new()
                .str("number", number)
                .str("until", display(until)),
        )
    })
}

fn dismissed(app: &SlackApp, number: &str, key: &str) -> SlackMessage {
    each(app, |l: Lang| {
        l.format(
            "care-dismissed",
            Args::new()
                .str("number", number)
                .str("key", blocks::escape(key)),
        )
    })
}

/// `snooze <duration> [key]` (every reminder but the stale nudge without a key) or
/// `dismiss <key>`, in an incident channel.
pub(super) async fn command(
    state: &AppState,
    app: &SlackApp,
    r: IncidentRef,
    sub: &str,
    rest: &str,
    by: &str,
) -> super::Reply {
    let e = &state.engine;
    let mut words = rest.split_whitespace();
    let first = words.next().unwrap_or("");
    let result = if sub == "snooze" {
        let key = words.next();
        e.snooze(r, key, first, by)
            .await
            .map(|(d, until)| snoozed(app, &d.incident.number.to_string(), until))
    } else {
        e.dismiss(r, first, by)
            .await
            .map(|d| dismissed(app, &d.incident.number.to_string(), first))
    };
    match result {
        Ok(msg) => in_channel(msg),
        Err(err) => ephemeral(refused(app, &err)),
    }
}

/// Whether this button is a reminder's snooze or dismiss.
pub(super) fn is_care_button(action_id: &str) -> bool {
    action_id.starts_with(ids::ACTION_CARE_SNOOZE) || action_id == ids::ACTION_CARE_DISMISS
}

/// A reminder's snooze or dismiss button: recorded now, confirmed in the channel (or
/// the refusal told to the person) after the ack.
pub(super) async fn button(
    state: &AppState,
    app: &SlackApp,
    ba: &BlockActions,
    action: &BlockAction,
) {
    let Some((incident, key, duration)) =
        action.value.as_deref().and_then(blocks::parse_care_value)
    else {
        return;
    };
    let Ok(r) = incident.parse::<IncidentRef>() else {
        return;
    };
    let by = actor(&ba.user);
    let result = match duration {
        Some(d) => state
            .engine
            .snooze(r, Some(key), d, &by)
            .await
            .map(|(d, until)| snoozed(app, &d.incident.number.to_string(), until)),
        None => state
            .engine
            .dismiss(r, key, &by)
            .await
            .map(|d| dismissed(app, &d.incident.number.to_string(), key)),
    };
    let Some(channel) = ba.channel.as_ref().map(|c| c.id.clone()) else {
        return;
    };
    let client = app.client.clone();
    let user = ba.user.id.clone();
    match result {
        Ok(msg) => after_ack(state, async move {
            let _ = client.chat_post_message(&channel, &msg, None).await;
        }),
        Err(e) => {
            let msg = refused(app, &e);
            after_ack(state, async move {
                let _ = client.chat_post_ephemeral(&channel, &user, &msg).await;
            })
        }
    }
}

/// A person wrote or reacted in `channel`: if it is an incident's, it is not stale.
pub(super) async fn activity(state: &AppState, channel: &str) {
    if let Some(id) = incident_of_channel(state, channel).await
        && let Err(e) = state.engine.chat_activity(id).await
    {
        tracing::warn!(error = %e, "could not note activity in an incident channel");
    }
}
