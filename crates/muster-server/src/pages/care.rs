//! Reminders on the incident page (`muster_engine::care`): when the next status update is
//! due ("next update due in 12 min", overdue in red), every reminder with its state, and
//! forms to snooze or dismiss them. Rendered by the `care.html` partial.

use super::{PageCtx, act};
use crate::AppState;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use minijinja::{Value, context};
use muster_core::Lang;
use muster_core::care::{NoticeKind, SNOOZES};
use muster_core::incident::IncidentDetail;
use muster_core::time::display;
use serde::Deserialize;

/// Whole minutes, rounded up, so "due in 1 minute" lasts until it is due.
fn minutes(seconds: i64) -> i64 {
    (seconds + 59).div_euclid(60)
}

/// What the `care.html` partial shows; empty when the incident has no reminders (or the
/// database could not say: the page still renders).
pub(super) async fn context(state: &AppState, d: &IncidentDetail, lang: Lang) -> Value {
    let Ok(reminders) = state.engine.reminders(d).await else {
        return context! {};
    };
    let now = state.engine.now();
    let next_update = muster_engine::care::next_update_due(&reminders).map(|due| {
        let overdue = due < now;
        let (id, m) = if overdue {
            ("care-overdue", minutes((now - due).num_seconds()).max(1))
        } else {
            ("care-next-due-in", minutes((due - now).num_seconds()))
        };
        let mut a = muster_core::i18n::Args::new();
        a.num("minutes", m);
        context! { text => lang.format(id, &a), overdue => overdue, due => display(due) }
    });
    let rows: Vec<Value> = reminders
        .iter()
        .map(|r| {
            let state = if r.dismissed {
                Some(lang.t("care-dismissed-state"))
            } else {
                r.snoozed_until.filter(|u| *u > now).map(|u| {
                    lang.format(
                        "care-snoozed-until",
                        &muster_core::i18n::Args::new().with("until", display(u)),
                    )
                })
            };
            let due = r.due.map(display).unwrap_or_else(|| "-".into());
            let text = lang.format(
                "care-next-due",
                &muster_core::i18n::Args::new()
                    .with("key", r.key.as_str())
                    .with("due", due),
            );
            context! {
                key => r.key.clone(),
                text => text,
                state => state,
                overdue => r.due.is_some_and(|t| t < now),
                stale => r.kind == NoticeKind::Stale,
                dismissed => r.dismissed,
            }
        })
        .collect();
    context! {
        next_update => next_update,
        reminders => rows,
        snoozes => SNOOZES.to_vec(),
    }
}

#[derive(Deserialize)]
pub(super) struct SnoozeForm {
    #[serde(default)]
    duration: String,
    #[serde(default)]
    key: String,
}

pub(super) async fn snooze(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
    Form(f): Form<SnoozeForm>,
) -> Response {
    act(state, page, id, "snooze", |s, r, by| async move {
        let key = Some(f.key.trim()).filter(|k| !k.is_empty());
        s.engine
            .snooze(r, key, &f.duration, &by)
            .await
            .map(|(d, _)| d)
    })
    .await
}

#[derive(Deserialize)]
pub(super) struct DismissForm {
    #[serde(default)]
    key: String,
}

pub(super) async fn dismiss(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
    Form(f): Form<DismissForm>,
) -> Response {
    act(state, page, id, "dismiss", |s, r, by| async move {
        s.engine.dismiss(r, &f.key, &by).await
    })
    .await
}
