//! `conversations.*`: creating channels, inviting, topics and purposes, archiving,
//! joining, listing, and reading history and threads.

use super::args::{ApiError, ApiResult, Args, TsWindow, arg, bool_arg, err, limit_arg};
use super::{SimChannel, SimMessage, World, unsimulated};
use crate::spec::{self, MethodSpec};
use serde_json::{Value, json};

impl World {
    /// `conversations.*`.
    pub(super) fn apply_conversations(&mut self, spec: &MethodSpec, args: &Args) -> ApiResult {
        match spec.name.as_str() {
            "conversations.create" => self.conversations_create(spec, args),
            "conversations.invite" => self.conversations_invite(spec, args),
            "conversations.setTopic" | "conversations.setPurpose" => {
                self.conversations_set_topic_or_purpose(spec, args)
            }
            "conversations.archive" => self.conversations_archive(args),
            "conversations.info" => self.conversations_info(spec, args),
            "conversations.join" => self.conversations_join(spec, args),
            "conversations.members" => self.conversations_members(args),
            "conversations.list" => self.conversations_list(spec, args),
            "conversations.history" => self.conversations_history(args),
            "conversations.replies" => self.conversations_replies(args),
            _ => unsimulated(spec),
        }
    }

    /// `conversations.create`: a channel with a valid name no other channel has (archived
    /// ones keep theirs), the bot its only member.
    fn conversations_create(&mut self, spec: &MethodSpec, args: &Args) -> ApiResult {
        let name = arg(args, "name").unwrap_or_default();
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

    /// `conversations.invite`: adds the listed users; with `force`, the valid ones even when
    /// others fail.
    fn conversations_invite(&mut self, spec: &MethodSpec, args: &Args) -> ApiResult {
        let channel = arg(args, "channel").unwrap_or_default();
        self.writable_channel(&channel)?;
        let force = bool_arg(args, "force");
        let users: Vec<String> = arg(args, "users")
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

    /// `conversations.setTopic` and `conversations.setPurpose` (at most 250 characters); only
    /// `setTopic` answers the channel.
    fn conversations_set_topic_or_purpose(&mut self, spec: &MethodSpec, args: &Args) -> ApiResult {
        let channel = arg(args, "channel").unwrap_or_default();
        self.writable_channel(&channel)?;
        let (key, value) = if spec.name == "conversations.setTopic" {
            ("topic", arg(args, "topic").unwrap_or_default())
        } else {
            ("purpose", arg(args, "purpose").unwrap_or_default())
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

    /// `conversations.archive`: by a member, once.
    fn conversations_archive(&mut self, args: &Args) -> ApiResult {
        let channel = arg(args, "channel").unwrap_or_default();
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

    /// `conversations.info`: a channel the bot can see.
    fn conversations_info(&self, spec: &MethodSpec, args: &Args) -> ApiResult {
        let channel = arg(args, "channel").unwrap_or_default();
        let c = self.visible_channel(&channel)?.clone();
        Ok(json!({ "channel": self.channel_json(spec, &c) }))
    }

    /// `conversations.join`: public, unarchived channels; joining again is a warning.
    fn conversations_join(&mut self, spec: &MethodSpec, args: &Args) -> ApiResult {
        let channel = arg(args, "channel").unwrap_or_default();
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

    /// `conversations.members`: every member, on one page.
    fn conversations_members(&self, args: &Args) -> ApiResult {
        let channel = arg(args, "channel").unwrap_or_default();
        let c = self.visible_channel(&channel)?;
        Ok(json!({
            "members": c.members.iter().collect::<Vec<_>>(),
            "response_metadata": { "next_cursor": "" },
        }))
    }

    /// `conversations.list`: by `types` (private channels only where the bot is a member),
    /// paged with `sim:N` cursors.
    fn conversations_list(&self, spec: &MethodSpec, args: &Args) -> ApiResult {
        let types = arg(args, "types").unwrap_or_else(|| "public_channel".into());
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
        let start = match arg(args, "cursor").filter(|c| !c.is_empty()) {
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

    /// `conversations.history`: a channel's messages in the window, thread replies left in
    /// their threads, newest first.
    fn conversations_history(&self, args: &Args) -> ApiResult {
        let channel = arg(args, "channel").unwrap_or_default();
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
        if let Some(latest) = arg(args, "latest") {
            body["latest"] = json!(latest);
        }
        Ok(body)
    }

    /// `conversations.replies`: a thread's parent, then its replies in the window, oldest
    /// first.
    fn conversations_replies(&self, args: &Args) -> ApiResult {
        let channel = arg(args, "channel").unwrap_or_default();
        self.visible_channel(&channel)?;
        let ts = arg(args, "ts").unwrap_or_default();
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

    /// Messages of `channel` everyone sees, thread replies included, oldest first.
    fn public_messages<'a>(&'a self, channel: &'a str) -> impl Iterator<Item = &'a SimMessage> {
        self.messages
            .iter()
            .filter(move |m| m.channel == channel && m.ephemeral_to.is_none())
    }

    /// A message as `conversations.history`/`replies` list it; Slack includes metadata
    /// only when asked with `include_all_metadata`.
    fn listed_json(&self, m: &SimMessage, with_metadata: bool) -> Value {
        let mut v = self.thread_json(m);
        if let (true, Some(md)) = (with_metadata, &m.metadata) {
            v["metadata"] = md.clone();
        }
        v
    }

    /// A message as the read methods show it: with `reply_count` on a thread's parent
    /// and `parent_user_id` on its replies.
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
