//! The bot token never reaches a log line: every log record, at every level and from
//! every crate (reqwest, hyper and axum included), is captured while the client works
//! against the simulator, including failures, and searched for the token. Likewise Socket
//! Mode never logs its app-level token, the bot token, or the one-time ticket of a
//! WebSocket URL while connections open, refresh, drop and fail (tungstenite included).

use muster_core::Secret;
use muster_slack::SlackClient;
use muster_slack::blocks::SlackMessage;
use muster_slack::client::SlackClientConfig;
use muster_slack::socket::{Ack, Handler, SocketMode, SocketModeConfig};
use muster_testkit::signed::payloads;
use muster_testkit::{EnvelopeKind, Fault, SlackSim};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every log record of this test binary, from the one subscriber both tests share. The
/// filter is the one `muster serve` uses: `trace` allowed, except tungstenite's handshake
/// request line (`QUIET_HANDSHAKE`), which quotes a Socket Mode URL's one-time ticket.
fn capture() -> Capture {
    static CAPTURE: std::sync::OnceLock<Capture> = std::sync::OnceLock::new();
    CAPTURE
        .get_or_init(|| {
            use tracing_subscriber::util::SubscriberInitExt;
            let capture = Capture::default();
            let writer = capture.clone();
            let filter = tracing_subscriber::EnvFilter::new("trace")
                .add_directive(muster_slack::socket::QUIET_HANDSHAKE.parse().unwrap());
            tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_writer(move || writer.clone())
                .finish()
                .try_init()
                .expect("the only subscriber in this test binary");
            capture
        })
        .clone()
}

#[tokio::test]
async fn no_log_line_contains_the_token() {
    let capture = capture();

    let sim = SlackSim::start().await;
    let token = sim.token();
    let c = SlackClient::new(SlackClientConfig::new(token.clone()).with_base_url(sim.base_url()))
        .unwrap();
    c.auth_test().await.unwrap();
    let ch = c.conversations_create("inc-logs", false).await.unwrap();
    c.chat_post_message(&ch.id, &SlackMessage::text("hello"), None)
        .await
        .unwrap();
    sim.fail_next("chat.postMessage", 1, Fault::Status(503));
    sim.fail_next(
        "chat.postMessage",
        1,
        Fault::RateLimited {
            retry_after_secs: 1,
        },
    );
    for _ in 0..2 {
        c.chat_post_message(&ch.id, &SlackMessage::text("x"), None)
            .await
            .unwrap_err();
    }
    c.conversations_create("inc-logs", false).await.unwrap_err();
    sim.set_method_latency("auth.test", Duration::from_secs(5));
    c.with_timeout(Duration::from_millis(100))
        .auth_test()
        .await
        .unwrap_err();
    sim.clear_faults();
    let wrong = Secret::new("xoxb-wrong-token-for-log-test");
    let bad = SlackClient::new(SlackClientConfig::new(wrong.clone()).with_base_url(sim.base_url()))
        .unwrap();
    bad.auth_test().await.unwrap_err();

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("slack call ok"), "the capture works: {logs}");
    assert!(logs.contains("name_taken"));
    assert!(logs.contains("TRACE") || logs.contains("DEBUG"));
    assert!(!logs.contains(token.expose()), "token leaked into the logs");
    assert!(!logs.contains(wrong.expose()), "token leaked into the logs");
    assert!(!logs.contains("xoxb-"), "something token-like in the logs");
}

#[tokio::test]
async fn no_log_line_contains_a_token_or_a_ticket() {
    let capture = capture();

    let sim = SlackSim::start().await;
    let sock = sim.socket().clone();
    let client =
        SlackClient::new(SlackClientConfig::new(sim.token()).with_base_url(sim.base_url()))
            .unwrap();
    let handler: Handler = Arc::new(|_env| Box::pin(async { Ack::Send(None) }));
    let config = SocketModeConfig {
        connections: 2,
        backoff_min: Duration::from_millis(50),
        ..SocketModeConfig::default()
    };
    let sm = SocketMode::new(&client, sock.app_token(), config, handler);
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(sm.run(async move {
        let _ = rx.await;
    }));
    let wait = Duration::from_secs(5);
    assert!(sock.wait_connections(2, wait).await);
    let ev = payloads::event_callback(
        payloads::reaction_added("U1", "C1", "1764000000.000100", "pushpin", "U2"),
        "Ev1",
        1,
    );
    let id = sock.push(EnvelopeKind::EventsApi, ev);
    assert!(sock.wait_ack(&id, wait).await.is_some());
    sock.disconnect(sock.connections()[0], "refresh_requested", wait);
    assert!(sock.wait_opened(3, wait).await);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        sock.wait_connections(2, wait).await,
        "the refreshed one closed"
    );
    sim.fail_next("apps.connections.open", 1, Fault::Status(503));
    sock.drop_connection(sock.connections()[0]);
    assert!(sock.wait_opened(4, wait).await);
    assert!(sock.wait_connections(2, wait).await);
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();

    // A refused token is logged by its error code only.
    let wrong = Secret::new("xapp-1-A0WRONG-0000-not-the-app-token");
    let sm = SocketMode::new(
        &client,
        wrong.clone(),
        SocketModeConfig::default(),
        Arc::new(|_env| Box::pin(async { Ack::Send(None) })),
    );
    sm.run(std::future::pending()).await.unwrap_err();

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("Socket Mode connected"),
        "the capture works: {logs}"
    );
    assert!(logs.contains("Slack asked to reconnect"));
    assert!(logs.contains("invalid_auth"));
    assert!(logs.contains("TRACE") || logs.contains("DEBUG"));
    for leak in [
        sock.app_token().expose(),
        wrong.expose(),
        sim.token().expose(),
        "xapp-",
        "xoxb-",
        "ticket=",
        "sim-ticket",
    ] {
        assert!(
            !logs.contains(leak),
            "{leak} leaked into the logs: {}",
            logs.lines()
                .filter(|l| l.contains(leak))
                .take(3)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}
