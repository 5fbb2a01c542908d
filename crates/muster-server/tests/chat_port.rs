//! The engine's chat port carries more than Slack: a second, test-only platform
//! ([`TestChat`], in `muster-testkit`, written against the port alone) configured beside
//! Slack. One declaration through the API gets a channel on each; each platform's steps
//! are tracked apart; changes and closing reach both; a name taken on one platform gives
//! `-2` there without touching the other.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use muster_core::config::Config;
use muster_core::incident::ResourceKind;
use muster_core::{JobState, Secret};
use muster_engine::workflow::Worker;
use muster_engine::{Engine, SystemClock};
use muster_server::AppState;
use muster_server::slack::SlackApp;
use muster_slack::{SlackClient, SlackClientConfig};
use muster_testkit::SlackSim;
use muster_testkit::chat::{TEST_CHAT, TestChat};
use std::sync::Arc;
use tower::ServiceExt;

struct Both {
    sim: SlackSim,
    chat: TestChat,
    router: axum::Router,
    state: AppState,
    store: muster_store::Store,
    worker: Worker,
    announce: String,
    _dir: tempfile::TempDir,
}

impl Both {
    async fn new() -> Both {
        let sim = SlackSim::start().await;
        sim.add_user("U0ALICE01", "alice");
        let announce = sim.add_channel("incidents", false, &[]);
        let toml = format!(
            "[slack]\napi_base_url = \"{}\"\nannouncement_channels = [\"{announce}\"]\npublic_url = \"https://muster.example.org\"\n\n[[people]]\nname = \"alice\"\nslack = \"U0ALICE01\"\ntestchat = \"@alice:test\"\n",
            sim.base_url()
        );
        let config = Config::from_toml(&toml).unwrap();
        let slack = config.slack.clone().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store = muster_store::Store::open(&format!("sqlite://{}/c.db", dir.path().display()))
            .await
            .unwrap();
        let chat = TestChat::new();
        let engine = Engine::new(store.clone(), Arc::new(config), Arc::new(SystemClock))
            .with_chat(Arc::new(muster_slack::provision::SlackPlatform))
            .with_chat(Arc::new(chat.clone()));
        let client =
            SlackClient::new(SlackClientConfig::new(sim.token()).with_base_url(sim.base_url()))
                .unwrap();
        let app = SlackApp::new(client, slack, Secret::new("s".repeat(32))).unwrap();
        let state = AppState::new(engine, true);
        let worker = app
            .worker(state.engine_arc())
            .with_runner(Arc::new(chat.clone()));
        let state = state.with_slack(app);
        let router = muster_server::router(state.clone());
        Both {
            sim,
            chat,
            router,
            state,
            store,
            worker,
            announce,
            _dir: dir,
        }
    }

