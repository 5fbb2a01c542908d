//! The Slack app manifest for a Muster deployment (paste it into "Create an app → From
//! an app manifest" on api.slack.com).

use crate::blocks::ids::CALLBACK_DECLARE_FROM_MESSAGE;
use serde_json::{Value, json};

/// The bot scopes each Web API method the client calls needs, as Slack's method pages
/// list them (public channels, then private ones: security incidents are private).
/// `apps.connections.open` takes the app-level token (`connections:write`, granted in the
/// app's settings, not by the manifest); `auth.test`, `chat.getPermalink` and `views.*`
/// need no scope. A test checks that every method called in `client.rs` and `marks.rs` is
/// here, so a new call cannot ship without its scope.
pub const METHOD_SCOPES: &[(&str, &[&str])] = &[
    ("apps.connections.open", &[]),
    ("auth.test", &[]),
    ("bookmarks.add", &["bookmarks:write"]),
    // Finding the bookmarks an interrupted `bookmarks` step already added.
    ("bookmarks.list", &["bookmarks:read"]),
    ("chat.getPermalink", &[]),
    ("chat.postEphemeral", &["chat:write"]),
    ("chat.postMessage", &["chat:write"]),
    ("chat.update", &["chat:write"]),
    (
        "conversations.archive",
        &["channels:manage", "groups:write"],
    ),
    ("conversations.create", &["channels:manage", "groups:write"]),
    (
        "conversations.history",
        &["channels:history", "groups:history"],
    ),
    ("conversations.info", &["channels:read", "groups:read"]),
    ("conversations.invite", &["channels:manage", "groups:write"]),
    ("conversations.join", &["channels:join"]),
    ("conversations.list", &["channels:read", "groups:read"]),
    (
        "conversations.replies",
        &["channels:history", "groups:history"],
    ),
    (
        "conversations.setPurpose",
        &["channels:manage", "groups:write"],
    ),
    (
        "conversations.setTopic",
        &["channels:manage", "groups:write"],
    ),
    ("usergroups.users.list", &["usergroups:read"]),
    ("users.info", &["users:read"]),
    ("views.open", &[]),
    ("views.update", &[]),
];

/// The bot scopes each subscribed event needs.
pub const EVENT_SCOPES: &[(&str, &str)] = &[
    ("reaction_added", "reactions:read"),
    ("reaction_removed", "reactions:read"),
    ("message.channels", "channels:history"),
    ("message.groups", "groups:history"),
];

/// Bot scopes: the slash command, plus what the client's calls ([`METHOD_SCOPES`]) and the
/// subscribed events ([`EVENT_SCOPES`]) need, and nothing more.
pub const BOT_SCOPES: &[&str] = &[
    "commands",
    "channels:manage",
    "channels:join",
    "channels:read",
    "groups:write",
    "groups:read",
    "chat:write",
    "bookmarks:read",
    "bookmarks:write",
    "reactions:read",
    "channels:history",
    "groups:history",
    "users:read",
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
                // Mentions arrive as ids (`<@U123|ana>`, `<!channel>`) and typed `&<>` as
                // entities, which the command parser decodes once: a role goes to the user
                // id Slack resolved, not to a name that looks like one.
                "should_escape": true
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

    /// The Web API methods a source file calls: the string literals shaped like a method
    /// name (`family.method`) in its code above the tests.
    fn called_methods(src: &str) -> Vec<String> {
        const FAMILIES: &[&str] = &[
            "apps",
            "auth",
            "bookmarks",
            "chat",
            "conversations",
            "files",
            "pins",
            "reactions",
            "reminders",
            "team",
            "usergroups",
            "users",
            "views",
        ];
        let code = src.split("#[cfg(test)]").next().unwrap_or(src);
        code.split('"')
            .skip(1)
            .step_by(2)
            .filter(|lit| {
                lit.split_once('.').is_some_and(|(family, rest)| {
                    FAMILIES.contains(&family)
                        && !rest.is_empty()
                        && lit.chars().all(|c| c.is_ascii_alphabetic() || c == '.')
                })
            })
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn every_method_the_client_calls_has_its_scopes_in_the_manifest() {
        let mut called = called_methods(include_str!("client.rs"));
        called.extend(called_methods(include_str!("marks.rs")));
        called.sort();
        called.dedup();
        assert!(called.len() >= 20, "the scan found too few: {called:?}");
        for needed in [
            "bookmarks.list",
            "conversations.list",
            "conversations.replies",
        ] {
            assert!(called.iter().any(|m| m == needed), "{needed} not found");
        }
        let m = manifest("https://x.test", "/incident");
        let granted: Vec<&str> = m["oauth_config"]["scopes"]["bot"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        for method in &called {
            let (_, scopes) = METHOD_SCOPES
                .iter()
                .find(|(name, _)| name == method)
                .unwrap_or_else(|| panic!("{method} is called but METHOD_SCOPES lacks it"));
            for s in *scopes {
                assert!(granted.contains(s), "{method} needs {s}");
            }
        }
        for (event, scope) in EVENT_SCOPES {
            assert!(BOT_EVENTS.contains(event), "{event}");
            assert!(granted.contains(scope), "{event} needs {scope}");
        }
        // Nothing asked for that nothing uses.
        for s in &granted {
            let used = *s == "commands"
                || METHOD_SCOPES.iter().any(|(_, ss)| ss.contains(s))
                || EVENT_SCOPES.iter().any(|(_, e)| e == s);
            assert!(used, "{s} is granted but unused");
        }
    }

    #[test]
    fn mentions_arrive_as_user_ids() {
        for m in [
            manifest("https://x.test", "/incident"),
            socket_mode_manifest("/incident"),
        ] {
            assert_eq!(m["features"]["slash_commands"][0]["should_escape"], true);
        }
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
