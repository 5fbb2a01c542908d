//! `users.*` and `usergroups.*`: workspace members and user groups.

use super::args::{ApiResult, Args, arg, err};
use super::{World, unsimulated};
use crate::spec::MethodSpec;
use serde_json::json;

impl World {
    /// `users.*` and `usergroups.*`.
    pub(super) fn apply_users(&mut self, spec: &MethodSpec, args: &Args) -> ApiResult {
        match spec.name.as_str() {
            "users.info" => self.users_info(spec, args),
            "usergroups.users.list" => self.usergroups_users_list(args),
            _ => unsimulated(spec),
        }
    }

    /// `users.info`: the example user, with the member's names, in UTC.
    fn users_info(&self, spec: &MethodSpec, args: &Args) -> ApiResult {
        let id = arg(args, "user").unwrap_or_default();
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

    /// `usergroups.users.list`: a user group's members.
    fn usergroups_users_list(&self, args: &Args) -> ApiResult {
        let id = arg(args, "usergroup").unwrap_or_default();
        let users = self
            .usergroups
            .get(&id)
            .ok_or_else(|| err("no_such_subteam"))?;
        Ok(json!({ "users": users }))
    }
}
