//! Channel names: `incident-2026-11-26-leaked-tokens-in-ci-logs`.
//!
//! Slack accepts names of at most 80 characters made of lowercase letters, digits, hyphens
//! and underscores, and refuses names made only of punctuation. A [`ChannelName`] can only
//! be built through functions that guarantee those rules, with room left for a collision
//! suffix (`-2` … `-999`) so a retry after `name_taken` never breaks the budget.

use crate::DomainError;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Slack's limit on channel names.
pub const MAX_CHANNEL_CHARS: usize = 80;
/// Room kept for a collision suffix such as `-12`.
pub const SUFFIX_RESERVE: usize = 4;

/// A channel name that chat platforms accept.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ChannelName(String);

impl ChannelName {
    /// Render the configured template for a title declared on `date`.
    pub fn for_incident(
        template: &ChannelTemplate,
        date: NaiveDate,
        title: &str,
    ) -> Result<Self, DomainError> {
        let date = date.format("%Y-%m-%d").to_string();
        let prefix = template.prefix.replace("{date}", &date);
        let suffix = template.suffix.replace("{date}", &date);
        let budget = MAX_CHANNEL_CHARS
            .saturating_sub(SUFFIX_RESERVE)
            .saturating_sub(prefix.len() + suffix.len());
        let slug = slugify(title, budget);
        if slug.is_empty() {
            return Err(DomainError::TitleNoLetters);
        }
        Ok(ChannelName(format!("{prefix}{slug}{suffix}")))
    }

    /// The name to try after `attempt - 1` collisions: the name itself, then `-2`, `-3`…
    pub fn with_collision_suffix(&self, attempt: u32) -> ChannelName {
        if attempt <= 1 {
            return self.clone();
        }
        let tail = format!("-{attempt}");
        let keep = MAX_CHANNEL_CHARS
            .saturating_sub(tail.len())
            .min(self.0.len());
        let base = self.0[..keep].trim_end_matches('-');
        ChannelName(format!("{base}{tail}"))
    }

