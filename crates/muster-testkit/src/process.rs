//! Helpers for tests that run real processes (`muster serve`, Alertmanager).

use std::io::{BufRead, BufReader};
use std::process::Child;
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};

/// A port free on 127.0.0.1 right now (another process may take it before it is used).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind 127.0.0.1:0")
        .local_addr()
        .expect("local address")
        .port()
}

/// Keep `child`'s stderr as it is written, and send every word of it that starts with
/// `http://` (`muster serve` prints the URL it listens on).
pub fn capture_stderr(child: &mut Child) -> (Arc<Mutex<String>>, Receiver<String>) {
    let stderr = child.stderr.take().expect("stderr is piped");
    let logs = Arc::new(Mutex::new(String::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let sink = logs.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(u) = line.split_whitespace().find(|w| w.starts_with("http://")) {
                let _ = tx.send(u.to_owned());
            }
            let mut l = sink.lock().unwrap_or_else(|p| p.into_inner());
            l.push_str(&line);
            l.push('\n');
        }
    });
    (logs, rx)
}
