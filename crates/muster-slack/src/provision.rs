//! The provisioning workflow's steps on Slack: the [`Provisioner`] the engine's worker runs.
//!
//! Steps: `channel` first; then, independently and concurrently, `invite`, `topic`,
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

use crate::blocks::{self, AnnouncementInfo, WelcomeInfo};
use crate::client::{Channel, SlackClient, SlackError};
use crate::marks::Mark;
use muster_core::Lang;
use muster_core::config::SlackConfig;
use muster_core::incident::{ExternalRef, IncidentDetail, ResourceKind};
use muster_engine::workflow::{
    BoxFuture, FollowUps, Provisioner, Reservation, StepInput, StepOutcome,
};
use muster_store::NewJob;
use serde_json::json;
use std::time::Duration;

/// How many names to try after `name_taken` (`-2` … `-20`).
const NAME_ATTEMPTS: u32 = 20;

pub const STEP_CHANNEL: &str = "channel";
pub const STEP_INVITE: &str = "invite";
pub const STEP_TOPIC: &str = "topic";
pub const STEP_BOOKMARKS: &str = "bookmarks";
pub const STEP_WELCOME: &str = "welcome";
pub const STEP_ANNOUNCE: &str = "announce";
/// Enqueued by `close`, not by the plan.
pub const STEP_ARCHIVE: &str = "archive";
/// `refresh:<version>`: re-render the announcement with the current status and severity.
pub const STEP_REFRESH_PREFIX: &str = "refresh:";
/// `update:<n>`: post status update n under the announcement, then refresh it.
pub const STEP_UPDATE_PREFIX: &str = "update:";
/// `timeline:<event id>`: a capture emoji was added to (or removed from) a message:
/// read the message and put it on (or take it off) the timeline. Named by Slack's event
/// id, so a redelivered event finds its step already queued.
pub const STEP_TIMELINE_PREFIX: &str = "timeline:";

/// The `timeline:` step's input.
pub fn timeline_input(channel: &str, ts: &str, removed: bool) -> serde_json::Value {
    json!({ "channel": channel, "ts": ts, "removed": removed })
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
        let mark = Mark {
            incident_id: &id,
            step: step.step,
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
    fn announcement(&self, step: &StepInput<'_>, channel: &str, user: String) -> AnnouncementInfo {
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

/// The Slack steps a change calls for, whoever made it (chat, web, API or CLI): a status
/// update is posted under the announcement, a new status, severity or title refreshes it,
/// closing archives the channel. Only for incidents that have a Slack channel; queued with
/// the change, in its transaction (`Engine::with_follow_ups`).
pub struct SlackFollowUps;

impl FollowUps for SlackFollowUps {
    fn plan(
        &self,
        before: &IncidentDetail,
        change: &muster_store::Change,
        version: muster_core::time::Timestamp,
    ) -> Vec<NewJob> {
        if channel_id(before).is_none() {
            return vec![];
        }
        // After the announcement exists, so there is something to refresh.
        let after_announce = |step: String, input: Option<serde_json::Value>| NewJob {
            step,
            depends_on: Some(STEP_ANNOUNCE.into()),
            input,
        };
        let mut jobs = vec![];
        if let Some(text) = &change.update {
            let n = before.updates.len() + 1;
            jobs.push(after_announce(
                format!("{STEP_UPDATE_PREFIX}{n}"),
                Some(json!({ "text": text })),
            ));
        } else if change.status.is_some() || change.severity.is_some() || change.title.is_some() {
            jobs.push(after_announce(
                format!("{STEP_REFRESH_PREFIX}{}", version.timestamp_micros()),
                None,
            ));
        }
        if change.closed_at.is_some() {
            jobs.push(NewJob {
                step: STEP_ARCHIVE.into(),
                depends_on: None,
                input: None,
            });
        }
        jobs
    }
}

/// The Slack channel recorded on the incident, once the `channel` step is done.
pub fn channel_id(d: &IncidentDetail) -> Option<&str> {
    d.resource(ResourceKind::Channel)
        .filter(|r| r.system == "slack")
        .map(|r| r.external_id.as_str())
}

/// A text value of what the workflow was started with (the declarer, a channel…).
fn input_str<'a>(step: &StepInput<'a>, key: &str) -> Option<&'a str> {
    step.input?.get(key)?.as_str()
}

fn user_id(step: &StepInput<'_>) -> Option<String> {
    input_str(step, "user_id").map(str::to_owned)
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
            system: "slack".into(),
            url: Some(format!("https://slack.com/app_redirect?channel={}", c.id)),
            external_id: c.id,
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
            input_str(step, "origin_channel"),
            input_str(step, "user_id"),
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
                tracing::warn!(error = %e, step = step.step, "could not tell people about a delay")
            }
        }
    }

    async fn timeline(&self, step: &StepInput<'_>) -> StepOutcome {
        let (Some(channel), Some(ts)) = (input_str(step, "channel"), input_str(step, "ts")) else {
            return StepOutcome::Failed("a timeline step without channel and ts".into());
        };
        let removed = step.input.and_then(|v| v.get("removed")?.as_bool());
        let recorded = if removed == Some(true) {
            let key = muster_engine::CapturedMessage::slack_key(channel, ts);
            step.ledger.uncapture(&key).await
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
        match recorded {
            Ok(_) => done(),
            // A user error (e.g. an empty message) will not get better by retrying.
            Err(e) if e.is_user_error() => StepOutcome::Failed(e.to_string()),
            Err(e) => StepOutcome::Retry {
                after: Duration::from_secs(2),
                error: e.to_string(),
            },
        }
    }
}

