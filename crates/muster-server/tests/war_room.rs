//! The incident page as a war room (at a glance, live, Markdown) and as a review desk
//! (every report section edited from the web), through the real router.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::TestApp;
use http_body_util::BodyExt;
use std::time::{Duration, Instant};
use tower::ServiceExt;

use muster_core::incident::Narrative;

/// Every report section, as the form names them.
const SECTIONS: [&str; 12] = Narrative::FIELDS;

#[tokio::test]
async fn every_report_section_is_edited_from_the_web() {
    let app = TestApp::new("").await;
    app.declare("Checkout errors").await;
    let before = app.get("/incidents/INC-1/report").await.body;
    assert!(before.contains("To be written"), "placeholders first");
    assert!(
        before.contains("Sections still empty: Summary, Impact on end users"),
        "{before}"
    );
    assert!(before.contains("✗ to do: root causes are written"));

    // Title, description and team.
    let r = app
        .form(
            "/incidents/INC-1/edit",
            &[
                ("title", "Checkout errors after deploy v42"),
                ("description", "Card payments fail with **502**"),
                ("team", "payments"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/incidents/INC-1?done=edit");
    let page = app.get(r.location()).await.body;
    assert!(
        page.contains("Saved. The edit is on the timeline."),
        "{page}"
    );
    assert!(page.contains("INC-1: Checkout errors after deploy v42"));
    assert!(page.contains("Card payments fail with <strong>502</strong>"));

    // Every section at once, as the form sends them.
    let values: Vec<(String, String)> = SECTIONS
        .iter()
        .map(|s| (s.to_string(), format!("Written {s}: see `{s}.log`")))
        .collect();
    let fields: Vec<(&str, &str)> = values
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = app.form("/incidents/INC-1/edit", &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let report = app.get("/incidents/INC-1/report").await.body;
    for s in SECTIONS {
        assert!(
            report.contains(&format!("Written {s}: see <code>{s}.log</code>")),
            "{s} in {report}"
        );
    }
    assert!(report.contains("Every report section is written."));
    assert!(report.contains("✓ done: root causes are written"));
    for prompt in [
        "To be written",
        "What set the incident off",
        "How did we learn",
        "What fixed it now",
        "Ask why until",
    ] {
        assert!(!report.contains(prompt), "placeholder {prompt} left");
    }

    // The timeline names what changed, only that: the same form again changes nothing.
    let page = app.get("/incidents/INC-1").await.body;
    assert!(page.contains("title, description, team"), "{page}");
    let r = app.form("/incidents/INC-1/edit", &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Nothing to change"), "{}", r.body);
    let r = app
        .form(
            "/incidents/INC-1/edit",
            &[
                ("summary", "Shorter summary"),
                ("trigger", "Written trigger: see `trigger.log`"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let detail = app.api("GET", "/incidents/INC-1", None, None).await.json();
    let edits: Vec<&serde_json::Value> = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"]["kind"] == "edited")
        .collect();
    assert_eq!(
        edits.last().unwrap()["event"]["fields"],
        serde_json::json!(["summary"])
    );

    // Refused: too long. What was typed comes back in its field, with why.
    let long = "x".repeat(3001);
    let r = app
        .form("/incidents/INC-1/edit", &[("root_causes", &long)])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("3000"), "{}", r.body);
    assert!(r.body.contains(&long), "typed text kept");
    assert!(r.body.contains("<details id=\"sections\" open>"));
    // An empty title is refused by the engine's rule, as everywhere.
    let r = app.form("/incidents/INC-1/edit", &[("title", " ")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("title is empty"), "{}", r.body);
}

#[tokio::test]
async fn resolve_and_close_ask_first() {
    let app = TestApp::new("").await;
    app.declare("Queue backlog").await;
    // The page's buttons lead to a question, not to the change.
    let page = app.get("/incidents/INC-1").await.body;
    assert!(page.contains("href=\"/incidents/INC-1/resolve\""));
    let ask = app.get("/incidents/INC-1/resolve").await;
    assert_eq!(ask.status, StatusCode::OK);
    assert!(ask.body.contains("Resolve INC-1?"), "{}", ask.body);
    assert!(ask.body.contains("name=\"confirm\" value=\"yes\""));
    // A POST without the answer asks too, and changes nothing.
    let r = app.form("/incidents/INC-1/resolve", &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Resolve INC-1?"));
    let d = app.api("GET", "/incidents/INC-1", None, None).await.json();
    assert_eq!(d["incident"]["status"], "Open");
    let r = app
        .form("/incidents/INC-1/resolve", &[("confirm", "yes")])
        .await;
    assert_eq!(r.location(), "/incidents/INC-1?done=resolve");
    let fr = app.get("/incidents/INC-1/close?lang=fr").await.body;
    assert!(fr.contains("Fermer INC-1\u{a0}?"), "{fr}");
    assert_eq!(
        app.get("/incidents/INC-9/close").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_top_of_the_page_says_it_all_at_a_glance() {
    let app = TestApp::new("").await;
    let r = app
        .api(
            "POST",
            "/incidents",
            Some(serde_json::json!({"title": "Payments down", "severity": "SEV1"})),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    app.api(
        "POST",
        "/incidents/INC-1/roles",
        Some(serde_json::json!({"role": "ops-lead", "person": "lee"})),
        None,
    )
    .await;
    let page = app.get("/incidents/INC-1").await.body;
    let glance = &page[page.find("id=\"glance\"").unwrap()..page.find("id=\"timeline\"").unwrap()];
    assert!(glance.contains("class=\"badge sev sev-1\""), "{glance}");
    assert!(
        glance.contains(">SEV1<"),
        "severity as text, not colour alone"
    );
    assert!(glance.contains("class=\"badge status active\">Open<"));
    assert!(
        glance.contains("Operations Lead</dt><dd>lee</dd>"),
        "{glance}"
    );
    assert!(glance.contains("data-rel>just now</time>"), "{glance}");
    assert!(glance.contains("href=\"/incidents/INC-1/report\""));
    // Then the timeline, then the forms, grouped and collapsible.
    let (t, f) = (
        page.find("id=\"timeline\"").unwrap(),
        page.find("<details").unwrap(),
    );
    assert!(t < f);
    assert!(page.contains("<details id=\"impact\">"));
    // Without JavaScript, a refresh link; with it, the live stream's address.
    assert!(page.contains("data-live=\"/incidents/INC-1/events\""));
    assert!(page.contains("<script src=\"/assets/live.js\" defer></script>"));
    // The timeline filters people's entries from Muster's events.
    app.form("/incidents/INC-1/notes", &[("text", "Rolled back")])
        .await;
    let people = app.get("/incidents/INC-1?show=people").await.body;
    assert!(people.contains("Rolled back") && !people.contains("is now Operations Lead"));
    let system = app.get("/incidents/INC-1?show=system").await.body;
    assert!(!system.contains("Rolled back") && system.contains("is now Operations Lead"));
}

/// Payloads people have used to slip markup into pages. Each is posted as a note, an
/// update, a description and a report section; none may come out as markup.
const XSS: [&str; 14] = [
    "<script>alert(1)</script>",
    "\"><script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    "[click](javascript:alert(1))",
    "[click](JAVASCRIPT:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](https://evil.example/track.png)",
    "<a href=\"https://x.example\" onclick=\"alert(1)\">x</a>",
    "<iframe src=\"https://evil.example\"></iframe>",
    "<details open ontoggle=alert(1)>",
    "```\n</code></pre><script>alert(1)</script>\n```",
    "[a](https://x.example/\" onmouseover=\"alert(1))",
    "<style>*{display:none}</style>",
];

fn assert_no_markup_from(html: &str, what: &str) {
    for banned in [
        "<script>alert",
        "<img ",
        "<svg",
        "<iframe",
        "<details open ontoggle",
        "href=\"javascript",
        "href=\"JAVASCRIPT",
        "href=\"data:",
        "onclick=\"alert",
        "\" onmouseover=\"",
        "<style>*",
    ] {
        assert!(!html.contains(banned), "{what}: {banned} in the page");
    }
}

#[tokio::test]
async fn markdown_renders_and_hostile_text_stays_text() {
    let app = TestApp::new("").await;
    app.declare("Markdown").await;
    for p in XSS {
        for (path, field) in [
            ("/incidents/INC-1/notes", "text"),
            ("/incidents/INC-1/updates", "text"),
        ] {
            let r = app.form(path, &[(field, p)]).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{p}");
        }
        for field in ["description", "root_causes"] {
            let r = app.form("/incidents/INC-1/edit", &[(field, p)]).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{p}");
        }
        for page in ["/incidents/INC-1", "/incidents/INC-1/report"] {
            let html = app.get(page).await.body;
            assert_no_markup_from(&html, &format!("{page} with {p}"));
        }
    }
    let md = "Rolled **back**, see https://grafana.example/d/1 and:\n- `v41`\n- [runbook](https://wiki.example/rb)";
    app.form("/incidents/INC-1/notes", &[("text", md)]).await;
    app.form("/incidents/INC-1/edit", &[("resolution", md)])
        .await;
    let page = app.get("/incidents/INC-1").await.body;
    let expected = "<p>Rolled <strong>back</strong>, see <a href=\"https://grafana.example/d/1\" rel=\"noopener noreferrer nofollow\">https://grafana.example/d/1</a> and:</p>\n<ul>\n<li><code>v41</code></li>\n<li><a href=\"https://wiki.example/rb\" rel=\"noopener noreferrer nofollow\">runbook</a></li>\n</ul>";
    assert!(page.contains(expected), "{page}");
    let report = app.get("/incidents/INC-1/report").await.body;
    assert!(
        report.contains(expected),
        "the same rendering in the report: {report}"
    );
    // The Markdown download keeps what was written.
    let raw = app.get("/incidents/INC-1/report.md").await.body;
    assert!(raw.contains("Rolled **back**"), "{raw}");
}

/// Read a server-sent event stream until an event named `changed` or the deadline.
async fn next_change(body: &mut Body, within: Duration) -> Option<String> {
    let deadline = Instant::now() + within;
    let mut seen = String::new();
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        let frame = tokio::time::timeout(left, body.frame()).await.ok()??.ok()?;
        if let Some(data) = frame.data_ref() {
            seen.push_str(&String::from_utf8_lossy(data));
            if let Some(at) = seen.find("event: changed") {
                return Some(seen[at..].to_owned());
            }
        }
    }
}

async fn open_stream(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> (StatusCode, Body) {
    let mut b = Request::get(path).header(header::HOST, common::BOUND);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let res = app
        .router
        .clone()
        .oneshot(b.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    if status == StatusCode::OK {
        assert_eq!(res.headers()[header::CONTENT_TYPE], "text/event-stream");
    }
    (status, res.into_body())
}

#[tokio::test]
async fn live_streams_tell_each_open_page_within_a_second() {
    let app = TestApp::new("[server]\nsecurity_viewers = [\"sam\"]\n").await;
    app.declare("Live one").await;
    app.declare("Another").await;
    let (s, mut page) = open_stream(&app, "/incidents/INC-1/events", &[]).await;
    assert_eq!(s, StatusCode::OK);
    let (_, mut other) = open_stream(&app, "/incidents/INC-2/events", &[]).await;
    let (_, mut list) = open_stream(&app, "/events", &[]).await;
    assert_eq!(app.state.live_streams(), 3);

    let sent = Instant::now();
    let r = app
        .api(
            "POST",
            "/incidents/INC-1/timeline",
            Some(serde_json::json!({"text": "From the API"})),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let e = next_change(&mut page, Duration::from_secs(1)).await;
    assert!(e.is_some(), "the open page is told within a second");
    eprintln!("note → event in {:?}", sent.elapsed());
    assert!(
        next_change(&mut list, Duration::from_secs(1))
            .await
            .is_some()
    );
    // The other incident's page hears nothing.
    assert!(
        next_change(&mut other, Duration::from_millis(300))
            .await
            .is_none()
    );

    // A security incident the viewer may not see moves nobody's list.
    let r = app
        .api(
            "POST",
            "/incidents",
            Some(serde_json::json!({"title": "Leaked keys", "security": true})),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert!(
        next_change(&mut list, Duration::from_millis(500))
            .await
            .is_none()
    );
    // Nor may its stream be opened by them: 404, as its page.
    let (s, _) = open_stream(&app, "/incidents/INC-3/events", &[]).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Streams end when the server shuts down, so a graceful shutdown completes.
    app.state.close_streams();
    let end = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(f) = page.frame().await {
            if f.is_err() {
                break;
            }
        }
    })
    .await;
    assert!(end.is_ok(), "the stream ended");
}

#[tokio::test]
async fn the_script_is_first_party_under_the_same_policy() {
    let app = TestApp::new("").await;
    let js = app.get("/assets/live.js").await;
    assert_eq!(js.status, StatusCode::OK);
    assert_eq!(
        js.headers[header::CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
    assert!(js.body.contains("EventSource"));
    assert!(!js.body.contains("innerHTML"), "no markup built from text");
    let page = app.get("/incidents").await;
    let csp = page.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(!page.body.contains("<script>"), "no inline script");
    let icon = app.get("/assets/favicon.svg").await;
    assert_eq!(icon.headers[header::CONTENT_TYPE], "image/svg+xml");
}

/// A second connection to the database, to see what the pages do not show.
async fn look_behind(app: &TestApp) -> sqlx::SqliteConnection {
    use sqlx::Connection;
    sqlx::SqliteConnection::connect(&app.db_url())
        .await
        .unwrap()
}

/// The `seq` of the timeline entry whose event is a note saying `text`.
fn note_seq(detail: &serde_json::Value, text: &str) -> i64 {
    detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"]["kind"] == "note" && e["event"]["text"] == text)
        .unwrap_or_else(|| panic!("no note {text:?}"))["seq"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn own_notes_are_edited_and_deleted_in_history_and_key_moments_stand_out() {
    let app = TestApp::new("").await;
    app.declare("Disk full").await;
    let ana = [("cookie", "muster_name=ana")];
    let r = app
        .form_with("/incidents/INC-1/notes", &[("text", "Disk at 99%")], &ana)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let d = app.api("GET", "/incidents/INC-1", None, None).await.json();
    let seq = note_seq(&d, "Disk at 99%");

    // Her page offers her the edit form; someone else's does not.
    let hers = app.get_with("/incidents/INC-1", &ana).await.body;
    assert!(hers.contains(&format!("action=\"/incidents/INC-1/timeline/{seq}/edit\"")));
    let theirs = app.get("/incidents/INC-1").await.body;
    assert!(!theirs.contains(&format!("/timeline/{seq}/edit")));
    // And the engine refuses anyone else, whatever they send.
    let r = app
        .form(
            &format!("/incidents/INC-1/timeline/{seq}/edit"),
            &[("text", "Not mine")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("only its author may"), "{}", r.body);
    let r = app
        .api_with(
            "DELETE",
            &format!("/incidents/INC-1/timeline/{seq}"),
            None,
            &[("x-muster-acting-for", "bob")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["error"]["code"], "not_your_note");

    // Edited by her: the new text replaces it on the page, at the same time, marked edited.
    let r = app
        .form_with(
            &format!("/incidents/INC-1/timeline/{seq}/edit"),
            &[("text", "Disk at 99% on db-2")],
            &ana,
        )
        .await;
    assert_eq!(r.location(), "/incidents/INC-1?done=note-edited");
    let d = app.api("GET", "/incidents/INC-1", None, None).await.json();
    let new_seq = note_seq(&d, "Disk at 99% on db-2");
    let edited = d["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["seq"] == new_seq)
        .unwrap();
    assert_eq!(edited["edited_from"], seq);
    let page = app.get("/incidents/INC-1").await.body;
    assert!(!page.contains(">Disk at 99%</p>"), "the old text is hidden");
    assert!(page.contains("(edited)"));
    assert!(page.contains(&format!("Note {seq} edited by its author")));
    // …and the old text is still in the database: history is kept.
    let kept: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM timeline_entries WHERE seq = ? AND deleted_at IS NOT NULL AND event LIKE '%Disk at 99%'",
    )
    .bind(seq)
    .fetch_one(&mut look_behind(&app).await)
    .await
    .unwrap();
    assert_eq!(kept, 1);

    // Key moments: marked from the page or the API, highlighted in the report.
    let r = app
        .form(
            &format!("/incidents/INC-1/timeline/{new_seq}/key"),
            &[("key", "yes")],
        )
        .await;
    assert_eq!(r.location(), "/incidents/INC-1?done=key");
    let page = app.get("/incidents/INC-1").await.body;
    assert!(
        page.contains(&format!("class=\"human key\" id=\"entry-{new_seq}\"")),
        "{page}"
    );
    let report = app.get("/incidents/INC-1/report.md").await.body;
    assert!(report.contains("## Key moments"), "{report}");
    assert!(
        report.contains("| **ana** | **Disk at 99% on db-2** |"),
        "{report}"
    );
    let r = app
        .api(
            "POST",
            &format!("/incidents/INC-1/timeline/{new_seq}/key"),
            Some(serde_json::json!({"key": false})),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        !app.get("/incidents/INC-1/report.md")
            .await
            .body
            .contains("## Key moments")
    );

    // Deleted by her through the API: gone from the page, kept in history.
    let r = app
        .api_with(
            "DELETE",
            &format!("/incidents/INC-1/timeline/{new_seq}"),
            None,
            &[("x-muster-acting-for", "ana")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let page = app.get("/incidents/INC-1").await.body;
    assert!(!page.contains("Disk at 99% on db-2</p>"));
    assert!(page.contains(&format!("Note {new_seq} deleted by its author")));
    // A status update is not a note: nobody rewrites what was announced.
    let r = app
        .api(
            "POST",
            "/incidents/INC-1/updates",
            Some(serde_json::json!({"text": "Announced"})),
            None,
        )
        .await;
    let d = r.json();
    let upd = d["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"]["kind"] == "status_update")
        .unwrap()["seq"]
        .as_i64()
        .unwrap();
    let r = app
        .api(
            "PUT",
            &format!("/incidents/INC-1/timeline/{upd}"),
            Some(serde_json::json!({"text": "Rewritten"})),
            None,
        )
        .await;
    assert_eq!(r.json()["error"]["code"], "not_your_note");
    let r = app
        .api("DELETE", "/incidents/INC-1/timeline/9999", None, None)
        .await;
    assert_eq!(r.json()["error"]["code"], "entry_not_found");
}

#[tokio::test]
async fn roles_clear_and_action_items_are_edited_and_reopened() {
    let app = TestApp::new("").await;
    app.declare("Queue backlog").await;

    // A role given, then cleared from the page: the page no longer names anyone, the
    // timeline says so, and clearing it again is refused with why.
    let r = app
        .form(
            "/incidents/INC-1/roles",
            &[("role", "commander"), ("person", "ana")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = app.get("/incidents/INC-1").await.body;
    assert!(
        page.contains("/incidents/INC-1/roles/commander/clear"),
        "{page}"
    );
    let r = app
        .form("/incidents/INC-1/roles/commander/clear", &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/incidents/INC-1?done=role-cleared");
    let page = app.get(r.location()).await.body;
    assert!(page.contains("Role cleared."), "{page}");
    assert!(
        page.contains("Nobody is Incident Commander any more"),
        "{page}"
    );
    assert!(!page.contains("/incidents/INC-1/roles/commander/clear"));
    let r = app
        .form("/incidents/INC-1/roles/commander/clear", &[])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("nothing to clear"), "{}", r.body);
    // The API: give it again, clear it again.
    let r = app
        .api(
            "POST",
            "/incidents/INC-1/roles",
            Some(serde_json::json!({"role": "ops-lead", "person": "bo"})),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["roles"].as_array().unwrap().len(), 1);
    let r = app
        .api("DELETE", "/incidents/INC-1/roles/ops-lead", None, None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["roles"].as_array().unwrap().len(), 0, "{}", r.body);

    // An action item: edited from the page, done, reopened.
    let r = app
        .form(
            "/incidents/INC-1/actions",
            &[
                ("text", "Add alert"),
                ("type", "detect"),
                ("priority", "P2"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let edit = [
        ("text", "Add a backlog alert at 10k"),
        ("type", "mitigate"),
        ("priority", "P1"),
        ("owner", "ana"),
        ("link", "https://tracker.example/T-9"),
    ];
    let r = app.form("/incidents/INC-1/actions/1/edit", &edit).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/incidents/INC-1?done=action-edited");
    let page = app.get(r.location()).await.body;
    assert!(page.contains("Action item saved."));
    assert!(page.contains("Action item 1 edited"), "{page}");
    assert!(page.contains("value=\"Add a backlog alert at 10k\""));
    // The same again changes nothing, and says so.
    let r = app.form("/incidents/INC-1/actions/1/edit", &edit).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Reopening an open item is refused; done then reopened works.
    let r = app.form("/incidents/INC-1/actions/1/reopen", &[]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("nothing to reopen"), "{}", r.body);
    app.form("/incidents/INC-1/actions/1/done", &[]).await;
    let r = app.form("/incidents/INC-1/actions/1/reopen", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let d = app.api("GET", "/incidents/INC-1", None, None).await.json();
    let a = &d["actions"][0];
    assert_eq!(a["text"], "Add a backlog alert at 10k");
    assert_eq!(a["priority"], "P1");
    assert_eq!(a["owner"], "ana");
    assert!(a["done_at"].is_null(), "{a}");
    let events: Vec<String> = d["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"]["kind"].as_str().unwrap_or("").to_owned())
        .collect();
    for k in [
        "role_cleared",
        "action_edited",
        "action_done",
        "action_reopened",
    ] {
        assert!(events.iter().any(|e| e == k), "{k} in {events:?}");
    }
    // The API edits too, and refuses an unknown item.
    let r = app
        .api(
            "PUT",
            "/incidents/INC-1/actions/1",
            Some(serde_json::json!({"text": "Alert at 5k", "type": "detect", "priority": "P0"})),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["actions"][0]["owner"], serde_json::Value::Null);
    let r = app
        .api("POST", "/incidents/INC-1/actions/7/reopen", None, None)
        .await;
    assert_eq!(r.status.as_u16() / 100, 4, "{}", r.body);
}

#[tokio::test]
async fn calling_the_review_done_with_the_checklist_incomplete_asks_first() {
    let app = TestApp::new("").await;
    app.declare("Slow search").await;
    app.form("/incidents/INC-1/resolve", &[("confirm", "yes")])
        .await;
    let d = app.api("GET", "/incidents/INC-1", None, None).await.json();
    assert_eq!(d["incident"]["status"], "Ready to be Reviewed", "{d}");

    // Nothing written yet: the move asks, naming what is missing, and changes nothing.
    let r = app
        .form("/incidents/INC-1/status", &[("status", "Reviewed")])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Mark INC-1 as Reviewed?"), "{}", r.body);
    assert!(r.body.contains("root causes are written"));
    assert!(r.body.contains("at least one action item"));
    assert!(r.body.contains("name=\"status\" value=\"Reviewed\""));
    let d = app.api("GET", "/incidents/INC-1", None, None).await.json();
    assert_eq!(d["incident"]["status"], "Ready to be Reviewed");
    // In French too.
    let r = app
        .form_with(
            "/incidents/INC-1/status",
            &[("status", "Reviewed")],
            &[("accept-language", "fr")],
        )
        .await;
    assert!(r.body.contains("Passer INC-1 à « Révisé » ?"), "{}", r.body);

    // Confirmed, it moves.
    let r = app
        .form(
            "/incidents/INC-1/status",
            &[("status", "Reviewed"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let d = app.api("GET", "/incidents/INC-1", None, None).await.json();
    assert_eq!(d["incident"]["status"], "Reviewed");

    // Back, then with the checklist complete: no question asked.
    app.form(
        "/incidents/INC-1/status",
        &[("status", "Ready to be Reviewed")],
    )
    .await;
    app.form(
        "/incidents/INC-1/edit",
        &[
            ("summary", "Search was slow"),
            ("root_causes", "An index was dropped"),
        ],
    )
    .await;
    app.form(
        "/incidents/INC-1/actions",
        &[
            ("text", "Check indexes in CI"),
            ("type", "prevent"),
            ("priority", "P2"),
        ],
    )
    .await;
    let declared = d["incident"]["declared_at"]
        .as_str()
        .unwrap()
        .replace('T', " ");
    let r = app
        .form("/incidents/INC-1/impact", &[("started", &declared[..16])])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = app
        .form("/incidents/INC-1/status", &[("status", "Reviewed")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // Other moves never ask.
    let r = app
        .form(
            "/incidents/INC-1/status",
            &[("status", "Ready to be Reviewed")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}
