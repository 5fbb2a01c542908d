//! Why a request was refused, as data. Each variant maps to a message in every language
//! (see `i18n/*.ftl`); the English text doubles as the `Display` form for logs.

use crate::i18n::{Args, Lang};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("{}", self.message(Lang::En))]
    TitleEmpty,
    #[error("{}", self.message(Lang::En))]
    TitleTooLong { max: usize, actual: usize },
    #[error("{}", self.message(Lang::En))]
    TitleNoLetters,
    #[error("{}", self.message(Lang::En))]
    BadChannelName(String),
    #[error("{}", self.message(Lang::En))]
    BadChannelTemplate(String),
    #[error("{}", self.message(Lang::En))]
    BadIncidentRef(String),
    #[error("{}", self.message(Lang::En))]
    IncidentNotFound(String),
    #[error("{}", self.message(Lang::En))]
    UnknownSeverity { given: String, valid: Vec<String> },
    #[error("{}", self.message(Lang::En))]
    UnknownStatus { given: String, valid: Vec<String> },
    #[error("{}", self.message(Lang::En))]
    UnknownRole { given: String, valid: Vec<String> },
    #[error("{}", self.message(Lang::En))]
    UnknownTeam { given: String, valid: Vec<String> },
    #[error("{}", self.message(Lang::En))]
    TransitionNotAllowed {
        from: String,
        to: String,
        allowed: Vec<String>,
    },
    #[error("{}", self.message(Lang::En))]
    AlreadyInStatus(String),
    #[error("{}", self.message(Lang::En))]
    SameSeverity(String),
    #[error("{}", self.message(Lang::En))]
    EmptyText,
    #[error("{}", self.message(Lang::En))]
    TextTooLong { max: usize, actual: usize },
    #[error("{}", self.message(Lang::En))]
    UnknownActionType { given: String, valid: Vec<String> },
    #[error("{}", self.message(Lang::En))]
    UnknownPriority { given: String },
    #[error("{}", self.message(Lang::En))]
    ActionNotFound(i64),
    #[error("{}", self.message(Lang::En))]
    ActionAlreadyDone(i64),
    /// Reopening an action item that is still open.
    #[error("{}", self.message(Lang::En))]
    ActionNotDone(i64),
    /// Clearing a role nobody holds.
    #[error("{}", self.message(Lang::En))]
    RoleNotHeld(String),
    #[error("{}", self.message(Lang::En))]
    BadTime(String),
    #[error("{}", self.message(Lang::En))]
    BadUrl(String),
    #[error("{}", self.message(Lang::En))]
    ImpactOutOfOrder { earlier: String, later: String },
    #[error("{}", self.message(Lang::En))]
    TimeInFuture { value: String, minutes: i64 },
    #[error("{}", self.message(Lang::En))]
    NoteBeforeIncident { value: String, day: String },
    #[error("{}", self.message(Lang::En))]
    NothingToChange,
    /// No timeline entry with this number on the incident (or it was deleted).
    #[error("{}", self.message(Lang::En))]
    EntryNotFound(i64),
    /// Only whoever wrote a note may edit or delete it.
    #[error("{}", self.message(Lang::En))]
    NotYourNote(i64),
    #[error("{}", self.message(Lang::En))]
    UnknownLanguage(String),
    #[error("{}", self.message(Lang::En))]
    UnknownField { given: String, valid: Vec<String> },
    /// A duration that is not whole numbers with `s`, `m`, `h` or `d` (`muster_core::care`).
    #[error("{}", self.message(Lang::En))]
    BadDuration(String),
    /// A reminder key this configuration does not have.
    #[error("{}", self.message(Lang::En))]
    UnknownReminder { given: String, valid: Vec<String> },
}

