//! Form bodies Slack posts (`application/x-www-form-urlencoded`): slash commands to
//! `/slack/commands` and the `payload=` field posted to `/slack/interactions`.
//! Property: parsing never panics, and what parsed can be used as the server uses it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use muster_slack::payload::{Interaction, SlashCommand};

fuzz_target!(|body: &[u8]| {
    if let Ok(cmd) = SlashCommand::from_form(body) {
        let (sub, rest) = cmd.subcommand();
        // The subcommand is one lowercased word; the rest is trimmed.
        assert!(!sub.contains(char::is_whitespace), "{sub:?}");
        assert_eq!(rest, rest.trim());
    }
    if let Ok(i) = Interaction::from_form(body) {
        let _ = i.user_id();
    }
});
