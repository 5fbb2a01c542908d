//! A small Slack Web API client with typed results and classified errors.
//!
//! Every call is a `POST {base_url}{method}` with an `application/x-www-form-urlencoded`
//! body and `Authorization: Bearer <bot token>`; structured arguments (`blocks`, `view`)
//! are JSON-encoded strings, as the method descriptions say. Form encoding is accepted by
//! every Web API method, including the read methods that refuse JSON bodies.
//!
//! The bot token is a [`Secret`]: it is only exposed to build the header (which reqwest
//! marks sensitive) and never appears in `Debug` output, errors or logs.

use crate::blocks::SlackMessage;
use crate::payload::FileRef;
use muster_core::Secret;
use muster_core::time::Timestamp;
use muster_engine::CapturedMessage;
use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;

/// Slack's production Web API.
pub const DEFAULT_BASE_URL: &str = "https://slack.com/api/";
/// Default time limit for one call, connection included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Used when a 429 answer carries no usable `Retry-After`.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);

/// Slack `error` codes that describe a temporary condition on Slack's side.
const RETRYABLE_API_ERRORS: &[&str] = &[
    "ratelimited",
    "rate_limited",
    "service_unavailable",
    "fatal_error",
    "internal_error",
    "request_timeout",
    "too_many_requests",
    "team_added_to_org",
    "org_login_required",
];

/// A failed Web API call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlackError {
    /// Slack answered `{"ok": false, "error": ...}`, e.g. `name_taken`,
    /// `already_in_channel`, `channel_not_found`, `invalid_auth`.
    #[error("Slack {method} failed: {error}")]
    Api { method: String, error: String },
    /// HTTP 429: try again after `retry_after`.
    #[error("Slack {method} is rate limited; retry after {retry_after:?}")]
    RateLimited {
        method: String,
        retry_after: Duration,
    },
    /// Any other non-success HTTP status (5xx, 404 from a proxy, ...).
    #[error("Slack {method} answered HTTP {status}")]
    Http { method: String, status: u16 },
    /// The call did not complete within the timeout. It may or may not have taken effect.
    #[error("Slack {method} timed out")]
    Timeout { method: String },
    /// The connection failed (DNS, refused, reset, TLS).
    #[error("Slack {method} could not be reached: {detail}")]
    Transport { method: String, detail: String },
    /// Slack answered something we could not read.
    #[error("Slack {method} answered an unexpected body: {detail}")]
    Decode { method: String, detail: String },
    /// The client configuration is unusable (bad base URL, empty token).
    #[error("invalid Slack client configuration: {0}")]
    Config(String),
}

impl SlackError {
    /// Is trying the same call again later likely to succeed? True for rate limits,
    /// 5xx and 408 statuses, timeouts, transport failures and Slack's temporary error
    /// codes; false for everything that needs a different request (`name_taken`,
    /// `channel_not_found`, `invalid_auth`, 4xx ...).
    pub fn is_retryable(&self) -> bool {
        match self {
            SlackError::RateLimited { .. }
            | SlackError::Timeout { .. }
            | SlackError::Transport { .. } => true,
            SlackError::Http { status, .. } => *status >= 500 || *status == 408,
            SlackError::Api { error, .. } => RETRYABLE_API_ERRORS.contains(&error.as_str()),
            SlackError::Decode { .. } | SlackError::Config(_) => false,
        }
    }

    /// How long to wait before attempt number `attempt + 1` (attempt counts from 1), or
    /// None when retrying cannot help. Rate limits wait what Slack asked (`Retry-After`);
    /// other temporary failures back off exponentially: 1 s, 2 s, 4 s… capped at 60 s.
    /// Deterministic: add jitter in the caller if many workers retry together.
    pub fn retry_delay(&self, attempt: u32) -> Option<Duration> {
        if !self.is_retryable() {
            return None;
        }
        if let Some(after) = self.retry_after() {
            return Some(after);
        }
        let exp = attempt.saturating_sub(1).min(6);
        Some(Duration::from_secs(1u64 << exp).min(Duration::from_secs(60)))
    }

    /// How long Slack asked us to wait, for rate limits.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SlackError::RateLimited { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// The Slack error code, for `Api` errors.
    pub fn api_error(&self) -> Option<&str> {
        match self {
            SlackError::Api { error, .. } => Some(error),
            _ => None,
        }
    }

    /// True for an `Api` error with this code.
    pub fn is_api_error(&self, code: &str) -> bool {
        self.api_error() == Some(code)
    }

    /// The method that failed (empty for `Config`).
    pub fn method(&self) -> &str {
        match self {
            SlackError::Api { method, .. }
            | SlackError::RateLimited { method, .. }
            | SlackError::Http { method, .. }
            | SlackError::Timeout { method }
            | SlackError::Transport { method, .. }
            | SlackError::Decode { method, .. } => method,
            SlackError::Config(_) => "",
        }
    }
}

