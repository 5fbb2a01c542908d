//! Slack on the engine's chat port: [`SlackPlatform`] plans the steps (pure, no token),
//! [`SlackProvisioner`] runs them for the engine's worker, one function per step.
//!
//! Setup: `channel` first; then, independently and concurrently, `invite`, `topic`,
//! `bookmarks`, `welcome` and `announce`. Each has its effect exactly once, even when the
//! process dies between Slack acting and the result being recorded:
//!
//! - a step that finished is never run again (its result and "done" are one transaction);
//! - invites, topic, purpose, joins, updates and archiving are idempotent on Slack's side;
//! - the channel name is reserved for the incident before `conversations.create`, so a
//!   rerun that meets `name_taken` on its own reserved name adopts the channel our bot
//!   made instead of creating `-2`;
//! - a rerun (`resumed`) of a posting step first looks for its [`Mark`]ed message, and a
//!   rerun of `bookmarks` skips links already bookmarked.
//!
//! Follow-ups of a change (`update/n`, `refresh/v`, `archive`) and steps from chat
//! (`capture/<event>`, `secret-warning/<event>`, `assign-role/<event>`) run here too, so
//! nothing that calls Slack happens before a Slack request is acknowledged.

use crate::blocks::{self, AnnouncementInfo, WelcomeInfo, Who};
use crate::client::{Channel, SlackClient, SlackError};
use crate::marks::Mark;
use muster_core::Lang;
use muster_core::config::{AnnounceSecurity, SlackConfig};
use muster_core::i18n::Args;
use muster_core::incident::{ExternalRef, IncidentDetail, ResourceKind, TimelineEvent};
use muster_core::record::Change;
use muster_core::step::{StepId, StepKind};
use muster_engine::workflow::{BoxFuture, Reservation, StepInput, StepOutcome, StepRunner};
use muster_engine::{ChatPlatform, Origin, PlannedStep};
use serde_json::json;
use std::time::Duration;

/// Slack's name in step ids, resources and `[[people]]`.
pub const PLATFORM: &str = "slack";

/// How many names to try after `name_taken` (`-2` … `-20`).
const NAME_ATTEMPTS: u32 = 20;

/// The input of a `capture` step: the message a capture emoji was added to (or removed
/// from).
pub fn capture_input(channel: &str, ts: &str, removed: bool) -> serde_json::Value {
    json!({ "channel": channel, "ts": ts, "removed": removed })
}

/// The input of a `secret-warning` step: the message that holds a credential, who
/// posted it, and what was found, already redacted.
pub fn secret_warning_input(
    channel: &str,
    ts: &str,
    user: Option<&str>,
    kinds: &str,
    redacted: &[String],
) -> serde_json::Value {
    json!({ "channel": channel, "ts": ts, "user": user, "kinds": kinds, "findings": redacted })
}

/// The input of an `assign-role` step: give `role` to the Slack user `user_id`, as `by`.
pub fn assign_role_input(role: &str, user_id: &str, by: &str) -> serde_json::Value {
    json!({ "role": role, "user_id": user_id, "by": by })
}

/// Slack's plans: the steps a new incident needs in Slack and the ones a change calls
/// for. Pure, needs no token, so the CLI queues Slack's steps for the server to run.
#[derive(Debug, Clone, Copy, Default)]
pub struct SlackPlatform;

impl ChatPlatform for SlackPlatform {
    fn name(&self) -> &str {
        PLATFORM
    }

    /// `channel` first; then, independently, `invite`, `topic`, `bookmarks`, `welcome`
    /// and `announce`; `source-link` when declared from a message.
    fn setup(&self, origin: &Origin) -> Vec<PlannedStep> {
        let after_channel = |k| PlannedStep::new(k).after(StepKind::Channel);
        let mut steps = vec![
            PlannedStep::new(StepKind::Channel),
            after_channel(StepKind::Invite),
            after_channel(StepKind::Topic),
            after_channel(StepKind::Bookmarks),
            after_channel(StepKind::Welcome),
            after_channel(StepKind::Announce),
        ];
        if origin.user_on(PLATFORM).is_some() && origin.source_message.is_some() {
            steps.push(PlannedStep::new(StepKind::SourceLink));
        }
        steps
    }

