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
