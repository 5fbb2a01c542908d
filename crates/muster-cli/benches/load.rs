//! Load: signed Slack requests at a steady rate against the real `muster serve` (the
//! optimised binary), with Slack played by the in-process simulator.
//!
//! `cargo bench -p muster --bench load` (60 s at 200 req/s), or
//! `cargo bench -p muster --bench load -- --secs 10 --rate 200` (`--only-modals`: slash
//! commands only, no declarations).
//!
//! Open loop: request k is sent at `start + k / rate` whether or not earlier ones were
//! answered, and its latency counts from that scheduled time, so a slow server cannot hide
//! its queue (no coordinated omission). The mix: mostly slash commands that open the
//! declare modal (the simulator's `views.open`, after the ack), plus 5 % submissions of a
//! declare modal (each declares an incident, whose workflow then creates its channel,
//! announcement and bookmarks on the simulator) and 5 % commands in an incident channel
//! (`note`, `status`). Resident memory (VmRSS) of
//! the server is read at the start, every 10 s and at the end.
//! Targets (issue 5): ack p99 ≤ 50 ms, no memory growth.

mod support;
use support::{rss_breakdown, rss_kib};

use muster_core::Secret;
use muster_testkit::signed::{Input, SignedRequest, Signer, SlashCommandRequest, payloads};
use muster_testkit::sim::SlackSim;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SIGNING: &str = "load-bench-signing-secret";

struct Args {
    secs: u64,
    rate: u64,
    /// Only slash commands that open the modal (`--only-modals`): no declarations.
    only_modals: bool,
}

