//! Reading one message back for the timeline: `SlackClient::conversations_history_message`
//! and `conversations_replies_message` against the simulator (files, attachments, thread
//! replies, edits, errors), with every request matching the method descriptions.

use muster_slack::SlackClient;
use muster_slack::client::SlackClientConfig;
use muster_testkit::SlackSim;
use serde_json::json;

const ALICE: &str = "U0ALICE01";
const BOB: &str = "U0BOB0001";

fn client(sim: &SlackSim) -> SlackClient {
    SlackClient::new(SlackClientConfig::new(sim.token()).with_base_url(sim.base_url())).unwrap()
}

fn assert_no_rejections(sim: &SlackSim) {
    assert!(sim.rejections().is_empty(), "{:?}", sim.rejections());
    assert!(
        sim.unlisted_errors().is_empty(),
        "{:?}",
        sim.unlisted_errors()
    );
}

fn setup(sim: &SlackSim) -> String {
    sim.add_user(ALICE, "alice");
    sim.add_user(BOB, "bob");
    let bot = sim.bot_user_id();
    sim.add_channel("incident-2026-11-26-db", false, &[ALICE, BOB, &bot])
}

#[tokio::test]
async fn a_message_with_files_is_read_back_exactly() {
    let sim = SlackSim::start().await;
    let c = client(&sim);
    let ch = setup(&sim);
    let before = sim.post_as(&ch, BOB, "earlier");
    let ts = sim.post_with_files(&ch, ALICE, "error rate graph", &["graph.png", "log.txt"]);
    let after = sim.post_as(&ch, BOB, "later");

    let m = c
        .conversations_history_message(&ch, &ts)
        .await
        .unwrap()
        .expect("the message");
    assert_eq!(m.ts, ts);
    assert_eq!(m.user.as_deref(), Some(ALICE));
    assert_eq!(m.text, "error rate graph");
    assert_eq!(m.files.len(), 2);
    assert_eq!(m.files[0].name.as_deref(), Some("graph.png"));
    let stored = sim.message(&ch, &ts).unwrap();
    assert_eq!(
        m.links(),
        stored
            .files
            .iter()
            .map(|f| f.permalink.clone())
            .collect::<Vec<_>>()
    );
    assert!(
        m.files[0]
            .url_private
            .as_deref()
            .unwrap()
            .contains("graph.png")
    );

    // What the events handler hands the engine.
    let permalink = c.chat_get_permalink(&ch, &ts).await.unwrap();
    let captured = m
        .to_captured(&ch, m.author_id().unwrap(), Some(permalink.clone()))
        .unwrap();
    assert_eq!(captured.source_key, format!("slack:{ch}:{ts}"));
    assert_eq!(captured.author, ALICE);
    assert_eq!(captured.at, muster_slack::client::ts_time(&ts).unwrap());
    assert_eq!(captured.text, "error rate graph");
    assert_eq!(captured.files, m.links());
    assert_eq!(captured.permalink, Some(permalink));

    // The neighbours are found by their own ts, not this one.
    for (t, text) in [(before, "earlier"), (after, "later")] {
        let m = c.conversations_history_message(&ch, &t).await.unwrap();
        assert_eq!(m.map(|m| m.text), Some(text.to_owned()));
    }
    let call = sim.calls("conversations.history").remove(0);
    assert_eq!(call.arg("latest").as_deref(), Some(ts.as_str()));
    assert_eq!(call.arg("inclusive").as_deref(), Some("true"));
    assert_eq!(call.arg("limit").as_deref(), Some("1"));
    assert_no_rejections(&sim);
}

#[tokio::test]
async fn an_unknown_ts_is_none_not_the_previous_message() {
    let sim = SlackSim::start().await;
    let c = client(&sim);
    let ch = setup(&sim);
    sim.post_as(&ch, BOB, "something");
    // After the last message: history answers the last one, which is not this one.
    assert_eq!(
        c.conversations_history_message(&ch, "1999999999.000100")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        c.conversations_replies_message(&ch, "1999999999.000100")
            .await
            .unwrap(),
        None
    );
    assert_no_rejections(&sim);
}

