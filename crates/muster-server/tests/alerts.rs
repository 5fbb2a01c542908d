//! The alert endpoints through the real router: tokens, grouping, repeats, resolution,
//! refusals, redaction and concurrent duplicate deliveries.

mod common;

use axum::http::StatusCode;
use common::TestApp;
use muster_core::IncidentRef;
use muster_core::incident::{ResourceKind, TimelineEvent};
use serde_json::{Value, json};

const CONFIG: &str = r#"
[alerts.severities]
critical = "SEV1"
warning = "SEV3"
"#;

async fn app() -> (TestApp, String) {
    let app = TestApp::new(CONFIG).await;
    let token = muster_server::new_token();
    app.state
        .engine()
        .create_token("alertmanager", &muster_server::hash_token(token.expose()))
        .await
        .unwrap();
    (app, token.expose().to_owned())
}

fn delivery(group: &str, alerts: &[(&str, &str)], severity: &str) -> Value {
    json!({
        "version": "4",
        "groupKey": group,
        "status": if alerts.iter().any(|(_, s)| *s == "firing") { "firing" } else { "resolved" },
        "receiver": "muster",
        "groupLabels": {"alertname": "DBDown"},
        "commonLabels": {"alertname": "DBDown", "severity": severity},
        "commonAnnotations": {"summary": format!("Database down ({group})")},
        "externalURL": "http://alertmanager:9093",
        "alerts": alerts.iter().map(|(fp, status)| json!({
            "status": status,
            "labels": {"alertname": "DBDown", "severity": severity, "instance": fp},
            "annotations": {},
            "startsAt": "2026-11-02T10:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph?g0.expr=up",
            "fingerprint": fp,
        })).collect::<Vec<_>>(),
    })
}

async fn post(app: &TestApp, token: &str, body: Value) -> common::Reply {
    app.api("POST", "/alerts/alertmanager", Some(body), Some(token))
        .await
}

fn alert_events(d: &muster_core::incident::IncidentDetail) -> Vec<TimelineEvent> {
    d.timeline
        .iter()
        .map(|e| e.event.clone())
        .filter(|e| {
            matches!(
                e,
                TimelineEvent::AlertFiring { .. }
                    | TimelineEvent::AlertResolved { .. }
                    | TimelineEvent::AlertsResolved
            )
        })
        .collect()
}

