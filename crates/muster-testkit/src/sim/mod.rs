//! A stateful Slack Web API simulator on 127.0.0.1.
//!
//! [`SlackSim::start`] binds a random loopback port and serves `POST /api/{method}`
//! (form or JSON bodies, `Authorization: Bearer` or a `token` argument). Each request is:
//!
//! 1. refused with `unknown_method` if the method has no description in
//!    `fixtures/slack/methods/`;
//! 2. delayed by the configured latency;
//! 3. failed if a fault was injected (`ratelimited` with HTTP 429 and `Retry-After`, an
//!    HTTP status such as 503, or any Slack error code);
//! 4. refused with `not_authed` / `invalid_auth` without the right bot token (the app-level
//!    token for `apps.connections.open`, which refuses the bot token with
//!    `not_allowed_token_type` and answers a URL of the Socket Mode server, [`crate::socket`]);
//! 5. refused with `invalid_arguments` / `missing_argument` when an argument's name or
//!    type is not in the description or a required one is missing (these requests are
//!    listed by [`SlackSim::rejections`], which tests should expect to be empty);
//! 6. applied to the workspace state, answering in the shape of the method's response
//!    examples, or with the real error (`name_taken`, `channel_not_found`,
//!    `not_in_channel`, `already_in_channel`, `is_archived`, ...).
//!
//! Accepted calls (steps 5 passed, whatever the outcome) are recorded for assertions:
//! [`SlackSim::calls`]. State inspectors return snapshots.
//!
//! The request path (steps 1 to 5, and recording) is in `http`; what each method does to
//! the workspace (step 6) is in one file per method family, named after the part of the
//! method's name before its first dot: `conversations`, `chat`, `reactions`, `bookmarks`,
//! `views`, `users` (with `usergroups.*`) and `auth` (with `apps.*`). `args` reads
//! arguments the way Slack does.

mod args;
mod auth;
mod bookmarks;
mod chat;
mod conversations;
mod http;
mod reactions;
mod users;
mod views;

use crate::socket::SocketSim;
use crate::spec::MethodSpec;
use args::{ApiError, ApiResult, Args, err};
use axum::Router;
use axum::routing::any;
use http::handle;
use muster_core::Secret;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// The simulated workspace's domain in permalinks.
pub const PERMALINK_HOST: &str = "https://sim.slack.test";

/// A failure to inject on upcoming calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// `{"ok": false, "error": code}` with HTTP 200.
    Error(String),
    /// This HTTP status with a non-JSON body (e.g. 500, 502, 503).
    Status(u16),
    /// HTTP 429, `{"ok": false, "error": "ratelimited"}` and `Retry-After: secs`.
    RateLimited { retry_after_secs: u64 },
    /// Wait this long, then act and answer normally: a caller with a shorter timeout gives
    /// up although Slack did what it asked (the nastiest kind of timeout).
    Stall(Duration),
}

/// A call answered with an injected fault, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultedCall {
    pub method: String,
    pub fault: Fault,
    pub at: std::time::Instant,
}

/// One accepted call: what was sent, and the error code answered (None if `ok`).
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub method: String,
    pub args: BTreeMap<String, Value>,
    pub error: Option<String>,
    /// When the simulator answered.
    pub at: std::time::Instant,
}

impl Call {
    /// An argument as text (JSON values other than strings are rendered as JSON).
    pub fn arg(&self, name: &str) -> Option<String> {
        self.args.get(name).map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    }

    pub fn is_ok(&self) -> bool {
        self.error.is_none()
    }
}

