//! The fault-injection suite, through the real `muster serve` binary against the stateful
//! Slack simulator:
//!
//! - `muster serve` killed with SIGKILL at every step of the provisioning workflow, just
//!   after Slack acted and before its answer arrived, then restarted: every incident ends
//!   provisioned exactly once (one channel, one welcome, one announcement, one set of
//!   bookmarks);
//! - 1,000 randomized deliveries against three servers sharing one database: duplicate
//!   submissions, Slack retries, two people declaring the same thing in the same second,
//!   and duplicate events;
//! - every log line (debug level) of every server is scanned with Muster's own scanner:
//!   the planted bot token and signing secret never appear.

use muster_core::incident::{ResourceKind, TimelineEvent};
use muster_core::{IncidentNumber, IncidentRef, Secret};
use muster_store::Store;
use muster_testkit::signed::payloads;
use muster_testkit::signed::{Input, SignedRequest, Signer, SlashCommandRequest};
use muster_testkit::sim::{SimView, SlackSim};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use muster_testkit::secrets::{
    PLANTED_BOT_TOKEN as BOT_TOKEN, PLANTED_SIGNING_SECRET as SIGNING, assert_logs_clean,
};
const LEASE_SECS: u64 = 3;

/// One `muster serve` process; its stderr is kept for the log scan.
struct Serve {
    child: Child,
    url: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A workspace: the simulator, a config, a database, and the logs of every server.
struct World {
    sim: SlackSim,
    dir: tempfile::TempDir,
    announce: String,
    signer: Signer,
    http: reqwest::Client,
    logs: Arc<Mutex<String>>,
}

impl World {
    async fn new() -> World {
        World::with_lease(LEASE_SECS).await
    }

    /// A world whose servers hold a step's lease for `lease_secs` (renewed while alive).
    async fn with_lease(lease_secs: u64) -> World {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let sim = SlackSim::start().await;
        sim.set_token(BOT_TOKEN);
        sim.add_user("U1ANA", "ana");
        sim.add_user("U2BOB", "bob");
        sim.add_user("U3CHO", "cho");
        sim.add_usergroup("S1ONCALL", &["U2BOB", "U3CHO"]);
        let announce = sim.add_channel("incidents", false, &[]);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bot-token"), format!("{BOT_TOKEN}\n")).unwrap();
        std::fs::write(
            dir.path().join("muster.toml"),
            format!(
                "[slack]\napi_base_url = \"{}\"\nbot_token_file = \"bot-token\"\nannouncement_channels = [\"{announce}\"]\npublic_url = \"https://muster.example.org\"\nstep_lease_seconds = {lease_secs}\n[[slack.invite]]\nseverities = [\"SEV1\"]\nusergroups = [\"S1ONCALL\"]\n",
                sim.base_url()
            ),
        )
        .unwrap();
        World {
            sim,
            dir,
            announce,
            signer: Signer::new(Secret::new(SIGNING)),
            http: reqwest::Client::new(),
            logs: Arc::new(Mutex::new(String::new())),
        }
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("muster.db")
    }

