//! `/incident` over Socket Mode end to end: envelopes exactly as Slack sends them over the
//! simulator's WebSockets, the same handlers as the HTTP endpoints, the durable workflow,
//! and the simulator checking every Web API call. Redeliveries, on another connection or
//! after a reconnect, are handled once.

mod common;

use muster_engine::workflow::Worker;
use muster_server::AppState;
use muster_server::slack::SlackApp;
use muster_slack::socket::{SocketModeConfig, SocketStats};
use muster_slack::{SlackClient, SlackClientConfig};
use muster_testkit::signed::payloads;
use muster_testkit::signed::{Input, SlashCommandRequest};
use muster_testkit::sim::SlackSim;
use muster_testkit::{EnvelopeKind, SimAck};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(5);

struct Harness {
    sim: SlackSim,
    state: AppState,
    worker: Worker,
    stats: Arc<SocketStats>,
    _stop: tokio::sync::oneshot::Sender<()>,
    /// Holds the database's temporary directory.
    _app: common::TestApp,
}

impl Harness {
    async fn new(connections: usize) -> Harness {
        let sim = SlackSim::start().await;
        sim.add_user("U1ANA", "ana");
        sim.add_user("U2BOB", "bob");
        sim.add_usergroup("S1ONCALL", &["U2BOB"]);
        let announce = sim.add_channel("incidents", false, &[]);
        let toml = format!(
            "[slack]\ntransport = \"socket\"\nsocket_connections = {connections}\napi_base_url = \"{}\"\nannouncement_channels = [\"{announce}\"]\npublic_url = \"https://muster.example.org\"\n[[slack.invite]]\nseverities = [\"SEV1\"]\nusergroups = [\"S1ONCALL\"]\n",
            sim.base_url()
        );
        let t = common::TestApp::new(&toml).await;
        let slack = t.state.engine().config().slack.clone().unwrap();
        let app = SlackApp::for_socket_mode(
            SlackClient::new(SlackClientConfig::new(sim.token()).with_base_url(sim.base_url()))
                .unwrap(),
            slack.clone(),
        )
        .unwrap();
        let worker = app.worker(t.state.engine_arc());
        let state = t.state.clone().with_slack(app);
        let socket = muster_server::slack::socket::socket_mode(
            &state,
            sim.socket().app_token(),
            SocketModeConfig {
                connections: slack.socket_connections,
                backoff_min: Duration::from_millis(100),
                ..SocketModeConfig::default()
            },
        )
        .unwrap();
        let stats = socket.stats();
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(socket.run(async move {
            let _ = rx.await;
        }));
        assert!(sim.socket().wait_connections(connections, WAIT).await);
        Harness {
            sim,
            state,
            worker,
            stats,
            _stop: stop,
            _app: t,
        }
    }

    /// Push an envelope and wait for its ack.
    async fn push(&self, kind: EnvelopeKind, payload: Value) -> (String, SimAck) {
        let id = self.sim.socket().push(kind, payload);
        let ack = self
            .sim
            .socket()
            .wait_ack(&id, WAIT)
            .await
            .unwrap_or_else(|| panic!("{id} was not acked"));
        (id, ack)
    }

    async fn command(&self, text: &str, channel: &str) -> SimAck {
        let trigger = self.sim.new_trigger_id();
        let cmd = SlashCommandRequest::new("/incident", text, "U1ANA", channel, &trigger);
        self.push(EnvelopeKind::SlashCommands, cmd.json()).await.1
    }

    /// The `n`th modal opened (they open just after the ack).
    async fn view(&self, n: usize) -> muster_testkit::sim::SimView {
        until(|| self.sim.views().len() >= n).await;
        self.sim.views()[n - 1].clone()
    }

    /// Run the workflow until nothing is due.
    async fn drain(&self) {
        while self.worker.run_once().await.unwrap() > 0 {}
    }

