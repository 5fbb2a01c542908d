//! JSON Slack posts: Events API bodies (`/slack/events`) and interaction payloads as JSON
//! (what Socket Mode and the `payload=` field carry). Property: parsing never panics, a
//! `url_verification` answers with its challenge, and the same text parses the same way
//! as bytes and as a string.
#![no_main]

use libfuzzer_sys::fuzz_target;
use muster_slack::payload::{EventBody, Interaction};

fuzz_target!(|body: &[u8]| {
    match EventBody::from_json(body) {
        Ok(ev @ EventBody::UrlVerification { .. }) => {
            let EventBody::UrlVerification { challenge } = &ev else {
                unreachable!()
            };
            let answer = ev.challenge_response().expect("url_verification answers");
            assert_eq!(answer["challenge"].as_str(), Some(challenge.as_str()));
        }
        Ok(ev) => assert!(ev.challenge_response().is_none()),
        Err(e) => {
            // Error messages never echo the body (they may end up in logs).
            let _ = e.to_string();
        }
    }
    if let Ok(text) = std::str::from_utf8(body)
        && let Ok(i) = Interaction::from_json(text)
    {
        let _ = i.user_id();
    }
});
