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

use crate::socket::{SIM_APP_TOKEN, SocketSim};
use crate::spec::{self, ArgProblem, MethodSpec};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxState};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use muster_core::Secret;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Error codes the simulator may answer for any method, whether or not the method's
/// description lists them (Slack does the same).
const GENERAL_ERRORS: &[&str] = &[
    "invalid_auth",
    "not_authed",
    "invalid_arguments",
    "missing_argument",
    "unknown_method",
    "ratelimited",
    "invalid_form_data",
];

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
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
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
// HTTP handling
// ---------------------------------------------------------------------------------------

fn json_response(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

fn error_body(code: &str) -> Value {
    json!({ "ok": false, "error": code })
}

async fn handle(
    AxState(world): AxState<Shared>,
    Path(method): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(spec) = spec::method(&method) else {
        lock(&world).rejections.push(Rejection {
            method: method.clone(),
            problems: vec!["unknown method".into()],
        });
        return json_response(StatusCode::OK, error_body("unknown_method"));
    };

    let latency = {
        let w = lock(&world);
        w.faults
            .method_latency
            .get(&method)
            .copied()
            .unwrap_or(w.faults.latency)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }

    let fault = lock(&world).take_fault(&method);
    if let Some(Fault::Stall(d)) = fault {
        tokio::time::sleep(d).await;
    } else if let Some(fault) = fault {
        return match fault {
            Fault::Error(code) => json_response(StatusCode::OK, error_body(&code)),
            Fault::Status(s) => (
                StatusCode::from_u16(s).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                "simulated upstream failure",
            )
                .into_response(),
            Fault::RateLimited { retry_after_secs } => (
                StatusCode::TOO_MANY_REQUESTS,
                [
                    (header::RETRY_AFTER, retry_after_secs.to_string()),
                    (header::CONTENT_TYPE, "application/json".to_owned()),
                ],
                error_body("ratelimited").to_string(),
            )
                .into_response(),
            Fault::Stall(_) => unreachable!("handled above"),
        };
    }

    let args = match parse_args(&headers, query.as_deref(), &body) {
        Ok(a) => a,
        Err(problem) => {
            lock(&world).rejections.push(Rejection {
                method: method.clone(),
                problems: vec![problem],
            });
            return json_response(StatusCode::OK, error_body("invalid_form_data"));
        }
    };

    let (response, hold) = answer(&world, method, &headers, &args, spec);
    if let Some(h) = hold {
        h.reached.notify_one();
        std::future::pending::<()>().await;
    }
    response
}

/// Authenticate, check and apply one call; also says whether to hold its answer.
fn answer(
    world: &Shared,
    method: String,
    headers: &HeaderMap,
    args: &BTreeMap<String, Value>,
    spec: &MethodSpec,
) -> (Response, Option<HoldSpec>) {
    let mut w = lock(world);
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let token = bearer.or_else(|| args.get("token").and_then(Value::as_str).map(str::to_owned));
    // `apps.connections.open` takes the app-level token; every other method the bot token.
    let app_level = spec.name == "apps.connections.open";
    let expected = if app_level { SIM_APP_TOKEN } else { &w.token };
    match token {
        None => {
            return (
                json_response(StatusCode::OK, error_body("not_authed")),
                None,
            );
        }
        Some(t) if app_level && t == w.token => {
            return (
                json_response(StatusCode::OK, error_body("not_allowed_token_type")),
                None,
            );
        }
        Some(t) if t != expected => {
            return (
                json_response(StatusCode::OK, error_body("invalid_auth")),
                None,
            );
        }
        Some(_) => {}
    }

    let problems = spec.check(args);
    if !problems.is_empty() {
        let code = problem_code(spec, &problems);
        let messages: Vec<String> = problems.iter().map(ToString::to_string).collect();
        w.rejections.push(Rejection {
            method: method.clone(),
            problems: messages.clone(),
        });
        let mut body = error_body(code);
        body["response_metadata"] = json!({ "messages": messages });
        return (json_response(StatusCode::OK, body), None);
    }

    let mut recorded_args = args.clone();
    recorded_args.remove("token");
    let result = w.apply(spec, args);
    let (error, body) = match result {
        Ok(mut body) => {
            body["ok"] = json!(true);
            let obj = body.as_object_mut().expect("object");
            // `ok` first, like Slack.
            let mut ordered = Map::new();
            ordered.insert("ok".into(), json!(true));
            for (k, v) in std::mem::take(obj) {
                if k != "ok" {
                    ordered.insert(k, v);
                }
            }
            (None, Value::Object(ordered))
        }
        Err(ApiError { code, extra }) => {
            if !spec.errors.contains(code) && !GENERAL_ERRORS.contains(&code) {
                w.unlisted_errors.push((method.clone(), code.to_owned()));
            }
            let mut body = error_body(code);
            if let Some(Value::Object(extra)) = extra {
                for (k, v) in extra {
                    body[k] = v;
                }
            }
            (Some(code.to_owned()), body)
        }
    };
    let call = Call {
        method,
        args: recorded_args,
        error,
        at: std::time::Instant::now(),
    };
    let hold = w
        .faults
        .holds
        .iter()
        .position(|h| h.method == call.method && (h.matches)(&call))
        .map(|i| w.faults.holds.remove(i));
    w.calls.push(call);
    (json_response(StatusCode::OK, body), hold)
}

/// Which error code Slack gives for these problems.
fn problem_code(spec: &MethodSpec, problems: &[ArgProblem]) -> &'static str {
    let only_missing = problems
        .iter()
        .all(|p| matches!(p, ArgProblem::MissingRequired(_)));
    if only_missing && spec.errors.contains("missing_argument") {
        "missing_argument"
    } else if problems
        .iter()
        .all(|p| matches!(p, ArgProblem::MissingOneOf(_)))
        && spec.errors.contains("no_text")
    {
        "no_text"
    } else {
        "invalid_arguments"
    }
}

