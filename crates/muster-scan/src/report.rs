//! Report formats (text, JSON, SARIF 2.1.0), baselines and the incident summary.

use crate::ScanError;
use crate::finding::Finding;
use crate::rules::{RuleSet, Severity};
use crate::walk::ScanReport;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::io::Write;

/// Output format of `muster scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Human-readable lines.
    Text,
    /// One JSON document: `{"findings": [...], "summary": {...}}`.
    Json,
    /// SARIF 2.1.0, read by GitHub code scanning and other CI tools.
    Sarif,
}

/// Write the report in the chosen format.
pub fn write_report(
    w: &mut dyn Write,
    report: &ScanReport,
    rules: &RuleSet,
    format: Format,
) -> std::io::Result<()> {
    match format {
        Format::Text => write_text(w, report),
        Format::Json => {
            serde_json::to_writer_pretty(&mut *w, &to_json(report))?;
            writeln!(w)
        }
        Format::Sarif => {
            serde_json::to_writer_pretty(&mut *w, &to_sarif(report, rules))?;
            writeln!(w)
        }
    }
}

fn write_text(w: &mut dyn Write, report: &ScanReport) -> std::io::Result<()> {
    for f in &report.findings {
        writeln!(
            w,
            "{}:{}:{}: {} [{}] {}\n    secret {}  entropy {:.2}  fingerprint {}",
            f.path,
            f.line,
            f.column,
            f.rule_id,
            f.severity,
            f.description,
            f.redacted,
            f.entropy,
            f.fingerprint
        )?;
    }
    writeln!(w, "{}", summary_line(report))
}

/// A size for people: KB under 0.1 MB (so a small file does not read "0.0 MB"), MB above.
pub fn human_size(bytes: u64) -> String {
    if bytes < 100_000 {
        format!("{:.1} KB", bytes as f64 / 1e3)
    } else {
        format!("{:.1} MB", bytes as f64 / 1e6)
    }
}

/// One-line summary: counts of findings, files, bytes, skips and errors.
pub fn summary_line(report: &ScanReport) -> String {
    let mut s = format!(
        "{} finding{} in {} file{} ({} scanned",
        report.findings.len(),
        if report.findings.len() == 1 { "" } else { "s" },
        report.files_scanned,
        if report.files_scanned == 1 { "" } else { "s" },
        human_size(report.bytes_scanned)
    );
    if !report.binary_skipped.is_empty() {
        s += &format!(", {} binary skipped", report.binary_skipped.len());
    }
    if report.allowlisted_paths > 0 {
        s += &format!(", {} allowlisted", report.allowlisted_paths);
    }
    if report.baseline_suppressed > 0 {
        s += &format!(", {} in baseline", report.baseline_suppressed);
    }
    if !report.symlink_loops.is_empty() {
        s += &format!(
            ", {} symlink loop{}",
            report.symlink_loops.len(),
            if report.symlink_loops.len() == 1 {
                ""
            } else {
                "s"
            }
        );
    }
    if !report.errors.is_empty() {
        s += &format!(", {} unreadable", report.errors.len());
    }
    s + ")"
}

fn to_json(report: &ScanReport) -> Value {
    json!({
        "findings": report.findings,
        "summary": {
            "findings": report.findings.len(),
            "files_scanned": report.files_scanned,
            "bytes_scanned": report.bytes_scanned,
            "binary_skipped": report.binary_skipped,
            "allowlisted_paths": report.allowlisted_paths,
            "baseline_suppressed": report.baseline_suppressed,
            "symlink_loops": report.symlink_loops,
            "errors": report.errors,
        }
    })
}

fn to_sarif(report: &ScanReport, rules: &RuleSet) -> Value {
    let sarif_rules: Vec<Value> = rules
        .rules
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.id,
                "shortDescription": { "text": r.description },
                "defaultConfiguration": { "level": level(r.severity) },
                "properties": {
                    "tags": ["security", "secret"],
                    "severity": r.severity.as_str(),
                    // GitHub code scanning ranks security results by this CVSS-like score.
                    "security-severity": security_severity(r.severity),
                },
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let mut result = json!({
                "ruleId": f.rule_id,
                "level": level(f.severity),
                "message": { "text": format!("{}: {}", f.description, f.redacted) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": sarif_uri(&f.path) },
                        "region": { "startLine": f.line.max(1), "startColumn": f.column.max(1) }
                    }
                }],
                "partialFingerprints": { "musterFingerprint/v1": f.fingerprint },
                "properties": { "entropy": f.entropy, "redacted": f.redacted, "severity": f.severity.as_str() },
            });
            if let Some(i) = rules.rules.iter().position(|r| r.id == f.rule_id) {
                result["ruleIndex"] = json!(i);
            }
            result
        })
        .collect();
    // What could not be scanned, as tool notifications: a clean report over unreadable
    // files must not look like a clean scan.
    let mut notes: Vec<Value> = Vec::new();
    for e in &report.errors {
        notes.push(json!({
            "level": "warning",
            "message": { "text": format!("cannot read {}: {}", e.path, e.message) },
            "locations": [{ "physicalLocation": { "artifactLocation": { "uri": sarif_uri(&e.path) } } }],
        }));
    }
    for p in &report.binary_skipped {
        notes.push(json!({
            "level": "note",
            "message": { "text": format!("binary file skipped: {p}") },
            "locations": [{ "physicalLocation": { "artifactLocation": { "uri": sarif_uri(p) } } }],
        }));
    }
    for l in &report.symlink_loops {
        notes.push(json!({
            "level": "warning",
            "message": { "text": format!("symbolic-link loop not followed: {l}") },
        }));
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "muster-scan",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": env!("CARGO_PKG_REPOSITORY"),
                "rules": sarif_rules,
            }},
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notes,
            }],
            "results": results,
        }]
    })
}

