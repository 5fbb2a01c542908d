//! Signed request builders: what they produce verifies and parses with muster-slack, and
//! the event bodies have the shape of the reference examples.

use muster_core::config::Config;
use muster_core::{Lang, Secret};
use muster_slack::blocks::{self, DeclareForm, ids};
use muster_slack::payload::{Event, EventBody, Interaction, SlashCommand};
use muster_slack::signature::{SIGNATURE_HEADER, SignatureError, TIMESTAMP_HEADER, Verifier};
use muster_slack::{SlackClient, client::SlackClientConfig};
use muster_testkit::{Input, Signer, SlackSim, SlashCommandRequest, payloads};
use serde_json::Value;
use std::collections::BTreeSet;

const NOW: i64 = 1_764_241_200;

fn secret() -> Secret {
    Secret::new("test-signing-secret-0123456789")
}

fn verify(req: &muster_testkit::SignedRequest, now: i64) -> Result<(), SignatureError> {
    Verifier::new(secret()).verify(
        req.header(TIMESTAMP_HEADER),
        req.header(SIGNATURE_HEADER),
        &req.body,
        now,
    )
}

#[test]
fn slash_commands_verify_and_parse() {
    let signer = Signer::new(secret());
    let cmd = SlashCommandRequest::new(
        "/incident",
        "too many 500s & more",
        "U0ALICE01",
        "C0GENERAL",
        "1.2.3",
    );
    let req = signer.slash_command(&cmd, NOW);
    assert_eq!(req.path, "/slack/commands");
    assert_eq!(
        req.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(verify(&req, NOW + 1), Ok(()));
    let parsed = SlashCommand::from_form(&req.body).unwrap();
    assert_eq!(parsed.text, "too many 500s & more");
    assert_eq!(parsed.user_id, "U0ALICE01");
    assert_eq!(parsed.trigger_id, "1.2.3");

    // Retries keep a valid signature; tampering and staleness do not.
    let retry = req.clone().as_retry(1, "http_timeout");
    assert_eq!(retry.header("x-slack-retry-num"), Some("1"));
    assert_eq!(verify(&retry, NOW), Ok(()));
    assert!(matches!(
        verify(&req, NOW + 301),
        Err(SignatureError::Stale { .. })
    ));
    let mut tampered = req.clone();
    tampered.body.extend_from_slice(b"&text=x");
    assert_eq!(verify(&tampered, NOW), Err(SignatureError::Mismatch));
    let other = Signer::new(Secret::new("another")).slash_command(&cmd, NOW);
    assert_eq!(verify(&other, NOW), Err(SignatureError::Mismatch));
    let stripped = req.with_header(SIGNATURE_HEADER, "");
    assert_eq!(
        verify(&stripped, NOW),
        Err(SignatureError::MalformedSignature)
    );
}

fn reference_example(name: &str) -> Value {
    let path = format!(
        "{}/../muster-slack/tests/fixtures/events/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v["example"].clone()
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

#[test]
fn event_builders_have_the_reference_shapes_and_parse() {
    let signer = Signer::new(secret());
    let cases = [
        (
            payloads::reaction_added("U1", "C1", "1.000100", "floppy_disk", "U2"),
            "reaction_added",
        ),
        (
            payloads::reaction_removed("U1", "C1", "1.000100", "floppy_disk", "U2"),
            "reaction_removed",
        ),
        (
            payloads::member_joined_channel("U1", "C1", "U2"),
            "member_joined_channel",
        ),
    ];
    for (event, name) in cases {
        let reference = reference_example(name);
        assert_eq!(keys(&event), keys(&reference), "{name}");
        if let Some(item) = reference.get("item") {
            assert_eq!(keys(&event["item"]), keys(item), "{name}.item");
        }
        let body = payloads::event_callback(event, "Ev1", NOW);
        let req = signer.event(&body, NOW);
        assert_eq!(req.path, "/slack/events");
        assert_eq!(verify(&req, NOW), Ok(()));
        let EventBody::EventCallback(cb) = EventBody::from_json(&req.body).unwrap() else {
            panic!()
        };
        assert_eq!(cb.event_id, "Ev1");
        assert!(!matches!(cb.event, Event::Other { .. }), "{name}");
    }
    let msg = payloads::message("C1", "U1", "hi", "1.000200");
    assert!(keys(&reference_example("message")).is_subset(&keys(&msg)));
    for (event, check) in [
        (msg, "message"),
        (
            payloads::message_changed("C1", "U1", "1.000200", "hi", "hello", "1.000300"),
            "changed",
        ),
        (
            payloads::message_deleted("C1", "1.000200", "1.000400"),
            "deleted",
        ),
    ] {
        let body = serde_json::to_vec(&payloads::event_callback(event, "Ev2", NOW)).unwrap();
        let EventBody::EventCallback(cb) = EventBody::from_json(&body).unwrap() else {
            panic!()
        };
        match (check, cb.event) {
            ("message", Event::Message(m)) => assert_eq!(m.message.text, "hi"),
            ("changed", Event::MessageChanged(m)) => assert_eq!(m.message.text, "hello"),
            ("deleted", Event::MessageDeleted(m)) => assert_eq!(m.deleted_ts, "1.000200"),
            (c, e) => panic!("{c}: {e:?}"),
        }
    }
    let req = signer.event(&payloads::url_verification("abc"), NOW);
    assert_eq!(
        EventBody::from_json(&req.body).unwrap(),
        EventBody::UrlVerification {
            challenge: "abc".into()
        }
    );
}

#[tokio::test]
async fn a_view_opened_in_the_simulator_comes_back_as_a_submission() {
    let sim = SlackSim::start().await;
    let client =
        SlackClient::new(SlackClientConfig::new(sim.token()).with_base_url(sim.base_url()))
            .unwrap();
    let config = Config::default();
    let form = DeclareForm::from_command("Checkout is slow", Lang::En, Some("C0GENERAL"));
    let opened = client
        .views_open(
            &sim.new_trigger_id(),
            &blocks::declare_modal(&form, &config),
        )
        .await
        .unwrap();
    let view = sim.view(&opened.id).unwrap();
    let signer = Signer::new(secret());

    // The user switches to French after typing a description: the toggle keeps it.
    let typed = [(ids::BLOCK_DESCRIPTION, Input::Text("p99 above 4 s".into()))];
    let action = payloads::block_action_in_view(
        &view,
        "U0ALICE01",
        &typed,
        ids::BLOCK_LANG,
        ids::ACTION_LANG_FR,
        "fr",
    );
    let req = signer.interaction(&action, NOW);
    assert_eq!(verify(&req, NOW), Ok(()));
    let Interaction::BlockActions(b) = Interaction::from_form(&req.body).unwrap() else {
        panic!()
    };
    let update =
        blocks::relang_update(b.view.as_ref().unwrap(), &b.actions[0].action_id, &config).unwrap();
    client
        .views_update(&update.view_id, update.hash.as_deref(), &update.view)
        .await
        .unwrap();
    let view = sim.view(&opened.id).unwrap();
    assert_eq!(view.view["title"]["text"], "Déclarer un incident");

    // Submitting: untouched inputs keep their initial values, as in Slack.
    let submission = payloads::view_submission(
        &view,
        "U0ALICE01",
        &[(ids::BLOCK_SECURITY, Input::Choose("yes".into()))],
    );
    let req = signer.interaction(&submission, NOW);
    assert_eq!(verify(&req, NOW), Ok(()));
    let Interaction::ViewSubmission(s) = Interaction::from_form(&req.body).unwrap() else {
        panic!()
    };
    assert_eq!(s.view.callback_id, ids::CALLBACK_DECLARE);
    let form = DeclareForm::from_view(&s.view);
    let d = form.declaration("alice", muster_engine::Origin::default());
    muster_engine::check_declaration(&config, &d).unwrap();
    assert_eq!(d.title, "Checkout is slow");
    assert_eq!(
        d.severity.as_deref(),
        Some(config.default_severity.as_str())
    );
    assert_eq!(d.description.as_deref(), Some("p99 above 4 s"));
    assert!(d.security);
    assert_eq!(form.meta.lang, Lang::Fr);
    assert_eq!(form.meta.origin_channel.as_deref(), Some("C0GENERAL"));
    assert!(sim.rejections().is_empty(), "{:?}", sim.rejections());
}

#[test]
fn message_shortcut_and_message_buttons_parse() {
    let signer = Signer::new(secret());
    let p = payloads::message_action(
        "U0ALICE01",
        "C0ALERTS",
        "1.000500",
        "U0ALERTER",
        "5xx above 5%",
        ids::CALLBACK_DECLARE_FROM_MESSAGE,
        "9.9.9",
    );
    let Interaction::MessageAction(m) =
        Interaction::from_form(&signer.interaction(&p, NOW).body).unwrap()
    else {
        panic!()
    };
    let form = DeclareForm::from_message(&m, Lang::En);
    assert_eq!(form.meta.source.unwrap().ts, "1.000500");

    let p = payloads::block_action_on_message(
        "U0ALICE01",
        "C0INC",
        "1.000600",
        ids::BLOCK_INCIDENT_ACTIONS,
        ids::ACTION_RESOLVE,
        "incident-id",
        "8.8.8",
    );
    let Interaction::BlockActions(b) =
        Interaction::from_form(&signer.interaction(&p, NOW).body).unwrap()
    else {
        panic!()
    };
    assert_eq!(b.actions[0].action_id, ids::ACTION_RESOLVE);
    assert_eq!(b.actions[0].value.as_deref(), Some("incident-id"));
    assert_eq!(b.channel.unwrap().id, "C0INC");
}

#[tokio::test]
async fn signed_requests_convert_to_http_and_send() {
    let req = Signer::new(secret()).slash_command(
        &SlashCommandRequest::new("/incident", "help", "U1", "C1", "1.2.3"),
        NOW,
    );
    let http = req.to_http_request();
    assert_eq!(http.uri(), "/slack/commands");
    assert_eq!(http.method(), "POST");
    assert_eq!(
        Verifier::new(secret()).verify_headers(http.headers(), &req.body, NOW),
        Ok(())
    );
    assert_eq!(muster_slack::signature::retry_num(http.headers()), None);
    let retried = req.clone().as_retry(2, "http_timeout").to_http_request();
    assert_eq!(
        muster_slack::signature::retry_num(retried.headers()),
        Some(2)
    );

    // `send` posts to base URL + path: the simulator serves only /api/{method}, so it
    // answers 404 for /slack/commands, which shows the request went out with that path.
    let sim = SlackSim::start().await;
    muster_slack::client::install_crypto_provider();
    let r = req
        .send(&reqwest::Client::new(), &format!("http://{}", sim.addr()))
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}
