//! Planted secrets, and the check that a test's logs never hold them.
//!
//! The values are shaped like real credentials, so Muster's own scanner would recognise
//! them in a log line; they grant nothing.

/// A Slack bot token to plant in configs, files and the simulator.
pub const PLANTED_BOT_TOKEN: &str = "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx";
/// A Slack signing secret to plant.
pub const PLANTED_SIGNING_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";

/// Panics unless `logs` hold none of `planted` and `muster scan`'s default rules find
/// nothing in them.
pub fn assert_logs_clean(logs: &str, planted: &[&str]) {
    for secret in planted {
        assert!(!logs.contains(secret), "a planted secret reached the logs");
    }
    let scanner = muster_scan::Scanner::new(muster_scan::RuleSet::default_rules())
        .expect("the default rules compile");
    let findings = scanner.scan_bytes(logs.as_bytes(), "test.log");
    assert!(
        findings.is_empty(),
        "muster scan finds secrets in the logs: {findings:?}"
    );
}
