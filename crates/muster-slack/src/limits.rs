//! Block Kit limits, safe truncation, and checks of built views and messages.
//!
//! Slack refuses a whole message or view (`invalid_blocks`) when one text is one character
//! too long, so the builders truncate every text they emit and the tests run
//! [`check_message`] and [`check_modal`] on worst-case inputs. Limits are counted in
//! characters (Unicode scalar values), which is how Slack counts them.

use crate::blocks::SlackMessage;
use serde_json::Value;

pub const MAX_MESSAGE_BLOCKS: usize = 50;
pub const MAX_MODAL_BLOCKS: usize = 100;
/// A message's top-level `text`.
pub const MAX_MESSAGE_TEXT: usize = 40_000;
pub const MAX_SECTION_TEXT: usize = 3_000;
pub const MAX_SECTION_FIELD: usize = 2_000;
pub const MAX_SECTION_FIELDS: usize = 10;
pub const MAX_HEADER_TEXT: usize = 150;
pub const MAX_CONTEXT_ELEMENTS: usize = 10;
pub const MAX_CONTEXT_TEXT: usize = 3_000;
pub const MAX_ACTION_ELEMENTS: usize = 25;
pub const MAX_BUTTON_TEXT: usize = 75;
pub const MAX_BUTTON_VALUE: usize = 2_000;
pub const MAX_OPTIONS: usize = 100;
pub const MAX_OPTION_TEXT: usize = 75;
pub const MAX_OPTION_VALUE: usize = 150;
pub const MAX_OPTION_DESCRIPTION: usize = 75;
pub const MAX_PLACEHOLDER: usize = 150;
pub const MAX_INPUT_LABEL: usize = 2_000;
pub const MAX_HINT: usize = 2_000;
pub const MAX_INPUT_VALUE: usize = 3_000;
pub const MAX_MODAL_TITLE: usize = 24;
/// Submit and close buttons of a modal.
pub const MAX_MODAL_BUTTON: usize = 24;
pub const MAX_PRIVATE_METADATA: usize = 3_000;
/// A confirmation dialog's title, text and buttons.
pub const MAX_CONFIRM_TITLE: usize = 100;
pub const MAX_CONFIRM_TEXT: usize = 300;
pub const MAX_CONFIRM_BUTTON: usize = 30;
pub const MAX_ID: usize = 255;
/// Not documented as a hard limit; long error texts are cut in the modal anyway.
pub const MAX_INPUT_ERROR: usize = 2_000;

const ELLIPSIS: char = '…';

/// Cut `text` to at most `max` characters, ending with `…` when something was cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    if max == 0 {
        return String::new();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push(ELLIPSIS);
    out
}

/// Cut to at most `max` characters without an ellipsis (for input values, which people
/// edit: an added character would change what they typed).
pub fn truncate_exact(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// Like [`truncate`], for mrkdwn: never leaves half an entity (`&amp;`) or half a link or
/// mention (`<https://…|label>`, `<@U1>`) at the end.
pub fn truncate_mrkdwn(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    if max == 0 {
        return String::new();
    }
    let mut kept: String = text.chars().take(max - 1).collect();
    if let Some(open) = kept.rfind('<')
        && !kept[open..].contains('>')
    {
        kept.truncate(open);
    }
    if let Some(amp) = kept.rfind('&')
        && !kept[amp..].contains(';')
    {
        kept.truncate(amp);
    }
    kept.push(ELLIPSIS);
    kept
}

/// One broken limit, with where it is (a JSON-pointer-like path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub path: String,
    pub what: &'static str,
    pub limit: usize,
    pub actual: usize,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} is {}, limit {}",
            self.path, self.what, self.actual, self.limit
        )
    }
}

struct Checker {
    out: Vec<Violation>,
}

impl Checker {
    fn max(&mut self, path: &str, what: &'static str, actual: usize, limit: usize) {
        if actual > limit {
            self.out.push(Violation {
                path: path.to_owned(),
                what,
                limit,
                actual,
            });
        }
    }

    fn text(&mut self, v: &Value, path: &str, what: &'static str, limit: usize) {
        if let Some(s) = v.get("text").and_then(Value::as_str) {
            self.max(&format!("{path}/text"), what, chars(s), limit);
        } else if let Some(s) = v.as_str() {
            self.max(path, what, chars(s), limit);
        }
    }

    fn str_field(&mut self, v: &Value, key: &str, path: &str, what: &'static str, limit: usize) {
        if let Some(s) = v.get(key).and_then(Value::as_str) {
            self.max(&format!("{path}/{key}"), what, chars(s), limit);
        }
    }

