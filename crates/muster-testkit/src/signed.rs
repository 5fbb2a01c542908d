//! Correctly signed Slack requests, built exactly as Slack sends them, for end-to-end
//! tests of `/slack/commands`, `/slack/interactions` and `/slack/events`.
//!
//! [`Signer`] turns a body into a [`SignedRequest`] (path, headers, raw body) signed with
//! [`muster_slack::signature::sign`]. The `payloads` functions build the bodies: slash
//! command forms, interaction payloads (a view submission computed from a view the
//! simulator recorded, block actions, message shortcuts) and Events API envelopes whose
//! inner events have the shape of the reference examples.

use crate::sim::SimView;
use muster_core::Secret;
use muster_slack::signature::{
    RETRY_NUM_HEADER, RETRY_REASON_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign,
};
use serde_json::{Map, Value, json};

pub const COMMANDS_PATH: &str = "/slack/commands";
pub const INTERACTIONS_PATH: &str = "/slack/interactions";
pub const EVENTS_PATH: &str = "/slack/events";
pub const FORM: &str = "application/x-www-form-urlencoded";
pub const JSON: &str = "application/json";

/// A request ready to send: `POST path` with these headers and this body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    pub path: &'static str,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl SignedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Mark as Slack's redelivery number `num` (`X-Slack-Retry-Num`, `X-Slack-Retry-Reason`).
    /// The signature stays valid: retries are signed like the first delivery.
    pub fn as_retry(mut self, num: u32, reason: &str) -> Self {
        self.headers
            .push((RETRY_NUM_HEADER.into(), num.to_string()));
        self.headers
            .push((RETRY_REASON_HEADER.into(), reason.to_owned()));
        self
    }

    /// Replace one header (to test refusals: a stale timestamp, a bad signature).
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.headers
            .push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    pub fn body_str(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap_or("")
    }

    /// As an `http::Request`, to drive an axum `Router` without a socket
    /// (`tower::ServiceExt::oneshot`).
    pub fn to_http_request(&self) -> axum::http::Request<axum::body::Body> {
        let mut b = axum::http::Request::builder().method("POST").uri(self.path);
        for (k, v) in &self.headers {
            b = b.header(k.as_str(), v.as_str());
        }
        b.body(axum::body::Body::from(self.body.clone()))
            .expect("a valid request")
    }

    /// POST it to a running server at `base_url` (e.g. `http://127.0.0.1:8080`).
    pub async fn send(
        &self,
        client: &reqwest::Client,
        base_url: &str,
    ) -> reqwest::Result<reqwest::Response> {
        let mut r = client.post(format!("{}{}", base_url.trim_end_matches('/'), self.path));
        for (k, v) in &self.headers {
            r = r.header(k.as_str(), v.as_str());
        }
        r.body(self.body.clone()).send().await
    }
}

/// Signs request bodies with an app's signing secret.
#[derive(Debug, Clone)]
pub struct Signer {
    secret: Secret,
}

impl Signer {
    pub fn new(secret: Secret) -> Self {
        Signer { secret }
    }

    /// Sign any body for `path`, sent at `now_unix`.
    pub fn sign(
        &self,
        path: &'static str,
        content_type: &str,
        body: Vec<u8>,
        now_unix: i64,
    ) -> SignedRequest {
        let signature = sign(&self.secret, now_unix, &body);
        SignedRequest {
            path,
            headers: vec![
                ("content-type".into(), content_type.to_owned()),
                (TIMESTAMP_HEADER.into(), now_unix.to_string()),
                (SIGNATURE_HEADER.into(), signature),
            ],
            body,
        }
    }

    pub fn slash_command(&self, cmd: &SlashCommandRequest, now_unix: i64) -> SignedRequest {
        self.sign(COMMANDS_PATH, FORM, cmd.form().into_bytes(), now_unix)
    }

    /// An interaction payload, form-encoded as `payload=<json>`.
    pub fn interaction(&self, payload: &Value, now_unix: i64) -> SignedRequest {
        let body = serde_urlencoded::to_string([("payload", payload.to_string())])
            .expect("form encoding of a string");
        self.sign(INTERACTIONS_PATH, FORM, body.into_bytes(), now_unix)
    }