    /// Declare through Slack (command, modal, submission) and provision; the channel id.
    async fn declare(&self, title: &str, slug: &str) -> String {
        let n = self.sim.views().len() + 1;
        let ack = self.command(title, "C0GENERAL").await;
        assert_eq!(ack.payload, None, "the modal opens after the ack");
        let view = self.view(n).await;
        let sub = payloads::view_submission(
            &view,
            "U1ANA",
            &[("severity", Input::Choose("SEV1".into()))],
        );
        let (_, ack) = self.push(EnvelopeKind::Interactive, sub).await;
        assert_eq!(ack.payload, Some(json!({})), "the modal closes");
        self.drain().await;
        let name = format!("incident-{}-{slug}", chrono::Utc::now().format("%Y-%m-%d"));
        self.sim
            .channel_by_name(&name)
            .unwrap_or_else(|| panic!("no channel {name}"))
            .id
    }

    fn assert_clean(&self) {
        assert!(
            self.sim.rejections().is_empty(),
            "{:?}",
            self.sim.rejections()
        );
        assert!(
            self.sim.unlisted_errors().is_empty(),
            "{:?}",
            self.sim.unlisted_errors()
        );
    }

    async fn notes(&self, channel: &str, text: &str) -> usize {
        let id = self
            ._app
            .store
            .incident_by_resource(
                muster_core::incident::ResourceKind::Channel,
                "slack",
                channel,
            )
            .await
            .unwrap()
            .expect("an incident channel");
        let d = self
            .state
            .engine()
            .get(muster_core::IncidentRef::Id(id))
            .await
            .unwrap();
        format!("{:?}", d.timeline).matches(text).count()
    }
}

