//! Alerts: alert-to-channel-ready with 100 ms of latency on every Slack call, and the intake's
//! latency at 200 Alertmanager deliveries per second (one new group in ten, the rest repeats
//! and new alerts of existing groups), then its throughput when pushed as fast as 16
//! concurrent senders go, against the real router, SQLite on disk and the Slack simulator.
//!
//! `cargo bench -p muster-server --bench alerts`

use muster_testkit::sim::SlackSim;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "support.rs"]
mod support;
use support::{pct, ready, report};

fn delivery(group: usize, alert: usize) -> String {
    serde_json::json!({
        "version": "4",
        "groupKey": format!("{{}}:{{alertname=\"G{group}\"}}"),
        "status": "firing",
        "receiver": "muster",
        "groupLabels": {"alertname": format!("G{group}")},
        "commonLabels": {"alertname": format!("G{group}"), "severity": "critical"},
        "commonAnnotations": {"summary": format!("Service {group} is down")},
        "externalURL": "http://alertmanager:9093",
        "alerts": [{
            "status": "firing",
            "labels": {"alertname": format!("G{group}"), "severity": "critical", "instance": format!("i{alert}")},
            "annotations": {},
            "startsAt": "2026-12-03T10:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph?g0.expr=up",
            "fingerprint": format!("g{group}-i{alert}"),
        }],
    })
    .to_string()
}

/// The `k`th delivery of the load: groups of ten deliveries (the first declares), a new
/// alert every third delivery, the rest repeats.
fn mix(k: usize) -> (usize, usize) {
    (k / 10, k / 3)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let sim = SlackSim::start().await;
    let announce = sim.add_channel("incidents", false, &[]);
    let toml = format!(
        "[server.rate_limit]\nenabled = false\n[alerts.severities]\ncritical = \"SEV2\"\n[slack]\napi_base_url = \"{}\"\nannouncement_channels = [\"{announce}\"]\npublic_url = \"https://muster.example.org\"\n",
        sim.base_url()
    );
    let bench = support::Bench::start(&sim, &toml, None).await;
    let store = bench.store.clone();
    let state = bench.state.clone();
    let token = muster_server::new_token();
    state
        .engine()
        .create_token("alertmanager", &muster_server::hash_token(token.expose()))
        .await
        .unwrap();
    let token = token.expose().to_owned();
    let url = format!("{}/api/v1/alerts/alertmanager", bench.base);
    let http = reqwest::Client::new();
    let send = move |body: String| {
        let http = http.clone();
        let url = url.clone();
        let token = token.clone();
        async move {
            let t = Instant::now();
            let r = http
                .post(&url)
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 202, "{:?}", r.text().await);
            let body: serde_json::Value = r.json().await.unwrap();
            (t.elapsed().as_secs_f64() * 1000.0, body)
        }
    };

    // 1. Alert-to-channel-ready with 100 ms on every Slack call.
    sim.set_latency(Duration::from_millis(100));
    let runs = 10;
    let mut totals = vec![];
    let mut per_step: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    for k in 0..runs {
        let t0 = Instant::now();
        let (_, body) = send(delivery(100_000 + k, 0)).await;
        assert_eq!(body["outcome"], "declared");
        let id = muster_core::IncidentId(body["incident"]["id"].as_str().unwrap().parse().unwrap());
        totals.push(ready(&store, id, t0, &mut per_step).await);
    }
    report("alert-to-channel-ready", runs, totals, per_step);

    // 2. Intake latency at 200 deliveries per second for 10 s: every tenth a new group
    // (a declaration, whose Slack workflow the worker runs meanwhile), the others a repeat
    // or a new alert of a recent group.
    sim.set_latency(Duration::ZERO);
    let total = 2000;
    let interval = Duration::from_millis(5);
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for k in 0..total {
        tokio::time::sleep_until((start + interval * k as u32).into()).await;
        let (group, alert) = mix(k);
        tasks.push(tokio::spawn(send(delivery(group, alert))));
    }
    let mut lat = vec![];
    for t in tasks {
        lat.push(t.await.unwrap().0);
    }
    let rate = total as f64 / start.elapsed().as_secs_f64();
    println!(
        "alert intake at {rate:.0} deliveries/s ({total}, 1 in 10 a new group): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        pct(&mut lat, 0.5),
        pct(&mut lat, 0.99),
        pct(&mut lat, 1.0)
    );

    // 3. Throughput: 16 senders as fast as they go, same mix.
    let total = 4000;
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let start = Instant::now();
    let mut senders = vec![];
    for _ in 0..16 {
        let next = next.clone();
        let send = send.clone();
        senders.push(tokio::spawn(async move {
            let mut lat = vec![];
            loop {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if k >= total {
                    return lat;
                }
                let (group, alert) = mix(k + 10_000);
                lat.push(send(delivery(group, alert)).await.0);
            }
        }));
    }
    let mut lat = vec![];
    for s in senders {
        lat.extend(s.await.unwrap());
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "alert intake, 16 concurrent senders: {:.0} deliveries/s ({total} in {secs:.1} s), p50 {:.1} ms, p99 {:.1} ms",
        total as f64 / secs,
        pct(&mut lat, 0.5),
        pct(&mut lat, 0.99)
    );
    bench.stop().await;
}