fn args() -> Option<Args> {
    let all: Vec<String> = std::env::args().collect();
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing: skip then.
    if !all.iter().any(|a| a == "--bench") {
        return None;
    }
    let value = |name: &str, default: u64| {
        all.iter()
            .position(|a| a == name)
            .and_then(|i| all.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    Some(Args {
        secs: value("--secs", 60),
        rate: value("--rate", 200),
        only_modals: all.iter().any(|a| a == "--only-modals"),
    })
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn mb(kib: u64) -> String {
    format!("{:.1} MB", kib as f64 / 1024.0)
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Start `muster serve` on a free port in `dir` and return it with its base URL.
fn serve(dir: &std::path::Path, sim: &SlackSim) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_muster"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .current_dir(dir)
        .env_remove("MUSTER_DATABASE_URL")
        .env_remove("MUSTER_CONFIG")
        .env("MUSTER_SLACK_BOT_TOKEN", sim.token().expose())
        .env("MUSTER_SLACK_SIGNING_SECRET", SIGNING)
        .env("MUSTER_LOG", "warn")
        .stderr(Stdio::piped())
        .spawn()
        .expect("muster serve starts");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let url = loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "muster serve exited"
        );
        if let Some(u) = line.split_whitespace().find(|w| w.starts_with("http://")) {
            break u.trim_end_matches(['.', ',']).to_owned();
        }
    };
    // Keep reading its log so the pipe never fills; count warnings.
    std::thread::spawn(move || {
        let mut warnings = 0u64;
        for line in stderr.lines().map_while(Result::ok) {
            warnings += 1;
            if warnings <= 5 {
                eprintln!("serve: {line}");
            }
        }
    });
    (child, url)
}

enum Kind {
    Modal,
    Submit,
    InChannel,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let Some(args) = args() else { return };
    muster_slack::client::install_crypto_provider();
    let sim = SlackSim::start().await;
    sim.add_user("U1ANA", "ana");
    let announce = sim.add_channel("incidents", false, &[]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("muster.toml"),
        format!(
            "[database]\nurl = \"sqlite://{}/load.db\"\n[slack]\napi_base_url = \"{}\"\nannouncement_channels = [\"{announce}\"]\npublic_url = \"https://muster.example.org\"\n",
            dir.path().display(),
            sim.base_url()
        ),
    )
    .unwrap();
    let (mut child, base) = serve(dir.path(), &sim);
    let pid = child.id();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .unwrap();
    let signer = Signer::new(Secret::new(SIGNING));

    // One incident first, for the in-channel commands.
    let before = sim.views().len();
    let cmd = SlashCommandRequest::new(
        "/incident",
        "Load bench incident",
        "U1ANA",
        "C0GENERAL",
        &sim.new_trigger_id(),
    );
    let r = signer.slash_command(&cmd, now()).send(&http, &base).await;
    assert!(r.unwrap().status().is_success());
    let view = loop {
        if let Some(v) = sim.views().get(before) {
            break v.clone();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let submit = payloads::view_submission(&view, "U1ANA", &[]);
    let r = signer.interaction(&submit, now()).send(&http, &base).await;
    assert!(r.unwrap().status().is_success());
    let t = Instant::now();
    let channel = loop {
        if let Some(c) = sim
            .channels()
            .into_iter()
            .find(|c| c.name.starts_with("incident-"))
        {
            break c.id;
        }
        assert!(t.elapsed() < Duration::from_secs(10), "no incident channel");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };

    // Warm up for 2 s at the same rate, then measure.
    let warmup = 2 * args.rate;
    let total = args.secs * args.rate;
    let interval = Duration::from_secs_f64(1.0 / args.rate as f64);
    let mut rss = Vec::new();
    let start = Instant::now();
    let measure_from = start + interval * warmup as u32;
    let mut tasks = Vec::with_capacity(total as usize);
    let mut next_sample = measure_from;
    let mut start_breakdown = String::new();
    for k in 0..warmup + total {
        let scheduled = start + interval * k as u32;
        if scheduled >= next_sample {
            rss.push((
                next_sample
                    .saturating_duration_since(measure_from)
                    .as_secs(),
                rss_kib(pid),
            ));
            if start_breakdown.is_empty() {
                start_breakdown = rss_breakdown(pid);
            }
            next_sample += Duration::from_secs(10);
        }
        tokio::time::sleep_until(scheduled.into()).await;
        let kind = match k % 20 {
            _ if args.only_modals => Kind::Modal,
            7 => Kind::Submit,
            13 => Kind::InChannel,
            _ => Kind::Modal,
        };
        let req: Option<SignedRequest> = match kind {
            Kind::Modal => Some(signer.slash_command(
                &SlashCommandRequest::new(
                    "/incident",
                    &format!("Load {k}"),
                    "U1ANA",
                    "C0GENERAL",
                    &sim.new_trigger_id(),
                ),
                now(),
            )),
            Kind::Submit => {
                // The first modal again, as a distinct view with its own title.
                let mut v = view.clone();
                v.id = format!("VLOAD{k}");
                let title = [("title", Input::Text(format!("Load incident {k}")))];
                Some(signer.interaction(&payloads::view_submission(&v, "U1ANA", &title), now()))
            }
            Kind::InChannel => {
                let text = if k % 40 == 13 {
                    format!("note load note {k}")
                } else {
                    "status".to_owned()
                };
                Some(signer.slash_command(
                    &SlashCommandRequest::new("/incident", &text, "U1ANA", &channel, "t"),
                    now(),
                ))
            }
        };
        let Some(req) = req else { continue };
        let (http, base) = (http.clone(), base.clone());
        let measured = k >= warmup;
        tasks.push(tokio::spawn(async move {
            let r = req.send(&http, &base).await;
            let ms = scheduled.elapsed().as_secs_f64() * 1000.0;
            let ok = matches!(&r, Ok(r) if r.status().is_success());
            if !ok && measured {
                eprintln!("request {k} failed: {:?}", r.map(|r| r.status()));
            }
            (measured, ok, ms)
        }));
    }
    let sent_for = start.elapsed();
    let mut lat = Vec::with_capacity(total as usize);
    let mut errors = 0;
    for t in tasks {
        let (measured, ok, ms) = t.await.unwrap();
        if measured {
            lat.push(ms);
            errors += usize::from(!ok);
        }
    }
    let end_rss = rss_kib(pid);
    let end_breakdown = rss_breakdown(pid);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let settled_rss = rss_kib(pid);
    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let declared: u64 = metrics
        .lines()
        .filter(|l| l.starts_with("muster_incidents{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum();
    let (views, channels) = (sim.views().len(), sim.channels().len());
    let _ = child.kill();
    let _ = child.wait();

    lat.sort_by(|a, b| a.total_cmp(b));
    let rate = (warmup + total) as f64 / sent_for.as_secs_f64();
    println!(
        "load: {} signed Slack requests over {} s at {rate:.0} req/s (open loop, after a 2 s warm-up), {errors} errors",
        lat.len(),
        args.secs
    );
    println!(
        "ack latency: p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        pct(&lat, 0.5),
        pct(&lat, 0.9),
        pct(&lat, 0.99),
        pct(&lat, 1.0)
    );
    println!(
        "work done: {declared} incidents declared, {views} modals opened and {channels} channels created on the simulator"
    );
    let series: Vec<String> = rss
        .iter()
        .map(|(s, k)| format!("{s} s {}", mb(*k)))
        .collect();
    println!(
        "resident memory: {}; end {}; 3 s after {}",
        series.join(", "),
        mb(end_rss),
        mb(settled_rss)
    );
    println!("  at start: {start_breakdown}\n  at end:   {end_breakdown}");
    let throttled: Vec<&str> = metrics
        .lines()
        .filter(|l| {
            l.starts_with("muster_http_throttled_total") || l.starts_with("muster_slack_after_ack")
        })
        .collect();
    println!("server counters: {}", throttled.join("; "));
    let start_rss = rss.first().map_or(0, |r| r.1);
    println!(
        "targets: p99 ≤ 50 ms {}; memory growth {:+.1} MB",
        if pct(&lat, 0.99) <= 50.0 {
            "met"
        } else {
            "MISSED"
        },
        (end_rss as f64 - start_rss as f64) / 1024.0
    );
}
