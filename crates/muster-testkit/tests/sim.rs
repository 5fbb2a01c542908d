//! The simulator itself, driven over raw HTTP (form and JSON bodies), checked against
//! the method descriptions it was derived from.

use muster_testkit::spec;
use muster_testkit::{Fault, SlackSim};
use serde_json::{Value, json};
use std::collections::BTreeSet;

struct Raw {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Raw {
    fn new(sim: &SlackSim) -> Raw {
        muster_slack::client::install_crypto_provider();
        Raw {
            http: reqwest::Client::new(),
            base: sim.base_url(),
            token: sim.token().expose().to_owned(),
        }
    }

    async fn form_status(
        &self,
        method: &str,
        args: &[(&str, &str)],
    ) -> (u16, Option<String>, Value) {
        let r = self
            .http
            .post(format!("{}{method}", self.base))
            .bearer_auth(&self.token)
            .form(args)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let retry = r
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        let text = r.text().await.unwrap();
        (
            status,
            retry,
            serde_json::from_str(&text).unwrap_or(Value::Null),
        )
    }

    async fn form(&self, method: &str, args: &[(&str, &str)]) -> Value {
        let (status, _, body) = self.form_status(method, args).await;
        assert_eq!(status, 200, "{method}");
        body
    }

    async fn json(&self, method: &str, body: Value) -> Value {
        self.http
            .post(format!("{}{method}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

/// The answer has the shape of the method's response examples: every key it has appears
/// in some successful example, it has every key all successful examples share (except
/// `warning` and `response_metadata`, which Slack adds only in some cases), and its
/// nested objects have the keys of the example's.
fn assert_shaped_like_examples(method: &str, answer: &Value) {
    let spec = spec::method(method).unwrap();
    let examples: Vec<&Value> = spec.ok_examples().collect();
    let union: BTreeSet<String> = examples.iter().flat_map(|e| keys(e)).collect();
    let common: BTreeSet<String> = examples
        .iter()
        .map(|e| keys(e))
        .reduce(|a, b| a.intersection(&b).cloned().collect())
        .unwrap()
        .into_iter()
        .filter(|k| k != "warning" && k != "response_metadata")
        .collect();
    let got = keys(answer);
    assert!(
        got.is_subset(&union),
        "{method}: {got:?} not within {union:?}"
    );
    assert!(
        got.is_superset(&common),
        "{method}: {got:?} lacks some of {common:?}"
    );
    for nested in ["channel", "view", "user", "bookmark"] {
        if let (Some(ex), Some(ans)) = (spec.example_object(nested), answer.get(nested)) {
            let missing: Vec<_> = keys(ex).difference(&keys(ans)).cloned().collect();
            assert!(missing.is_empty(), "{method}.{nested} lacks {missing:?}");
        }
    }
}

fn assert_clean(sim: &SlackSim) {
    assert!(
        sim.unlisted_errors().is_empty(),
        "{:?}",
        sim.unlisted_errors()
    );
}

#[tokio::test]
async fn unknown_methods_and_bad_tokens_are_refused() {
    let sim = SlackSim::start().await;
    let raw = Raw::new(&sim);
    assert_eq!(
        raw.form("conversations.destroy", &[]).await["error"],
        "unknown_method"
    );
    assert_eq!(sim.rejections()[0].method, "conversations.destroy");

    let no_token: Value = reqwest::Client::new()
        .post(format!("{}auth.test", sim.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(no_token["error"], "not_authed");
    let bad = Raw {
        token: "xoxb-wrong".into(),
        ..Raw::new(&sim)
    };
    assert_eq!(bad.form("auth.test", &[]).await["error"], "invalid_auth");
    // The token may also come as an argument.
    let via_arg: Value = reqwest::Client::new()
        .post(format!("{}auth.test", sim.base_url()))
        .form(&[("token", sim.token().expose())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(via_arg["ok"], true);
    assert_eq!(via_arg["user_id"], sim.bot_user_id());
    assert_shaped_like_examples("auth.test", &via_arg);
    assert_clean(&sim);
}

#[tokio::test]
async fn arguments_outside_the_description_are_rejected() {
    let sim = SlackSim::start().await;
    let raw = Raw::new(&sim);
    let r = raw
        .form(
            "conversations.create",
            &[("name", "ok-name"), ("private", "true")],
        )
        .await;
    assert_eq!(r["error"], "invalid_arguments");
    assert!(
        r["response_metadata"]["messages"][0]
            .as_str()
            .unwrap()
            .contains("private")
    );
    let r = raw
        .form(
            "conversations.create",
            &[("name", "ok-name"), ("is_private", "maybe")],
        )
        .await;
    assert_eq!(r["error"], "invalid_arguments");
    let r = raw
        .form("conversations.info", &[("channel", "general")])
        .await;
    assert_eq!(r["error"], "invalid_arguments");
    // Missing required arguments: the code the description lists.
    assert_eq!(
        raw.form("conversations.create", &[]).await["error"],
        "missing_argument"
    );
    let r = raw
        .form("conversations.setTopic", &[("channel", "C00000001")])
        .await;
    assert_eq!(r["error"], "invalid_arguments");
    assert_eq!(
        r["response_metadata"]["messages"][0],
        "[ERROR] missing required field: topic"
    );
    let r = raw
        .form("views.open", &[("view", "{\"type\":\"modal\"}")])
        .await;
    assert_eq!(r["error"], "invalid_arguments");
    // Nothing refused reached the state or the call log.
    assert_eq!(sim.rejections().len(), 6);
    assert!(sim.all_calls().is_empty());
    assert!(sim.channels().is_empty());
    assert_clean(&sim);
}

#[tokio::test]
async fn channel_lifecycle_with_real_errors() {
    let sim = SlackSim::start().await;
    sim.add_user("U0ALICE01", "alice");
    sim.add_user("U0BOB0001", "bob");
    let raw = Raw::new(&sim);

    let r = raw
        .form(
            "conversations.create",
            &[("name", "incident-1"), ("is_private", "false")],
        )
        .await;
    assert_shaped_like_examples("conversations.create", &r);
    let id = r["channel"]["id"].as_str().unwrap().to_owned();
    assert_eq!(r["channel"]["name"], "incident-1");
    assert_eq!(r["channel"]["is_member"], true);
    assert_eq!(
        raw.form("conversations.create", &[("name", "incident-1")])
            .await["error"],
        "name_taken"
    );
    for (bad, code) in [
        ("Incident", "invalid_name_specials"),
        ("has space", "invalid_name_specials"),
        ("---", "invalid_name_punctuation"),
    ] {
        assert_eq!(
            raw.form("conversations.create", &[("name", bad)]).await["error"],
            code,
            "{bad}"
        );
    }
    let long = "a".repeat(81);
    assert_eq!(
        raw.form("conversations.create", &[("name", &long)]).await["error"],
        "invalid_name_maxlength"
    );

    let r = raw
        .form(
            "conversations.invite",
            &[("channel", &id), ("users", "U0ALICE01,U0BOB0001")],
        )
        .await;
    assert_shaped_like_examples("conversations.invite", &r);
    assert_eq!(sim.members(&id).len(), 3);
    let r = raw
        .form(
            "conversations.invite",
            &[("channel", &id), ("users", "U0ALICE01")],
        )
        .await;
    assert_eq!(r["error"], "already_in_channel");
    assert_eq!(r["errors"][0]["user"], "U0ALICE01");
    let r = raw
        .form(
            "conversations.invite",
            &[("channel", &id), ("users", "U0NOBODY1")],
        )
        .await;
    assert_eq!(r["error"], "user_not_found");
    let r = raw
        .form(
            "conversations.invite",
            &[("channel", "C99999999"), ("users", "U0ALICE01")],
        )
        .await;
    assert_eq!(r["error"], "channel_not_found");

    let r = raw
        .form(
            "conversations.setTopic",
            &[("channel", &id), ("topic", "INC-1 | SEV2")],
        )
        .await;
    assert_shaped_like_examples("conversations.setTopic", &r);
    let r = raw
        .form(
            "conversations.setPurpose",
            &[("channel", &id), ("purpose", "Handle INC-1")],
        )
        .await;
    assert_shaped_like_examples("conversations.setPurpose", &r);
    let too_long = "t".repeat(251);
    assert_eq!(
        raw.form(
            "conversations.setTopic",
            &[("channel", &id), ("topic", &too_long)]
        )
        .await["error"],
        "too_long"
    );
    let c = sim.channel(&id).unwrap();
    assert_eq!(
        (c.topic.as_str(), c.purpose.as_str()),
        ("INC-1 | SEV2", "Handle INC-1")
    );

    let r = raw.form("conversations.info", &[("channel", &id)]).await;
    assert_shaped_like_examples("conversations.info", &r);
    assert_eq!(r["channel"]["topic"]["value"], "INC-1 | SEV2");
    let r = raw.form("conversations.members", &[("channel", &id)]).await;
    assert_shaped_like_examples("conversations.members", &r);

    let r = raw.form("conversations.archive", &[("channel", &id)]).await;
    assert_shaped_like_examples("conversations.archive", &r);
    assert!(sim.channel(&id).unwrap().is_archived);
    assert_eq!(
        raw.form("conversations.archive", &[("channel", &id)]).await["error"],
        "already_archived"
    );
    // An archived channel keeps its name.
    assert_eq!(
        raw.form("conversations.create", &[("name", "incident-1")])
            .await["error"],
        "name_taken"
    );
    assert_eq!(
        raw.form("chat.postMessage", &[("channel", &id), ("text", "hi")])
            .await["error"],
        "is_archived"
    );
    assert_eq!(
        raw.form("conversations.join", &[("channel", &id)]).await["error"],
        "is_archived"
    );
    assert!(sim.rejections().is_empty(), "{:?}", sim.rejections());
    assert_clean(&sim);
}

#[tokio::test]
async fn membership_rules_for_posting_and_joining() {
    let sim = SlackSim::start().await;
    sim.add_user("U0ALICE01", "alice");
    let public = sim.add_channel("announcements", false, &["U0ALICE01"]);
    let private = sim.add_channel("secret", true, &["U0ALICE01"]);
    let raw = Raw::new(&sim);
    assert_eq!(
        raw.form("chat.postMessage", &[("channel", &public), ("text", "hi")])
            .await["error"],
        "not_in_channel"
    );
    // A private channel the bot is not in does not exist, for the bot.
    assert_eq!(
        raw.form("conversations.info", &[("channel", &private)])
            .await["error"],
        "channel_not_found"
    );
    let r = raw
        .form("conversations.join", &[("channel", &public)])
        .await;
    assert_shaped_like_examples("conversations.join", &r);
    assert!(r.get("warning").is_none());
    let r = raw
        .form("conversations.join", &[("channel", &public)])
        .await;
    assert_eq!(r["warning"], "already_in_channel");
    assert_shaped_like_examples("conversations.join", &r);
    let r = raw
        .form(
            "chat.postMessage",
            &[("channel", &public), ("text", "hello")],
        )
        .await;
    assert_shaped_like_examples("chat.postMessage", &r);
    // Chat methods accept `#name` and answer with the id.
    let r = raw
        .form(
            "chat.postMessage",
            &[("channel", "#announcements"), ("text", "by name")],
        )
        .await;
    assert_eq!(r["channel"], public.as_str());
    assert_eq!(sim.messages(&public).len(), 2);
    assert_eq!(
        raw.form("chat.postMessage", &[("channel", "#secret"), ("text", "x")])
            .await["error"],
        "channel_not_found"
    );
    assert_eq!(
        raw.form("chat.postMessage", &[("channel", &public)]).await["error"],
        "no_text"
    );
    assert!(
        sim.rejections().len() == 1,
        "the no_text request is a rejection"
    );
    assert_clean(&sim);
}

#[tokio::test]
async fn messages_blocks_permalinks_and_reactions() {
    let sim = SlackSim::start().await;
    sim.add_user("U0ALICE01", "alice");
    let raw = Raw::new(&sim);
    let id = raw.form("conversations.create", &[("name", "inc")]).await["channel"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let blocks =
        json!([{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]).to_string();
    let r = raw
        .form(
            "chat.postMessage",
            &[("channel", &id), ("text", "hi"), ("blocks", &blocks)],
        )
        .await;
    let ts = r["ts"].as_str().unwrap().to_owned();
    assert_eq!(r["message"]["blocks"][0]["type"], "section");
    let reply = raw
        .form(
            "chat.postMessage",
            &[("channel", &id), ("text", "re"), ("thread_ts", &ts)],
        )
        .await;
    let reply_ts = reply["ts"].as_str().unwrap().to_owned();
    assert!(reply_ts > ts, "timestamps increase");

    let r = raw
        .form(
            "chat.update",
            &[("channel", &id), ("ts", &ts), ("text", "edited")],
        )
        .await;
    assert_shaped_like_examples("chat.update", &r);
    assert!(sim.message(&id, &ts).unwrap().edited);
    let alice_ts = sim.post_as(&id, "U0ALICE01", "from alice");
    assert_eq!(
        raw.form(
            "chat.update",
            &[("channel", &id), ("ts", &alice_ts), ("text", "x")]
        )
        .await["error"],
        "cant_update_message"
    );
    assert_eq!(
        raw.form(
            "chat.update",
            &[("channel", &id), ("ts", "1.000001"), ("text", "x")]
        )
        .await["error"],
        "message_not_found"
    );

    let r = raw
        .form(
            "chat.getPermalink",
            &[("channel", &id), ("message_ts", &reply_ts)],
        )
        .await;
    assert_shaped_like_examples("chat.getPermalink", &r);
    let link = r["permalink"].as_str().unwrap();
    assert!(link.contains(&format!("/archives/{id}/p{}", reply_ts.replace('.', ""))));
    assert!(link.contains(&format!("thread_ts={ts}")));

    let r = raw
        .form(
            "chat.postEphemeral",
            &[("channel", &id), ("user", "U0ALICE01"), ("text", "psst")],
        )
        .await;
    assert_eq!(r["error"], "user_not_in_channel");
    raw.form(
        "conversations.invite",
        &[("channel", &id), ("users", "U0ALICE01")],
    )
    .await;
    let r = raw
        .form(
            "chat.postEphemeral",
            &[("channel", &id), ("user", "U0ALICE01"), ("text", "psst")],
        )
        .await;
    assert_shaped_like_examples("chat.postEphemeral", &r);
    let eph = sim.messages(&id).into_iter().last().unwrap();
    assert_eq!(eph.ephemeral_to.as_deref(), Some("U0ALICE01"));

    let r = raw
        .form(
            "reactions.add",
            &[
                ("channel", &id),
                ("timestamp", &alice_ts),
                ("name", "pushpin"),
            ],
        )
        .await;
    assert_shaped_like_examples("reactions.add", &r);
    assert_eq!(
        raw.form(
            "reactions.add",
            &[
                ("channel", &id),
                ("timestamp", &alice_ts),
                ("name", "pushpin")
            ]
        )
        .await["error"],
        "already_reacted"
    );
    assert!(sim.react(&id, &alice_ts, "U0ALICE01", "floppy_disk"));
    assert_eq!(
        sim.message(&id, &alice_ts).unwrap().reactions["floppy_disk"],
        ["U0ALICE01"]
    );

    // Blocks over Block Kit limits are refused like Slack does.
    let too_many = Value::Array(vec![json!({"type": "divider"}); 51]).to_string();
    assert_eq!(
        raw.form(
            "chat.postMessage",
            &[("channel", &id), ("text", "x"), ("blocks", &too_many)]
        )
        .await["error"],
        "invalid_blocks"
    );
    assert_eq!(
        raw.form(
            "chat.postMessage",
            &[("channel", &id), ("text", "x"), ("blocks", "{}")]
        )
        .await["error"],
        "invalid_blocks_format"
    );
    assert!(sim.rejections().is_empty(), "{:?}", sim.rejections());
    assert_clean(&sim);
}

#[tokio::test]
async fn json_bodies_bookmarks_users_and_groups() {
    let sim = SlackSim::start().await;
    sim.add_user("U0ALICE01", "alice");
    sim.add_usergroup("S0ONCALL1", &["U0ALICE01"]);
    let raw = Raw::new(&sim);
    let r = raw
        .json(
            "conversations.create",
            json!({"name": "inc-json", "is_private": true}),
        )
        .await;
    let id = r["channel"]["id"].as_str().unwrap().to_owned();
    assert_eq!(r["channel"]["is_private"], true);
    let r = raw
        .json(
            "chat.postMessage",
            json!({"channel": id, "text": "x", "blocks": [{"type": "divider"}]}),
        )
        .await;
    assert_eq!(r["ok"], true, "{r}");

    let r = raw
        .form(
            "bookmarks.add",
            &[
                ("channel_id", &id),
                ("title", "Meeting"),
                ("type", "link"),
                ("link", "https://meet.example/x"),
            ],
        )
        .await;
    assert_shaped_like_examples("bookmarks.add", &r);
    assert_eq!(
        raw.form(
            "bookmarks.add",
            &[
                ("channel_id", &id),
                ("title", "x"),
                ("type", "file"),
                ("link", "https://x")
            ]
        )
        .await["error"],
        "invalid_bookmark_type"
    );
    assert_eq!(
        raw.form(
            "bookmarks.add",
            &[
                ("channel_id", &id),
                ("title", "x"),
                ("type", "link"),
                ("link", "ftp://x")
            ]
        )
        .await["error"],
        "invalid_link"
    );
    let r = raw.form("bookmarks.list", &[("channel_id", &id)]).await;
    assert_shaped_like_examples("bookmarks.list", &r);
    assert_eq!(sim.bookmarks(&id).len(), 1);
    assert_eq!(sim.bookmarks(&id)[0].title, "Meeting");

    let r = raw.form("users.info", &[("user", "U0ALICE01")]).await;
    assert_shaped_like_examples("users.info", &r);
    assert_eq!(r["user"]["name"], "alice");
    assert_eq!(
        raw.form("users.info", &[("user", "U0NOBODY1")]).await["error"],
        "user_not_found"
    );
    let r = raw
        .form("usergroups.users.list", &[("usergroup", "S0ONCALL1")])
        .await;
    assert_shaped_like_examples("usergroups.users.list", &r);
    assert_eq!(r["users"], json!(["U0ALICE01"]));
    assert_eq!(
        raw.form("usergroups.users.list", &[("usergroup", "S0NONE001")])
            .await["error"],
        "no_such_subteam"
    );
    assert_clean(&sim);
}

#[tokio::test]
async fn views_open_update_and_their_errors() {
    let sim = SlackSim::start().await;
    let raw = Raw::new(&sim);
    let view = json!({
        "type": "modal",
        "callback_id": "c",
        "private_metadata": "{\"lang\":\"en\"}",
        "title": {"type": "plain_text", "text": "Hi"},
        "blocks": [{"type": "input", "block_id": "b", "label": {"type":"plain_text","text":"L"},
                    "element": {"type": "plain_text_input", "action_id": "a"}}],
    })
    .to_string();
    let trigger = sim.new_trigger_id();
    let r = raw
        .form("views.open", &[("trigger_id", &trigger), ("view", &view)])
        .await;
    assert_shaped_like_examples("views.open", &r);
    let id = r["view"]["id"].as_str().unwrap().to_owned();
    let hash = r["view"]["hash"].as_str().unwrap().to_owned();
    assert_eq!(r["view"]["callback_id"], "c");
    assert_eq!(
        raw.form("views.open", &[("trigger_id", &trigger), ("view", &view)])
            .await["error"],
        "exchanged_trigger_id"
    );
    let r = raw
        .form(
            "views.update",
            &[("view_id", &id), ("hash", &hash), ("view", &view)],
        )
        .await;
    assert_shaped_like_examples("views.update", &r);
    assert_ne!(r["view"]["hash"], hash.as_str());
    assert_eq!(
        raw.form(
            "views.update",
            &[("view_id", &id), ("hash", &hash), ("view", &view)]
        )
        .await["error"],
        "hash_conflict"
    );
    assert_eq!(
        raw.form("views.update", &[("view_id", "V99999999"), ("view", &view)])
            .await["error"],
        "not_found"
    );
    let long_title =
        json!({"type":"modal","title":{"type":"plain_text","text":"x".repeat(25)},"blocks":[]})
            .to_string();
    let r = raw
        .form(
            "views.open",
            &[("trigger_id", &sim.new_trigger_id()), ("view", &long_title)],
        )
        .await;
    assert_eq!(r["error"], "invalid_arguments");
    assert!(
        r["response_metadata"]["messages"][0]
            .as_str()
            .unwrap()
            .contains("modal title length")
    );
    assert_eq!(sim.views().len(), 1);
    assert_clean(&sim);
}

#[tokio::test]
async fn injected_faults_rate_limits_and_call_log() {
    let sim = SlackSim::start().await;
    let raw = Raw::new(&sim);
    sim.fail_next("auth.test", 1, Fault::Status(503));
    sim.fail_next("auth.test", 1, Fault::Error("fatal_error".into()));
    sim.fail_next(
        "auth.test",
        1,
        Fault::RateLimited {
            retry_after_secs: 9,
        },
    );
    let (s, _, _) = raw.form_status("auth.test", &[]).await;
    assert_eq!(s, 503);
    let (s, _, b) = raw.form_status("auth.test", &[]).await;
    assert_eq!((s, b["error"].as_str()), (200, Some("fatal_error")));
    let (s, retry, b) = raw.form_status("auth.test", &[]).await;
    assert_eq!(
        (s, retry.as_deref(), b["error"].as_str()),
        (429, Some("9"), Some("ratelimited"))
    );
    let (s, _, b) = raw.form_status("auth.test", &[]).await;
    assert_eq!((s, b["ok"].as_bool()), (200, Some(true)));
    assert_eq!(sim.faulted("auth.test"), 3);

    // A storm hits every method.
    sim.rate_limit_storm(2, 30);
    assert_eq!(raw.form_status("auth.test", &[]).await.0, 429);
    let (s, retry, _) = raw
        .form_status("conversations.create", &[("name", "storm")])
        .await;
    assert_eq!((s, retry.as_deref()), (429, Some("30")));
    assert_eq!(raw.form_status("auth.test", &[]).await.0, 200);
    assert!(sim.channel_by_name("storm").is_none());

    // Only accepted calls are logged, with their outcome.
    raw.form("conversations.create", &[("name", "logged")])
        .await;
    raw.form("conversations.create", &[("name", "logged")])
        .await;
    let calls = sim.calls("conversations.create");
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].arg("name").as_deref(), Some("logged"));
    assert!(calls[0].is_ok());
    assert_eq!(calls[1].error.as_deref(), Some("name_taken"));
    assert_eq!(sim.calls("auth.test").len(), 2);
    assert!(!calls[0].args.contains_key("token"));

    sim.fail_next("auth.test", 5, Fault::Status(500));
    sim.clear_faults();
    assert_eq!(raw.form_status("auth.test", &[]).await.0, 200);
    assert_clean(&sim);
}