    /// A status update is posted under the announcement, a new status, severity or title
    /// refreshes it, closing archives the channel. Only for incidents that have a Slack
    /// channel; queued with the change, in its transaction.
    fn follow_ups(
        &self,
        before: &IncidentDetail,
        change: &Change,
        version: muster_core::time::Timestamp,
    ) -> Vec<PlannedStep> {
        // The group's alerts can all resolve before the channel exists (Slack slow or
        // down): the suggestion waits for the welcome, which waits for the channel.
        let alerts_resolved = change
            .events
            .iter()
            .any(|(_, e)| matches!(e, TimelineEvent::AlertsResolved))
            .then(|| PlannedStep::new(StepKind::AlertsResolved).after(StepKind::Welcome));
        if channel_id(before).is_none() {
            return alerts_resolved.into_iter().collect();
        }
        // After the announcement exists, so there is something to refresh.
        let after_announce = |k| PlannedStep::new(k).after(StepKind::Announce);
        let mut steps = vec![];
        if let Some(text) = &change.update {
            let n = before.updates.len() as u32 + 1;
            steps.push(after_announce(StepKind::Update(n)).with_input(json!({ "text": text })));
        } else if change.status.is_some() || change.severity.is_some() || change.title.is_some() {
            steps.push(after_announce(StepKind::Refresh(
                version.timestamp_micros(),
            )));
        }
        if change.closed_at.is_some() {
            steps.push(PlannedStep::new(StepKind::Archive));
        }
        steps.extend(alerts_resolved);
        steps
    }

    /// A reminder is a message with buttons in the incident's channel, once it exists.
    fn remind(&self, notice: &muster_engine::care::Notice, name: &str) -> Vec<PlannedStep> {
        vec![notice.step(name)]
    }
}

pub struct SlackProvisioner {
    client: SlackClient,
    config: SlackConfig,
    /// Our bot's user id (`auth.test`), asked once, to recognise channels it created.
    bot_user: tokio::sync::OnceCell<String>,
}

impl SlackProvisioner {
    pub fn new(client: SlackClient, config: SlackConfig) -> Self {
        SlackProvisioner {
            client,
            config,
            bot_user: tokio::sync::OnceCell::new(),
        }
    }

    async fn bot_user(&self) -> Result<&str, SlackError> {
        self.bot_user
            .get_or_try_init(|| async { self.client.auth_test().await.map(|a| a.user_id) })
            .await
            .map(String::as_str)
    }

    /// The channel called `name`, if our bot created it: what an interrupted run of the
    /// `channel` step made before its answer was lost.
    async fn own_channel(&self, name: &str, private: bool) -> Result<Option<Channel>, SlackError> {
        let Some(c) = self.client.find_channel_named(name, private).await? else {
            return Ok(None);
        };
        Ok((c.creator == self.bot_user().await?).then_some(c))
    }

    /// Post `msg` once for this step: on a rerun, the message an earlier run posted is
    /// found by its mark and not posted again.
    async fn post_once(
        &self,
        step: &StepInput<'_>,
        channel: &str,
        thread_ts: Option<&str>,
        msg: &blocks::SlackMessage,
    ) -> Result<crate::client::PostedMessage, SlackError> {
        let id = step.detail.incident.id.to_string();
        // Marks name the step within Slack (`welcome`, `update/2`), as they did before
        // steps named their platform, so a rerun after an upgrade finds older marks.
        let full = step.step.to_string();
        let name = full.strip_prefix("slack/").unwrap_or(&full).to_owned();
        let mark = Mark {
            incident_id: &id,
            step: &name,
        };
        if step.resumed
            && let Some(found) = self.client.find_marked(channel, thread_ts, mark).await?
        {
            return Ok(found);
        }
        self.client
            .chat_post_marked(channel, msg, thread_ts, mark)
            .await
    }

    pub fn client(&self) -> &SlackClient {
        &self.client
    }

