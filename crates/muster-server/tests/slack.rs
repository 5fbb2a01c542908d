//! `/incident` end to end: signed requests exactly as Slack sends them, the real router,
//! the durable workflow, and the stateful Slack simulator checking every call against
//! Slack's method descriptions.

mod common;

use axum::http::StatusCode;
use muster_core::Secret;
use muster_core::config::Config;
use muster_engine::workflow::Worker;
use muster_engine::{Engine, SystemClock};
use muster_server::AppState;
use muster_server::slack::SlackApp;
use muster_slack::{SlackClient, SlackClientConfig};
use muster_testkit::signed::payloads::{self, message_action};
use muster_testkit::signed::{Input, SignedRequest, Signer, SlashCommandRequest};
use muster_testkit::sim::SlackSim;
use std::sync::Arc;
use tower::ServiceExt;

use muster_testkit::secrets::{PLANTED_BOT_TOKEN as BOT_TOKEN, PLANTED_SIGNING_SECRET as SIGNING};

/// Every log line a test writes, at every level.
#[derive(Clone, Default)]
struct Logs(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct Harness {
    logs: Logs,
    _log_guard: tracing::subscriber::DefaultGuard,
    sim: SlackSim,
    router: axum::Router,
    state: AppState,
    /// The database behind the engine, to inspect what was written.
    store: muster_store::Store,
    worker: Worker,
    signer: Signer,
    announce: String,
    _dir: tempfile::TempDir,
}

impl Harness {
    async fn new() -> Harness {
        // Each test runs on its own thread: capture its logs, all levels, for the scan in
        // `Drop`.
        let logs = Logs::default();
        let writer = logs.clone();
        let log_guard = tracing::subscriber::set_default(
            tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_writer(move || writer.clone())
                .finish(),
        );
        let sim = SlackSim::start().await;
        sim.set_token(BOT_TOKEN);
        sim.add_user("U1ANA", "ana");
        sim.add_user("U2BOB", "bob");
        sim.add_user("U3CHO", "cho");
        sim.add_usergroup("S1ONCALL", &["U2BOB", "U3CHO"]);
        let announce = sim.add_channel("incidents", false, &[]);
        let toml = format!(
            "[slack]\napi_base_url = \"{}\"\nannouncement_channels = [\"{announce}\"]\npublic_url = \"https://muster.example.org\"\n[alerts.severities]\ncritical = \"SEV1\"\n[[slack.invite]]\nseverities = [\"SEV1\"]\nusergroups = [\"S1ONCALL\"]\n",
            sim.base_url()
        );
        let config = Config::from_toml(&toml).unwrap();
        let slack = config.slack.clone().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store = muster_store::Store::open(&format!("sqlite://{}/s.db", dir.path().display()))
            .await
            .unwrap();
        let engine = Engine::new(store.clone(), Arc::new(config), Arc::new(SystemClock))
            .with_chat(Arc::new(muster_slack::provision::SlackPlatform));
        // A short timeout, so the outage tests can make Slack "too slow" quickly.
        let client = SlackClient::new(
            SlackClientConfig::new(sim.token())
                .with_base_url(sim.base_url())
                .with_timeout(std::time::Duration::from_secs(2)),
        )
        .unwrap();
        let app = SlackApp::new(client, slack, Secret::new(SIGNING)).unwrap();
        let state = AppState::new(engine, true);
        let worker = app.worker(state.engine_arc());
        let state = state.with_slack(app);
        let router = muster_server::router(state.clone());
        Harness {
            logs,
            _log_guard: log_guard,
            sim,
            router,
            state,
            store,
            worker,
            signer: Signer::new(Secret::new(SIGNING)),
            announce,
            _dir: dir,
        }
    }

    fn now(&self) -> i64 {
        chrono::Utc::now().timestamp()
    }

    async fn send(&self, req: &SignedRequest) -> common::Reply {
        let res = self
            .router
            .clone()
            .oneshot(req.to_http_request())
            .await
            .unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let body = http_body_util::BodyExt::collect(res.into_body())
            .await
            .unwrap()
            .to_bytes();
        common::Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    async fn command(&self, text: &str, user: &str, channel: &str) -> common::Reply {
        let trigger = self.sim.new_trigger_id();
        let cmd = SlashCommandRequest::new("/incident", text, user, channel, &trigger);
        self.send(&self.signer.slash_command(&cmd, self.now()))
            .await
    }

    /// The modals opened so far, waiting for `n` (they open just after the ack).
    async fn views(&self, n: usize) -> Vec<muster_testkit::sim::SimView> {
        for _ in 0..200 {
            let v = self.sim.views();
            if v.len() >= n {
                return v;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("expected {n} modal(s), got {}", self.sim.views().len());
    }

    /// Run the workflow until nothing is due.
    async fn drain(&self) {
        for _ in 0..20 {
            if self.worker.run_once().await.unwrap() == 0 {
                return;
            }
        }
        panic!("the workflow did not settle");
    }

    /// Everything logged so far.
    fn log_text(&self) -> String {
        String::from_utf8_lossy(&self.logs.0.lock().unwrap()).into_owned()
    }

    /// INC-1 as the record has it now.
    async fn incident(&self) -> muster_core::incident::IncidentDetail {
        let d = self.state.engine().get("INC-1".parse().unwrap()).await;
        d.unwrap()
    }

    async fn first_incident(&self) -> muster_core::IncidentId {
        let d = self.state.engine().get("INC-1".parse().unwrap()).await;
        d.unwrap().incident.id
    }

    fn assert_clean(&self) {
        assert!(
            self.sim.rejections().is_empty(),
            "requests Slack would refuse: {:?}",
            self.sim.rejections()
        );
        assert!(
            self.sim.unlisted_errors().is_empty(),
            "{:?}",
            self.sim.unlisted_errors()
        );
    }
}

fn today_channel(slug: &str) -> String {
    format!("incident-{}-{slug}", chrono::Utc::now().format("%Y-%m-%d"))
}

#[tokio::test]
async fn slash_command_modal_submission_and_provisioning() {
    let h = Harness::new().await;
    let r = h.command("Checkout is down", "U1ANA", "C0GENERAL").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let views = h.views(1).await;
    assert_eq!(views.len(), 1, "the declare modal opened");
    let view = views[0].clone();
    assert!(
        view.view.to_string().contains("Checkout is down"),
        "title prefilled"
    );

    let submission = payloads::view_submission(
        &view,
        "U1ANA",
        &[("severity", Input::Choose("SEV1".into()))],
    );
    let req = h.signer.interaction(&submission, h.now());
    let r = h.send(&req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body, "{}", "the modal closes");
    // Slack redelivers the same submission: nothing new.
    let r = h
        .send(
            &h.signer
                .interaction(&submission, h.now())
                .as_retry(1, "http_timeout"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(h.store.count().await.unwrap(), 1);

    h.drain().await;
    let name = today_channel("checkout-is-down");
    let ch = h
        .sim
        .channel_by_name(&name)
        .unwrap_or_else(|| panic!("no channel {name}"));
    assert!(!ch.is_private);
    assert!(
        ch.topic.starts_with("INC-1 · SEV1 · Checkout is down"),
        "{}",
        ch.topic
    );
    let members = h.sim.members(&ch.id);
    for u in ["U1ANA", "U2BOB", "U3CHO"] {
        assert!(
            members.contains(&u.to_owned()),
            "{u} not invited: {members:?}"
        );
    }
    let bookmarks = h.sim.bookmarks(&ch.id);
    assert_eq!(bookmarks.len(), 2, "meeting and report");
    assert!(
        bookmarks
            .iter()
            .any(|b| b.link.starts_with("https://meet.jit.si/muster-"))
    );
    let welcome = h.sim.messages(&ch.id);
    assert_eq!(welcome.len(), 1, "one welcome message: {welcome:#?}");
    let announcements = h.sim.messages(&h.announce);
    assert_eq!(announcements.len(), 1, "one announcement");
    assert_eq!(h.sim.calls("conversations.create").len(), 1);
    h.assert_clean();

    // The record knows the channel: the incident is found through it, not its name.
    let d = h
        .state
        .engine()
        .get("INC-1".parse().unwrap())
        .await
        .unwrap();
    let res = d
        .resource(muster_core::incident::ResourceKind::Channel)
        .unwrap();
    assert_eq!(res.external_id, ch.id);
    assert_eq!(d.roles[0].person, "u1ana");

    // Commands inside the incident channel.
    let r = h.command("status In Progress", "U2BOB", &ch.id).await;
    let v = r.json();
    assert_eq!(v["response_type"], "in_channel");
    assert!(
        v["text"]
            .as_str()
            .unwrap()
            .contains("INC-1 is now In Progress"),
        "{v}"
    );
    let r = h.command("status Reviewed", "U2BOB", &ch.id).await;
    assert_eq!(r.json()["response_type"], "ephemeral");
    assert!(r.body.contains("cannot go from"), "{}", r.body);
    let r = h
        .command("role ops-lead <@U2BOB|bob>", "U1ANA", &ch.id)
        .await;
    assert!(r.body.contains("Operations Lead: bob"), "{}", r.body);
    h.command("note Rolled back the release", "U2BOB", &ch.id)
        .await;
    h.command("update Error rate back to normal", "U1ANA", &ch.id)
        .await;
    let r = h.command("show", "U1ANA", &ch.id).await;
    assert!(r.body.contains("Error rate back to normal"), "{}", r.body);
    h.drain().await;
    let ann = h.sim.messages(&h.announce);
    assert_eq!(
        ann.len(),
        2,
        "the announcement and the update in its thread: {ann:#?}"
    );
    assert!(ann[0].edited, "the announcement was refreshed");
    assert!(
        ann[0].blocks.to_string().contains("In Progress"),
        "with the new status"
    );
    assert_eq!(ann[1].thread_ts.as_deref(), Some(ann[0].ts.as_str()));
    assert!(ann[1].text.contains("Error rate back to normal"));
    let r = h.command("aide", "U1ANA", &ch.id).await;
    assert!(r.body.contains("Commandes"), "{}", r.body);
    h.command("resolve", "U1ANA", &ch.id).await;
    let r = h.command("close", "U1ANA", &ch.id).await;
    assert!(r.body.contains("INC-1 closed"), "{}", r.body);
    h.drain().await;
    assert!(
        h.sim.channel_by_name(&name).unwrap().is_archived,
        "close archives the channel"
    );
    // The record stays editable after the channel is gone.
    h.state
        .engine()
        .add_note("INC-1".parse().unwrap(), "Review booked", None, "ana")
        .await
        .unwrap();
    h.assert_clean();
}

#[tokio::test]
async fn invalid_submissions_come_back_as_field_errors() {
    let h = Harness::new().await;
    h.command("", "U1ANA", "C0GENERAL").await;
    let view = h.views(1).await[0].clone();
    let submission =
        payloads::view_submission(&view, "U1ANA", &[("title", Input::Text("!!! ???".into()))]);
    let r = h.send(&h.signer.interaction(&submission, h.now())).await;
    let v = r.json();
    assert_eq!(v["response_action"], "errors");
    assert!(
        v["errors"]["title"]
            .as_str()
            .unwrap()
            .contains("letter or digit"),
        "{v}"
    );
    assert_eq!(h.store.count().await.unwrap(), 0, "nothing was created");
}

#[tokio::test]
async fn taken_names_get_a_suffix_and_security_incidents_a_private_channel() {
    let h = Harness::new().await;
    let name = today_channel("db-outage");
    let old = h.sim.add_channel(&name, false, &[]);
    h.sim.archive(&old);
    h.command("DB outage", "U1ANA", "C0GENERAL").await;
    let view = h.views(1).await[0].clone();
    let submission =
        payloads::view_submission(&view, "U1ANA", &[("security", Input::Choose("yes".into()))]);
    h.send(&h.signer.interaction(&submission, h.now())).await;
    h.drain().await;
    let ch = h
        .sim
        .channel_by_name(&format!("{name}-2"))
        .expect("suffixed channel");
    assert!(ch.is_private);
    h.assert_clean();
}

#[tokio::test]
async fn declaring_from_a_message_keeps_a_link_to_it() {
    let h = Harness::new().await;
    let alerts = h.sim.add_channel("alerts", false, &["U1ANA"]);
    let text = "ALERT: p99 latency above 2s on api-gateway";
    let msg = h.sim.post_as(&alerts, "U3CHO", text);
    let trigger = h.sim.new_trigger_id();
    let action = message_action(
        "U1ANA",
        &alerts,
        &msg,
        "U3CHO",
        text,
        "declare_from_message",
        &trigger,
    );
    let r = h.send(&h.signer.interaction(&action, h.now())).await;
    assert_eq!(r.status, StatusCode::OK);
    // The modal opens right after the ack.
    let view = h.views(1).await[0].clone();
    assert!(
        view.view.to_string().contains("p99 latency"),
        "title from the message"
    );
    let submission = payloads::view_submission(&view, "U1ANA", &[]);
    h.send(&h.signer.interaction(&submission, h.now())).await;
    // The permalink is read after the ack, by a queued step.
    h.drain().await;
    let d = h
        .state
        .engine()
        .get("INC-1".parse().unwrap())
        .await
        .unwrap();
    let src = d
        .resource(muster_core::incident::ResourceKind::SourceMessage)
        .expect("source message recorded");
    assert_eq!(src.external_id, format!("{alerts}:{msg}"));
    assert!(src.url.as_deref().is_some_and(|u| u.contains(&alerts)));
}

#[tokio::test]
async fn signatures_are_checked_and_events_answered() {
    let h = Harness::new().await;
    let cmd = SlashCommandRequest::new("/incident", "x", "U1ANA", "C0GENERAL", "t");
    let good = h.signer.slash_command(&cmd, h.now());
    let forged = Signer::new(Secret::new("not-the-secret")).slash_command(&cmd, h.now());
    assert_eq!(h.send(&forged).await.status, StatusCode::UNAUTHORIZED);
    let stale = h.signer.slash_command(&cmd, h.now() - 600);
    assert_eq!(h.send(&stale).await.status, StatusCode::UNAUTHORIZED);
    let mut tampered = good.to_http_request();
    *tampered.body_mut() = axum::body::Body::from(good.body_str().replace("text=x", "text=y"));
    let res = h.router.clone().oneshot(tampered).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(h.sim.views().is_empty(), "nothing acted on a bad signature");
    assert!(
        h.log_text().contains("bad signature"),
        "the refusals are logged (and the log is captured for the secret scan)"
    );

    let r = h
        .send(
            &h.signer
                .event(&payloads::url_verification("chal-123"), h.now()),
        )
        .await;
    assert_eq!(r.json()["challenge"], "chal-123");

    // Missing headers.
    let mut bare = good.clone();
    bare.headers.retain(|(k, _)| !k.starts_with("x-slack"));
    assert_eq!(h.send(&bare).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_replayed_request_is_answered_but_not_acted_on() {
    let h = Harness::new().await;
    let name = h.declare("Replay target", "replay-target").await;
    h.drain().await;
    let ch = h.sim.channel_by_name(&name).unwrap();
    let cmd = SlashCommandRequest::new(
        "/incident",
        "note the cache was cold",
        "U1ANA",
        &ch.id,
        &h.sim.new_trigger_id(),
    );
    let signed = h.signer.slash_command(&cmd, h.now());
    let first = h.send(&signed).await;
    assert_eq!(first.status, StatusCode::OK);
    // The same bytes again (captured on the wire, or a retry reusing its signature).
    for _ in 0..3 {
        let again = h.send(&signed).await;
        assert_eq!((again.status, again.body.as_str()), (StatusCode::OK, ""));
    }
    let d = h
        .state
        .engine()
        .get("INC-1".parse().unwrap())
        .await
        .unwrap();
    let notes = d
        .timeline
        .iter()
        .filter(|e| {
            matches!(&e.event, muster_core::incident::TimelineEvent::Note { text } if text == "the cache was cold")
        })
        .count();
    assert_eq!(notes, 1);
    // A new request with the same text is a new note.
    h.send(&h.signer.slash_command(&cmd, h.now() + 1)).await;
    let d = h
        .state
        .engine()
        .get("INC-1".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(
        d.timeline
            .iter()
            .filter(|e| matches!(&e.event, muster_core::incident::TimelineEvent::Note { .. }))
            .count(),
        2
    );
}

/// Every test ends with a scan of everything it logged: neither planted secret, and no
/// finding by Muster's own scanner.
impl Drop for Harness {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        muster_testkit::secrets::assert_logs_clean(&self.log_text(), &[BOT_TOKEN, SIGNING]);
    }
}

impl Harness {
    /// Declare through the modal with default answers; returns the incident channel name.
    async fn declare(&self, title: &str, slug: &str) -> String {
        let before = self.sim.views().len();
        self.command(title, "U1ANA", "C0GENERAL").await;
        let view = self.views(before + 1).await[before].clone();
        let submission = payloads::view_submission(&view, "U1ANA", &[]);
        let r = self
            .send(&self.signer.interaction(&submission, self.now()))
            .await;
        assert_eq!(r.body, "{}");
        today_channel(slug)
    }
}

#[tokio::test]
async fn a_failing_optional_step_is_reported_with_a_retry_button_and_never_blocks_the_channel() {
    let h = Harness::new().await;
    h.sim.fail_next(
        "bookmarks.add",
        1,
        muster_testkit::sim::Fault::Error("invalid_link".into()),
    );
    let name = h.declare("Search is slow", "search-is-slow").await;
    h.drain().await;
    let ch = h
        .sim
        .channel_by_name(&name)
        .expect("the channel exists anyway");
    assert!(h.sim.bookmarks(&ch.id).is_empty());
    let msgs = h.sim.messages(&ch.id);
    // Said to people, in each language, naming what is missing rather than the code.
    let failure = msgs
        .iter()
        .find(|m| m.text.contains("could not finish this step: the bookmarks"))
        .expect("failure reported in the channel");
    assert!(
        failure.text.contains("cette étape : les signets"),
        "{}",
        failure.text
    );
    assert!(!failure.text.contains("invalid_link"), "{}", failure.text);
    assert!(
        failure.blocks.to_string().contains("incident_retry_step"),
        "with a retry button"
    );
    assert_eq!(h.sim.messages(&h.announce).len(), 1, "other steps went on");
    // Press "retry".
    let press = muster_testkit::signed::payloads::block_action_on_message(
        "U1ANA",
        &ch.id,
        &failure.ts,
        "incident_actions",
        "incident_retry_step",
        "bookmarks",
        "trig",
    );
    let r = h.send(&h.signer.interaction(&press, h.now())).await;
    assert_eq!(r.status, StatusCode::OK);
    h.drain().await;
    assert_eq!(h.sim.bookmarks(&ch.id).len(), 2, "retried and done");
    h.assert_clean();
}

#[tokio::test]
async fn outages_and_rate_limits_are_retried_after_recovery() {
    let h = Harness::new().await;
    h.sim.fail_next(
        "conversations.create",
        1,
        muster_testkit::sim::Fault::Status(503),
    );
    h.sim.fail_next(
        "chat.postMessage",
        1,
        muster_testkit::sim::Fault::RateLimited {
            retry_after_secs: 1,
        },
    );
    let name = h
        .declare("Payments timing out", "payments-timing-out")
        .await;
    h.drain().await;
    assert!(
        h.sim.channel_by_name(&name).is_none(),
        "the 503 is retried later, not now"
    );
    let jobs = h.store.jobs_for(h.first_incident().await).await.unwrap();
    assert!(
        jobs.iter().any(|j| j.step == "slack/channel"
            && j.state == muster_core::JobState::Pending
            && j.last_error.as_deref().is_some_and(|e| e.contains("503"))),
        "{jobs:?}"
    );
    // Wait out the backoff (1 s) and the Retry-After (1 s), then everything completes once.
    for _ in 0..40 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        h.drain().await;
        let done = h.store.queue_depth().await.unwrap();
        if done == (0, 0) {
            break;
        }
    }
    assert_eq!(h.store.queue_depth().await.unwrap(), (0, 0));
    let ch = h.sim.channel_by_name(&name).unwrap();
    assert_eq!(
        h.sim
            .calls("conversations.create")
            .iter()
            .filter(|c| c.error.is_none())
            .count(),
        1
    );
    assert_eq!(
        h.sim.messages(&ch.id).len(),
        1,
        "one welcome, despite the rate limit"
    );
    assert_eq!(h.sim.messages(&h.announce).len(), 1, "one announcement");
}

/// A storm: rate limits on every method, 5xx, and a call that times out although Slack
/// acted. Acks stay fast throughout, `Retry-After` is honoured, people are told what is
/// pending and then that it is done, and every effect happens exactly once.
#[tokio::test]
async fn a_storm_of_failures_ends_with_everything_done_once_and_people_told() {
    use muster_testkit::sim::Fault;
    use std::time::{Duration, Instant};
    let h = Harness::new().await;
    // Declared (the modal works); then the storm hits the workflow.
    let name = h.declare("Storage latency", "storage-latency").await;
    h.sim.rate_limit_storm(4, 1);
    h.sim
        .fail_next("conversations.invite", 3, Fault::Status(503));
    h.sim.fail_next(
        "chat.postMessage",
        1,
        Fault::Stall(Duration::from_millis(2100)),
    );
    h.sim.fail_next("bookmarks.add", 2, Fault::Status(502));
    let start = Instant::now();
    let mut slowest_ack = Duration::ZERO;
    loop {
        h.drain().await;
        // Slack keeps sending commands during the storm: each is acknowledged at once.
        let t = Instant::now();
        let r = h.command("help", "U2BOB", "C0GENERAL").await;
        assert_eq!(r.status, StatusCode::OK);
        slowest_ack = slowest_ack.max(t.elapsed());
        if h.store.queue_depth().await.unwrap() == (0, 0) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(40),
            "steps still pending: {:?}",
            h.state
                .engine()
                .pending_setup(h.first_incident().await)
                .await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(slowest_ack < Duration::from_millis(500), "{slowest_ack:?}");

    // Retry-After: no call of a rate-limited method before the wait was over.
    let faults = h.sim.faulted_calls();
    let calls = h.sim.all_calls();
    for f in &faults {
        if let Fault::RateLimited { retry_after_secs } = f.fault {
            let next = calls
                .iter()
                .map(|c| (&c.method, c.at))
                .chain(faults.iter().map(|g| (&g.method, g.at)))
                .filter(|(m, at)| **m == f.method && *at > f.at)
                .map(|(_, at)| at)
                .min();
            if let Some(next) = next {
                assert!(
                    next - f.at
                        >= Duration::from_secs(retry_after_secs) - Duration::from_millis(50),
                    "{} called again {:?} after a 429 asking for {retry_after_secs} s",
                    f.method,
                    next - f.at
                );
            }
        }
    }

    // Exactly once: one channel, its bookmarks, one welcome (the timed-out post was found
    // by its mark), one announcement.
    let ch = h.sim.channel_by_name(&name).unwrap();
    assert_eq!(h.sim.bookmarks(&ch.id).len(), 2);
    assert_eq!(h.sim.members(&ch.id), ["U0BOT0001", "U1ANA"]);
    let posts: Vec<String> = h.sim.messages(&ch.id).into_iter().map(|m| m.text).collect();
    let welcomes = h
        .sim
        .messages(&ch.id)
        .into_iter()
        .filter(|m| {
            m.metadata
                .as_ref()
                .is_some_and(|md| md["event_payload"]["step"] == "welcome")
        })
        .count();
    assert_eq!(welcomes, 1, "{posts:#?}");
    assert_eq!(h.sim.messages(&h.announce).len(), 1, "one announcement");
    // Told what was pending, in both languages, then that it is done.
    let delayed: Vec<&String> = posts
        .iter()
        .filter(|t| t.contains("Still pending"))
        .collect();
    assert_eq!(delayed.len(), 1, "{posts:#?}");
    assert!(delayed[0].contains("inviting people") && delayed[0].contains("les invitations"));
    assert_eq!(
        posts
            .iter()
            .filter(|t| t.contains("everything is set up"))
            .count(),
        1,
        "{posts:#?}"
    );
    // `show` says nothing is pending any more.
    let r = h.command("show", "U1ANA", &ch.id).await;
    assert!(!r.body.contains("Still being set up"), "{}", r.body);
    h.assert_clean();
}

#[tokio::test]
async fn a_step_claimed_by_a_crashed_worker_runs_again_after_its_lease() {
    let h = Harness::new().await;
    let name = h.declare("Crash test", "crash-test").await;
    // A worker claims the first step and dies before running it.
    let store = &h.store;
    let claimed = store
        .claim(
            h.state.engine().now(),
            std::time::Duration::from_millis(200),
            16,
        )
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    h.drain().await;
    assert!(
        h.sim.channel_by_name(&name).is_none(),
        "leased steps are not run twice at once"
    );
    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    h.drain().await;
    assert!(
        h.sim.channel_by_name(&name).is_some(),
        "the lease ran out and the step ran"
    );
    assert_eq!(h.sim.messages(&h.announce).len(), 1);
}

#[tokio::test]
async fn the_welcome_buttons_post_an_update_and_resolve() {
    let h = Harness::new().await;
    let name = h.declare("Login failures", "login-failures").await;
    h.drain().await;
    let ch = h.sim.channel_by_name(&name).unwrap();
    let welcome = h.sim.messages(&ch.id)[0].clone();
    let id = h
        .state
        .engine()
        .get("INC-1".parse().unwrap())
        .await
        .unwrap()
        .incident
        .id
        .to_string();
    let press = |action: &str| {
        let trigger = h.sim.new_trigger_id();
        payloads::block_action_on_message(
            "U1ANA",
            &ch.id,
            &welcome.ts,
            "incident_actions",
            action,
            &id,
            &trigger,
        )
    };
    let before = h.sim.views().len();
    h.send(
        &h.signer
            .interaction(&press("incident_post_update"), h.now()),
    )
    .await;
    let view = h.views(before + 1).await[before].clone();
    let submission = payloads::view_submission(
        &view,
        "U1ANA",
        &[
            ("update_text", Input::Text("Fix deployed, watching".into())),
            ("update_status", Input::Choose("In Progress".into())),
        ],
    );
    let r = h.send(&h.signer.interaction(&submission, h.now())).await;
    assert_eq!(r.body, "{}", "{}", r.body);
    let d = h
        .state
        .engine()
        .get("INC-1".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(d.incident.status, "In Progress");
    assert_eq!(d.updates[0].text, "Fix deployed, watching");
    h.drain().await;
    let thread = h.sim.messages(&h.announce);
    assert!(
        thread
            .iter()
            .any(|m| m.text.contains("Fix deployed, watching")),
        "{thread:#?}"
    );
    // An empty update is refused inside the modal.
    let before = h.sim.views().len();
    h.send(
        &h.signer
            .interaction(&press("incident_post_update"), h.now()),
    )
    .await;
    let view = h.views(before + 1).await[before].clone();
    let r = h
        .send(
            &h.signer
                .interaction(&payloads::view_submission(&view, "U1ANA", &[]), h.now()),
        )
        .await;
    assert_eq!(r.json()["response_action"], "errors");
    // Resolve.
    h.send(&h.signer.interaction(&press("incident_resolve"), h.now()))
        .await;
    let d = h
        .state
        .engine()
        .get("INC-1".parse().unwrap())
        .await
        .unwrap();
    assert!(d.incident.resolved_at.is_some());
    h.assert_clean();
}

#[tokio::test]
async fn reacting_to_a_message_puts_it_on_the_timeline() {
    let h = Harness::new().await;
    let name = h.declare("Cache misses", "cache-misses").await;
    h.drain().await;
    let ch = h.sim.channel_by_name(&name).unwrap();
    let ts = h.sim.post_with_files(
        &ch.id,
        "U2BOB",
        "Found it: the cache TTL is 0 <b>",
        &["ttl.png"],
    );
    let key_text = "Found it: the cache TTL is 0";
    let event = |e: serde_json::Value, id: &str| {
        h.signer
            .event(&payloads::event_callback(e, id, h.now()), h.now())
    };
    let entries = |d: &muster_core::incident::IncidentDetail| {
        d.timeline
            .iter()
            .filter(|t| {
                matches!(
                    &t.event,
                    muster_core::incident::TimelineEvent::ChatMessage { .. }
                )
            })
            .cloned()
            .collect::<Vec<_>>()
    };
    // Captures are queued steps: run them.
    let settle = || async {
        h.drain().await;
        h.state
            .engine()
            .get("INC-1".parse().unwrap())
            .await
            .unwrap()
    };

    h.sim.react(&ch.id, &ts, "U1ANA", "floppy_disk");
    let r = h
        .send(&event(
            payloads::reaction_added("U1ANA", &ch.id, &ts, "floppy_disk", "U2BOB"),
            "Ev1",
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let d = settle().await;
    let captured = entries(&d);
    assert_eq!(captured.len(), 1, "{:#?}", d.timeline);
    let e = &captured[0];
    assert_eq!(e.author, "bob");
    assert_eq!(
        Some(e.at),
        muster_slack::client::ts_time(&ts),
        "the message's own time"
    );
    let muster_core::incident::TimelineEvent::ChatMessage {
        text,
        permalink,
        files,
        ..
    } = &e.event
    else {
        unreachable!()
    };
    assert!(text.starts_with(key_text));
    assert!(permalink.as_deref().is_some_and(|p| p.contains(&ch.id)));
    assert_eq!(files.len(), 1);

    // Redelivered, and a second capture emoji: still one entry.
    h.send(&event(
        payloads::reaction_added("U1ANA", &ch.id, &ts, "floppy_disk", "U2BOB"),
        "Ev1",
    ))
    .await;
    h.send(&event(
        payloads::reaction_added("U3CHO", &ch.id, &ts, "pushpin", "U2BOB"),
        "Ev2",
    ))
    .await;
    // Another emoji is not a capture.
    h.send(&event(
        payloads::reaction_added("U3CHO", &ch.id, &ts, "eyes", "U2BOB"),
        "Ev3",
    ))
    .await;
    assert_eq!(entries(&settle().await).len(), 1);

    // An edit follows the message.
    h.sim
        .edit_as(&ch.id, &ts, "Found it: the cache TTL was 0 in prod");
    h.send(&event(
        payloads::message_changed(
            &ch.id,
            "U2BOB",
            &ts,
            key_text,
            "Found it: the cache TTL was 0 in prod",
            "1764250000.000100",
        ),
        "Ev4",
    ))
    .await;
    let d = settle().await;
    let muster_core::incident::TimelineEvent::ChatMessage { text, .. } = &entries(&d)[0].event
    else {
        unreachable!()
    };
    assert_eq!(text, "Found it: the cache TTL was 0 in prod");
    // The report shows it, escaped.
    let md = h
        .state
        .engine()
        .report(
            "INC-1".parse().unwrap(),
            muster_core::Lang::En,
            muster_core::report::ReportFormat::Markdown,
        )
        .await
        .unwrap();
    assert!(
        md.contains("| bob | Found it: the cache TTL was 0 in prod"),
        "{md}"
    );

    // Removing the reaction takes it out.
    h.send(&event(
        payloads::reaction_removed("U1ANA", &ch.id, &ts, "floppy_disk", "U2BOB"),
        "Ev5",
    ))
    .await;
    assert!(entries(&settle().await).is_empty());
    // Reactions outside incident channels are ignored.
    h.send(&event(
        payloads::reaction_added("U1ANA", "C0GENERAL", &ts, "floppy_disk", "U2BOB"),
        "Ev6",
    ))
    .await;
    h.assert_clean();
}

#[tokio::test]
async fn a_credential_posted_in_an_incident_channel_is_flagged_at_once() {
    let h = Harness::new().await;
    let name = h.declare("Leaky logs", "leaky-logs").await;
    h.drain().await;
    let ch = h.sim.channel_by_name(&name).unwrap();
    let secret = "ghp_0123456789abcdefghijklmnopqrstuvwxyZ";
    let text = format!("here is the token from the log: {secret}");
    let ts = h.sim.post_as(&ch.id, "U2BOB", &text);
    let ev = payloads::event_callback(
        payloads::message(&ch.id, "U2BOB", &text, &ts),
        "EvS1",
        h.now(),
    );
    assert_eq!(
        h.send(&h.signer.event(&ev, h.now())).await.status,
        StatusCode::OK
    );
    // Queued with the event (no Slack call before the ack), run at once by the worker.
    h.drain().await;
    let warning = h
        .sim
        .messages(&ch.id)
        .into_iter()
        .find(|m| m.thread_ts.as_deref() == Some(ts.as_str()))
        .expect("a warning in the message's thread");
    assert!(
        warning
            .text
            .contains("Delete the message now, then rotate the secret"),
        "{}",
        warning.text
    );
    assert!(!warning.text.contains(secret));
    let d = h
        .state
        .engine()
        .get("INC-1".parse().unwrap())
        .await
        .unwrap();
    let note = d
        .timeline
        .iter()
        .find_map(|e| match &e.event {
            muster_core::incident::TimelineEvent::Note { text }
                if text.contains("posted a credential") =>
            {
                Some(text.clone())
            }
            _ => None,
        })
        .expect("a redacted timeline entry");
    assert!(note.contains("bob") && note.contains("github"), "{note}");
    assert!(
        !note.contains(secret),
        "the timeline never holds the secret: {note}"
    );
    // An ordinary message gets nothing.
    let ts2 = h.sim.post_as(&ch.id, "U2BOB", "restarting the workers now");
    let ev = payloads::event_callback(
        payloads::message(&ch.id, "U2BOB", "restarting the workers now", &ts2),
        "EvS2",
        h.now(),
    );
    h.send(&h.signer.event(&ev, h.now())).await;
    assert!(
        !h.sim
            .messages(&ch.id)
            .iter()
            .any(|m| m.thread_ts.as_deref() == Some(ts2.as_str()))
    );
    h.assert_clean();
}

#[tokio::test]
async fn changes_made_outside_slack_keep_the_announcement_in_step() {
    let h = Harness::new().await;
    let name = h.declare("Queue backlog", "queue-backlog").await;
    h.drain().await;
    let ch = h.sim.channel_by_name(&name).unwrap();
    let announcement = h.sim.messages(&h.announce)[0].clone();
    assert!(announcement.text.contains("INC-1"));
    // The web page, the API and the CLI all change the record through the engine.
    let e = h.state.engine();
    e.set_status("INC-1".parse().unwrap(), "In Progress", "dana")
        .await
        .unwrap();
    e.post_update("INC-1".parse().unwrap(), "Consumers scaled to 12", "dana")
        .await
        .unwrap();
    h.drain().await;
    let refreshed = h.sim.message(&h.announce, &announcement.ts).unwrap();
    assert!(refreshed.edited, "the announcement was refreshed");
    assert!(
        refreshed.blocks.to_string().contains("In Progress"),
        "{}",
        refreshed.blocks
    );
    let replies: Vec<String> = h
        .sim
        .messages(&h.announce)
        .into_iter()
        .filter(|m| m.thread_ts.as_deref() == Some(announcement.ts.as_str()))
        .map(|m| m.text)
        .collect();
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert!(replies[0].contains("Consumers scaled to 12"));
    // Closing from outside archives the channel.
    e.close("INC-1".parse().unwrap(), "dana").await.unwrap();
    h.drain().await;
    assert!(h.sim.channel(&ch.id).unwrap().is_archived);
    h.assert_clean();
}

/// Every mrkdwn text of a message (its fallback `text` and the mrkdwn of its blocks):
/// where Slack reads `<!channel>` and `<url|label>`. Plain-text headers are not parsed.
fn mrkdwn_of(text: &str, blocks: &serde_json::Value) -> Vec<String> {
    fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(o) => {
                if o.get("type").and_then(|t| t.as_str()) == Some("mrkdwn")
                    && let Some(t) = o.get("text").and_then(|t| t.as_str())
                {
                    out.push(t.to_owned());
                }
                o.values().for_each(|x| walk(x, out));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = vec![text.to_owned()];
    walk(blocks, &mut out);
    out
}

/// Nothing people typed pings a channel, hides a link or mentions someone.
fn assert_inert(what: &str, texts: &[String]) {
    for t in texts {
        for bad in [
            "<!channel>",
            "<!here>",
            "<https://evil",
            "&amp;lt;",
            "&amp;amp;",
        ] {
            assert!(!t.contains(bad), "{what}: {bad} in {t}");
        }
    }
}

/// What Slack sends for typed text: `&`, `<`, `>` as entities (control sequences such
/// as `<!channel>` and `<@U…>` stay as they are).
fn as_slack_sends(typed: &str) -> String {
    muster_slack::blocks::escape(typed)
}

#[tokio::test]
async fn typed_text_is_data_in_every_message_and_answer() {
    let h = Harness::new().await;
    // Declared with a title Slack escaped; the record keeps what was typed.
    h.command(
        &as_slack_sends("Fixed <cache> & <!channel>"),
        "U1ANA",
        "C0GENERAL",
    )
    .await;
    let view = h.views(1).await[0].clone();
    let submission = payloads::view_submission(
        &view,
        "U1ANA",
        &[(
            "description",
            Input::Text("<https://evil.example|click me> <!here>".into()),
        )],
    );
    assert_eq!(
        h.send(&h.signer.interaction(&submission, h.now()))
            .await
            .body,
        "{}"
    );
    let d = h.incident().await;
    assert_eq!(d.incident.title.as_str(), "Fixed <cache> & <!channel>");
    h.drain().await;
    let d = h.incident().await;
    let ch = muster_slack::provision::channel_id(&d)
        .expect("the channel is recorded")
        .to_owned();
    let answer = |text: &str| {
        let trigger = h.sim.new_trigger_id();
        let cmd = SlashCommandRequest::new("/incident", text, "U1ANA", &ch, &trigger);
        h.signer.slash_command(&cmd, h.now())
    };
    let mut answers = vec![];
    for (typed, sent) in [
        (
            "note <https://evil.example|click me>",
            as_slack_sends("note <https://evil.example|click me>"),
        ),
        // With `should_escape`, Slack turns a typed @channel into `<!channel>`.
        (
            "role scribe <!channel>",
            "role scribe <!channel>".to_owned(),
        ),
        // Not a mention: a name that starts like one.
        (
            "role comms <@U2BOB> <!here>",
            "role comms <@U2BOB> <!here>".to_owned(),
        ),
        (
            "update Fixed <cache>",
            as_slack_sends("update Fixed <cache>"),
        ),
        ("status <!channel>", "status <!channel>".to_owned()),
        (
            "severity <https://evil.example|x>",
            as_slack_sends("severity <https://evil.example|x>"),
        ),
        ("show", "show".to_owned()),
    ] {
        let r = h.send(&answer(&sent)).await;
        assert_eq!(r.status, StatusCode::OK, "{typed}");
        let j = r.json();
        assert_inert(
            typed,
            &mrkdwn_of(j["text"].as_str().unwrap_or(""), &j["blocks"]),
        );
        answers.push((typed, j));
    }
    // Confirmations everyone sees are in every language, with the values escaped.
    let note = &answers[0].1;
    assert_eq!(note["response_type"], "in_channel");
    let text = note["text"].as_str().unwrap();
    assert!(
        text.contains("Note added to the timeline of INC-1"),
        "{text}"
    );
    assert!(
        text.contains("Note ajoutée à la chronologie de INC-1"),
        "{text}"
    );
    let roles = answers[1].1["text"].as_str().unwrap().to_owned();
    assert!(roles.contains("&lt;!channel&gt;"), "{roles}");
    assert!(roles.contains("Rôles de INC-1"), "{roles}");
    // Refusals quote what was typed, escaped, in every language.
    let status = &answers[4].1;
    assert_eq!(status["response_type"], "ephemeral");
    let d = h.incident().await;
    assert!(
        d.roles
            .iter()
            .any(|r| r.role == "comms" && r.person == "<@U2BOB> <!here>"),
        "kept as typed, not as a mention: {:?}",
        d.roles
    );
    assert_eq!(d.updates[0].text, "Fixed <cache>", "decoded once on input");
    h.drain().await;
    // Everything Muster posted: the welcome, the announcement, the update under it.
    let mut posted = h.sim.messages(&h.announce);
    posted.extend(h.sim.messages(&ch));
    assert!(posted.len() >= 3, "{posted:#?}");
    for m in &posted {
        assert_inert("posted", &mrkdwn_of(&m.text, &m.blocks));
    }
    assert!(
        posted
            .iter()
            .any(|m| m.text.contains("Fixed &lt;cache&gt;")),
        "shown as typed: {posted:#?}"
    );
    // A mention the bot means is built from the id Slack resolved.
    let r = h.send(&answer("role scribe <@U2BOB>")).await;
    assert!(
        r.json()["text"].as_str().unwrap().contains("<@U2BOB>"),
        "{}",
        r.body
    );
    h.assert_clean();
}

#[tokio::test]
async fn a_mistyped_subcommand_in_an_incident_channel_answers_with_help() {
    let h = Harness::new().await;
    let name = h.declare("Disk full", "disk-full").await;
    h.drain().await;
    let ch = h.sim.channel_by_name(&name).unwrap();
    let opened = h.sim.views().len();
    let r = h.command("frobnicate the cache", "U1ANA", &ch.id).await;
    let j = r.json();
    assert_eq!(j["response_type"], "ephemeral");
    let text = j.to_string();
    assert!(
        text.contains("`frobnicate` is not a `/incident` command"),
        "{text}"
    );
    assert!(text.contains("/incident update"), "with the help: {text}");
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(h.sim.views().len(), opened, "no declare modal");
    // Outside an incident channel, the text is still a new incident's title.
    h.command("frobnicate", "U1ANA", "C0GENERAL").await;
    let view = h.views(opened + 1).await[opened].clone();
    assert!(
        view.view.to_string().contains("frobnicate"),
        "{:?}",
        view.view
    );
    h.assert_clean();
}

/// A security incident reveals nothing in public channels: its announcement is one neutral
/// line (no title, description, team or severity), and its status updates stay in its own
/// private channel. (Before: the title, team and severity were announced, and updates
/// were posted under the public announcement.)
#[tokio::test]
async fn a_security_incident_announces_one_neutral_line_and_keeps_its_updates_private() {
    let h = Harness::new().await;
    h.command("Attacker in the admin console", "U1ANA", "C0GENERAL")
        .await;
    let view = h.views(1).await[0].clone();
    let submission = payloads::view_submission(
        &view,
        "U1ANA",
        &[
            ("security", Input::Choose("yes".into())),
            (
                "description",
                Input::Text("Admin key leaked in CI logs".into()),
            ),
        ],
    );
    h.send(&h.signer.interaction(&submission, h.now())).await;
    h.drain().await;
    let name = today_channel("attacker-in-the-admin-console");
    let ch = h.sim.channel_by_name(&name).expect("a private channel");
    assert!(ch.is_private);
    let public = |h: &Harness| -> String {
        h.sim
            .messages(&h.announce)
            .iter()
            .map(|m| format!("{} {}", m.text, m.blocks))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let announced = public(&h);
    assert!(announced.contains("INC-1"), "{announced}");
    for secret in ["Attacker", "admin console", "Admin key", "SEV"] {
        assert!(
            !announced.contains(secret),
            "{secret} in public: {announced}"
        );
    }
    // An update from the private channel stays there.
    let r = h
        .command(
            "update Attacker logged in from 203.0.113.7 with the leaked admin key",
            "U1ANA",
            &ch.id,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    h.drain().await;
    let announced = public(&h);
    assert!(!announced.contains("203.0.113.7"), "{announced}");
    assert!(
        h.sim
            .messages(&ch.id)
            .iter()
            .any(|m| m.text.contains("203.0.113.7")),
        "the update is posted in the incident's own channel"
    );
    // Closing changes nothing in public either.
    h.command("resolve", "U1ANA", &ch.id).await;
    h.drain().await;
    assert!(!public(&h).contains("Attacker"));
    h.assert_clean();
}

#[tokio::test]
async fn reminders_are_snoozed_and_dismissed_from_the_channel_and_messages_count_as_activity() {
    let h = Harness::new().await;
    let name = h.declare("Queue backlog", "queue-backlog").await;
    h.drain().await;
    let ch = h.sim.channel_by_name(&name).unwrap();
    let r = h.command("snooze 1h", "U2BOB", &ch.id).await;
    assert_eq!(r.json()["response_type"], "in_channel", "{}", r.body);
    assert!(r.body.contains("reminders snoozed until"), "{}", r.body);
    assert!(r.body.contains("rappels reportés"), "{}", r.body);
    let r = h.command("snooze soon", "U2BOB", &ch.id).await;
    assert_eq!(r.json()["response_type"], "ephemeral");
    assert!(r.body.contains("is not a duration"), "{}", r.body);
    let r = h.command("dismiss nope", "U2BOB", &ch.id).await;
    assert!(
        r.body.contains("status-update, no-commander, stale"),
        "{}",
        r.body
    );
    let r = h.command("dismiss no-commander", "U2BOB", &ch.id).await;
    assert!(
        r.body.contains("\\\"no-commander\\\" dismissed"),
        "{}",
        r.body
    );
    let e = h.state.engine();
    let d = e.get("INC-1".parse().unwrap()).await.unwrap();
    let stale_due = |list: Vec<muster_engine::care::ReminderStatus>| {
        list.into_iter()
            .find(|r| r.key == "stale")
            .unwrap()
            .due
            .unwrap()
    };
    let before = stale_due(e.reminders(&d).await.unwrap());
    // A person's message in the channel is activity: the stale nudge moves back.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let ts = h.sim.post_as(&ch.id, "U2BOB", "still digging");
    let ev = payloads::event_callback(
        payloads::message(&ch.id, "U2BOB", "still digging", &ts),
        "EvCare1",
        h.now(),
    );
    assert_eq!(
        h.send(&h.signer.event(&ev, h.now())).await.status,
        StatusCode::OK
    );
    let after = stale_due(e.reminders(&d).await.unwrap());
    assert!(after > before, "{before} → {after}");
    let r = h.command("help", "U2BOB", &ch.id).await;
    assert!(r.body.contains("snooze"), "{}", r.body);
    h.assert_clean();
}

#[tokio::test]
async fn alerts_resolved_before_the_channel_exists_are_told_once_it_does() {
    let h = Harness::new().await;
    let event = |status: &str| {
        let body = serde_json::json!({"dedup_key": "disk", "title": "Disk full", "severity": "critical", "status": status});
        muster_core::alert::parse_webhook(body.to_string().as_bytes(), "severity").unwrap()
    };
    let engine = h.state.engine();
    engine
        .receive_alerts(&event("firing"), String::new())
        .await
        .unwrap();
    // Resolved before the workflow ran: no channel yet.
    assert!(
        h.incident()
            .await
            .resource(muster_core::incident::ResourceKind::Channel)
            .is_none()
    );
    engine
        .receive_alerts(&event("resolved"), String::new())
        .await
        .unwrap();
    h.drain().await;
    let channel = h
        .incident()
        .await
        .resource(muster_core::incident::ResourceKind::Channel)
        .expect("channel made")
        .external_id
        .clone();
    let told = h
        .sim
        .messages(&channel)
        .iter()
        .filter(|m| m.text.contains("Every alert of this incident is resolved"))
        .count();
    assert_eq!(told, 1, "{:?}", h.sim.messages(&channel));
    h.assert_clean();
}
