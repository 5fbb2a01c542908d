//! The REST API, through the real router.

mod common;

use axum::http::StatusCode;
use common::TestApp;
use serde_json::json;

#[tokio::test]
async fn every_lifecycle_operation_over_json() {
    let app = TestApp::new("").await;
    let r = app
        .api("POST", "/incidents", Some(json!({"title": "API outage", "severity": "SEV2", "team": "core", "description": "5xx everywhere"})), None)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.headers["location"], "/api/v1/incidents/INC-1");
    let d = r.json();
    assert_eq!(d["incident"]["number"], 1);
    assert_eq!(d["roles"][0]["person"], "api");
    let id = d["incident"]["id"].as_str().unwrap().to_owned();

    let steps: Vec<(&str, String, Option<serde_json::Value>, StatusCode)> = vec![
        (
            "POST",
            "/incidents/INC-1/status".into(),
            Some(json!({"status": "In Progress"})),
            StatusCode::OK,
        ),
        (
            "POST",
            "/incidents/1/severity".into(),
            Some(json!({"severity": "SEV1"})),
            StatusCode::OK,
        ),
        (
            "POST",
            format!("/incidents/{id}/roles"),
            Some(json!({"role": "comms", "person": "kim"})),
            StatusCode::OK,
        ),
        (
            "POST",
            "/incidents/INC-1/timeline".into(),
            Some(json!({"text": "Failed over", "at": "00:00"})),
            StatusCode::CREATED,
        ),
        (
            "POST",
            "/incidents/INC-1/updates".into(),
            Some(json!({"text": "Failover complete"})),
            StatusCode::CREATED,
        ),
        (
            "POST",
            "/incidents/INC-1/actions".into(),
            Some(
                json!({"text": "Chaos test failover", "type": "Prevent", "priority": "P2", "owner": "kim", "link": "https://example.org/i/1"}),
            ),
            StatusCode::CREATED,
        ),
        (
            "POST",
            "/incidents/INC-1/actions/1/done".into(),
            None,
            StatusCode::OK,
        ),
        (
            "POST",
            "/incidents/INC-1/impact".into(),
            Some(json!({"started": "2026-11-26 09:50", "detected": "2026-11-26 09:55"})),
            StatusCode::OK,
        ),
        (
            "PATCH",
            "/incidents/INC-1".into(),
            Some(json!({"narrative": {"root-causes": "A full disk", "summary": "Short"}})),
            StatusCode::OK,
        ),
        (
            "POST",
            "/incidents/INC-1/resolve".into(),
            None,
            StatusCode::OK,
        ),
        (
            "POST",
            "/incidents/INC-1/close".into(),
            None,
            StatusCode::OK,
        ),
    ];
    for (method, path, body, status) in steps {
        let r = app.api(method, &path, body, None).await;
        assert_eq!(r.status, status, "{method} {path}: {}", r.body);
    }
    let d = app.api("GET", "/incidents/INC-1", None, None).await.json();
    assert_eq!(d["incident"]["status"], "Closed");
    assert_eq!(d["incident"]["severity"], "SEV1");
    assert_eq!(d["incident"]["narrative"]["root_causes"], "A full disk");
    assert!(d["actions"][0]["done_at"].is_string());
    assert_eq!(d["updates"][0]["text"], "Failover complete");
    assert!(
        d["roles"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["role"] == "comms" && r["person"] == "kim")
    );

    let md = app.api("GET", "/incidents/INC-1/report", None, None).await;
    assert_eq!(md.headers["content-type"], "text/markdown; charset=utf-8");
    assert!(md.body.contains("A full disk"));
    let html = app
        .api(
            "GET",
            "/incidents/INC-1/report?format=html&lang=fr",
            None,
            None,
        )
        .await;
    assert!(html.body.starts_with("<!doctype html>") && html.body.contains("<html lang=\"fr\">"));
}

