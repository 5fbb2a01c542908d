//! `auth.*` and `apps.*`: who the bot token is, and the Socket Mode URL for the app-level
//! token.

use super::args::ApiResult;
use super::{PERMALINK_HOST, World, unsimulated};
use crate::spec::MethodSpec;
use serde_json::json;

impl World {
    /// `auth.*` and `apps.*`.
    pub(super) fn apply_auth(&self, spec: &MethodSpec) -> ApiResult {
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
            _ => unsimulated(spec),
        }
    }
}