fn sarif_uri(path: &str) -> String {
    let p = path.replace('\\', "/");
    let p = p.strip_prefix("./").unwrap_or(&p).to_string();
    p.replace('%', "%25").replace(' ', "%20")
}

fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Sev1 => "9.0",
        Severity::Sev2 => "7.0",
        Severity::Sev3 => "4.0",
    }
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Sev1 | Severity::Sev2 => "error",
        Severity::Sev3 => "warning",
    }
}

/// Fingerprints of findings already known and accepted.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    fingerprints: HashSet<String>,
}

impl Baseline {
    /// Load a baseline: a JSON report written by `muster scan --format json` (or a plain
    /// array of findings, or a SARIF file written by `muster scan --format sarif`).
    pub fn load(path: &std::path::Path) -> Result<Baseline, ScanError> {
        let text = std::fs::read_to_string(path).map_err(|e| ScanError::Io {
            path: path.display().to_string(),
            source: e,
        })?;
        Baseline::from_json(&text).map_err(|message| ScanError::Baseline {
            path: path.display().to_string(),
            message,
        })
    }

    /// Parse a baseline from JSON text.
    pub fn from_json(text: &str) -> Result<Baseline, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let mut fingerprints = HashSet::new();
        let items: Vec<&Value> = if let Some(a) = v.as_array() {
            a.iter().collect()
        } else if let Some(a) = v.get("findings").and_then(Value::as_array) {
            a.iter().collect()
        } else if let Some(runs) = v.get("runs").and_then(Value::as_array) {
            runs.iter()
                .filter_map(|r| r.get("results").and_then(Value::as_array))
                .flatten()
                .collect()
        } else {
            return Err("expected a muster JSON or SARIF report".into());
        };
        for item in items {
            let fp = item.get("fingerprint").or_else(|| {
                item.get("partialFingerprints")
                    .and_then(|p| p.get("musterFingerprint/v1"))
            });
            if let Some(s) = fp.and_then(Value::as_str) {
                fingerprints.insert(s.to_string());
            }
        }
        Ok(Baseline { fingerprints })
    }

    /// Number of fingerprints.
    pub fn len(&self) -> usize {
        self.fingerprints.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.fingerprints.is_empty()
    }

    /// True when the finding is in the baseline.
    pub fn contains(&self, f: &Finding) -> bool {
        self.fingerprints.contains(&f.fingerprint)
    }

    /// Drop the findings listed in the baseline, counting them in the report.
    pub fn apply(&self, report: &mut ScanReport) {
        let before = report.findings.len();
        report.findings.retain(|f| !self.contains(f));
        report.baseline_suppressed += (before - report.findings.len()) as u64;
    }
}

/// The highest severity among findings (`SEV1` is highest), `None` when there are none.
/// `muster scan --declare` uses it as the incident's severity.
pub fn highest_severity(findings: &[Finding]) -> Option<Severity> {
    findings.iter().map(|f| f.severity).min()
}

/// A human-readable summary of findings, safe to post in an incident timeline: rule,
/// location and the redacted secret only, never the secret. At most `max_items` findings
/// are listed; the rest are counted.
pub fn findings_summary(findings: &[Finding], max_items: usize) -> String {
    if findings.is_empty() {
        return "No leaked secrets found.".to_string();
    }
    let mut by_rule: Vec<(&str, usize)> = Vec::new();
    for f in findings {
        match by_rule.iter_mut().find(|(r, _)| *r == f.rule_id) {
            Some((_, n)) => *n += 1,
            None => by_rule.push((&f.rule_id, 1)),
        }
    }
    let files: HashSet<&str> = findings.iter().map(|f| f.path.as_str()).collect();
    let mut s = format!(
        "Leak scanner found {} secret{} in {} file{} (highest severity {}): {}.\n",
        findings.len(),
        if findings.len() == 1 { "" } else { "s" },
        files.len(),
        if files.len() == 1 { "" } else { "s" },
        highest_severity(findings)
            .map(Severity::as_str)
            .unwrap_or("-"),
        by_rule
            .iter()
            .map(|(r, n)| format!("{r} ×{n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for f in findings.iter().take(max_items) {
        s += &format!(
            "- {}:{}:{} {} {} ({})\n",
            f.path, f.line, f.column, f.rule_id, f.redacted, f.severity
        );
    }
    if findings.len() > max_items {
        s += &format!("- … and {} more\n", findings.len() - max_items);
    }
    s
}
