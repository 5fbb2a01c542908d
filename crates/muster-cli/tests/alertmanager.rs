//! Against a real Prometheus Alertmanager (Debian's `prometheus-alertmanager`, installed by
//! `.ci/run`): alerts pushed through Alertmanager's own API reach `muster serve` through its
//! webhook with a bearer token, and become one incident per group, with timeline entries
//! for new and resolved alerts, the alert's link, nothing for an unmapped severity, and a
//! PagerDuty page (to the fake) for the SEV1. Alertmanager is started once for this test
//! binary, on a free port, with a temporary configuration and short group timers.
//!
//! Without the binary the test prints a notice and passes, unless `CI` is set: then it fails.

use muster_core::incident::{IncidentDetail, ResourceKind, TimelineEvent};
use muster_testkit::PagerDutySim;
use muster_testkit::process::{capture_stderr as capture, free_port};
use muster_testkit::sim::SlackSim;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ALERTMANAGER: &str = "/usr/bin/prometheus-alertmanager";
const PD_KEY: &str = "R0UT1NGKEY0123456789abcdefABCDEF";

/// A child process killed when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn muster(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_muster"));
    c.args(args).current_dir(dir);
    for var in [
        "MUSTER_DATABASE_URL",
        "MUSTER_CONFIG",
        "MUSTER_LANG",
        "MUSTER_TOKEN",
    ] {
        c.env_remove(var);
    }
    c
}

fn alertmanager_binary() -> Option<PathBuf> {
    let p = PathBuf::from(ALERTMANAGER);
    if p.exists() {
        return Some(p);
    }
    if std::env::var_os("CI").is_some() {
        panic!("{ALERTMANAGER} is missing: .ci/run installs Debian's prometheus-alertmanager");
    }
    eprintln!(
        "notice: skipping the real-Alertmanager test: {ALERTMANAGER} is missing (apt-get install prometheus-alertmanager)"
    );
    None
}