/// How to reach Slack.
#[derive(Debug, Clone)]
pub struct SlackClientConfig {
    /// The Web API base URL, ending in `/api/` for Slack itself. A missing trailing slash
    /// is added.
    pub base_url: String,
    /// The bot token (`xoxb-...`).
    pub token: Secret,
    /// Time limit for each call.
    pub timeout: Duration,
}

impl SlackClientConfig {
    /// Slack's production API with the default timeout.
    pub fn new(token: Secret) -> Self {
        SlackClientConfig {
            base_url: DEFAULT_BASE_URL.to_owned(),
            token,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// The Slack Web API client. Cheap to clone (the connection pool is shared).
#[derive(Debug, Clone)]
pub struct SlackClient {
    http: reqwest::Client,
    base: reqwest::Url,
    token: Secret,
    timeout: Duration,
}

/// A conversation, as the `conversations.*` methods describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    pub id: String,
    pub name: String,
    pub is_private: bool,
    pub is_archived: bool,
    pub is_member: bool,
    pub topic: String,
    pub purpose: String,
    /// The user who created it (our bot, for incident channels).
    pub creator: String,
}

/// Where a posted message lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostedMessage {
    pub channel: String,
    pub ts: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Bookmark {
    pub id: String,
    pub channel_id: String,
    pub title: String,
    #[serde(default)]
    pub link: Option<String>,
}

/// An opened or updated view.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ViewRef {
    pub id: String,
    #[serde(default)]
    pub hash: Option<String>,
    #[serde(default)]
    pub external_id: Option<String>,
}

/// A workspace member (the fields Muster uses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackUser {
    pub id: String,
    pub name: String,
    pub real_name: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub tz: Option<String>,
    pub locale: Option<String>,
    pub is_bot: bool,
    pub deleted: bool,
}

/// The timeline's source key of a Slack message, stable across edits: `slack:{channel}:{ts}`.
pub fn capture_key(channel: &str, ts: &str) -> String {
    format!("slack:{channel}:{ts}")
}

/// What [`SlackClient::conversations_invite_idempotent`] did for each user.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InviteOutcome {
    pub invited: Vec<String>,
    pub already_in: Vec<String>,
    /// Users Slack would not add, with its error code (`user_not_found`…).
    pub refused: Vec<(String, String)>,
}

/// `conversations.invite` errors about one of the users rather than the channel.
const PER_USER_INVITE_ERRORS: &[&str] = &[
    "already_in_channel",
    "user_not_found",
    "cant_invite_self",
    "cant_invite",
    "user_is_restricted",
    "ura_max_channels",
    "invitee_cant_see_channel",
    "org_user_not_in_team",
    "no_user",
];

fn is_per_user_invite_error(e: &SlackError) -> bool {
    e.api_error()
        .is_some_and(|code| PER_USER_INVITE_ERRORS.contains(&code))
}

/// One message read back from a conversation (`conversations.history` or
/// `conversations.replies`): what a timeline entry needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryMessage {
    pub ts: String,
    /// The author, for people's messages.
    pub user: Option<String>,
    /// For messages posted by an app or integration.
    pub bot_id: Option<String>,
    pub text: String,
    /// The thread's parent `ts`, for messages in a thread.
    pub thread_ts: Option<String>,
    pub files: Vec<FileRef>,
    /// Legacy attachments: their `fallback` text (else `text`, else `title`) and link.
    pub attachments: Vec<AttachmentRef>,
}

/// A legacy message attachment, reduced to a line of text and a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentRef {
    pub fallback: String,
    pub link: Option<String>,
}

/// When a Slack message was posted, from its `ts` (`seconds.microseconds`, UTC).
pub fn ts_time(ts: &str) -> Option<Timestamp> {
    let (secs, frac) = ts.split_once('.').unwrap_or((ts, ""));
    if secs.is_empty() || !secs.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 9 {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let nanos: u32 = format!("{frac:0<9}").parse().ok()?;
    Timestamp::from_timestamp(secs.parse().ok()?, nanos)
}

impl HistoryMessage {
    /// Who wrote it: the user id, else the app's bot id.
    pub fn author_id(&self) -> Option<&str> {
        self.user.as_deref().or(self.bot_id.as_deref())
    }

    /// When it was posted (None for a `ts` that is not a Slack timestamp).
    pub fn posted_at(&self) -> Option<Timestamp> {
        ts_time(&self.ts)
    }

    /// The message as a timeline entry for `Engine::capture_message`: source key
    /// `slack:{channel}:{ts}`, posted time, text with attachments, file and attachment
    /// links. `author` is the name to show (from `users.info`, else [`author_id`]);
    /// `permalink` from `chat.getPermalink`. None if the `ts` is not a Slack timestamp.
    ///
    /// [`author_id`]: HistoryMessage::author_id
    pub fn to_captured(
        &self,
        channel: &str,
        author: &str,
        permalink: Option<String>,
    ) -> Option<CapturedMessage> {
        Some(CapturedMessage {
            source_key: capture_key(channel, &self.ts),
            author: author.to_owned(),
            at: self.posted_at()?,
            text: self.text_with_attachments(),
            permalink,
            files: self.links(),
        })
    }

    /// Links to the message's files (permalink, else the private URL) and attachments,
    /// each once, in order.
    pub fn links(&self) -> Vec<String> {
        let files = self
            .files
            .iter()
            .filter_map(|f| f.permalink.clone().or_else(|| f.url_private.clone()));
        let attachments = self.attachments.iter().filter_map(|a| a.link.clone());
        let mut out: Vec<String> = Vec::new();
        for l in files.chain(attachments) {
            if !out.contains(&l) {
                out.push(l);
            }
        }
        out
    }

    /// The text with each attachment's fallback text on a line of its own (an alert
    /// posted as attachments often has no text of its own).
    pub fn text_with_attachments(&self) -> String {
        let mut out = self.text.trim().to_owned();
        for a in &self.attachments {
            let f = a.fallback.trim();
            if !f.is_empty() && !out.contains(f) {
                if !out.is_empty() {
                    out.push('\n');
                }
                out.push_str(f);
            }
        }
        out
    }
}

/// The identity behind the token (`auth.test`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AuthInfo {
    pub url: String,
    pub team: String,
    pub user: String,
    pub team_id: String,
    pub user_id: String,
    #[serde(default)]
    pub bot_id: Option<String>,
}