fn parse_args(
    headers: &HeaderMap,
    query: Option<&str>,
    body: &[u8],
) -> Result<BTreeMap<String, Value>, String> {
    let mut args = BTreeMap::new();
    if let Some(q) = query {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(q).map_err(|e| format!("query string: {e}"))?;
        for (k, v) in pairs {
            args.insert(k, Value::String(v));
        }
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if body.is_empty() {
        return Ok(args);
    }
    if content_type.starts_with("application/json") {
        let v: Value = serde_json::from_slice(body).map_err(|e| format!("JSON body: {e}"))?;
        let Value::Object(o) = v else {
            return Err("JSON body is not an object".into());
        };
        args.extend(o);
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_bytes(body).map_err(|e| format!("form body: {e}"))?;
        for (k, v) in pairs {
            args.insert(k, Value::String(v));
        }
    } else {
        return Err(format!("unsupported content type {content_type:?}"));
    }
    Ok(args)
}

// ---------------------------------------------------------------------------------------
// The workspace
// ---------------------------------------------------------------------------------------

struct ApiError {
    code: &'static str,
    extra: Option<Value>,
}

fn err(code: &'static str) -> ApiError {
    ApiError { code, extra: None }
}

type ApiResult = Result<Value, ApiError>;

fn text_arg<'a>(args: &'a BTreeMap<String, Value>, name: &str) -> Option<&'a str> {
    args.get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn bool_arg(args: &BTreeMap<String, Value>, name: &str) -> bool {
    match args.get(name) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true" || s == "1",
        _ => false,
    }
}

/// A JSON argument given as a JSON-encoded string (form) or as JSON (JSON body).
fn json_arg(args: &BTreeMap<String, Value>, name: &str) -> Option<Value> {
    match args.get(name)? {
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => serde_json::from_str(s).ok(),
        other => Some(other.clone()),
    }
}

/// `limit` for the read methods: Slack's default 100, at most 999.
fn limit_arg(args: &BTreeMap<String, Value>) -> usize {
    let given = match args.get("limit") {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.parse::<f64>().ok(),
        _ => None,
    };
    match given {
        Some(n) if n >= 1.0 => (n as usize).min(999),
        _ => 100,
    }
}

/// Simulated timestamps as comparable numbers (seconds and microseconds).
fn ts_key(ts: &str) -> Option<(u64, u64)> {
    let (a, b) = ts.split_once('.').unwrap_or((ts, "0"));
    let micros = format!("{b:0<6}");
    Some((a.parse().ok()?, micros.get(..6)?.parse().ok()?))
}

/// The `oldest` / `latest` / `inclusive` window of the read methods.
struct TsWindow {
    oldest: Option<(u64, u64)>,
    latest: Option<(u64, u64)>,
    inclusive: bool,
}

