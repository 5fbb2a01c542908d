//! Block Kit builders: content, language toggle, validation, and Block Kit limits on
//! worst-case inputs.

use muster_core::config::{Config, Localized, SeverityDef, TeamDef};
use muster_core::{Lang, Secret};
use muster_engine::{Origin, check_declaration};
use muster_slack::blocks::{self, *};
use muster_slack::limits::{self, check_message, check_modal};
use muster_slack::payload::{Interaction, View};
use serde_json::Value;

fn fixture(path: &str) -> Value {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(full).unwrap()).unwrap()
}

fn view_of(fixture_name: &str) -> View {
    serde_json::from_value(fixture(fixture_name)["view"].clone()).unwrap()
}

/// Every text in a built view or message, to look for untranslated ids.
fn texts(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| texts(x, out)),
        Value::Object(o) => o.values().for_each(|x| texts(x, out)),
        _ => {}
    }
}

fn assert_translated(v: &Value) {
    let mut all = vec![];
    texts(v, &mut all);
    for s in all {
        assert!(!s.starts_with("slack-"), "message id rendered as text: {s}");
    }
}

/// A configuration at the edge: many severities with long descriptions, many teams.
fn worst_config() -> Config {
    let mut c = Config::default();
    let long = "d".repeat(500);
    for i in 0..120 {
        c.severities.push(SeverityDef {
            name: format!("LEVEL-{i}-{}", "x".repeat(90)),
            description: Localized {
                en: Some(long.clone()),
                fr: Some(long.clone()),
            },
        });
        c.teams.push(TeamDef {
            key: format!("team-{i}-{}", "k".repeat(200)),
            name: format!("Team {i} {}", "n".repeat(100)),
        });
    }
    c
}

fn worst_form(lang: Lang) -> DeclareForm {
    let mut f = DeclareForm::from_command(&"T<&>".repeat(60), lang, Some("C1"));
    f.description = "<@U1> & <https://x|y> ".repeat(200);
    f.team = Some("n".repeat(300));
    f.security = Some(true);
    f.severity = Some("SEV1".into());
    f.meta.source = Some(SourceMessage {
        channel: "C2".into(),
        ts: "1.2".into(),
        author: Some("U9".into()),
    });
    f
}