/// A request the simulator refused because it does not match the method description.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    pub method: String,
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimChannel {
    pub id: String,
    pub name: String,
    pub is_private: bool,
    pub is_archived: bool,
    pub creator: String,
    pub created: i64,
    pub topic: String,
    pub purpose: String,
    pub members: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SimMessage {
    pub channel: String,
    pub ts: String,
    pub thread_ts: Option<String>,
    pub user: String,
    pub text: String,
    /// The blocks as a JSON array (Null when none were sent).
    pub blocks: Value,
    /// For ephemeral messages: the only user who sees it.
    pub ephemeral_to: Option<String>,
    pub edited: bool,
    /// Emoji name → users who reacted, in order.
    pub reactions: BTreeMap<String, Vec<String>>,
    /// Files shared with the message.
    pub files: Vec<SimFile>,
    /// Legacy attachments, as given (alerts often arrive this way).
    pub attachments: Vec<Value>,
    /// `chat.postMessage`'s `metadata` (`event_type`, `event_payload`), as given.
    pub metadata: Option<Value>,
}

/// A file shared in a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimFile {
    pub id: String,
    pub name: String,
    pub user: String,
    pub url_private: String,
    pub permalink: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimBookmark {
    pub id: String,
    pub channel_id: String,
    pub title: String,
    pub link: String,
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SimView {
    pub id: String,
    pub hash: String,
    pub external_id: Option<String>,
    pub trigger_id: Option<String>,
    /// The view as last opened or updated (with the simulator's id, hash and state).
    pub view: Value,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimUser {
    pub id: String,
    pub name: String,
    pub real_name: String,
    pub is_bot: bool,
}

#[derive(Default)]
struct Faults {
    per_method: HashMap<String, VecDeque<Fault>>,
    /// Calls to any method that still get a 429.
    storm: u32,
    storm_retry_after: u64,
    latency: Duration,
    method_latency: HashMap<String, Duration>,
    faulted: HashMap<String, u32>,
    log: Vec<FaultedCall>,
    holds: Vec<HoldSpec>,
}

/// A call to answer never: its effect is applied, then the answer waits forever, as when
/// the caller is killed between Slack acting and Slack's answer arriving.
struct HoldSpec {
    method: String,
    matches: Box<dyn Fn(&Call) -> bool + Send>,
    reached: Arc<tokio::sync::Notify>,
}

/// Handle on a held call: [`Hold::reached`] resolves once the call was applied.
pub struct Hold {
    reached: Arc<tokio::sync::Notify>,
}

impl Hold {
    pub async fn reached(&self) {
        self.reached.notified().await;
    }
}

struct World {
    token: String,
    socket: SocketSim,
    team_id: String,
    team_name: String,
    bot_user_id: String,
    bot_id: String,
    channels: BTreeMap<String, SimChannel>,
    messages: Vec<SimMessage>,
    bookmarks: Vec<SimBookmark>,
    views: BTreeMap<String, SimView>,
    used_triggers: BTreeSet<String>,
    users: BTreeMap<String, SimUser>,
    usergroups: BTreeMap<String, Vec<String>>,
    seq: u64,
    calls: Vec<Call>,
    rejections: Vec<Rejection>,
    /// Error codes answered that the method's description does not list (a simulator bug).
    unlisted_errors: Vec<(String, String)>,
    faults: Faults,
}

type Shared = Arc<Mutex<World>>;

/// The running simulator. Dropping it stops the server.
pub struct SlackSim {
    world: Shared,
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
    socket: SocketSim,
    socket_task: tokio::task::JoinHandle<()>,
}

impl Drop for SlackSim {
    fn drop(&mut self) {
        self.task.abort();
        self.socket_task.abort();
    }
}

/// The bot token the simulator accepts by default. It is a test value, not a secret.
pub const SIM_BOT_TOKEN: &str = "xoxb-sim-0000000000-simulated";
pub const SIM_BOT_USER: &str = "U0BOT0001";
pub const SIM_TEAM: &str = "T0SIM0001";

/// Where simulated timestamps start (2025-11-24T15:06:40Z); they increase by 1 ms per item.
const TS_BASE: u64 = 1_764_000_000;

impl SlackSim {
    /// Start a simulator with an empty workspace holding only the bot user.
    pub async fn start() -> SlackSim {
        let mut users = BTreeMap::new();
        users.insert(
            SIM_BOT_USER.to_owned(),
            SimUser {
                id: SIM_BOT_USER.into(),
                name: "muster".into(),
                real_name: "Muster".into(),
                is_bot: true,
            },
        );
        let (socket, socket_task) = SocketSim::start().await;
        let world = Arc::new(Mutex::new(World {
            token: SIM_BOT_TOKEN.into(),
            socket: socket.clone(),
            team_id: SIM_TEAM.into(),
            team_name: "Simulated Workspace".into(),
            bot_user_id: SIM_BOT_USER.into(),
            bot_id: "B0BOT0001".into(),
            channels: BTreeMap::new(),
            messages: vec![],
            bookmarks: vec![],
            views: BTreeMap::new(),
            used_triggers: BTreeSet::new(),
            users,
            usergroups: BTreeMap::new(),
            seq: 0,
            calls: vec![],
            rejections: vec![],
            unlisted_errors: vec![],
            faults: Faults::default(),
        }));
        let app = Router::new()
            .route("/api/{method}", any(handle))
            .with_state(world.clone());
        let (addr, task) = crate::serve_local(app).await;
        SlackSim {
            world,
            addr,
            task,
            socket,
            socket_task,
        }
    }

    /// The Socket Mode server (`apps.connections.open` hands out its URLs).
    pub fn socket(&self) -> &SocketSim {
        &self.socket
    }

    fn w(&self) -> MutexGuard<'_, World> {
        lock(&self.world)
    }

    /// `http://127.0.0.1:PORT/api/`: give it to `SlackClientConfig::with_base_url`.
    pub fn base_url(&self) -> String {
        format!("http://{}/api/", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Accept `token` instead of the default test token (e.g. a realistic-looking one, to
    /// check it never reaches a log).
    pub fn set_token(&self, token: &str) {
        self.w().token = token.to_owned();
    }

    /// The bot token the simulator accepts.
    pub fn token(&self) -> Secret {
        Secret::new(self.w().token.clone())
    }

    pub fn bot_user_id(&self) -> String {
        self.w().bot_user_id.clone()
    }

    pub fn team_id(&self) -> String {
        self.w().team_id.clone()
    }

    // --- workspace setup ----------------------------------------------------------------

    /// Add a workspace member (`id` like `U0ALICE01`).
    pub fn add_user(&self, id: &str, name: &str) {
        self.w().users.insert(
            id.to_owned(),
            SimUser {
                id: id.into(),
                name: name.into(),
                real_name: name.into(),
                is_bot: false,
            },
        );
    }

    /// Add a user group (`id` like `S0ONCALL1`) with its members.
    pub fn add_usergroup(&self, id: &str, members: &[&str]) {
        self.w().usergroups.insert(
            id.to_owned(),
            members.iter().map(|m| (*m).to_owned()).collect(),
        );
    }

    /// Create a channel directly (as if a person had), with the given members. Returns
    /// its id. The bot is a member only if listed.
    pub fn add_channel(&self, name: &str, is_private: bool, members: &[&str]) -> String {
        let mut w = self.w();
        let creator = members.first().copied().unwrap_or("U0SOMEONE").to_owned();
        let id = w.new_channel(name, is_private, &creator);
        let ch = w.channels.get_mut(&id).expect("just created");
        ch.members = members.iter().map(|m| (*m).to_owned()).collect();
        id
    }

    /// Archive a channel directly.
    pub fn archive(&self, channel: &str) {
        if let Some(c) = self.w().channels.get_mut(channel) {
            c.is_archived = true;
        }
    }

    /// Post a message as a person; returns its `ts`.
    pub fn post_as(&self, channel: &str, user: &str, text: &str) -> String {
        self.w()
            .person_message(channel, user, text, None, &[], vec![])
    }

    /// Post a message as a person with files shared in it (by name, e.g. `graph.png`);
    /// returns its `ts`. Each file gets an id, a `url_private` and a `permalink`.
    pub fn post_with_files(&self, channel: &str, user: &str, text: &str, files: &[&str]) -> String {
        self.w()
            .person_message(channel, user, text, None, files, vec![])
    }

    /// Post a message with legacy attachments (as alerting integrations do); returns its
    /// `ts`.
    pub fn post_with_attachments(
        &self,
        channel: &str,
        user: &str,
        text: &str,
        attachments: Vec<Value>,
    ) -> String {
        self.w()
            .person_message(channel, user, text, None, &[], attachments)
    }

    /// Reply in the thread of `thread_ts` as a person; returns the reply's `ts`.
    pub fn reply_as(&self, channel: &str, thread_ts: &str, user: &str, text: &str) -> String {
        self.w()
            .person_message(channel, user, text, Some(thread_ts), &[], vec![])
    }

    /// A person edits their message (Slack then sends `message_changed`). Returns false
    /// if there is no such message.
    pub fn edit_as(&self, channel: &str, ts: &str, text: &str) -> bool {
        let mut w = self.w();
        match w.message_mut(channel, ts) {
            Some(m) => {
                m.text = text.to_owned();
                m.edited = true;
                true
            }
            None => false,
        }
    }

    /// A person reacts to a message. Returns false if there is no such message.
    pub fn react(&self, channel: &str, ts: &str, user: &str, emoji: &str) -> bool {
        let mut w = self.w();
        match w.message_mut(channel, ts) {
            Some(m) => {
                let users = m.reactions.entry(emoji.to_owned()).or_default();
                if !users.iter().any(|u| u == user) {
                    users.push(user.to_owned());
                }
                true
            }
            None => false,
        }
    }

    /// A person removes their reaction. Returns false if there was no such reaction.
    pub fn unreact(&self, channel: &str, ts: &str, user: &str, emoji: &str) -> bool {
        let mut w = self.w();
        let Some(m) = w.message_mut(channel, ts) else {
            return false;
        };
        let Some(users) = m.reactions.get_mut(emoji) else {
            return false;
        };
        let before = users.len();
        users.retain(|u| u != user);
        let removed = users.len() != before;
        if users.is_empty() {
            m.reactions.remove(emoji);
        }
        removed
    }

    /// A fresh trigger id, as Slack puts in slash commands and interactions.
    pub fn new_trigger_id(&self) -> String {
        let n = self.w().next_seq();
        format!(
            "{n}.{TS_BASE}.{:032x}",
            n.wrapping_mul(0x9e37_79b9_7f4a_7c15)
        )
    }

    // --- fault injection ----------------------------------------------------------------

    /// The next `n` calls of `method` fail with `fault` (queued after earlier faults).
    pub fn fail_next(&self, method: &str, n: usize, fault: Fault) {
        let mut w = self.w();
        let q = w.faults.per_method.entry(method.to_owned()).or_default();
        q.extend(std::iter::repeat_n(fault, n));
    }

    /// The next `calls` calls, to any method, get HTTP 429 with `Retry-After`.
    pub fn rate_limit_storm(&self, calls: u32, retry_after_secs: u64) {
        let mut w = self.w();
        w.faults.storm = calls;
        w.faults.storm_retry_after = retry_after_secs;
    }

    /// Delay every answer by `latency`.
    pub fn set_latency(&self, latency: Duration) {
        self.w().faults.latency = latency;
    }

    /// Delay answers to `method` by `latency` (instead of the global latency).
    pub fn set_method_latency(&self, method: &str, latency: Duration) {
        self.w()
            .faults
            .method_latency
            .insert(method.to_owned(), latency);
    }

    /// The first upcoming accepted call of `method` for which `matches` holds is applied,
    /// then never answered (the connection stays open until the caller goes away).
    pub fn hold_after(
        &self,
        method: &str,
        matches: impl Fn(&Call) -> bool + Send + 'static,
    ) -> Hold {
        let reached = Arc::new(tokio::sync::Notify::new());
        self.w().faults.holds.push(HoldSpec {
            method: method.to_owned(),
            matches: Box::new(matches),
            reached: reached.clone(),
        });
        Hold { reached }
    }

    /// Remove every pending fault and latency.
    pub fn clear_faults(&self) {
        let mut w = self.w();
        let (faulted, log) = (
            std::mem::take(&mut w.faults.faulted),
            std::mem::take(&mut w.faults.log),
        );
        w.faults = Faults {
            faulted,
            log,
            ..Faults::default()
        };
    }

    /// Every call answered with an injected fault, in order.
    pub fn faulted_calls(&self) -> Vec<FaultedCall> {
        self.w().faults.log.clone()
    }

    /// How many calls of `method` were answered with an injected fault.
    pub fn faulted(&self, method: &str) -> u32 {
        self.w().faults.faulted.get(method).copied().unwrap_or(0)
    }

    // --- inspection ---------------------------------------------------------------------

    /// Accepted calls of `method`, in order.
    pub fn calls(&self, method: &str) -> Vec<Call> {
        self.w()
            .calls
            .iter()
            .filter(|c| c.method == method)
            .cloned()
            .collect()
    }

    pub fn all_calls(&self) -> Vec<Call> {
        self.w().calls.clone()
    }

    /// Requests refused because they do not match the method descriptions.
    pub fn rejections(&self) -> Vec<Rejection> {
        self.w().rejections.clone()
    }

    /// (method, error) pairs the simulator answered although the method's description
    /// does not list that error. Always empty unless the simulator has a bug.
    pub fn unlisted_errors(&self) -> Vec<(String, String)> {
        self.w().unlisted_errors.clone()
    }

    pub fn channel(&self, id: &str) -> Option<SimChannel> {
        self.w().channels.get(id).cloned()
    }

    pub fn channel_by_name(&self, name: &str) -> Option<SimChannel> {
        self.w().channels.values().find(|c| c.name == name).cloned()
    }

    pub fn channels(&self) -> Vec<SimChannel> {
        self.w().channels.values().cloned().collect()
    }

    /// Members of a channel (empty if there is no such channel).
    pub fn members(&self, channel: &str) -> Vec<String> {
        self.w()
            .channels
            .get(channel)
            .map(|c| c.members.iter().cloned().collect())
            .unwrap_or_default()
    }

    pub fn bookmarks(&self, channel: &str) -> Vec<SimBookmark> {
        self.w()
            .bookmarks
            .iter()
            .filter(|b| b.channel_id == channel)
            .cloned()
            .collect()
    }

    /// Messages of a channel in posting order, ephemeral ones included.
    pub fn messages(&self, channel: &str) -> Vec<SimMessage> {
        self.w()
            .messages
            .iter()
            .filter(|m| m.channel == channel)
            .cloned()
            .collect()
    }

    pub fn message(&self, channel: &str, ts: &str) -> Option<SimMessage> {
        self.w()
            .messages
            .iter()
            .find(|m| m.channel == channel && m.ts == ts)
            .cloned()
    }

    pub fn views(&self) -> Vec<SimView> {
        self.w().views.values().cloned().collect()
    }

    pub fn view(&self, id: &str) -> Option<SimView> {
        self.w().views.get(id).cloned()
    }
}

fn lock(world: &Shared) -> MutexGuard<'_, World> {
    // A panicking test thread must not hide the state from the others.
    world.lock().unwrap_or_else(|p| p.into_inner())
}

// ---------------------------------------------------------------------------------------
// The workspace: what the method families share, and the dispatch to them
// ---------------------------------------------------------------------------------------

fn file_json(f: &SimFile) -> Value {
    let ext = f.name.rsplit_once('.').map(|(_, e)| e).unwrap_or("binary");
    json!({
        "id": f.id,
        "name": f.name,
        "title": f.name,
        "user": f.user,
        "filetype": ext,
        "is_external": false,
        "url_private": f.url_private,
        "url_private_download": format!("{}?download=1", f.url_private),
        "permalink": f.permalink,
    })
}

impl World {
    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    fn next_ts(&mut self) -> String {
        let n = self.next_seq();
        format!("{}.{:06}", TS_BASE + n / 1000, (n % 1000) * 1000)
    }

    fn now(&self) -> i64 {
        (TS_BASE + self.seq / 1000) as i64
    }

    fn new_channel(&mut self, name: &str, is_private: bool, creator: &str) -> String {
        let n = self.next_seq();
        let id = format!("C{n:08}");
        let created = self.now();
        self.channels.insert(
            id.clone(),
            SimChannel {
                id: id.clone(),
                name: name.to_owned(),
                is_private,
                is_archived: false,
                creator: creator.to_owned(),
                created,
                topic: String::new(),
                purpose: String::new(),
                members: BTreeSet::new(),
            },
        );
        id
    }

    /// A message posted by a person (not through the API); returns its `ts`.
    fn person_message(
        &mut self,
        channel: &str,
        user: &str,
        text: &str,
        thread_ts: Option<&str>,
        files: &[&str],
        attachments: Vec<Value>,
    ) -> String {
        let ts = self.next_ts();
        let files = files
            .iter()
            .map(|name| {
                let n = self.next_seq();
                let id = format!("F{n:08}");
                SimFile {
                    url_private: format!(
                        "https://files.sim.slack.test/files-pri/{}-{id}/{name}",
                        self.team_id
                    ),
                    permalink: format!("{PERMALINK_HOST}/files/{user}/{id}/{name}"),
                    id,
                    name: (*name).to_owned(),
                    user: user.to_owned(),
                }
            })
            .collect();
        self.messages.push(SimMessage {
            channel: channel.into(),
            ts: ts.clone(),
            thread_ts: thread_ts.map(str::to_owned),
            user: user.into(),
            text: text.into(),
            blocks: Value::Null,
            ephemeral_to: None,
            edited: false,
            reactions: BTreeMap::new(),
            files,
            attachments,
            metadata: None,
        });
        ts
    }

    fn message_mut(&mut self, channel: &str, ts: &str) -> Option<&mut SimMessage> {
        self.messages
            .iter_mut()
            .find(|m| m.channel == channel && m.ts == ts)
    }

    /// A channel the bot can see: public ones, and private ones it is a member of.
    fn visible_channel(&self, id: &str) -> Result<&SimChannel, ApiError> {
        match self.channels.get(id) {
            Some(c) if !c.is_private || c.members.contains(&self.bot_user_id) => Ok(c),
            _ => Err(err("channel_not_found")),
        }
    }

    /// A channel the bot may write to: visible, not archived, bot is a member.
    fn writable_channel(&self, id: &str) -> Result<&SimChannel, ApiError> {
        let c = self.visible_channel(id)?;
        if c.is_archived {
            return Err(err("is_archived"));
        }
        if !c.members.contains(&self.bot_user_id) {
            return Err(err("not_in_channel"));
        }
        Ok(c)
    }

    fn message_json(&self, m: &SimMessage) -> Value {
        let mut v = json!({
            "type": "message",
            "text": m.text,
            "user": m.user,
            "ts": m.ts,
            "team": self.team_id,
        });
        if m.user == self.bot_user_id {
            v["bot_id"] = json!(self.bot_id);
        }
        if m.blocks.is_array() {
            v["blocks"] = m.blocks.clone();
        }
        if let Some(t) = &m.thread_ts {
            v["thread_ts"] = json!(t);
        }
        if !m.files.is_empty() {
            v["files"] = m.files.iter().map(file_json).collect();
            if m.ephemeral_to.is_none() && m.user != self.bot_user_id {
                v["subtype"] = json!("file_share");
            }
        }
        if !m.attachments.is_empty() {
            v["attachments"] = json!(m.attachments);
        }
        if m.edited {
            v["edited"] = json!({ "user": m.user, "ts": m.ts });
        }
        let reactions: Vec<Value> = m
            .reactions
            .iter()
            .map(|(name, users)| json!({ "name": name, "users": users, "count": users.len() }))
            .collect();
        if !reactions.is_empty() {
            v["reactions"] = json!(reactions);
        }
        v
    }

    /// Apply one accepted call to the workspace: the method's family (its name up to the
    /// first dot) says which file simulates it.
    fn apply(&mut self, spec: &MethodSpec, args: &Args) -> ApiResult {
        let family = spec.name.split('.').next().unwrap_or_default();
        match family {
            "apps" | "auth" => self.apply_auth(spec),
            "bookmarks" => self.apply_bookmarks(spec, args),
            "chat" => self.apply_chat(spec, args),
            "conversations" => self.apply_conversations(spec, args),
            "reactions" => self.apply_reactions(spec, args),
            "users" | "usergroups" => self.apply_users(spec, args),
            "views" => self.apply_views(spec, args),
            _ => unsimulated(spec),
        }
    }
}

/// A method with a description in `fixtures/slack/methods/` that no family simulates: a
/// simulator bug.
fn unsimulated(spec: &MethodSpec) -> ! {
    unreachable!("method {} has a description but no simulation", spec.name)
}