    /// An Events API body (an envelope from [`payloads::event_callback`] or a
    /// `url_verification`).
    pub fn event(&self, body: &Value, now_unix: i64) -> SignedRequest {
        self.sign(EVENTS_PATH, JSON, body.to_string().into_bytes(), now_unix)
    }
}

/// The fields of a slash command invocation. `new` fills realistic defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlashCommandRequest {
    pub command: String,
    pub text: String,
    pub user_id: String,
    pub user_name: String,
    pub channel_id: String,
    pub channel_name: String,
    pub team_id: String,
    pub team_domain: String,
    pub trigger_id: String,
    pub response_url: String,
    pub api_app_id: String,
}

impl SlashCommandRequest {
    pub fn new(
        command: &str,
        text: &str,
        user_id: &str,
        channel_id: &str,
        trigger_id: &str,
    ) -> Self {
        SlashCommandRequest {
            command: command.into(),
            text: text.into(),
            user_id: user_id.into(),
            user_name: user_id.to_lowercase(),
            channel_id: channel_id.into(),
            channel_name: "general".into(),
            team_id: crate::sim::SIM_TEAM.into(),
            team_domain: "sim".into(),
            trigger_id: trigger_id.into(),
            response_url: format!(
                "https://hooks.slack.com/commands/{}/1/{trigger_id}",
                crate::sim::SIM_TEAM
            ),
            api_app_id: "A0SIM0001".into(),
        }
    }

    /// The fields, in the order Slack sends them.
    fn fields(&self) -> [(&str, &str); 13] {
        [
            ("token", "verification-token-not-used"),
            ("team_id", &self.team_id),
            ("team_domain", &self.team_domain),
            ("channel_id", &self.channel_id),
            ("channel_name", &self.channel_name),
            ("user_id", &self.user_id),
            ("user_name", &self.user_name),
            ("command", &self.command),
            ("text", &self.text),
            ("api_app_id", &self.api_app_id),
            ("is_enterprise_install", "false"),
            ("response_url", &self.response_url),
            ("trigger_id", &self.trigger_id),
        ]
    }

    /// The form body posted to the slash command's request URL.
    pub fn form(&self) -> String {
        serde_urlencoded::to_string(self.fields()).expect("form encoding of strings")
    }

    /// The same fields as JSON, as a Socket Mode `slash_commands` envelope carries them
    /// (`is_enterprise_install` is a JSON boolean there).
    pub fn json(&self) -> Value {
        let mut o = serde_json::Map::new();
        for (k, v) in self.fields() {
            let v = match k {
                "is_enterprise_install" => Value::Bool(v == "true"),
                _ => Value::String(v.to_owned()),
            };
            o.insert(k.to_owned(), v);
        }
        Value::Object(o)
    }
}

/// What a user typed or chose in one input of a modal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Text(String),
    /// The `value` of an option (select menu or radio button).
    Choose(String),
}

/// Payload builders.
pub mod payloads {
    use super::*;

    fn user(id: &str) -> Value {
        json!({ "id": id, "username": id.to_lowercase(), "name": id.to_lowercase(), "team_id": crate::sim::SIM_TEAM })
    }

    fn button_action(block_id: &str, action_id: &str, value: &str) -> Value {
        json!({
            "action_id": action_id,
            "block_id": block_id,
            "value": value,
            "type": "button",
            "action_ts": "1764241300.000001",
        })
    }

    fn team() -> Value {
        json!({ "id": crate::sim::SIM_TEAM, "domain": "sim" })
    }

