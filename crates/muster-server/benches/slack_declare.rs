//! Slack: declare-to-ready with 100 ms of latency on every Slack call, from `/incident` and
//! from the REST API (any source runs the same workflow), and the ack latency of signed
//! slash commands at 200 requests per second, against the Slack simulator.
//!
//! `cargo bench -p muster-server --bench slack_declare`
//! Targets: declare-to-ready ≤ 350 ms median through the API; ack p99 ≤ 50 ms at 200 req/s.

use muster_core::Secret;
use muster_testkit::signed::{Signer, SlashCommandRequest, payloads};
use muster_testkit::sim::SlackSim;
use std::time::{Duration, Instant};

#[path = "support.rs"]
mod support;
use support::{pct, ready, report};

const SIGNING: &str = "bench-signing-secret";

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let sim = SlackSim::start().await;
    sim.add_user("U1ANA", "ana");
    sim.add_usergroup("S1ONCALL", &["U1ANA"]);
    let announce = sim.add_channel("incidents", false, &[]);
    let toml = format!(
        "[slack]\napi_base_url = \"{}\"\nannouncement_channels = [\"{announce}\"]\npublic_url = \"https://muster.example.org\"\n[[slack.invite]]\nusergroups = [\"S1ONCALL\"]\n",
        sim.base_url()
    );
    let bench = support::Bench::start(&sim, &toml, Some(SIGNING)).await;
    let store = bench.store.clone();
    let state = bench.state.clone();
    let base = bench.base.clone();
    let http = reqwest::Client::new();
    let signer = Signer::new(Secret::new(SIGNING));
    let now = || chrono::Utc::now().timestamp();

    // 1. Declare-to-ready with 100 ms on every Slack call.
    sim.set_latency(Duration::from_millis(100));
    let runs = 10;
    let mut totals = Vec::new();
    let mut per_step: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    for k in 0..runs {
        let before = sim.views().len();
        let cmd = SlashCommandRequest::new(
            "/incident",
            &format!("Bench incident {k}"),
            "U1ANA",
            "C0GENERAL",
            &sim.new_trigger_id(),
        );
        signer
            .slash_command(&cmd, now())
            .send(&http, &base)
            .await
            .unwrap();
        let view = loop {
            let v = sim.views();
            if v.len() > before {
                break v[before].clone();
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        let submission = payloads::view_submission(&view, "U1ANA", &[]);
        let t0 = Instant::now();
        signer
            .interaction(&submission, now())
            .send(&http, &base)
            .await
            .unwrap();
        let number = store.count().await.unwrap() as i64;
        let id = state
            .engine()
            .get(muster_core::IncidentRef::Number(
                muster_core::IncidentNumber(number),
            ))
            .await
            .unwrap()
            .incident
            .id;
        totals.push(ready(&store, id, t0, &mut per_step).await);
    }
    report(
        "declare-to-ready via /incident (modal submitted)",
        runs,
        totals,
        per_step,
    );

    // 1b. The same through the REST API: any source runs the same workflow.
    let mut totals = Vec::new();
    let mut per_step: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    for k in 0..runs {
        let t0 = Instant::now();
        let r = http
            .post(format!("{base}/api/v1/incidents"))
            .json(&serde_json::json!({"title": format!("API bench incident {k}"), "severity": "SEV2"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let body: serde_json::Value = r.json().await.unwrap();
        let id = muster_core::IncidentId(body["incident"]["id"].as_str().unwrap().parse().unwrap());
        totals.push(ready(&store, id, t0, &mut per_step).await);
    }
    report(
        "declare-to-ready via POST /api/v1/incidents",
        runs,
        totals,
        per_step,
    );

    // 2. Ack latency at 200 signed slash commands per second for 10 s.
    sim.set_latency(Duration::ZERO);
    let total = 2000;
    let interval = Duration::from_millis(5);
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for k in 0..total {
        let target = start + interval * k as u32;
        tokio::time::sleep_until(target.into()).await;
        let cmd = SlashCommandRequest::new(
            "/incident",
            &format!("Load {k}"),
            "U1ANA",
            "C0GENERAL",
            &format!("trig-{k}"),
        );
        let req = signer.slash_command(&cmd, now());
        let http = http.clone();
        let base = base.clone();
        tasks.push(tokio::spawn(async move {
            let t = Instant::now();
            let r = req.send(&http, &base).await.unwrap();
            assert!(r.status().is_success());
            t.elapsed().as_secs_f64() * 1000.0
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.push(t.await.unwrap());
    }
    let rate = total as f64 / start.elapsed().as_secs_f64();
    println!(
        "slash-command ack at {rate:.0} req/s ({total} requests): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        pct(&mut lat, 0.5),
        pct(&mut lat, 0.99),
        pct(&mut lat, 1.0)
    );
    bench.stop().await;
}