    async fn api(&self, method: &str, path: &str, body: serde_json::Value) -> common::Reply {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, "localhost:8080")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        common::Reply::read(self.router.clone().oneshot(req).await.unwrap()).await
    }

    async fn detail(&self, id: muster_core::IncidentId) -> muster_core::incident::IncidentDetail {
        self.state
            .engine()
            .get(muster_core::IncidentRef::Id(id))
            .await
            .unwrap()
    }

    async fn drain(&self) {
        for _ in 0..50 {
            if self.worker.run_once().await.unwrap() == 0 {
                return;
            }
        }
        panic!("the workflow did not settle");
    }

    async fn declare(&self, title: &str) -> serde_json::Value {
        let r = self
            .api(
                "POST",
                "/api/v1/incidents",
                serde_json::json!({"title": title, "severity": "SEV2"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.json()
    }
}

#[tokio::test]
async fn one_declaration_gets_a_channel_on_each_platform_each_step_tracked_apart() {
    let b = Both::new().await;
    let d = b.declare("Checkout is slow").await;
    let number = d["incident"]["number"].as_i64().unwrap();
    let name = d["incident"]["channel_name"].as_str().unwrap().to_owned();
    let id = muster_core::IncidentId(d["incident"]["id"].as_str().unwrap().parse().unwrap());

    // Both platforms' setup steps were queued with the incident, apart.
    let steps: Vec<String> = b
        .store
        .jobs_for(id)
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.step)
        .collect();
    for platform in ["slack", TEST_CHAT] {
        for kind in ["channel", "invite", "topic", "welcome", "announce"] {
            let step = format!("{platform}/{kind}");
            assert_eq!(
                steps.iter().filter(|s| **s == step).count(),
                1,
                "{step}: {steps:?}"
            );
        }
    }

    b.drain().await;
    let jobs = b.store.jobs_for(id).await.unwrap();
    assert!(jobs.iter().all(|j| j.state == JobState::Done), "{jobs:?}");

    // Slack: its channel, its bookmarks and the announcement, once.
    let ch = b.sim.channel_by_name(&name).expect("a Slack channel");
    assert_eq!(b.sim.bookmarks(&ch.id).len(), 2);
    let announced = b
        .sim
        .messages(&b.announce)
        .into_iter()
        .filter(|m| m.text.contains(&format!("INC-{number}")))
        .count();
    assert_eq!(announced, 1);
    // The test platform: its room, topic, welcome and announcement, once.
    let room = b.chat.room_named(&name).expect("a testchat room");
    assert_eq!(room.messages, [format!("INC-{number}: welcome")]);
    assert!(room.topic.unwrap().contains("Checkout is slow"));
    assert_eq!(b.chat.announcements().len(), 1);
    // The record knows both, by platform.
    let detail = b.detail(id).await;
    let systems: Vec<&str> = detail
        .resources
        .iter()
        .filter(|r| r.kind == ResourceKind::Channel)
        .map(|r| r.system.as_str())
        .collect();
    assert_eq!(systems, ["slack", TEST_CHAT]);

    // A status update reaches both; closing archives both.
    let r = b
        .api(
            "POST",
            &format!("/api/v1/incidents/{number}/updates"),
            serde_json::json!({"text": "Rolled back the deploy"}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    b.drain().await;
    let room = b.chat.room_named(&name).unwrap();
    assert_eq!(
        room.messages.last().unwrap(),
        &format!("INC-{number}: Rolled back the deploy")
    );
    let under_announcement = b
        .sim
        .messages(&b.announce)
        .into_iter()
        .filter(|m| m.thread_ts.is_some() && m.text.contains("Rolled back the deploy"))
        .count();
    assert_eq!(under_announcement, 1);
    for status in ["In Progress", "Ready to be Reviewed", "Reviewed", "Closed"] {
        let r = b
            .api(
                "POST",
                &format!("/api/v1/incidents/{number}/status"),
                serde_json::json!({"status": status}),
            )
            .await;
        assert!(r.status.is_success(), "{status}: {}", r.body);
    }
    b.drain().await;
    assert!(b.sim.channel(&ch.id).unwrap().is_archived);
    assert!(b.chat.room_named(&name).unwrap().archived);
    assert!(b.sim.rejections().is_empty(), "{:?}", b.sim.rejections());
}

#[tokio::test]
async fn a_name_taken_on_one_platform_gives_dash_two_there_only() {
    let b = Both::new().await;
    // Someone already has a room with the name the next incident will plan.
    let planned = b.declare("Queue backlog").await["incident"]["channel_name"]
        .as_str()
        .unwrap()
        .to_owned();
    b.drain().await;
    // The same title again today: Slack and the test platform both have the name.
    let d = b.declare("Queue backlog").await;
    let id = muster_core::IncidentId(d["incident"]["id"].as_str().unwrap().parse().unwrap());
    b.drain().await;
    let second = format!("{planned}-2");
    assert!(b.sim.channel_by_name(&second).is_some());
    assert!(b.chat.room_named(&second).is_some());
    let detail = b.detail(id).await;
    assert_eq!(
        detail.incident.channel_name.as_str(),
        second,
        "the record follows"
    );
    assert_eq!(detail.channel_label(), format!("#{second}"));
}