impl TsWindow {
    fn from_args(args: &BTreeMap<String, Value>) -> TsWindow {
        TsWindow {
            oldest: text_arg(args, "oldest").and_then(ts_key),
            latest: text_arg(args, "latest").and_then(ts_key),
            inclusive: bool_arg(args, "inclusive"),
        }
    }

    fn contains(&self, ts: &str) -> bool {
        let Some(t) = ts_key(ts) else {
            return false;
        };
        let after_oldest = self
            .oldest
            .is_none_or(|o| t > o || (self.inclusive && t == o));
        let before_latest = self
            .latest
            .is_none_or(|l| t < l || (self.inclusive && t == l));
        after_oldest && before_latest
    }
}

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

fn channel_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("invalid_name_required")
    } else if name.chars().count() > 80 {
        Some("invalid_name_maxlength")
    } else if !name
        .chars()
        .all(|c| c.is_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        Some("invalid_name_specials")
    } else if !name.chars().any(|c| c.is_alphanumeric()) {
        Some("invalid_name_punctuation")
    } else {
        None
    }
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

    fn take_fault(&mut self, method: &str) -> Option<Fault> {
        let fault = if self.faults.storm > 0 {
            self.faults.storm -= 1;
            Some(Fault::RateLimited {
                retry_after_secs: self.faults.storm_retry_after,
            })
        } else {
            self.faults
                .per_method
                .get_mut(method)
                .and_then(VecDeque::pop_front)
        };
        if let Some(f) = &fault {
            *self.faults.faulted.entry(method.to_owned()).or_default() += 1;
            self.faults.log.push(FaultedCall {
                method: method.to_owned(),
                fault: f.clone(),
                at: std::time::Instant::now(),
            });
        }
        fault
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

    /// The id of the channel called `#name` (unchanged if not of that form or unknown).
    fn resolve_name(&self, channel: &str) -> String {
        channel
            .strip_prefix('#')
            .and_then(|name| self.channels.values().find(|c| c.name == name))
            .map(|c| c.id.clone())
            .unwrap_or_else(|| channel.to_owned())
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

    fn channel_json(&self, method: &MethodSpec, c: &SimChannel) -> Value {
        let mut v = method
            .example_object("channel")
            .or_else(|| {
                spec::method("conversations.create").and_then(|m| m.example_object("channel"))
            })
            .cloned()
            .unwrap_or_else(|| json!({}));
        let set = |v: &mut Value, k: &str, x: Value| {
            v[k] = x;
        };
        set(&mut v, "id", json!(c.id));
        set(&mut v, "name", json!(c.name));
        set(&mut v, "name_normalized", json!(c.name));
        set(&mut v, "is_channel", json!(true));
        set(&mut v, "is_group", json!(false));
        set(&mut v, "is_im", json!(false));
        set(&mut v, "is_mpim", json!(false));
        set(&mut v, "is_general", json!(false));
        set(&mut v, "is_private", json!(c.is_private));
        set(&mut v, "is_archived", json!(c.is_archived));
        set(
            &mut v,
            "is_member",
            json!(c.members.contains(&self.bot_user_id)),
        );
        set(&mut v, "created", json!(c.created));
        set(&mut v, "creator", json!(c.creator));
        set(&mut v, "previous_names", json!([]));
        set(
            &mut v,
            "topic",
            json!({ "value": c.topic, "creator": if c.topic.is_empty() { "" } else { &self.bot_user_id }, "last_set": 0 }),
        );
        set(
            &mut v,
            "purpose",
            json!({ "value": c.purpose, "creator": if c.purpose.is_empty() { "" } else { &self.bot_user_id }, "last_set": 0 }),
        );
        v
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

    /// Messages of `channel` everyone sees, thread replies included, oldest first.
    fn public_messages<'a>(&'a self, channel: &'a str) -> impl Iterator<Item = &'a SimMessage> {
        self.messages
            .iter()
            .filter(move |m| m.channel == channel && m.ephemeral_to.is_none())
    }

    fn apply(&mut self, spec: &MethodSpec, args: &BTreeMap<String, Value>) -> ApiResult {
        let a = |name: &str| text_arg(args, name).map(str::to_owned);
        match spec.name.as_str() {
            "apps.connections.open" => Ok(json!({ "url": self.socket.open_url() })),
            "auth.test" => Ok(json!({
                "url": format!("{PERMALINK_HOST}/"),
                "team": self.team_name,
                "user": self.users.get(&self.bot_user_id).map(|u| u.name.clone()).unwrap_or_default(),
                "team_id": self.team_id,
                "user_id": self.bot_user_id,
                "bot_id": self.bot_id,
            })),
            "conversations.create" => {
                let name = a("name").unwrap_or_default();
                if let Some(code) = channel_name_problem(&name) {
                    return Err(err(code));
                }
                // Archived channels keep their names.
                if self.channels.values().any(|c| c.name == name) {
                    return Err(err("name_taken"));
                }
                let bot = self.bot_user_id.clone();
                let id = self.new_channel(&name, bool_arg(args, "is_private"), &bot);
                self.channels
                    .get_mut(&id)
                    .expect("created")
                    .members
                    .insert(bot);
                let c = self.channels[&id].clone();
                Ok(json!({ "channel": self.channel_json(spec, &c) }))
            }
            "conversations.invite" => {
                let channel = a("channel").unwrap_or_default();
                self.writable_channel(&channel)?;
                let force = bool_arg(args, "force");
                let users: Vec<String> = a("users")
                    .unwrap_or_default()
                    .split(',')
                    .map(|u| u.trim().to_owned())
                    .filter(|u| !u.is_empty())
                    .collect();
                let members = self.channels[&channel].members.clone();
                let mut errors = vec![];
                let mut valid = vec![];
                for u in &users {
                    let code = if !self.users.contains_key(u) {
                        Some("user_not_found")
                    } else if *u == self.bot_user_id {
                        Some("cant_invite_self")
                    } else if members.contains(u) {
                        Some("already_in_channel")
                    } else {
                        None
                    };
                    match code {
                        Some(code) => errors.push((u.clone(), code)),
                        None => valid.push(u.clone()),
                    }
                }
                if let Some((_, first)) = errors.first().filter(|_| !force || valid.is_empty()) {
                    let list: Vec<Value> = errors
                        .iter()
                        .map(|(u, e)| json!({ "user": u, "ok": false, "error": e }))
                        .collect();
                    return Err(ApiError {
                        code: first,
                        extra: Some(json!({ "errors": list })),
                    });
                }
                let ch = self.channels.get_mut(&channel).expect("checked");
                ch.members.extend(valid);
                let c = ch.clone();
                Ok(json!({ "channel": self.channel_json(spec, &c) }))
            }
            "conversations.setTopic" | "conversations.setPurpose" => {
                let channel = a("channel").unwrap_or_default();
                self.writable_channel(&channel)?;
                let (key, value) = if spec.name == "conversations.setTopic" {
                    ("topic", a("topic").unwrap_or_default())
                } else {
                    ("purpose", a("purpose").unwrap_or_default())
                };
                if value.chars().count() > 250 {
                    return Err(err("too_long"));
                }
                let ch = self.channels.get_mut(&channel).expect("checked");
                if key == "topic" {
                    ch.topic = value;
                } else {
                    ch.purpose = value;
                }
                let c = ch.clone();
                if spec.name == "conversations.setTopic" {
                    Ok(json!({ "channel": self.channel_json(spec, &c) }))
                } else {
                    Ok(json!({}))
                }
            }
            "conversations.archive" => {
                let channel = a("channel").unwrap_or_default();
                let c = self.visible_channel(&channel)?;
                if c.is_archived {
                    return Err(err("already_archived"));
                }
                if !c.members.contains(&self.bot_user_id) {
                    return Err(err("not_in_channel"));
                }
                self.channels
                    .get_mut(&channel)
                    .expect("checked")
                    .is_archived = true;
                Ok(json!({}))
            }
            "conversations.info" => {
                let channel = a("channel").unwrap_or_default();
                let c = self.visible_channel(&channel)?.clone();
                Ok(json!({ "channel": self.channel_json(spec, &c) }))
            }
            "conversations.join" => {
                let channel = a("channel").unwrap_or_default();
                let c = self.visible_channel(&channel)?.clone();
                if c.is_private {
                    return Err(err("method_not_supported_for_channel_type"));
                }
                if c.is_archived {
                    return Err(err("is_archived"));
                }
                let already = c.members.contains(&self.bot_user_id);
                let bot = self.bot_user_id.clone();
                let ch = self.channels.get_mut(&channel).expect("checked");
                ch.members.insert(bot);
                let c = ch.clone();
                let mut body = json!({ "channel": self.channel_json(spec, &c) });
                if already {
                    body["warning"] = json!("already_in_channel");
                    body["response_metadata"] = json!({ "warnings": ["already_in_channel"] });
                }
                Ok(body)
            }
            "conversations.members" => {
                let channel = a("channel").unwrap_or_default();
                let c = self.visible_channel(&channel)?;
                Ok(json!({
                    "members": c.members.iter().collect::<Vec<_>>(),
                    "response_metadata": { "next_cursor": "" },
                }))
            }
            "conversations.list" => {
                let types = a("types").unwrap_or_else(|| "public_channel".into());
                let (public, private) = (
                    types.split(',').any(|t| t.trim() == "public_channel"),
                    types.split(',').any(|t| t.trim() == "private_channel"),
                );
                let exclude_archived = bool_arg(args, "exclude_archived");
                let bot = self.bot_user_id.clone();
                // Private channels are listed only to their members.
                let all: Vec<&SimChannel> = self
                    .channels
                    .values()
                    .filter(|c| {
                        if c.is_private {
                            private && c.members.contains(&bot)
                        } else {
                            public
                        }
                    })
                    .filter(|c| !(exclude_archived && c.is_archived))
                    .collect();
                let start = match a("cursor").filter(|c| !c.is_empty()) {
                    Some(c) => c
                        .strip_prefix("sim:")
                        .and_then(|n| n.parse::<usize>().ok())
                        .ok_or_else(|| err("invalid_cursor"))?,
                    None => 0,
                };
                let limit = limit_arg(args);
                let page: Vec<Value> = all
                    .iter()
                    .skip(start)
                    .take(limit)
                    .map(|c| self.channel_json(spec, c))
                    .collect();
                let next = if start + limit < all.len() {
                    format!("sim:{}", start + limit)
                } else {
                    String::new()
                };
                Ok(json!({
                    "channels": page,
                    "response_metadata": { "next_cursor": next },
                }))
            }
            "conversations.history" => {
                let channel = a("channel").unwrap_or_default();
                let c = self.visible_channel(&channel)?;
                if !c.members.contains(&self.bot_user_id) {
                    return Err(err("not_in_channel"));
                }
                let window = TsWindow::from_args(args);
                // Newest first; thread replies stay in their thread.
                let mut list: Vec<&SimMessage> = self
                    .public_messages(&channel)
                    .filter(|m| m.thread_ts.as_ref().is_none_or(|t| *t == m.ts))
                    .filter(|m| window.contains(&m.ts))
                    .collect();
                list.reverse();
                let limit = limit_arg(args);
                let has_more = list.len() > limit;
                let with_metadata = bool_arg(args, "include_all_metadata");
                let messages: Vec<Value> = list
                    .into_iter()
                    .take(limit)
                    .map(|m| self.listed_json(m, with_metadata))
                    .collect();
                let mut body = json!({
                    "messages": messages,
                    "has_more": has_more,
                    "pin_count": 0,
                    "response_metadata": { "next_cursor": "" },
                });
                if let Some(latest) = a("latest") {
                    body["latest"] = json!(latest);
                }
                Ok(body)
            }
            "conversations.replies" => {
                let channel = a("channel").unwrap_or_default();
                self.visible_channel(&channel)?;
                let ts = a("ts").unwrap_or_default();
                let m = self
                    .public_messages(&channel)
                    .find(|m| m.ts == ts)
                    .ok_or_else(|| err("thread_not_found"))?;
                let parent_ts = m.thread_ts.clone().unwrap_or(ts);
                let parent = self
                    .public_messages(&channel)
                    .find(|m| m.ts == parent_ts)
                    .ok_or_else(|| err("thread_not_found"))?;
                let window = TsWindow::from_args(args);
                // The parent first, always; then the replies in the window, oldest first.
                let replies: Vec<&SimMessage> = self
                    .public_messages(&channel)
                    .filter(|m| m.ts != parent_ts && m.thread_ts.as_deref() == Some(&parent_ts))
                    .filter(|m| window.contains(&m.ts))
                    .collect();
                let limit = limit_arg(args).max(1);
                let has_more = replies.len() + 1 > limit;
                let with_metadata = bool_arg(args, "include_all_metadata");
                let mut messages = vec![self.listed_json(parent, with_metadata)];
                messages.extend(
                    replies
                        .into_iter()
                        .take(limit - 1)
                        .map(|m| self.listed_json(m, with_metadata)),
                );
                Ok(json!({
                    "messages": messages,
                    "has_more": has_more,
                    "response_metadata": { "next_cursor": "" },
                }))
            }
            "chat.postMessage" | "chat.postEphemeral" => {
                // Slack resolves `#name` for chat methods; answers carry the id.
                let channel = self.resolve_name(&a("channel").unwrap_or_default());
                self.writable_channel(&channel)?;
                let blocks = self.checked_blocks(args)?;
                let ephemeral_to = if spec.name == "chat.postEphemeral" {
                    let user = a("user").unwrap_or_default();
                    if !self.channels[&channel].members.contains(&user) {
                        return Err(err("user_not_in_channel"));
                    }
                    Some(user)
                } else {
                    None
                };
                let ts = self.next_ts();
                let m = SimMessage {
                    channel: channel.clone(),
                    ts: ts.clone(),
                    thread_ts: a("thread_ts"),
                    user: self.bot_user_id.clone(),
                    text: a("text").unwrap_or_default(),
                    blocks,
                    ephemeral_to,
                    edited: false,
                    reactions: BTreeMap::new(),
                    files: vec![],
                    attachments: vec![],
                    metadata: json_arg(args, "metadata"),
                };
                let body = if spec.name == "chat.postEphemeral" {
                    json!({ "message_ts": ts })
                } else {
                    json!({ "channel": channel, "ts": ts, "message": self.message_json(&m) })
                };
                self.messages.push(m);
                Ok(body)
            }
            "chat.update" => {
                let channel = a("channel").unwrap_or_default();
                self.visible_channel(&channel)?;
                let ts = a("ts").unwrap_or_default();
                let blocks = self.checked_blocks(args)?;
                let bot = self.bot_user_id.clone();
                let m = self
                    .message_mut(&channel, &ts)
                    .ok_or_else(|| err("message_not_found"))?;
                if m.user != bot {
                    return Err(err("cant_update_message"));
                }
                if let Some(text) = text_arg(args, "text") {
                    m.text = text.to_owned();
                }
                if !blocks.is_null() {
                    m.blocks = blocks;
                }
                m.edited = true;
                let m = m.clone();
                Ok(json!({
                    "channel": channel,
                    "ts": ts,
                    "text": m.text,
                    "message": self.message_json(&m),
                }))
            }
            "chat.getPermalink" => {
                let channel = a("channel").unwrap_or_default();
                self.visible_channel(&channel)?;
                let ts = a("message_ts").unwrap_or_default();
                let m = self
                    .messages
                    .iter()
                    .find(|m| m.channel == channel && m.ts == ts)
                    .ok_or_else(|| err("message_not_found"))?;
                let mut link = format!(
                    "{PERMALINK_HOST}/archives/{channel}/p{}",
                    ts.replace('.', "")
                );
                if let Some(t) = &m.thread_ts {
                    link.push_str(&format!("?thread_ts={t}&cid={channel}"));
                }
                Ok(json!({ "channel": channel, "permalink": link }))
            }
            "reactions.add" => {
                let channel = a("channel").unwrap_or_default();
                let c = self.visible_channel(&channel)?;
                if c.is_archived {
                    return Err(err("is_archived"));
                }
                let ts = a("timestamp").unwrap_or_default();
                let name = a("name").unwrap_or_default();
                let bot = self.bot_user_id.clone();
                let m = self
                    .message_mut(&channel, &ts)
                    .ok_or_else(|| err("message_not_found"))?;
                let users = m.reactions.entry(name).or_default();
                if users.contains(&bot) {
                    return Err(err("already_reacted"));
                }
                users.push(bot);
                Ok(json!({}))
            }
            "bookmarks.add" => {
                let channel = a("channel_id").unwrap_or_default();
                self.visible_channel(&channel)?;
                let kind = a("type").unwrap_or_default();
                if kind != "link" {
                    return Err(err("invalid_bookmark_type"));
                }
                let link = a("link").unwrap_or_default();
                if !(link.starts_with("http://") || link.starts_with("https://")) {
                    return Err(err("invalid_link"));
                }
                let n = self.next_seq();
                let b = SimBookmark {
                    id: format!("Bk{n:010}"),
                    channel_id: channel,
                    title: a("title").unwrap_or_default(),
                    link,
                    kind,
                };
                let body = json!({ "bookmark": self.bookmark_json(spec, &b) });
                self.bookmarks.push(b);
                Ok(body)
            }
            "bookmarks.list" => {
                let channel = a("channel_id").unwrap_or_default();
                self.visible_channel(&channel)?;
                let list: Vec<Value> = self
                    .bookmarks
                    .iter()
                    .filter(|b| b.channel_id == channel)
                    .map(|b| self.bookmark_json(spec, b))
                    .collect();
                Ok(json!({ "bookmarks": list }))
            }
            "views.open" => {
                let trigger = a("trigger_id").or_else(|| a("interactivity_pointer"));
                let view = self.checked_view(args)?;
                if let Some(t) = &trigger
                    && !self.used_triggers.insert(t.clone())
                {
                    return Err(err("exchanged_trigger_id"));
                }
                let n = self.next_seq();
                let id = format!("V{n:08}");
                let stored = self.store_view(spec, &id, trigger, view);
                Ok(json!({ "view": stored }))
            }
            "views.update" => {
                let view = self.checked_view(args)?;
                let id = match (a("view_id"), a("external_id")) {
                    (Some(id), _) => id,
                    (None, Some(ext)) => self
                        .views
                        .values()
                        .find(|v| v.external_id.as_deref() == Some(ext.as_str()))
                        .map(|v| v.id.clone())
                        .ok_or_else(|| err("not_found"))?,
                    (None, None) => return Err(err("not_found")),
                };
                let existing = self.views.get(&id).ok_or_else(|| err("not_found"))?;
                if let Some(h) = a("hash")
                    && h != existing.hash
                {
                    return Err(err("hash_conflict"));
                }
                let trigger = existing.trigger_id.clone();
                let stored = self.store_view(spec, &id, trigger, view);
                Ok(json!({ "view": stored }))
            }
            "users.info" => {
                let id = a("user").unwrap_or_default();
                let u = self.users.get(&id).ok_or_else(|| err("user_not_found"))?;
                let mut v = spec
                    .example_object("user")
                    .cloned()
                    .unwrap_or_else(|| json!({}));
                v["id"] = json!(u.id);
                v["team_id"] = json!(self.team_id);
                v["name"] = json!(u.name);
                v["real_name"] = json!(u.real_name);
                v["deleted"] = json!(false);
                v["is_bot"] = json!(u.is_bot);
                v["tz"] = json!("Etc/UTC");
                v["tz_label"] = json!("Coordinated Universal Time");
                v["tz_offset"] = json!(0);
                if v["profile"].is_object() {
                    v["profile"]["real_name"] = json!(u.real_name);
                    v["profile"]["display_name"] = json!(u.name);
                    v["profile"]["email"] = json!(format!("{}@sim.slack.test", u.name));
                }
                Ok(json!({ "user": v }))
            }
            "usergroups.users.list" => {
                let id = a("usergroup").unwrap_or_default();
                let users = self
                    .usergroups
                    .get(&id)
                    .ok_or_else(|| err("no_such_subteam"))?;
                Ok(json!({ "users": users }))
            }
            other => unreachable!("method {other} has a description but no simulation"),
        }
    }

    /// A message as the read methods show it: with `reply_count` on a thread's parent
    /// and `parent_user_id` on its replies.
    /// A message as `conversations.history`/`replies` list it; Slack includes metadata
    /// only when asked with `include_all_metadata`.
    fn listed_json(&self, m: &SimMessage, with_metadata: bool) -> Value {
        let mut v = self.thread_json(m);
        if let (true, Some(md)) = (with_metadata, &m.metadata) {
            v["metadata"] = md.clone();
        }
        v
    }

    fn thread_json(&self, m: &SimMessage) -> Value {
        let mut v = self.message_json(m);
        match &m.thread_ts {
            Some(t) if *t != m.ts => {
                if let Some(p) = self.public_messages(&m.channel).find(|p| p.ts == *t) {
                    v["parent_user_id"] = json!(p.user);
                }
            }
            _ => {
                let replies: Vec<&SimMessage> = self
                    .public_messages(&m.channel)
                    .filter(|r| r.ts != m.ts && r.thread_ts.as_deref() == Some(&m.ts))
                    .collect();
                if let Some(last) = replies.last() {
                    v["thread_ts"] = json!(m.ts);
                    v["reply_count"] = json!(replies.len());
                    v["latest_reply"] = json!(last.ts);
                }
            }
        }
        v
    }

    fn bookmark_json(&self, spec: &MethodSpec, b: &SimBookmark) -> Value {
        let template = spec
            .example_object("bookmark")
            .cloned()
            .or_else(|| {
                spec.ok_examples()
                    .filter_map(|e| e.get("bookmarks")?.get(0).cloned())
                    .next()
            })
            .unwrap_or_else(|| json!({}));
        let mut v = template;
        v["id"] = json!(b.id);
        v["channel_id"] = json!(b.channel_id);
        v["title"] = json!(b.title);
        v["link"] = json!(b.link);
        v["type"] = json!(b.kind);
        v["emoji"] = Value::Null;
        v["icon_url"] = Value::Null;
        v["last_updated_by_user_id"] = json!(self.bot_user_id);
        v["last_updated_by_team_id"] = json!(self.team_id);
        v
    }

    /// The `blocks` argument, checked like Slack checks it (valid JSON array of blocks,
    /// within Block Kit limits); Null when absent.
    fn checked_blocks(&self, args: &BTreeMap<String, Value>) -> Result<Value, ApiError> {
        if args.get("blocks").is_none() {
            return Ok(Value::Null);
        }
        let Some(Value::Array(blocks)) = json_arg(args, "blocks") else {
            return Err(err("invalid_blocks_format"));
        };
        if blocks
            .iter()
            .any(|b| b.get("type").and_then(Value::as_str).is_none())
        {
            return Err(err("invalid_blocks"));
        }
        let violations = muster_slack::limits::check_blocks(&blocks);
        if !violations.is_empty() {
            let messages: Vec<String> = violations.iter().map(ToString::to_string).collect();
            return Err(ApiError {
                code: "invalid_blocks",
                extra: Some(json!({ "response_metadata": { "messages": messages } })),
            });
        }
        Ok(Value::Array(blocks))
    }

    /// The `view` argument: a modal within Block Kit limits.
    fn checked_view(&self, args: &BTreeMap<String, Value>) -> Result<Value, ApiError> {
        let view = json_arg(args, "view").unwrap_or(Value::Null);
        let mut messages = vec![];
        if view.get("type").and_then(Value::as_str) != Some("modal") {
            messages.push("[ERROR] view.type must be modal".to_owned());
        }
        if !view.get("title").is_some_and(Value::is_object) {
            messages.push("[ERROR] view.title is required".to_owned());
        }
        if !view.get("blocks").is_some_and(Value::is_array) {
            messages.push("[ERROR] view.blocks is required".to_owned());
        }
        messages.extend(
            muster_slack::limits::check_modal(&view)
                .iter()
                .map(|v| format!("[ERROR] {v}")),
        );
        if messages.is_empty() {
            Ok(view)
        } else {
            Err(ApiError {
                code: "invalid_arguments",
                extra: Some(json!({ "response_metadata": { "messages": messages } })),
            })
        }
    }

    fn store_view(
        &mut self,
        spec: &MethodSpec,
        id: &str,
        trigger_id: Option<String>,
        view: Value,
    ) -> Value {
        let n = self.next_seq();
        let hash = format!("{}.{n:08x}", TS_BASE);
        let mut v = spec
            .example_object("view")
            .cloned()
            .unwrap_or_else(|| json!({}));
        if let Value::Object(given) = &view {
            for (k, x) in given {
                v[k.as_str()] = x.clone();
            }
        }
        v["id"] = json!(id);
        v["team_id"] = json!(self.team_id);
        v["hash"] = json!(hash);
        v["root_view_id"] = json!(id);
        v["bot_id"] = json!(self.bot_id);
        v["state"] = json!({ "values": {} });
        for key in ["private_metadata", "callback_id", "external_id"] {
            if view.get(key).is_none() {
                v[key] = json!("");
            }
        }
        let external_id = view
            .get("external_id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        self.views.insert(
            id.to_owned(),
            SimView {
                id: id.to_owned(),
                hash,
                external_id,
                trigger_id,
                view: v.clone(),
            },
        );
        v
    }
}
