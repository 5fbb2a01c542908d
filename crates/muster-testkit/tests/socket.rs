//! The Socket Mode client (`muster_slack::socket`) against the simulator's Socket Mode
//! server: several connections, acks, `refresh_requested` / `warning`, dropped sockets and
//! backoff, `link_disabled`, a refused token, and envelope shapes.

use muster_core::Secret;
use muster_slack::payload::SocketPayload;
use muster_slack::socket::{Ack, Handler, SocketMode, SocketModeConfig, SocketModeError};
use muster_slack::{SlackClient, SlackClientConfig};
use muster_testkit::signed::payloads;
use muster_testkit::{EnvelopeKind, Fault, SlackSim, SlashCommandRequest};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(5);

/// Envelopes the handler saw: (envelope id, kind, retry attempt).
type Seen = Arc<Mutex<Vec<(String, &'static str, u32)>>>;

/// Wait until `cond` holds, or fail saying `what`.
async fn until(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn config(connections: usize) -> SocketModeConfig {
    SocketModeConfig {
        connections,
        backoff_min: Duration::from_millis(200),
        backoff_max: Duration::from_secs(2),
        ..SocketModeConfig::default()
    }
}

/// A handler that records envelopes and answers a payload for slash commands, after
/// `delay`.
fn recorder(delay: Duration) -> (Handler, Seen) {
    let seen: Seen = Arc::default();
    let s = seen.clone();
    let handler: Handler = Arc::new(move |env| {
        let s = s.clone();
        Box::pin(async move {
            tokio::time::sleep(delay).await;
            let (kind, payload) = match &env.payload {
                SocketPayload::Events(_) => ("events_api", None),
                SocketPayload::SlashCommand(c) => ("slash_commands", Some(json!({"text": c.text}))),
                SocketPayload::Interactive(_) => ("interactive", None),
            };
            s.lock().unwrap().push((
                env.envelope_id.clone(),
                kind,
                env.retry_attempt.unwrap_or(0),
            ));
            Ack::Send(payload)
        })
    });
    (handler, seen)
}

struct Running {
    sim: SlackSim,
    seen: Seen,
    stats: Arc<muster_slack::socket::SocketStats>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), SocketModeError>>,
}

async fn start(config: SocketModeConfig, token: Option<Secret>) -> Running {
    start_slow(config, token, Duration::ZERO).await
}

async fn start_slow(config: SocketModeConfig, token: Option<Secret>, delay: Duration) -> Running {
    let sim = SlackSim::start().await;
    let client =
        SlackClient::new(SlackClientConfig::new(sim.token()).with_base_url(sim.base_url()))
            .unwrap();
    let (handler, seen) = recorder(delay);
    let token = token.unwrap_or_else(|| sim.socket().app_token());
    let sm = SocketMode::new(&client, token, config, handler);
    let stats = sm.stats();
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(sm.run(async move {
        let _ = rx.await;
    }));
    Running {
        sim,
        seen,
        stats,
        stop: Some(stop),
        task,
    }
}

fn event(id: &str) -> Value {
    payloads::event_callback(
        payloads::reaction_added("U1", "C1", "1764000000.000100", "pushpin", "U2"),
        id,
        1_764_000_000,
    )
}

#[tokio::test]
async fn several_connections_ack_every_kind_of_envelope() {
    let r = start(config(3), None).await;
    let sock = r.sim.socket();
    assert!(sock.wait_connections(3, WAIT).await, "three connections");
    until("the client counts three open", || r.stats.open() == 3).await;

    let cmd = SlashCommandRequest::new("/incident", "db down", "U1", "C1", "t.1");
    let ids = [
        sock.push(EnvelopeKind::EventsApi, event("Ev1")),
        sock.push(EnvelopeKind::SlashCommands, cmd.json()),
        sock.push(
            EnvelopeKind::Interactive,
            json!({"type": "shortcut", "callback_id": "c", "trigger_id": "t", "user": {"id": "U1"}}),
        ),
    ];
    for id in &ids {
        assert!(sock.wait_ack(id, WAIT).await.is_some(), "{id} acked");
    }
    let acks = sock.acks();
    assert_eq!(acks.len(), 3);
    // Each was acked on the connection it came on, and they were spread over connections.
    let used: std::collections::BTreeSet<u64> = acks.iter().map(|a| a.connection).collect();
    assert!(
        used.len() >= 2,
        "envelopes spread over connections: {used:?}"
    );
    let cmd_ack = acks.iter().find(|a| a.envelope_id == ids[1]).unwrap();
    assert_eq!(cmd_ack.payload, Some(json!({"text": "db down"})));
    let ev_ack = acks.iter().find(|a| a.envelope_id == ids[0]).unwrap();
    assert_eq!(
        ev_ack.payload, None,
        "no payload when there is nothing to say"
    );
    let kinds: Vec<&str> = r.seen.lock().unwrap().iter().map(|s| s.1).collect();
    assert!(kinds.contains(&"events_api") && kinds.contains(&"slash_commands"));
    assert!(kinds.contains(&"interactive"));
    assert!(r.sim.rejections().is_empty(), "{:?}", r.sim.rejections());
    assert!(r.sim.unlisted_errors().is_empty());
    assert_eq!(r.sim.calls("apps.connections.open").len(), 3);
}

#[tokio::test]
async fn refresh_requested_and_warning_open_a_new_connection_before_closing_the_old() {
    let r = start(config(2), None).await;
    let sock = r.sim.socket();
    assert!(sock.wait_connections(2, WAIT).await);
    for (i, reason) in ["refresh_requested", "warning"].into_iter().enumerate() {
        let old = sock.connections()[0];
        let started = Instant::now();
        // Slack would close it itself after 10 s; the client must not wait for that.
        sock.disconnect(old, reason, Duration::from_secs(10));
        assert!(
            sock.wait_opened(3 + i as u64, WAIT).await,
            "a new connection"
        );
        until("the client closed the old connection itself", || {
            !sock.connections().contains(&old)
        })
        .await;
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(sock.wait_connections(2, WAIT).await);
        let id = sock.push(EnvelopeKind::EventsApi, event(&format!("Ev{i}")));
        assert!(sock.wait_ack(&id, WAIT).await.is_some(), "still working");
    }
    assert_eq!(r.stats.refreshes(), 2);
    assert_eq!(r.stats.drops(), 0, "a refresh is not a drop");
}

#[tokio::test]
async fn a_refreshed_connection_acks_what_it_is_handling_before_closing() {
    let r = start_slow(config(2), None, Duration::from_millis(600)).await;
    let sock = r.sim.socket();
    assert!(sock.wait_connections(2, WAIT).await);
    let old = sock.connections()[0];
    let id = sock.push_on(old, EnvelopeKind::EventsApi, event("Ev1"));
    // The replacement says hello long before the handler is done.
    sock.disconnect(old, "refresh_requested", Duration::from_secs(10));
    let ack = sock.wait_ack(&id, WAIT).await.expect("acked");
    assert_eq!(
        ack.connection, old,
        "acked on its connection before it closed"
    );
    until("the old connection closed", || {
        !sock.connections().contains(&old)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let seen = r.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "handled once, not redelivered: {seen:?}");
}

#[tokio::test]
async fn a_dropped_socket_reconnects_after_a_backoff() {
    let r = start(config(1), None).await;
    let sock = r.sim.socket();
    assert!(sock.wait_connections(1, WAIT).await);
    let old = sock.connections()[0];
    let started = Instant::now();
    sock.drop_connection(old);
    assert!(sock.wait_opened(2, WAIT).await, "reconnected");
    let waited = started.elapsed();
    // backoff_min 200 ms with equal jitter: at least 100 ms.
    assert!(waited >= Duration::from_millis(100), "{waited:?}");
    assert_eq!(r.stats.drops(), 1);
    let id = sock.push(EnvelopeKind::EventsApi, event("Ev1"));
    assert!(sock.wait_ack(&id, WAIT).await.is_some());

    // apps.connections.open failing too: the delay doubles on each failure in a row.
    r.sim
        .fail_next("apps.connections.open", 3, Fault::Status(503));
    let started = Instant::now();
    sock.drop_connection(sock.connections()[0]);
    assert!(sock.wait_opened(3, Duration::from_secs(10)).await);
    let waited = started.elapsed();
    // 200 + 400 + 800 + 1600 ms, halved at worst by the jitter.
    assert!(waited >= Duration::from_millis(1500), "{waited:?}");
    assert_eq!(r.sim.faulted("apps.connections.open"), 3);
    assert!(
        sock.wait_connections(1, WAIT).await,
        "one connection, no storm"
    );
}

#[tokio::test]
async fn unacked_envelopes_are_redelivered_after_a_drop() {
    let r = start(config(2), None).await;
    let sock = r.sim.socket();
    assert!(sock.wait_connections(2, WAIT).await);
    let conn = sock.connections()[0];
    let id = sock.push_on(conn, EnvelopeKind::EventsApi, event("Ev1"));
    sock.drop_connection(conn);
    assert!(sock.wait_ack(&id, WAIT).await.is_some(), "acked in the end");
    assert!(sock.wait_connections(2, WAIT).await);
    // The simulator redelivers with retry_attempt ≥ 1 when the first delivery was not
    // acked; either way the handler saw it and it was acked.
    let seen = r.seen.lock().unwrap().clone();
    assert!(seen.iter().any(|s| s.0 == id), "{seen:?}");

    // A redelivery of an acked envelope carries the next retry_attempt.
    let other = sock.redeliver(&id, "timeout", None);
    until(&format!("redelivered on {other}"), || {
        r.seen.lock().unwrap().iter().filter(|s| s.0 == id).count() == 2
    })
    .await;
    let attempts: Vec<u32> = r
        .seen
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.0 == id)
        .map(|s| s.2)
        .collect();
    assert!(attempts.last().unwrap() >= &1, "{attempts:?}");
}

#[tokio::test]
async fn link_disabled_stops_every_connection_without_reconnecting() {
    let mut r = start(config(3), None).await;
    let sock = r.sim.socket().clone();
    assert!(sock.wait_connections(3, WAIT).await);
    let issued = sock.urls_issued();
    sock.disconnect(sock.connections()[0], "link_disabled", Duration::ZERO);
    let result = tokio::time::timeout(WAIT, &mut r.task)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(result, Err(SocketModeError::LinkDisabled));
    assert!(
        sock.wait_connections(0, WAIT).await,
        "all connections closed"
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(sock.urls_issued(), issued, "no new connection asked for");
    assert_eq!(r.sim.calls("apps.connections.open").len(), 3);
    drop(r.stop.take());
}

#[tokio::test]
async fn a_refused_token_stops_at_once() {
    // The bot token is not an app-level token: Slack answers not_allowed_token_type.
    let sim_token = muster_testkit::sim::SIM_BOT_TOKEN;
    let mut r = start(config(2), Some(Secret::new(sim_token))).await;
    let result = tokio::time::timeout(WAIT, &mut r.task)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        result,
        Err(SocketModeError::Refused("not_allowed_token_type".into()))
    );
    assert!(r.sim.calls("apps.connections.open").len() <= 2);
    assert_eq!(r.sim.socket().connections_opened(), 0);
}

#[tokio::test]
async fn shutdown_closes_the_connections() {
    let mut r = start(config(2), None).await;
    let sock = r.sim.socket().clone();
    assert!(sock.wait_connections(2, WAIT).await);
    r.stop.take().unwrap().send(()).unwrap();
    let result = tokio::time::timeout(WAIT, &mut r.task)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(result, Ok(()));
    assert!(sock.wait_connections(0, WAIT).await);
}

#[tokio::test]
async fn the_simulator_speaks_like_slack() {
    // Raw WebSocket client: what the server sends, exactly.
    use futures_util::StreamExt;
    let sim = SlackSim::start().await;
    let client = SlackClient::new(
        SlackClientConfig::new(sim.socket().app_token()).with_base_url(sim.base_url()),
    )
    .unwrap();
    let url = client.apps_connections_open().await.unwrap();
    assert!(url.expose().starts_with("ws://127.0.0.1:"));
    assert!(url.expose().contains("/link/?ticket="));
    let (mut ws, _) = tokio_tungstenite::connect_async(url.expose())
        .await
        .unwrap();
    let next = |m: Option<Result<tokio_tungstenite::tungstenite::Message, _>>| -> Value {
        serde_json::from_str(m.unwrap().unwrap().to_text().unwrap()).unwrap()
    };
    let hello = next(ws.next().await);
    assert_eq!(hello["type"], "hello");
    assert_eq!(hello["num_connections"], 1);
    assert_eq!(hello["connection_info"]["app_id"], "A0SIM0001");
    assert!(hello["debug_info"]["host"].is_string());

    let sock = sim.socket();
    let id = sock.push(EnvelopeKind::EventsApi, event("Ev9"));
    let env = next(ws.next().await);
    assert_eq!(env["type"], "events_api");
    assert_eq!(env["envelope_id"], id.as_str());
    assert_eq!(env["accepts_response_payload"], false);
    assert_eq!(env["retry_attempt"], 0);
    assert_eq!(env["retry_reason"], "");
    assert_eq!(env["payload"]["event_id"], "Ev9");
    let cmd = SlashCommandRequest::new("/incident", "x", "U1", "C1", "t");
    sock.push(EnvelopeKind::SlashCommands, cmd.json());
    let env = next(ws.next().await);
    assert_eq!(env["accepts_response_payload"], true);
    assert_eq!(env["payload"]["is_enterprise_install"], false);
    sock.redeliver(&id, "timeout", None);
    let env = next(ws.next().await);
    assert_eq!(env["retry_attempt"], 1);
    assert_eq!(env["retry_reason"], "timeout");
    // A ticket is good for one connection.
    let (mut again, _) = tokio_tungstenite::connect_async(url.expose())
        .await
        .unwrap();
    assert!(matches!(
        again.next().await,
        Some(Ok(tokio_tungstenite::tungstenite::Message::Close(_))) | None | Some(Err(_))
    ));
    // The bot token cannot open connections.
    let bot = SlackClient::new(SlackClientConfig::new(sim.token()).with_base_url(sim.base_url()))
        .unwrap();
    assert!(
        bot.apps_connections_open()
            .await
            .unwrap_err()
            .is_api_error("not_allowed_token_type")
    );
    assert!(sim.unlisted_errors().is_empty());
}
