//! Typed parsing of what Slack sends us: slash commands, interaction payloads and Events
//! API bodies. Parse once at the edge, then trust the types.
//!
//! - [`SlashCommand::from_form`]: the form body Slack posts to `/slack/commands`.
//! - [`Interaction::from_form`]: the `payload=` form field posted to `/slack/interactions`
//!   (view submissions, block actions, message shortcuts, global shortcuts).
//! - [`EventBody::from_json`]: the JSON posted to `/slack/events` (`url_verification` and
//!   `event_callback` with its inner event).
//!
//! Kinds we do not handle parse to an `Other` variant carrying the kind and the raw JSON,
//! so a new Slack feature never turns into a parse failure. Call signature verification
//! (see [`crate::signature`]) on the raw bytes before parsing.

use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// Why a body could not be parsed. The messages never include the body itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("the form body is not valid: {0}")]
    Form(String),
    #[error("the form body has no `payload` field")]
    MissingPayload,
    #[error("the JSON is not valid or lacks a required field: {0}")]
    Json(String),
    #[error("the {kind} payload lacks a required field: {detail}")]
    Shape { kind: String, detail: String },
}

fn json_err(e: serde_json::Error) -> PayloadError {
    PayloadError::Json(e.to_string())
}

/// The `type` field every Slack payload carries.
fn type_of(raw: &Value) -> Result<String, PayloadError> {
    raw.get("type")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| PayloadError::Json("no `type` field".into()))
}

/// Decode the three entities Slack puts in the text it sends (`&amp;`, `&lt;`, `&gt;`),
/// exactly once and nothing else: `&amp;lt;` is `&lt;` typed by a person, and `&quot;` is
/// left as it came. Slack escapes `&`, `<` and `>` in command, message and event text so
/// that its own `<@U123>`, `<!channel>` and `<url|label>` sequences stand out; a person's
/// `Fixed <cache>` arrives as `Fixed &lt;cache&gt;` and is kept as they typed it. The
/// control sequences themselves pass through unchanged (the command parser reads
/// `<@U123|name>`). Output escapes again ([`crate::blocks::escape`]), so
/// `escape(decode(t)) == t` for any text without control sequences.
pub fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let (ch, len) = if tail.starts_with("&amp;") {
            ('&', 5)
        } else if tail.starts_with("&lt;") {
            ('<', 4)
        } else if tail.starts_with("&gt;") {
            ('>', 4)
        } else {
            ('&', 1)
        };
        out.push(ch);
        rest = &tail[len..];
    }
    out.push_str(rest);
    out
}

/// Deserialize a text field Slack escaped, decoding it once (see [`decode_entities`]).
pub(crate) fn slack_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    String::deserialize(d).map(|t| decode_entities(&t))
}

fn shape_err(kind: &str) -> impl Fn(serde_json::Error) -> PayloadError + '_ {
    move |e| PayloadError::Shape {
        kind: kind.to_owned(),
        detail: e.to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// Slash commands
// ---------------------------------------------------------------------------------------

/// A slash command invocation (`application/x-www-form-urlencoded`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SlashCommand {
    /// The command, with its slash, e.g. `/incident`.
    pub command: String,
    /// What the user typed after the command (may be empty), decoded: Slack sends
    /// `&lt;` for a typed `<`.
    #[serde(default, deserialize_with = "slack_text")]
    pub text: String,
    pub user_id: String,
    #[serde(default)]
    pub user_name: String,
    pub channel_id: String,
    #[serde(default)]
    pub channel_name: String,
    pub team_id: String,
    #[serde(default)]
    pub team_domain: Option<String>,
    #[serde(default)]
    pub enterprise_id: Option<String>,
    /// Valid for 3 seconds, to open a modal with `views.open`.
    pub trigger_id: String,
    /// Where to post delayed responses (valid 30 minutes, 5 uses).
    pub response_url: String,
    #[serde(default)]
    pub api_app_id: Option<String>,
    /// `"true"`/`"false"` in form bodies, a JSON boolean in Socket Mode payloads.
    #[serde(default, deserialize_with = "bool_or_text")]
    pub is_enterprise_install: Option<bool>,
}