    fn blocks(&mut self, blocks: &[Value], path: &str, max_blocks: usize) {
        self.max(path, "number of blocks", blocks.len(), max_blocks);
        for (i, b) in blocks.iter().enumerate() {
            let p = format!("{path}/{i}");
            self.str_field(b, "block_id", &p, "block_id length", MAX_ID);
            match b.get("type").and_then(Value::as_str).unwrap_or("") {
                "section" => {
                    if let Some(t) = b.get("text") {
                        self.text(
                            t,
                            &format!("{p}/text"),
                            "section text length",
                            MAX_SECTION_TEXT,
                        );
                    }
                    if let Some(fields) = b.get("fields").and_then(Value::as_array) {
                        self.max(
                            &format!("{p}/fields"),
                            "number of fields",
                            fields.len(),
                            MAX_SECTION_FIELDS,
                        );
                        for (j, f) in fields.iter().enumerate() {
                            self.text(
                                f,
                                &format!("{p}/fields/{j}"),
                                "field text length",
                                MAX_SECTION_FIELD,
                            );
                        }
                    }
                    if let Some(acc) = b.get("accessory") {
                        self.element(acc, &format!("{p}/accessory"));
                    }
                }
                "header" => {
                    if let Some(t) = b.get("text") {
                        self.text(
                            t,
                            &format!("{p}/text"),
                            "header text length",
                            MAX_HEADER_TEXT,
                        );
                    }
                }
                "context" => {
                    let els = array(b, "elements");
                    self.max(
                        &format!("{p}/elements"),
                        "number of context elements",
                        els.len(),
                        MAX_CONTEXT_ELEMENTS,
                    );
                    for (j, e) in els.iter().enumerate() {
                        self.text(
                            e,
                            &format!("{p}/elements/{j}"),
                            "context text length",
                            MAX_CONTEXT_TEXT,
                        );
                    }
                }
                "actions" => {
                    let els = array(b, "elements");
                    self.max(
                        &format!("{p}/elements"),
                        "number of action elements",
                        els.len(),
                        MAX_ACTION_ELEMENTS,
                    );
                    for (j, e) in els.iter().enumerate() {
                        self.element(e, &format!("{p}/elements/{j}"));
                    }
                }
                "input" => {
                    if let Some(l) = b.get("label") {
                        self.text(
                            l,
                            &format!("{p}/label"),
                            "input label length",
                            MAX_INPUT_LABEL,
                        );
                    }
                    if let Some(h) = b.get("hint") {
                        self.text(h, &format!("{p}/hint"), "hint length", MAX_HINT);
                    }
                    if let Some(e) = b.get("element") {
                        self.element(e, &format!("{p}/element"));
                    }
                }
                _ => {}
            }
        }
    }

    fn option(&mut self, o: &Value, p: &str) {
        if let Some(t) = o.get("text") {
            self.text(
                t,
                &format!("{p}/text"),
                "option text length",
                MAX_OPTION_TEXT,
            );
        }
        self.str_field(o, "value", p, "option value length", MAX_OPTION_VALUE);
        if let Some(d) = o.get("description") {
            self.text(
                d,
                &format!("{p}/description"),
                "option description length",
                MAX_OPTION_DESCRIPTION,
            );
        }
    }

    fn element(&mut self, e: &Value, p: &str) {
        self.str_field(e, "action_id", p, "action_id length", MAX_ID);
        if let Some(ph) = e.get("placeholder") {
            self.text(
                ph,
                &format!("{p}/placeholder"),
                "placeholder length",
                MAX_PLACEHOLDER,
            );
        }
        match e.get("type").and_then(Value::as_str).unwrap_or("") {
            "button" => {
                if let Some(t) = e.get("text") {
                    self.text(
                        t,
                        &format!("{p}/text"),
                        "button text length",
                        MAX_BUTTON_TEXT,
                    );
                }
                self.str_field(e, "value", p, "button value length", MAX_BUTTON_VALUE);
            }
            "plain_text_input" => {
                let max_len = e
                    .get("max_length")
                    .and_then(Value::as_u64)
                    .map(|n| n as usize)
                    .unwrap_or(MAX_INPUT_VALUE);
                self.max(
                    &format!("{p}/max_length"),
                    "max_length",
                    max_len,
                    MAX_INPUT_VALUE,
                );
                self.str_field(
                    e,
                    "initial_value",
                    p,
                    "initial value length",
                    max_len.min(MAX_INPUT_VALUE),
                );
            }
            _ => {}
        }
        if let Some(c) = e.get("confirm") {
            let cp = format!("{p}/confirm");
            for (key, what, limit) in [
                ("title", "confirm title length", MAX_CONFIRM_TITLE),
                ("text", "confirm text length", MAX_CONFIRM_TEXT),
                ("confirm", "confirm button length", MAX_CONFIRM_BUTTON),
                ("deny", "deny button length", MAX_CONFIRM_BUTTON),
            ] {
                if let Some(x) = c.get(key) {
                    self.text(x, &format!("{cp}/{key}"), what, limit);
                }
            }
        }
        if let Some(opts) = e.get("options").and_then(Value::as_array) {
            self.max(
                &format!("{p}/options"),
                "number of options",
                opts.len(),
                MAX_OPTIONS,
            );
            for (j, o) in opts.iter().enumerate() {
                self.option(o, &format!("{p}/options/{j}"));
            }
        }
        if let Some(o) = e.get("initial_option") {
            self.option(o, &format!("{p}/initial_option"));
        }
    }
}

