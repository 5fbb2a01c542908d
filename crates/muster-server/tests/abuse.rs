//! Abuse protection through the real router: per-source limits on pages, API and Slack,
//! bounded bodies, bounded limiter memory, and the counters in /metrics.

mod common;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use common::Reply;
use muster_core::Secret;
use muster_core::config::Config;
use muster_engine::{Engine, SystemClock};
use muster_server::AppState;
use muster_server::slack::SlackApp;
use muster_slack::{SlackClient, SlackClientConfig};
use muster_testkit::signed::{SignedRequest, Signer, SlashCommandRequest};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::ServiceExt;

const SIGNING: &str = "abuse-test-signing-secret";

struct App {
    router: axum::Router,
    state: AppState,
    signer: Signer,
    _dir: tempfile::TempDir,
}

impl App {
    /// The router with `toml`, and a Slack app whose API is unreachable (the requests
    /// used here never call it).
    async fn new(toml: &str) -> App {
        let toml = format!(
            "{toml}\n[slack]\napi_base_url = \"http://127.0.0.1:9/api/\"\nannouncement_channels = [\"C1\"]\n"
        );
        let config = Config::from_toml(&toml).unwrap();
        let slack = config.slack.clone().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store = muster_store::Store::open(&format!("sqlite://{}/a.db", dir.path().display()))
            .await
            .unwrap();
        let engine = Engine::new(store, Arc::new(config), Arc::new(SystemClock));
        let client = SlackClient::new(
            SlackClientConfig::new(Secret::new("xoxb-test"))
                .with_base_url("http://127.0.0.1:9/api/"),
        )
        .unwrap();
        let app = SlackApp::new(client, slack, Secret::new(SIGNING)).unwrap();
        let state = AppState::new(engine, true).with_slack(app);
        App {
            router: muster_server::router(state.clone()),
            state,
            signer: Signer::new(Secret::new(SIGNING)),
            _dir: dir,
        }
    }

    async fn send(&self, mut req: Request<Body>, from: &str) -> Reply {
        let peer: SocketAddr = format!("{from}:40000")
            .parse()
            .or_else(|_| format!("[{from}]:40000").parse())
            .unwrap();
        req.extensions_mut().insert(ConnectInfo(peer));
        // As a browser on the same machine would name it.
        if !req.headers().contains_key(header::HOST) {
            req.headers_mut().insert(
                header::HOST,
                header::HeaderValue::from_static("localhost:8080"),
            );
        }
        Reply::read(self.router.clone().oneshot(req).await.unwrap()).await
    }

    async fn get(&self, path: &str, from: &str) -> Reply {
        self.send(Request::get(path).body(Body::empty()).unwrap(), from)
            .await
    }

    async fn slack(&self, req: &SignedRequest, from: &str) -> Reply {
        self.send(req.to_http_request(), from).await
    }

    fn help(&self) -> SignedRequest {
        let cmd = SlashCommandRequest::new("/incident", "help", "U1ANA", "C0GENERAL", "t.1");
        self.signer
            .slash_command(&cmd, chrono::Utc::now().timestamp())
    }

    fn forged(&self) -> SignedRequest {
        self.help()
            .with_header("X-Slack-Signature", &format!("v0={}", "0".repeat(64)))
    }

    async fn metric(&self, line_start: &str) -> u64 {
        let m = self.get("/metrics", "127.0.0.1").await.body;
        m.lines()
            .find(|l| l.starts_with(line_start))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {line_start} in\n{m}"))
    }
}

#[tokio::test]
async fn pages_and_api_answer_429_after_the_burst_with_retry_after() {
    let app = App::new("[server.rate_limit]\nper_second = 1\nburst = 3\n").await;
    for _ in 0..3 {
        assert_eq!(app.get("/healthz", "10.0.0.1").await.status, StatusCode::OK);
    }
    let r = app.get("/healthz", "10.0.0.1").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers[header::RETRY_AFTER], "1");

    // The API says it in JSON.
    let r = app.get("/api/v1/incidents", "10.0.0.1").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["error"]["code"], "rate_limited");
    assert!(v["error"]["message"].as_str().unwrap().contains("second"));

    // Pages say it in the reader's language, then the other one.
    let req = Request::get("/")
        .header(header::ACCEPT_LANGUAGE, "fr-CA")
        .body(Body::empty())
        .unwrap();
    let r = app.send(req, "10.0.0.1").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers[header::RETRY_AFTER].to_str().unwrap() >= "1");
    assert!(
        r.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let fr = r.body.find("Trop de requêtes").expect("French first");
    let en = r.body.find("Too many requests").expect("then English");
    assert!(fr < en, "{}", r.body);
    assert!(r.body.contains("<html lang=\"fr\">"));

    assert!(
        app.metric("muster_http_throttled_total{reason=\"per_source\"}")
            .await
            >= 3
    );
}