fn bool_or_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum B {
        Bool(bool),
        Text(String),
    }
    Ok(match Option::<B>::deserialize(d)? {
        Some(B::Bool(b)) => Some(b),
        Some(B::Text(t)) => Some(t == "true" || t == "1"),
        None => None,
    })
}

impl SlashCommand {
    pub fn from_form(body: &[u8]) -> Result<Self, PayloadError> {
        serde_urlencoded::from_bytes(body).map_err(|e| PayloadError::Form(e.to_string()))
    }

    /// The first word of `text`, lowercased (the subcommand), and the rest, trimmed.
    pub fn subcommand(&self) -> (String, &str) {
        let t = self.text.trim();
        match t.split_once(char::is_whitespace) {
            Some((head, rest)) => (head.to_lowercase(), rest.trim()),
            None => (t.to_lowercase(), ""),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Shared objects
// ---------------------------------------------------------------------------------------

/// The user who acted, as interaction payloads describe them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UserRef {
    pub id: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub team_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TeamRef {
    pub id: String,
    #[serde(default)]
    pub domain: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ChannelRef {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
}

/// A file attached to a message (only what a timeline entry needs).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FileRef {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub permalink: Option<String>,
    #[serde(default)]
    pub url_private: Option<String>,
}

/// A chat message as it appears in payloads and events.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Message {
    pub ts: String,
    /// Decoded: Slack sends `&lt;` for a typed `<`.
    #[serde(default, deserialize_with = "slack_text")]
    pub text: String,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub bot_id: Option<String>,
    #[serde(default)]
    pub subtype: Option<String>,
    #[serde(default)]
    pub thread_ts: Option<String>,
    #[serde(default)]
    pub files: Vec<FileRef>,
    /// Legacy attachments, kept raw (alerts often arrive this way).
    #[serde(default)]
    pub attachments: Vec<Value>,
}

/// An option of a select menu or radio group.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SelectedOption {
    pub value: String,
}

/// The value of one input element in `view.state.values`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StateValue {
    /// The element type, e.g. `plain_text_input`, `static_select`, `radio_buttons`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub selected_option: Option<SelectedOption>,
    #[serde(default)]
    pub selected_options: Option<Vec<SelectedOption>>,
    #[serde(default)]
    pub selected_user: Option<String>,
    #[serde(default)]
    pub selected_users: Option<Vec<String>>,
    #[serde(default)]
    pub selected_conversation: Option<String>,
    #[serde(default)]
    pub selected_channel: Option<String>,
}

impl StateValue {
    /// The single value this element holds: typed text, or the selected option's value,
    /// user, conversation or channel.
    pub fn as_text(&self) -> Option<&str> {
        self.value
            .as_deref()
            .or(self.selected_option.as_ref().map(|o| o.value.as_str()))
            .or(self.selected_user.as_deref())
            .or(self.selected_conversation.as_deref())
            .or(self.selected_channel.as_deref())
    }
}

/// `view.state`: block id → action id → value.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct ViewState {
    #[serde(default)]
    pub values: BTreeMap<String, BTreeMap<String, StateValue>>,
}

impl ViewState {
    pub fn get(&self, block_id: &str, action_id: &str) -> Option<&StateValue> {
        self.values.get(block_id)?.get(action_id)
    }

    /// Shorthand for `get(..).as_text()`, with empty text treated as absent.
    pub fn text(&self, block_id: &str, action_id: &str) -> Option<&str> {
        self.get(block_id, action_id)
            .and_then(StateValue::as_text)
            .filter(|s| !s.trim().is_empty())
    }
}

/// A modal view as it comes back in interaction payloads.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct View {
    pub id: String,
    #[serde(default)]
    pub callback_id: String,
    #[serde(default)]
    pub private_metadata: String,
    #[serde(default)]
    pub hash: Option<String>,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub root_view_id: Option<String>,
    #[serde(default)]
    pub state: ViewState,
    /// The blocks as Slack rendered them (kept raw).
    #[serde(default)]
    pub blocks: Vec<Value>,
}

