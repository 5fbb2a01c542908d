//! Timeline from chat through the engine: capture, duplicate capture, removal, edits, and
//! the captured message in the report.

use chrono::{TimeZone, Utc};
use muster_core::config::Config;
use muster_core::incident::{MAX_TEXT_CHARS, TimelineEntry, TimelineEvent};
use muster_core::report::ReportFormat;
use muster_core::{DomainError, IncidentNumber, IncidentRef, Lang};
use muster_engine::{CapturedMessage, Declaration, Engine, EngineError, FixedClock};
use muster_store::Store;
use std::sync::Arc;

async fn engine(dir: &tempfile::TempDir) -> (Engine, Arc<FixedClock>) {
    let url = format!("sqlite://{}/m.db", dir.path().display());
    let store = Store::open(&url).await.unwrap();
    let clock = Arc::new(FixedClock::new(
        Utc.with_ymd_and_hms(2026, 11, 26, 14, 0, 0).unwrap(),
    ));
    (
        Engine::new(store, Arc::new(Config::default()), clock.clone()),
        clock,
    )
}

async fn declared(e: &Engine) -> IncidentRef {
    let d = e
        .declare(Declaration {
            title: "Checkout errors".into(),
            by: "alice".into(),
            ..Declaration::default()
        })
        .await
        .unwrap();
    IncidentRef::Id(d.incident.id)
}

fn message(ts: &str, text: &str) -> CapturedMessage {
    CapturedMessage {
        source_key: format!("chat:C0INC0001:{ts}"),
        author: "Bob Martin".into(),
        // Posted at 14:05, captured later.
        at: Utc.with_ymd_and_hms(2026, 11, 26, 14, 5, 0).unwrap(),
        text: text.into(),
        permalink: Some(format!(
            "https://sim.slack.test/archives/C0INC0001/p{}",
            ts.replace('.', "")
        )),
        files: vec!["https://sim.slack.test/files/U0BOB/F01/error_rate.png".into()],
    }
}

async fn chats(e: &Engine, r: IncidentRef) -> Vec<TimelineEntry> {
    e.get(r)
        .await
        .unwrap()
        .timeline
        .into_iter()
        .filter(|t| matches!(t.event, TimelineEvent::ChatMessage { .. }))
        .collect()
}

#[tokio::test]
async fn a_message_captured_twice_makes_one_entry() {
    let dir = tempfile::tempdir().unwrap();
    let (e, clock) = engine(&dir).await;
    let r = declared(&e).await;
    clock.advance(chrono::Duration::minutes(10));
    let m = message("1764000000.001000", "rollback started");
    assert!(e.capture_message(r, m.clone()).await.unwrap());
    assert!(!e.capture_message(r, m.clone()).await.unwrap());
    let entries = chats(&e, r).await;
    assert_eq!(entries.len(), 1);
    let entry = &entries[0];
    assert_eq!(entry.at, m.at, "the message's own time, not the capture's");
    assert_eq!(entry.recorded_at, e.now());
    assert_eq!(entry.author, "Bob Martin");
    assert_eq!(
        entry.event,
        TimelineEvent::ChatMessage {
            text: "rollback started".into(),
            permalink: m.permalink.clone(),
            files: m.files.clone(),
            author: "Bob Martin".into(),
        }
    );
    // Another message is another entry.
    assert!(
        e.capture_message(r, message("1764000000.002000", "done"))
            .await
            .unwrap()
    );
    assert_eq!(chats(&e, r).await.len(), 2);
}

#[tokio::test]
async fn removing_the_reaction_removes_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    let (e, _) = engine(&dir).await;
    let r = declared(&e).await;
    let m = message("1764000000.001000", "rollback started");
    e.capture_message(r, m.clone()).await.unwrap();
    assert!(e.uncapture_message(r, &m.source_key).await.unwrap());
    assert!(chats(&e, r).await.is_empty());
    assert!(!e.uncapture_message(r, &m.source_key).await.unwrap());
    // Reacting again brings it back.
    assert!(e.capture_message(r, m).await.unwrap());
    assert_eq!(chats(&e, r).await.len(), 1);
}

