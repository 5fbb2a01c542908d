//! Reminders through the API, the incident page and /metrics.

mod common;

use axum::http::StatusCode;
use common::TestApp;
use serde_json::json;

async fn sev1(app: &TestApp, title: &str, security: bool) {
    let r = app
        .api(
            "POST",
            "/incidents",
            Some(json!({"title": title, "severity": "SEV1", "security": security})),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

#[tokio::test]
async fn the_api_lists_snoozes_and_dismisses_reminders() {
    let app = TestApp::new("").await;
    sev1(&app, "Payments down", false).await;
    let list = app
        .api("GET", "/incidents/INC-1/reminders", None, None)
        .await
        .json();
    let update = &list.as_array().unwrap()[0];
    assert_eq!(update["key"], "status-update");
    assert_eq!(update["kind"], "update");
    assert!(update["due"].is_string());
    let no_commander = &list[1];
    assert_eq!(
        (&no_commander["kind"], &no_commander["role"]),
        (&json!("role"), &json!("commander"))
    );
    assert!(no_commander["due"].is_null(), "the declarer is commander");

    let r = app
        .api(
            "POST",
            "/incidents/INC-1/snooze",
            Some(json!({"duration": "1h"})),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = r.json();
    assert_eq!(v["reminders"][0]["due"], v["until"]);
    assert_eq!(v["reminders"][0]["snoozed_until"], v["until"]);

    for (path, body, code) in [
        (
            "/incidents/INC-1/snooze",
            json!({"duration": "soon"}),
            "bad_duration",
        ),
        (
            "/incidents/INC-1/snooze",
            json!({"duration": "1h", "key": "nope"}),
            "unknown_reminder",
        ),
        (
            "/incidents/INC-1/dismiss",
            json!({"key": "nope"}),
            "unknown_reminder",
        ),
    ] {
        let r = app.api("POST", path, Some(body), None).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert_eq!(r.json()["error"]["code"], code);
    }
    let r = app
        .api(
            "POST",
            "/incidents/INC-1/dismiss",
            Some(json!({"key": "status-update"})),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()[0]["dismissed"], true);
    let d = app.api("GET", "/incidents/INC-1", None, None).await.json();
    let kinds: Vec<&str> = d["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["event"]["kind"].as_str())
        .collect();
    assert!(
        kinds.contains(&"reminder_snoozed") && kinds.contains(&"reminder_dismissed"),
        "{kinds:?}"
    );
}

#[tokio::test]
async fn the_page_says_when_the_next_update_is_due_and_snoozes() {
    let app = TestApp::new("").await;
    sev1(&app, "Payments down", false).await;
    let page = app.get("/incidents/1").await.body;
    assert!(page.contains("next update due in 15 minutes"), "{page}");
    let r = app
        .form("/incidents/1/snooze", &[("duration", "2h"), ("key", "")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = app.get("/incidents/1").await.body;
    assert!(page.contains("next update due in 120 minutes"), "{page}");
    assert!(page.contains("snoozed until"), "{page}");
    // A refused snooze says why on the page.
    let r = app
        .form("/incidents/1/snooze", &[("duration", "forever")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("is not a duration"), "{}", r.body);
    let r = app
        .form("/incidents/1/dismiss", &[("key", "status-update")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = app.get("/incidents/1?lang=fr").await.body;
    assert!(page.contains("écarté"), "{page}");
    assert!(!page.contains("prochain point de situation"), "{page}");
}

#[tokio::test]
async fn overdue_reminders_show_in_red_and_in_metrics_without_security_incidents() {
    let app = TestApp::new("[[reminders]]\nkey = \"status-update\"\nevery = \"1s\"\n").await;
    sev1(&app, "Payments down", false).await;
    sev1(&app, "Leaked keys", true).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let page = app.get("/incidents/1").await.body;
    assert!(page.contains("next-update overdue"), "{page}");
    assert!(page.contains("update overdue by one minute"), "{page}");
    let m = app.get("/metrics").await.body;
    assert!(
        m.contains("muster_reminder_due_seconds{incident=\"INC-1\",reminder=\"status-update\"} -"),
        "{m}"
    );
    assert!(!m.contains("INC-2"), "{m}");
    assert!(m.contains("muster_reminders_overdue 1"), "{m}");
}
