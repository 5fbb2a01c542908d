//! Storage failures, classified so people get an answer they can act on.

use muster_core::Lang;
use muster_core::i18n::Args;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process holds the write lock longer than our busy timeout.
    #[error("the database is locked by another process")]
    Locked,
    /// The file is not a database, or is damaged.
    #[error("the database file is damaged or is not a Muster database")]
    Corrupt,
    #[error("the database is read-only")]
    ReadOnly,
    #[error("the disk holding the database is full")]
    Full,
    #[error("the database cannot be opened: {0}")]
    CannotOpen(String),
    /// Someone else changed the incident between our read and our write.
    #[error("the incident changed while this request was being handled")]
    Conflict,
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("database error: {0}")]
    Other(String),
}

impl StoreError {
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Locked => "database_locked",
            StoreError::Corrupt => "database_corrupt",
            StoreError::ReadOnly => "database_read_only",
            StoreError::Full => "database_full",
            StoreError::CannotOpen(_) => "database_cannot_open",
            StoreError::Conflict => "conflict",
            StoreError::Migration(_) => "migration_failed",
            StoreError::Other(_) => "database_error",
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        let id = format!("store-error-{}", self.code().replace('_', "-"));
        let detail = match self {
            StoreError::CannotOpen(d) | StoreError::Migration(d) | StoreError::Other(d) => {
                d.clone()
            }
            _ => String::new(),
        };
        lang.format(&id, &Args::new().with("detail", detail))
    }
}

impl StoreError {
    /// The database cannot take writes right now (locked, read-only, full) but may later:
    /// nothing was stored, and the same request can be sent again.
    pub fn is_trouble(&self) -> bool {
        matches!(
            self,
            StoreError::Locked | StoreError::ReadOnly | StoreError::Full
        )
    }

    /// How long a client should wait before retrying, when retrying can help: soon for a
    /// lock (it is usually held briefly), later when an operator must act first.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            StoreError::Locked | StoreError::Conflict => Some(std::time::Duration::from_secs(5)),
            StoreError::ReadOnly | StoreError::Full => Some(std::time::Duration::from_secs(60)),
            _ => None,
        }
    }

    /// Like [`message`](Self::message), naming the database file where the reader can act
    /// on it (the command line, on the machine holding the file; not web pages or chat).
    pub fn message_at(&self, lang: Lang, path: &str) -> String {
        if !self.is_trouble() {
            return self.message(lang);
        }
        let id = format!("store-error-{}-at", self.code().replace('_', "-"));
        lang.format(&id, &Args::new().with("path", path))
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        classify(&e)
    }
}

fn classify(e: &sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::Database(db) => {
            // SQLite primary result codes (the low byte of the extended code).
            let code = db
                .code()
                .and_then(|c| c.parse::<i64>().ok())
                .map(|c| c & 0xff);
            match code {
                Some(5) | Some(6) => StoreError::Locked,
                Some(8) => StoreError::ReadOnly,
                Some(11) | Some(26) => StoreError::Corrupt,
                Some(13) => StoreError::Full,
                Some(14) => StoreError::CannotOpen(db.message().to_owned()),
                _ => StoreError::Other(db.message().to_owned()),
            }
        }
        sqlx::Error::PoolTimedOut => StoreError::Locked,
        sqlx::Error::Migrate(m) => match m.as_ref() {
            sqlx::migrate::MigrateError::Execute(inner) => match classify(inner) {
                StoreError::Other(d) => StoreError::Migration(d),
                known => known,
            },
            other => StoreError::Migration(other.to_string()),
        },
        other => StoreError::Other(other.to_string()),
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(m: sqlx::migrate::MigrateError) -> Self {
        classify(&sqlx::Error::Migrate(Box::new(m)))
    }
}
