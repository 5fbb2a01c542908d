//! `muster_slack::SlackClient` against the simulator: every call the provisioning
//! workflow needs, the errors it must classify, and that every request matches the
//! published method descriptions (no rejections).

use chrono::NaiveDate;
use muster_core::channel::ChannelTemplate;
use muster_core::config::Config;
use muster_core::{ChannelName, Lang, Secret};
use muster_slack::blocks::{self, DeclareForm, SlackMessage};
use muster_slack::client::SlackClientConfig;
use muster_slack::{SlackClient, SlackError};
use muster_testkit::{Fault, SlackSim};
use std::time::Duration;

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

/// Create the incident channel, adding -2, -3… on `name_taken`, as the workflow will.
async fn create_with_suffix(
    c: &SlackClient,
    base: &ChannelName,
    private: bool,
) -> muster_slack::client::Channel {
    for attempt in 1..=20 {
        let name = base.with_collision_suffix(attempt);
        match c.conversations_create(name.as_str(), private).await {
            Ok(ch) => return ch,
            Err(e) if e.is_api_error("name_taken") => continue,
            Err(e) => panic!("{e}"),
        }
    }
    panic!("no free name")
}

#[tokio::test]
async fn auth_test_and_bad_tokens() {
    let sim = SlackSim::start().await;
    let info = client(&sim).auth_test().await.unwrap();
    assert_eq!(info.user_id, sim.bot_user_id());
    assert_eq!(info.team_id, sim.team_id());
    assert!(info.bot_id.is_some());

    let bad = SlackClient::new(
        SlackClientConfig::new(Secret::new("xoxb-not-the-right-one")).with_base_url(sim.base_url()),
    )
    .unwrap();
    let e = bad.auth_test().await.unwrap_err();
    assert_eq!(
        e,
        SlackError::Api {
            method: "auth.test".into(),
            error: "invalid_auth".into()
        }
    );
    assert!(!e.is_retryable());
    assert!(!format!("{e} {e:?} {bad:?}").contains("xoxb-not-the-right-one"));
    assert_no_rejections(&sim);
}