impl Provisioner for SlackProvisioner {
    fn plan(&self) -> Vec<NewJob> {
        let after_channel = |s: &str| NewJob {
            step: s.into(),
            depends_on: Some(STEP_CHANNEL.into()),
            input: None,
        };
        vec![
            NewJob {
                step: STEP_CHANNEL.into(),
                depends_on: None,
                input: None,
            },
            after_channel(STEP_INVITE),
            after_channel(STEP_TOPIC),
            after_channel(STEP_BOOKMARKS),
            after_channel(STEP_WELCOME),
            after_channel(STEP_ANNOUNCE),
        ]
    }

    fn run<'a>(&'a self, step: StepInput<'a>) -> BoxFuture<'a, StepOutcome> {
        Box::pin(async move {
            let d = step.detail;
            let i = &d.incident;
            match step.step {
                STEP_CHANNEL => {
                    if let Some(id) = channel_id(d) {
                        // Already created and recorded: nothing to do.
                        return StepOutcome::Done {
                            output: Some(json!({"channel_id": id})),
                            resources: vec![],
                        };
                    }
                    for attempt in 1..=NAME_ATTEMPTS {
                        let name = i.channel_name.with_collision_suffix(attempt);
                        let reserved =
                            match step.ledger.reserve(&format!("slack:channel:{name}")).await {
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
                STEP_INVITE => {
                    let Some(channel) = channel_id(d) else {
                        return no_channel();
                    };
                    let mut users: Vec<String> = user_id(&step).into_iter().collect();
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
                STEP_TOPIC => {
                    let Some(channel) = channel_id(d) else {
                        return no_channel();
                    };
                    let topic = crate::limits::truncate(
                        &format!("{} · {} · {}", i.number, i.severity, i.title),
                        250,
                    );
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
                STEP_BOOKMARKS => {
                    let Some(channel) = channel_id(d) else {
                        return no_channel();
                    };
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
                STEP_WELCOME => {
                    let Some(channel) = channel_id(d) else {
                        return no_channel();
                    };
                    let info = WelcomeInfo {
                        incident_id: i.id.to_string(),
                        number: i.number.to_string(),
                        title: i.title.to_string(),
                        severity: i.severity.clone(),
                        commander: user_id(&step).unwrap_or_default(),
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
                        update_every_minutes: 30,
                        command: self.config.command.clone(),
                    };
                    let msg = blocks::welcome_message(&info, &self.langs());
                    match self.post_once(&step, channel, None, &msg).await {
                        Ok(p) => StepOutcome::Done {
                            output: Some(json!({"ts": p.ts})),
                            resources: vec![],
                        },
                        Err(e) => retry_or_fail(e, step.attempt),
                    }
                }
                STEP_ANNOUNCE => {
                    let Some(channel) = channel_id(d) else {
                        return no_channel();
                    };
                    let user = user_id(&step).unwrap_or_default();
                    let info = self.announcement(&step, channel, user);
                    let msg = blocks::announcement_message(&info, &self.langs());
                    let mut posted = vec![];
                    for target in &self.config.announcement_channels {
                        let mut sent = self.post_once(&step, target, None, &msg).await;
                        if matches!(&sent, Err(e) if e.is_api_error("not_in_channel")) {
                            // Public announcement channels: join once, then post.
                            if let Err(e) = self.client.conversations_join(target).await {
                                return retry_or_fail(e, step.attempt);
                            }
                            sent = self.post_once(&step, target, None, &msg).await;
                        }
                        match sent {
                            Ok(p) => posted.push(json!({"channel": p.channel, "ts": p.ts})),
                            // A rerun finds the targets already posted to by their mark.
                            Err(e) => return retry_or_fail(e, step.attempt),
                        }
                    }
                    StepOutcome::Done {
                        output: Some(json!({"messages": posted, "user_id": info.declarer})),
                        resources: vec![],
                    }
                }
                s if s.starts_with(STEP_REFRESH_PREFIX) || s.starts_with(STEP_UPDATE_PREFIX) => {
                    let Some(channel) = channel_id(d) else {
                        return no_channel();
                    };
                    let posted: Vec<(String, String)> = step
                        .outputs
                        .get(STEP_ANNOUNCE)
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
                    let user = step
                        .outputs
                        .get(STEP_ANNOUNCE)
                        .and_then(|o| o.get("user_id"))
                        .and_then(|u| u.as_str())
                        .unwrap_or_default()
                        .to_owned();
                    let info = self.announcement(&step, channel, user);
                    let msg = blocks::announcement_message(&info, &self.langs());
                    let text = input_str(&step, "text").map(str::to_owned);
                    for (ch, ts) in &posted {
                        if let Some(t) = &text
                            && s.starts_with(STEP_UPDATE_PREFIX)
                        {
                            let reply = blocks::SlackMessage::text(format!(
                                "*{}* {}",
                                i.number,
                                blocks::escape(t)
                            ));
                            if let Err(e) = self.post_once(&step, ch, Some(ts), &reply).await {
                                return retry_or_fail(e, step.attempt);
                            }
                        }
                        if let Err(e) = self.client.chat_update(ch, ts, &msg).await {
                            return retry_or_fail(e, step.attempt);
                        }
                    }
                    done()
                }
                s if s.starts_with(STEP_TIMELINE_PREFIX) => self.timeline(&step).await,
                STEP_ARCHIVE => {
                    let Some(channel) = channel_id(d) else {
                        return done();
                    };
                    match self.client.conversations_archive(channel).await {
                        Ok(()) => done(),
                        Err(e) if e.is_api_error("already_archived") => done(),
                        Err(e) => retry_or_fail(e, step.attempt),
                    }
                }
                other => StepOutcome::Failed(format!("unknown step {other}")),
            }
        })
    }

    fn report_delay<'a>(
        &'a self,
        step: StepInput<'a>,
        error: &'a str,
        pending: &'a [String],
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let number = step.detail.incident.number.to_string();
            let msg = blocks::provisioning_delayed(&self.langs(), &number, error, pending);
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
            if step.step.starts_with(STEP_TIMELINE_PREFIX) {
                // Nobody asked for this one in the channel: a retry button would puzzle.
                tracing::warn!(step = step.step, error, "could not capture a message");
                return;
            }
            let Some(channel) = channel_id(step.detail) else {
                return;
            };
            let lang = self.langs()[0];
            let msg = blocks::step_failed(lang, step.step, error, step.step);
            if let Err(e) = self.client.chat_post_message(channel, &msg, None).await {
                tracing::warn!(error = %e, step = step.step, "could not report a failed step");
            }
        })
    }
}