impl DomainError {
    /// A stable machine-readable code, for `--json` output and the API.
    pub fn code(&self) -> &'static str {
        use DomainError::*;
        match self {
            TitleEmpty => "title_empty",
            TitleTooLong { .. } => "title_too_long",
            TitleNoLetters => "title_no_letters",
            BadChannelName(_) => "bad_channel_name",
            BadChannelTemplate(_) => "bad_channel_template",
            BadIncidentRef(_) => "bad_incident_ref",
            IncidentNotFound(_) => "incident_not_found",
            UnknownSeverity { .. } => "unknown_severity",
            UnknownStatus { .. } => "unknown_status",
            UnknownRole { .. } => "unknown_role",
            UnknownTeam { .. } => "unknown_team",
            TransitionNotAllowed { .. } => "transition_not_allowed",
            AlreadyInStatus(_) => "already_in_status",
            SameSeverity(_) => "same_severity",
            EmptyText => "empty_text",
            TextTooLong { .. } => "text_too_long",
            UnknownActionType { .. } => "unknown_action_type",
            UnknownPriority { .. } => "unknown_priority",
            ActionNotFound(_) => "action_not_found",
            ActionAlreadyDone(_) => "action_already_done",
            ActionNotDone(_) => "action_not_done",
            RoleNotHeld(_) => "role_not_held",
            BadTime(_) => "bad_time",
            BadUrl(_) => "bad_url",
            ImpactOutOfOrder { .. } => "impact_out_of_order",
            TimeInFuture { .. } => "time_in_future",
            NoteBeforeIncident { .. } => "note_before_incident",
            NothingToChange => "nothing_to_change",
            EntryNotFound(_) => "entry_not_found",
            NotYourNote(_) => "not_your_note",
            UnknownLanguage(_) => "unknown_language",
            UnknownField { .. } => "unknown_field",
            BadDuration(_) => "bad_duration",
            UnknownReminder { .. } => "unknown_reminder",
        }
    }

    /// Whether the problem is with a time as typed, so a form can show it next to the
    /// time rather than the text.
    pub fn is_about_time(&self) -> bool {
        matches!(
            self,
            DomainError::BadTime(_)
                | DomainError::TimeInFuture { .. }
                | DomainError::NoteBeforeIncident { .. }
                | DomainError::ImpactOutOfOrder { .. }
        )
    }

    /// The message shown to a person, in their language.
    pub fn message(&self, lang: Lang) -> String {
        use DomainError::*;
        let id = format!("error-{}", self.code().replace('_', "-"));
        let mut a = Args::new();
        match self {
            TitleTooLong { max, actual } | TextTooLong { max, actual } => {
                a.num("max", *max as i64).num("actual", *actual as i64);
            }
            BadChannelName(v)
            | BadChannelTemplate(v)
            | BadIncidentRef(v)
            | IncidentNotFound(v)
            | AlreadyInStatus(v)
            | SameSeverity(v)
            | BadTime(v)
            | BadUrl(v)
            | UnknownLanguage(v)
            | BadDuration(v)
            | RoleNotHeld(v) => {
                a.str("value", v);
            }
            UnknownSeverity { given, valid }
            | UnknownStatus { given, valid }
            | UnknownRole { given, valid }
            | UnknownTeam { given, valid }
            | UnknownActionType { given, valid }
            | UnknownField { given, valid }
            | UnknownReminder { given, valid } => {
                a.str("value", given).str("valid", valid.join(", "));
            }
            TransitionNotAllowed { from, to, allowed } => {
                a.str("from", from).str("to", to);
                if allowed.is_empty() {
                    a.str("allowed", "-");
                } else {
                    a.str("allowed", allowed.join(", "));
                }
            }
            UnknownPriority { given } => {
                a.str("value", given);
            }
            ActionNotFound(n) | ActionAlreadyDone(n) | ActionNotDone(n) | EntryNotFound(n)
            | NotYourNote(n) => {
                a.num("number", *n);
            }
            ImpactOutOfOrder { earlier, later } => {
                a.str("earlier", earlier).str("later", later);
            }
            TimeInFuture { value, minutes } => {
                a.str("value", value).num("minutes", *minutes);
            }
            NoteBeforeIncident { value, day } => {
                a.str("value", value).str("day", day);
            }
            TitleEmpty | TitleNoLetters | EmptyText | NothingToChange => {}
        }
        lang.format(&id, &a)
    }
}