#[tokio::test]
async fn provisioning_calls_end_to_end() {
    let sim = SlackSim::start().await;
    sim.add_user("U0ALICE01", "alice");
    sim.add_user("U0BOB0001", "bob");
    sim.add_usergroup("S0ONCALL1", &["U0BOB0001"]);
    let announce = sim.add_channel("incidents", false, &["U0ALICE01"]);
    let c = client(&sim);
    let config = Config::default();

    // A channel of that name exists and is archived; another one is live.
    let template = ChannelTemplate::parse("incident-{date}-{slug}").unwrap();
    let date = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    let base = ChannelName::for_incident(&template, date, "Too many 500 errors").unwrap();
    let old = sim.add_channel(base.as_str(), false, &["U0ALICE01"]);
    sim.archive(&old);
    sim.add_channel(base.with_collision_suffix(2).as_str(), false, &[]);

    let ch = create_with_suffix(&c, &base, false).await;
    assert_eq!(ch.name, base.with_collision_suffix(3).as_str());
    assert!(ch.is_member && !ch.is_private && !ch.is_archived);
    assert_eq!(sim.calls("conversations.create").len(), 3);

    let oncall = c.usergroups_users_list("S0ONCALL1").await.unwrap();
    assert_eq!(oncall, ["U0BOB0001"]);
    let mut invitees = vec!["U0ALICE01"];
    invitees.extend(oncall.iter().map(String::as_str));
    let after = c.conversations_invite(&ch.id, &invitees).await.unwrap();
    assert_eq!(after.id, ch.id);
    let e = c
        .conversations_invite(&ch.id, &["U0ALICE01"])
        .await
        .unwrap_err();
    assert!(e.is_api_error("already_in_channel") && !e.is_retryable());
    assert_eq!(
        sim.members(&ch.id),
        ["U0ALICE01", "U0BOB0001", &sim.bot_user_id()]
    );

    c.conversations_set_topic(&ch.id, "INC-1 · SEV2 · Too many 500 errors")
        .await
        .unwrap();
    c.conversations_set_purpose(&ch.id, "Coordinate INC-1")
        .await
        .unwrap();
    let b = c
        .bookmarks_add(&ch.id, "Meeting", "https://meet.jit.si/muster-inc-1")
        .await
        .unwrap();
    assert_eq!(b.channel_id, ch.id);
    assert_eq!(b.title, "Meeting");
    c.bookmarks_add(&ch.id, "Report", "https://muster.example.org/i/1/report")
        .await
        .unwrap();
    let marks: Vec<_> = sim.bookmarks(&ch.id).into_iter().map(|b| b.title).collect();
    assert_eq!(marks, ["Meeting", "Report"]);

    let welcome = blocks::welcome_message(
        &blocks::WelcomeInfo {
            incident_id: "id-1".into(),
            number: "INC-1".into(),
            title: "Too many 500 errors".into(),
            severity: "SEV2".into(),
            commander: "U0ALICE01".into(),
            meeting_url: Some("https://meet.jit.si/muster-inc-1".into()),
            report_url: None,
            security: false,
            timeline_emoji: "floppy_disk".into(),
            update_every_minutes: 30,
            command: "/incident".into(),
        },
        &[Lang::En, Lang::Fr],
    );
    let posted = c.chat_post_message(&ch.id, &welcome, None).await.unwrap();
    assert_eq!(posted.channel, ch.id);
    let stored = sim.message(&ch.id, &posted.ts).unwrap();
    assert_eq!(
        stored.blocks,
        serde_json::Value::Array(welcome.blocks.clone())
    );
    assert_eq!(stored.text, welcome.text);

    // The announcement is posted in the announcement channel after joining it, then
    // updated in place.
    let joined = c.conversations_join(&announce).await.unwrap();
    assert!(joined.is_member);
    let mut info = blocks::AnnouncementInfo {
        number: "INC-1".into(),
        title: "Too many 500 errors".into(),
        severity: "SEV2".into(),
        status: "Open".into(),
        team: None,
        channel_id: ch.id.clone(),
        declarer: "U0ALICE01".into(),
        commander: "U0ALICE01".into(),
        security: false,
    };
    let ann = c
        .chat_post_message(&announce, &blocks::announcement_message(&info, &[]), None)
        .await
        .unwrap();
    info.status = "In Progress".into();
    let updated = c
        .chat_update(
            &announce,
            &ann.ts,
            &blocks::announcement_message(&info, &[]),
        )
        .await
        .unwrap();
    assert_eq!(updated.ts, ann.ts);
    let m = sim.message(&announce, &ann.ts).unwrap();
    assert!(m.edited);
    assert!(m.blocks.to_string().contains("In Progress"));

    let reply = c
        .chat_post_message(&ch.id, &SlackMessage::text("thread"), Some(&posted.ts))
        .await
        .unwrap();
    let link = c.chat_get_permalink(&ch.id, &reply.ts).await.unwrap();
    assert!(link.starts_with("https://sim.slack.test/archives/"));
    let eph = c
        .chat_post_ephemeral(
            &ch.id,
            "U0ALICE01",
            &blocks::declare_received(Lang::En, "t"),
        )
        .await
        .unwrap();
    assert!(!eph.is_empty());

    let user = c.users_info("U0ALICE01").await.unwrap();
    assert_eq!(user.name, "alice");
    assert!(!user.is_bot);
    assert_eq!(user.email.as_deref(), Some("alice@sim.slack.test"));

    // The declare modal opens, and the language toggle updates it.
    let trigger = sim.new_trigger_id();
    let view = blocks::declare_modal(
        &DeclareForm::from_command("Too many 500 errors", Lang::En, Some(&announce)),
        &config,
    );
    let opened = c.views_open(&trigger, &view).await.unwrap();
    assert!(opened.hash.is_some());
    let fr = blocks::declare_modal(
        &DeclareForm::from_command("Too many 500 errors", Lang::Fr, Some(&announce)),
        &config,
    );
    let again = c
        .views_update(&opened.id, opened.hash.as_deref(), &fr)
        .await
        .unwrap();
    assert_eq!(again.id, opened.id);
    let e = c
        .views_update(&opened.id, opened.hash.as_deref(), &fr)
        .await
        .unwrap_err();
    assert!(e.is_api_error("hash_conflict"));
    assert_eq!(
        sim.view(&opened.id).unwrap().view["title"]["text"],
        "Déclarer un incident"
    );
    let e = c.views_open(&trigger, &view).await.unwrap_err();
    assert!(e.is_api_error("exchanged_trigger_id"));

    c.conversations_archive(&ch.id).await.unwrap();
    let info = c.conversations_info(&ch.id).await.unwrap();
    assert!(info.is_archived);
    assert_eq!(info.topic, "INC-1 · SEV2 · Too many 500 errors");
    assert_eq!(info.purpose, "Coordinate INC-1");
    let e = c
        .chat_post_message(&ch.id, &SlackMessage::text("late"), None)
        .await
        .unwrap_err();
    assert!(e.is_api_error("is_archived"));
    assert_no_rejections(&sim);
}

#[tokio::test]
async fn private_channels_for_security_incidents() {
    let sim = SlackSim::start().await;
    let c = client(&sim);
    let ch = c.conversations_create("incident-sec", true).await.unwrap();
    assert!(ch.is_private);
    assert!(sim.channel_by_name("incident-sec").unwrap().is_private);
    let e = c.conversations_join(&ch.id).await.unwrap_err();
    assert!(e.is_api_error("method_not_supported_for_channel_type"));
    assert_no_rejections(&sim);
}

#[tokio::test]
async fn rate_limits_carry_retry_after() {
    let sim = SlackSim::start().await;
    let c = client(&sim);
    sim.fail_next(
        "conversations.create",
        1,
        Fault::RateLimited {
            retry_after_secs: 7,
        },
    );
    let e = c.conversations_create("inc-rl", false).await.unwrap_err();
    assert_eq!(
        e,
        SlackError::RateLimited {
            method: "conversations.create".into(),
            retry_after: Duration::from_secs(7)
        }
    );
    assert!(e.is_retryable());
    assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
    assert!(sim.channel_by_name("inc-rl").is_none());
    c.conversations_create("inc-rl", false).await.unwrap();

    sim.rate_limit_storm(3, 2);
    for _ in 0..3 {
        let e = c.auth_test().await.unwrap_err();
        assert_eq!(e.retry_after(), Some(Duration::from_secs(2)));
    }
    c.auth_test().await.unwrap();
    assert_no_rejections(&sim);
}

