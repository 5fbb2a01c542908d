//! The web pages, through the real router.

mod common;

use axum::http::StatusCode;
use common::TestApp;

#[tokio::test]
async fn operations_endpoints() {
    let app = TestApp::new("").await;
    let r = app.get("/healthz").await;
    assert_eq!((r.status, r.body.as_str()), (StatusCode::OK, "ok\n"));
    assert_eq!(app.get("/readyz").await.status, StatusCode::OK);
    app.declare("Counted").await;
    let m = app.get("/metrics").await;
    assert!(
        m.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    assert!(
        m.body
            .contains("muster_incidents{status=\"Open\",severity=\"SEV3\"} 1"),
        "{}",
        m.body
    );
    // A security incident neither labels nor moves any series: its existence is private.
    app.api(
        "POST",
        "/incidents",
        Some(serde_json::json!({"title": "Leaked keys", "security": true, "severity": "SEV3"})),
        None,
    )
    .await;
    let after = app.get("/metrics").await.body;
    assert!(!after.contains("security="), "{after}");
    assert!(
        after.contains("muster_incidents{status=\"Open\",severity=\"SEV3\"} 1"),
        "{after}"
    );
    assert!(m.body.contains("muster_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",status=\"2xx\",le=\"0.001\"}"), "{}", m.body);
    assert!(
        m.body
            .contains("muster_workflow_steps{state=\"pending\"} 0"),
        "{}",
        m.body
    );
    app.store.close().await;
    assert_eq!(
        app.get("/readyz").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn every_page_sets_security_headers_and_a_csrf_cookie() {
    let app = TestApp::new("").await;
    for path in ["/incidents", "/incidents/new", "/stats", "/healthz"] {
        let r = app.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        let csp = r.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'none'"), "{path}");
        assert_eq!(r.headers["x-content-type-options"], "nosniff");
        assert_eq!(r.headers["x-frame-options"], "DENY");
    }
    let r = app.get("/incidents/new").await;
    let cookie = r.headers["set-cookie"].to_str().unwrap();
    assert!(
        cookie.starts_with("muster_csrf=")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
    );
    // The form carries a signature of the cookie's nonce, not the nonce itself.
    let nonce = &cookie["muster_csrf=".len().."muster_csrf=".len() + 32];
    assert!(!r.body.contains(&format!("value=\"{nonce}\"")));
    assert!(r.body.contains("name=\"csrf\" value=\""));
    let css = app.get("/assets/style.css").await;
    assert_eq!(css.headers["content-type"], "text/css; charset=utf-8");
    assert_eq!(app.get("/").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn forms_without_a_matching_csrf_token_are_refused() {
    let app = TestApp::new("").await;
    let (cookie, field) = app.csrf().await;
    let r = app.form_raw("/incidents", &[("title", "x")], None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .form_raw(
            "/incidents",
            &[("title", "x"), ("csrf", "ffffffffffffffffffffffffffffffff")],
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .form_raw("/incidents", &[("title", "x")], Some(&cookie))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A pair someone chose (the old double-submit accepted any equal pair).
    let chosen = "0123456789abcdef0123456789abcdef";
    let r = app
        .form_raw(
            "/incidents",
            &[("title", "x"), ("csrf", chosen)],
            Some(chosen),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A real token with another cookie.
    let r = app
        .form_raw(
            "/incidents",
            &[("title", "x"), ("csrf", &field)],
            Some(chosen),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(app.store.count().await.unwrap(), 0);
    // The genuine pair passes.
    let r = app
        .form_raw(
            "/incidents",
            &[("title", "Real one"), ("csrf", &field)],
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}

#[tokio::test]
async fn cross_site_forms_are_refused_even_with_a_valid_token() {
    let app = TestApp::new("").await;
    for headers in [
        &[("origin", "https://evil.example")][..],
        &[("origin", "null")][..],
        &[("sec-fetch-site", "cross-site")][..],
    ] {
        let r = app
            .form_with("/incidents", &[("title", "x")], headers)
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{headers:?}");
    }
    assert_eq!(app.store.count().await.unwrap(), 0);
    let same = [
        ("origin", "http://127.0.0.1:8080"),
        ("sec-fetch-site", "same-origin"),
    ];
    let r = app
        .form_with("/incidents", &[("title", "Ours")], &same)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}

#[tokio::test]
async fn over_tls_the_csrf_cookie_is_host_prefixed_and_secure() {
    let app = TestApp::new("[server]\npublic_url = \"https://muster.example.org\"\n").await;
    let r = app.get("/incidents/new").await;
    let cookie = r.headers["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("__Host-muster_csrf="), "{cookie}");
    assert!(cookie.contains("; Secure") && cookie.contains("Path=/") && !cookie.contains("Domain"));
    let r = app.form("/incidents", &[("title", "Over TLS")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}

#[tokio::test]
async fn pages_answer_only_to_known_host_names() {
    let app = TestApp::new("[server]\nallowed_hosts = [\"muster.internal\"]\n").await;
    for host in [
        "127.0.0.1:8080",
        "localhost:8080",
        "[::1]:8080",
        "muster.internal",
        "muster.internal:8443",
    ] {
        assert_eq!(
            app.get_with("/incidents", &[("host", host)]).await.status,
            StatusCode::OK,
            "{host}"
        );
    }
    for host in [
        "evil.example",
        "evil.example:8080",
        "localhost:9999",
        "127.0.0.1",
    ] {
        let r = app.get_with("/incidents", &[("host", host)]).await;
        assert_eq!(r.status, StatusCode::MISDIRECTED_REQUEST, "{host}");
        assert!(
            r.body.contains("Muster") && r.body.contains("lang=\"fr\""),
            "{}",
            r.body
        );
        let r = app
            .api_with("GET", "/incidents", None, &[("host", host)])
            .await;
        assert_eq!(r.status, StatusCode::MISDIRECTED_REQUEST, "{host}");
        assert_eq!(r.json()["error"]["code"], "misdirected_request");
    }
    // A rebinding page cannot declare either.
    let r = app
        .form_with("/incidents", &[("title", "x")], &[("host", "evil.example")])
        .await;
    assert_eq!(r.status, StatusCode::MISDIRECTED_REQUEST);
    let r = app
        .api_with(
            "POST",
            "/incidents",
            Some(serde_json::json!({"title": "x"})),
            &[("host", "evil.example")],
        )
        .await;
    assert_eq!(r.status, StatusCode::MISDIRECTED_REQUEST);
    assert_eq!(app.store.count().await.unwrap(), 0);
    // No Host at all: refused.
    let r = app
        .send_raw(
            axum::http::Request::get("/incidents")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::MISDIRECTED_REQUEST);
    // Probes and Slack are not browsers' business: any host.
    for path in ["/healthz", "/readyz", "/metrics"] {
        assert_eq!(
            app.get_with(path, &[("host", "10.1.2.3:8080")])
                .await
                .status,
            StatusCode::OK,
            "{path}"
        );
    }
}

/// Declare a security incident through the API, untokened on loopback.
async fn declare_security(app: &TestApp, title: &str) {
    let body = serde_json::json!({"title": title, "security": true});
    let r = app.api("POST", "/incidents", Some(body), None).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

/// The status a page answers to the user a proxy names.
async fn as_user(app: &TestApp, path: &str, user: &str) -> StatusCode {
    app.get_with(path, &[("x-remote-user", user)]).await.status
}

#[tokio::test]
async fn the_proxy_header_is_believed_only_from_trusted_proxies() {
    let config = "[server]\nproxy_user_header = \"X-Remote-User\"\ntrusted_proxies = [\"10.0.0.0/8\"]\nsecurity_viewers = [\"sec-lead\"]\n";
    let mut app = TestApp::with_loopback(config, false).await;
    app.peer = Some("10.0.0.9:50000".parse().unwrap());
    app.state
        .engine()
        .declare(muster_engine::Declaration {
            title: "Leaked keys".into(),
            security: true,
            by: "sec-lead".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let seen = as_user(&app, "/incidents/INC-1", "sec-lead").await;
    assert_eq!(seen, StatusCode::OK);
    // The same header from elsewhere is ignored: anonymous, so refused off loopback.
    for peer in [Some("192.168.1.5:50000"), Some("127.0.0.1:50000"), None] {
        app.peer = peer.map(|p| p.parse().unwrap());
        let r = as_user(&app, "/incidents/INC-1", "sec-lead").await;
        assert_eq!(r, StatusCode::UNAUTHORIZED, "{peer:?}");
    }
    // On loopback the request is anonymous: it sees no security incident.
    let mut app = TestApp::new(config).await;
    declare_security(&app, "Leaked keys").await;
    app.peer = Some("192.168.1.5:50000".parse().unwrap());
    let r = as_user(&app, "/incidents/INC-1", "sec-lead").await;
    assert_eq!(r, StatusCode::NOT_FOUND);
    // Without trusted_proxies, loopback peers are trusted.
    let mut app =
        TestApp::with_loopback("[server]\nproxy_user_header = \"X-Remote-User\"\n", false).await;
    app.peer = Some("127.0.0.1:40000".parse().unwrap());
    assert_eq!(as_user(&app, "/incidents", "ana").await, StatusCode::OK);
    app.peer = Some("10.0.0.9:40000".parse().unwrap());
    assert_eq!(
        as_user(&app, "/incidents", "ana").await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn viewer_names_match_security_viewers_exactly() {
    let mut app = TestApp::new(
        "[server]\nproxy_user_header = \"X-Remote-User\"\nsecurity_viewers = [\"SEC-ALICE\"]\n",
    )
    .await;
    app.peer = Some("127.0.0.1:40000".parse().unwrap());
    declare_security(&app, "Leaked keys").await;
    assert_eq!(
        as_user(&app, "/incidents/INC-1", "SEC-ALICE").await,
        StatusCode::OK
    );
    assert_eq!(
        as_user(&app, "/incidents/INC-1", "sec-alice").await,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn on_loopback_people_name_themselves_once_and_are_recorded() {
    let app = TestApp::new("[server]\nsecurity_viewers = [\"carol\"]\n").await;
    let page = app.get("/incidents").await;
    assert!(
        page.body.contains("href=\"/name\""),
        "the header asks for a name"
    );
    let r = app.form("/name", &[("name", "Zoë Carol")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let set = r.headers["set-cookie"].to_str().unwrap().to_owned();
    assert!(set.starts_with("muster_name=Zo%C3%AB%20Carol;"), "{set}");
    let cookie = set.split(';').next().unwrap().to_owned();
    let page = app.get_with("/incidents", &[("cookie", &cookie)]).await;
    assert!(page.body.contains("Zoë Carol"), "shown in the header");
    let r = app
        .form_with("/incidents", &[("title", "Named")], &[("cookie", &cookie)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let d = app.api("GET", "/incidents/INC-1", None, None).await.json();
    assert_eq!(d["timeline"][0]["author"], "Zoë Carol", "{d}");
    let r = app
        .form_with(
            "/incidents/INC-1/notes",
            &[("text", "looking")],
            &[("cookie", &cookie)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let d = app.api("GET", "/incidents/INC-1", None, None).await.json();
    assert!(
        d["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["author"] == "Zoë Carol" && e["event"].to_string().contains("looking")),
        "{d}"
    );
    // A name people give themselves never opens security incidents.
    declare_security(&app, "Secret").await;
    let carol = app
        .get_with("/incidents/INC-2", &[("cookie", "muster_name=carol")])
        .await;
    assert_eq!(carol.status, StatusCode::NOT_FOUND);
}
#[tokio::test]
async fn declaring_through_the_form_validates_like_the_cli() {
    let app = TestApp::new("").await;
    let r = app
        .form(
            "/incidents",
            &[
                ("title", "   "),
                ("severity", "SEV2"),
                ("description", "kept"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"title-error\""), "{}", r.body);
    assert!(r.body.contains("The title is empty"));
    assert!(r.body.contains("aria-invalid=\"true\""));
    assert!(r.body.contains(">kept</textarea>"), "typed values are kept");
    let r = app
        .form("/incidents", &[("title", "x"), ("severity", "SEV9")])
        .await;
    assert!(r.body.contains("id=\"severity-error\""));
    assert_eq!(app.store.count().await.unwrap(), 0);
    // Every field at fault is marked at once (the engine's one check), and the title's
    // length limit is the engine's own.
    let long = "x".repeat(5000);
    let r = app
        .form(
            "/incidents",
            &[
                ("title", "!!!"),
                ("severity", "SEV9"),
                ("description", &long),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for id in ["title-error", "severity-error", "description-error"] {
        assert!(r.body.contains(&format!("id=\"{id}\"")), "{id}: {}", r.body);
    }
    assert!(r.body.contains(&format!(
        "maxlength=\"{}\"",
        muster_core::title::MAX_TITLE_CHARS
    )));
    assert_eq!(app.store.count().await.unwrap(), 0);

    let r = app
        .form(
            "/incidents",
            &[
                ("title", "Payments <b>down</b>"),
                ("severity", "SEV1"),
                ("team", "pay"),
                ("by", "ana"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/incidents/INC-1");
    let page = app.get("/incidents/INC-1").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Payments &lt;b&gt;down&lt;&#x2f;b&gt;")
            || page.body.contains("Payments &lt;b&gt;down&lt;/b&gt;"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<b>down</b>"));
    assert!(page.body.contains("ana is now Incident Commander"));
}

#[tokio::test]
async fn running_an_incident_from_its_page() {
    let app = TestApp::new("").await;
    app.declare("Queue backlog").await;
    let base = "/incidents/INC-1";
    for (path, fields) in [
        ("/status", vec![("status", "In Progress")]),
        ("/severity", vec![("severity", "SEV1")]),
        ("/roles", vec![("role", "scribe"), ("person", "lee")]),
        (
            "/notes",
            vec![("text", "Scaled the workers"), ("at", "00:00")],
        ),
        ("/updates", vec![("text", "Backlog draining")]),
        (
            "/actions",
            vec![
                ("text", "Alert on queue age"),
                ("type", "Detect"),
                ("priority", "P1"),
                ("owner", ""),
                ("link", ""),
            ],
        ),
        ("/actions/1/done", vec![]),
        (
            "/impact",
            vec![
                ("started", "2026-11-26T13:40"),
                ("detected", ""),
                ("mitigated", ""),
                ("ended", ""),
            ],
        ),
        ("/resolve", vec![("confirm", "yes")]),
        ("/close", vec![("confirm", "yes")]),
    ] {
        let r = app.form(&format!("{base}{path}"), &fields).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}: {}", r.body);
        assert!(r.location().starts_with(&format!("{base}?done=")), "{path}");
        // The page says what was done.
        let done = app.get(r.location()).await.body;
        assert!(done.contains("class=\"notice\" role=\"status\""), "{path}");
    }
    let page = app.get(base).await.body;
    for expected in [
        "Closed",
        "SEV1",
        "lee",
        "Scaled the workers",
        "Backlog draining",
        "Alert on queue age",
        "2026-11-26 13:40 UTC",
    ] {
        assert!(page.contains(expected), "missing {expected}");
    }
    // Refused requests show why, on the same page, and change nothing.
    let r = app
        .form(&format!("{base}/status"), &[("status", "Open")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("cannot go from"), "{}", r.body);
    let r = app.form(&format!("{base}/notes"), &[("text", "")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("role=\"alert\""));
    assert_eq!(
        app.get("/incidents/INC-9").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/incidents/nonsense").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.form("/incidents/INC-9/notes", &[("text", "x")])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn report_page_and_markdown_download() {
    let app = TestApp::new("").await;
    app.declare("Disk full on db-2").await;
    let r = app.get("/incidents/INC-1/report").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("<h2>Detailed timeline</h2>"), "{}", r.body);
    assert!(r.body.contains("href=\"/incidents/INC-1/report.md\""));
    let md = app.get("/incidents/INC-1/report.md").await;
    assert_eq!(md.headers["content-type"], "text/markdown; charset=utf-8");
    assert_eq!(
        md.headers["content-disposition"],
        "attachment; filename=\"INC-1.md\""
    );
    assert!(md.body.starts_with("# INC-1: Disk full on db-2"));
    let fr = app.get("/incidents/INC-1/report.md?lang=fr").await;
    assert!(fr.body.contains("## Chronologie détaillée"));
}

#[tokio::test]
async fn list_filters_searches_and_paginates() {
    let app = TestApp::new("").await;
    for k in 1..=30 {
        app.declare(&format!("Incident number {k}")).await;
    }
    app.api(
        "POST",
        "/incidents/INC-3/status",
        Some(serde_json::json!({"status": "In Progress"})),
        None,
    )
    .await;
    let p1 = app.get("/incidents").await.body;
    assert!(
        p1.contains("INC-30") && !p1.contains(">INC-5<"),
        "newest first, 25 per page"
    );
    assert!(p1.contains("Page 1 of 2") && p1.contains("rel=\"next\""));
    let p2 = app.get("/incidents?page=2").await.body;
    assert!(p2.contains(">INC-5<") && p2.contains("rel=\"prev\""));
    let f = app.get("/incidents?status=In+Progress").await.body;
    assert!(f.contains(">INC-3<") && !f.contains(">INC-4<"));
    let s = app.get("/incidents?q=number+12").await.body;
    assert!(s.contains(">INC-12<") && !s.contains(">INC-13<"));
    let bad = app.get("/incidents?status=Nope").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn language_switch_cookie_and_accept_language() {
    let app = TestApp::new("").await;
    let r = app.get("/incidents?lang=fr").await;
    assert!(r.body.contains("<html lang=\"fr\">") && r.body.contains("Déclarer un incident"));
    let cookies: Vec<_> = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert!(
        cookies.iter().any(|c| c.starts_with("muster_lang=fr")),
        "{cookies:?}"
    );
    assert!(
        r.body.contains("href=\"&#x2f;incidents?lang=en\""),
        "switch back link"
    );
    let r = app
        .get_with("/incidents", &[("cookie", "muster_lang=fr")])
        .await;
    assert!(r.body.contains("<html lang=\"fr\">"));
    let r = app
        .get_with(
            "/incidents/new",
            &[("accept-language", "fr-CA,fr;q=0.9,en;q=0.5")],
        )
        .await;
    assert!(
        r.body.contains("Qu'est-ce qui ne va pas?")
            || r.body.contains("Qu&#x27;est-ce qui ne va pas?"),
        "{}",
        r.body
    );
    let r = app
        .get_with("/incidents?status=x&lang=en", &[("accept-language", "fr")])
        .await;
    assert!(r.body.contains("<html lang=\"en\">"));
}

#[tokio::test]
async fn metrics_page_draws_charts_without_drills() {
    let app = TestApp::new("").await;
    app.declare("Real one").await;
    let r = app
        .api(
            "POST",
            "/incidents",
            Some(serde_json::json!({"title": "Practice", "drill": true})),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    app.api("POST", "/incidents/INC-1/resolve", None, None)
        .await;
    let page = app.get("/stats").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.body.matches("<svg").count(), 3);
    assert!(page.body.contains("role=\"img\""));
    // One incident counted this week: the drill is left out.
    assert!(page.body.contains(": 1 incidents</title>"), "{}", page.body);
    assert!(!page.body.contains(": 2 incidents</title>"));
}

#[tokio::test]
async fn security_incidents_are_hidden_from_people_not_allowed() {
    let app = TestApp::new("").await;
    let r = app
        .form(
            "/incidents",
            &[("title", "Leaked keys"), ("security", "on")],
        )
        .await;
    // Its declarer sees it: the default setup names no security viewer, and the incident
    // must not lock out its own Incident Commander (anonymous on loopback: "web").
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/incidents/INC-1");
    assert_eq!(app.get("/incidents/INC-1").await.status, StatusCode::OK);
    assert!(app.get("/incidents").await.body.contains("Leaked keys"));
    // Anyone else does not (the anonymous API caller is recorded as "api").
    assert_eq!(
        app.api("GET", "/incidents/INC-1", None, None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.api("GET", "/incidents", None, None).await.json()["total"],
        0
    );

    // Allowed by name through the trusted proxy header, or by a role in it.
    let app = TestApp::new(
        "[server]\nproxy_user_header = \"X-Remote-User\"\nsecurity_viewers = [\"sec-lead\"]\n",
    )
    .await;
    app.api(
        "POST",
        "/incidents",
        Some(serde_json::json!({"title": "Leaked keys", "security": true})),
        None,
    )
    .await;
    let mut app = app;
    app.peer = Some("127.0.0.1:40000".parse().unwrap());
    let hidden = app
        .get_with("/incidents/INC-1", &[("x-remote-user", "someone")])
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get_with(
            "/incidents/INC-1/report.md",
            &[("x-remote-user", "someone")]
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let seen = app
        .get_with("/incidents/INC-1", &[("x-remote-user", "sec-lead")])
        .await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(seen.body.contains("sec-lead"), "the viewer's name is shown");
    // Whoever is given a role in it sees it from then on, in the list too.
    let r = app
        .api(
            "POST",
            "/incidents/INC-1/roles",
            Some(serde_json::json!({"role": "scribe", "person": "someone"})),
            None,
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let seen = app
        .get_with("/incidents/INC-1", &[("x-remote-user", "someone")])
        .await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(
        app.get_with("/incidents", &[("x-remote-user", "someone")])
            .await
            .body
            .contains("Leaked keys")
    );
    assert!(
        !app.get_with("/incidents", &[("x-remote-user", "nobody")])
            .await
            .body
            .contains("Leaked keys")
    );
}

#[tokio::test]
async fn off_loopback_pages_need_the_proxy_header() {
    let mut app =
        TestApp::with_loopback("[server]\nproxy_user_header = \"X-Remote-User\"\n", false).await;
    app.peer = Some("127.0.0.1:40000".parse().unwrap());
    assert_eq!(app.get("/incidents").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get_with("/incidents", &[("x-remote-user", "ana")])
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/healthz").await.status,
        StatusCode::OK,
        "probes stay open"
    );
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let app = TestApp::new("").await;
    let big = "x".repeat(200 * 1024);
    let r = app
        .form("/incidents", &[("title", "t"), ("description", &big)])
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    let r = app
        .api(
            "POST",
            "/incidents",
            Some(serde_json::json!({"title": big})),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
}

/// A form too large to read is answered with a page, in the reader's language, that says
/// the limits (not a bare "length limit exceeded"), whether the browser sent the length
/// or the body was cut off while read.
#[tokio::test]
async fn an_oversized_form_is_a_page_that_says_the_limits() {
    let app = TestApp::new("").await;
    let big = "x".repeat(muster_server::MAX_BODY_BYTES + 1);
    let (cookie, field) = app.csrf().await;
    let body = format!("csrf={field}&title=t&description={big}");
    for (lang, heading) in [("en", "Too much to send"), ("fr", "Envoi trop volumineux")] {
        for with_length in [true, false] {
            let mut b = axum::http::Request::post("/incidents")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("cookie", format!("muster_csrf={cookie}"))
                .header("accept-language", lang);
            if with_length {
                b = b.header("content-length", body.len());
            }
            let r = app
                .send(b.body(axum::body::Body::from(body.clone())).unwrap())
                .await;
            assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
            assert!(
                r.headers["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("text/html"),
                "{lang} {with_length}: {}",
                r.body
            );
            assert!(r.body.contains(heading), "{}", r.body);
            assert!(r.body.contains(&format!("<html lang=\"{lang}\">")));
            for n in [
                muster_server::MAX_BODY_BYTES,
                muster_core::title::MAX_TITLE_CHARS,
                muster_core::incident::MAX_TEXT_CHARS,
            ] {
                assert!(r.body.contains(&n.to_string()), "{n}: {}", r.body);
            }
            assert!(r.headers.contains_key("content-security-policy"));
        }
    }
    assert_eq!(app.store.count().await.unwrap(), 0);
}

fn hidden_idem(html: &str) -> String {
    let at = html
        .find("name=\"idem\" value=\"")
        .expect("the form carries a key")
        + 19;
    html[at..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_double_submit_declares_once() {
    let app = TestApp::new("").await;
    let form = app.get("/incidents/new").await;
    let idem = hidden_idem(&form.body);
    assert!(idem.len() >= 16, "{idem}");
    assert_ne!(idem, hidden_idem(&app.get("/incidents/new").await.body));
    // A refused submit keeps its key: nothing was declared with it.
    let r = app
        .form("/incidents", &[("title", ""), ("idem", &idem)])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(hidden_idem(&r.body), idem);
    let fields = [
        ("title", "Checkout down"),
        ("severity", "SEV2"),
        ("idem", &idem),
    ];
    let first = app.form("/incidents", &fields).await;
    let second = app.form("/incidents", &fields).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    assert_eq!(second.status, StatusCode::SEE_OTHER, "{}", second.body);
    assert_eq!(first.location(), "/incidents/INC-1");
    assert_eq!(second.location(), first.location());
    assert_eq!(app.store.count().await.unwrap(), 1);
    // Another form (another key) declares another incident.
    let idem2 = hidden_idem(&app.get("/incidents/new").await.body);
    let r = app
        .form(
            "/incidents",
            &[("title", "Checkout down"), ("idem", &idem2)],
        )
        .await;
    assert_eq!(r.location(), "/incidents/INC-2");
}

#[tokio::test]
async fn refused_times_sit_next_to_their_field() {
    let app = TestApp::new("").await;
    app.form("/incidents", &[("title", "Slow pages")]).await;
    let future = (chrono::Utc::now() + chrono::Duration::hours(2))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let r = app
        .form(
            "/incidents/INC-1/notes",
            &[("text", "rolled back the deploy"), ("at", &future)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"note-at-error\""), "{}", r.body);
    assert!(r.body.contains("is in the future"), "{}", r.body);
    assert!(
        r.body.contains(">rolled back the deploy</textarea>"),
        "what was typed is kept"
    );
    let r = app
        .form(
            "/incidents/INC-1/notes",
            &[("text", "before"), ("at", "2001-01-01 10:00")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"note-at-error\""), "{}", r.body);
    let r = app
        .form(
            "/incidents/INC-1/impact",
            &[
                ("started", "2001-01-01 10:00"),
                ("detected", "2001-01-01 09:00"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"impact-error\""), "{}", r.body);
}