#[tokio::test]
async fn thread_replies_are_read_through_replies() {
    let sim = SlackSim::start().await;
    let c = client(&sim);
    let ch = setup(&sim);
    let parent = sim.post_as(&ch, BOB, "what changed at 14:00?");
    let r1 = sim.reply_as(&ch, &parent, ALICE, "deploy 512");
    let r2 = sim.reply_as(&ch, &parent, BOB, "rolling back");

    // Not in the channel's history…
    assert_eq!(
        c.conversations_history_message(&ch, &r1).await.unwrap(),
        None
    );
    // …but in the thread.
    let m = c
        .conversations_replies_message(&ch, &r1)
        .await
        .unwrap()
        .expect("the reply");
    assert_eq!(
        (m.text.as_str(), m.user.as_deref()),
        ("deploy 512", Some(ALICE))
    );
    assert_eq!(m.thread_ts.as_deref(), Some(parent.as_str()));
    let m = c
        .conversations_replies_message(&ch, &r2)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.text, "rolling back");
    // The parent through either method.
    let p = c
        .conversations_replies_message(&ch, &parent)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.text, "what changed at 14:00?");
    let p = c
        .conversations_history_message(&ch, &parent)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.thread_ts.as_deref(), Some(parent.as_str()));
    assert_no_rejections(&sim);
}

#[tokio::test]
async fn edits_and_attachments_are_what_is_read() {
    let sim = SlackSim::start().await;
    let c = client(&sim);
    let ch = setup(&sim);
    let ts = sim.post_as(&ch, ALICE, "db1 is bakc");
    assert!(sim.edit_as(&ch, &ts, "db1 is back"));
    let m = c
        .conversations_history_message(&ch, &ts)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.text, "db1 is back");
    assert!(sim.message(&ch, &ts).unwrap().edited);

    let alert = sim.post_with_attachments(
        &ch,
        BOB,
        "",
        vec![json!({
            "fallback": "[FIRING] HighErrorRate checkout",
            "title": "HighErrorRate",
            "title_link": "https://alerts.example.org/a/1",
        })],
    );
    let m = c
        .conversations_history_message(&ch, &alert)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.text_with_attachments(), "[FIRING] HighErrorRate checkout");
    assert_eq!(m.links(), ["https://alerts.example.org/a/1"]);
    assert_no_rejections(&sim);
}

#[tokio::test]
async fn reactions_can_be_added_and_removed_by_people() {
    let sim = SlackSim::start().await;
    let ch = setup(&sim);
    let ts = sim.post_as(&ch, ALICE, "x");
    assert!(sim.react(&ch, &ts, BOB, "floppy_disk"));
    assert!(sim.react(&ch, &ts, ALICE, "floppy_disk"));
    assert!(sim.unreact(&ch, &ts, BOB, "floppy_disk"));
    assert!(!sim.unreact(&ch, &ts, BOB, "floppy_disk"));
    assert_eq!(
        sim.message(&ch, &ts).unwrap().reactions["floppy_disk"],
        [ALICE]
    );
    assert!(sim.unreact(&ch, &ts, ALICE, "floppy_disk"));
    assert!(sim.message(&ch, &ts).unwrap().reactions.is_empty());
}

#[tokio::test]
async fn channel_errors_are_slack_errors() {
    let sim = SlackSim::start().await;
    let c = client(&sim);
    setup(&sim);
    let outside = sim.add_channel("random", false, &[ALICE]);
    let ts = sim.post_as(&outside, ALICE, "hello");
    let e = c
        .conversations_history_message(&outside, &ts)
        .await
        .unwrap_err();
    assert!(e.is_api_error("not_in_channel"), "{e:?}");
    let secret = sim.add_channel("secret", true, &[ALICE]);
    let e = c
        .conversations_history_message(&secret, "1764000000.001000")
        .await
        .unwrap_err();
    assert!(e.is_api_error("channel_not_found"), "{e:?}");
    let e = c
        .conversations_replies_message(&secret, "1764000000.001000")
        .await
        .unwrap_err();
    assert!(e.is_api_error("channel_not_found"), "{e:?}");
    assert_no_rejections(&sim);
}
