//! Short notices: `/incident help`, the declare confirmation, refusals, and what
//! provisioning says when a step is slow or fails. One-paragraph messages, kept apart from
//! the larger builders.

use super::{SlackMessage, button, context, escape, header, ids, section, t, tf};
use muster_core::Lang;
use serde_json::json;

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
        "care-help-snooze",
        "care-help-dismiss",
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

/// The configured languages, English when none is.
fn langs_or_en(langs: &[Lang]) -> &[Lang] {
    if langs.is_empty() { &[Lang::En] } else { langs }
}

/// One paragraph per language (`[slack] languages`, in order): what Muster says in a
/// channel, where people of every language read it. `line` must escape what people typed.
pub fn in_each(langs: &[Lang], line: impl Fn(Lang) -> String) -> SlackMessage {
    SlackMessage::text(
        langs_or_en(langs)
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

/// A failed step, posted in the incident channel in each of `langs`, with a retry button
/// whose value is `step_id`. It says which part of the setup is missing in words
/// (`slack-step-name-*`); Slack's error code is for whoever debugs it, so it stays in a
/// small context line, out of the notification text.
pub fn step_failed(
    langs: &[Lang],
    number: &str,
    step: &str,
    detail: &str,
    step_id: &str,
) -> SlackMessage {
    let mut m = in_each(langs, |l| {
        tf(
            l,
            "slack-step-failed",
            &[("number", number), ("step", &step_name(l, step))],
        )
    });
    if !detail.is_empty() {
        m.blocks.push(context(&format!("`{}`", escape(detail))));
    }
    let label = langs_or_en(langs)
        .iter()
        .map(|&l| t(l, "slack-button-retry"))
        .collect::<Vec<_>>()
        .join(" / ");
    m.blocks.push(json!({
        "type": "actions",
        "elements": [button(&label, ids::ACTION_RETRY_STEP, step_id)],
    }));
    m
}

/// `/incident frobnicate` in an incident channel: a mistyped subcommand, not a title, so
/// it answers with help instead of opening the declare form.
pub fn unknown_subcommand(
    lang: Lang,
    command: &str,
    sub: &str,
    timeline_emoji: &str,
) -> SlackMessage {
    let mut m = help_message(lang, command, timeline_emoji);
    let line = tf(
        lang,
        "slack-unknown-subcommand",
        &[("sub", &escape(sub)), ("command", command)],
    );
    m.blocks.insert(0, section(&line));
    m.text = line;
    m
}
