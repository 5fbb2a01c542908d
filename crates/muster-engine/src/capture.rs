//! Timeline from chat: a message saved to the timeline by reacting to it, removed when
//! the reaction goes, rewritten when the message is edited.
//!
//! The chat adapter identifies each message by a source key of its own making, stable
//! across edits (the engine never reads it); the store keeps at most one
//! entry per incident and key, so a message reacted to twice (or an event delivered
//! twice) makes one entry.

use crate::{Engine, EngineError};
use muster_core::incident::{MAX_TEXT_CHARS, TimelineEvent, parse_link};
use muster_core::time::Timestamp;
use muster_core::{DomainError, IncidentId, IncidentRef};

/// Longest author name or id we keep.
const MAX_AUTHOR_CHARS: usize = 80;
/// Most file or attachment links kept per message.
const MAX_FILES: usize = 20;

/// A chat message to add to an incident's timeline, as the chat adapter read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedMessage {
    /// Identity of the message, stable across edits, as the chat adapter names it.
    pub source_key: String,
    /// Who wrote the message (a display name, else the chat user id).
    pub author: String,
    /// When the message was posted (the entry's time in the timeline).
    pub at: Timestamp,
    pub text: String,
    pub permalink: Option<String>,
    /// Links to the files or attachments of the message.
    pub files: Vec<String>,
}

/// Chat text as it goes into the record: trimmed, and cut to [`MAX_TEXT_CHARS`] with an
/// ellipsis rather than refused (nobody can shorten a message already posted).
fn chat_text(raw: &str) -> String {
    let t = raw.trim();
    if t.chars().count() <= MAX_TEXT_CHARS {
        return t.to_owned();
    }
    let mut cut: String = t.chars().take(MAX_TEXT_CHARS - 1).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

fn author(raw: &str) -> Result<String, DomainError> {
    let a = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if a.is_empty() {
        return Err(DomainError::EmptyText);
    }
    Ok(a.chars().take(MAX_AUTHOR_CHARS).collect())
}

/// Keep http(s) links only (a report never carries a `javascript:` link), each once.
fn links(raw: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in raw.iter().filter_map(|l| parse_link(l).ok()) {
        if !out.contains(&l) && out.len() < MAX_FILES {
            out.push(l);
        }
    }
    out
}

fn key(raw: &str) -> Result<&str, DomainError> {
    let k = raw.trim();
    if k.is_empty() {
        return Err(DomainError::EmptyText);
    }
    Ok(k)
}

impl Engine {
    /// Add a chat message to the timeline, at the time it was posted and under its
    /// author's name. Returns true when an entry appeared, false when the message was
    /// already on the timeline (reacted to twice, or the event was delivered twice).
    /// A message captured, removed and captured again comes back.
    ///
    /// Long text is cut to [`MAX_TEXT_CHARS`] with an ellipsis; a message with no text
    /// but files is kept (its text is empty). Refused: an empty key or author, and a
    /// message with neither text nor files.
    pub async fn capture_message(
        &self,
        r: IncidentRef,
        c: CapturedMessage,
    ) -> Result<bool, EngineError> {
        let source_key = key(&c.source_key)?;
        let author = author(&c.author)?;
        let text = chat_text(&c.text);
        let files = links(&c.files);
        if text.is_empty() && files.is_empty() {
            return Err(DomainError::EmptyText.into());
        }
        let permalink = links(c.permalink.as_slice()).pop();
        let id = self.incident_id(r).await?;
        let event = TimelineEvent::ChatMessage {
            text,
            permalink,
            files,
            author: author.clone(),
        };
        let saved = self
            .store()
            .capture_entry(id, source_key, c.at, &author, &event, self.now())
            .await?;
        self.announce(id, saved)
    }

    /// Take a captured message off the timeline (its reaction was removed). Returns
    /// false if it was not on the timeline.
    pub async fn uncapture_message(
        &self,
        r: IncidentRef,
        source_key: &str,
    ) -> Result<bool, EngineError> {
        let source_key = key(source_key)?;
        let id = self.incident_id(r).await?;
        let removed = self
            .store()
            .remove_captured(id, source_key, self.now())
            .await?;
        self.announce(id, removed)
    }

    /// The captured message was edited: rewrite its text, keeping its permalink, files
    /// and author. Returns false, changing nothing, if the message is not on the
    /// timeline (most edited messages were never captured) or already says that.
    pub async fn update_captured_message(
        &self,
        r: IncidentRef,
        source_key: &str,
        new_text: &str,
    ) -> Result<bool, EngineError> {
        let source_key = key(source_key)?;
        let id = self.incident_id(r).await?;
        let Some((
            _,
            _,
            TimelineEvent::ChatMessage {
                permalink,
                files,
                author,
                ..
            },
        )) = self.store().captured(id, source_key).await?
        else {
            return Ok(false);
        };
        let text = chat_text(new_text);
        if text.is_empty() && files.is_empty() {
            // Edited down to nothing: keep what was saved rather than an empty entry.
            return Ok(false);
        }
        let event = TimelineEvent::ChatMessage {
            text,
            permalink,
            files,
            author,
        };
        let updated = self
            .store()
            .update_captured(id, source_key, &event, self.now())
            .await?;
        self.announce(id, updated)
    }

    /// Tell live pages when the timeline changed; answer whether it did.
    fn announce(&self, id: IncidentId, changed: bool) -> Result<bool, EngineError> {
        if changed {
            self.changed(id);
        }
        Ok(changed)
    }

    async fn incident_id(&self, r: IncidentRef) -> Result<IncidentId, EngineError> {
        Ok(self
            .store()
            .find(r)
            .await?
            .ok_or_else(|| DomainError::IncidentNotFound(r.to_string()))?
            .id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_with_an_ellipsis_never_refused() {
        let long = "é".repeat(MAX_TEXT_CHARS + 50);
        let t = chat_text(&long);
        assert_eq!(t.chars().count(), MAX_TEXT_CHARS);
        assert!(t.ends_with('…'));
        assert_eq!(chat_text("  short \n"), "short");
        let exact = "x".repeat(MAX_TEXT_CHARS);
        assert_eq!(chat_text(&exact), exact);
    }

    #[test]
    fn only_http_links_are_kept_once() {
        let given = vec![
            "https://a.example/f.png".to_owned(),
            "javascript:alert(1)".to_owned(),
            " https://a.example/f.png ".to_owned(),
            "http://b.example/x".to_owned(),
            "https://c.example/has space".to_owned(),
        ];
        assert_eq!(
            links(&given),
            ["https://a.example/f.png", "http://b.example/x"]
        );
    }
}
