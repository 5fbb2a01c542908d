//! One door, whatever the source: incidents declared through the API, the web form and the
//! command line (on the database of a running `muster serve`) all get their Slack channel
//! from the server's worker, exactly once, through the real binary against the Slack
//! simulator. A name already taken (by an earlier incident, or by an archived channel on
//! Slack) gives `-2`, and the record follows.

use muster_core::incident::{IncidentDetail, ResourceKind, TimelineEvent};
use muster_core::{ChannelName, JobState};
use muster_store::Store;
use muster_testkit::sim::{SimMessage, SlackSim};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ALICE: &str = "U0ALICE01";
const BOB: &str = "U0BOB0001";
const PUBLIC_URL: &str = "https://muster.example.org";
const SIGNING: &str = "test-signing-secret-not-a-real-one";

struct Serve {
    child: Child,
    url: String,
    logs: Arc<Mutex<String>>,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serve {
    fn logs(&self) -> String {
        self.logs.lock().unwrap().clone()
    }
}

fn muster(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_muster"));
    c.args(args).current_dir(dir);
    for var in [
        "MUSTER_DATABASE_URL",
        "MUSTER_CONFIG",
        "MUSTER_LANG",
        "MUSTER_SERVER",
        "MUSTER_TOKEN",
        "MUSTER_USER",
        "MUSTER_SLACK_BOT_TOKEN",
        "MUSTER_SLACK_SIGNING_SECRET",
    ] {
        c.env_remove(var);
    }
    c
}

/// `muster` run to completion without blocking the runtime; its stdout.
async fn cli(dir: &Path, args: &[&str]) -> String {
    let o = tokio::process::Command::from(muster(dir, args))
        .output()
        .await
        .unwrap();
    assert!(
        o.status.success(),
        "muster {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// Start `muster serve` and wait until it listens; its log is kept.
fn serve(dir: &Path) -> Serve {
    let mut child = muster(dir, &["serve", "--bind", "127.0.0.1:0"])
        .env("MUSTER_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (logs, rx) = muster_testkit::process::capture_stderr(&mut child);
    let url = rx
        .recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| panic!("muster serve did not start:\n{}", logs.lock().unwrap()));
    Serve { child, url, logs }
}

/// The API and the pages of the running server.
struct Web {
    http: reqwest::Client,
    url: String,
    token: String,
}

impl Web {
    async fn declare(&self, title: &str) -> IncidentDetail {
        let r = self
            .http
            .post(format!("{}/api/v1/incidents", self.url))
            .bearer_auth(&self.token)
            .json(&serde_json::json!({ "title": title }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201, "{:?}", r.text().await);
        r.json().await.unwrap()
    }

    async fn get(&self, number: i64) -> IncidentDetail {
        let r = self
            .http
            .get(format!("{}/api/v1/incidents/{number}", self.url))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "INC-{number}");
        r.json().await.unwrap()
    }

    /// The declare form as a browser fills it in: the page first (its CSRF cookie and
    /// field), then the form; answers the number the redirect names.
    async fn declare_on_the_form(&self, title: &str, by: &str) -> i64 {
        let page = self
            .http
            .get(format!("{}/incidents/new", self.url))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status().as_u16(), 200);
        let cookie = page
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix("muster_csrf="))
            .and_then(|v| v.split(';').next())
            .expect("a CSRF cookie")
            .to_owned();
        let html = page.text().await.unwrap();
        // The form carries the server's signature of the cookie's nonce.
        let field = html
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|v| v.split('"').next())
            .expect("the form carries a CSRF token")
            .to_owned();
        let r = self
            .http
            .post(format!("{}/incidents", self.url))
            .header(reqwest::header::COOKIE, format!("muster_csrf={cookie}"))
            .form(&[("title", title), ("by", by), ("csrf", field.as_str())])
            .send()
            .await
            .unwrap();
        assert!(r.status().is_redirection(), "{}", r.status());
        let to = r.headers()[reqwest::header::LOCATION].to_str().unwrap();
        to.strip_prefix("/incidents/INC-")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("redirected to {to}"))
    }
}

/// `text` names `number` (`INC-1`, not `INC-12`).
fn mentions(text: &str, number: &str) -> bool {
    text.match_indices(number).any(|(at, _)| {
        !text[at + number.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit())
    })
}

