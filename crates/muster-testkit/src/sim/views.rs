//! `views.*`: modals opened with a trigger id and updated by id or external id.

use super::args::{ApiError, ApiResult, Args, arg, err, json_arg};
use super::{SimView, TS_BASE, World, unsimulated};
use crate::spec::MethodSpec;
use serde_json::{Value, json};

impl World {
    /// `views.*`.
    pub(super) fn apply_views(&mut self, spec: &MethodSpec, args: &Args) -> ApiResult {
        match spec.name.as_str() {
            "views.open" => self.views_open(spec, args),
            "views.update" => self.views_update(spec, args),
            _ => unsimulated(spec),
        }
    }

    /// `views.open`: a modal; each trigger id opens one view.
    fn views_open(&mut self, spec: &MethodSpec, args: &Args) -> ApiResult {
        let trigger = arg(args, "trigger_id").or_else(|| arg(args, "interactivity_pointer"));
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

    /// `views.update`: by `view_id` or `external_id`, refused when `hash` is stale.
    fn views_update(&mut self, spec: &MethodSpec, args: &Args) -> ApiResult {
        let view = self.checked_view(args)?;
        let id = match (arg(args, "view_id"), arg(args, "external_id")) {
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
        if let Some(h) = arg(args, "hash")
            && h != existing.hash
        {
            return Err(err("hash_conflict"));
        }
        let trigger = existing.trigger_id.clone();
        let stored = self.store_view(spec, &id, trigger, view);
        Ok(json!({ "view": stored }))
    }

    /// The `view` argument: a modal within Block Kit limits.
    fn checked_view(&self, args: &Args) -> Result<Value, ApiError> {
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