// ---------------------------------------------------------------------------------------
// Interactions
// ---------------------------------------------------------------------------------------

/// Everything posted to the interactivity URL.
#[derive(Debug, Clone, PartialEq)]
pub enum Interaction {
    ViewSubmission(ViewSubmission),
    BlockActions(BlockActions),
    /// A message shortcut ("Declare an incident from this message").
    MessageAction(MessageAction),
    /// A global shortcut.
    Shortcut(Shortcut),
    /// The user closed a modal (sent only with `notify_on_close`).
    ViewClosed(ViewClosed),
    /// Any other kind, kept raw.
    Other {
        kind: String,
        raw: Value,
    },
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ViewSubmission {
    pub user: UserRef,
    pub team: Option<TeamRef>,
    #[serde(default)]
    pub api_app_id: Option<String>,
    #[serde(default)]
    pub trigger_id: Option<String>,
    pub view: View,
    /// Present when the modal asked for a response URL.
    #[serde(default)]
    pub response_urls: Vec<Value>,
}

/// One action in a `block_actions` payload.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BlockAction {
    pub action_id: String,
    #[serde(default)]
    pub block_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub selected_option: Option<SelectedOption>,
    #[serde(default)]
    pub action_ts: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BlockActions {
    pub user: UserRef,
    pub team: Option<TeamRef>,
    #[serde(default)]
    pub api_app_id: Option<String>,
    #[serde(default)]
    pub trigger_id: Option<String>,
    /// Where the actions happened: a message (`channel` and `message` set) or a view.
    #[serde(default)]
    pub container: Option<Value>,
    #[serde(default)]
    pub channel: Option<ChannelRef>,
    #[serde(default)]
    pub message: Option<Message>,
    /// Set when the action happened inside a modal; carries the typed values so far.
    #[serde(default)]
    pub view: Option<View>,
    #[serde(default)]
    pub response_url: Option<String>,
    pub actions: Vec<BlockAction>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MessageAction {
    pub callback_id: String,
    pub trigger_id: String,
    pub user: UserRef,
    pub team: Option<TeamRef>,
    pub channel: ChannelRef,
    pub message: Message,
    #[serde(default)]
    pub message_ts: Option<String>,
    #[serde(default)]
    pub response_url: Option<String>,
    #[serde(default)]
    pub action_ts: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Shortcut {
    pub callback_id: String,
    pub trigger_id: String,
    pub user: UserRef,
    pub team: Option<TeamRef>,
    #[serde(default)]
    pub action_ts: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ViewClosed {
    pub user: UserRef,
    pub view: View,
}

impl Interaction {
    /// Parse the form body posted to the interactivity URL (`payload=<json>`).
    pub fn from_form(body: &[u8]) -> Result<Self, PayloadError> {
        let fields: Vec<(String, String)> =
            serde_urlencoded::from_bytes(body).map_err(|e| PayloadError::Form(e.to_string()))?;
        let payload = fields
            .into_iter()
            .find(|(k, _)| k == "payload")
            .map(|(_, v)| v)
            .ok_or(PayloadError::MissingPayload)?;
        Self::from_json(&payload)
    }

    /// Parse the JSON payload itself (as Socket Mode delivers it).
    pub fn from_json(json: &str) -> Result<Self, PayloadError> {
        let raw: Value = serde_json::from_str(json).map_err(json_err)?;
        Self::from_value(raw)
    }

    pub fn from_value(raw: Value) -> Result<Self, PayloadError> {
        let kind = type_of(&raw)?;
        Ok(match kind.as_str() {
            "view_submission" => {
                Interaction::ViewSubmission(serde_json::from_value(raw).map_err(shape_err(&kind))?)
            }
            "block_actions" => {
                Interaction::BlockActions(serde_json::from_value(raw).map_err(shape_err(&kind))?)
            }
            "message_action" => {
                Interaction::MessageAction(serde_json::from_value(raw).map_err(shape_err(&kind))?)
            }
            "shortcut" => {
                Interaction::Shortcut(serde_json::from_value(raw).map_err(shape_err(&kind))?)
            }
            "view_closed" => {
                Interaction::ViewClosed(serde_json::from_value(raw).map_err(shape_err(&kind))?)
            }
            _ => Interaction::Other { kind, raw },
        })
    }

    /// The id of the user who acted, whatever the kind (None for `Other`).
    pub fn user_id(&self) -> Option<&str> {
        match self {
            Interaction::ViewSubmission(v) => Some(&v.user.id),
            Interaction::BlockActions(b) => Some(&b.user.id),
            Interaction::MessageAction(m) => Some(&m.user.id),
            Interaction::Shortcut(s) => Some(&s.user.id),
            Interaction::ViewClosed(v) => Some(&v.user.id),
            Interaction::Other { raw, .. } => raw.pointer("/user/id").and_then(Value::as_str),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Events API
// ---------------------------------------------------------------------------------------

/// A body posted to the Events API request URL.
#[derive(Debug, Clone, PartialEq)]
pub enum EventBody {
    /// Answer with the challenge to prove we own the URL.
    UrlVerification {
        challenge: String,
    },
    EventCallback(Box<EventCallback>),
    /// `app_rate_limited` and future kinds, kept raw.
    Other {
        kind: String,
        raw: Value,
    },
}

/// The `event_callback` envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct EventCallback {
    pub team_id: String,
    pub api_app_id: Option<String>,
    /// Unique per event across retries: the deduplication key.
    pub event_id: String,
    /// When the event was dispatched, Unix seconds.
    pub event_time: i64,
    pub event: Event,
}

/// The inner events Muster uses; everything else is [`Event::Other`].
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    ReactionAdded(ReactionEvent),
    ReactionRemoved(ReactionEvent),
    /// A new message (any subtype other than changed/deleted, e.g. `file_share`).
    Message(MessageEvent),
    MessageChanged(MessageChanged),
    MessageDeleted(MessageDeleted),
    MemberJoinedChannel(MemberJoinedChannel),
    AppMention(AppMention),
    Other {
        kind: String,
        raw: Value,
    },
}

/// What a reaction was added to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ReactionItem {
    /// `message`, `file` or `file_comment`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub ts: Option<String>,
    #[serde(default)]
    pub file: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ReactionEvent {
    /// Who reacted.
    pub user: String,
    /// The emoji name without colons, e.g. `floppy_disk`.
    pub reaction: String,
    /// Who wrote the item (absent for webhook messages).
    #[serde(default)]
    pub item_user: Option<String>,
    pub item: ReactionItem,
    pub event_ts: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MessageEvent {
    pub channel: String,
    #[serde(default)]
    pub channel_type: Option<String>,
    #[serde(default)]
    pub event_ts: Option<String>,
    #[serde(flatten)]
    pub message: Message,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MessageChanged {
    pub channel: String,
    /// The message as it is now (its `ts` is the original message's).
    pub message: Message,
    #[serde(default)]
    pub previous_message: Option<Message>,
    #[serde(default)]
    pub event_ts: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MessageDeleted {
    pub channel: String,
    /// The `ts` of the message that was deleted.
    pub deleted_ts: String,
    #[serde(default)]
    pub previous_message: Option<Message>,
    #[serde(default)]
    pub event_ts: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MemberJoinedChannel {
    pub user: String,
    pub channel: String,
    #[serde(default)]
    pub channel_type: Option<String>,
    #[serde(default)]
    pub team: Option<String>,
    #[serde(default)]
    pub inviter: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AppMention {
    pub user: String,
    /// Decoded: Slack sends `&lt;` for a typed `<`.
    #[serde(deserialize_with = "slack_text")]
    pub text: String,
    pub ts: String,
    pub channel: String,
    #[serde(default)]
    pub event_ts: Option<String>,
    #[serde(default)]
    pub thread_ts: Option<String>,
}

#[derive(Deserialize)]
struct RawCallback {
    team_id: String,
    #[serde(default)]
    api_app_id: Option<String>,
    event_id: String,
    event_time: i64,
    event: Value,
}

impl EventBody {
    /// The JSON body to answer a `url_verification` with (`{"challenge": ...}`).
    pub fn challenge_response(&self) -> Option<Value> {
        match self {
            EventBody::UrlVerification { challenge } => {
                Some(serde_json::json!({ "challenge": challenge }))
            }
            _ => None,
        }
    }

    pub fn from_json(body: &[u8]) -> Result<Self, PayloadError> {
        let raw: Value = serde_json::from_slice(body).map_err(json_err)?;
        let kind = type_of(&raw)?;
        match kind.as_str() {
            "url_verification" => {
                let challenge = raw
                    .get("challenge")
                    .and_then(Value::as_str)
                    .ok_or_else(|| PayloadError::Shape {
                        kind: kind.clone(),
                        detail: "missing field `challenge`".into(),
                    })?
                    .to_owned();
                Ok(EventBody::UrlVerification { challenge })
            }
            "event_callback" => {
                let cb: RawCallback = serde_json::from_value(raw).map_err(shape_err(&kind))?;
                Ok(EventBody::EventCallback(Box::new(EventCallback {
                    team_id: cb.team_id,
                    api_app_id: cb.api_app_id,
                    event_id: cb.event_id,
                    event_time: cb.event_time,
                    event: Event::from_value(cb.event)?,
                })))
            }
            _ => Ok(EventBody::Other { kind, raw }),
        }
    }
}

impl Event {
    /// Parse an inner event (the `event` object of an `event_callback`).
    pub fn from_value(raw: Value) -> Result<Self, PayloadError> {
        let kind = type_of(&raw)?;
        let subtype = raw
            .get("subtype")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let k = kind.clone();
        let e = shape_err(&k);
        Ok(match (kind.as_str(), subtype.as_deref()) {
            ("reaction_added", _) => Event::ReactionAdded(serde_json::from_value(raw).map_err(e)?),
            ("reaction_removed", _) => {
                Event::ReactionRemoved(serde_json::from_value(raw).map_err(e)?)
            }
            ("message", Some("message_changed")) => {
                Event::MessageChanged(serde_json::from_value(raw).map_err(e)?)
            }
            ("message", Some("message_deleted")) => {
                Event::MessageDeleted(serde_json::from_value(raw).map_err(e)?)
            }
            ("message", _) => Event::Message(serde_json::from_value(raw).map_err(e)?),
            ("member_joined_channel", _) => {
                Event::MemberJoinedChannel(serde_json::from_value(raw).map_err(e)?)
            }
            ("app_mention", _) => Event::AppMention(serde_json::from_value(raw).map_err(e)?),
            _ => Event::Other { kind, raw },
        })
    }
}

// ---------------------------------------------------------------------------------------
// Socket Mode
// ---------------------------------------------------------------------------------------

/// A message received on a Socket Mode WebSocket.
#[derive(Debug, Clone, PartialEq)]
pub enum SocketMessage {
    /// Sent once a connection is ready.
    Hello { num_connections: Option<u32> },
    /// Slack will close this connection; open another first. `reason` is `warning`,
    /// `refresh_requested`, `link_disabled`…
    Disconnect { reason: String },
    /// An envelope to acknowledge with [`socket_ack`] within 3 seconds.
    Envelope(Box<SocketEnvelope>),
    /// Anything else, kept raw.
    Other { kind: String, raw: Value },
}

/// An envelope: its id (for the ack), redelivery information and the payload.
#[derive(Debug, Clone, PartialEq)]
pub struct SocketEnvelope {
    pub envelope_id: String,
    /// Set on redeliveries (0 or absent on the first).
    pub retry_attempt: Option<u32>,
    pub retry_reason: Option<String>,
    /// Whether the ack may carry a response payload (slash commands, view submissions).
    pub accepts_response_payload: bool,
    pub payload: SocketPayload,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SocketPayload {
    /// `events_api`: the same body as the Events API request URL gets.
    Events(EventBody),
    /// `slash_commands`: the same fields as the form body, as JSON.
    SlashCommand(Box<SlashCommand>),
    /// `interactive`: the same payload as the interactivity URL gets.
    Interactive(Box<Interaction>),
}

impl SocketMessage {
    pub fn from_json(text: &str) -> Result<Self, PayloadError> {
        let raw: Value = serde_json::from_str(text).map_err(json_err)?;
        let kind = type_of(&raw)?;
        let str_field = |k: &str| raw.get(k).and_then(Value::as_str).map(str::to_owned);
        let payload = || raw.get("payload").cloned().unwrap_or(Value::Null);
        let payload = match kind.as_str() {
            "hello" => {
                return Ok(SocketMessage::Hello {
                    num_connections: raw
                        .get("num_connections")
                        .and_then(Value::as_u64)
                        .map(|n| n as u32),
                });
            }
            "disconnect" => {
                return Ok(SocketMessage::Disconnect {
                    reason: str_field("reason").unwrap_or_default(),
                });
            }
            "events_api" => {
                let bytes = serde_json::to_vec(&payload()).map_err(json_err)?;
                SocketPayload::Events(EventBody::from_json(&bytes)?)
            }
            "slash_commands" => SocketPayload::SlashCommand(Box::new(
                serde_json::from_value(payload()).map_err(shape_err(&kind))?,
            )),
            "interactive" => {
                SocketPayload::Interactive(Box::new(Interaction::from_value(payload())?))
            }
            _ => return Ok(SocketMessage::Other { kind, raw }),
        };
        let envelope_id = str_field("envelope_id").ok_or_else(|| PayloadError::Shape {
            kind: kind.clone(),
            detail: "missing field `envelope_id`".into(),
        })?;
        Ok(SocketMessage::Envelope(Box::new(SocketEnvelope {
            envelope_id,
            retry_attempt: raw
                .get("retry_attempt")
                .and_then(Value::as_u64)
                .map(|n| n as u32),
            retry_reason: str_field("retry_reason").filter(|r| !r.is_empty()),
            accepts_response_payload: raw
                .get("accepts_response_payload")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            payload,
        })))
    }
}

/// The acknowledgement of a Socket Mode envelope, with an optional response payload
/// (e.g. a `response_action: errors` body for a view submission).
pub fn socket_ack(envelope_id: &str, payload: Option<Value>) -> Value {
    let mut ack = serde_json::json!({ "envelope_id": envelope_id });
    if let Some(p) = payload {
        ack["payload"] = p;
    }
    ack
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_mode_messages() {
        let hello = r#"{"type":"hello","num_connections":2,"debug_info":{"host":"x"},"connection_info":{"app_id":"A1"}}"#;
        assert_eq!(
            SocketMessage::from_json(hello).unwrap(),
            SocketMessage::Hello {
                num_connections: Some(2)
            }
        );
        let bye = r#"{"type":"disconnect","reason":"refresh_requested","debug_info":{"host":"x"}}"#;
        assert_eq!(
            SocketMessage::from_json(bye).unwrap(),
            SocketMessage::Disconnect {
                reason: "refresh_requested".into()
            }
        );
        let ev = r#"{"envelope_id":"e1","type":"events_api","accepts_response_payload":false,"retry_attempt":1,"retry_reason":"timeout","payload":{"type":"event_callback","team_id":"T1","event_id":"Ev1","event_time":1,"event":{"type":"reaction_added","user":"U1","reaction":"pushpin","item":{"type":"message","channel":"C1","ts":"1.2"},"event_ts":"1.3"}}}"#;
        let SocketMessage::Envelope(e) = SocketMessage::from_json(ev).unwrap() else {
            panic!()
        };
        assert_eq!(e.envelope_id, "e1");
        assert_eq!(e.retry_attempt, Some(1));
        assert_eq!(e.retry_reason.as_deref(), Some("timeout"));
        assert!(matches!(
            e.payload,
            SocketPayload::Events(EventBody::EventCallback(ref cb)) if matches!(cb.event, Event::ReactionAdded(_))
        ));
        let cmd = r#"{"envelope_id":"e2","type":"slash_commands","accepts_response_payload":true,"payload":{"token":"x","team_id":"T1","team_domain":"d","channel_id":"C1","channel_name":"general","user_id":"U1","user_name":"u","command":"/incident","text":"db down","api_app_id":"A1","is_enterprise_install":false,"response_url":"https://x","trigger_id":"1.2.3"}}"#;
        let SocketMessage::Envelope(e) = SocketMessage::from_json(cmd).unwrap() else {
            panic!()
        };
        assert!(e.accepts_response_payload);
        let SocketPayload::SlashCommand(c) = e.payload else {
            panic!()
        };
        assert_eq!(c.text, "db down");
        assert_eq!(c.is_enterprise_install, Some(false));
        let inter = r#"{"envelope_id":"e3","type":"interactive","accepts_response_payload":true,"payload":{"type":"shortcut","callback_id":"c","trigger_id":"t","user":{"id":"U1"}}}"#;
        let SocketMessage::Envelope(e) = SocketMessage::from_json(inter).unwrap() else {
            panic!()
        };
        assert!(matches!(
            e.payload,
            SocketPayload::Interactive(ref i) if matches!(**i, Interaction::Shortcut(_))
        ));
        assert!(matches!(
            SocketMessage::from_json(
                r#"{"type":"events_api","payload":{"type":"url_verification","challenge":"c"}}"#
            ),
            Err(PayloadError::Shape { .. })
        ));
        assert!(matches!(
            SocketMessage::from_json(r#"{"type":"something_new"}"#).unwrap(),
            SocketMessage::Other { .. }
        ));
        assert_eq!(
            socket_ack("e2", Some(serde_json::json!({"text": "ok"}))),
            serde_json::json!({"envelope_id": "e2", "payload": {"text": "ok"}})
        );
        assert_eq!(
            socket_ack("e1", None),
            serde_json::json!({"envelope_id": "e1"})
        );
    }

    #[test]
    fn slash_command_parses_the_signing_example_body() {
        let text = include_str!("../tests/fixtures/signing/slack-doc-example.txt");
        let body = text.lines().find_map(|l| l.strip_prefix("body=")).unwrap();
        let c = SlashCommand::from_form(body.as_bytes()).unwrap();
        assert_eq!(c.command, "/webhook-collect");
        assert_eq!(c.text, "");
        assert_eq!(c.user_id, "U2CERLKJA");
        assert_eq!(c.user_name, "roadrunner");
        assert_eq!(c.channel_id, "G8PSS9T3V");
        assert_eq!(c.channel_name, "foobar");
        assert_eq!(c.team_id, "T1DC2JH3J");
        assert_eq!(c.team_domain.as_deref(), Some("testteamnow"));
        assert_eq!(
            c.response_url,
            "https://hooks.slack.com/commands/T1DC2JH3J/397700885554/96rGlfmibIGlgcZRskXaIFfN"
        );
        assert!(c.trigger_id.starts_with("398738663015."));
    }

    #[test]
    fn slash_command_subcommand_split() {
        let body = "command=%2Fincident&text=Status++in+progress&user_id=U1&channel_id=C1&team_id=T1&trigger_id=1.2.3&response_url=https%3A%2F%2Fx";
        let c = SlashCommand::from_form(body.as_bytes()).unwrap();
        assert_eq!(c.subcommand(), ("status".to_owned(), "in progress"));
        assert_eq!(c.api_app_id, None);
    }

    #[test]
    fn slash_command_without_required_fields_is_an_error() {
        let err = SlashCommand::from_form(b"command=%2Fincident&text=x").unwrap_err();
        assert!(matches!(err, PayloadError::Form(_)), "{err:?}");
    }

    #[test]
    fn interaction_without_payload_or_type() {
        assert_eq!(
            Interaction::from_form(b"foo=bar"),
            Err(PayloadError::MissingPayload)
        );
        assert!(matches!(
            Interaction::from_json("{\"user\":{}}"),
            Err(PayloadError::Json(_))
        ));
        assert!(matches!(
            Interaction::from_json("{\"type\":\"view_submission\"}"),
            Err(PayloadError::Shape { .. })
        ));
    }

    #[test]
    fn unknown_interaction_kind_is_other() {
        let i =
            Interaction::from_json(r#"{"type":"workflow_step_edit","user":{"id":"U1"}}"#).unwrap();
        assert!(matches!(&i, Interaction::Other { kind, .. } if kind == "workflow_step_edit"));
        assert_eq!(i.user_id(), Some("U1"));
    }
}