    fn langs(&self) -> Vec<Lang> {
        if self.config.languages.is_empty() {
            vec![Lang::En, Lang::Fr]
        } else {
            self.config.languages.clone()
        }
    }

    /// The announcement as it should read now; `user` is the declarer's Slack id.
    fn announcement(&self, step: &StepInput<'_>, channel: &str, user: Who) -> AnnouncementInfo {
        let i = &step.detail.incident;
        AnnouncementInfo {
            number: i.number.to_string(),
            title: i.title.to_string(),
            severity: i.severity.clone(),
            status: step.config.status_label(&i.status, self.langs()[0]),
            team: i.team.clone(),
            channel_id: channel.to_owned(),
            declarer: user.clone(),
            commander: user,
            security: i.security,
        }
    }

    fn report_url(&self, d: &IncidentDetail) -> Option<String> {
        self.config
            .public_url
            .as_ref()
            .map(|u| format!("{u}/incidents/{}/report", d.incident.number))
    }
}

/// The Slack channel recorded on the incident, once the `channel` step is done.
pub fn channel_id(d: &IncidentDetail) -> Option<&str> {
    d.resource_of(ResourceKind::Channel, PLATFORM)
        .map(|r| r.external_id.as_str())
}

/// A text value of what the workflow was started with (the declarer, a channel…).
fn input_str<'a>(step: &StepInput<'a>, key: &str) -> Option<&'a str> {
    step.input?.get(key)?.as_str()
}

/// The declarer as Slack messages name them: a mention when their Slack id is known
/// (they declared in Slack, or `[[people]]` maps them), else the recorded name.
fn declarer(step: &StepInput<'_>) -> Who {
    match step.declarer() {
        Some(id) => Who::User(id),
        None => Who::Named(step.detail.incident.declared_by.clone()),
    }
}

fn retry_or_fail(e: SlackError, attempt: i64) -> StepOutcome {
    match e.retry_delay(attempt.max(1) as u32) {
        Some(after) => StepOutcome::Retry {
            after,
            error: e.to_string(),
        },
        None => StepOutcome::Failed(e.to_string()),
    }
}

fn channel_created(c: Channel) -> StepOutcome {
    StepOutcome::Done {
        output: Some(json!({"channel_id": c.id, "name": c.name})),
        resources: vec![ExternalRef {
            kind: ResourceKind::Channel,
            system: PLATFORM.into(),
            url: Some(format!("https://slack.com/app_redirect?channel={}", c.id)),
            external_id: c.id,
            // The record follows the name Slack gave it (`-2` when the name was taken).
            name: Some(c.name),
        }],
    }
}

fn done() -> StepOutcome {
    StepOutcome::Done {
        output: None,
        resources: vec![],
    }
}

fn no_channel() -> StepOutcome {
    // The queue only runs these after `channel`; this would be a bug, so wait and see.
    StepOutcome::Retry {
        after: Duration::from_secs(1),
        error: "the incident channel is not recorded yet".into(),
    }
}

impl SlackProvisioner {
    /// Tell the incident's people, once per incident and `kind`: in its channel once there
    /// is one, else the declarer alone, in the channel where they typed the command. A
    /// storm delays every step; one notice that reached people says it all, and a notice
    /// that could not be posted is tried again by the next delayed step.
    async fn tell_once(&self, step: &StepInput<'_>, kind: &str, msg: &blocks::SlackMessage) {
        let key = format!("notice:{kind}:{}", step.detail.incident.id);
        if step.ledger.is_reserved(&key).await.unwrap_or(true) {
            return;
        }
        let sent = match (
            channel_id(step.detail),
            step.origin.origin_channel.as_deref(),
            step.origin.user_on(PLATFORM),
        ) {
            (Some(ch), _, _) => self.client.chat_post_message(ch, msg, None).await.map(drop),
            (None, Some(origin), Some(user)) => self
                .client
                .chat_post_ephemeral(origin, user, msg)
                .await
                .map(drop),
            _ => return,
        };
        match sent {
            Ok(()) => {
                let _ = step.ledger.reserve(&key).await;
            }
            Err(e) => {
                tracing::warn!(error = %e, step = %step.step, "could not tell people about a delay")
            }
        }
    }

