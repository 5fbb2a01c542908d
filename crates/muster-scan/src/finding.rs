//! Findings: what is reported about a secret, without the secret itself.

use crate::rules::{Rule, Severity};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One detected secret. It never holds the secret: only a redacted form (a short prefix
/// and a hash) so that reports, logs and incident timelines can be shared safely.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Rule identifier.
    pub rule_id: String,
    /// Rule description.
    pub description: String,
    /// Severity hint of the rule.
    #[serde(default = "default_sev")]
    pub severity: Severity,
    /// File path (`<stdin>` for standard input).
    pub path: String,
    /// 1-based line of the start of the match (0 for path-only rules).
    pub line: u64,
    /// 1-based byte column of the start of the match.
    pub column: u64,
    /// The secret redacted, e.g. `ghp_Ab…[1f2e3d4c]`.
    pub redacted: String,
    /// Shannon entropy of the secret.
    pub entropy: f32,
    /// Stable fingerprint: hash of rule, path, line and the secret's hash.
    pub fingerprint: String,
}

fn default_sev() -> Severity {
    Severity::Sev2
}

impl Finding {
    pub(crate) fn new(
        rule: &Rule,
        path: &str,
        line: u64,
        column: u64,
        entropy: f32,
        redacted: &str,
        secret_hash: &str,
    ) -> Finding {
        Finding {
            rule_id: rule.id.clone(),
            description: rule.description.clone(),
            severity: rule.severity,
            path: path.to_string(),
            line,
            column,
            redacted: redacted.to_string(),
            entropy: (entropy * 1000.0).round() / 1000.0,
            fingerprint: fingerprint(&rule.id, path, line, secret_hash),
        }
    }

    pub(crate) fn new_path_only(rule: &Rule, path: &str) -> Finding {
        Finding {
            rule_id: rule.id.clone(),
            description: rule.description.clone(),
            severity: rule.severity,
            path: path.to_string(),
            line: 0,
            column: 0,
            redacted: "(file detected)".to_string(),
            entropy: 0.0,
            fingerprint: fingerprint(&rule.id, path, 0, ""),
        }
    }
}

/// Hex SHA-256 of the secret (the full hash; reports show the first 8 characters).
pub fn secret_hash(secret: &[u8]) -> String {
    hex(&Sha256::digest(secret))
}

/// Stable fingerprint of a finding: hash of rule id, path, line and secret hash.
pub fn fingerprint(rule_id: &str, path: &str, line: u64, secret_hash: &str) -> String {
    let mut h = Sha256::new();
    h.update(rule_id.as_bytes());
    h.update([0]);
    h.update(path.as_bytes());
    h.update([0]);
    h.update(line.to_string().as_bytes());
    h.update([0]);
    h.update(secret_hash.as_bytes());
    hex(&h.finalize()[..12])
}

/// Redacted display of a secret: at most 6 leading characters (fewer for short secrets,
/// never more than a quarter of it), an ellipsis, and 8 hex digits of its SHA-256.
pub fn redact_display(secret: &[u8]) -> String {
    let text = String::from_utf8_lossy(secret);
    let n_chars = text.chars().count();
    let keep = (n_chars / 4).min(6);
    let prefix: String = text
        .chars()
        .take(keep)
        .filter(|c| !c.is_control())
        .collect();
    format!("{prefix}…[{}]", &secret_hash(secret)[..8])
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_hides_most_of_the_secret() {
        let secret = b"ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789";
        let shown = redact_display(secret);
        assert!(shown.starts_with("ghp_Ab…["), "{shown}");
        assert!(!shown.contains("CdEf"));
        assert_eq!(shown.chars().count(), 6 + 1 + 10);
        // Short secrets show at most a quarter.
        assert!(redact_display(b"hunter22").starts_with("hu…"));
        assert!(redact_display(b"abc").starts_with("…"));
    }

    #[test]
    fn fingerprint_is_stable_and_distinguishes() {
        let a = fingerprint("r", "p", 1, "h");
        assert_eq!(a, fingerprint("r", "p", 1, "h"));
        assert_ne!(a, fingerprint("r", "p", 2, "h"));
        assert_ne!(a, fingerprint("r", "p", 1, "g"));
        assert_eq!(a.len(), 24);
    }
}