    /// Start `muster serve` on this workspace's database and wait until it listens.
    fn serve(&self) -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_muster"))
            .args(["serve", "--bind", "127.0.0.1:0"])
            .current_dir(self.dir.path())
            .env("MUSTER_SLACK_SIGNING_SECRET", SIGNING)
            .env("MUSTER_LOG", "debug")
            .env_remove("MUSTER_DATABASE_URL")
            .env_remove("MUSTER_CONFIG")
            .env_remove("MUSTER_SLACK_BOT_TOKEN")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let logs = self.logs.clone();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stderr).lines();
            while let Some(Ok(line)) = lines.next() {
                if line.contains("http://") {
                    let url = line.split_whitespace().find(|w| w.starts_with("http://"));
                    let _ = tx.send(url.map(str::to_owned));
                }
                let mut l = logs.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(20))
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("muster serve did not start:\n{}", self.logs()));
        Serve { child, url }
    }

    fn logs(&self) -> String {
        self.logs.lock().unwrap().clone()
    }

    async fn send(&self, server: &Serve, req: &SignedRequest) -> (u16, String) {
        let mut b = self
            .http
            .post(format!("{}{}", server.url, req.path))
            .body(req.body.clone());
        for (k, v) in &req.headers {
            b = b.header(k, v);
        }
        match b.timeout(Duration::from_secs(10)).send().await {
            Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
            Err(e) => panic!("{} did not answer: {e}", req.path),
        }
    }

    fn now(&self) -> i64 {
        chrono::Utc::now().timestamp()
    }

    /// `/incident <text>` by `user`, then the modal it opened.
    async fn open_modal(&self, server: &Serve, text: &str, user: &str) -> SimView {
        let trigger = self.sim.new_trigger_id();
        let cmd = SlashCommandRequest::new("/incident", text, user, "C0GENERAL", &trigger);
        let (status, body) = self
            .send(server, &self.signer.slash_command(&cmd, self.now()))
            .await;
        assert_eq!(status, 200, "{body}");
        let start = Instant::now();
        loop {
            if let Some(v) = self
                .sim
                .views()
                .into_iter()
                .find(|v| v.trigger_id.as_deref() == Some(trigger.as_str()))
            {
                return v;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "no modal opened for {text}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Declare a SEV1 from Slack: the command, then its modal submitted.
    async fn declare(&self, server: &Serve, title: &str, user: &str) -> (u16, String) {
        let view = self.open_modal(server, title, user).await;
        let req = self
            .signer
            .interaction(&self.submission(&view, user), self.now());
        self.send(server, &req).await
    }

    fn submission(&self, view: &SimView, user: &str) -> serde_json::Value {
        payloads::view_submission(view, user, &[("severity", Input::Choose("SEV1".into()))])
    }

    /// Wait until every step of every incident is done; answers how many incidents.
    async fn settle(&self, within: Duration) -> u64 {
        let store = Store::open(&format!("sqlite://{}", self.db().display()))
            .await
            .unwrap();
        let start = Instant::now();
        loop {
            let n = store.count().await.unwrap();
            let mut pending = vec![];
            for k in 1..=n {
                let id = store
                    .find(IncidentRef::Number(IncidentNumber(k as i64)))
                    .await
                    .unwrap()
                    .unwrap()
                    .id;
                for j in store.jobs_for(id).await.unwrap() {
                    if j.state != muster_core::JobState::Done {
                        pending.push(format!("INC-{k} {} {} {:?}", j.step, j.state, j.last_error));
                    }
                }
            }
            if pending.is_empty() && n > 0 {
                return n;
            }
            assert!(
                start.elapsed() < within,
                "steps still not done after {within:?}: {pending:?}\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Every incident has exactly one channel, with its members, topic, purpose, two
    /// bookmarks and one welcome; the announcement channel has exactly one announcement
    /// per incident; and Slack never refused a request.
    async fn assert_provisioned_exactly_once(&self, incidents: u64, context: &str) {
        let store = Store::open(&format!("sqlite://{}", self.db().display()))
            .await
            .unwrap();
        let incident_channels: Vec<_> = self
            .sim
            .channels()
            .into_iter()
            .filter(|c| c.name.starts_with("incident-"))
            .collect();
        assert_eq!(
            incident_channels.len() as u64,
            incidents,
            "{context}: channels {:?}",
            incident_channels
                .iter()
                .map(|c| &c.name)
                .collect::<Vec<_>>()
        );
        let announcements: Vec<_> = self
            .sim
            .messages(&self.announce)
            .into_iter()
            .filter(|m| m.thread_ts.is_none() && m.metadata.is_some())
            .collect();
        assert_eq!(
            announcements.len() as u64,
            incidents,
            "{context}: announcements"
        );
        for k in 1..=incidents {
            let d = store
                .detail(IncidentRef::Number(IncidentNumber(k as i64)))
                .await
                .unwrap()
                .unwrap();
            let ch = d
                .resource(ResourceKind::Channel)
                .unwrap_or_else(|| panic!("{context}: INC-{k} has no channel"))
                .external_id
                .clone();
            let c = self.sim.channel(&ch).unwrap();
            assert!(!c.topic.is_empty() && !c.purpose.is_empty(), "{context}");
            // The declarer (user names are the simulator's lowercased ids) and the on-call
            // user group.
            let declarer = d.incident.declared_by.to_uppercase();
            for u in [declarer.as_str(), "U2BOB", "U3CHO"] {
                assert!(c.members.contains(u), "{context}: {u} not in {}", c.name);
            }
            let marks: Vec<String> = self
                .sim
                .bookmarks(&ch)
                .into_iter()
                .map(|b| b.link)
                .collect();
            assert_eq!(marks.len(), 2, "{context}: INC-{k} bookmarks {marks:?}");
            let bot_posts: Vec<_> = self
                .sim
                .messages(&ch)
                .into_iter()
                .filter(|m| m.user == self.sim.bot_user_id())
                .collect();
            assert_eq!(
                bot_posts.len(),
                1,
                "{context}: INC-{k} bot messages {:?}",
                bot_posts.iter().map(|m| &m.text).collect::<Vec<_>>()
            );
            let id = d.incident.id.to_string();
            let announced = announcements
                .iter()
                .filter(|m| {
                    m.metadata.as_ref().unwrap()["event_payload"]["incident_id"] == id.as_str()
                })
                .count();
            assert_eq!(announced, 1, "{context}: INC-{k} announcements");
        }
        assert!(
            self.sim.rejections().is_empty(),
            "{context}: requests Slack would refuse: {:?}",
            self.sim.rejections()
        );
        assert!(
            self.sim.unlisted_errors().is_empty(),
            "{context}: {:?}",
            self.sim.unlisted_errors()
        );
    }

    /// Neither planted secret is in any log line, and `muster scan`'s rules find nothing.
    fn assert_logs_clean(&self) {
        let logs = self.logs();
        assert!(!logs.is_empty());
        assert_logs_clean(&logs, &[BOT_TOKEN, SIGNING]);
    }
}

/// Where to kill: the first accepted call of `method` matching `pick`.
struct CrashPoint {
    name: &'static str,
    method: &'static str,
    pick: fn(&muster_testkit::Call, &str, &AtomicUsize) -> bool,
}

fn any(_: &muster_testkit::Call, _: &str, _: &AtomicUsize) -> bool {
    true
}

fn ok(c: &muster_testkit::Call) -> bool {
    c.error.is_none()
}

const CRASH_POINTS: &[CrashPoint] = &[
    CrashPoint {
        name: "channel created",
        method: "conversations.create",
        pick: any,
    },
    CrashPoint {
        name: "user group read",
        method: "usergroups.users.list",
        pick: any,
    },
    CrashPoint {
        name: "people invited",
        method: "conversations.invite",
        pick: any,
    },
    CrashPoint {
        name: "topic set",
        method: "conversations.setTopic",
        pick: any,
    },
    CrashPoint {
        name: "purpose set",
        method: "conversations.setPurpose",
        pick: any,
    },
    CrashPoint {
        name: "first bookmark added",
        method: "bookmarks.add",
        pick: |_, _, n| n.fetch_add(1, Ordering::SeqCst) == 0,
    },
    CrashPoint {
        name: "second bookmark added",
        method: "bookmarks.add",
        pick: |_, _, n| n.fetch_add(1, Ordering::SeqCst) == 1,
    },
    CrashPoint {
        name: "welcome posted",
        method: "chat.postMessage",
        pick: |c, announce, _| ok(c) && c.arg("channel").as_deref() != Some(announce),
    },
    CrashPoint {
        name: "announcement channel joined",
        method: "conversations.join",
        pick: any,
    },
    CrashPoint {
        name: "announcement posted",
        method: "chat.postMessage",
        pick: |c, announce, _| ok(c) && c.arg("channel").as_deref() == Some(announce),
    },
];

/// Declare, SIGKILL the server just after Slack performed `point`'s call, restart it, and
/// require the incident to end provisioned exactly once.
async fn crash_and_recover(point: &'static CrashPoint) -> World {
    let world = World::new().await;
    let announce = world.announce.clone();
    let seen = AtomicUsize::new(0);
    let held = world
        .sim
        .hold_after(point.method, move |c| (point.pick)(c, &announce, &seen));
    let first = world.serve();
    let (status, body) = world.declare(&first, "Checkout is down", "U1ANA").await;
    assert_eq!((status, body.as_str()), (200, "{}"), "{}", point.name);
    tokio::time::timeout(Duration::from_secs(20), held.reached())
        .await
        .unwrap_or_else(|_| panic!("{}: the workflow never reached the crash point", point.name));
    drop(first); // SIGKILL: Slack acted, Muster never heard back.
    let _second = world.serve();
    let n = world.settle(Duration::from_secs(30)).await;
    assert_eq!(n, 1, "{}", point.name);
    world
        .assert_provisioned_exactly_once(1, &format!("killed after: {}", point.name))
        .await;
    world
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_at_every_step_then_restart_provisions_exactly_once() {
    let mut set = tokio::task::JoinSet::new();
    for point in CRASH_POINTS {
        set.spawn(crash_and_recover(point));
    }
    while let Some(world) = set.join_next().await {
        let world = world.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        world.assert_logs_clean();
    }
}

/// A small deterministic generator, so a failing run can be replayed from its seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_random_deliveries_to_three_servers_declare_each_incident_once() {
    const DECLARATIONS: usize = 40;
    const DELIVERIES: usize = 1000;
    let seed = std::env::var("MUSTER_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| chrono::Utc::now().timestamp_nanos_opt().unwrap_or(1) as u64 | 1);
    eprintln!("MUSTER_FAULT_SEED={seed}");
    let mut rng = Rng(seed);
    // Nobody dies here, so the default lease: with the short crash-test lease, a heartbeat
    // waiting behind this storm of SQLite writes could let a live step's lease lapse, and
    // two runs of one step at once is the crash tests' business, not this one's.
    let world = World::with_lease(30).await;
    let servers: Vec<Serve> = (0..3).map(|_| world.serve()).collect();

    // Forty modals; every fourth declaration repeats the previous title (two people
    // declaring the same outage in the same second).
    let mut submissions = vec![];
    let mut title = String::new();
    for k in 0..DECLARATIONS {
        if k % 4 != 1 {
            title = format!("Payments API errors batch {k}");
        }
        let user = ["U1ANA", "U2BOB", "U3CHO"][k % 3];
        let view = world.open_modal(&servers[rng.below(3)], &title, user).await;
        submissions.push(world.submission(&view, user));
    }

    // Each submission at least once, the rest at random; some as Slack retries; all at
    // once, spread over the three servers.
    let mut plan: Vec<usize> = (0..DECLARATIONS).collect();
    plan.extend((DECLARATIONS..DELIVERIES).map(|_| rng.below(DECLARATIONS)));
    for i in (1..plan.len()).rev() {
        plan.swap(i, rng.below(i + 1));
    }
    let world = Arc::new(world);
    let servers = Arc::new(servers);
    let mut set = tokio::task::JoinSet::new();
    let in_flight = Arc::new(tokio::sync::Semaphore::new(64));
    for (n, k) in plan.into_iter().enumerate() {
        let mut req = world.signer.interaction(&submissions[k], world.now());
        if rng.below(3) == 0 {
            req = req.as_retry(1 + rng.below(3) as u32, "http_timeout");
        }
        let server = rng.below(3);
        let (world, servers, permit) = (
            world.clone(),
            servers.clone(),
            in_flight.clone().acquire_owned().await.unwrap(),
        );
        set.spawn(async move {
            let (status, body) = world.send(&servers[server], &req).await;
            drop(permit);
            assert_eq!(status, 200, "delivery {n}: {body}");
            // "{}" closes the modal; "" is a signature this server saw already. On a
            // machine so loaded that SQLite's lock wait runs out, the modal says nothing
            // was declared (and keeps nothing): the person submits again.
            match body.as_str() {
                "{}" | "" => None,
                _ if body.contains("Nothing was declared") => Some(k),
                _ => panic!("delivery {n}: {body}"),
            }
        });
    }
    let mut again = vec![];
    while let Some(r) = set.join_next().await {
        again.extend(r.unwrap());
    }
    if !again.is_empty() {
        eprintln!(
            "{} deliveries met a busy database; submitting them again",
            again.len()
        );
    }
    for k in again {
        let req = world.signer.interaction(&submissions[k], world.now() + 1);
        let (status, body) = world.send(&servers[0], &req).await;
        assert!(status == 200 && (body == "{}" || body.is_empty()), "{body}");
    }
    let n = world.settle(Duration::from_secs(60)).await;
    assert_eq!(n as usize, DECLARATIONS, "seed {seed}");
    world
        .assert_provisioned_exactly_once(n, &format!("seed {seed}"))
        .await;

    // Duplicate events: a message in each of ten channels is captured with a reaction,
    // each event delivered one to five times to random servers.
    let store = Store::open(&format!("sqlite://{}", world.db().display()))
        .await
        .unwrap();
    let mut expected = vec![];
    for k in 1..=10i64 {
        let d = store
            .detail(IncidentRef::Number(IncidentNumber(k)))
            .await
            .unwrap()
            .unwrap();
        let ch = d
            .resource(ResourceKind::Channel)
            .unwrap()
            .external_id
            .clone();
        let ts = world
            .sim
            .post_as(&ch, "U2BOB", &format!("db failover done {k}"));
        world.sim.react(&ch, &ts, "U2BOB", "floppy_disk");
        let event = payloads::event_callback(
            payloads::reaction_added("U2BOB", &ch, &ts, "floppy_disk", "U2BOB"),
            &format!("Ev{k:08}"),
            world.now(),
        );
        for attempt in 0..1 + rng.below(5) {
            let mut req = world.signer.event(&event, world.now());
            if attempt > 0 {
                req = req.as_retry(attempt as u32, "http_timeout");
            }
            let (status, _) = world.send(&servers[rng.below(3)], &req).await;
            assert_eq!(status, 200);
        }
        expected.push(d.incident.id);
    }
    let start = Instant::now();
    for id in expected {
        loop {
            let d = store.detail(IncidentRef::Id(id)).await.unwrap().unwrap();
            let captured = d
                .timeline
                .iter()
                .filter(|e| matches!(e.event, TimelineEvent::ChatMessage { .. }))
                .count();
            if captured == 1 {
                break;
            }
            assert!(
                captured == 0 && start.elapsed() < Duration::from_secs(10),
                "seed {seed}: {captured} captured entries for one reaction"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    world.assert_logs_clean();
}

/// The bot's reminders in `channel` whose key is `key`, oldest first.
fn reminders_in(world: &World, channel: &str, key: &str) -> Vec<muster_testkit::sim::SimMessage> {
    world
        .sim
        .messages(channel)
        .into_iter()
        .filter(|m| {
            m.metadata.as_ref().is_some_and(|md| {
                md["event_payload"]["step"]
                    .as_str()
                    .is_some_and(|s| s.starts_with(&format!("remind/{key}.")))
            })
        })
        .collect()
}

/// Poll until `f` gives something, for at most `within`.
async fn wait_for<T>(world: &World, within: Duration, what: &str, f: impl Fn() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            start.elapsed() < within,
            "{what} did not happen within {within:?}\n{}",
            world.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Reminders in seconds through the real binary and the Slack simulator: a status-update
/// reminder arrives with its buttons; its snooze button is pressed; the server is killed
/// with SIGKILL and restarted while the snooze and a stale nudge are pending; then the
/// snoozed reminder arrives once, after the snooze, and the stale nudge once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reminders_and_stale_nudges_survive_sigkill_and_arrive_once() {
    let world = World::new().await;
    let config = world.dir.path().join("muster.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(
        "[[reminders]]\nkey = \"status-update\"\nevery = \"6s\"\n[stale]\nafter = \"11s\"\n",
    );
    std::fs::write(&config, text).unwrap();
    let first = world.serve();
    let (status, _) = world.declare(&first, "Checkout is down", "U1ANA").await;
    assert_eq!(status, 200);
    let store = Store::open(&format!("sqlite://{}", world.db().display()))
        .await
        .unwrap();
    let channel = wait_for(&world, Duration::from_secs(20), "the channel", || {
        world
            .sim
            .channels()
            .into_iter()
            .find(|c| c.name.starts_with("incident-"))
            .map(|c| c.id)
    })
    .await;
    // The first reminder, about 6 s after the declaration, with its buttons.
    let reminder = wait_for(
        &world,
        Duration::from_secs(20),
        "the first reminder",
        || {
            reminders_in(&world, &channel, "status-update")
                .into_iter()
                .next()
        },
    )
    .await;
    assert!(
        reminder.text.contains("has had no status update"),
        "{}",
        reminder.text
    );
    assert!(
        reminder.text.contains("point de situation"),
        "{}",
        reminder.text
    );
    let snooze = reminder.blocks[1]["elements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["action_id"] == "care_snooze_30m")
        .expect("a snooze button")
        .clone();
    // The button as pressed, for 9 s instead of 30 min so the test runs in seconds.
    let value = snooze["value"].as_str().unwrap().replace(" 30m", " 9s");
    let press = payloads::block_action_on_message(
        "U2BOB",
        &channel,
        &reminder.ts,
        "care_actions",
        "care_snooze_30m",
        &value,
        &world.sim.new_trigger_id(),
    );
    let (status, body) = world
        .send(&first, &world.signer.interaction(&press, world.now()))
        .await;
    assert_eq!(status, 200, "{body}");
    let d = store
        .detail(IncidentRef::Number(IncidentNumber(1)))
        .await
        .unwrap()
        .unwrap();
    let until = d
        .timeline
        .iter()
        .find_map(|e| match &e.event {
            TimelineEvent::ReminderSnoozed { until, .. } => Some(*until),
            _ => None,
        })
        .expect("the snooze is recorded");
    // Killed while the snoozed reminder and the stale nudge wait in the queue.
    drop(first);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _second = world.serve();
    let second = wait_for(
        &world,
        Duration::from_secs(30),
        "the snoozed reminder",
        || {
            reminders_in(&world, &channel, "status-update")
                .into_iter()
                .nth(1)
        },
    )
    .await;
    // Named by when it was said (`remind/<key>.<unix seconds>`).
    let step = second.metadata.as_ref().unwrap()["event_payload"]["step"]
        .as_str()
        .unwrap()
        .to_owned();
    let secs: i64 = step.rsplit('.').next().unwrap().parse().unwrap();
    let said_at = chrono::DateTime::from_timestamp(secs, 0).unwrap();
    assert!(said_at >= until, "said at {said_at}, snoozed until {until}");
    wait_for(&world, Duration::from_secs(20), "the stale nudge", || {
        reminders_in(&world, &channel, "stale").into_iter().next()
    })
    .await;
    // Once each: the next status-update reminder is 6 s after this one, the next nudge
    // 11 s after the first.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(reminders_in(&world, &channel, "status-update").len(), 2);
    let stale = reminders_in(&world, &channel, "stale");
    assert_eq!(stale.len(), 1);
    assert!(
        stale[0].text.contains("has seen no activity"),
        "{}",
        stale[0].text
    );
    assert!(
        world.sim.rejections().is_empty(),
        "requests Slack would refuse: {:?}",
        world.sim.rejections()
    );
    world.assert_logs_clean();
}