    async fn channel(&self, step: &StepInput<'_>) -> StepOutcome {
        let d = step.detail;
        let i = &d.incident;
        if let Some(id) = channel_id(d) {
            // Already created and recorded: nothing to do.
            return StepOutcome::Done {
                output: Some(json!({"channel_id": id})),
                resources: vec![],
            };
        }
        for attempt in 1..=NAME_ATTEMPTS {
            let name = i.channel_name.with_collision_suffix(attempt);
            let reserved = match step.ledger.reserve(&format!("slack:channel:{name}")).await {
                Ok(r) => r,
                Err(e) => {
                    return StepOutcome::Retry {
                        after: Duration::from_secs(2),
                        error: e.to_string(),
                    };
                }
            };
            if reserved == Reservation::Taken {
                // Another incident asked for this name: never share a channel.
                continue;
            }
            match self
                .client
                .conversations_create(name.as_str(), i.security)
                .await
            {
                Ok(c) => return channel_created(c),
                Err(e) if e.is_api_error("name_taken") => {
                    if reserved == Reservation::Earlier {
                        match self.own_channel(name.as_str(), i.security).await {
                            Ok(Some(c)) => return channel_created(c),
                            Ok(None) => {}
                            Err(e) => return retry_or_fail(e, step.attempt),
                        }
                    }
                }
                Err(e) => return retry_or_fail(e, step.attempt),
            }
        }
        StepOutcome::Failed(format!(
            "every name from {} to -{NAME_ATTEMPTS} is taken",
            i.channel_name
        ))
    }

    async fn invite(&self, step: &StepInput<'_>, channel: &str) -> StepOutcome {
        let i = &step.detail.incident;
        let mut users: Vec<String> = step.declarer().into_iter().collect();
        for rule in self
            .config
            .invites
            .iter()
            .filter(|r| r.matches(&i.severity, i.team.as_deref(), i.security))
        {
            users.extend(rule.users.iter().cloned());
            for g in &rule.usergroups {
                match self.client.usergroups_users_list(g).await {
                    Ok(members) => users.extend(members),
                    Err(e) => return retry_or_fail(e, step.attempt),
                }
            }
        }
        users.sort();
        users.dedup();
        if users.is_empty() {
            return done();
        }
        let refs: Vec<&str> = users.iter().map(String::as_str).collect();
        match self
            .client
            .conversations_invite_idempotent(channel, &refs)
            .await
        {
            Ok(outcome) => StepOutcome::Done {
                output: Some(json!({
                    "invited": outcome.invited,
                    "already_in": outcome.already_in,
                    "refused": outcome.refused,
                })),
                resources: vec![],
            },
            Err(e) => retry_or_fail(e, step.attempt),
        }
    }

    async fn topic(&self, step: &StepInput<'_>, channel: &str) -> StepOutcome {
        let i = &step.detail.incident;
        let topic =
            crate::limits::truncate(&format!("{} · {} · {}", i.number, i.severity, i.title), 250);
        if let Err(e) = self.client.conversations_set_topic(channel, &topic).await {
            return retry_or_fail(e, step.attempt);
        }
        let purpose = if i.description.is_empty() {
            i.title.to_string()
        } else {
            i.description.clone()
        };
        match self
            .client
            .conversations_set_purpose(channel, &crate::limits::truncate(&purpose, 250))
            .await
        {
            Ok(()) => done(),
            Err(e) => retry_or_fail(e, step.attempt),
        }
    }