#[tokio::test]
async fn server_errors_and_slack_errors_are_classified() {
    let sim = SlackSim::start().await;
    let c = client(&sim);
    sim.fail_next("chat.postMessage", 1, Fault::Status(503));
    sim.fail_next("chat.postMessage", 1, Fault::Status(400));
    sim.fail_next(
        "chat.postMessage",
        1,
        Fault::Error("service_unavailable".into()),
    );
    let ch = c.conversations_create("inc-5xx", false).await.unwrap();
    let msg = SlackMessage::text("hello");
    let e = c.chat_post_message(&ch.id, &msg, None).await.unwrap_err();
    assert_eq!(
        e,
        SlackError::Http {
            method: "chat.postMessage".into(),
            status: 503
        }
    );
    assert!(e.is_retryable());
    let e = c.chat_post_message(&ch.id, &msg, None).await.unwrap_err();
    assert!(matches!(e, SlackError::Http { status: 400, .. }) && !e.is_retryable());
    let e = c.chat_post_message(&ch.id, &msg, None).await.unwrap_err();
    assert!(e.is_api_error("service_unavailable") && e.is_retryable());
    assert!(sim.messages(&ch.id).is_empty());
    c.chat_post_message(&ch.id, &msg, None).await.unwrap();
    assert_eq!(sim.messages(&ch.id).len(), 1);
    let e = c
        .chat_post_message("C99999999", &msg, None)
        .await
        .unwrap_err();
    assert!(e.is_api_error("channel_not_found") && !e.is_retryable());
    assert_no_rejections(&sim);
}

#[tokio::test]
async fn slow_answers_time_out() {
    let sim = SlackSim::start().await;
    sim.set_method_latency("conversations.create", Duration::from_secs(5));
    let c = client(&sim).with_timeout(Duration::from_millis(200));
    let e = c.conversations_create("inc-slow", false).await.unwrap_err();
    assert_eq!(
        e,
        SlackError::Timeout {
            method: "conversations.create".into()
        }
    );
    assert!(e.is_retryable());
    // Other methods are not slowed down.
    c.auth_test().await.unwrap();
}

#[tokio::test]
async fn unreachable_slack_is_a_transport_error() {
    // Bind then drop a listener: the port is closed.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = SlackClient::new(
        SlackClientConfig::new(Secret::new("xoxb-x"))
            .with_base_url(format!("http://127.0.0.1:{port}/api/")),
    )
    .unwrap();
    let e = c.auth_test().await.unwrap_err();
    assert!(matches!(e, SlackError::Transport { .. }), "{e:?}");
    assert!(e.is_retryable());
}

#[tokio::test]
async fn idempotent_invites_survive_retries_and_strangers() {
    let sim = SlackSim::start().await;
    sim.add_user("U0ALICE01", "alice");
    sim.add_user("U0BOB0001", "bob");
    let c = client(&sim);
    let ch = c.conversations_create("inc-invite", false).await.unwrap();
    let first = c
        .conversations_invite_idempotent(&ch.id, &["U0ALICE01"])
        .await
        .unwrap();
    assert_eq!(first.invited, ["U0ALICE01"]);
    // The step runs again after a crash, with one more person and a stranger.
    let again = c
        .conversations_invite_idempotent(
            &ch.id,
            &["U0ALICE01", "U0BOB0001", "U0NOBODY1", "U0ALICE01"],
        )
        .await
        .unwrap();
    assert_eq!(again.invited, ["U0BOB0001"]);
    assert_eq!(again.already_in, ["U0ALICE01"]);
    assert_eq!(
        again.refused,
        [("U0NOBODY1".to_owned(), "user_not_found".to_owned())]
    );
    assert_eq!(sim.members(&ch.id).len(), 3);
    c.conversations_archive(&ch.id).await.unwrap();
    let e = c
        .conversations_invite_idempotent(&ch.id, &["U0BOB0001"])
        .await
        .unwrap_err();
    assert!(e.is_api_error("is_archived"));
    assert_no_rejections(&sim);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_of_one_name_make_one_channel() {
    let sim = SlackSim::start().await;
    sim.set_latency(Duration::from_millis(20));
    let c = client(&sim);
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let c = c.clone();
        set.spawn(async move { c.conversations_create("inc-race", false).await });
    }
    let mut ok = 0;
    let mut taken = 0;
    while let Some(r) = set.join_next().await {
        match r.unwrap() {
            Ok(_) => ok += 1,
            Err(e) if e.is_api_error("name_taken") => taken += 1,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!((ok, taken), (1, 19));
    assert_eq!(sim.channels().len(), 1);
    assert_eq!(sim.calls("conversations.create").len(), 20);
    assert_no_rejections(&sim);
}