    /// Check a name that came from outside (a database row, a chat platform).
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        if is_valid_channel_name(s) {
            Ok(ChannelName(s.to_owned()))
        } else {
            Err(DomainError::BadChannelName(s.chars().take(100).collect()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ChannelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The rules Slack's `conversations.create` applies to `name`.
pub fn is_valid_channel_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_CHANNEL_CHARS
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && s.bytes().any(|b| b.is_ascii_alphanumeric())
}

/// A parsed channel-name template such as `incident-{date}-{slug}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelTemplate {
    prefix: String,
    suffix: String,
}

impl ChannelTemplate {
    /// Accepts templates with exactly one `{slug}`, optionally `{date}`, and otherwise only
    /// characters that are valid in a channel name.
    pub fn parse(template: &str) -> Result<Self, DomainError> {
        let bad = || DomainError::BadChannelTemplate(template.to_owned());
        let (prefix, suffix) = template.split_once("{slug}").ok_or_else(bad)?;
        if suffix.contains("{slug}") {
            return Err(bad());
        }
        for part in [prefix, suffix] {
            let literal = part.replace("{date}", "");
            if literal.contains('{') || literal.contains('}') {
                return Err(bad());
            }
            if !literal
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
            {
                return Err(bad());
            }
        }
        // "{date}" renders as 10 characters; leave at least 10 for the slug.
        let fixed = prefix.replace("{date}", "0000-00-00").len()
            + suffix.replace("{date}", "0000-00-00").len();
        if fixed + SUFFIX_RESERVE + 10 > MAX_CHANNEL_CHARS {
            return Err(bad());
        }
        Ok(ChannelTemplate {
            prefix: prefix.to_owned(),
            suffix: suffix.to_owned(),
        })
    }
}

impl Default for ChannelTemplate {
    fn default() -> Self {
        ChannelTemplate::parse("incident-{date}-{slug}").expect("built-in template is valid")
    }
}

/// Lowercase ASCII slug of `text`: accents folded (é→e, ç→c), other scripts transliterated,
/// every run of other characters turned into one `-`, at most `max` bytes, cut at a word
/// boundary when one is near.
pub fn slugify(text: &str, max: usize) -> String {
    let mut slug = String::with_capacity(text.len().min(max));
    let mut pending_dash = false;
    // Only letters and digits are transliterated: emoji and symbols separate words
    // instead of turning into words of their own.
    let ascii = text.chars().flat_map(|c| {
        let folded = if c.is_alphanumeric() || c == '_' {
            deunicode::deunicode_char(c).unwrap_or("-")
        } else {
            "-"
        };
        folded.chars()
    });
    for c in ascii {
        let c = c.to_ascii_lowercase();
        // Leading underscores would be trimmed anyway; skipping them keeps them from
        // filling the budget, so a slug never starts without a letter or digit and a cut
        // can never leave it empty (a title `Title::parse` accepts always names a channel).
        if c == '_' && slug.is_empty() {
            continue;
        }
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' {
            if pending_dash && !slug.is_empty() {
                slug.push('-');
            }
            pending_dash = false;
            slug.push(c);
        } else {
            pending_dash = true;
        }
        if slug.len() > max {
            break;
        }
    }
    if slug.len() > max {
        // Prefer to cut at the last word boundary if it keeps most of the budget.
        let at = if slug.as_bytes()[max] == b'-' {
            max
        } else {
            match slug[..max].rfind('-') {
                Some(i) if i >= max / 2 => i,
                _ => max,
            }
        };
        slug.truncate(at);
    }
    let trimmed = slug.trim_matches(|c| c == '-' || c == '_');
    if trimmed.bytes().any(|b| b.is_ascii_alphanumeric()) {
        trimmed.to_owned()
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
    }

    #[test]
    fn example_from_the_issue() {
        let n = ChannelName::for_incident(
            &ChannelTemplate::default(),
            day(),
            "Leaked tokens in CI logs",
        )
        .unwrap();
        assert_eq!(n.as_str(), "incident-2026-11-26-leaked-tokens-in-ci-logs");
    }

    #[test]
    fn folds_accents_and_punctuation() {
        assert_eq!(
            slugify("Ça plante: échec général!", 80),
            "ca-plante-echec-general"
        );
        assert_eq!(slugify("  --Too   many 500s--  ", 80), "too-many-500s");
        assert_eq!(slugify("db_primary down", 80), "db_primary-down");
        assert_eq!(slugify("!!!", 80), "");
    }

    #[test]
    fn long_titles_are_cut_at_a_word_boundary() {
        let title = "the payment gateway is returning errors for every card issued outside of canada since noon";
        let n = ChannelName::for_incident(&ChannelTemplate::default(), day(), title).unwrap();
        assert!(n.as_str().len() <= MAX_CHANNEL_CHARS - SUFFIX_RESERVE);
        assert!(!n.as_str().ends_with('-'));
        assert!(
            title
                .replace(' ', "-")
                .starts_with(&n.as_str()["incident-2026-11-26-".len()..])
        );
    }

    #[test]
    fn leading_underscores_do_not_use_up_the_budget() {
        // Found by the `domain` fuzz target: 70 underscores before the only letter made a
        // title that `Title::parse` accepts but whose slug, cut to the budget, was empty.
        for title in [
            format!("{}a", "_".repeat(70)),
            format!("{} db down", "_ ".repeat(40)),
            format!("{}=a", "_".repeat(30) + &"\0".repeat(4) + &"_".repeat(30)),
        ] {
            crate::Title::parse(&title).unwrap();
            let n = ChannelName::for_incident(&ChannelTemplate::default(), day(), &title).unwrap();
            assert!(is_valid_channel_name(n.as_str()), "{n}");
        }
        assert_eq!(slugify(&format!("{}a", "_".repeat(70)), 10), "a");
        assert_eq!(slugify("__db_primary__", 80), "db_primary");
    }

    #[test]
    fn collision_suffix_stays_in_budget() {
        let n = ChannelName::for_incident(&ChannelTemplate::default(), day(), &"x".repeat(150))
            .unwrap();
        for attempt in [1, 2, 10, 999, 100_000] {
            let s = n.with_collision_suffix(attempt);
            assert!(is_valid_channel_name(s.as_str()), "{s}");
        }
        assert_eq!(
            n.with_collision_suffix(3).as_str(),
            format!("{}-3", n.as_str())
        );
    }

    #[test]
    fn templates_are_checked() {
        assert!(ChannelTemplate::parse("inc-{slug}").is_ok());
        assert!(ChannelTemplate::parse("{date}_{slug}_ops").is_ok());
        assert!(ChannelTemplate::parse("incident-{date}").is_err());
        assert!(ChannelTemplate::parse("Incident-{slug}").is_err());
        assert!(ChannelTemplate::parse("inc-{slug}-{slug}").is_err());
        assert!(ChannelTemplate::parse("inc-{team}-{slug}").is_err());
        assert!(ChannelTemplate::parse(&format!("{}{{slug}}", "a".repeat(70))).is_err());
    }

    proptest! {
        #[test]
        fn any_accepted_title_gives_a_name_slack_accepts(title in "\\PC{0,200}", y in 2000i32..2100, d in 1u32..28) {
            let date = NaiveDate::from_ymd_opt(y, 1, d).unwrap();
            if let Ok(t) = crate::Title::parse(&title) {
                let n = ChannelName::for_incident(&ChannelTemplate::default(), date, t.as_str()).unwrap();
                prop_assert!(is_valid_channel_name(n.as_str()), "{}", n);
                prop_assert!(n.as_str().len() <= MAX_CHANNEL_CHARS - SUFFIX_RESERVE);
                for attempt in [2u32, 99, 999] {
                    prop_assert!(is_valid_channel_name(n.with_collision_suffix(attempt).as_str()));
                }
                // Stable: the same input always gives the same name.
                let again = ChannelName::for_incident(&ChannelTemplate::default(), date, t.as_str()).unwrap();
                prop_assert_eq!(n, again);
            }
        }

        #[test]
        fn slug_only_has_allowed_bytes(text in ".{0,300}", max in 1usize..90) {
            let s = slugify(&text, max);
            prop_assert!(s.len() <= max);
            prop_assert!(s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'));
            prop_assert!(!s.starts_with('-') && !s.ends_with('-'));
        }
    }
}