    async fn bookmarks(&self, step: &StepInput<'_>, channel: &str) -> StepOutcome {
        let d = step.detail;
        let lang = self.langs()[0];
        let mut links = vec![];
        if let Some(m) = d
            .resource(ResourceKind::Meeting)
            .and_then(|m| m.url.clone())
        {
            links.push((lang.t("slack-bookmark-meeting"), m));
        }
        if let Some(r) = self.report_url(d) {
            links.push((lang.t("slack-bookmark-report"), r));
        }
        if let Some(a) = d.resource(ResourceKind::Alert).and_then(|a| a.url.clone()) {
            links.push((lang.t("slack-bookmark-alert"), a));
        }
        if step.resumed {
            // An earlier run may have added some before it was interrupted.
            match self.client.bookmarks_list(channel).await {
                Ok(existing) => links.retain(|(_, l)| {
                    !existing
                        .iter()
                        .any(|b| b.link.as_deref() == Some(l.as_str()))
                }),
                Err(e) => return retry_or_fail(e, step.attempt),
            }
        }
        for (title, link) in links {
            if let Err(e) = self.client.bookmarks_add(channel, &title, &link).await {
                return retry_or_fail(e, step.attempt);
            }
        }
        done()
    }

    async fn welcome(&self, step: &StepInput<'_>, channel: &str) -> StepOutcome {
        let d = step.detail;
        let i = &d.incident;
        let info = WelcomeInfo {
            incident_id: i.id.to_string(),
            number: i.number.to_string(),
            title: i.title.to_string(),
            severity: i.severity.clone(),
            commander: declarer(step),
            meeting_url: d
                .resource(ResourceKind::Meeting)
                .and_then(|m| m.url.clone()),
            report_url: self.report_url(d),
            security: i.security,
            timeline_emoji: self
                .config
                .timeline_emojis
                .first()
                .cloned()
                .unwrap_or_else(|| "floppy_disk".into()),
            // As the status-update reminders ask (30 when none is configured).
            update_every_minutes: step
                .config
                .care
                .update_interval(&i.severity)
                .map_or(30, |d| d.num_minutes().clamp(1, i64::from(u32::MAX)) as u32),
            command: self.config.command.clone(),
        };
        let msg = blocks::welcome_message(&info, &self.langs());
        match self.post_once(step, channel, None, &msg).await {
            Ok(p) => StepOutcome::Done {
                output: Some(json!({"ts": p.ts})),
                resources: vec![],
            },
            Err(e) => retry_or_fail(e, step.attempt),
        }
    }

    async fn announce(&self, step: &StepInput<'_>, channel: &str) -> StepOutcome {
        let who = declarer(step);
        let i = &step.detail.incident;
        let msg = if i.security {
            // Public channels learn one neutral line, or nothing.
            match self.config.announce_security {
                AnnounceSecurity::None => return done(),
                AnnounceSecurity::Neutral => {
                    blocks::security_announcement(&i.number.to_string(), &self.langs())
                }
            }
        } else {
            let info = self.announcement(step, channel, who.clone());
            blocks::announcement_message(&info, &self.langs())
        };
        let mut posted = vec![];
        for target in &self.config.announcement_channels {
            let mut sent = self.post_once(step, target, None, &msg).await;
            if matches!(&sent, Err(e) if e.is_api_error("not_in_channel")) {
                // Public announcement channels: join once, then post.
                if let Err(e) = self.client.conversations_join(target).await {
                    return retry_or_fail(e, step.attempt);
                }
                sent = self.post_once(step, target, None, &msg).await;
            }
            match sent {
                Ok(p) => posted.push(json!({"channel": p.channel, "ts": p.ts})),
                // A rerun finds the targets already posted to by their mark.
                Err(e) => return retry_or_fail(e, step.attempt),
            }
        }
        let (user_id, user_name) = match who {
            Who::User(id) => (Some(id), None),
            Who::Named(name) => (None, Some(name)),
        };
        StepOutcome::Done {
            output: Some(json!({"messages": posted, "user_id": user_id, "user_name": user_name})),
            resources: vec![],
        }
    }