#[tokio::test]
async fn declare_over_socket_mode_like_http() {
    let h = Harness::new(2).await;
    let ack = h.command("Checkout is down", "C0GENERAL").await;
    assert_eq!(ack.payload, None);
    let view = h.view(1).await;
    assert!(view.view.to_string().contains("Checkout is down"));

    // Bad input: the errors come back in the ack, the modal stays open.
    let bad =
        payloads::view_submission(&view, "U1ANA", &[("title", Input::Text("!!! ???".into()))]);
    let (_, ack) = h.push(EnvelopeKind::Interactive, bad).await;
    let payload = ack.payload.expect("a response payload");
    assert_eq!(payload["response_action"], "errors", "{payload}");
    assert_eq!(h._app.store.count().await.unwrap(), 0);

    let good = payloads::view_submission(
        &view,
        "U1ANA",
        &[("severity", Input::Choose("SEV1".into()))],
    );
    let (id, ack) = h.push(EnvelopeKind::Interactive, good.clone()).await;
    assert_eq!(ack.payload, Some(json!({})), "the modal closes");
    // Slack redelivers it on the other connection: acked, nothing new.
    let first = ack.connection;
    let other = h.sim.socket().redeliver(&id, "timeout", Some(first));
    assert_ne!(other, first, "redelivered on another connection");
    for _ in 0..200 {
        if h.sim.socket().acks_of(&id).len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(h.sim.socket().acks_of(&id).len(), 2);
    assert_eq!(h._app.store.count().await.unwrap(), 1);

    h.drain().await;
    let name = format!(
        "incident-{}-checkout-is-down",
        chrono::Utc::now().format("%Y-%m-%d")
    );
    let ch = h.sim.channel_by_name(&name).expect("the channel");
    assert!(
        ch.topic.starts_with("INC-1 · SEV1 · Checkout is down"),
        "{}",
        ch.topic
    );
    let members = h.sim.members(&ch.id);
    assert!(members.contains(&"U1ANA".to_owned()) && members.contains(&"U2BOB".to_owned()));
    assert_eq!(h.sim.bookmarks(&ch.id).len(), 2, "meeting and report");
    assert!(
        h.sim
            .calls("chat.postMessage")
            .iter()
            .any(|c| c.arg("channel").as_deref() != Some(ch.id.as_str())),
        "announced"
    );

    // A command in the channel answers in the ack, in the channel.
    let ack = h.command("note Rolled back v42", &ch.id).await;
    let payload = ack.payload.expect("a response payload");
    assert_eq!(payload["response_type"], "in_channel", "{payload}");
    assert_eq!(h.notes(&ch.id, "Rolled back v42").await, 1);
    h.assert_clean();
}

#[tokio::test]
async fn redeliveries_are_handled_once_across_connections_and_reconnects() {
    let h = Harness::new(3).await;
    let ch = h.declare("Search is slow", "search-is-slow").await;
    let sock = h.sim.socket();

    // The same slash command on two connections: one note.
    let trigger = h.sim.new_trigger_id();
    let cmd = SlashCommandRequest::new("/incident", "note once only", "U1ANA", &ch, &trigger);
    let (id, ack) = h.push(EnvelopeKind::SlashCommands, cmd.json()).await;
    sock.redeliver(&id, "timeout", Some(ack.connection));
    until(|| sock.acks_of(&id).len() == 2).await;
    assert_eq!(h.notes(&ch, "once only").await, 1);

    // The same event (a credential pasted in the channel) on two connections: one warning.
    let ts = h.sim.post_as(
        &ch,
        "U1ANA",
        "token ghp_0123456789abcdefghijABCDEFGHIJ012345",
    );
    let msg = payloads::message(
        &ch,
        "U1ANA",
        "token ghp_0123456789abcdefghijABCDEFGHIJ012345",
        &ts,
    );
    let (ev, ack) = h
        .push(
            EnvelopeKind::EventsApi,
            payloads::event_callback(msg.clone(), "Ev0SECRET", 1),
        )
        .await;
    sock.redeliver(&ev, "timeout", Some(ack.connection));
    until(|| sock.acks_of(&ev).len() == 2).await;
    // Slack may also send it as a new envelope with the same event id.
    h.push(
        EnvelopeKind::EventsApi,
        payloads::event_callback(msg, "Ev0SECRET", 1),
    )
    .await;
    let warnings = || {
        h.sim
            .calls("chat.postMessage")
            .iter()
            .filter(|c| c.arg("thread_ts").as_deref() == Some(ts.as_str()))
            .count()
    };
    // The warning is a queued step (no Slack call before the ack): run the queue.
    h.drain().await;
    until(|| warnings() >= 1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    h.drain().await;
    assert_eq!(warnings(), 1, "warned once");

    // After a reconnect: the connection drops, the client reconnects, Slack redelivers.
    let conn = sock.connections()[0];
    let trigger = h.sim.new_trigger_id();
    let cmd = SlashCommandRequest::new("/incident", "note after the drop", "U1ANA", &ch, &trigger);
    let id = sock.push_on(conn, EnvelopeKind::SlashCommands, cmd.json());
    sock.drop_connection(conn);
    assert!(
        sock.wait_ack(&id, WAIT).await.is_some(),
        "handled in the end"
    );
    assert!(sock.wait_connections(3, WAIT).await, "reconnected");
    let again = sock.connections()[2];
    sock.redeliver(&id, "timeout", None);
    until(|| sock.acks_of(&id).len() >= 2).await;
    let _ = again;
    assert_eq!(h.notes(&ch, "after the drop").await, 1, "handled once");
    assert!(h.stats.drops() >= 1);
    h.assert_clean();
}

#[tokio::test]
async fn keeps_working_through_a_refresh() {
    let h = Harness::new(2).await;
    let sock = h.sim.socket();
    let old = sock.connections()[0];
    sock.disconnect(old, "refresh_requested", Duration::from_secs(10));
    until(|| sock.connections_opened() == 3 && !sock.connections().contains(&old)).await;
    let ch = h.declare("Refresh works", "refresh-works").await;
    assert!(!ch.is_empty());
    assert_eq!(h.stats.refreshes(), 1);
    // Operators see the same counters in /metrics.
    use tower::ServiceExt;
    let res = muster_server::router(h.state.clone())
        .oneshot(
            axum::http::Request::get("/metrics")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let body = http_body_util::BodyExt::collect(res.into_body())
        .await
        .unwrap()
        .to_bytes();
    let text = String::from_utf8_lossy(&body);
    assert!(text.contains("muster_slack_socket_connections 2"), "{text}");
    assert!(
        text.contains("muster_slack_socket_events_total{event=\"refresh\"} 1"),
        "{text}"
    );
    h.assert_clean();
}

/// Wait until `cond` holds (5 s at most).
async fn until(cond: impl Fn() -> bool) {
    for _ in 0..500 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out");
}
