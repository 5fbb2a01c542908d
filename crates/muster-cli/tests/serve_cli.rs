//! `muster serve`, `muster token` and the CLI acting through a server (`--server`), all
//! through the real binary.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn muster(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_muster"));
    c.args(args)
        .current_dir(dir)
        .env_remove("MUSTER_DATABASE_URL")
        .env_remove("MUSTER_CONFIG")
        .env_remove("MUSTER_LANG")
        .env_remove("MUSTER_SERVER")
        .env_remove("MUSTER_TOKEN");
    c
}

fn serve(dir: &Path) -> Server {
    let mut child = muster(dir, &["serve", "--bind", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Log lines may come first: read until the line that gives the address.
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let url = loop {
        let mut line = String::new();
        assert!(err.read_line(&mut line).unwrap() > 0, "muster serve exited");
        if let Some(u) = line.split_whitespace().find(|w| w.starts_with("http://")) {
            break u.to_owned();
        }
    };
    Server { child, url }
}

fn ok(o: Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn refuses_to_listen_beyond_loopback_without_authentication() {
    let dir = tempfile::tempdir().unwrap();
    let o = muster(dir.path(), &["serve", "--bind", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("Refusing to listen on 0.0.0.0:0") && err.contains("proxy_user_header"),
        "{err}"
    );
    assert!(
        !dir.path().join("muster.db").exists(),
        "refused before opening the database"
    );
    // With the proxy header configured it starts.
    std::fs::write(
        dir.path().join("muster.toml"),
        "[server]\nproxy_user_header = \"X-User\"\n",
    )
    .unwrap();
    let mut child = muster(dir.path(), &["serve", "--bind", "0.0.0.0:0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("listening on http://0.0.0.0:"), "{line}");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn the_cli_can_act_through_a_running_server() {
    let server_dir = tempfile::tempdir().unwrap();
    let client_dir = tempfile::tempdir().unwrap();
    let s = serve(server_dir.path());
    let c = |args: &[&str]| {
        let mut all = vec!["--server", s.url.as_str()];
        all.extend_from_slice(args);
        muster(client_dir.path(), &all).output().unwrap()
    };
    let out = ok(c(&[
        "incident",
        "declare",
        "Remote outage",
        "--severity",
        "SEV2",
    ]));
    assert!(out.contains("Declared INC-1: Remote outage"), "{out}");
    ok(c(&["incident", "status", "INC-1", "In Progress"]));
    ok(c(&[
        "incident",
        "note",
        "INC-1",
        "Checked the load balancer",
    ]));
    ok(c(&[
        "incident",
        "action",
        "INC-1",
        "Add a health check",
        "--type",
        "Detect",
        "--priority",
        "P1",
    ]));
    let list = ok(c(&["--json", "incident", "list"]));
    let v: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(v["total"], 1);
    let report = ok(c(&["--lang", "fr", "incident", "report", "INC-1"]));
    assert!(
        report.contains("## Chronologie détaillée") && report.contains("Checked the load balancer")
    );
    // Errors from the server keep their meaning and exit code.
    let o = c(&["incident", "status", "INC-1", "Reviewed"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot go from"));
    let o = c(&["incident", "show", "INC-7"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        !client_dir.path().join("muster.db").exists(),
        "nothing was written locally"
    );
    // The server's own database has it all.
    let local = ok(
        muster(server_dir.path(), &["--json", "incident", "show", "INC-1"])
            .output()
            .unwrap(),
    );
    let v: serde_json::Value = serde_json::from_str(&local).unwrap();
    assert_eq!(v["incident"]["status"], "In Progress");
    assert_eq!(v["actions"][0]["text"], "Add a health check");
    // An unreachable server is a system failure with a clear message.
    let o = muster(
        client_dir.path(),
        &["--server", "http://127.0.0.1:9", "incident", "list"],
    )
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn tokens_are_created_once_listed_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("muster.toml"),
        "[server]\nrequire_api_token = true\n",
    )
    .unwrap();
    let created = muster(dir.path(), &["token", "create", "ci-bot"])
        .output()
        .unwrap();
    let token = ok(created).trim().to_owned();
    assert!(token.starts_with("mst_") && token.len() > 60);
    let o = muster(dir.path(), &["token", "create", "ci-bot"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let listed = ok(muster(dir.path(), &["token", "list"]).output().unwrap());
    assert!(listed.contains("ci-bot") && listed.contains("active") && !listed.contains(&token));
    let db = std::fs::read(dir.path().join("muster.db")).unwrap();
    assert!(
        !String::from_utf8_lossy(&db).contains(&token),
        "only the hash is stored"
    );

    let s = serve(dir.path());
    let o = muster(dir.path(), &["--server", &s.url, "incident", "list"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("bearer token"));
    let out = ok(muster(
        dir.path(),
        &[
            "--server", &s.url, "--json", "incident", "declare", "From CI",
        ],
    )
    .env("MUSTER_TOKEN", &token)
    .output()
    .unwrap());
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["incident"]["declared_by"], "ci-bot");
    // --by is not dropped through the server: the record names both.
    let out = ok(muster(
        dir.path(),
        &[
            "--server",
            &s.url,
            "--json",
            "incident",
            "note",
            "INC-1",
            "rolled back",
            "--by",
            "Zoë",
        ],
    )
    .env("MUSTER_TOKEN", &token)
    .output()
    .unwrap());
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let last = v["timeline"].as_array().unwrap().last().unwrap();
    assert_eq!(last["author"], "Zoë (via ci-bot)", "{last}");
    ok(muster(dir.path(), &["token", "revoke", "ci-bot"])
        .output()
        .unwrap());
    let o = muster(
        dir.path(),
        &["--server", &s.url, "--token", &token, "incident", "list"],
    )
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown or revoked"));
    let o = muster(dir.path(), &["token", "revoke", "ci-bot"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn slack_manifest_and_missing_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(muster(
        dir.path(),
        &["slack", "manifest", "--url", "https://muster.example.org/"],
    )
    .output()
    .unwrap());
    let m: serde_json::Value = serde_json::from_str(&out).unwrap();
    let text = m.to_string();
    assert!(
        text.contains("https://muster.example.org/slack/commands"),
        "{text}"
    );
    assert!(text.contains("https://muster.example.org/slack/interactions"));
    assert!(text.contains("https://muster.example.org/slack/events"));
    assert!(text.contains("/incident") && text.contains("declare_from_message"));
    let o = muster(
        dir.path(),
        &["slack", "manifest", "--url", "muster.example.org"],
    )
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(2));

    std::fs::write(
        dir.path().join("muster.toml"),
        "[slack]\nannouncement_channels = [\"C1\"]\n",
    )
    .unwrap();
    let o = muster(dir.path(), &["serve", "--bind", "127.0.0.1:0"])
        .env_remove("MUSTER_SLACK_BOT_TOKEN")
        .env_remove("MUSTER_SLACK_SIGNING_SECRET")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("MUSTER_SLACK_BOT_TOKEN"), "{err}");
}

/// Plant real-looking tokens in the configuration's environment, drive the server through
/// its paths (including failures that log), and require that no log line holds a secret.
#[test]
fn logs_never_contain_a_secret() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let bot = muster_testkit::secrets::PLANTED_BOT_TOKEN;
    let signing = muster_testkit::secrets::PLANTED_SIGNING_SECRET;
    // Slack's API is unreachable, so calls fail and their errors are logged.
    std::fs::write(
        dir.path().join("muster.toml"),
        "[slack]\napi_base_url = \"http://127.0.0.1:9/api/\"\nannouncement_channels = [\"C1\"]\n",
    )
    .unwrap();
    let mut child = muster(dir.path(), &["serve", "--bind", "127.0.0.1:0"])
        .env("MUSTER_SLACK_BOT_TOKEN", bot)
        .env("MUSTER_SLACK_SIGNING_SECRET", signing)
        .env("MUSTER_LOG", "debug")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut first = Vec::new();
    let url = loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "serve exited: {}",
            String::from_utf8_lossy(&first)
        );
        first.extend_from_slice(line.as_bytes());
        if line.contains("listening on http://") {
            break line
                .split_whitespace()
                .find(|w| w.starts_with("http://"))
                .unwrap()
                .to_owned();
        }
    };
    let host = url.trim_start_matches("http://").to_owned();
    let send = |path: &str, body: &str, headers: &[(String, String)]| {
        let mut s = std::net::TcpStream::connect(&host).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let mut req = format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n",
            body.len()
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        req.push_str(body);
        s.write_all(req.as_bytes()).unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    };
    let body = format!(
        "command=%2Fincident&text=a+token+{bot}&user_id=U1&user_name=ana&channel_id=C1&channel_name=x&team_id=T1&trigger_id=t1&response_url=https%3A%2F%2Fhooks.slack.com%2Fx"
    );
    let ts = chrono::Utc::now().timestamp();
    let sig =
        muster_slack::signature::sign(&muster_core::Secret::new(signing), ts, body.as_bytes());
    let ok = send(
        "/slack/commands",
        &body,
        &[
            ("X-Slack-Request-Timestamp".into(), ts.to_string()),
            ("X-Slack-Signature".into(), sig),
        ],
    );
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    let bad = send(
        "/slack/commands",
        &body,
        &[
            ("X-Slack-Request-Timestamp".into(), ts.to_string()),
            ("X-Slack-Signature".into(), "v0=00".into()),
        ],
    );
    assert!(bad.starts_with("HTTP/1.1 401"), "{bad}");
    // Let the background modal call fail and log, then stop the server.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    child.kill().unwrap();
    let mut rest = Vec::new();
    let _ = stderr.read_to_end(&mut rest);
    child.wait().unwrap();
    first.extend_from_slice(&rest);
    let logs = String::from_utf8_lossy(&first).into_owned();
    assert!(
        logs.contains("could not open the declare modal"),
        "the failure path was exercised:\n{logs}"
    );
    muster_testkit::secrets::assert_logs_clean(&logs, &[bot, signing]);
}

#[test]
fn a_token_pasted_into_the_config_is_never_echoed_in_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let token = muster_testkit::secrets::PLANTED_BOT_TOKEN;
    std::fs::write(
        dir.path().join("muster.toml"),
        format!("[slack]\nannouncement_channels = [\"C1\"]\ncommand = \"{token}\"\n"),
    )
    .unwrap();
    for args in [
        &["config", "check"][..],
        &["serve", "--bind", "127.0.0.1:0"][..],
    ] {
        let out = muster(dir.path(), args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("line 3"), "{err}");
        assert!(!err.contains(token), "{args:?} printed the token: {err}");
        assert!(err.contains("REDACTED"), "{err}");
    }
}

/// `muster serve` with `transport = "socket"`: no signing secret needed, an `xapp-` token
/// required (a bot token is refused without being printed), two connections to the
/// simulator, a slash command answered in its ack, and `link_disabled` reported to the
/// operator without a reconnection storm. No token reaches the logs.
#[tokio::test(flavor = "multi_thread")]
async fn serve_over_socket_mode() {
    use muster_testkit::{EnvelopeKind, SlackSim, SlashCommandRequest};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;
    let sim = SlackSim::start().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("muster.toml"),
        format!(
            "[slack]\ntransport = \"socket\"\nsocket_connections = 2\napi_base_url = \"{}\"\nannouncement_channels = [\"C1\"]\n",
            sim.base_url()
        ),
    )
    .unwrap();
    let bot = sim.token().expose().to_owned();
    let app = sim.socket().app_token().expose().to_owned();

    // The manifest follows the transport: Socket Mode on, no request URLs.
    let m: serde_json::Value =
        serde_json::from_str(&ok(muster(dir.path(), &["slack", "manifest"])
            .output()
            .unwrap()))
        .unwrap();
    assert_eq!(m["settings"]["socket_mode_enabled"], true);
    assert!(!m.to_string().contains("request_url"), "{m}");
    let elsewhere = tempfile::tempdir().unwrap();
    let o = muster(elsewhere.path(), &["slack", "manifest"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "HTTP needs --url");
    assert!(String::from_utf8_lossy(&o.stderr).contains("--socket"));

    let o = muster(dir.path(), &["serve", "--bind", "127.0.0.1:0"])
        .env("MUSTER_SLACK_BOT_TOKEN", &bot)
        .env("MUSTER_SLACK_APP_TOKEN", &bot)
        .env_remove("MUSTER_SLACK_SIGNING_SECRET")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("MUSTER_SLACK_APP_TOKEN") && err.contains("xapp-"),
        "{err}"
    );
    assert!(!err.contains(&bot), "the refused token was printed");

    let mut child = muster(dir.path(), &["serve", "--bind", "127.0.0.1:0"])
        .env("MUSTER_SLACK_BOT_TOKEN", &bot)
        .env("MUSTER_SLACK_APP_TOKEN", &app)
        .env_remove("MUSTER_SLACK_SIGNING_SECRET")
        .env("MUSTER_LOG", "trace")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let logs = Arc::new(Mutex::new(String::new()));
    let stderr = child.stderr.take().unwrap();
    let sink = logs.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            sink.lock().unwrap().push_str(&(line + "\n"));
        }
    });
    let server = Server {
        child,
        url: String::new(),
    };
    let sock = sim.socket();
    assert!(
        sock.wait_connections(2, Duration::from_secs(20)).await,
        "two connections: {}",
        logs.lock().unwrap()
    );
    let cmd = SlashCommandRequest::new("/incident", "help", "U1", "C1", "t.1");
    let id = sock.push(EnvelopeKind::SlashCommands, cmd.json());
    let ack = sock
        .wait_ack(&id, Duration::from_secs(5))
        .await
        .expect("acked");
    let payload = ack.payload.expect("the help, in the ack");
    assert_eq!(payload["response_type"], "ephemeral", "{payload}");

    let issued = sock.urls_issued();
    sock.disconnect(sock.connections()[0], "link_disabled", Duration::ZERO);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !logs.lock().unwrap().contains("turned Socket Mode off") {
        assert!(
            std::time::Instant::now() < deadline,
            "{}",
            logs.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(sock.wait_connections(0, Duration::from_secs(5)).await);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        sock.urls_issued(),
        issued,
        "no reconnection after link_disabled"
    );
    drop(server);
    let logs = logs.lock().unwrap().clone();
    assert!(logs.contains("Socket Mode, 2 connections"), "{logs}");
    for leak in [bot.as_str(), app.as_str(), "ticket="] {
        assert!(!logs.contains(leak), "{leak} in the logs");
    }
    assert!(sim.rejections().is_empty(), "{:?}", sim.rejections());
}

/// A security incident declared through a server is visible to whoever declared it: `scan
/// --declare --server` used to fail right after declaring (the note it adds answered 404,
/// since nobody was a security viewer on the default setup).
#[test]
fn scan_declare_through_a_server_can_follow_its_own_security_incident() {
    let server_dir = tempfile::tempdir().unwrap();
    let client_dir = tempfile::tempdir().unwrap();
    let s = serve(server_dir.path());
    // Built at run time, so the repository holds no token-shaped string here.
    let leak = format!("token=ghp_{}\n", "Q2x9Lm4Pz7Rt1Vb8Nc3Kd6Hs0Jf5Gw2Ye7Ua");
    std::fs::write(client_dir.path().join("ci.log"), leak).unwrap();
    let o = muster(
        client_dir.path(),
        &["--server", &s.url, "scan", "--declare", "ci.log"],
    )
    .output()
    .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "findings exit 1: {err}");
    assert!(err.contains("declared INC-1"), "{err}");
    // What the server recorded (its own database sees everything).
    let shown = ok(
        muster(server_dir.path(), &["--json", "incident", "show", "INC-1"])
            .output()
            .unwrap(),
    );
    let v: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(v["incident"]["security"], true);
    assert!(
        v["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["event"]["kind"] == "note"),
        "the scan's note was added: {shown}"
    );
    assert!(!shown.contains("Q2x9Lm4Pz7Rt1Vb8Nc3Kd6Hs0Jf5Gw2Ye7Ua"));
}
