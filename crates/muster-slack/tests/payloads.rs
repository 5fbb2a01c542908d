//! Parsing of Events API bodies and interaction payloads, on fixtures copied from the
//! Slack API reference (events) or written to Slack's documented shapes (interactions).

use muster_slack::payload::*;
use serde_json::{Value, json};

fn fixture(path: &str) -> Value {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// The reference's `example` inner event.
fn reference_example(name: &str) -> Value {
    fixture(&format!("events/{name}.json"))["example"].clone()
}

/// Wrap an inner event in the `event_callback` envelope, as Slack posts it.
fn envelope(event: Value) -> Vec<u8> {
    let mut e = fixture("events/authored/envelope.json");
    e["event"] = event;
    serde_json::to_vec(&e).unwrap()
}

fn callback(event: Value) -> EventCallback {
    match EventBody::from_json(&envelope(event)).unwrap() {
        EventBody::EventCallback(cb) => *cb,
        other => panic!("not a callback: {other:?}"),
    }
}

fn form(payload: &Value) -> Vec<u8> {
    serde_urlencoded::to_string([("payload", payload.to_string())])
        .unwrap()
        .into_bytes()
}

#[test]
fn url_verification_gives_the_challenge() {
    let body = serde_json::to_vec(&fixture("events/authored/url_verification.json")).unwrap();
    let parsed = EventBody::from_json(&body).unwrap();
    assert_eq!(
        parsed.challenge_response().unwrap(),
        json!({"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"})
    );
    assert_eq!(
        parsed,
        EventBody::UrlVerification {
            challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P".into()
        }
    );
}

#[test]
fn envelope_fields_are_kept_for_deduplication() {
    let cb = callback(reference_example("reaction_added"));
    assert_eq!(cb.event_id, "Ev0SIM00001");
    assert_eq!(cb.event_time, 1764241200);
    assert_eq!(cb.team_id, "T0SIM0001");
    assert_eq!(cb.api_app_id.as_deref(), Some("A0SIM0001"));
}

#[test]
fn reaction_added_and_removed_from_the_reference() {
    let Event::ReactionAdded(r) = callback(reference_example("reaction_added")).event else {
        panic!("wrong variant")
    };
    assert_eq!(r.user, "U123ABC456");
    assert_eq!(r.reaction, "thumbsup");
    assert_eq!(r.item_user.as_deref(), Some("U222222222"));
    assert_eq!(r.item.kind, "message");
    assert_eq!(r.item.channel.as_deref(), Some("C123ABC456"));
    assert_eq!(r.item.ts.as_deref(), Some("1360782400.498405"));
    assert_eq!(r.event_ts, "1360782804.083113");

    let Event::ReactionRemoved(r) = callback(reference_example("reaction_removed")).event else {
        panic!("wrong variant")
    };
    assert_eq!(r.reaction, "thumbsup");

    // Webhook messages have no item_user.
    let mut ex = reference_example("reaction_added");
    ex.as_object_mut().unwrap().remove("item_user");
    let Event::ReactionAdded(r) = callback(ex).event else {
        panic!()
    };
    assert_eq!(r.item_user, None);
}

#[test]
fn message_from_the_reference() {
    let Event::Message(m) = callback(reference_example("message")).event else {
        panic!("wrong variant")
    };
    assert_eq!(m.channel, "C123ABC456");
    assert_eq!(m.message.user.as_deref(), Some("U123ABC456"));
    assert_eq!(m.message.text, "Hello world");
    assert_eq!(m.message.ts, "1355517523.000005");
    assert_eq!(m.message.subtype, None);
}

#[test]
fn message_with_files_and_attachments() {
    let Event::Message(m) = callback(fixture("events/authored/message_with_files.json")).event
    else {
        panic!("wrong variant")
    };
    assert_eq!(m.message.subtype.as_deref(), Some("file_share"));
    assert_eq!(m.message.thread_ts.as_deref(), Some("1764241200.000100"));
    assert_eq!(m.message.files.len(), 1);
    assert_eq!(
        m.message.files[0].permalink.as_deref(),
        Some("https://sim.slack.test/files/U123ABC456/F0SIM0001/errors.png")
    );
    assert_eq!(m.message.attachments.len(), 1);
    assert_eq!(m.channel_type.as_deref(), Some("channel"));
}

#[test]
fn message_changed_and_deleted() {
    let Event::MessageChanged(c) = callback(fixture("events/authored/message_changed.json")).event
    else {
        panic!("wrong variant")
    };
    assert_eq!(c.channel, "C123ABC456");
    assert_eq!(c.message.ts, "1764241200.000100");
    assert_eq!(
        c.message.text,
        "Error rate is back to normal after the rollback"
    );
    assert_eq!(
        c.previous_message.unwrap().text,
        "Error rate is back to normal"
    );

    let Event::MessageDeleted(d) = callback(fixture("events/authored/message_deleted.json")).event
    else {
        panic!("wrong variant")
    };
    assert_eq!(d.deleted_ts, "1764241200.000100");
    assert_eq!(d.channel, "C123ABC456");
}

#[test]
fn member_joined_channel_from_the_reference() {
    let Event::MemberJoinedChannel(m) = callback(reference_example("member_joined_channel")).event
    else {
        panic!("wrong variant")
    };
    assert_eq!(m.user, "W123ABC456");
    assert_eq!(m.channel, "C123ABC456");
    assert_eq!(m.inviter.as_deref(), Some("U123456789"));
    assert_eq!(m.channel_type.as_deref(), Some("C"));
}

#[test]
fn app_mention() {
    let Event::AppMention(m) = callback(fixture("events/authored/app_mention.json")).event else {
        panic!("wrong variant")
    };
    assert_eq!(m.user, "U123ABC456");
    assert!(m.text.starts_with("<@U0BOT0001>"));
}

#[test]
fn unknown_events_and_bodies_parse_to_other() {
    let cb = callback(fixture("events/authored/unknown_event.json"));
    assert!(matches!(&cb.event, Event::Other { kind, .. } if kind == "pin_added"));
    // Every other reference example with a type parses without error.
    let dir = format!("{}/tests/fixtures/events", env!("CARGO_MANIFEST_DIR"));
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        if v["example"].is_object() {
            callback(v["example"].clone());
            seen += 1;
        }
    }
    assert!(seen >= 4, "only {seen} examples");
    let body = br#"{"type":"app_rate_limited","token":"x","team_id":"T1","minute_rate_limited":1518467820,"api_app_id":"A1"}"#;
    assert!(
        matches!(EventBody::from_json(body).unwrap(), EventBody::Other { kind, .. } if kind == "app_rate_limited")
    );
}

