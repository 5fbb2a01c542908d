//! Cold start and idle memory of `muster serve` (the real, optimised binary).
//!
//! `cargo bench -p muster --bench serve_startup`
//! Targets (issue 3): cold start to the first answer on /healthz ≤ 200 ms; idle resident
//! memory ≤ 30 MB.

mod support;
use support::rss_kib;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn healthz(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = write!(
        s,
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    );
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.starts_with("HTTP/1.1 200")
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn start(dir: &std::path::Path, port: u16) -> (std::process::Child, Duration) {
    let t0 = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_muster"))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .current_dir(dir)
        .env_remove("MUSTER_DATABASE_URL")
        .env_remove("MUSTER_CONFIG")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    while !healthz(port) {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "server did not answer"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    (child, t0.elapsed())
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` would pass nothing: skip then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let runs = 20;
    let mut fresh = Vec::new();
    let mut warm = Vec::new();
    let warm_dir = tempfile::tempdir().unwrap();
    for _ in 0..runs {
        let dir = tempfile::tempdir().unwrap();
        let (mut c, t) = start(dir.path(), free_port());
        fresh.push(t.as_secs_f64() * 1000.0);
        c.kill().unwrap();
        c.wait().unwrap();
        let (mut c, t) = start(warm_dir.path(), free_port());
        warm.push(t.as_secs_f64() * 1000.0);
        c.kill().unwrap();
        c.wait().unwrap();
    }
    println!(
        "cold start to first /healthz answer, new database (migrations run): median {:.1} ms over {runs} runs",
        median(&mut fresh)
    );
    println!(
        "cold start to first /healthz answer, existing database: median {:.1} ms over {runs} runs",
        median(&mut warm)
    );

    let port = free_port();
    let (mut c, _) = start(warm_dir.path(), port);
    std::thread::sleep(Duration::from_secs(2));
    let idle = rss_kib(c.id());
    for _ in 0..2000 {
        assert!(healthz(port));
    }
    std::thread::sleep(Duration::from_secs(1));
    let after = rss_kib(c.id());
    c.kill().unwrap();
    c.wait().unwrap();
    println!(
        "resident memory: idle {:.1} MB, after 2,000 requests {:.1} MB",
        idle as f64 / 1024.0,
        after as f64 / 1024.0
    );
}
