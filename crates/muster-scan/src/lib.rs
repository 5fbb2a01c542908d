//! # muster-scan: find and mask credentials leaked into logs
//!
//! Muster exists because of an incident in which API keys and auth tokens were printed
//! into public CI and runtime logs. This crate is the tool that incident needed: a
//! scanner that finds such credentials in log files at memory speed, and a redactor that
//! masks them in a stream before they are stored or shown. It is a standalone library
//! (it depends on no other Muster crate) used by `muster scan` and `muster redact`, and
//! usable by any Rust program, Muster's own logging included ([`RedactingWriter`]).
//!
//! ## Rules
//! Rules are written in the [gitleaks](https://gitleaks.io) TOML format, the de-facto
//! standard, so users can bring the rule files they already have (`regex`,
//! `secretGroup`, `entropy`, `keywords`, `path`, `allowlists` with `regexTarget`,
//! `stopwords` and `condition`, `[extend] useDefault`, global allowlists). Our default
//! ruleset ([`rules::DEFAULT_RULES_TOML`]) is our own, in the same format, with two
//! extra keys gitleaks ignores: `severity` (used when a finding opens an incident) and
//! `window` (see below). An invalid rule file is an error naming the rule and the line.
//!
//! ## Engine
//! Why it is fast: almost every byte of a log is not a secret, and almost every rule is
//! anchored on a literal (`ghp_`, `AKIA`, `xoxb-`, `-----BEGIN`, `password`…). So:
//!
//! 1. One Aho-Corasick automaton over all rules' keywords (ASCII case-insensitive)
//!    scans the input once. That is the only pass over most of the data.
//! 2. Each hit opens a *window* for the rules that keyword belongs to: the hit's line
//!    (`window = "line"`), that line plus 16 KiB (`"block"`, for PEM keys), or the whole
//!    chunk (`"fragment"`, gitleaks' semantics and the default for user rule files).
//!    Windows of one rule are merged, and the rule's regex (`regex::bytes`, size limits
//!    raised, Unicode classes off as in Go's RE2) runs only inside them.
//! 3. A match is kept if its secret (the capture group) passes the rule's entropy gate,
//!    no allowlist or stopword excludes it, and its line has no inline allow marker
//!    (`muster:allow` or `gitleaks:allow`). When two rules report overlapping secrets
//!    the earlier rule wins, so a GitHub token is not also a "generic secret".
//! 4. Inputs are split into ~1 MiB chunks at line ends, scanned in parallel with rayon
//!    (across files and across chunks of one file) with overlap so nothing is lost at a
//!    boundary. Big files are memory-mapped and the pages of finished chunks released;
//!    streams (stdin, `.gz`) are read in bounded blocks. A line is never held whole:
//!    windows reach at most 8 KiB either side of a keyword, so a single 200 MB line is
//!    scanned in bounded memory.
//!
//! Bad input: binary files (a NUL in the first 8000 bytes) are skipped and counted,
//! invalid UTF-8 is scanned as bytes, unreadable files are reported and the scan goes
//! on, and symbolic-link loops are detected and reported.
//!
//! ## Never printing a secret
//! A [`Finding`] does not hold the secret: only a short prefix, an ellipsis and 8 hex
//! digits of its SHA-256 (`ghp_Ab…[1f2e3d4c]`), its entropy, and a stable fingerprint
//! (hash of rule, path, line and the secret's hash) used by baselines.
//!
//! ## Example
//! ```
//! use muster_scan::Scanner;
//! let scanner = Scanner::with_default_rules();
//! let log = b"2024-05-01 INFO deploy GITHUB_TOKEN=ghp_0123456789abcdefghijklmnopqrstuvwxyZ\n";
//! let findings = scanner.scan_bytes(log, "ci.log");
//! assert_eq!(findings.len(), 1);
//! assert_eq!(findings[0].rule_id, "github-token");
//! assert!(findings[0].redacted.starts_with("ghp_01…"));
//! ```

mod decode;
mod engine;
mod finding;
mod prefilter;
mod redact;
mod report;
pub mod rules;
mod walk;

pub use engine::{ALLOW_MARKERS, DEFAULT_CHUNK_SIZE, Scanner, shannon_entropy};
pub use finding::{Finding, fingerprint, redact_display, secret_hash};
pub use redact::{MAX_PENDING, RedactingWriter, Redactor};
pub use report::{
    Baseline, Format, findings_summary, highest_severity, human_size, summary_line, write_report,
};
pub use rules::{Rule, RuleSet, Severity, Window};
pub use walk::{PathError, ScanOptions, ScanReport, is_binary};

/// Errors of the scanner. Messages never contain scanned content.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// A rule file is invalid.
    #[error("{file}: line {line}: {}{message}", rule.as_ref().map(|r| format!("rule `{r}`: ")).unwrap_or_default())]
    Rules {
        /// File name.
        file: String,
        /// Rule id, when the error is inside a rule.
        rule: Option<String>,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A baseline file is invalid.
    #[error("baseline {path}: {message}")]
    Baseline {
        /// File name.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// File name.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Anything else.
    #[error("{0}")]
    Other(String),
}