#[test]
fn malformed_event_bodies_are_errors() {
    assert!(matches!(
        EventBody::from_json(b"not json"),
        Err(PayloadError::Json(_))
    ));
    assert!(matches!(
        EventBody::from_json(br#"{"type":"event_callback","team_id":"T"}"#),
        Err(PayloadError::Shape { .. })
    ));
    let bad_reaction = json!({"type":"reaction_added","user":"U1"});
    assert!(matches!(
        EventBody::from_json(&envelope(bad_reaction)),
        Err(PayloadError::Shape { .. })
    ));
}

#[test]
fn view_submission() {
    let i = Interaction::from_form(&form(&fixture("interactions/view_submission.json"))).unwrap();
    let Interaction::ViewSubmission(s) = i else {
        panic!("wrong variant")
    };
    assert_eq!(s.user.id, "U123ABC456");
    assert_eq!(s.view.id, "V0SIM0001");
    assert_eq!(s.view.callback_id, "declare_incident");
    assert_eq!(s.view.hash.as_deref(), Some("1764241200.abcdef12"));
    assert_eq!(
        s.view.state.text("title", "title_input"),
        Some("Too many 500 errors")
    );
    assert_eq!(
        s.view.state.text("severity", "severity_select"),
        Some("SEV2")
    );
    assert_eq!(
        s.view.state.text("security", "security_choice"),
        Some("yes")
    );
    assert_eq!(s.view.state.text("description", "description_input"), None);
    assert_eq!(
        s.view
            .state
            .get("severity", "severity_select")
            .unwrap()
            .kind,
        "static_select"
    );
    assert!(s.view.private_metadata.contains("\"fr\""));
}

#[test]
fn block_actions_in_a_modal_and_on_a_message() {
    let i =
        Interaction::from_form(&form(&fixture("interactions/block_actions_lang.json"))).unwrap();
    let Interaction::BlockActions(b) = i else {
        panic!("wrong variant")
    };
    assert_eq!(b.actions[0].action_id, "declare_lang_fr");
    assert_eq!(b.actions[0].value.as_deref(), Some("fr"));
    assert_eq!(b.actions[0].kind, "button");
    let view = b.view.unwrap();
    assert_eq!(
        view.state.text("title", "title_input"),
        Some("Checkout is slow")
    );

    let i =
        Interaction::from_form(&form(&fixture("interactions/block_actions_message.json"))).unwrap();
    let Interaction::BlockActions(b) = i else {
        panic!("wrong variant")
    };
    assert!(b.view.is_none());
    assert_eq!(b.channel.unwrap().id, "C0INCIDENT");
    assert_eq!(b.message.unwrap().ts, "1764241200.000100");
    assert_eq!(b.actions[0].action_id, "incident_resolve");
    assert_eq!(
        b.response_url.as_deref(),
        Some("https://hooks.slack.com/actions/T0SIM0001/1/abc")
    );
}

#[test]
fn message_shortcut_and_global_shortcut() {
    let i = Interaction::from_form(&form(&fixture("interactions/message_action.json"))).unwrap();
    let Interaction::MessageAction(m) = i else {
        panic!("wrong variant")
    };
    assert_eq!(m.callback_id, "declare_from_message");
    assert_eq!(m.channel.id, "C0ALERTS");
    assert_eq!(m.message.ts, "1764241100.000050");
    assert_eq!(m.message.bot_id.as_deref(), Some("B0ALERTS"));
    assert_eq!(m.message.user, None);
    assert!(m.message.text.starts_with("5xx rate"));
    assert_eq!(m.trigger_id, "12348.98765.abcd2358fded");

    let i = Interaction::from_form(&form(&fixture("interactions/shortcut.json"))).unwrap();
    let Interaction::Shortcut(s) = i else {
        panic!("wrong variant")
    };
    assert_eq!(s.callback_id, "declare_incident_global");
    assert_eq!(i_user(&Interaction::Shortcut(s)), "U123ABC456");
}

fn i_user(i: &Interaction) -> &str {
    i.user_id().unwrap()
}

/// Slack escapes `&`, `<` and `>` in the text it sends; it is decoded once on the way in.
#[test]
fn slack_text_is_decoded_once_on_input() {
    assert_eq!(
        decode_entities("Fixed &lt;cache&gt; &amp; more"),
        "Fixed <cache> & more"
    );
    // Exactly once: a person who typed `&lt;` gets `&lt;` back.
    assert_eq!(decode_entities("&amp;lt; &amp;amp;"), "&lt; &amp;");
    // Only the three entities; a lone `&` and Slack's own sequences pass unchanged.
    assert_eq!(
        decode_entities("a & b &quot; &#60; &lt"),
        "a & b &quot; &#60; &lt"
    );
    assert_eq!(
        decode_entities("<@U1|ana> <!channel>"),
        "<@U1|ana> <!channel>"
    );

    let body = "command=%2Fincident&text=note+Fixed+%26lt%3Bcache%26gt%3B+%26amp%3Bco&user_id=U1&channel_id=C1&team_id=T1&trigger_id=1.2.3&response_url=https%3A%2F%2Fx";
    let c = SlashCommand::from_form(body.as_bytes()).unwrap();
    assert_eq!(c.text, "note Fixed <cache> &co");

    let event = |inner: serde_json::Value| {
        let body = json!({
            "type": "event_callback", "team_id": "T1", "event_id": "Ev1", "event_time": 1,
            "event": inner,
        });
        match EventBody::from_json(body.to_string().as_bytes()).unwrap() {
            EventBody::EventCallback(cb) => cb.event,
            other => panic!("{other:?}"),
        }
    };
    let Event::Message(m) = event(json!({
        "type": "message", "channel": "C1", "user": "U1", "ts": "1.2",
        "text": "a &lt;b&gt; &amp;amp;",
    })) else {
        panic!()
    };
    assert_eq!(m.message.text, "a <b> &amp;");
    let Event::MessageChanged(m) = event(json!({
        "type": "message", "subtype": "message_changed", "channel": "C1",
        "message": { "ts": "1.2", "text": "x &gt; y" },
    })) else {
        panic!()
    };
    assert_eq!(m.message.text, "x > y");
    let Event::AppMention(m) = event(json!({
        "type": "app_mention", "channel": "C1", "user": "U1", "ts": "1.2",
        "text": "<@UBOT> 1 &lt; 2",
    })) else {
        panic!()
    };
    assert_eq!(m.text, "<@UBOT> 1 < 2");
}
