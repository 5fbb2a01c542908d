//! Golden payloads (Alertmanager 0.25 and 0.34, Grafana) parsed and decided on.

use muster_core::alert::{AlertError, decide, parse_alertmanager, parse_webhook};
use muster_core::config::{AlertAction, Config};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/alerts/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn config() -> Config {
    Config::from_toml(
        r#"
[alerts.severities]
critical = "SEV1"
warning = "SEV3"
[[alerts.rules]]
match = { grafana_folder = "API" }
action = "suggest"
[[alerts.rules]]
match = { instance = "web-3" }
action = "ignore"
"#,
    )
    .unwrap()
}

#[test]
fn alertmanager_0_34_declares_with_its_summary_team_and_link() {
    let b = parse_alertmanager(&fixture("alertmanager-0.34.json")).unwrap();
    assert_eq!(
        b.group_key,
        "{}/{severity=\"critical\"}:{alertname=\"DBDown\"}"
    );
    assert_eq!(b.alerts.len(), 2);
    assert!(b.alerts.iter().all(|a| a.firing && a.name == "DBDown"));
    assert_ne!(b.alerts[0].fingerprint, b.alerts[1].fingerprint);
    assert_eq!(b.reason.as_deref(), Some("first notification"));
    let c = config();
    let d = decide(&c, c.alerts.as_ref().unwrap(), &b);
    assert_eq!(d.action, AlertAction::Declare);
    assert_eq!(d.severity.as_deref(), Some("SEV1"));
    assert_eq!(d.team.as_deref(), Some("payments"));
    assert_eq!(d.title, "Primary database is down");
    assert_eq!(
        d.link.as_deref(),
        Some("https://prometheus.example.org/graph?g0.expr=up%3D%3D0")
    );
}

#[test]
fn alertmanager_0_25_reads_without_the_newer_fields() {
    let b = parse_alertmanager(&fixture("alertmanager-0.25.json")).unwrap();
    assert_eq!(b.reason, None);
    assert!(!b.any_firing());
    let c = config();
    // First matching rule wins: web-3 is ignored.
    assert_eq!(
        decide(&c, c.alerts.as_ref().unwrap(), &b).action,
        AlertAction::Ignore
    );
    // Without rules, a warning maps to SEV3; the title falls back to the alert name.
    let plain = Config::from_toml("[alerts.severities]\nwarning = \"SEV3\"\n").unwrap();
    let d = decide(&plain, plain.alerts.as_ref().unwrap(), &b);
    assert_eq!(
        (d.action, d.title.as_str()),
        (AlertAction::Declare, "DiskFull")
    );
}

#[test]
fn grafana_is_read_with_its_panel_link() {
    let b = parse_alertmanager(&fixture("grafana.json")).unwrap();
    assert_eq!(
        b.alerts[0].link.as_deref(),
        Some("https://grafana.example.org/d/api?viewPanel=4")
    );
    let c = config();
    let d = decide(&c, c.alerts.as_ref().unwrap(), &b);
    assert_eq!(d.action, AlertAction::Suggest);
    assert_eq!(d.title, "p99 latency above 2 s");
}

#[test]
fn an_unmapped_severity_is_recorded_not_declared() {
    let mut v: serde_json::Value =
        serde_json::from_slice(&fixture("alertmanager-0.34.json")).unwrap();
    v["commonLabels"]["severity"] = "info".into();
    for a in v["alerts"].as_array_mut().unwrap() {
        a["labels"]["severity"] = "info".into();
    }
    let b = parse_alertmanager(v.to_string().as_bytes()).unwrap();
    let c = config();
    let d = decide(&c, c.alerts.as_ref().unwrap(), &b);
    assert_eq!((d.action, d.severity), (AlertAction::Record, None));
}

#[test]
fn malformed_payloads_are_refused_with_a_reason() {
    let cases: [(&str, AlertError); 5] = [
        ("not json", AlertError::NotJson(String::new())),
        (
            r#"{"version":"3","groupKey":"g","alerts":[{"status":"firing"}]}"#,
            AlertError::WrongVersion("3".into()),
        ),
        (
            r#"{"version":"4","groupKey":"g","alerts":[]}"#,
            AlertError::NoAlerts,
        ),
        (
            r#"{"version":"4","alerts":[{"status":"firing"}]}"#,
            AlertError::Missing("groupKey"),
        ),
        (
            r#"{"version":"4","groupKey":"g","alerts":[{"status":"burning"}]}"#,
            AlertError::BadStatus("burning".into()),
        ),
    ];
    for (body, want) in cases {
        let got = parse_alertmanager(body.as_bytes()).unwrap_err();
        assert_eq!(got.code(), want.code(), "{body}");
    }
}

#[test]
fn the_generic_event_maps_like_a_label() {
    let b = parse_webhook(
        br#"{"dedup_key":"uptime-api","title":"API is down","severity":"critical","status":"firing","source_url":"https://status.example.org/api","details":{"checks":3}}"#,
        "severity",
    )
    .unwrap();
    let c = config();
    let d = decide(&c, c.alerts.as_ref().unwrap(), &b);
    assert_eq!(d.severity.as_deref(), Some("SEV1"));
    assert_eq!(d.title, "API is down");
    assert_eq!(d.link.as_deref(), Some("https://status.example.org/api"));
    assert_eq!(b.group_key, "uptime-api");
    assert!(parse_webhook(br#"{"title":"x"}"#, "severity").is_err());
    assert!(
        parse_webhook(
            br#"{"dedup_key":"k","title":"x","status":"up"}"#,
            "severity"
        )
        .is_err()
    );
}
