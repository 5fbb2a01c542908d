//! Pages, API, readiness and Slack while the database is locked, read-only or full: a
//! clear answer with a stable code, `Retry-After` where waiting helps, what was typed kept,
//! nothing half-stored, and everything stored before still there.

mod common;

use axum::http::StatusCode;
use common::{Reply, TestApp};
use muster_store::Fault;
use serde_json::json;
use sqlx::Connection;

const LONG: usize = 3000;

/// Declare through the API until the database refuses; returns the refusal and how many
/// were accepted before it (a full database takes writes while free pages last).
async fn declare_until_refused(app: &TestApp, lang: &str) -> (Reply, usize) {
    let mut accepted = 0;
    loop {
        let b = axum::http::Request::post("/api/v1/incidents")
            .header("content-type", "application/json")
            .header("accept-language", lang)
            .body(axum::body::Body::from(
                json!({"title": "During", "description": "d".repeat(LONG)}).to_string(),
            ))
            .unwrap();
        let r = app.send(b).await;
        if r.status != StatusCode::CREATED {
            return (r, accepted);
        }
        accepted += 1;
        assert!(accepted < 20, "the database never refused");
    }
}

/// Every incident is there with its first timeline entries; nothing else.
async fn assert_whole(app: &TestApp, expected: u64) {
    let store = &app.store;
    assert_eq!(store.count().await.unwrap(), expected);
    for n in 1..=expected {
        let d = app
            .state
            .engine()
            .get(format!("INC-{n}").parse().unwrap())
            .await
            .unwrap();
        assert!(!d.timeline.is_empty(), "INC-{n} lost its timeline");
        assert!(!d.roles.is_empty(), "INC-{n} lost its roles");
    }
}

/// Another process holding the write lock (until ROLLBACK on the returned connection).
async fn hold_write_lock(app: &TestApp) -> sqlx::SqliteConnection {
    let mut c = sqlx::SqliteConnection::connect(&app.db_url())
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut c)
        .await
        .unwrap();
    c
}

fn error_of(r: &Reply) -> (String, String) {
    let v = r.json();
    (
        v["error"]["code"].as_str().unwrap().to_owned(),
        v["error"]["message"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn the_api_answers_503_with_a_stable_code_and_retry_after() {
    let (app, switch) = TestApp::with_fault("").await;
    app.declare("Before one").await;
    app.declare("Before two").await;

    switch.set(Fault::ReadOnly);
    let (r, accepted) = declare_until_refused(&app, "en").await;
    assert_eq!(accepted, 0);
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers["retry-after"], "60");
    let (code, message) = error_of(&r);
    assert_eq!(code, "database_read_only");
    assert!(
        message.contains("read-only. Nothing was changed"),
        "{message}"
    );
    let (r, _) = declare_until_refused(&app, "fr").await;
    assert!(error_of(&r).1.contains("lecture seule"), "{}", r.body);
    let r = app
        .api(
            "POST",
            "/incidents/INC-1/timeline",
            Some(json!({"text": "n"})),
            None,
        )
        .await;
    assert_eq!(error_of(&r).0, "database_read_only");
    // Reading still works.
    assert_eq!(
        app.api("GET", "/incidents", None, None).await.status,
        StatusCode::OK
    );

    switch.set(Fault::Full);
    let (r, accepted) = declare_until_refused(&app, "en").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error_of(&r).0, "database_full");
    assert!(r.headers.contains_key("retry-after"));
    switch.set(Fault::None);
    let before = 2 + accepted as u64;
    assert_whole(&app, before).await;

    // Another process holds the write lock past the busy timeout.
    let mut holder = hold_write_lock(&app).await;
    let (r, _) = declare_until_refused(&app, "en").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers["retry-after"], "5");
    assert_eq!(error_of(&r).0, "database_locked");
    sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();

    assert_whole(&app, before).await;
    let d = app.declare("After").await;
    assert_eq!(d["incident"]["number"], before + 1, "no number was used up");
}

#[tokio::test]
async fn the_declare_form_keeps_what_was_typed_when_it_cannot_be_saved() {
    let (app, switch) = TestApp::with_fault("").await;
    switch.set(Fault::ReadOnly);
    let fields = [
        ("title", "Payments <down> in eu-west"),
        (
            "description",
            "Card payments fail since 09:12 & keep failing",
        ),
        ("team", "payments"),
    ];
    let r = app.form("/incidents", &fields).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers["retry-after"], "60");
    assert!(
        r.body.contains("The incident was not declared"),
        "{}",
        r.body
    );
    assert!(r.body.contains("read-only"), "{}", r.body);
    assert!(
        r.body
            .contains("value=\"Payments &lt;down&gt; in eu-west\""),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains("Card payments fail since 09:12 &amp; keep failing")
    );
    assert!(r.body.contains("value=\"payments\""));
    let r = app.form("/incidents?lang=fr", &fields).await;
    assert!(
        r.body.contains("n&#x27;a pas été déclaré") || r.body.contains("n'a pas été déclaré"),
        "{}",
        r.body
    );
    assert_eq!(app.store.count().await.unwrap(), 0);

    // Other pages: a clear page saying the database is in trouble.
    switch.set(Fault::None);
    app.declare("Before").await;
    switch.set(Fault::ReadOnly);
    let r = app
        .form("/incidents/INC-1/notes", &[("text", "a note")])
        .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.body.contains("The database is in trouble"), "{}", r.body);
    assert!(r.headers.contains_key("retry-after"));
    switch.set(Fault::None);
    assert_whole(&app, 1).await;
}

