//! Finding again what an interrupted run already made on Slack.
//!
//! Slack has no idempotency keys. A `conversations.create` or `chat.postMessage` whose
//! answer was lost (the process was killed, the connection timed out, Slack answered 5xx
//! after acting) may or may not have happened. A step that runs again
//! (`StepInput::resumed`) therefore looks before it acts:
//!
//! - every message a step posts carries a [`Mark`] in its metadata (`event_type`
//!   `muster_step`, the incident and the step), found again through
//!   `conversations.history`/`conversations.replies` with `include_all_metadata`;
//! - a channel is looked up by the name the incident reserved before creating it, and
//!   adopted only when our bot created it (see `provision.rs`);
//! - bookmarks are recognised by their link.
//!
//! Looking costs one or a few calls, so a first run never looks: declare-to-ready stays a
//! single round of calls.

use crate::blocks::SlackMessage;
use crate::client::{Channel, PostedMessage, SlackClient, SlackError};
use serde::Deserialize;
use serde_json::{Value, json};

/// The metadata `event_type` of messages posted by workflow steps.
pub const MARK_EVENT_TYPE: &str = "muster_step";

/// How many pages of history or channel list to read before concluding "not there".
const MAX_PAGES: usize = 20;

/// Which step of which incident posted a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark<'a> {
    pub incident_id: &'a str,
    pub step: &'a str,
}

impl Mark<'_> {
    /// The `metadata` argument of `chat.postMessage`.
    pub fn metadata(&self) -> Value {
        json!({
            "event_type": MARK_EVENT_TYPE,
            "event_payload": { "incident_id": self.incident_id, "step": self.step },
        })
    }

    fn is_on(&self, message: &Value) -> bool {
        let m = &message["metadata"];
        m["event_type"] == MARK_EVENT_TYPE
            && m["event_payload"]["incident_id"] == self.incident_id
            && m["event_payload"]["step"] == self.step
    }
}

#[derive(Deserialize)]
struct Listed {
    ts: String,
}

fn next_cursor(body: &Value) -> Option<String> {
    body["response_metadata"]["next_cursor"]
        .as_str()
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
}

impl SlackClient {
    /// `chat.postMessage` carrying `mark`, so a later run can find it.
    pub async fn chat_post_marked(
        &self,
        channel: &str,
        message: &SlackMessage,
        thread_ts: Option<&str>,
        mark: Mark<'_>,
    ) -> Result<PostedMessage, SlackError> {
        self.post(channel, message, thread_ts, Some(&mark.metadata()))
            .await
    }

    /// The message carrying `mark` in `channel` (in the thread of `thread_ts`, when given),
    /// newest first: a step looks right after its own interrupted run, so what it looks
    /// for is among the latest messages.
    pub async fn find_marked(
        &self,
        channel: &str,
        thread_ts: Option<&str>,
        mark: Mark<'_>,
    ) -> Result<Option<PostedMessage>, SlackError> {
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut args = vec![
                ("channel", channel.to_owned()),
                ("include_all_metadata", "true".to_owned()),
                ("limit", "200".to_owned()),
            ];
            if let Some(c) = &cursor {
                args.push(("cursor", c.clone()));
            }
            let method = match thread_ts {
                Some(ts) => {
                    args.push(("ts", ts.to_owned()));
                    "conversations.replies"
                }
                None => "conversations.history",
            };
            let body = self.call(method, &args).await?;
            let messages = body["messages"].as_array().cloned().unwrap_or_default();
            if let Some(found) = messages.iter().find(|m| mark.is_on(m)) {
                let listed: Listed =
                    serde_json::from_value(found.clone()).map_err(|e| SlackError::Decode {
                        method: method.to_owned(),
                        detail: e.to_string(),
                    })?;
                return Ok(Some(PostedMessage {
                    channel: channel.to_owned(),
                    ts: listed.ts,
                }));
            }
            match next_cursor(&body) {
                Some(c) => cursor = Some(c),
                None => return Ok(None),
            }
        }
        Ok(None)
    }

    /// The unarchived channel called `name` (`conversations.list`, paged), if any.
    pub async fn find_channel_named(
        &self,
        name: &str,
        is_private: bool,
    ) -> Result<Option<Channel>, SlackError> {
        let types = if is_private {
            "private_channel"
        } else {
            "public_channel"
        };
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut args = vec![
                ("types", types.to_owned()),
                ("exclude_archived", "true".to_owned()),
                ("limit", "999".to_owned()),
            ];
            if let Some(c) = &cursor {
                args.push(("cursor", c.clone()));
            }
            let body = self.call("conversations.list", &args).await?;
            let channels: Vec<crate::client::RawChannel> =
                serde_json::from_value(body["channels"].clone()).map_err(|e| {
                    SlackError::Decode {
                        method: "conversations.list".into(),
                        detail: e.to_string(),
                    }
                })?;
            if let Some(c) = channels.into_iter().find(|c| c.name == name) {
                return Ok(Some(c.into()));
            }
            match next_cursor(&body) {
                Some(c) => cursor = Some(c),
                None => return Ok(None),
            }
        }
        Ok(None)
    }
}
