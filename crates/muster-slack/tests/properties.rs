//! Property tests: parsers of outside input never panic, signatures round-trip, and the
//! builders stay within Block Kit limits whatever people type.

use muster_core::config::Config;
use muster_core::{Lang, Secret};
use muster_slack::blocks::*;
use muster_slack::limits::{self, check_message, check_modal};
use muster_slack::payload::{EventBody, Interaction, SlashCommand, decode_entities};
use muster_slack::signature::{Verifier, sign};
use proptest::prelude::*;

/// Text with the characters that matter to mrkdwn and to counting: entities, links,
/// mentions, multi-byte letters, emoji and newlines.
fn nasty_text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("&".to_owned()),
            Just("<".to_owned()),
            Just(">".to_owned()),
            Just("<@U123>".to_owned()),
            Just("<https://x.test|y>".to_owned()),
            Just("é".to_owned()),
            Just("🔥".to_owned()),
            Just("\n".to_owned()),
            "[a-z ]{1,8}",
        ],
        0..max,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// What a person typed survives Slack's escaping and our decoding exactly (decoded
    /// once: `&lt;` typed stays `&lt;`), and escaping the decoded text gives Slack's text
    /// back, so nothing is shown as `&amp;lt;`.
    #[test]
    fn decoding_slack_text_round_trips(
        typed in prop::collection::vec(
            prop_oneof![
                Just("&".to_owned()),
                Just("<".to_owned()),
                Just(">".to_owned()),
                Just("&amp;".to_owned()),
                Just("&lt;".to_owned()),
                Just("&gt;".to_owned()),
                Just("&quot;".to_owned()),
                Just("amp;".to_owned()),
                Just("é".to_owned()),
                "[a-z ;]{1,6}",
            ],
            0..24,
        ).prop_map(|p| p.concat())
    ) {
        let sent = escape(&typed);
        prop_assert_eq!(&decode_entities(&sent), &typed);
        prop_assert_eq!(escape(&decode_entities(&sent)), sent);
    }

    #[test]
    fn parsers_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = SlashCommand::from_form(&bytes);
        let _ = Interaction::from_form(&bytes);
        let _ = EventBody::from_json(&bytes);
        if let Ok(s) = std::str::from_utf8(&bytes) {
            let _ = Interaction::from_json(s);
            let _ = muster_slack::payload::SocketMessage::from_json(s);
        }
    }

    #[test]
    fn verify_never_panics(ts in ".{0,20}", sig in ".{0,80}", body in prop::collection::vec(any::<u8>(), 0..64), now in any::<i64>()) {
        let v = Verifier::new(Secret::new("k"));
        let _ = v.verify(Some(&ts), Some(&sig), &body, now);
    }

    #[test]
    fn sign_then_verify_round_trips(
        secret in "[ -~]{1,40}",
        ts in 0i64..4_000_000_000,
        body in prop::collection::vec(any::<u8>(), 0..256),
        skew in -300i64..=300,
    ) {
        let s = Secret::new(secret);
        let sig = sign(&s, ts, &body);
        prop_assert_eq!(Verifier::new(s).verify(Some(&ts.to_string()), Some(&sig), &body, ts + skew), Ok(()));
    }

    #[test]
    fn truncation_respects_the_limit(text in nasty_text(400), max in 0usize..300) {
        let t = limits::truncate(&text, max);
        prop_assert!(t.chars().count() <= max);
        let m = limits::truncate_mrkdwn(&escape(&text), max);
        prop_assert!(m.chars().count() <= max);
        if text.chars().count() <= max {
            prop_assert_eq!(t, text);
        }
    }

    #[test]
    fn built_views_and_messages_stay_within_limits(
        title in nasty_text(200),
        description in nasty_text(1200),
        team in nasty_text(100),
        security in any::<bool>(),
        fr in any::<bool>(),
    ) {
        let lang = if fr { Lang::Fr } else { Lang::En };
        let config = Config::default();
        let mut form = DeclareForm::from_command(&title, lang, Some("C1"));
        form.description = description.clone();
        form.team = Some(team.clone());
        form.security = Some(security);
        let modal = declare_modal(&form, &config);
        prop_assert!(check_modal(&modal).is_empty(), "{:?}", check_modal(&modal));

        let w = welcome_message(&WelcomeInfo {
            incident_id: "id".into(),
            number: "INC-1".into(),
            title: title.clone(),
            severity: team.clone(),
            commander: "U1".into(),
            meeting_url: Some(format!("https://x.test/{team}")),
            report_url: Some("https://x.test/r".into()),
            security,
            timeline_emoji: "floppy_disk".into(),
            update_every_minutes: 30,
            command: "/incident".into(),
        }, &Lang::ALL);
        prop_assert!(check_message(&w).is_empty(), "{:?}", check_message(&w));

        let a = announcement_message(&AnnouncementInfo {
            number: "INC-1".into(),
            title: title.clone(),
            severity: "SEV1".into(),
            status: description.clone(),
            team: Some(team),
            channel_id: "C1".into(),
            declarer: "U1".into(),
            commander: "U2".into(),
            security,
        }, &[]);
        prop_assert!(check_message(&a).is_empty(), "{:?}", check_message(&a));
        let e = request_failed(lang, &description);
        prop_assert!(check_message(&e).is_empty());
    }
}
