//! Live pages: the real `muster serve` (release build) with 200 open live streams, the
//! event stream each incident page's script listens to.
//!
//! Reports the server's resident memory before and with the streams open, and how long a
//! note added through the API takes to reach all 200 streams (median and worst of 20
//! notes). The time to the note's appearance in a real browser page (the event, the
//! page's re-read and the swap) is measured by the browser test
//! (`cargo test -p muster --test browser war_room -- --nocapture`).
//!
//! `cargo bench -p muster --bench live` (`-- --streams N` for another count).

#[path = "support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn main() {
    let streams: usize = std::env::args()
        .skip_while(|a| a != "--streams")
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let dir = tempfile::tempdir().unwrap();
    // One machine opens every stream: the per-address limit is for the open Internet.
    std::fs::write(
        dir.path().join("muster.toml"),
        "[server.rate_limit]\nenabled = false\n",
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_muster"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env_remove("MUSTER_DATABASE_URL")
        .env_remove("MUSTER_CONFIG")
        .stderr(Stdio::piped())
        .spawn()
        .expect("muster serve starts");
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let base = loop {
        let mut line = String::new();
        assert!(err.read_line(&mut line).unwrap() > 0, "muster serve exited");
        if let Some(u) = line.split_whitespace().find(|w| w.starts_with("http://")) {
            break u.trim_end_matches('/').to_owned();
        }
    };
    std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
    let host = base.strip_prefix("http://").unwrap().to_owned();
    let pid = child.id();

    let r = request(
        &host,
        "POST",
        "/api/v1/incidents",
        r#"{"title":"Live pages"}"#,
    );
    assert!(r.starts_with("HTTP/1.1 201"), "{r}");
    std::thread::sleep(Duration::from_millis(500));
    let before = support::rss_kib(pid);

    // Open the streams; each reader thread reports every event it sees.
    let (tx, rx) = mpsc::channel::<(usize, Instant)>();
    for k in 0..streams {
        let mut s = TcpStream::connect(&host).unwrap();
        write!(
            s,
            "GET /incidents/INC-1/events HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n"
        )
        .unwrap();
        let tx = tx.clone();
        std::thread::spawn(move || {
            let mut r = BufReader::new(s);
            let mut line = String::new();
            while r.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                if line.starts_with("event: changed") {
                    let _ = tx.send((k, Instant::now()));
                }
                line.clear();
            }
        });
    }
    std::thread::sleep(Duration::from_secs(2));
    let with = support::rss_kib(pid);

    let mut fan_out = Vec::new();
    for n in 0..20 {
        let sent = Instant::now();
        let body = format!(r#"{{"text":"note {n}"}}"#);
        let r = request(&host, "POST", "/api/v1/incidents/INC-1/timeline", &body);
        assert!(r.starts_with("HTTP/1.1 201"), "{r}");
        let mut seen = 0;
        let mut last = sent;
        while seen < streams {
            let (_, at) = rx
                .recv_timeout(Duration::from_secs(10))
                .expect("every stream hears of the note");
            seen += 1;
            last = at;
        }
        fan_out.push(last.duration_since(sent).as_secs_f64() * 1000.0);
        std::thread::sleep(Duration::from_millis(100));
    }
    fan_out.sort_by(|a, b| a.total_cmp(b));
    let after = support::rss_kib(pid);
    println!("live streams: {streams}");
    println!(
        "resident memory: {:.1} MB before, {:.1} MB with the streams open, {:.1} MB after 20 notes ({:.1} KB a stream)",
        before as f64 / 1024.0,
        with as f64 / 1024.0,
        after as f64 / 1024.0,
        (with.saturating_sub(before)) as f64 / streams as f64
    );
    println!(
        "API note → event on all {streams} streams: median {:.1} ms, worst {:.1} ms (20 notes)",
        fan_out[10], fan_out[19]
    );
    let _ = child.kill();
    let _ = child.wait();
}

/// One HTTP/1.1 request with a JSON body; the whole answer.
fn request(host: &str, method: &str, path: &str, body: &str) -> String {
    let mut s = TcpStream::connect(host).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    raw
}