#[tokio::test]
async fn a_source_recovers_as_its_bucket_refills() {
    let app = App::new("[server.rate_limit]\nper_second = 20\nburst = 2\n").await;
    for _ in 0..2 {
        assert_eq!(app.get("/healthz", "10.0.0.2").await.status, StatusCode::OK);
    }
    assert_eq!(
        app.get("/healthz", "10.0.0.2").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(app.get("/healthz", "10.0.0.2").await.status, StatusCode::OK);
}

#[tokio::test]
async fn sources_do_not_affect_each_other() {
    let app = App::new("[server.rate_limit]\nper_second = 1\nburst = 2\n").await;
    for _ in 0..5 {
        app.get("/healthz", "10.0.0.3").await;
    }
    assert_eq!(
        app.get("/healthz", "10.0.0.3").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(app.get("/healthz", "10.0.0.4").await.status, StatusCode::OK);
    // One IPv6 /64 is one source; the next /64 is another.
    for _ in 0..2 {
        app.get("/healthz", "2001:db8:0:1::1").await;
    }
    assert_eq!(
        app.get("/healthz", "2001:db8:0:1::ffff").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        app.get("/healthz", "2001:db8:0:2::1").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn behind_a_proxy_the_source_is_the_last_forwarded_address() {
    let app = App::new(
        "[server]\nproxy_user_header = \"X-Forwarded-User\"\n[server.rate_limit]\nper_second = 1\nburst = 2\n",
    )
    .await;
    let via_proxy = |xff: &str| {
        Request::get("/healthz")
            .header("X-Forwarded-For", xff)
            .body(Body::empty())
            .unwrap()
    };
    // The client forges the first entry; the proxy appends the real one.
    for forged in ["1.1.1.1", "2.2.2.2"] {
        let r = app
            .send(via_proxy(&format!("{forged}, 10.0.0.5")), "127.0.0.1")
            .await;
        assert_eq!(r.status, StatusCode::OK);
    }
    let r = app.send(via_proxy("3.3.3.3, 10.0.0.5"), "127.0.0.1").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    // Another client behind the same proxy is not affected.
    let r = app.send(via_proxy("10.0.0.6"), "127.0.0.1").await;
    assert_eq!(r.status, StatusCode::OK);
    // From a peer that is not a trusted proxy the header is ignored: forging it does not
    // buy a fresh bucket.
    for forged in ["4.4.4.4", "5.5.5.5"] {
        let r = app.send(via_proxy(forged), "192.0.2.7").await;
        assert_eq!(r.status, StatusCode::OK);
    }
    let r = app.send(via_proxy("6.6.6.6"), "192.0.2.7").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn limits_can_be_turned_off() {
    let app = App::new("[server.rate_limit]\nenabled = false\nper_second = 1\nburst = 1\n").await;
    for _ in 0..20 {
        assert_eq!(app.get("/healthz", "10.0.0.7").await.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn bad_signature_floods_are_throttled_per_address_before_the_hmac() {
    let app = App::new("").await;
    let mut refused = 0;
    for _ in 0..100 {
        match app.slack(&app.forged(), "10.9.9.9").await.status {
            StatusCode::UNAUTHORIZED => {}
            StatusCode::TOO_MANY_REQUESTS => refused += 1,
            s => panic!("unexpected {s}"),
        }
    }
    // The default burst lets 20 through to be verified (and refused), then 429s.
    assert!(refused >= 75, "{refused}");
    let r = app.slack(&app.forged(), "10.9.9.9").await;
    assert!(r.headers.contains_key(header::RETRY_AFTER));
    // Even a correctly signed request from that address waits: it was not trusted yet.
    assert_eq!(
        app.slack(&app.help(), "10.9.9.9").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Slack at another address is not affected.
    assert_eq!(
        app.slack(&app.help(), "10.8.8.8").await.status,
        StatusCode::OK
    );
    assert!(
        app.metric("muster_http_throttled_total{reason=\"slack_bad_signature\"}")
            .await
            >= 75
    );
}

#[tokio::test]
async fn bad_signatures_from_slacks_own_address_do_not_block_its_verified_requests() {
    // Another Slack app pointed at Muster sends from Slack's addresses with its own secret.
    let app = App::new("").await;
    let slack_ip = "44.0.0.1";
    assert_eq!(
        app.slack(&app.help(), slack_ip).await.status,
        StatusCode::OK
    );
    for _ in 0..100 {
        app.slack(&app.forged(), slack_ip).await;
    }
    assert_eq!(
        app.slack(&app.help(), slack_ip).await.status,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verified_slack_traffic_at_200_per_second_is_never_throttled() {
    let app = Arc::new(App::new("").await);
    let start = Instant::now();
    let mut tasks = Vec::new();
    // 3 s at 200 requests per second, all from one of Slack's addresses, one workspace.
    for k in 0..600u32 {
        tokio::time::sleep_until((start + Duration::from_millis(5) * k).into()).await;
        let app = app.clone();
        let req = app.help();
        tasks.push(tokio::spawn(async move {
            app.slack(&req, "44.0.0.2").await.status
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(
        app.metric("muster_http_throttled_total{reason=\"slack_team\"}")
            .await,
        0
    );
}

#[tokio::test]
async fn verified_slack_traffic_over_the_workspace_limit_is_refused() {
    let app =
        App::new("[server.rate_limit]\nslack_team_per_second = 1\nslack_team_burst = 3\n").await;
    for _ in 0..3 {
        assert_eq!(
            app.slack(&app.help(), "44.0.0.3").await.status,
            StatusCode::OK
        );
    }
    let r = app.slack(&app.help(), "44.0.0.4").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers.contains_key(header::RETRY_AFTER));
}

#[tokio::test]
async fn bodies_over_64_kib_are_refused_on_slack_and_api() {
    let app = App::new("").await;
    let big = vec![b'a'; muster_server::MAX_BODY_BYTES + 1];
    for (path, ct) in [
        ("/slack/commands", "application/x-www-form-urlencoded"),
        ("/slack/events", "application/json"),
        ("/api/v1/incidents", "application/json"),
    ] {
        let req = Request::post(path)
            .header(header::CONTENT_TYPE, ct)
            .body(Body::from(big.clone()))
            .unwrap();
        assert_eq!(
            app.send(req, "10.0.0.8").await.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{path}"
        );
    }
}

#[tokio::test]
async fn limiter_memory_stays_bounded_with_many_sources() {
    let app = App::new("[server.rate_limit]\nmax_sources = 1000\n").await;
    for i in 0..20_000u32 {
        let ip = std::net::Ipv4Addr::from(0x0a00_0000 + i).to_string();
        assert_eq!(app.get("/healthz", &ip).await.status, StatusCode::OK);
    }
    assert!(app.state.abuse().tracked_sources() <= 1000);
    assert!(
        app.metric("muster_rate_limit_sources{limiter=\"per_source\"}")
            .await
            <= 1000
    );
}

#[tokio::test]
async fn tokened_alert_deliveries_are_not_limited_per_source() {
    let app = App::new(
        "[server.rate_limit]\nper_second = 1\nburst = 2\n[alerts.severities]\ncritical = \"SEV1\"\n",
    )
    .await;
    let token = muster_server::new_token();
    app.state
        .engine()
        .create_token("alertmanager", &muster_server::hash_token(token.expose()))
        .await
        .unwrap();
    let post = |key: String, bearer: Option<&str>| {
        let body =
            serde_json::json!({"dedup_key": key, "title": "Disk full", "severity": "critical"});
        let mut b = Request::post("/api/v1/alerts/webhook")
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(t) = bearer {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        b.body(Body::from(body.to_string())).unwrap()
    };
    // A storm from one Alertmanager: every delivery is taken, far past the burst.
    for i in 0..20 {
        let r = app
            .send(post(format!("g{i}"), Some(token.expose())), "10.0.0.7")
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "delivery {i}: {}", r.body);
    }
    // The same source is still limited without a valid token, on alerts and elsewhere.
    let r = app
        .send(post("x".into(), Some("not-a-token")), "10.0.0.7")
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let r = app.send(post("x".into(), None), "10.0.0.7").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        app.get("/healthz", "10.0.0.7").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}
