//! Rule files in the gitleaks TOML format (`muster scan --rules FILE`): parsing, regex
//! translation and compilation into a scanner. Properties: loading never panics, errors
//! name a line inside the file, and a loaded rule set compiles and scans (and redacts)
//! without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use muster_scan::{Redactor, RuleSet, ScanError, Scanner};
use std::sync::Arc;

const SAMPLE: &[u8] =
    b"2024-05-01 INFO deploy GITHUB_TOKEN=ghp_0123456789abcdefghijklmnopqrstuvwxyZ\n\
password = \"hunter2hunter2\"\nAKIAIOSFODNN7EXAMPLE\nplain line\n";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match RuleSet::from_toml(text) {
        Err(ScanError::Rules { line, .. }) => {
            assert!(line <= text.lines().count() + 1, "line {line}");
        }
        Err(e) => {
            let _ = e.to_string();
        }
        Ok(rules) => {
            let Ok(scanner) = Scanner::new(rules) else {
                return;
            };
            let scanner = Arc::new(scanner);
            for path in ["", "ci.log", "src/main.rs"] {
                let _ = scanner.scan_bytes(SAMPLE, path);
            }
            let _ = scanner.scan_bytes(data, "rules.toml");
            let mut out = Vec::new();
            Redactor::new(scanner).redact_into(SAMPLE, &mut out);
        }
    }
});
