//! The bot token never reaches a log line: every log record, at every level and from
//! every crate (reqwest, hyper and axum included), is captured while the client works
//! against the simulator, including failures, and searched for the token.

use muster_core::Secret;
use muster_slack::SlackClient;
use muster_slack::blocks::SlackMessage;
use muster_slack::client::SlackClientConfig;
use muster_testkit::{Fault, SlackSim};
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

#[tokio::test]
async fn no_log_line_contains_the_token() {
    use tracing_subscriber::util::SubscriberInitExt;
    let capture = Capture::default();
    let writer = capture.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish()
        .try_init()
        .expect("the only subscriber in this test binary");

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
