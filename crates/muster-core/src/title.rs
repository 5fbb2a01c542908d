//! Incident titles, parsed once at the edge so the rest of the code can trust them.

use crate::DomainError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest title we accept, in characters. The title is shown in a Slack header block,
/// whose limit is 150 characters, and in the channel topic.
pub const MAX_TITLE_CHARS: usize = 150;

/// A title with surrounding whitespace trimmed, inner whitespace collapsed, at most
/// [`MAX_TITLE_CHARS`] characters, and at least one letter or digit (so it can name a channel).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Title(String);

impl Title {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let collapsed = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if collapsed.is_empty() {
            return Err(DomainError::TitleEmpty);
        }
        let len = collapsed.chars().count();
        if len > MAX_TITLE_CHARS {
            return Err(DomainError::TitleTooLong {
                max: MAX_TITLE_CHARS,
                actual: len,
            });
        }
        if !collapsed.chars().any(char::is_alphanumeric) {
            return Err(DomainError::TitleNoLetters);
        }
        if crate::channel::slugify(&collapsed, usize::MAX).is_empty() {
            return Err(DomainError::TitleNoLetters);
        }
        Ok(Title(collapsed))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Title {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Title::parse(&s)
    }
}

impl From<Title> for String {
    fn from(t: Title) -> String {
        t.0
    }
}

impl fmt::Display for Title {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_collapses() {
        assert_eq!(
            Title::parse("  too   many\t500s ").unwrap().as_str(),
            "too many 500s"
        );
    }

    #[test]
    fn rejects_bad_titles() {
        assert_eq!(Title::parse(""), Err(DomainError::TitleEmpty));
        assert_eq!(Title::parse(" \n\t "), Err(DomainError::TitleEmpty));
        assert!(matches!(
            Title::parse(&"a".repeat(500)),
            Err(DomainError::TitleTooLong { actual: 500, .. })
        ));
        assert_eq!(
            Title::parse("!!! ??? ..."),
            Err(DomainError::TitleNoLetters)
        );
        assert_eq!(Title::parse("🔥🔥🔥"), Err(DomainError::TitleNoLetters));
    }

    #[test]
    fn keeps_markup_verbatim() {
        // Escaping is the renderer's job; the record keeps what the person typed.
        let t = Title::parse("<script>alert(1)</script> **down**").unwrap();
        assert_eq!(t.as_str(), "<script>alert(1)</script> **down**");
    }
}