/// Install rustls' ring provider as the process-wide default, unless one is installed
/// already. [`SlackClient::new`] calls it; call it yourself before building any other
/// reqwest client in a binary or test that uses this crate's reqwest features.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Arguments of one call: names and already-encoded values.
type Args = Vec<(&'static str, String)>;

impl SlackClient {
    /// Build a client. Installs rustls' ring provider as the process default if none is
    /// installed yet (so the binary carries one TLS provider only).
    pub fn new(config: SlackClientConfig) -> Result<Self, SlackError> {
        install_crypto_provider();
        let mut base = config.base_url.trim().to_owned();
        if !base.ends_with('/') {
            base.push('/');
        }
        let base = reqwest::Url::parse(&base)
            .map_err(|e| SlackError::Config(format!("base URL {base:?}: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(SlackError::Config(format!(
                "base URL scheme must be http or https, not {}",
                base.scheme()
            )));
        }
        if config.token.is_empty() {
            return Err(SlackError::Config("the bot token is empty".into()));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(config.timeout)
            .user_agent(concat!("muster/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SlackError::Config(format!("HTTP client: {e}")))?;
        Ok(SlackClient {
            http,
            base,
            token: config.token,
            timeout: config.timeout,
        })
    }

    /// The base URL calls go to.
    pub fn base_url(&self) -> &str {
        self.base.as_str()
    }

    /// A copy of this client with another per-call timeout.
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        SlackClient {
            timeout,
            ..self.clone()
        }
    }

    /// A copy of this client that calls with another token (the app-level `xapp-` token
    /// for [`SlackClient::apps_connections_open`]).
    pub fn with_token(&self, token: Secret) -> Self {
        SlackClient {
            token,
            ..self.clone()
        }
    }

    /// `apps.connections.open`: a fresh Socket Mode WebSocket URL (call with the app-level
    /// token, see [`SlackClient::with_token`]). The URL holds a one-time ticket: never log it.
    pub async fn apps_connections_open(&self) -> Result<Secret, SlackError> {
        let body = self.call("apps.connections.open", &[]).await?;
        body.get("url")
            .and_then(Value::as_str)
            .map(Secret::new)
            .ok_or_else(|| SlackError::Decode {
                method: "apps.connections.open".into(),
                detail: "no `url` in the answer".into(),
            })
    }

    /// Call any Web API method with form arguments; returns the whole JSON answer when
    /// `ok` is true. The typed methods below are built on this.
    pub async fn call(&self, method: &str, args: &[(&str, String)]) -> Result<Value, SlackError> {
        let url = self
            .base
            .join(method)
            .map_err(|e| SlackError::Config(format!("method {method}: {e}")))?;
        let started = std::time::Instant::now();
        let result = self
            .http
            .post(url)
            .bearer_auth(self.token.expose())
            .timeout(self.timeout)
            .form(args)
            .send()
            .await;
        let response = match result {
            Ok(r) => r,
            Err(e) => return Err(transport_error(method, &e)),
        };
        let status = response.status();
        if status.as_u16() == 429 {
            let retry_after = parse_retry_after(response.headers().get("retry-after"));
            tracing::debug!(method, ?retry_after, "slack call rate limited");
            return Err(SlackError::RateLimited {
                method: method.to_owned(),
                retry_after,
            });
        }
        if !status.is_success() {
            tracing::debug!(method, status = status.as_u16(), "slack call failed");
            return Err(SlackError::Http {
                method: method.to_owned(),
                status: status.as_u16(),
            });
        }
        let retry_header = response.headers().get("retry-after").cloned();
        let bytes = match response.bytes().await {
            Ok(b) => b,
            Err(e) => return Err(transport_error(method, &e)),
        };
        let body: Value = serde_json::from_slice(&bytes).map_err(|e| SlackError::Decode {
            method: method.to_owned(),
            detail: e.to_string(),
        })?;
        if body.get("ok").and_then(Value::as_bool) == Some(true) {
            tracing::debug!(
                method,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "slack call ok"
            );
            return Ok(body);
        }
        let error = body
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("unknown_error")
            .to_owned();
        let messages = body
            .pointer("/response_metadata/messages")
            .map(Value::to_string)
            .unwrap_or_default();
        tracing::debug!(method, error = %error, %messages, "slack call refused");
        if error == "ratelimited" {
            return Err(SlackError::RateLimited {
                method: method.to_owned(),
                retry_after: parse_retry_after(retry_header.as_ref()),
            });
        }
        Err(SlackError::Api {
            method: method.to_owned(),
            error,
        })
    }

    pub(crate) async fn call_typed<T: for<'de> Deserialize<'de>>(
        &self,
        method: &str,
        args: &Args,
        field: &str,
    ) -> Result<T, SlackError> {
        let pairs: Vec<(&str, String)> = args.iter().map(|(k, v)| (*k, v.clone())).collect();
        let body = self.call(method, &pairs).await?;
        let value = body.get(field).cloned().ok_or_else(|| SlackError::Decode {
            method: method.to_owned(),
            detail: format!("no `{field}` in the answer"),
        })?;
        serde_json::from_value(value).map_err(|e| SlackError::Decode {
            method: method.to_owned(),
            detail: e.to_string(),
        })
    }

    async fn call_args(&self, method: &str, args: &Args) -> Result<Value, SlackError> {
        let pairs: Vec<(&str, String)> = args.iter().map(|(k, v)| (*k, v.clone())).collect();
        self.call(method, &pairs).await
    }

    async fn channel_call(&self, method: &str, args: &Args) -> Result<Channel, SlackError> {
        let raw: RawChannel = self.call_typed(method, args, "channel").await?;
        Ok(raw.into())
    }

    // --- auth -------------------------------------------------------------------------

    /// `auth.test`: who the token belongs to. A good first call to check a token.
    pub async fn auth_test(&self) -> Result<AuthInfo, SlackError> {
        let body = self.call("auth.test", &[]).await?;
        serde_json::from_value(body).map_err(|e| SlackError::Decode {
            method: "auth.test".into(),
            detail: e.to_string(),
        })
    }

    // --- conversations ----------------------------------------------------------------

    /// `conversations.create`. Fails with `Api { error: "name_taken" }` when any channel,
    /// archived ones included, already has the name.
    pub async fn conversations_create(
        &self,
        name: &str,
        is_private: bool,
    ) -> Result<Channel, SlackError> {
        let args = vec![
            ("name", name.to_owned()),
            ("is_private", is_private.to_string()),
        ];
        self.channel_call("conversations.create", &args).await
    }

    /// `conversations.invite` with up to 1000 user ids.
    pub async fn conversations_invite(
        &self,
        channel: &str,
        users: &[&str],
    ) -> Result<Channel, SlackError> {
        let args = vec![("channel", channel.to_owned()), ("users", users.join(","))];
        self.channel_call("conversations.invite", &args).await
    }

    /// Invite `users` so that each ends up a member, whatever happened before (a
    /// retried step, a user who joined on their own). One bulk call; if Slack refuses it
    /// for a reason about some user (`already_in_channel`, `user_not_found`…), each user
    /// is invited on their own. Errors about the channel or the call itself (not found,
    /// archived, rate limited, timeout…) are returned as errors.
    pub async fn conversations_invite_idempotent(
        &self,
        channel: &str,
        users: &[&str],
    ) -> Result<InviteOutcome, SlackError> {
        let mut outcome = InviteOutcome::default();
        let mut unique: Vec<&str> = vec![];
        for u in users {
            if !unique.contains(u) {
                unique.push(u);
            }
        }
        if unique.is_empty() {
            return Ok(outcome);
        }
        match self.conversations_invite(channel, &unique).await {
            Ok(_) => {
                outcome.invited = unique.iter().map(|u| (*u).to_owned()).collect();
                return Ok(outcome);
            }
            Err(e) if is_per_user_invite_error(&e) => {}
            Err(e) => return Err(e),
        }
        for user in unique {
            match self.conversations_invite(channel, &[user]).await {
                Ok(_) => outcome.invited.push(user.to_owned()),
                Err(e) if e.is_api_error("already_in_channel") => {
                    outcome.already_in.push(user.to_owned())
                }
                Err(e) if is_per_user_invite_error(&e) => outcome.refused.push((
                    user.to_owned(),
                    e.api_error().unwrap_or_default().to_owned(),
                )),
                Err(e) => return Err(e),
            }
        }
        Ok(outcome)
    }

    pub async fn conversations_set_topic(
        &self,
        channel: &str,
        topic: &str,
    ) -> Result<(), SlackError> {
        let args = vec![("channel", channel.to_owned()), ("topic", topic.to_owned())];
        self.call_args("conversations.setTopic", &args)
            .await
            .map(drop)
    }

    pub async fn conversations_set_purpose(
        &self,
        channel: &str,
        purpose: &str,
    ) -> Result<(), SlackError> {
        let args = vec![
            ("channel", channel.to_owned()),
            ("purpose", purpose.to_owned()),
        ];
        self.call_args("conversations.setPurpose", &args)
            .await
            .map(drop)
    }

    pub async fn conversations_archive(&self, channel: &str) -> Result<(), SlackError> {
        let args = vec![("channel", channel.to_owned())];
        self.call_args("conversations.archive", &args)
            .await
            .map(drop)
    }

    pub async fn conversations_info(&self, channel: &str) -> Result<Channel, SlackError> {
        let args = vec![("channel", channel.to_owned())];
        self.channel_call("conversations.info", &args).await
    }

    pub async fn conversations_join(&self, channel: &str) -> Result<Channel, SlackError> {
        let args = vec![("channel", channel.to_owned())];
        self.channel_call("conversations.join", &args).await
    }

    /// The message `ts` of `channel` (`conversations.history` with `latest=ts`,
    /// `inclusive=true`, `limit=1`), or None when there is no such message in the
    /// channel's history. Thread replies are not in the history: use
    /// [`SlackClient::conversations_replies_message`] for those (or when this answers
    /// None).
    pub async fn conversations_history_message(
        &self,
        channel: &str,
        ts: &str,
    ) -> Result<Option<HistoryMessage>, SlackError> {
        let args = vec![
            ("channel", channel.to_owned()),
            ("latest", ts.to_owned()),
            ("inclusive", "true".to_owned()),
            ("limit", "1".to_owned()),
        ];
        let messages: Vec<RawHistoryMessage> = self
            .call_typed("conversations.history", &args, "messages")
            .await?;
        Ok(pick(messages, ts))
    }

    /// The message `ts` of `channel`, which may be a thread reply
    /// (`conversations.replies` with `ts`, narrowed to that message with
    /// `oldest`/`latest`/`inclusive`). None when Slack has no such thread
    /// (`thread_not_found`) or the answer does not hold that message.
    pub async fn conversations_replies_message(
        &self,
        channel: &str,
        ts: &str,
    ) -> Result<Option<HistoryMessage>, SlackError> {
        let args = vec![
            ("channel", channel.to_owned()),
            ("ts", ts.to_owned()),
            ("oldest", ts.to_owned()),
            ("latest", ts.to_owned()),
            ("inclusive", "true".to_owned()),
        ];
        match self
            .call_typed::<Vec<RawHistoryMessage>>("conversations.replies", &args, "messages")
            .await
        {
            Ok(messages) => Ok(pick(messages, ts)),
            Err(e) if e.is_api_error("thread_not_found") => Ok(None),
            Err(e) => Err(e),
        }
    }

    // --- chat -------------------------------------------------------------------------

    /// `chat.postMessage`; `thread_ts` posts a reply in a thread.
    pub async fn chat_post_message(
        &self,
        channel: &str,
        message: &SlackMessage,
        thread_ts: Option<&str>,
    ) -> Result<PostedMessage, SlackError> {
        self.post(channel, message, thread_ts, None).await
    }

    /// `chat.postMessage` with `metadata` (`event_type`, `event_payload`).
    pub(crate) async fn post(
        &self,
        channel: &str,
        message: &SlackMessage,
        thread_ts: Option<&str>,
        metadata: Option<&Value>,
    ) -> Result<PostedMessage, SlackError> {
        let mut args = vec![("channel", channel.to_owned())];
        push_message(&mut args, message);
        if let Some(ts) = thread_ts {
            args.push(("thread_ts", ts.to_owned()));
        }
        if let Some(m) = metadata {
            args.push(("metadata", m.to_string()));
        }
        let body = self.call_args("chat.postMessage", &args).await?;
        posted(&body, "chat.postMessage", "ts")
    }

    /// `chat.update`: replace the text and blocks of a message the bot posted.
    pub async fn chat_update(
        &self,
        channel: &str,
        ts: &str,
        message: &SlackMessage,
    ) -> Result<PostedMessage, SlackError> {
        let mut args = vec![("channel", channel.to_owned()), ("ts", ts.to_owned())];
        push_message(&mut args, message);
        let body = self.call_args("chat.update", &args).await?;
        posted(&body, "chat.update", "ts")
    }

    /// `chat.postEphemeral`: a message only `user` sees. Returns its `message_ts`.
    pub async fn chat_post_ephemeral(
        &self,
        channel: &str,
        user: &str,
        message: &SlackMessage,
    ) -> Result<String, SlackError> {
        let mut args = vec![("channel", channel.to_owned()), ("user", user.to_owned())];
        push_message(&mut args, message);
        self.call_typed("chat.postEphemeral", &args, "message_ts")
            .await
    }

    /// `chat.getPermalink`: the URL of a message.
    pub async fn chat_get_permalink(
        &self,
        channel: &str,
        message_ts: &str,
    ) -> Result<String, SlackError> {
        let args = vec![
            ("channel", channel.to_owned()),
            ("message_ts", message_ts.to_owned()),
        ];
        self.call_typed("chat.getPermalink", &args, "permalink")
            .await
    }

    // --- bookmarks --------------------------------------------------------------------

    /// `bookmarks.add` of a link.
    pub async fn bookmarks_add(
        &self,
        channel_id: &str,
        title: &str,
        link: &str,
    ) -> Result<Bookmark, SlackError> {
        let args = vec![
            ("channel_id", channel_id.to_owned()),
            ("title", title.to_owned()),
            ("type", "link".to_owned()),
            ("link", link.to_owned()),
        ];
        self.call_typed("bookmarks.add", &args, "bookmark").await
    }

    /// A user's name as people know it (display name, else real name, else handle), or
    /// the id itself when Slack cannot say: good enough for a timeline, never an error.
    pub async fn display_name(&self, id: &str) -> String {
        match self.users_info(id).await {
            Ok(u) => u
                .display_name
                .filter(|d| !d.is_empty())
                .or(u.real_name.filter(|r| !r.is_empty()))
                .unwrap_or(u.name),
            Err(_) => id.to_owned(),
        }
    }

    /// `bookmarks.list` of a channel.
    pub async fn bookmarks_list(&self, channel_id: &str) -> Result<Vec<Bookmark>, SlackError> {
        let args = vec![("channel_id", channel_id.to_owned())];
        self.call_typed("bookmarks.list", &args, "bookmarks").await
    }

    // --- views ------------------------------------------------------------------------

    /// `views.open` with a trigger id from a slash command, shortcut or block action.
    pub async fn views_open(&self, trigger_id: &str, view: &Value) -> Result<ViewRef, SlackError> {
        let args = vec![
            ("trigger_id", trigger_id.to_owned()),
            ("view", view.to_string()),
        ];
        self.call_typed("views.open", &args, "view").await
    }

    /// `views.update` of an open view. With `hash`, Slack refuses (`hash_conflict`) when
    /// the view changed since that hash was issued.
    pub async fn views_update(
        &self,
        view_id: &str,
        hash: Option<&str>,
        view: &Value,
    ) -> Result<ViewRef, SlackError> {
        let mut args = vec![("view_id", view_id.to_owned()), ("view", view.to_string())];
        if let Some(h) = hash {
            args.push(("hash", h.to_owned()));
        }
        self.call_typed("views.update", &args, "view").await
    }

    // --- users ------------------------------------------------------------------------

    pub async fn users_info(&self, user: &str) -> Result<SlackUser, SlackError> {
        let args = vec![("user", user.to_owned())];
        let raw: RawUser = self.call_typed("users.info", &args, "user").await?;
        Ok(raw.into())
    }

    /// `usergroups.users.list`: the user ids of a user group (`S...`).
    pub async fn usergroups_users_list(&self, usergroup: &str) -> Result<Vec<String>, SlackError> {
        let args = vec![("usergroup", usergroup.to_owned())];
        self.call_typed("usergroups.users.list", &args, "users")
            .await
    }
}

fn push_message(args: &mut Args, message: &SlackMessage) {
    args.push(("text", message.text.clone()));
    if !message.blocks.is_empty() {
        args.push(("blocks", Value::Array(message.blocks.clone()).to_string()));
    }
}

fn posted(body: &Value, method: &str, ts_field: &str) -> Result<PostedMessage, SlackError> {
    let get = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
    match (get("channel"), get(ts_field)) {
        (Some(channel), Some(ts)) => Ok(PostedMessage { channel, ts }),
        _ => Err(SlackError::Decode {
            method: method.to_owned(),
            detail: format!("no `channel` or `{ts_field}` in the answer"),
        }),
    }
}

fn transport_error(method: &str, e: &reqwest::Error) -> SlackError {
    if e.is_timeout() {
        return SlackError::Timeout {
            method: method.to_owned(),
        };
    }
    // The error and its causes, without the URL (short, stable messages).
    let mut detail = e.to_string();
    if let Some(url) = e.url() {
        detail = detail.replace(url.as_str(), "<url>");
    }
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    SlackError::Transport {
        method: method.to_owned(),
        detail,
    }
}

/// `Retry-After` as Slack sends it: whole seconds. Anything else falls back to one second.
fn parse_retry_after(value: Option<&reqwest::header::HeaderValue>) -> Duration {
    value
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_RETRY_AFTER)
}

/// The message with exactly this `ts` (Slack answers the nearest one otherwise).
fn pick(messages: Vec<RawHistoryMessage>, ts: &str) -> Option<HistoryMessage> {
    messages.into_iter().find(|m| m.ts == ts).map(Into::into)
}

#[derive(Deserialize)]
struct RawHistoryMessage {
    ts: String,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    bot_id: Option<String>,
    /// Escaped by Slack like event text; decoded once here.
    #[serde(default, deserialize_with = "crate::payload::slack_text")]
    text: String,
    #[serde(default)]
    thread_ts: Option<String>,
    #[serde(default)]
    files: Vec<FileRef>,
    #[serde(default)]
    attachments: Vec<RawAttachment>,
}

#[derive(Deserialize)]
struct RawAttachment {
    #[serde(default)]
    fallback: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    title_link: Option<String>,
    #[serde(default)]
    from_url: Option<String>,
    #[serde(default)]
    original_url: Option<String>,
}

impl From<RawHistoryMessage> for HistoryMessage {
    fn from(r: RawHistoryMessage) -> Self {
        let nonempty = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
        // Attachment text is escaped like message text.
        let decoded = |s: Option<String>| nonempty(s).map(|s| crate::payload::decode_entities(&s));
        HistoryMessage {
            ts: r.ts,
            user: r.user,
            bot_id: r.bot_id,
            text: r.text,
            thread_ts: r.thread_ts,
            files: r.files,
            attachments: r
                .attachments
                .into_iter()
                .map(|a| AttachmentRef {
                    fallback: decoded(a.fallback)
                        .or(decoded(a.text))
                        .or(decoded(a.title))
                        .unwrap_or_default(),
                    link: nonempty(a.title_link)
                        .or(nonempty(a.from_url))
                        .or(nonempty(a.original_url)),
                })
                .collect(),
        }
    }
}

#[derive(Deserialize)]
struct TextValue {
    #[serde(default)]
    value: String,
}

#[derive(Deserialize)]
pub(crate) struct RawChannel {
    id: String,
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default)]
    is_private: bool,
    #[serde(default)]
    is_archived: bool,
    #[serde(default)]
    is_member: bool,
    #[serde(default)]
    topic: Option<TextValue>,
    #[serde(default)]
    purpose: Option<TextValue>,
    #[serde(default)]
    creator: String,
}