/// Start Alertmanager with a receiver pointing at `muster_url`, and wait until it is ready.
async fn start_alertmanager(
    bin: &Path,
    dir: &Path,
    muster_url: &str,
    token: &str,
) -> (Proc, String) {
    let port = free_port();
    let config = format!(
        r#"route:
  receiver: muster
  group_by: ['alertname']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: muster
    webhook_configs:
      - url: {muster_url}/api/v1/alerts/alertmanager
        send_resolved: true
        http_config:
          authorization:
            credentials: {token}
"#
    );
    std::fs::write(dir.join("alertmanager.yml"), config).unwrap();
    std::fs::create_dir_all(dir.join("am-data")).unwrap();
    let mut child = Command::new(bin)
        .arg(format!(
            "--config.file={}",
            dir.join("alertmanager.yml").display()
        ))
        .arg(format!("--storage.path={}", dir.join("am-data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (logs, _) = capture(&mut child);
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let start = Instant::now();
    loop {
        if let Ok(r) = http.get(format!("{url}/-/ready")).send().await
            && r.status().is_success()
        {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "alertmanager did not start:\n{}",
            logs.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = logs;
    (Proc(child), url)
}

/// Push alerts through Alertmanager's API, as Prometheus does. `resolved` ones end now.
async fn push(am: &str, alerts: &[(&str, &str, &str, bool)]) {
    let now = chrono::Utc::now();
    let body: Vec<serde_json::Value> = alerts
        .iter()
        .map(|(name, instance, severity, resolved)| {
            let mut a = serde_json::json!({
                "labels": {"alertname": name, "instance": instance, "severity": severity},
                "annotations": {"summary": format!("{name} on the fleet")},
                "generatorURL": format!("http://prometheus.example.org/graph?g0.expr={name}"),
                "startsAt": (now - chrono::Duration::minutes(1)).to_rfc3339(),
            });
            if *resolved {
                a["endsAt"] = now.to_rfc3339().into();
            }
            a
        })
        .collect();
    let r = reqwest::Client::new()
        .post(format!("{am}/api/v2/alerts"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{:?}", r.text().await);
}

struct Api {
    url: String,
    token: String,
    http: reqwest::Client,
}

impl Api {
    async fn list(&self) -> Vec<serde_json::Value> {
        let r: serde_json::Value = self
            .http
            .get(format!("{}/api/v1/incidents?per_page=100", self.url))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["incidents"].as_array().cloned().unwrap_or_default()
    }

    async fn get(&self, number: i64) -> IncidentDetail {
        self.http
            .get(format!("{}/api/v1/incidents/{number}", self.url))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Wait (bounded) until `check` holds for incident `number`.
    async fn until(
        &self,
        what: &str,
        number: i64,
        check: impl Fn(&IncidentDetail) -> bool,
    ) -> IncidentDetail {
        let start = Instant::now();
        loop {
            if self.list().await.len() as i64 >= number {
                let d = self.get(number).await;
                if check(&d) {
                    return d;
                }
                assert!(
                    start.elapsed() < Duration::from_secs(30),
                    "{what}: {:#?}",
                    d.timeline
                );
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "{what}: no INC-{number}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

fn count(d: &IncidentDetail, f: impl Fn(&TimelineEvent) -> bool) -> usize {
    d.timeline.iter().filter(|e| f(&e.event)).count()
}

fn firing(e: &TimelineEvent) -> bool {
    matches!(e, TimelineEvent::AlertFiring { .. })
}

fn resolved(e: &TimelineEvent) -> bool {
    matches!(e, TimelineEvent::AlertResolved { .. })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_through_a_real_alertmanager_become_one_incident_per_group() {
    let Some(bin) = alertmanager_binary() else {
        return;
    };
    muster_slack::client::install_crypto_provider();
    let pd = PagerDutySim::start().await;
    let slack = SlackSim::start().await;
    let announce = slack.add_channel("incidents", false, &[]);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("bot-token"), slack.token().expose()).unwrap();
    std::fs::write(
        d.join("signing-secret"),
        "test-signing-secret-not-a-real-one",
    )
    .unwrap();
    std::fs::write(
        d.join("muster.toml"),
        format!(
            "[alerts.severities]\ncritical = \"SEV1\"\nwarning = \"SEV3\"\n\n[paging.pagerduty]\nevents_url = \"{}\"\nseverities = [\"SEV1\"]\n\n[slack]\napi_base_url = \"{}\"\nbot_token_file = \"bot-token\"\nsigning_secret_file = \"signing-secret\"\nannouncement_channels = [\"{announce}\"]\nlanguages = [\"en\"]\n",
            pd.events_url(),
            slack.base_url(),
        ),
    )
    .unwrap();
    let out = muster(d, &["token", "create", "alertmanager"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let mut child = muster(d, &["serve", "--bind", "127.0.0.1:0"])
        .env("MUSTER_PAGERDUTY_ROUTING_KEY", PD_KEY)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (logs, rx) = capture(&mut child);
    let url = rx
        .recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| panic!("muster serve did not start:\n{}", logs.lock().unwrap()));
    let _serve = Proc(child);
    let (_am, am) = start_alertmanager(&bin, d, &url, &token).await;
    let api = Api {
        url: url.clone(),
        token: token.clone(),
        http: reqwest::Client::new(),
    };

    // Without a token, the endpoint refuses, even on loopback.
    let r = api
        .http
        .post(format!("{url}/api/v1/alerts/alertmanager"))
        .json(
            &serde_json::json!({"version": "4", "groupKey": "x", "alerts": [{"status": "firing"}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);

    // A critical group declares a SEV1 with its summary and link.
    push(&am, &[("DBDown", "db-1", "critical", false)]).await;
    let inc = api.until("declared", 1, |d| count(d, firing) == 1).await;
    assert_eq!(inc.incident.title.as_str(), "DBDown on the fleet");
    assert_eq!(inc.incident.severity, "SEV1");
    assert_eq!(
        inc.resource(ResourceKind::Alert)
            .and_then(|r| r.url.as_deref()),
        Some("http://prometheus.example.org/graph?g0.expr=DBDown")
    );
    // A new alert joins the same group: a timeline entry, no new incident.
    push(
        &am,
        &[
            ("DBDown", "db-1", "critical", false),
            ("DBDown", "db-2", "critical", false),
        ],
    )
    .await;
    api.until("second alert", 1, |d| count(d, firing) == 2)
        .await;
    // Both resolve: entries, then the suggestion; nothing is closed.
    push(
        &am,
        &[
            ("DBDown", "db-1", "critical", true),
            ("DBDown", "db-2", "critical", true),
        ],
    )
    .await;
    let inc = api
        .until("resolved", 1, |d| {
            count(d, resolved) == 2 && count(d, |e| matches!(e, TimelineEvent::AlertsResolved)) == 1
        })
        .await;
    assert!(inc.incident.closed_at.is_none() && inc.incident.resolved_at.is_none());

    // An unmapped severity is recorded, not declared; a warning group is its own incident.
    push(
        &am,
        &[
            ("Chatty", "web-1", "info", false),
            ("DiskFull", "web-3", "warning", false),
        ],
    )
    .await;
    let second = api
        .until("warning group", 2, |d| count(d, firing) == 1)
        .await;
    assert_eq!(second.incident.severity, "SEV3");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let all = api.list().await;
    assert_eq!(all.len(), 2, "one incident per declared group: {all:#?}");

    // The SEV1 paged once; the SEV3 did not.
    let start = Instant::now();
    while pd.events().is_empty() && start.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let events = pd.events();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].dedup_key, format!("muster-{}", inc.incident.id));
    assert!(
        !logs.lock().unwrap().contains(PD_KEY),
        "the routing key never prints"
    );
}
