//! `bookmarks.*`: link bookmarks in a channel's header.

use super::args::{ApiResult, Args, arg, err};
use super::{SimBookmark, World, unsimulated};
use crate::spec::MethodSpec;
use serde_json::{Value, json};

impl World {
    /// `bookmarks.*`.
    pub(super) fn apply_bookmarks(&mut self, spec: &MethodSpec, args: &Args) -> ApiResult {
        match spec.name.as_str() {
            "bookmarks.add" => self.bookmarks_add(spec, args),
            "bookmarks.list" => self.bookmarks_list(spec, args),
            _ => unsimulated(spec),
        }
    }

    /// `bookmarks.add`: link bookmarks to http(s) addresses.
    fn bookmarks_add(&mut self, spec: &MethodSpec, args: &Args) -> ApiResult {
        let channel = arg(args, "channel_id").unwrap_or_default();
        self.visible_channel(&channel)?;
        let kind = arg(args, "type").unwrap_or_default();
        if kind != "link" {
            return Err(err("invalid_bookmark_type"));
        }
        let link = arg(args, "link").unwrap_or_default();
        if !(link.starts_with("http://") || link.starts_with("https://")) {
            return Err(err("invalid_link"));
        }
        let n = self.next_seq();
        let b = SimBookmark {
            id: format!("Bk{n:010}"),
            channel_id: channel,
            title: arg(args, "title").unwrap_or_default(),
            link,
            kind,
        };
        let body = json!({ "bookmark": self.bookmark_json(spec, &b) });
        self.bookmarks.push(b);
        Ok(body)
    }

    /// `bookmarks.list`: a channel's bookmarks, in the order added.
    fn bookmarks_list(&self, spec: &MethodSpec, args: &Args) -> ApiResult {
        let channel = arg(args, "channel_id").unwrap_or_default();
        self.visible_channel(&channel)?;
        let list: Vec<Value> = self
            .bookmarks
            .iter()
            .filter(|b| b.channel_id == channel)
            .map(|b| self.bookmark_json(spec, b))
            .collect();
        Ok(json!({ "bookmarks": list }))
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
}
