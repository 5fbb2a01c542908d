//! A command that did not succeed: what to tell the person, and which exit code.

use muster_core::Lang;
use std::process::ExitCode;

#[derive(Debug)]
pub struct Failure {
    /// 2 for problems with the request, 1 for failures of the system.
    pub exit: u8,
    pub code: String,
    pub message: String,
}

impl Failure {
    pub fn user(code: impl Into<String>, message: impl Into<String>) -> Self {
        Failure {
            exit: 2,
            code: code.into(),
            message: message.into(),
        }
    }

    pub fn system(code: impl Into<String>, message: impl Into<String>) -> Self {
        Failure {
            exit: 1,
            code: code.into(),
            message: message.into(),
        }
    }

    pub fn engine(e: &muster_engine::EngineError, lang: Lang) -> Self {
        let f = if e.is_user_error() {
            Failure::user
        } else {
            Failure::system
        };
        f(e.code(), e.message(lang))
    }

    pub fn store(e: &muster_store::StoreError, lang: Lang) -> Self {
        Failure::system(e.code(), e.message(lang))
    }

    /// For a database that is locked, read-only or full, say which file and what to do
    /// with it (only for the local database: a server's errors are about its own).
    pub fn at_database(mut self, path: &str, lang: Lang) -> Self {
        use muster_store::StoreError;
        let e = match self.code.as_str() {
            "database_locked" => StoreError::Locked,
            "database_read_only" => StoreError::ReadOnly,
            "database_full" => StoreError::Full,
            _ => return self,
        };
        self.message = e.message_at(lang, path);
        self
    }

    pub fn report(mut self, json: bool) -> ExitCode {
        // Messages quote what people wrote (a config value, a title); a token pasted in the
        // wrong place must not reach a terminal or a CI log from here.
        self.message = muster_scan::Redactor::with_default_rules().redact_str(&self.message);
        if json {
            let body = serde_json::json!({"error": {"code": self.code, "message": self.message}});
            eprintln!("{body}");
        } else {
            eprintln!("muster: {}", self.message);
        }
        ExitCode::from(self.exit)
    }
}