#[tokio::test]
async fn a_group_declares_once_and_its_changes_reach_the_timeline() {
    let (app, token) = app().await;
    let r = post(&app, &token, delivery("g1", &[("a", "firing")], "critical")).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert_eq!(r.json()["outcome"], "declared");
    assert_eq!(r.json()["incident"]["number"], "INC-1");
    // A repeat declares nothing and adds nothing.
    let r = post(&app, &token, delivery("g1", &[("a", "firing")], "critical")).await;
    assert_eq!(r.json()["outcome"], "attached");
    assert_eq!(r.json()["timeline_entries"], 0);
    // A new alert joins; then both resolve.
    let r = post(
        &app,
        &token,
        delivery("g1", &[("a", "firing"), ("b", "firing")], "critical"),
    )
    .await;
    assert_eq!(r.json()["timeline_entries"], 1);
    let r = post(
        &app,
        &token,
        delivery("g1", &[("a", "resolved")], "critical"),
    )
    .await;
    assert_eq!(r.json()["timeline_entries"], 1);
    let r = post(
        &app,
        &token,
        delivery("g1", &[("a", "resolved"), ("b", "resolved")], "critical"),
    )
    .await;
    assert_eq!(
        r.json()["timeline_entries"],
        2,
        "b resolved, then all resolved"
    );
    assert_eq!(app.store.count().await.unwrap(), 1);

    let d = app
        .store
        .detail(IncidentRef::Number(muster_core::IncidentNumber(1)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.incident.title.as_str(), "Database down (g1)");
    assert_eq!(d.incident.severity, "SEV1");
    assert_eq!(d.incident.declared_by, "alertmanager");
    assert!(d.roles.is_empty(), "nobody declared it: {:?}", d.roles);
    assert_eq!(
        d.resource(ResourceKind::Alert)
            .and_then(|r| r.url.as_deref()),
        Some("http://prometheus:9090/graph?g0.expr=up")
    );
    let name = |n: &str| n.to_owned();
    assert_eq!(
        alert_events(&d),
        vec![
            TimelineEvent::AlertFiring {
                name: name("DBDown")
            },
            TimelineEvent::AlertFiring {
                name: name("DBDown")
            },
            TimelineEvent::AlertResolved {
                name: name("DBDown")
            },
            TimelineEvent::AlertResolved {
                name: name("DBDown")
            },
            TimelineEvent::AlertsResolved,
        ]
    );
    // Nothing is closed automatically.
    assert_eq!(
        d.incident.status,
        app.state.engine().config().initial_status
    );
    // Every delivery was kept.
    let kept = app
        .store
        .alert_deliveries("alertmanager", "g1")
        .await
        .unwrap();
    assert_eq!(kept.len(), 5);
}

#[tokio::test]
async fn a_closed_incident_lets_its_group_declare_again() {
    let (app, token) = app().await;
    post(&app, &token, delivery("g", &[("a", "firing")], "critical")).await;
    let e = app.state.engine();
    e.resolve(IncidentRef::Number(muster_core::IncidentNumber(1)), "ann")
        .await
        .unwrap();
    // Resolved, not closed: still the group's incident.
    let r = post(&app, &token, delivery("g", &[("a", "firing")], "critical")).await;
    assert_eq!(r.json()["incident"]["number"], "INC-1");
    e.close(IncidentRef::Number(muster_core::IncidentNumber(1)), "ann")
        .await
        .unwrap();
    let r = post(&app, &token, delivery("g", &[("a", "firing")], "critical")).await;
    assert_eq!(r.json()["outcome"], "declared");
    assert_eq!(r.json()["incident"]["number"], "INC-2");
}

#[tokio::test]
async fn unmapped_severities_and_resolved_only_groups_are_recorded_not_declared() {
    let (app, token) = app().await;
    let r = post(&app, &token, delivery("g", &[("a", "firing")], "info")).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    assert_eq!(r.json(), json!({"outcome": "recorded", "action": "record"}));
    let r = post(
        &app,
        &token,
        delivery("h", &[("a", "resolved")], "critical"),
    )
    .await;
    assert_eq!(r.json()["outcome"], "recorded");
    assert_eq!(app.store.count().await.unwrap(), 0);
    assert_eq!(
        app.store
            .alert_deliveries("alertmanager", "g")
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn alerts_need_a_token_even_on_loopback_and_a_configuration() {
    let (app, token) = app().await;
    let r = app
        .api(
            "POST",
            "/alerts/alertmanager",
            Some(delivery("g", &[("a", "firing")], "critical")),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["error"]["code"], "token_required");
    let r = app
        .api(
            "POST",
            "/alerts/webhook",
            Some(json!({"dedup_key": "k", "title": "t"})),
            Some("mst_wrong"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.store.count().await.unwrap(), 0);
    let _ = token;
    let bare = TestApp::new("").await;
    let t = muster_server::new_token();
    bare.state
        .engine()
        .create_token("am", &muster_server::hash_token(t.expose()))
        .await
        .unwrap();
    let r = post(
        &bare,
        t.expose(),
        delivery("g", &[("a", "firing")], "critical"),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["error"]["code"], "alerts_not_configured");
}

#[tokio::test]
async fn malformed_and_oversized_payloads_are_4xx_in_the_callers_language() {
    let (app, token) = app().await;
    for (body, code) in [
        (
            json!({"version": "3", "groupKey": "g", "alerts": [{"status": "firing"}]}),
            "wrong_version",
        ),
        (
            json!({"version": "4", "groupKey": "g", "alerts": []}),
            "no_alerts",
        ),
        (json!([1, 2]), "not_json"),
    ] {
        let r = post(&app, &token, body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert_eq!(r.json()["error"]["code"], code);
    }
    let auth = format!("Bearer {token}");
    let r = app
        .api_with(
            "POST",
            "/alerts/alertmanager",
            Some(json!({"version": "9", "groupKey": "g", "alerts": [{"status": "firing"}]})),
            &[("authorization", &auth), ("accept-language", "fr")],
        )
        .await;
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("n'est pas prise en charge")
    );
    // Over 64 KiB is fine for alerts; over 1 MiB is not.
    let mut big = delivery("big", &[("a", "firing")], "critical");
    big["commonAnnotations"]["description"] = "x".repeat(200 * 1024).into();
    assert_eq!(
        post(&app, &token, big.clone()).await.status,
        StatusCode::ACCEPTED
    );
    big["commonAnnotations"]["description"] = "x".repeat(1100 * 1024).into();
    assert_eq!(
        post(&app, &token, big).await.status,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    // The rest of the API keeps its 64 KiB limit.
    let r = app
        .api(
            "POST",
            "/incidents",
            Some(json!({"title": "x".repeat(100 * 1024)})),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn deliveries_are_stored_redacted() {
    let (app, token) = app().await;
    let secret = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";
    let mut d = delivery("g", &[("a", "firing")], "critical");
    d["commonAnnotations"]["description"] = format!("token {secret} leaked").into();
    assert_eq!(post(&app, &token, d).await.status, StatusCode::ACCEPTED);
    let kept = app
        .store
        .alert_deliveries("alertmanager", "g")
        .await
        .unwrap();
    assert!(!kept[0].0.contains(secret), "{}", kept[0].0);
    assert!(kept[0].0.contains("REDACTED"));
}

#[tokio::test]
async fn concurrent_duplicate_deliveries_declare_once() {
    let (app, token) = app().await;
    let mut set = tokio::task::JoinSet::new();
    for i in 0..12 {
        let router = app.router.clone();
        let token = token.clone();
        let body = delivery(&format!("g{}", i % 3), &[("a", "firing")], "critical");
        set.spawn(async move {
            let req = axum::http::Request::post("/api/v1/alerts/alertmanager")
                .header("host", common::BOUND)
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json")
                .body(axum::body::Body::from(body.to_string()))
                .unwrap();
            use tower::ServiceExt;
            router.oneshot(req).await.unwrap().status()
        });
    }
    while let Some(s) = set.join_next().await {
        assert_eq!(s.unwrap(), StatusCode::ACCEPTED);
    }
    assert_eq!(
        app.store.count().await.unwrap(),
        3,
        "one incident per group"
    );
}

#[tokio::test]
async fn the_generic_webhook_declares_and_resolves_by_dedup_key() {
    let (app, token) = app().await;
    let ev = |status: &str| json!({"dedup_key": "uptime-api", "title": "API down", "severity": "critical", "status": status, "source_url": "https://status.example.org/api", "details": {"region": "ca"}});
    let r = app
        .api("POST", "/alerts/webhook", Some(ev("firing")), Some(&token))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert_eq!(r.json()["outcome"], "declared");
    let r = app
        .api(
            "POST",
            "/alerts/webhook",
            Some(ev("resolved")),
            Some(&token),
        )
        .await;
    assert_eq!(r.json()["timeline_entries"], 2);
    let d = app
        .store
        .detail(IncidentRef::Number(muster_core::IncidentNumber(1)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.incident.title.as_str(), "API down");
    assert_eq!(
        alert_events(&d).last(),
        Some(&TimelineEvent::AlertsResolved)
    );
}

#[tokio::test]
async fn grafana_signatures_are_checked_when_configured() {
    use hmac::{Hmac, KeyInit, Mac};
    let mut app = TestApp::new(&format!(
        "{CONFIG}[alerts.grafana]\ntimestamp_header = \"X-Grafana-Alert-Timestamp\"\n"
    ))
    .await;
    let token = muster_server::new_token();
    app.state
        .engine()
        .create_token("grafana", &muster_server::hash_token(token.expose()))
        .await
        .unwrap();
    app.router = muster_server::router(
        app.state
            .clone()
            .with_grafana_secret(muster_core::Secret::new("grafana-hmac-secret")),
    );
    let body = delivery("g", &[("a", "firing")], "critical").to_string();
    let sign = |key: &str, ts: &str| {
        let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key.as_bytes()).unwrap();
        mac.update(format!("{ts}:{body}").as_bytes());
        hex::encode(mac.finalize().into_bytes())
    };
    let auth = format!("Bearer {}", token.expose());
    let post = |sig: String, ts: &'static str| {
        let json: Value = serde_json::from_str(&body).unwrap();
        let auth = auth.clone();
        let app = &app;
        async move {
            app.api_with(
                "POST",
                "/alerts/alertmanager",
                Some(json),
                &[
                    ("authorization", &auth),
                    ("x-grafana-alert-signature", &sig),
                    ("x-grafana-alert-timestamp", ts),
                ],
            )
            .await
        }
    };
    let r = post(sign("wrong-secret", "1700000000"), "1700000000").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["error"]["code"], "bad_signature");
    // Signed for another timestamp than the one sent.
    let r = post(sign("grafana-hmac-secret", "1700000001"), "1700000000").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.store.count().await.unwrap(), 0);
    let r = post(sign("grafana-hmac-secret", "1700000000"), "1700000000").await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
}