    /// `view.state.values` as Slack computes it for `view`: each input block's value is
    /// what `inputs` gives (by block id), else the element's initial value or option,
    /// else empty.
    pub fn state_values(view: &Value, inputs: &[(&str, Input)]) -> Value {
        let mut values = Map::new();
        for b in view["blocks"].as_array().into_iter().flatten() {
            if b["type"] != "input" {
                continue;
            }
            let (Some(block_id), Some(action_id)) =
                (b["block_id"].as_str(), b["element"]["action_id"].as_str())
            else {
                continue;
            };
            let el = &b["element"];
            let kind = el["type"].as_str().unwrap_or("plain_text_input");
            let given = inputs
                .iter()
                .find(|(id, _)| *id == block_id)
                .map(|(_, i)| i);
            let state = match kind {
                "static_select" | "radio_buttons" => {
                    let chosen = match given {
                        Some(Input::Choose(v)) | Some(Input::Text(v)) => el["options"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .find(|o| o["value"] == v.as_str())
                            .cloned()
                            .or_else(|| Some(json!({ "value": v, "text": { "type": "plain_text", "text": v } }))),
                        None => el.get("initial_option").cloned(),
                    };
                    json!({ "type": kind, "selected_option": chosen.unwrap_or(Value::Null) })
                }
                _ => {
                    let text = match given {
                        Some(Input::Text(v)) | Some(Input::Choose(v)) => Some(v.clone()),
                        None => el["initial_value"].as_str().map(str::to_owned),
                    };
                    json!({ "type": kind, "value": text })
                }
            };
            values.insert(block_id.to_owned(), json!({ action_id: state }));
        }
        Value::Object(values)
    }

    /// The view as Slack sends it back in interactions: the stored view with its state.
    pub fn view_with_state(view: &SimView, inputs: &[(&str, Input)]) -> Value {
        let mut v = view.view.clone();
        v["state"] = json!({ "values": state_values(&view.view, inputs) });
        v["id"] = json!(view.id);
        v["hash"] = json!(view.hash);
        v
    }

    /// A `view_submission` of a view the simulator holds, by `user`.
    pub fn view_submission(view: &SimView, user_id: &str, inputs: &[(&str, Input)]) -> Value {
        json!({
            "type": "view_submission",
            "team": team(),
            "user": user(user_id),
            "api_app_id": "A0SIM0001",
            "token": "verification-token-not-used",
            "trigger_id": format!("{}.submit", view.id),
            "view": view_with_state(view, inputs),
            "response_urls": [],
            "is_enterprise_install": false,
            "enterprise": null,
        })
    }

    /// A `block_actions` from a button inside a modal (e.g. the language toggle), with
    /// the values typed so far.
    pub fn block_action_in_view(
        view: &SimView,
        user_id: &str,
        inputs: &[(&str, Input)],
        block_id: &str,
        action_id: &str,
        value: &str,
    ) -> Value {
        json!({
            "type": "block_actions",
            "user": user(user_id),
            "api_app_id": "A0SIM0001",
            "token": "verification-token-not-used",
            "container": { "type": "view", "view_id": view.id },
            "trigger_id": format!("{}.action", view.id),
            "team": team(),
            "view": view_with_state(view, inputs),
            "actions": [button_action(block_id, action_id, value)],
        })
    }

    /// A `block_actions` from a button on a message.
    pub fn block_action_on_message(
        user_id: &str,
        channel_id: &str,
        message_ts: &str,
        block_id: &str,
        action_id: &str,
        value: &str,
        trigger_id: &str,
    ) -> Value {
        json!({
            "type": "block_actions",
            "user": user(user_id),
            "api_app_id": "A0SIM0001",
            "token": "verification-token-not-used",
            "container": { "type": "message", "message_ts": message_ts, "channel_id": channel_id, "is_ephemeral": false },
            "trigger_id": trigger_id,
            "team": team(),
            "channel": { "id": channel_id, "name": "" },
            "message": { "type": "message", "ts": message_ts, "text": "" },
            "response_url": format!("https://hooks.slack.com/actions/{}/1/{trigger_id}", crate::sim::SIM_TEAM),
            "actions": [button_action(block_id, action_id, value)],
        })
    }

    /// A `message_action` (message shortcut) on a message by `author`.
    pub fn message_action(
        user_id: &str,
        channel_id: &str,
        message_ts: &str,
        author: &str,
        text: &str,
        callback_id: &str,
        trigger_id: &str,
    ) -> Value {
        json!({
            "type": "message_action",
            "token": "verification-token-not-used",
            "action_ts": "1764241400.000002",
            "team": team(),
            "user": user(user_id),
            "channel": { "id": channel_id, "name": "" },
            "is_enterprise_install": false,
            "enterprise": null,
            "callback_id": callback_id,
            "trigger_id": trigger_id,
            "response_url": format!("https://hooks.slack.com/app/{}/2/{trigger_id}", crate::sim::SIM_TEAM),
            "message_ts": message_ts,
            "message": { "type": "message", "user": author, "text": text, "ts": message_ts },
        })
    }

    /// The `event_callback` envelope around an inner event.
    pub fn event_callback(event: Value, event_id: &str, event_time: i64) -> Value {
        json!({
            "token": "verification-token-not-used",
            "team_id": crate::sim::SIM_TEAM,
            "api_app_id": "A0SIM0001",
            "event": event,
            "type": "event_callback",
            "authorizations": [{
                "enterprise_id": null,
                "team_id": crate::sim::SIM_TEAM,
                "user_id": crate::sim::SIM_BOT_USER,
                "is_bot": true,
                "is_enterprise_install": false,
            }],
            "event_id": event_id,
            "event_time": event_time,
        })
    }

    pub fn url_verification(challenge: &str) -> Value {
        json!({ "token": "verification-token-not-used", "challenge": challenge, "type": "url_verification" })
    }

    fn reaction(
        kind: &str,
        user: &str,
        channel: &str,
        ts: &str,
        emoji: &str,
        item_user: &str,
    ) -> Value {
        json!({
            "type": kind,
            "user": user,
            "reaction": emoji,
            "item_user": item_user,
            "item": { "type": "message", "channel": channel, "ts": ts },
            "event_ts": format!("{ts}1"),
        })
    }

    /// `reaction_added`, shaped like the reference example.
    pub fn reaction_added(
        user: &str,
        channel: &str,
        ts: &str,
        emoji: &str,
        item_user: &str,
    ) -> Value {
        reaction("reaction_added", user, channel, ts, emoji, item_user)
    }

    pub fn reaction_removed(
        user: &str,
        channel: &str,
        ts: &str,
        emoji: &str,
        item_user: &str,
    ) -> Value {
        reaction("reaction_removed", user, channel, ts, emoji, item_user)
    }

    /// A new message, shaped like the reference `message` example.
    pub fn message(channel: &str, user: &str, text: &str, ts: &str) -> Value {
        json!({ "type": "message", "channel": channel, "user": user, "text": text, "ts": ts, "event_ts": ts, "channel_type": "channel" })
    }

    /// `message_changed` for an edit of the message at `ts`.
    pub fn message_changed(
        channel: &str,
        user: &str,
        ts: &str,
        old_text: &str,
        new_text: &str,
        edit_ts: &str,
    ) -> Value {
        json!({
            "type": "message",
            "subtype": "message_changed",
            "hidden": true,
            "channel": channel,
            "ts": edit_ts,
            "event_ts": edit_ts,
            "channel_type": "channel",
            "message": { "type": "message", "user": user, "text": new_text, "ts": ts, "edited": { "user": user, "ts": edit_ts } },
            "previous_message": { "type": "message", "user": user, "text": old_text, "ts": ts },
        })
    }

    /// `message_deleted` for the message at `ts`.
    pub fn message_deleted(channel: &str, ts: &str, delete_ts: &str) -> Value {
        json!({
            "type": "message",
            "subtype": "message_deleted",
            "hidden": true,
            "channel": channel,
            "ts": delete_ts,
            "event_ts": delete_ts,
            "deleted_ts": ts,
            "channel_type": "channel",
        })
    }

    /// `member_joined_channel`, shaped like the reference example.
    pub fn member_joined_channel(user: &str, channel: &str, inviter: &str) -> Value {
        json!({
            "type": "member_joined_channel",
            "user": user,
            "channel": channel,
            "channel_type": "C",
            "team": crate::sim::SIM_TEAM,
            "inviter": inviter,
            "enterprise": null,
        })
    }
}