#[tokio::test]
async fn an_edit_updates_the_text_and_keeps_links() {
    let dir = tempfile::tempdir().unwrap();
    let (e, _) = engine(&dir).await;
    let r = declared(&e).await;
    let m = message("1764000000.001000", "rolback started");
    e.capture_message(r, m.clone()).await.unwrap();
    assert!(
        e.update_captured_message(r, &m.source_key, "rollback started")
            .await
            .unwrap()
    );
    let entries = chats(&e, r).await;
    assert_eq!(
        entries[0].event,
        TimelineEvent::ChatMessage {
            text: "rollback started".into(),
            permalink: m.permalink.clone(),
            files: m.files.clone(),
            author: "Bob Martin".into(),
        }
    );
    assert_eq!(entries[0].at, m.at);
    // Edits to messages nobody captured change nothing.
    assert!(
        !e.update_captured_message(r, "slack:C0INC0001:1764000000.009000", "x")
            .await
            .unwrap()
    );
    // Nor do edits to a removed one.
    e.uncapture_message(r, &m.source_key).await.unwrap();
    assert!(
        !e.update_captured_message(r, &m.source_key, "again")
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn long_messages_are_cut_not_refused_and_empty_ones_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (e, _) = engine(&dir).await;
    let r = declared(&e).await;
    let long = "stack trace line\n".repeat(1000);
    assert!(
        e.capture_message(r, message("1764000000.001000", &long))
            .await
            .unwrap()
    );
    let TimelineEvent::ChatMessage { text, .. } = &chats(&e, r).await[0].event else {
        unreachable!()
    };
    assert_eq!(text.chars().count(), MAX_TEXT_CHARS);
    assert!(text.ends_with('…'));
    // A file with no text is worth keeping; nothing at all is not.
    let mut only_file = message("1764000000.002000", "  ");
    assert!(e.capture_message(r, only_file.clone()).await.unwrap());
    only_file.source_key = "chat:C0INC0001:1764000000.003000".to_owned();
    only_file.files.clear();
    let err = e.capture_message(r, only_file).await.unwrap_err();
    assert!(err.is_user_error(), "{err:?}");
    let missing = e
        .capture_message(
            IncidentRef::Number(IncidentNumber(99)),
            message("1764000000.004000", "x"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            missing,
            EngineError::Domain(DomainError::IncidentNotFound(_))
        ),
        "{missing:?}"
    );
}

#[tokio::test]
async fn the_report_shows_the_captured_message_with_author_and_time() {
    let dir = tempfile::tempdir().unwrap();
    let (e, clock) = engine(&dir).await;
    let r = declared(&e).await;
    clock.advance(chrono::Duration::minutes(30));
    e.capture_message(r, message("1764000000.001000", "rollback **started**"))
        .await
        .unwrap();
    let md = e.report(r, Lang::En, ReportFormat::Markdown).await.unwrap();
    let line = md
        .lines()
        .find(|l| l.contains("rollback"))
        .unwrap_or_else(|| panic!("no captured message in\n{md}"));
    assert!(line.contains("14:05"), "original time: {line}");
    assert!(line.contains("Bob Martin"), "author: {line}");
    assert!(
        line.contains("\\*\\*started\\*\\*"),
        "escaped as typed: {line}"
    );
    assert!(line.contains("error\\_rate.png"), "file link: {line}");
    assert!(line.contains("p1764000000001000"), "permalink: {line}");
    let fr = e.report(r, Lang::Fr, ReportFormat::Markdown).await.unwrap();
    assert!(fr.contains("fichiers"), "{fr}");
    let html = e.report(r, Lang::En, ReportFormat::Html).await.unwrap();
    assert!(!html.contains("<strong>started"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_captures_and_transitions_each_land_once() {
    let dir = tempfile::tempdir().unwrap();
    let (e, _) = engine(&dir).await;
    let e = Arc::new(e);
    let r = declared(&e).await;
    let m = message("1764000000.001000", "rollback started");
    let mut tasks = Vec::new();
    for k in 0..8 {
        let (e, m) = (e.clone(), m.clone());
        tasks.push(tokio::spawn(async move {
            if k == 0 {
                // A transition racing the captures: retried on conflict, applied once.
                e.set_status(r, "In Progress", "alice").await.map(|_| false)
            } else {
                e.capture_message(r, m).await
            }
        }));
    }
    let mut new = 0;
    for t in tasks {
        if t.await.unwrap().unwrap() {
            new += 1;
        }
    }
    assert_eq!(new, 1, "one capture made the entry; the others saw it");
    assert_eq!(chats(&e, r).await.len(), 1);
    assert_eq!(e.get(r).await.unwrap().incident.status, "In Progress");
}