/// The array under `key`, or an empty slice.
fn array<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// Check blocks meant for a message.
pub fn check_blocks(blocks: &[Value]) -> Vec<Violation> {
    let mut c = Checker { out: vec![] };
    c.blocks(blocks, "/blocks", MAX_MESSAGE_BLOCKS);
    c.out
}

/// Check a message: its blocks and its fallback text.
pub fn check_message(message: &SlackMessage) -> Vec<Violation> {
    let mut c = Checker { out: vec![] };
    c.max(
        "/text",
        "message text length",
        chars(&message.text),
        MAX_MESSAGE_TEXT,
    );
    c.blocks(&message.blocks, "/blocks", MAX_MESSAGE_BLOCKS);
    c.out
}

/// Check a modal view object (as given to `views.open` or `views.update`).
pub fn check_modal(view: &Value) -> Vec<Violation> {
    let mut c = Checker { out: vec![] };
    for (key, what) in [
        ("title", "modal title length"),
        ("submit", "modal submit length"),
        ("close", "modal close length"),
    ] {
        if let Some(t) = view.get(key) {
            c.text(t, &format!("/{key}"), what, MAX_MODAL_TITLE);
        }
    }
    c.str_field(
        view,
        "private_metadata",
        "",
        "private_metadata length",
        MAX_PRIVATE_METADATA,
    );
    c.str_field(view, "callback_id", "", "callback_id length", MAX_ID);
    let blocks = array(view, "blocks");
    c.blocks(blocks, "/blocks", MAX_MODAL_BLOCKS);
    c.out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn truncate_counts_characters_and_marks_the_cut() {
        assert_eq!(truncate("héllo", 5), "héllo");
        assert_eq!(truncate("héllo", 4), "hél…");
        assert_eq!(truncate("héllo", 0), "");
        assert_eq!(truncate(&"é".repeat(200), 150).chars().count(), 150);
        assert_eq!(truncate_exact("abcdef", 3), "abc");
    }

    #[test]
    fn truncate_mrkdwn_never_splits_entities_or_links() {
        let s = format!("{}&amp;tail", "a".repeat(10));
        let cut = truncate_mrkdwn(&s, 13);
        assert_eq!(cut, format!("{}…", "a".repeat(10)));
        let s = format!("{}<https://example.org|label> more", "b".repeat(5));
        let cut = truncate_mrkdwn(&s, 12);
        assert_eq!(cut, format!("{}…", "b".repeat(5)));
        assert!(truncate_mrkdwn(&"x".repeat(5000), 3000).chars().count() <= 3000);
    }

    #[test]
    fn checker_finds_each_kind_of_violation() {
        let long = "x".repeat(3001);
        let msg = SlackMessage {
            text: "ok".into(),
            blocks: vec![
                json!({"type":"section","text":{"type":"mrkdwn","text": long}}),
                json!({"type":"header","text":{"type":"plain_text","text": "h".repeat(151)}}),
                json!({"type":"actions","elements":[{"type":"button","text":{"type":"plain_text","text":"b".repeat(76)},"action_id":"a"}]}),
            ],
        };
        let v = check_message(&msg);
        let whats: Vec<_> = v.iter().map(|v| v.what).collect();
        assert_eq!(
            whats,
            [
                "section text length",
                "header text length",
                "button text length"
            ],
            "{v:?}"
        );
        let many = SlackMessage {
            text: String::new(),
            blocks: vec![json!({"type":"divider"}); 51],
        };
        assert_eq!(check_message(&many)[0].what, "number of blocks");
        let modal = json!({
            "type":"modal",
            "title":{"type":"plain_text","text":"t".repeat(25)},
            "blocks": vec![json!({"type":"divider"}); 101],
        });
        let whats: Vec<_> = check_modal(&modal).iter().map(|v| v.what).collect();
        assert_eq!(whats, ["modal title length", "number of blocks"]);
        let ok_modal = json!({"type":"modal","title":{"type":"plain_text","text":"t".repeat(24)},
            "blocks": vec![json!({"type":"divider"}); 100]});
        assert!(check_modal(&ok_modal).is_empty());
    }
}
