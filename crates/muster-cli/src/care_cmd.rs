//! What `muster incident snooze`, `dismiss` and `show` say about reminders.

use crate::failure::Failure;
use crate::output;
use muster_core::Lang;
use muster_core::i18n::Args;
use muster_core::time::{Timestamp, display};
use serde_json::{Value, json};

pub fn snoozed(id: &str, until: Timestamp, json: bool, lang: Lang) -> Result<(), Failure> {
    if json {
        output::print_json(&json!({"incident": id, "until": until}));
    } else {
        let a = Args::new()
            .with("number", id.to_uppercase())
            .with("until", display(until));
        println!("{}", lang.format("care-snoozed", &a));
    }
    Ok(())
}

pub fn dismissed(id: &str, key: &str, json: bool, lang: Lang) -> Result<(), Failure> {
    if json {
        output::print_json(&json!({"incident": id, "dismissed": key}));
    } else {
        let a = Args::new()
            .with("number", id.to_uppercase())
            .with("key", key);
        println!("{}", lang.format("care-dismissed", &a));
    }
    Ok(())
}

/// One line per reminder that is due some day, after `show`'s text.
pub fn reminder_lines(reminders: &[Value], lang: Lang) -> String {
    let mut out = String::new();
    for r in reminders {
        let (Some(key), Some(due)) = (r["key"].as_str(), r["due"].as_str()) else {
            continue;
        };
        let due = muster_core::time::from_storage(due)
            .or_else(|| {
                chrono::DateTime::parse_from_rfc3339(due)
                    .ok()
                    .map(|t| t.to_utc())
            })
            .map_or_else(|| due.to_owned(), display);
        let a = Args::new().with("key", key).with("due", due);
        out.push_str(&format!("{}\n", lang.format("care-next-due", &a)));
    }
    if !out.is_empty() {
        out.insert_str(0, &format!("\n{}:\n", lang.t("care-heading")));
    }
    out
}
