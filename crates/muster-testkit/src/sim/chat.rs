//! `chat.*`: the bot posts (also ephemerally), updates its messages and links to messages.

use super::args::{ApiError, ApiResult, Args, arg, err, json_arg, text_arg};
use super::{PERMALINK_HOST, SimMessage, World, unsimulated};
use crate::spec::MethodSpec;
use serde_json::{Value, json};
use std::collections::BTreeMap;

impl World {
    /// `chat.*`.
    pub(super) fn apply_chat(&mut self, spec: &MethodSpec, args: &Args) -> ApiResult {
        match spec.name.as_str() {
            "chat.postMessage" | "chat.postEphemeral" => self.chat_post(spec, args),
            "chat.update" => self.chat_update(args),
            "chat.getPermalink" => self.chat_get_permalink(args),
            _ => unsimulated(spec),
        }
    }

    /// `chat.postMessage` and `chat.postEphemeral` (the latter to a member of the channel).
    fn chat_post(&mut self, spec: &MethodSpec, args: &Args) -> ApiResult {
        // Slack resolves `#name` for chat methods; answers carry the id.
        let channel = self.resolve_name(&arg(args, "channel").unwrap_or_default());
        self.writable_channel(&channel)?;
        let blocks = self.checked_blocks(args)?;
        let ephemeral_to = if spec.name == "chat.postEphemeral" {
            let user = arg(args, "user").unwrap_or_default();
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
            thread_ts: arg(args, "thread_ts"),
            user: self.bot_user_id.clone(),
            text: arg(args, "text").unwrap_or_default(),
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

    /// `chat.update`: the bot's own messages only.
    fn chat_update(&mut self, args: &Args) -> ApiResult {
        let channel = arg(args, "channel").unwrap_or_default();
        self.visible_channel(&channel)?;
        let ts = arg(args, "ts").unwrap_or_default();
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

    /// `chat.getPermalink`: a message's link, naming its thread for replies.
    fn chat_get_permalink(&self, args: &Args) -> ApiResult {
        let channel = arg(args, "channel").unwrap_or_default();
        self.visible_channel(&channel)?;
        let ts = arg(args, "message_ts").unwrap_or_default();
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

    /// The id of the channel called `#name` (unchanged if not of that form or unknown).
    fn resolve_name(&self, channel: &str) -> String {
        channel
            .strip_prefix('#')
            .and_then(|name| self.channels.values().find(|c| c.name == name))
            .map(|c| c.id.clone())
            .unwrap_or_else(|| channel.to_owned())
    }

    /// The `blocks` argument, checked like Slack checks it (valid JSON array of blocks,
    /// within Block Kit limits); Null when absent.
    fn checked_blocks(&self, args: &Args) -> Result<Value, ApiError> {
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
}
