//! `reactions.*`: the bot reacts to messages.

use super::args::{ApiResult, Args, arg, err};
use super::{World, unsimulated};
use crate::spec::MethodSpec;
use serde_json::json;

impl World {
    /// `reactions.*`.
    pub(super) fn apply_reactions(&mut self, spec: &MethodSpec, args: &Args) -> ApiResult {
        match spec.name.as_str() {
            "reactions.add" => self.reactions_add(args),
            _ => unsimulated(spec),
        }
    }

    /// `reactions.add`: the bot reacts, once per emoji.
    fn reactions_add(&mut self, args: &Args) -> ApiResult {
        let channel = arg(args, "channel").unwrap_or_default();
        let c = self.visible_channel(&channel)?;
        if c.is_archived {
            return Err(err("is_archived"));
        }
        let ts = arg(args, "timestamp").unwrap_or_default();
        let name = arg(args, "name").unwrap_or_default();
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
}
