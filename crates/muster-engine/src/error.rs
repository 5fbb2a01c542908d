use muster_core::report::TemplateError;
use muster_core::{DomainError, Lang};
use muster_store::StoreError;

/// Why an operation failed: the request (a [`DomainError`]), the storage, or a report
/// template.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// A declaration with problems in one or more fields.
    #[error("{}", .0.first())]
    Invalid(crate::FieldErrors),
}

impl From<crate::FieldErrors> for EngineError {
    fn from(f: crate::FieldErrors) -> Self {
        EngineError::Invalid(f)
    }
}

impl EngineError {
    /// A problem with what was asked (fix the input), as opposed to a failure to do it.
    pub fn is_user_error(&self) -> bool {
        matches!(self, EngineError::Domain(_) | EngineError::Invalid(_))
    }

    /// Someone else changed the incident meanwhile, five times running: send it again.
    pub fn is_conflict(&self) -> bool {
        matches!(self, EngineError::Store(StoreError::Conflict))
    }

    /// The problems of a refused declaration, by field.
    pub fn fields(&self) -> Option<&crate::FieldErrors> {
        match self {
            EngineError::Invalid(f) => Some(f),
            _ => None,
        }
    }

    /// The database could not take the write (locked, read-only, full); nothing was stored.
    pub fn is_database_trouble(&self) -> bool {
        matches!(self, EngineError::Store(s) if s.is_trouble())
    }

    /// How long to wait before sending the same request again, when that can help.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            EngineError::Store(s) => s.retry_after(),
            _ => None,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            EngineError::Domain(d) => d.code(),
            EngineError::Store(s) => s.code(),
            EngineError::Template(_) => "report_template",
            EngineError::Invalid(f) => f.first().code(),
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        match self {
            EngineError::Domain(d) => d.message(lang),
            EngineError::Invalid(f) => f.first().message(lang),
            EngineError::Store(s) => s.message(lang),
            EngineError::Template(t) => lang.format(
                "report-template-error",
                &muster_core::i18n::Args::new()
                    .with("name", &t.name)
                    .with(
                        "line",
                        t.line.map(|l| l.to_string()).unwrap_or_else(|| "?".into()),
                    )
                    .with("detail", &t.detail),
            ),
        }
    }
}