#[tokio::test]
async fn errors_are_json_with_stable_codes() {
    let app = TestApp::new("").await;
    app.declare("Thing").await;
    let cases: Vec<(&str, &str, Option<serde_json::Value>, StatusCode, &str)> = vec![
        (
            "GET",
            "/incidents/INC-42",
            None,
            StatusCode::NOT_FOUND,
            "incident_not_found",
        ),
        (
            "GET",
            "/incidents/zzz",
            None,
            StatusCode::NOT_FOUND,
            "bad_incident_ref",
        ),
        (
            "POST",
            "/incidents",
            Some(json!({"title": ""})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "title_empty",
        ),
        (
            "POST",
            "/incidents",
            Some(json!({"title": "x", "severity": "SEV7"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_severity",
        ),
        (
            "POST",
            "/incidents",
            Some(json!({"titel": "x"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_request_body",
        ),
        (
            "POST",
            "/incidents/INC-1/status",
            Some(json!({"status": "Reviewed"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "transition_not_allowed",
        ),
        (
            "POST",
            "/incidents/INC-1/roles",
            Some(json!({"role": "pilot", "person": "x"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_role",
        ),
        (
            "POST",
            "/incidents/INC-1/actions",
            Some(json!({"text": "x", "type": "Fix", "priority": "P1"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_action_type",
        ),
        (
            "POST",
            "/incidents/INC-1/actions/7/done",
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "action_not_found",
        ),
        (
            "POST",
            "/incidents/INC-1/impact",
            Some(json!({})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "nothing_to_change",
        ),
        (
            "PATCH",
            "/incidents/INC-1",
            Some(json!({"narrative": {"mood": "x"}})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_field",
        ),
        (
            "GET",
            "/incidents/INC-1/report?format=pdf",
            None,
            StatusCode::BAD_REQUEST,
            "bad_format",
        ),
        (
            "GET",
            "/incidents?per_page=x",
            None,
            StatusCode::BAD_REQUEST,
            "bad_query",
        ),
        (
            "GET",
            "/incidents?status=Nope",
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_status",
        ),
        (
            "GET",
            "/nowhere",
            None,
            StatusCode::NOT_FOUND,
            "no_such_route",
        ),
    ];
    for (method, path, body, status, code) in cases {
        let r = app.api(method, path, body, None).await;
        assert_eq!(r.status, status, "{method} {path}: {}", r.body);
        let v = r.json();
        assert_eq!(v["error"]["code"], code, "{method} {path}");
        assert!(v["error"]["message"].as_str().unwrap().len() > 5);
    }
    // Malformed JSON and a wrong content type.
    let r = app
        .send(
            axum::http::Request::post("/api/v1/incidents")
                .header("content-type", "application/json")
                .body(axum::body::Body::from("{not json"))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"]["code"], "bad_request_body");
    // Messages follow the language asked for.
    let r = app
        .send(
            axum::http::Request::get("/api/v1/incidents/INC-42")
                .header("accept-language", "fr")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Aucun incident")
    );
    let d = app.api("GET", "/incidents/INC-1", None, None).await.json();
    assert_eq!(
        d["timeline"].as_array().unwrap().len(),
        5,
        "refused calls appended nothing"
    );
}

#[tokio::test]
async fn listing_filters_and_paginates() {
    let app = TestApp::new("").await;
    for k in 0..12 {
        let sev = if k % 3 == 0 { "SEV1" } else { "SEV3" };
        let r = app
            .api(
                "POST",
                "/incidents",
                Some(json!({"title": format!("case {k}"), "severity": sev, "team": "ops"})),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let p = app
        .api("GET", "/incidents?per_page=5&page=3", None, None)
        .await
        .json();
    assert_eq!(
        (
            p["total"].as_u64(),
            p["incidents"].as_array().unwrap().len()
        ),
        (Some(12), 2)
    );
    assert_eq!(p["incidents"][0]["number"], 2);
    let p = app
        .api("GET", "/incidents?severity=sev1", None, None)
        .await
        .json();
    assert_eq!(p["total"], 4);
    let p = app
        .api("GET", "/incidents?q=case%2011", None, None)
        .await
        .json();
    assert_eq!(p["total"], 1);
}

#[tokio::test]
async fn bearer_tokens() {
    let app = TestApp::new("[server]\nrequire_api_token = true\n").await;
    let r = app.api("GET", "/incidents", None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["error"]["code"], "token_required");
    let token = muster_server::new_token();
    let store = &app.store;
    let now = app.state.engine().now();
    assert!(
        store
            .create_token(
                "deploy-bot",
                &muster_server::hash_token(token.expose()),
                now
            )
            .await
            .unwrap()
    );
    assert!(
        !store
            .create_token("deploy-bot", "other", now)
            .await
            .unwrap(),
        "names are unique"
    );
    let r = app
        .api(
            "POST",
            "/incidents",
            Some(json!({"title": "From a bot"})),
            Some(token.expose()),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(
        r.json()["incident"]["declared_by"],
        "deploy-bot",
        "the token names the author"
    );
    let r = app.api("GET", "/incidents", None, Some("mst_wrong")).await;
    assert_eq!(r.json()["error"]["code"], "invalid_token");
    assert!(store.revoke_token("deploy-bot", now).await.unwrap());
    let r = app
        .api("GET", "/incidents", None, Some(token.expose()))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // Off loopback, tokens are required whatever the setting.
    let app = TestApp::with_loopback("[server]\nproxy_user_header = \"X-User\"\n", false).await;
    assert_eq!(
        app.api("GET", "/incidents", None, None).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn openapi_describes_exactly_what_is_served() {
    let app = TestApp::new("").await;
    let doc = app.api("GET", "/openapi.json", None, None).await.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let documented = muster_server::documented_routes();
    let count: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(count, documented.len());
    app.declare("probe").await;
    for (method, path) in documented {
        assert!(
            paths[path][method].is_object(),
            "{method} {path} missing from the document"
        );
        let concrete = path.replace("{id}", "INC-1").replace("{number}", "1");
        let r = app.api(&method.to_uppercase(), &concrete, None, None).await;
        // Served: whatever the answer, it is not the router's "no such route" or 405.
        assert_ne!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        if r.status == StatusCode::NOT_FOUND {
            assert_ne!(
                r.json()["error"]["code"],
                "no_such_route",
                "{method} {path}"
            );
        }
        // Every $ref resolves.
        for body in [
            &paths[path][method]["requestBody"],
            &paths[path][method]["responses"],
        ] {
            for r in find_refs(body) {
                let name = r.trim_start_matches("#/components/schemas/");
                assert!(
                    doc["components"]["schemas"][name].is_object(),
                    "dangling {r}"
                );
            }
        }
    }
}

fn find_refs(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::Object(m) => m
            .iter()
            .flat_map(|(k, v)| {
                if k == "$ref" {
                    vec![v.as_str().unwrap().to_owned()]
                } else {
                    find_refs(v)
                }
            })
            .collect(),
        serde_json::Value::Array(a) => a.iter().flat_map(find_refs).collect(),
        _ => vec![],
    }
}

#[tokio::test]
async fn a_refused_declaration_names_every_field_at_fault() {
    let app = TestApp::new("[[teams]]\nkey = \"payments\"\nname = \"Payments\"\n").await;
    let r = app
        .api(
            "POST",
            "/incidents",
            Some(json!({
                "title": "!!!",
                "severity": "SEV9",
                "team": "nope",
                "description": "x".repeat(5000),
            })),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let v = r.json();
    // The first problem is the answer's code and message, as for one bad field…
    assert_eq!(v["error"]["code"], "title_no_letters");
    // …and every field's problem is listed, keyed as the request names the fields.
    let fields = v["error"]["fields"].as_object().unwrap();
    let mut keys: Vec<&str> = fields.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["description", "severity", "team", "title"]);
    assert!(fields["severity"].as_str().unwrap().contains("SEV9"));
    assert_eq!(app.store.count().await.unwrap(), 0, "nothing half-created");
}

/// The newest timeline entry of an incident in a reply.
fn last_entry(r: &common::Reply) -> serde_json::Value {
    r.json()["timeline"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone()
}

async fn with_token(app: &TestApp, name: &str) -> String {
    let token = muster_server::new_token();
    let now = chrono::Utc::now();
    assert!(
        app.store
            .create_token(name, &muster_server::hash_token(token.expose()), now)
            .await
            .unwrap()
    );
    token.expose().to_owned()
}

#[tokio::test]
async fn bearer_is_any_case_and_every_401_challenges() {
    let app = TestApp::new("[server]\nrequire_api_token = true\n").await;
    let token = with_token(&app, "deploy-bot").await;
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let auth = format!("{scheme} {token}");
        let r = app
            .api_with("GET", "/incidents", None, &[("authorization", &auth)])
            .await;
        assert_eq!(r.status, StatusCode::OK, "{scheme}");
    }
    let r = app.api("GET", "/incidents", None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.headers["www-authenticate"], "Bearer realm=\"muster\"");
    let r = app.api("GET", "/incidents", None, Some("mst_wrong")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.headers["www-authenticate"],
        "Bearer realm=\"muster\", error=\"invalid_token\""
    );
    // The use is noted.
    let listed = app.state.engine().list_tokens().await.unwrap();
    assert!(listed[0].last_used_at.is_some(), "{listed:?}");
}

#[tokio::test]
async fn callers_acting_for_someone_are_recorded_with_the_token() {
    let app = TestApp::new("").await;
    let token = with_token(&app, "deploy-bot").await;
    let auth = format!("Bearer {token}");
    let r = app
        .api_with(
            "POST",
            "/incidents",
            Some(json!({"title": "From CI", "by": "carol"})),
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        r.json()["incident"]["declared_by"],
        "carol (via deploy-bot)"
    );
    let r = app
        .api_with(
            "POST",
            "/incidents/INC-1/timeline",
            Some(json!({"text": "rolled back"})),
            &[
                ("authorization", &auth),
                ("x-muster-acting-for", "Zo%C3%AB"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let last = last_entry(&r);
    assert_eq!(last["author"], "Zoë (via deploy-bot)", "{last}");
    // Without a token on loopback, the name given is recorded as is.
    let r = app
        .api_with(
            "POST",
            "/incidents/INC-1/resolve",
            None,
            &[("x-muster-acting-for", "dave")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let last = last_entry(&r);
    assert_eq!(last["author"], "dave", "{last}");
}

/// Errors the router, the body limit and the path extractors answer, not only handlers:
/// each is `{"error": {"code", "message"}}` in the asker's language, with the status kept.
#[tokio::test]
async fn every_error_is_json_in_the_documented_shape() {
    let app = TestApp::new("").await;
    app.declare("Thing").await;
    let big = json!({"title": "x", "description": "y".repeat(muster_server::MAX_BODY_BYTES)});
    let cases: Vec<(&str, &str, Option<serde_json::Value>, StatusCode, &str)> = vec![
        (
            "POST",
            "/incidents",
            Some(big),
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
        ),
        (
            "DELETE",
            "/incidents/INC-1",
            None,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            "PUT",
            "/incidents",
            None,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            "GET",
            "/incidents/%ZZ",
            None,
            StatusCode::BAD_REQUEST,
            "bad_path",
        ),
        (
            "GET",
            "/incidents/%FF",
            None,
            StatusCode::BAD_REQUEST,
            "bad_path",
        ),
        (
            "POST",
            "/incidents/INC-1/actions/first/done",
            None,
            StatusCode::BAD_REQUEST,
            "bad_path",
        ),
        (
            "POST",
            "/incidents/INC-1/actions/99999999999999999999/done",
            None,
            StatusCode::BAD_REQUEST,
            "bad_path",
        ),
    ];
    for (method, path, body, status, code) in cases {
        for (lang, word) in [("en", "the"), ("fr", "le")] {
            let mut b = axum::http::Request::builder()
                .method(method)
                .uri(format!("/api/v1{path}"))
                .header("accept-language", lang);
            let body = match &body {
                // As real clients send it: with its length, which the body limit refuses
                // before any handler runs.
                Some(v) => {
                    let text = v.to_string();
                    b = b
                        .header("content-type", "application/json")
                        .header("content-length", text.len());
                    axum::body::Body::from(text)
                }
                None => axum::body::Body::empty(),
            };
            let r = app.send(b.body(body).unwrap()).await;
            assert_eq!(r.status, status, "{method} {path}: {}", r.body);
            assert!(
                r.headers["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("application/json"),
                "{method} {path}"
            );
            let v = r.json();
            assert_eq!(v["error"]["code"], code, "{method} {path}");
            let message = v["error"]["message"].as_str().unwrap();
            assert!(message.to_lowercase().contains(word), "{lang}: {message}");
        }
    }
    // The body limit names the limits people can act on, also when the body comes without
    // a length and is cut off while read.
    let r = app
        .api(
            "POST",
            "/incidents",
            Some(json!({"title": "x".repeat(70_000)})),
            None,
        )
        .await;
    let message = r.json()["error"]["message"].as_str().unwrap().to_owned();
    for n in [
        muster_server::MAX_BODY_BYTES,
        muster_core::title::MAX_TITLE_CHARS,
        muster_core::incident::MAX_TEXT_CHARS,
    ] {
        assert!(message.contains(&n.to_string()), "{message}");
    }
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.json()["error"]["code"], "body_too_large");
    // 405 still says which methods are allowed.
    let r = app.api("DELETE", "/incidents/INC-1", None, None).await;
    assert!(r.headers.contains_key("allow"), "{:?}", r.headers);
    // The document says so.
    let doc = app.api("GET", "/openapi.json", None, None).await.json();
    let declare = &doc["paths"]["/incidents"]["post"]["responses"];
    for code in ["400", "413", "422"] {
        assert_eq!(
            declare[code]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/Error",
            "{code}"
        );
    }
    assert!(
        doc["paths"]["/incidents/{id}/actions/{number}/done"]["post"]["responses"]["400"]
            .is_object()
    );
}

async fn declare_with_key(
    app: &TestApp,
    key: &str,
    title: &str,
    token: Option<&str>,
) -> common::Reply {
    let mut b = axum::http::Request::post("/api/v1/incidents")
        .header("content-type", "application/json")
        .header("idempotency-key", key);
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    app.send(
        b.body(axum::body::Body::from(json!({"title": title}).to_string()))
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn an_idempotency_key_declares_once() {
    let app = TestApp::new("").await;
    let first = declare_with_key(&app, "retry-7f3a", "Queue stuck", None).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    // The repeat (a retry after a lost answer, or another body): 200, the same incident.
    let again = declare_with_key(&app, "retry-7f3a", "Something else", None).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.location(), first.location());
    assert_eq!(
        again.json()["incident"]["id"],
        first.json()["incident"]["id"]
    );
    assert_eq!(again.json()["incident"]["title"], "Queue stuck");
    assert_eq!(app.store.count().await.unwrap(), 1);
    // Keys are per client: the same key from a token is another declaration.
    let token = muster_server::new_token();
    let hash = muster_server::hash_token(token.expose());
    let now = app.state.engine().now();
    assert!(
        app.store
            .create_token("deploy-bot", &hash, now)
            .await
            .unwrap()
    );
    let other = declare_with_key(&app, "retry-7f3a", "Queue stuck", Some(token.expose())).await;
    assert_eq!(other.status, StatusCode::CREATED, "{}", other.body);
    assert_eq!(app.store.count().await.unwrap(), 2);
    // A refused declaration keeps no key: the corrected retry declares.
    let r = declare_with_key(&app, "k2", "", None).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        declare_with_key(&app, "k2", "Fixed", None).await.status,
        StatusCode::CREATED
    );
    // A key that is not one.
    for bad in ["", &"k".repeat(201), "two words"] {
        let r = declare_with_key(&app, bad, "x", None).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad:?}");
        assert_eq!(r.json()["error"]["code"], "bad_idempotency_key");
    }
    // Documented.
    let doc = app.api("GET", "/openapi.json", None, None).await.json();
    let op = &doc["paths"]["/incidents"]["post"];
    assert!(op["responses"]["200"].is_object() && op["responses"]["201"].is_object());
    assert!(
        op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "Idempotency-Key")
    );
}