    /// `update/n` posts the status update under each announcement, then refreshes it;
    /// `refresh/v` only refreshes. A security incident's updates stay in its own private
    /// channel, and its neutral announcement has nothing to refresh.
    async fn refresh(&self, step: &StepInput<'_>, channel: &str) -> StepOutcome {
        let i = &step.detail.incident;
        if i.security {
            let text = match step.step.kind {
                StepKind::Update(_) => input_str(step, "text"),
                _ => None,
            };
            let Some(t) = text else { return done() };
            let msg = blocks::SlackMessage::text(format!("*{}* {}", i.number, blocks::escape(t)));
            return match self.post_once(step, channel, None, &msg).await {
                Ok(_) => done(),
                Err(e) => retry_or_fail(e, step.attempt),
            };
        }
        let announced = step.outputs.get(&StepKind::Announce);
        let posted: Vec<(String, String)> = announced
            .and_then(|o| o.get("messages"))
            .and_then(|m| m.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|m| {
                        Some((
                            m["channel"].as_str()?.to_owned(),
                            m["ts"].as_str()?.to_owned(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let field = |k: &str| {
            announced
                .and_then(|o| o.get(k))
                .and_then(|u| u.as_str())
                .map(str::to_owned)
        };
        let who = match (field("user_id"), field("user_name")) {
            (Some(id), _) => Who::User(id),
            (None, Some(name)) => Who::Named(name),
            (None, None) => declarer(step),
        };
        let info = self.announcement(step, channel, who);
        let msg = blocks::announcement_message(&info, &self.langs());
        let text = match step.step.kind {
            StepKind::Update(_) => input_str(step, "text"),
            _ => None,
        };
        for (ch, ts) in &posted {
            if let Some(t) = text {
                let reply =
                    blocks::SlackMessage::text(format!("*{}* {}", i.number, blocks::escape(t)));
                if let Err(e) = self.post_once(step, ch, Some(ts), &reply).await {
                    return retry_or_fail(e, step.attempt);
                }
            }
            if let Err(e) = self.client.chat_update(ch, ts, &msg).await {
                return retry_or_fail(e, step.attempt);
            }
        }
        done()
    }

    async fn archive(&self, step: &StepInput<'_>) -> StepOutcome {
        let Some(channel) = channel_id(step.detail) else {
            return done();
        };
        match self.client.conversations_archive(channel).await {
            Ok(()) => done(),
            Err(e) if e.is_api_error("already_archived") => done(),
            Err(e) => retry_or_fail(e, step.attempt),
        }
    }

    /// The permalink of the message an incident was declared from.
    async fn source_link(&self, step: &StepInput<'_>) -> StepOutcome {
        let Some((channel, ts)) = step
            .origin
            .source_message
            .as_deref()
            .and_then(|s| s.split_once(':'))
        else {
            return done();
        };
        match self.client.chat_get_permalink(channel, ts).await {
            Ok(link) => StepOutcome::Done {
                output: None,
                resources: vec![ExternalRef {
                    kind: ResourceKind::SourceMessage,
                    system: PLATFORM.into(),
                    external_id: format!("{channel}:{ts}"),
                    url: Some(link),
                    name: None,
                }],
            },
            // Deleted since: the reference without a link stays.
            Err(e) if e.is_api_error("message_not_found") => done(),
            Err(e) => retry_or_fail(e, step.attempt),
        }
    }

    async fn capture(&self, step: &StepInput<'_>) -> StepOutcome {
        let (Some(channel), Some(ts)) = (input_str(step, "channel"), input_str(step, "ts")) else {
            return StepOutcome::Failed("a capture step without channel and ts".into());
        };
        let removed = step.input.and_then(|v| v.get("removed")?.as_bool());
        let recorded = if removed == Some(true) {
            step.ledger
                .uncapture(&crate::client::capture_key(channel, ts))
                .await
        } else {
            let found = match self.client.conversations_history_message(channel, ts).await {
                Ok(Some(m)) => Some(m),
                // Not in the history: a thread reply, or gone.
                Ok(None) => match self.client.conversations_replies_message(channel, ts).await {
                    Ok(m) => m,
                    Err(e) => return retry_or_fail(e, step.attempt),
                },
                Err(e) => return retry_or_fail(e, step.attempt),
            };
            // Deleted before we could read it: nothing to keep.
            let Some(msg) = found else { return done() };
            let author = match msg.author_id() {
                Some(u) => self.client.display_name(u).await,
                None => "slack".to_owned(),
            };
            let permalink = self.client.chat_get_permalink(channel, ts).await.ok();
            match msg.to_captured(channel, &author, permalink) {
                Some(c) => step.ledger.capture(c).await,
                None => return done(),
            }
        };
        recorded_or_retry(recorded.map(drop))
    }

    /// A credential pasted into the incident channel: a warning in a thread under the
    /// message, with what to do, and a redacted note on the timeline.
    async fn secret_warning(&self, step: &StepInput<'_>) -> StepOutcome {
        let (Some(channel), Some(ts)) = (input_str(step, "channel"), input_str(step, "ts")) else {
            return StepOutcome::Failed("a secret-warning step without channel and ts".into());
        };
        let lang = self.langs()[0];
        let kinds = input_str(step, "kinds").unwrap_or_default();
        // Rule ids come from the scanner's configuration: escaped like any text.
        let warning = lang.format(
            "slack-secret-warning",
            &Args::new().with("kinds", blocks::escape(kinds)),
        );
        if let Err(e) = self
            .post_once(
                step,
                channel,
                Some(ts),
                &blocks::SlackMessage::text(warning),
            )
            .await
        {
            return retry_or_fail(e, step.attempt);
        }
        // Once: the reservation is taken after the note is written, so only a crash
        // between the two writes could repeat it.
        let key = format!("slack:secret-note:{}", step.step);
        if step.ledger.is_reserved(&key).await.unwrap_or(false) {
            return done();
        }
        let author = match input_str(step, "user") {
            Some(u) => self.client.display_name(u).await,
            None => "slack".to_owned(),
        };
        let findings: Vec<&str> = step
            .input
            .and_then(|v| v.get("findings")?.as_array())
            .map(|a| a.iter().filter_map(|f| f.as_str()).collect())
            .unwrap_or_default();
        let note = lang.format(
            "slack-secret-note",
            &Args::new()
                .with("author", author)
                .with("findings", findings.join(", ")),
        );
        if let Err(e) = step.ledger.note(&note, "muster").await {
            return recorded_or_retry(Err(e));
        }
        let _ = step.ledger.reserve(&key).await;
        done()
    }

    /// `/incident role <role> @someone`: the role goes to the person's Slack name, read
    /// after the ack.
    async fn assign_role(&self, step: &StepInput<'_>) -> StepOutcome {
        let (Some(role), Some(user), Some(by)) = (
            input_str(step, "role"),
            input_str(step, "user_id"),
            input_str(step, "by"),
        ) else {
            return StepOutcome::Failed("an assign-role step without role, user and by".into());
        };
        let name = match self.client.users_info(user).await {
            Ok(u) => u
                .display_name
                .filter(|d| !d.is_empty())
                .or(u.real_name.filter(|r| !r.is_empty()))
                .unwrap_or(u.name),
            Err(e) if e.is_api_error("user_not_found") => user.to_owned(),
            Err(e) => return retry_or_fail(e, step.attempt),
        };
        let holds = step
            .detail
            .roles
            .iter()
            .any(|r| r.role == role && r.person == name);
        if holds {
            return done();
        }
        recorded_or_retry(step.ledger.assign_role(role, &name, by).await)
    }
}

/// A write to the record from a step: a refused request will not get better by retrying;
/// database trouble will.
impl SlackProvisioner {
    /// Say a reminder in the incident's channel (once: a rerun finds its mark).
    async fn remind(&self, step: &StepInput<'_>, channel: &str) -> StepOutcome {
        let Some(notice) = muster_engine::care::Notice::from_input(step.input) else {
            return StepOutcome::Failed("a reminder without its notice".into());
        };
        let i = &step.detail.incident;
        let info = blocks::ReminderInfo {
            incident_id: i.id.to_string(),
            number: i.number.to_string(),
            key: notice.key,
            kind: notice.kind,
            since_seconds: notice.since_seconds,
        };
        let msg = blocks::reminder_message(&info, step.config, &self.langs());
        match self.post_once(step, channel, None, &msg).await {
            Ok(p) => StepOutcome::Done {
                output: Some(json!({"ts": p.ts})),
                resources: vec![],
            },
            Err(e) => retry_or_fail(e, step.attempt),
        }
    }
}

fn recorded_or_retry(r: Result<(), muster_engine::EngineError>) -> StepOutcome {
    match r {
        Ok(()) => done(),
        Err(e) if e.is_user_error() => StepOutcome::Failed(e.to_string()),
        Err(e) => StepOutcome::Retry {
            after: Duration::from_secs(2),
            error: e.to_string(),
        },
    }
}

impl StepRunner for SlackProvisioner {
    fn platform(&self) -> &str {
        PLATFORM
    }

    fn run<'a>(&'a self, step: StepInput<'a>) -> BoxFuture<'a, StepOutcome> {
        Box::pin(async move {
            let needs_channel = || channel_id(step.detail);
            match &step.step.kind {
                StepKind::Channel => self.channel(&step).await,
                StepKind::Archive => self.archive(&step).await,
                StepKind::SourceLink => self.source_link(&step).await,
                StepKind::Capture(_) => self.capture(&step).await,
                StepKind::SecretWarning(_) => self.secret_warning(&step).await,
                StepKind::AssignRole(_) => self.assign_role(&step).await,
                kind => {
                    let Some(channel) = needs_channel() else {
                        return no_channel();
                    };
                    match kind {
                        StepKind::Invite => self.invite(&step, channel).await,
                        StepKind::Topic => self.topic(&step, channel).await,
                        StepKind::Bookmarks => self.bookmarks(&step, channel).await,
                        StepKind::Welcome => self.welcome(&step, channel).await,
                        StepKind::Announce => self.announce(&step, channel).await,
                        StepKind::Refresh(_) | StepKind::Update(_) => {
                            self.refresh(&step, channel).await
                        }
                        StepKind::AlertsResolved => {
                            let msg =
                                blocks::in_each(&self.langs(), |l| l.t("slack-alerts-resolved"));
                            match self.post_once(&step, channel, None, &msg).await {
                                Ok(_) => done(),
                                Err(e) => retry_or_fail(e, step.attempt),
                            }
                        }
                        StepKind::Remind(_) => self.remind(&step, channel).await,
                        _ => StepOutcome::Failed(format!("Slack does not run {}", step.step)),
                    }
                }
            }
        })
    }

    fn report_delay<'a>(
        &'a self,
        step: StepInput<'a>,
        error: &'a str,
        pending: &'a [StepId],
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let number = step.detail.incident.number.to_string();
            // Only Slack's own steps: another platform's delay is told there.
            let pending: Vec<String> = pending
                .iter()
                .filter(|s| s.platform == PLATFORM)
                .map(|s| s.kind.name().to_owned())
                .collect();
            let msg = blocks::provisioning_delayed(&self.langs(), &number, error, &pending);
            self.tell_once(&step, "delayed", &msg).await;
        })
    }

    fn report_recovered<'a>(&'a self, step: StepInput<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            // Only after a delay notice actually reached people.
            let delayed = format!("notice:delayed:{}", step.detail.incident.id);
            if !step.ledger.is_reserved(&delayed).await.unwrap_or(false) {
                return;
            }
            let number = step.detail.incident.number.to_string();
            let msg = blocks::provisioning_recovered(&self.langs(), &number);
            self.tell_once(&step, "recovered", &msg).await;
        })
    }

    fn report_failure<'a>(&'a self, step: StepInput<'a>, error: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            if matches!(
                step.step.kind,
                StepKind::Capture(_) | StepKind::SecretWarning(_)
            ) {
                // Nobody asked for this one in the channel: a retry button would puzzle.
                tracing::warn!(step = %step.step, error, "could not capture a message");
                return;
            }
            let Some(channel) = channel_id(step.detail) else {
                return;
            };
            let msg = blocks::step_failed(
                &self.langs(),
                &step.detail.incident.number.to_string(),
                step.step.kind.name(),
                error,
                &step.step.to_string(),
            );
            if let Err(e) = self.client.chat_post_message(channel, &msg, None).await {
                tracing::warn!(error = %e, step = %step.step, "could not report a failed step");
            }
        })
    }
}