impl From<RawChannel> for Channel {
    fn from(r: RawChannel) -> Self {
        Channel {
            id: r.id,
            name: r.name,
            is_private: r.is_private,
            is_archived: r.is_archived,
            is_member: r.is_member,
            topic: r.topic.map(|t| t.value).unwrap_or_default(),
            purpose: r.purpose.map(|t| t.value).unwrap_or_default(),
            creator: r.creator,
        }
    }
}

#[derive(Deserialize, Default)]
struct RawProfile {
    #[serde(default)]
    real_name: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

#[derive(Deserialize)]
struct RawUser {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    real_name: Option<String>,
    #[serde(default)]
    tz: Option<String>,
    #[serde(default)]
    locale: Option<String>,
    #[serde(default)]
    is_bot: bool,
    #[serde(default)]
    deleted: bool,
    #[serde(default)]
    profile: Option<RawProfile>,
}

impl From<RawUser> for SlackUser {
    fn from(r: RawUser) -> Self {
        let p = r.profile.unwrap_or_default();
        SlackUser {
            id: r.id,
            name: r.name,
            real_name: r.real_name.or(p.real_name),
            display_name: p.display_name.filter(|s| !s.is_empty()),
            email: p.email,
            tz: r.tz,
            locale: r.locale,
            is_bot: r.is_bot,
            deleted: r.deleted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_classification() {
        let api = |e: &str| SlackError::Api {
            method: "m".into(),
            error: e.into(),
        };
        let http = |s: u16| SlackError::Http {
            method: "m".into(),
            status: s,
        };
        assert!(!api("name_taken").is_retryable());
        assert!(!api("invalid_auth").is_retryable());
        assert!(!api("channel_not_found").is_retryable());
        assert!(api("service_unavailable").is_retryable());
        assert!(api("fatal_error").is_retryable());
        assert!(http(500).is_retryable());
        assert!(http(503).is_retryable());
        assert!(http(408).is_retryable());
        assert!(!http(404).is_retryable());
        assert!(!http(400).is_retryable());
        let rl = SlackError::RateLimited {
            method: "m".into(),
            retry_after: Duration::from_secs(7),
        };
        assert!(rl.is_retryable());
        assert_eq!(rl.retry_after(), Some(Duration::from_secs(7)));
        assert!(SlackError::Timeout { method: "m".into() }.is_retryable());
        assert!(!SlackError::Config("x".into()).is_retryable());
        assert!(api("name_taken").is_api_error("name_taken"));
    }

    #[test]
    fn history_messages_read_files_and_attachments() {
        let raw: RawHistoryMessage = serde_json::from_value(serde_json::json!({
            "type": "message",
            "user": "U222BBB222",
            "text": "Isn't this whether dreadful? <https://badpuns.example.com/puns/123>",
            "attachments": [{
                "service_name": "Leg end nary a laugh, Ink.",
                "text": "This is likely a pun about the weather.",
                "fallback": "We're withholding a pun from you",
                "from_url": "https://badpuns.example.com/puns/123",
                "id": 1
            }],
            "files": [
                { "id": "F1", "name": "a.png", "permalink": "https://x.slack.com/files/U2/F1/a.png",
                  "url_private": "https://files.slack.com/files-pri/T1-F1/a.png" },
                { "id": "F2", "name": "b.txt", "url_private": "https://files.slack.com/files-pri/T1-F2/b.txt" }
            ],
            "ts": "1512085950.218404"
        }))
        .unwrap();
        let m = HistoryMessage::from(raw);
        assert_eq!(m.user.as_deref(), Some("U222BBB222"));
        assert_eq!(
            m.attachments[0].fallback,
            "We're withholding a pun from you"
        );
        assert_eq!(
            m.links(),
            [
                "https://x.slack.com/files/U2/F1/a.png",
                "https://files.slack.com/files-pri/T1-F2/b.txt",
                "https://badpuns.example.com/puns/123",
            ]
        );
        assert!(
            m.text_with_attachments()
                .ends_with("\nWe're withholding a pun from you")
        );
        let empty = HistoryMessage {
            text: String::new(),
            ..m.clone()
        };
        assert_eq!(
            empty.text_with_attachments(),
            "We're withholding a pun from you"
        );
        let c = m
            .to_captured(
                "C1",
                "Bob",
                Some("https://x.slack.com/archives/C1/p1".into()),
            )
            .unwrap();
        assert_eq!(c.source_key, "slack:C1:1512085950.218404");
        assert_eq!(c.author, "Bob");
        assert_eq!(c.files, m.links());
        assert_eq!(c.text, m.text_with_attachments());
        assert_eq!(
            muster_core::time::to_storage(c.at),
            "2017-11-30T23:52:30.218404Z"
        );
        assert_eq!(m.author_id(), Some("U222BBB222"));
    }

    #[test]
    fn slack_timestamps() {
        let t = ts_time("1764000000.001000").unwrap();
        assert_eq!(t.timestamp(), 1_764_000_000);
        assert_eq!(t.timestamp_subsec_micros(), 1000);
        assert_eq!(ts_time("1764000000").unwrap().timestamp(), 1_764_000_000);
        for bad in ["", ".5", "abc.1", "1.2.3", "1.-5", "1.1234567890"] {
            assert_eq!(ts_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn retry_delays() {
        let rl = SlackError::RateLimited {
            method: "m".into(),
            retry_after: Duration::from_secs(13),
        };
        assert_eq!(rl.retry_delay(1), Some(Duration::from_secs(13)));
        assert_eq!(rl.retry_delay(9), Some(Duration::from_secs(13)));
        let t = SlackError::Timeout { method: "m".into() };
        let delays: Vec<u64> = (1..=9)
            .map(|a| t.retry_delay(a).unwrap().as_secs())
            .collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        let taken = SlackError::Api {
            method: "m".into(),
            error: "name_taken".into(),
        };
        assert_eq!(taken.retry_delay(1), None);
    }

    #[test]
    fn retry_after_parsing() {
        use reqwest::header::HeaderValue;
        assert_eq!(
            parse_retry_after(Some(&HeaderValue::from_static("30"))),
            Duration::from_secs(30)
        );
        assert_eq!(
            parse_retry_after(Some(&HeaderValue::from_static(" 2 "))),
            Duration::from_secs(2)
        );
        assert_eq!(
            parse_retry_after(Some(&HeaderValue::from_static("soon"))),
            DEFAULT_RETRY_AFTER
        );
        assert_eq!(parse_retry_after(None), DEFAULT_RETRY_AFTER);
    }

    #[test]
    fn config_is_checked_and_never_shows_the_token() {
        let token = Secret::new("xoxb-1111-2222-abcdefabcdef");
        let c = SlackClient::new(SlackClientConfig::new(token.clone())).unwrap();
        assert_eq!(c.base_url(), DEFAULT_BASE_URL);
        assert!(!format!("{c:?}").contains("xoxb"));
        let c = SlackClient::new(
            SlackClientConfig::new(token.clone()).with_base_url("http://127.0.0.1:9/api"),
        )
        .unwrap();
        assert_eq!(c.base_url(), "http://127.0.0.1:9/api/");
        assert!(matches!(
            SlackClient::new(SlackClientConfig::new(token.clone()).with_base_url("ftp://x/")),
            Err(SlackError::Config(_))
        ));
        assert!(matches!(
            SlackClient::new(SlackClientConfig::new(token).with_base_url("not a url")),
            Err(SlackError::Config(_))
        ));
        assert!(matches!(
            SlackClient::new(SlackClientConfig::new(Secret::new(""))),
            Err(SlackError::Config(_))
        ));
    }
}