/// Wait until every step of every incident is done (bounded); a failed step ends it.
async fn settle(store: &Store, incidents: &[IncidentDetail], within: Duration, s: &Serve) {
    let start = Instant::now();
    loop {
        let mut pending = vec![];
        for d in incidents {
            let jobs = store.jobs_for(d.incident.id).await.unwrap();
            assert!(
                !jobs.is_empty(),
                "{}: no step was queued",
                d.incident.number
            );
            for j in jobs {
                assert!(
                    j.state != JobState::Failed,
                    "{} {} failed: {:?}\n{}",
                    d.incident.number,
                    j.step,
                    j.last_error,
                    s.logs()
                );
                if j.state != JobState::Done {
                    pending.push(format!(
                        "{} {} {:?}",
                        d.incident.number, j.step, j.last_error
                    ));
                }
            }
        }
        if pending.is_empty() {
            return;
        }
        assert!(
            start.elapsed() < within,
            "steps not done after {within:?}: {pending:?}\n{}",
            s.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Top-level posts of our bot in `channel`.
fn bot_posts(sim: &SlackSim, channel: &str) -> Vec<SimMessage> {
    sim.messages(channel)
        .into_iter()
        .filter(|m| m.user == sim.bot_user_id() && m.thread_ts.is_none())
        .collect()
}

/// Everything Slack should have for `d` (as the API reads it now), exactly once; answers
/// its Slack channel's id and its announcement.
fn assert_provisioned_once(sim: &SlackSim, announce: &str, d: &IncidentDetail) -> SimMessage {
    let i = &d.incident;
    let n = i.number.to_string();
    let channel = d
        .resource_of(ResourceKind::Channel, "slack")
        .unwrap_or_else(|| panic!("{n} has no Slack channel"));
    let c = sim
        .channel(&channel.external_id)
        .expect("the channel exists");
    assert_eq!(c.name, i.channel_name.as_str(), "{n}: the record names it");
    assert_eq!(channel.name.as_deref(), Some(c.name.as_str()));
    assert!(!c.is_archived);
    assert_eq!(
        sim.channels().iter().filter(|x| x.name == c.name).count(),
        1,
        "{n}"
    );
    assert!(
        c.topic.contains(&n) && c.topic.contains(i.title.as_str()),
        "{n}: topic {:?}",
        c.topic
    );
    let marks: BTreeSet<String> = sim.bookmarks(&c.id).into_iter().map(|b| b.link).collect();
    let meeting = d
        .resource(ResourceKind::Meeting)
        .and_then(|m| m.url.clone())
        .expect("a meeting");
    let report = format!("{PUBLIC_URL}/incidents/{n}/report");
    assert_eq!(sim.bookmarks(&c.id).len(), 2, "{n}: bookmarks {marks:?}");
    assert_eq!(marks, BTreeSet::from([meeting, report]), "{n}");
    let welcome = bot_posts(sim, &c.id);
    assert_eq!(
        welcome.len(),
        1,
        "{n}: bot messages {:?}",
        welcome.iter().map(|m| &m.text).collect::<Vec<_>>()
    );
    assert!(mentions(&welcome[0].text, &n), "{:?}", welcome[0].text);
    let mut announced: Vec<SimMessage> = bot_posts(sim, announce)
        .into_iter()
        .filter(|m| mentions(&m.text, &n))
        .collect();
    assert_eq!(announced.len(), 1, "{n}: announcements");
    announced.pop().unwrap()
}

/// Seconds until the next UTC midnight.
fn until_midnight() -> i64 {
    let now = chrono::Utc::now();
    let next = (now.date_naive() + chrono::Days::new(1))
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    (next - now).num_seconds()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_source_gets_its_slack_channel_exactly_once() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    // Channel names carry the (UTC) day: keep every declaration on one day.
    if until_midnight() < 60 {
        tokio::time::sleep(Duration::from_secs(until_midnight() as u64 + 2)).await;
    }
    let sim = SlackSim::start().await;
    sim.add_user(ALICE, "alice");
    sim.add_user(BOB, "bob");
    let announce = sim.add_channel("incidents", false, &[]);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("bot-token"), format!("{}\n", sim.token().expose())).unwrap();
    std::fs::write(d.join("signing-secret"), format!("{SIGNING}\n")).unwrap();
    let config = format!(
        "[slack]\napi_base_url = \"{}\"\ntransport = \"http\"\nbot_token_file = \"bot-token\"\nsigning_secret_file = \"signing-secret\"\nannouncement_channels = [\"{announce}\"]\npublic_url = \"{PUBLIC_URL}\"\n\n[[people]]\nname = \"alice\"\nslack = \"{ALICE}\"\n",
        sim.base_url()
    );
    std::fs::write(d.join("muster.toml"), &config).unwrap();
    let token = cli(d, &["token", "create", "alice"])
        .await
        .trim()
        .to_owned();
    let s = serve(d);
    let web = Web {
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        url: s.url.clone(),
        token,
    };
    let store = Store::open(&format!("sqlite://{}", d.join("muster.db").display()))
        .await
        .unwrap();
    let started = Instant::now();

    // One incident from each door.
    let api = web.declare("Checkout is down").await;
    assert_eq!(api.incident.declared_by, "alice");
    let form = web.declare_on_the_form("Search is slow", "bob").await;
    let from_cli: IncidentDetail = serde_json::from_str(
        &cli(
            d,
            &[
                "--json",
                "incident",
                "declare",
                "Login fails",
                "--by",
                "carol",
            ],
        )
        .await,
    )
    .unwrap();
    let first: Vec<IncidentDetail> = vec![
        web.get(api.incident.number.0).await,
        web.get(form).await,
        web.get(from_cli.incident.number.0).await,
    ];
    assert_eq!(first[1].incident.declared_by, "bob");
    assert_eq!(first[2].incident.declared_by, "carol");
    settle(&store, &first, Duration::from_secs(30), &s).await;
    eprintln!("three doors provisioned in {:?}", started.elapsed());

    // The same title again on the same day, and a title whose name an archived channel
    // already holds on Slack: both get `-2`.
    let template = muster_core::Config::from_toml(&config)
        .unwrap()
        .channel_template;
    let taken = ChannelName::for_incident(
        &template,
        chrono::Utc::now().date_naive(),
        "Payments are stuck",
    )
    .unwrap();
    let old = sim.add_channel(taken.as_str(), false, &[BOB]);
    sim.archive(&old);
    let again: IncidentDetail = serde_json::from_str(
        &cli(
            d,
            &[
                "--json",
                "incident",
                "declare",
                "Checkout is down",
                "--by",
                "carol",
            ],
        )
        .await,
    )
    .unwrap();
    let payments = web.declare("Payments are stuck").await;
    let second = [again.incident.number.0, payments.incident.number.0];
    let mut all = first.clone();
    for n in second {
        all.push(web.get(n).await);
    }
    settle(&store, &all, Duration::from_secs(30), &s).await;
    eprintln!("all provisioned in {:?}", started.elapsed());

    // Read everything back as the API tells it now.
    let mut now = vec![];
    for i in &all {
        now.push(web.get(i.incident.number.0).await);
    }
    let announcements: Vec<SimMessage> = now
        .iter()
        .map(|i| assert_provisioned_once(&sim, &announce, i))
        .collect();
    assert_eq!(
        bot_posts(&sim, &announce).len(),
        now.len(),
        "one announcement per incident, nothing else"
    );
    let created: Vec<_> = sim
        .calls("conversations.create")
        .into_iter()
        .filter(|c| c.is_ok())
        .collect();
    assert_eq!(created.len(), now.len(), "one channel per incident");

    // The declarer is invited when `[[people]]` knows them, named otherwise.
    let channel_of = |d: &IncidentDetail| {
        sim.channel(
            &d.resource_of(ResourceKind::Channel, "slack")
                .unwrap()
                .external_id,
        )
        .unwrap()
    };
    for d in &now {
        // Through the API, with alice's token: hers. Through the form and the CLI: not.
        let hers = d.incident.declared_by == "alice";
        assert_eq!(
            channel_of(d).members.contains(ALICE),
            hers,
            "{} declared by {}",
            d.incident.number,
            d.incident.declared_by
        );
    }
    assert!(!channel_of(&now[1]).members.contains(BOB), "bob has no id");
    let blocks = |m: &SimMessage| m.blocks.to_string();
    assert!(
        blocks(&announcements[0]).contains(&format!("<@{ALICE}>")),
        "{}",
        blocks(&announcements[0])
    );
    let bob = blocks(&announcements[1]);
    assert!(bob.contains("bob") && !bob.contains("<@"), "{bob}");
    assert!(!blocks(&announcements[2]).contains("<@"));

    // `-2`: in the API, in `incident show --json`, on the timeline, and on Slack.
    for (inc, base) in [(&now[3], &now[0].incident.channel_name), (&now[4], &taken)] {
        let n = inc.incident.number;
        let want = format!("{base}-2");
        assert_eq!(inc.incident.channel_name.as_str(), want, "{n} in the API");
        let shown: IncidentDetail =
            serde_json::from_str(&cli(d, &["--json", "incident", "show", &n.to_string()]).await)
                .unwrap();
        assert_eq!(shown.incident.channel_name.as_str(), want, "{n} in the CLI");
        let named: Vec<&str> = inc
            .timeline
            .iter()
            .filter_map(|e| match &e.event {
                TimelineEvent::ChannelNamed { name } => Some(name.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(named, [base.as_str(), want.as_str()], "{n} timeline");
        let c = sim.channel_by_name(&want).expect("the -2 channel exists");
        assert!(!c.is_archived);
        assert_eq!(
            c.id,
            inc.resource_of(ResourceKind::Channel, "slack")
                .unwrap()
                .external_id
        );
    }
    assert!(
        sim.calls("conversations.create")
            .iter()
            .any(|c| c.arg("name").as_deref() == Some(taken.as_str())
                && c.error.as_deref() == Some("name_taken")),
        "Slack itself refused the archived channel's name"
    );
    assert!(
        sim.channel(&old).unwrap().is_archived,
        "the archived channel was left alone"
    );
    assert!(
        sim.rejections().is_empty(),
        "requests Slack would refuse: {:?}",
        sim.rejections()
    );
    assert!(
        sim.unlisted_errors().is_empty(),
        "{:?}",
        sim.unlisted_errors()
    );
    eprintln!("done in {:?}", started.elapsed());
}
