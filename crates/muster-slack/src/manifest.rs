//! The Slack app manifest for a Muster deployment (paste it into "Create an app → From
//! an app manifest" on api.slack.com).

use crate::blocks::ids::CALLBACK_DECLARE_FROM_MESSAGE;
use serde_json::{Value, json};

/// Bot scopes: what the client's calls and the subscribed events need.
pub const BOT_SCOPES: &[&str] = &[
    "commands",
    // conversations.create / archive / setTopic / setPurpose / join / invite (public)
    "channels:manage",
    "channels:join",
    "channels:read",
    // the same for private channels (security incidents)
    "groups:write",
    "groups:read",
    // chat.postMessage, chat.update, chat.postEphemeral
    "chat:write",
    "bookmarks:write",
    // reaction_added / reaction_removed events
    "reactions:read",
    // message.channels / message.groups events, chat.getPermalink context
    "channels:history",
    "groups:history",
    // users.info
    "users:read",
    // usergroups.users.list
    "usergroups:read",
];

/// Events the app subscribes to as a bot.
pub const BOT_EVENTS: &[&str] = &[
    "reaction_added",
    "reaction_removed",
    "message.channels",
    "message.groups",
];

/// The manifest for a deployment reachable at `base_url` (e.g.
/// `https://muster.example.org`), with the slash command `command_name` (with or without
/// its leading slash).
pub fn manifest(base_url: &str, command_name: &str) -> Value {
    let base = base_url.trim().trim_end_matches('/');
    let command = format!("/{}", command_name.trim().trim_start_matches('/'));
    json!({
        "_metadata": { "major_version": 1, "minor_version": 1 },
        "display_information": {
            "name": "Muster",
            "description": "Declare and run incidents from Slack.",
            "background_color": "#1d3557",
            "long_description": "Muster opens a channel for each incident, invites the right people, announces it, and keeps the record: roles, status, timeline, updates, action items and the report for the review. Type the slash command with a title to declare an incident, or use the message shortcut on an alert."
        },
        "features": {
            "bot_user": { "display_name": "Muster", "always_online": true },
            "slash_commands": [{
                "command": command,
                "url": format!("{base}/slack/commands"),
                "description": "Declare an incident, or manage the one in this channel",
                "usage_hint": "[title] | status | severity | role | update | note | action | resolve | close | show | help",
                "should_escape": false
            }],
            "shortcuts": [{
                "name": "Declare an incident from this message",
                "type": "message",
                "callback_id": CALLBACK_DECLARE_FROM_MESSAGE,
                "description": "Open the declare form with this message as the source"
            }]
        },
        "oauth_config": {
            "scopes": { "bot": BOT_SCOPES }
        },
        "settings": {
            "event_subscriptions": {
                "request_url": format!("{base}/slack/events"),
                "bot_events": BOT_EVENTS
            },
            "interactivity": {
                "is_enabled": true,
                "request_url": format!("{base}/slack/interactions")
            },
            "org_deploy_enabled": false,
            "socket_mode_enabled": false,
            "token_rotation_enabled": false
        }
    })
}

/// The manifest for Socket Mode: the same app with `socket_mode_enabled` and no request
/// URLs (Slack delivers commands, events and interactions over the WebSockets Muster
/// opens). Socket Mode also needs an app-level token with the `connections:write` scope,
/// which is created in the app's settings, not by the manifest.
pub fn socket_mode_manifest(command_name: &str) -> Value {
    let mut m = manifest("https://unused.invalid", command_name);
    if let Some(cmd) = m["features"]["slash_commands"][0].as_object_mut() {
        cmd.remove("url");
    }
    let settings = &mut m["settings"];
    for section in ["event_subscriptions", "interactivity"] {
        if let Some(o) = settings[section].as_object_mut() {
            o.remove("request_url");
        }
    }
    settings["socket_mode_enabled"] = json!(true);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_mode_manifest_has_no_urls() {
        let m = socket_mode_manifest("/incident");
        assert_eq!(m["settings"]["socket_mode_enabled"], true);
        let text = m.to_string();
        assert!(!text.contains("https://"), "{text}");
        assert!(!text.contains("request_url") && !text.contains("\"url\""));
        assert_eq!(m["features"]["slash_commands"][0]["command"], "/incident");
        assert_eq!(m["settings"]["interactivity"]["is_enabled"], true);
        assert_eq!(
            m["settings"]["event_subscriptions"]["bot_events"],
            manifest("https://x.test", "/incident")["settings"]["event_subscriptions"]["bot_events"]
        );
        assert_eq!(
            manifest("https://x.test", "/incident")["settings"]["socket_mode_enabled"],
            false
        );
    }

    #[test]
    fn manifest_points_every_url_at_the_deployment() {
        let m = manifest("https://muster.example.org/", "incident");
        let cmd = &m["features"]["slash_commands"][0];
        assert_eq!(cmd["command"], "/incident");
        assert_eq!(cmd["url"], "https://muster.example.org/slack/commands");
        assert_eq!(
            m["settings"]["event_subscriptions"]["request_url"],
            "https://muster.example.org/slack/events"
        );
        assert_eq!(
            m["settings"]["interactivity"]["request_url"],
            "https://muster.example.org/slack/interactions"
        );
        let sc = &m["features"]["shortcuts"][0];
        assert_eq!(sc["type"], "message");
        assert_eq!(sc["callback_id"], "declare_from_message");
        assert_eq!(sc["name"], "Declare an incident from this message");
        assert_eq!(
            manifest("https://x.test", "/sev")["features"]["slash_commands"][0]["command"],
            "/sev"
        );
    }

    #[test]
    fn manifest_has_the_scopes_and_events_issue_4_lists() {
        let m = manifest("https://x.test", "/incident");
        let scopes: Vec<&str> = m["oauth_config"]["scopes"]["bot"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        for s in [
            "commands",
            "channels:manage",
            "groups:write",
            "chat:write",
            "bookmarks:write",
            "reactions:read",
            "channels:history",
            "groups:history",
            "users:read",
            "usergroups:read",
        ] {
            assert!(scopes.contains(&s), "missing scope {s}");
        }
        let events = &m["settings"]["event_subscriptions"]["bot_events"];
        for e in [
            "reaction_added",
            "reaction_removed",
            "message.channels",
            "message.groups",
        ] {
            assert!(events.as_array().unwrap().iter().any(|v| v == e), "{e}");
        }
    }
}