#[test]
fn declare_modal_in_both_languages() {
    let c = Config::default();
    for (lang, title, label) in [
        (Lang::En, "Declare an incident", "Title"),
        (Lang::Fr, "Déclarer un incident", "Titre"),
    ] {
        let form = DeclareForm::from_command("  too many 500s ", lang, Some("C0GENERAL"));
        let v = declare_modal(&form, &c);
        assert_eq!(v["type"], "modal");
        assert_eq!(v["callback_id"], ids::CALLBACK_DECLARE);
        assert_eq!(v["title"]["text"], title);
        let title_block = v["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["block_id"] == ids::BLOCK_TITLE)
            .unwrap();
        assert_eq!(title_block["label"]["text"], label);
        assert_eq!(title_block["element"]["initial_value"], "too many 500s");
        // Each severity is offered with its description; the default is preselected.
        let sev = v["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["block_id"] == ids::BLOCK_SEVERITY)
            .unwrap();
        let opts = sev["element"]["options"].as_array().unwrap();
        assert_eq!(opts.len(), c.severities.len());
        assert_eq!(opts[0]["value"], "SEV1");
        assert!(opts[0]["description"]["text"].as_str().unwrap().len() > 10);
        assert_eq!(
            sev["element"]["initial_option"]["value"],
            c.default_severity
        );
        let meta = ModalMetadata::decode(v["private_metadata"].as_str().unwrap());
        assert_eq!(meta.lang, lang);
        assert_eq!(meta.origin_channel.as_deref(), Some("C0GENERAL"));
        assert!(check_modal(&v).is_empty(), "{:?}", check_modal(&v));
        assert_translated(&v);
    }
}

#[test]
fn declare_modal_stays_within_limits_on_worst_case_input() {
    let c = worst_config();
    for lang in Lang::ALL {
        let v = declare_modal(&worst_form(lang), &c);
        let violations = check_modal(&v);
        assert!(violations.is_empty(), "{lang}: {violations:?}");
        // The prefilled title is cut to what the input accepts, not rejected.
        let title = v["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["block_id"] == ids::BLOCK_TITLE)
            .unwrap();
        assert_eq!(
            title["element"]["initial_value"]
                .as_str()
                .unwrap()
                .chars()
                .count(),
            150
        );
    }
}

#[test]
fn the_limit_checker_would_catch_an_unbounded_builder() {
    // Guard against a checker that accepts everything: the worst-case config's raw
    // values break the limits when put in a view without the builders' truncation.
    let c = worst_config();
    let raw = serde_json::json!({
        "type": "modal",
        "title": {"type": "plain_text", "text": "x".repeat(30)},
        "blocks": [{"type": "input", "block_id": "s", "label": {"type":"plain_text","text":"l"},
            "element": {"type": "static_select", "action_id": "a", "options":
                c.severities.iter().map(|s| serde_json::json!({
                    "text": {"type": "plain_text", "text": s.name},
                    "value": s.name,
                    "description": {"type": "plain_text", "text": s.description.en},
                })).collect::<Vec<_>>()}}],
    });
    let whats: std::collections::BTreeSet<_> = check_modal(&raw).iter().map(|v| v.what).collect();
    for w in [
        "modal title length",
        "number of options",
        "option text length",
        "option description length",
    ] {
        assert!(whats.contains(w), "{w} not caught: {whats:?}");
    }
}

#[test]
fn language_toggle_keeps_the_typed_values() {
    let payload = fixture("interactions/block_actions_lang.json");
    let Interaction::BlockActions(b) = Interaction::from_value(payload).unwrap() else {
        panic!()
    };
    let c = Config::default();
    let view = b.view.as_ref().unwrap();
    let update = relang_update(view, &b.actions[0].action_id, &c).unwrap();
    assert_eq!(update.view_id, "V0SIM0001");
    assert_eq!(update.hash.as_deref(), Some("1764241200.a1b2c3d4"));
    let v = &update.view;
    assert_eq!(v["title"]["text"], "Déclarer un incident");
    let block = |id: &str| {
        v["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["block_id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(
        block(ids::BLOCK_TITLE)["element"]["initial_value"],
        "Checkout is slow"
    );
    assert_eq!(
        block(ids::BLOCK_TITLE)["element"]["action_id"],
        ids::ACTION_TITLE
    );
    assert_eq!(
        block(ids::BLOCK_SEVERITY)["element"]["initial_option"]["value"],
        "SEV1"
    );
    assert_eq!(
        block(ids::BLOCK_SECURITY)["element"]["initial_option"]["value"],
        "no"
    );
    assert_eq!(
        block(ids::BLOCK_DESCRIPTION)["element"]["initial_value"],
        "p99 above 4 s since 09:10"
    );
    assert_eq!(
        ModalMetadata::decode(v["private_metadata"].as_str().unwrap()).lang,
        Lang::Fr
    );
    // Other actions are not language toggles.
    assert!(relang_update(view, ids::ACTION_RESOLVE, &c).is_none());
}

#[test]
fn valid_submission_is_typed() {
    let c = Config::default();
    let form = DeclareForm::from_view(&view_of("interactions/view_submission.json"));
    let d = form.declaration("ana", Origin::chat("slack", "U1"));
    check_declaration(&c, &d).unwrap();
    assert_eq!(d.title, "Too many 500 errors");
    assert_eq!(d.severity.as_deref(), Some("SEV2"));
    assert_eq!(d.team.as_deref(), Some("Payments"));
    assert!(d.security);
    assert_eq!(d.description.as_deref(), Some(""));
    assert_eq!(d.by, "ana");
    assert_eq!(form.meta.lang, Lang::Fr);
    assert_eq!(form.meta.origin_channel.as_deref(), Some("C0GENERAL"));
}

#[test]
fn invalid_submission_gives_errors_under_each_field_in_the_form_language() {
    let c = Config::default();
    let mut form = DeclareForm::from_view(&view_of("interactions/view_submission.json"));
    form.title = "  !!! ".into();
    form.severity = Some("SEV9".into());
    form.description = "x".repeat(3001);
    let verdict = check_declaration(&c, &form.declaration("ana", Origin::default())).unwrap_err();
    let errors = form.errors(&verdict);
    let blocks: Vec<_> = errors.iter().map(|e| e.block_id).collect();
    assert_eq!(
        blocks,
        [
            ids::BLOCK_TITLE,
            ids::BLOCK_SEVERITY,
            ids::BLOCK_DESCRIPTION
        ]
    );
    // French, from the core messages.
    assert!(
        errors[0].message.contains("lettre"),
        "{}",
        errors[0].message
    );
    let body = validation_errors(&errors);
    assert_eq!(body["response_action"], "errors");
    assert!(body["errors"][ids::BLOCK_TITLE].is_string());
    assert!(
        body["errors"][ids::BLOCK_SEVERITY]
            .as_str()
            .unwrap()
            .contains("SEV9")
    );

    // No severity chosen: the configured default, as everywhere else.
    form.title = String::new();
    form.severity = None;
    form.description = String::new();
    form.meta.lang = Lang::En;
    let verdict = check_declaration(&c, &form.declaration("ana", Origin::default())).unwrap_err();
    let errors = form.errors(&verdict);
    let blocks: Vec<_> = errors.iter().map(|e| e.block_id).collect();
    assert_eq!(blocks, [ids::BLOCK_TITLE]);
    assert!(errors[0].message.contains("title"), "{}", errors[0].message);
}

#[test]
fn message_shortcut_prefills_from_the_message() {
    let Interaction::MessageAction(m) =
        Interaction::from_value(fixture("interactions/message_action.json")).unwrap()
    else {
        panic!()
    };
    let form = DeclareForm::from_message(&m, Lang::En);
    assert_eq!(form.title, "5xx rate above 5% on api-gateway");
    assert!(form.description.contains("12% of requests fail"));
    let src = form.meta.source.clone().unwrap();
    assert_eq!(
        (src.channel.as_str(), src.ts.as_str()),
        ("C0ALERTS", "1764241100.000050")
    );
    let v = declare_modal(&form, &Config::default());
    assert!(check_modal(&v).is_empty());
    let meta = ModalMetadata::decode(v["private_metadata"].as_str().unwrap());
    assert_eq!(meta.source, Some(src));
    let form = DeclareForm {
        severity: Some("sev2".into()),
        ..form
    };
    let d = form.declaration("ana", Origin::default());
    check_declaration(&Config::default(), &d).unwrap();
    assert_eq!(d.severity.as_deref(), Some("sev2"));
    assert_eq!(form.meta.source.unwrap().ts, "1764241100.000050");
}

fn welcome(title: &str, security: bool) -> WelcomeInfo {
    WelcomeInfo {
        incident_id: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".into(),
        number: "INC-42".into(),
        title: title.into(),
        severity: "SEV2".into(),
        commander: "U123".into(),
        meeting_url: Some("https://meet.jit.si/muster-inc-42".into()),
        report_url: Some("https://muster.example.org/incidents/42/report".into()),
        security,
        timeline_emoji: "floppy_disk".into(),
        update_every_minutes: 30,
        command: "/incident".into(),
    }
}

#[test]
fn welcome_message_says_what_to_do_and_has_the_buttons() {
    let m = welcome_message(&welcome("Too many 500s", false), &[Lang::En]);
    let json = serde_json::to_string(&m.blocks).unwrap();
    assert!(json.contains("INC-42: Too many 500s"));
    assert!(json.contains("<@U123>"));
    assert!(json.contains(":floppy_disk:"));
    assert!(json.contains("every 30 minutes"));
    assert!(json.contains("https://meet.jit.si/muster-inc-42"));
    let actions = m.blocks.last().unwrap();
    let ids_: Vec<_> = actions["elements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        ids_,
        [
            ids::ACTION_ASSIGN_ROLES,
            ids::ACTION_POST_UPDATE,
            ids::ACTION_RESOLVE
        ]
    );
    assert_eq!(
        actions["elements"][0]["value"],
        "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
    );
    assert!(!json.contains(":lock:"));
    assert!(check_message(&m).is_empty());
    assert_translated(&blocks_value(&m));

    let both = welcome_message(&welcome("Too many 500s", true), &[Lang::En, Lang::Fr]);
    let json = serde_json::to_string(&both.blocks).unwrap();
    assert!(json.contains("Prochaines étapes") && json.contains("What to do next"));
    assert!(json.contains(":lock:"));
    assert!(json.contains("Resolve / Résoudre"));
}

fn blocks_value(m: &SlackMessage) -> Value {
    m.to_json()
}

#[test]
fn welcome_and_announcement_stay_within_limits_on_worst_case_input() {
    let title = "W<&>".repeat(40); // 160 characters, escaped to far more
    let mut w = welcome(&title, true);
    w.severity = "s".repeat(3000);
    w.command = "/incident".into();
    w.meeting_url = Some(format!("https://x.test/{}", "a".repeat(3000)));
    let m = welcome_message(&w, &[Lang::En, Lang::Fr]);
    assert!(check_message(&m).is_empty(), "{:?}", check_message(&m));
    let a = AnnouncementInfo {
        number: "INC-99999".into(),
        title: title.clone(),
        severity: "s".repeat(3000),
        status: "t".repeat(3000),
        team: Some("<team>".repeat(500)),
        channel_id: "C0123".into(),
        declarer: "U1".into(),
        commander: "U2".into(),
        security: false,
    };
    let m = announcement_message(&a, &[]);
    assert!(check_message(&m).is_empty(), "{:?}", check_message(&m));
    assert!(m.text.chars().count() <= limits::MAX_MESSAGE_TEXT);
}

#[test]
fn announcement_is_bilingual_and_hides_private_channels() {
    let a = AnnouncementInfo {
        number: "INC-7".into(),
        title: "Checkout is slow".into(),
        severity: "SEV2".into(),
        status: "Open".into(),
        team: Some("Payments".into()),
        channel_id: "C0INC7".into(),
        declarer: "U1".into(),
        commander: "U2".into(),
        security: false,
    };
    let m = announcement_message(&a, &[]);
    let json = serde_json::to_string(&m.blocks).unwrap();
    assert!(json.contains("Incident INC-7 declared"));
    assert!(json.contains("Incident INC-7 déclaré"));
    assert!(json.contains("<#C0INC7>"));
    assert_eq!(m.text, "Incident INC-7 declared: Checkout is slow (SEV2)");
    assert_translated(&m.to_json());

    let private = announcement_message(
        &AnnouncementInfo {
            security: true,
            ..a.clone()
        },
        &[Lang::Fr],
    );
    let json = serde_json::to_string(&private.blocks).unwrap();
    assert!(
        !json.contains("<#C0INC7>"),
        "private channel leaked: {json}"
    );
    assert!(json.contains("<@U2>"));
    assert!(private.text.starts_with("Incident INC-7 déclaré"));
}

#[test]
fn confirmations_and_step_failures() {
    let m = declare_received(Lang::Fr, "a <b>");
    assert!(m.text.contains("a &lt;b&gt;"));
    assert_eq!(m.ephemeral_response()["response_type"], "ephemeral");
    let m = not_incident_channel(Lang::En, "/incident");
    assert!(m.text.contains("`/incident [title]`"));
    let m = step_failed(
        &[Lang::En, Lang::Fr],
        "INC-3",
        "bookmarks",
        "Slack answered invalid_link to bookmarks.add",
        "slack/bookmarks",
    );
    let actions = m.blocks.last().unwrap();
    assert_eq!(actions["elements"][0]["action_id"], ids::ACTION_RETRY_STEP);
    assert_eq!(actions["elements"][0]["value"], "slack/bookmarks");
    assert_eq!(
        actions["elements"][0]["text"]["text"],
        "Try again / Réessayer"
    );
    // People read which part is missing, in each language; the code is a context line.
    assert!(m.text.contains("this step: the bookmarks."), "{}", m.text);
    assert!(m.text.contains("cette étape : les signets."), "{}", m.text);
    assert!(!m.text.contains("invalid_link"), "{}", m.text);
    assert_eq!(m.blocks[1]["type"], "context");
    assert!(m.blocks[1].to_string().contains("invalid_link"));
    let m = request_failed(Lang::En, &"z".repeat(5000));
    assert!(check_message(&m).is_empty());
    for m in [
        declare_received(Lang::En, "t"),
        not_incident_channel(Lang::Fr, "/incident"),
        step_failed(&[Lang::Fr], "INC-1", "invite", "b", "c"),
        request_failed(Lang::Fr, "d"),
    ] {
        assert_translated(&m.to_json());
    }
    // Secrets never end up in built messages by accident of Debug formatting.
    let s = Secret::new("xoxb-should-not-appear");
    let m = request_failed(Lang::En, &format!("{s}"));
    assert!(!m.text.contains("xoxb"));
    let _ = blocks::escape("");
}

fn view_with_values(built: &Value, values: Value) -> View {
    let mut v = built.clone();
    v["id"] = "V1".into();
    v["state"] = serde_json::json!({ "values": values });
    serde_json::from_value(v).unwrap()
}

#[test]
fn roles_modal_prefills_and_reads_back() {
    let c = Config::default();
    let meta = IncidentModalMetadata {
        incident_id: "inc-id".into(),
        lang: Lang::Fr,
    };
    let v = roles_modal(&c, &meta, "INC-3", &[("commander".into(), "U1".into())]);
    assert!(check_modal(&v).is_empty(), "{:?}", check_modal(&v));
    assert_translated(&v);
    assert_eq!(v["title"]["text"], "Attribuer les rôles");
    let blocks = v["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 1 + c.roles.len());
    assert_eq!(blocks[1]["block_id"], "role:commander");
    assert_eq!(blocks[1]["label"]["text"], "Commandant de l'incident");
    assert_eq!(blocks[1]["element"]["initial_user"], "U1");
    assert!(blocks[2]["element"].get("initial_user").is_none());

    let submitted = view_with_values(
        &v,
        serde_json::json!({
            "role:commander": { "role_user": { "type": "users_select", "selected_user": "U1" } },
            "role:ops-lead": { "role_user": { "type": "users_select", "selected_user": "U2" } },
            "role:scribe": { "role_user": { "type": "users_select", "selected_user": null } },
        }),
    );
    let (m, roles) = roles_from_view(&submitted);
    assert_eq!(m, meta);
    assert_eq!(
        roles,
        [
            ("commander".to_owned(), "U1".to_owned()),
            ("ops-lead".to_owned(), "U2".to_owned())
        ]
    );
}

#[test]
fn update_modal_and_its_validation() {
    let c = Config::default();
    let meta = IncidentModalMetadata {
        incident_id: "inc-id".into(),
        lang: Lang::En,
    };
    let v = update_modal(&c, &meta, "In Progress");
    assert!(check_modal(&v).is_empty(), "{:?}", check_modal(&v));
    assert_translated(&v);
    assert_eq!(v["callback_id"], ids::CALLBACK_UPDATE);
    assert_eq!(
        v["blocks"][1]["element"]["initial_option"]["value"],
        "In Progress"
    );
    let ok = view_with_values(
        &v,
        serde_json::json!({
            "update_text": { "update_text_input": { "type": "plain_text_input", "value": "  Rollback done. " } },
            "update_status": { "update_status_select": { "type": "static_select", "selected_option": { "value": "In Progress" } } },
        }),
    );
    let form = update_from_view(&ok).unwrap();
    assert_eq!(form.text, "Rollback done.");
    assert_eq!(form.status.as_deref(), Some("In Progress"));
    assert_eq!(form.meta.incident_id, "inc-id");
    let empty = view_with_values(
        &v,
        serde_json::json!({ "update_text": { "update_text_input": { "type": "plain_text_input", "value": null } } }),
    );
    let errors = update_from_view(&empty).unwrap_err();
    assert_eq!(errors[0].block_id, ids::BLOCK_UPDATE_TEXT);
    assert!(validation_errors(&errors)["errors"]["update_text"].is_string());
}

#[test]
fn help_lists_every_command_in_both_languages() {
    for (lang, word) in [
        (Lang::En, "archive this channel"),
        (Lang::Fr, "archiver ce canal"),
    ] {
        let m = help_message(lang, "/incident", "floppy_disk");
        assert!(check_message(&m).is_empty());
        assert_translated(&m.to_json());
        let text = m.to_json().to_string();
        for sub in [
            "status", "severity", "role", "update", "note", "action", "resolve", "close", "show",
        ] {
            assert!(text.contains(&format!("/incident {sub}")), "{lang}: {sub}");
        }
        assert!(text.contains(word));
        assert!(text.contains(":floppy_disk:"));
    }
}

#[test]
fn resolving_from_the_welcome_message_asks_for_confirmation() {
    let m = welcome_message(&welcome("t", false), &[Lang::Fr]);
    let resolve = &m.blocks.last().unwrap()["elements"][2];
    assert_eq!(resolve["action_id"], ids::ACTION_RESOLVE);
    assert_eq!(resolve["confirm"]["title"]["text"], "Résoudre INC-42 ?");
    assert!(check_message(&m).is_empty());
}

/// Every mrkdwn text of a built message or view (and its fallback `text`): where Slack
/// reads `<!channel>`, `<@U…>` and `<url|label>`. Plain-text fields are not parsed.
fn mrkdwn_texts(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            if o.get("type").and_then(Value::as_str) == Some("mrkdwn")
                && let Some(t) = o.get("text").and_then(Value::as_str)
            {
                out.push(t.to_owned());
            }
            o.values().for_each(|x| mrkdwn_texts(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| mrkdwn_texts(x, out)),
        _ => {}
    }
}

/// Text people typed goes into every builder as data: no channel ping, no hidden link,
/// no mention the bot did not mean, in any language.
#[test]
fn typed_text_never_becomes_markup_in_any_builder() {
    const NASTY: &str = "<!channel> & <https://evil.example|click me> <@UEVIL> x&lt;";
    // A raw `&` would start an entity; typed `&lt;` must read `&amp;lt;`, not `<`.
    let forbidden = ["<!channel>", "<https://evil", "<@UEVIL>", " & ", "x&lt;"];
    let check = |what: &str, m: &SlackMessage| {
        let mut texts = vec![m.text.clone()];
        mrkdwn_texts(&Value::Array(m.blocks.clone()), &mut texts);
        for t in &texts {
            for f in forbidden {
                assert!(!t.contains(f), "{what}: {f:?} in {t}");
            }
        }
    };
    let langs = [Lang::En, Lang::Fr];
    let mut w = welcome(NASTY, true);
    w.severity = NASTY.into();
    w.commander = Who::Named(NASTY.into());
    w.meeting_url = Some("https://x.test/?a=1&b=<!channel>|x".into());
    check("welcome", &welcome_message(&w, &langs));
    let a = AnnouncementInfo {
        number: "INC-1".into(),
        title: NASTY.into(),
        severity: NASTY.into(),
        status: NASTY.into(),
        team: Some(NASTY.into()),
        channel_id: "C1".into(),
        declarer: Who::Named(NASTY.into()),
        commander: Who::Named(NASTY.into()),
        security: false,
    };
    check("announcement", &announcement_message(&a, &langs));
    check(
        "private announcement",
        &announcement_message(
            &AnnouncementInfo {
                security: true,
                ..a
            },
            &langs,
        ),
    );
    check("declare received", &declare_received(Lang::Fr, NASTY));
    check("request failed", &request_failed(Lang::En, NASTY));
    check(
        "delayed",
        &provisioning_delayed(&langs, "INC-1", NASTY, &["bookmarks".into()]),
    );
    check(
        "step failed",
        &step_failed(&langs, "INC-1", "bookmarks", NASTY, "slack/bookmarks"),
    );
    check(
        "unknown subcommand",
        &unknown_subcommand(Lang::En, "/incident", NASTY, "floppy_disk"),
    );
    check("in each", &in_each(&langs, |_| blocks::escape(NASTY)));
    // What the bot means to mention stays a mention.
    assert_eq!(Who::User("U123".into()).render(), "<@U123>");
    assert_eq!(
        link("https://x.test/?a=1&b=2", "<r>"),
        "<https://x.test/?a=1&amp;b=2|&lt;r&gt;>"
    );
}