#[tokio::test]
async fn readiness_says_when_the_database_cannot_take_writes_and_why() {
    let (app, switch) = TestApp::with_fault("").await;
    assert_eq!(app.get("/readyz").await.status, StatusCode::OK);
    for (fault, code) in [
        (Fault::ReadOnly, "database_read_only"),
        (Fault::Full, "database_full"),
    ] {
        switch.set(fault);
        let r = app.get("/readyz").await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(r.body.contains(code), "{}", r.body);
        // Liveness is not readiness: the process is fine.
        assert_eq!(app.get("/healthz").await.status, StatusCode::OK);
    }
    switch.set(Fault::None);
    let mut holder = hold_write_lock(&app).await;
    let r = app.get("/readyz").await;
    assert!(r.body.contains("database_locked"), "{}", r.body);
    sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();
    assert_eq!(app.get("/readyz").await.status, StatusCode::OK);
    assert_eq!(app.store.count().await.unwrap(), 0, "probes keep nothing");
}

mod slack {
    use super::*;
    use muster_core::Secret;
    use muster_core::config::Config;
    use muster_engine::{Engine, SystemClock};
    use muster_server::AppState;
    use muster_server::slack::SlackApp;
    use muster_slack::{SlackClient, SlackClientConfig};
    use muster_testkit::signed::payloads;
    use muster_testkit::signed::{SignedRequest, Signer, SlashCommandRequest};
    use muster_testkit::sim::SlackSim;
    use std::sync::Arc;
    use tower::ServiceExt;

    const SIGNING: &str = "0123456789abcdef0123456789abcdef";

    async fn send(router: &axum::Router, req: &SignedRequest) -> serde_json::Value {
        let res = router.clone().oneshot(req.to_http_request()).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let body = http_body_util::BodyExt::collect(res.into_body())
            .await
            .unwrap()
            .to_bytes();
        serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null)
    }

    #[tokio::test]
    async fn a_modal_that_cannot_be_saved_says_nothing_was_declared_and_can_be_sent_again() {
        let sim = SlackSim::start().await;
        sim.add_user("U1ANA", "ana");
        let config = Config::from_toml(&format!(
            "[slack]\napi_base_url = \"{}\"\nlanguages = [\"fr\", \"en\"]\n",
            sim.base_url()
        ))
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let switch = muster_store::FaultSwitch::default();
        let store = muster_store::Store::open_with(
            &format!("sqlite://{}/s.db", dir.path().display()),
            muster_store::StoreOptions::default().fault(switch.clone()),
        )
        .await
        .unwrap();
        let slack = config.slack.clone().unwrap();
        let engine = Engine::new(store.clone(), Arc::new(config), Arc::new(SystemClock))
            .with_chat(Arc::new(muster_slack::provision::SlackPlatform));
        let client =
            SlackClient::new(SlackClientConfig::new(sim.token()).with_base_url(sim.base_url()))
                .unwrap();
        let app = SlackApp::new(client, slack, Secret::new(SIGNING)).unwrap();
        let state = AppState::new(engine, true).with_slack(app);
        let router = muster_server::router(state.clone());
        let signer = Signer::new(Secret::new(SIGNING));
        let now = chrono::Utc::now().timestamp();

        let cmd = SlashCommandRequest::new(
            "/incident",
            "Paiements en panne",
            "U1ANA",
            "C0GENERAL",
            &sim.new_trigger_id(),
        );
        send(&router, &signer.slash_command(&cmd, now)).await;
        let mut views = sim.views();
        for _ in 0..200 {
            if !views.is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            views = sim.views();
        }
        let submission = payloads::view_submission(&views[0], "U1ANA", &[]);

        switch.set(Fault::ReadOnly);
        let v = send(&router, &signer.interaction(&submission, now)).await;
        assert_eq!(v["response_action"], "errors", "{v}");
        let msg = v["errors"]["title"].as_str().unwrap();
        assert!(msg.starts_with("Rien n'a été déclaré."), "{msg}");
        assert!(msg.contains("lecture seule"), "{msg}");
        assert_eq!(store.count().await.unwrap(), 0, "no half-created incident");

        // Once the database takes writes, pressing Submit again (a new request for the
        // same view) declares, once.
        switch.set(Fault::None);
        let v = send(&router, &signer.interaction(&submission, now + 1)).await;
        assert_eq!(v, json!({}));
        let v = send(&router, &signer.interaction(&submission, now + 2)).await;
        assert_eq!(v, json!({}));
        assert_eq!(store.count().await.unwrap(), 1);
        let d = state.engine().get("INC-1".parse().unwrap()).await.unwrap();
        assert!(
            !store.jobs_for(d.incident.id).await.unwrap().is_empty(),
            "its workflow is queued"
        );
    }
}
