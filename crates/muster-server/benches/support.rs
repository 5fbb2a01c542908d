//! What the benchmarks share: percentiles, and waiting for an incident's workflow.

#![allow(dead_code)]

use muster_core::Secret;
use muster_core::config::Config;
use muster_engine::{Engine, SystemClock};
use muster_server::AppState;
use muster_slack::{SlackClient, SlackClientConfig};
use muster_testkit::sim::SlackSim;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A server on 127.0.0.1 with Slack (the simulator) and its worker running.
pub struct Bench {
    pub store: muster_store::Store,
    pub state: AppState,
    pub base: String,
    _dir: tempfile::TempDir,
    stop: tokio::sync::watch::Sender<bool>,
    worker: tokio::task::JoinHandle<()>,
}

impl Bench {
    /// Serve `toml` (which configures `[slack]` against `sim`); Slack's HTTP endpoints
    /// verify with `signing` when given.
    pub async fn start(sim: &SlackSim, toml: &str, signing: Option<&str>) -> Bench {
        let config = Config::from_toml(toml).unwrap();
        let slack = config.slack.clone().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store = muster_store::Store::open(&format!("sqlite://{}/b.db", dir.path().display()))
            .await
            .unwrap();
        let engine = Engine::new(store.clone(), Arc::new(config), Arc::new(SystemClock))
            .with_chat(Arc::new(muster_slack::provision::SlackPlatform));
        let client =
            SlackClient::new(SlackClientConfig::new(sim.token()).with_base_url(sim.base_url()))
                .unwrap();
        let app = match signing {
            Some(s) => muster_server::slack::SlackApp::new(client, slack, Secret::new(s)),
            None => muster_server::slack::SlackApp::for_socket_mode(client, slack),
        }
        .unwrap();
        let state = AppState::new(engine, true);
        let worker = app.worker(state.engine_arc());
        let state = state.with_slack(app);
        let (stop, mut stop_rx) = tokio::sync::watch::channel(false);
        let worker = tokio::spawn(worker.run(async move {
            let _ = stop_rx.wait_for(|s| *s).await;
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server_state = state.clone();
        tokio::spawn(async move {
            muster_server::serve(listener, server_state, std::future::pending()).await
        });
        Bench {
            store,
            state,
            base,
            _dir: dir,
            stop,
            worker,
        }
    }

    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.worker.await;
    }
}

pub fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// Wait until every step of incident `id` is done; milliseconds since `t0`, and when each
/// step finished in `per_step`.
pub async fn ready(
    store: &muster_store::Store,
    id: muster_core::IncidentId,
    t0: Instant,
    per_step: &mut std::collections::BTreeMap<String, Vec<f64>>,
) -> f64 {
    let mut seen = std::collections::BTreeSet::new();
    loop {
        let jobs = store.jobs_for(id).await.unwrap();
        for j in &jobs {
            if j.state == muster_core::JobState::Done && seen.insert(j.step.clone()) {
                per_step
                    .entry(j.step.clone())
                    .or_default()
                    .push(t0.elapsed().as_secs_f64() * 1000.0);
            }
        }
        if !jobs.is_empty() && jobs.iter().all(|j| j.state == muster_core::JobState::Done) {
            return t0.elapsed().as_secs_f64() * 1000.0;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "workflow stuck: {jobs:?}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Print how long workflows took to be ready, and when each step was done.
pub fn report(
    what: &str,
    runs: usize,
    mut totals: Vec<f64>,
    per_step: std::collections::BTreeMap<String, Vec<f64>>,
) {
    println!(
        "{what}, 100 ms per Slack call: median {:.0} ms, max {:.0} ms over {runs} runs",
        pct(&mut totals.clone(), 0.5),
        pct(&mut totals, 1.0)
    );
    for (step, mut v) in per_step {
        println!(
            "  step {step:<16} done after median {:.0} ms",
            pct(&mut v, 0.5)
        );
    }
}
