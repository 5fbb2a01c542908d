//! Inputs and bad input: chunk boundaries, long lines, streams, .gz, binary files,
//! invalid UTF-8, unreadable paths, symlink loops, allow markers, baselines, formats.

use muster_scan::{
    Baseline, Format, ScanOptions, Scanner, findings_summary, highest_severity, write_report,
};
use std::io::Write;
use std::path::PathBuf;

// Fake secrets generated for these tests.
const GH: &str = "ghp_Q2x9Lm4Pz7Rt1Vb8Nc3Kd6Hs0Jf5Gw2Ye7Ua";
const STRIPE: &str = "sk_live_4eC39HqLyjWDarjtT1zdp7dcXq";
const NOTIFY: &str =
    "gcntfy-ci-key-4f0a2b9c-1d3e-4a5b-8c7d-9e0f1a2b3c4d-8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d";

fn log_with_secrets(lines: usize, every: usize) -> (Vec<u8>, Vec<(u64, &'static str)>) {
    let mut out = Vec::new();
    let mut planted = Vec::new();
    let secrets = [GH, STRIPE, NOTIFY];
    for i in 0..lines {
        if i % every == every - 1 {
            let s = secrets[(i / every) % 3];
            writeln!(out, "{{\"ts\":\"2026-01-01T00:00:{:02}Z\",\"level\":\"warn\",\"msg\":\"config dump\",\"value\":\"{s}\"}}", i % 60).unwrap();
            planted.push((i as u64 + 1, s));
        } else {
            writeln!(out, "10.0.0.{} - - [01/Jan/2026:00:00:00 +0000] \"GET /api/v1/items/{i} HTTP/1.1\" 200 512 \"-\" \"curl/8.0\"", i % 250).unwrap();
        }
    }
    (out, planted)
}

#[test]
fn chunking_finds_the_same_as_one_chunk() {
    let (data, planted) = log_with_secrets(5000, 37);
    let whole = Scanner::with_default_rules().scan_bytes(&data, "a.log");
    let mut small = Scanner::with_default_rules();
    small.set_chunk_size(1024);
    let chunked = small.scan_bytes(&data, "a.log");
    assert_eq!(whole.len(), planted.len());
    assert_eq!(whole, chunked);
    let lines: Vec<u64> = whole.iter().map(|f| f.line).collect();
    let want: Vec<u64> = planted.iter().map(|p| p.0).collect();
    assert_eq!(lines, want);
    assert!(whole.iter().all(|f| f.column == 74));
}

#[test]
fn stream_matches_in_memory() {
    let (data, planted) = log_with_secrets(3000, 11);
    let mut s = Scanner::with_default_rules();
    s.set_chunk_size(2048);
    let (streamed, bytes) = s.scan_reader(&data[..], "<stdin>").unwrap();
    assert_eq!(bytes, data.len() as u64);
    let mem = s.scan_bytes(&data, "<stdin>");
    assert_eq!(streamed.len(), planted.len());
    assert_eq!(streamed, mem);
}

#[test]
fn one_very_long_line_is_scanned_in_pieces() {
    // 6 MB on a single line with secrets at the start, across chunk cuts and at the end.
    let mut line = Vec::new();
    let mut cols = Vec::new();
    let filler = b"lorem ipsum dolor sit amet ".repeat(40);
    for i in 0..220 {
        if i % 20 == 0 {
            cols.push(line.len() as u64 + 1 + 6);
            line.extend_from_slice(b"token ");
            line.extend_from_slice(GH.as_bytes());
            line.push(b' ');
        }
        line.extend_from_slice(&filler);
    }
    line.extend_from_slice(b"end ");
    cols.push(line.len() as u64 + 1);
    line.extend_from_slice(STRIPE.as_bytes());
    let mut s = Scanner::with_default_rules();
    s.set_chunk_size(64 * 1024);
    let f = s.scan_bytes(&line, "long.log");
    assert_eq!(f.iter().map(|f| f.column).collect::<Vec<_>>(), cols);
    assert!(f.iter().all(|f| f.line == 1));
    let (streamed, _) = s.scan_reader(&line[..], "long.log").unwrap();
    assert_eq!(streamed.iter().map(|f| f.column).collect::<Vec<_>>(), cols);
}

#[test]
fn invalid_utf8_is_scanned_as_bytes() {
    let mut data = b"\xff\xfe garbage \xc3\x28 ".to_vec();
    data.extend_from_slice(GH.as_bytes());
    data.extend_from_slice(b" \x80\x81\n");
    let f = Scanner::with_default_rules().scan_bytes(&data, "bin.log");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].rule_id, "github-token");
}

#[test]
fn inline_allow_markers() {
    let s = Scanner::with_default_rules();
    let text = format!("a {GH} # muster:allow\nb {GH} // gitleaks:allow\nc {GH}\n");
    let f = s.scan_bytes(text.as_bytes(), "x");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].line, 3);
}

fn tree() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    std::fs::create_dir_all(root.join("logs/nested")).unwrap();
    std::fs::write(root.join("logs/app.log"), format!("start\nkey {GH}\n")).unwrap();
    std::fs::write(root.join("logs/nested/clean.log"), "nothing here\n").unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(format!("one\ntwo\nstripe {STRIPE}\n").as_bytes())
        .unwrap();
    std::fs::write(root.join("logs/old.log.gz"), gz.finish().unwrap()).unwrap();
    let mut bin = vec![0u8, 1, 2, 3];
    bin.extend_from_slice(GH.as_bytes());
    std::fs::write(root.join("logs/core.dump"), bin).unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(root.join("logs"), root.join("logs/nested/loop")).unwrap();
        std::os::unix::fs::symlink(root.join("missing-target"), root.join("logs/dangling.log"))
            .unwrap();
    }
    (dir, root)
}

#[test]
fn directories_gz_binary_loops_and_unreadable() {
    let (_dir, root) = tree();
    let s = Scanner::with_default_rules();
    let report = s
        .scan_paths(
            &[root.join("logs"), root.join("does-not-exist.log")],
            &ScanOptions::default(),
        )
        .unwrap();
    let found: Vec<(String, String, u64)> = report
        .findings
        .iter()
        .map(|f| {
            (
                f.rule_id.clone(),
                f.path.rsplit('/').next().unwrap().to_string(),
                f.line,
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![
            ("github-token".to_string(), "app.log".to_string(), 2),
            ("stripe-secret-key".to_string(), "old.log.gz".to_string(), 3)
        ]
    );
    assert_eq!(report.binary_skipped.len(), 1);
    assert!(report.binary_skipped[0].ends_with("core.dump"));
    assert_eq!(report.files_scanned, 3);
    #[cfg(unix)]
    {
        assert_eq!(report.symlink_loops.len(), 1, "{:?}", report.symlink_loops);
        assert!(
            report
                .errors
                .iter()
                .any(|e| e.path.ends_with("dangling.log")),
            "{:?}",
            report.errors
        );
    }
    assert!(
        report
            .errors
            .iter()
            .any(|e| e.path.ends_with("does-not-exist.log"))
    );
}

#[test]
fn big_files_are_memory_mapped_and_scanned_in_parallel() {
    let dir = tempfile::tempdir().unwrap();
    let (data, planted) = log_with_secrets(60_000, 1001);
    assert!(data.len() > 4 << 20);
    let path = dir.path().join("big.log");
    std::fs::write(&path, &data).unwrap();
    let report = Scanner::with_default_rules()
        .scan_paths(
            &[path],
            &ScanOptions {
                threads: 2,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(report.findings.len(), planted.len());
    assert_eq!(report.bytes_scanned, data.len() as u64);
    assert_eq!(
        report.findings.last().unwrap().line,
        planted.last().unwrap().0
    );
}

#[test]
fn baseline_suppresses_known_findings() {
    let (_dir, root) = tree();
    let s = Scanner::with_default_rules();
    let first = s
        .scan_paths(&[root.join("logs/app.log")], &ScanOptions::default())
        .unwrap();
    let mut json = Vec::new();
    write_report(&mut json, &first, s.rules(), Format::Json).unwrap();
    let baseline = Baseline::from_json(std::str::from_utf8(&json).unwrap()).unwrap();
    assert_eq!(baseline.len(), 1);
    // A new secret in the same file is still reported.
    std::fs::write(
        root.join("logs/app.log"),
        format!("start\nkey {GH}\nnew {STRIPE}\n"),
    )
    .unwrap();
    let mut second = s
        .scan_paths(&[root.join("logs/app.log")], &ScanOptions::default())
        .unwrap();
    baseline.apply(&mut second);
    assert_eq!(second.findings.len(), 1);
    assert_eq!(second.findings[0].rule_id, "stripe-secret-key");
    assert_eq!(second.baseline_suppressed, 1);
    // SARIF output works as a baseline too.
    let mut sarif = Vec::new();
    write_report(&mut sarif, &first, s.rules(), Format::Sarif).unwrap();
    assert_eq!(
        Baseline::from_json(std::str::from_utf8(&sarif).unwrap())
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn reports_never_contain_the_secret() {
    let (_dir, root) = tree();
    let s = Scanner::with_default_rules();
    let report = s
        .scan_paths(&[root.join("logs")], &ScanOptions::default())
        .unwrap();
    for format in [Format::Text, Format::Json, Format::Sarif] {
        let mut out = Vec::new();
        write_report(&mut out, &report, s.rules(), format).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("github-token"));
        assert!(
            !text.contains(&GH[8..]) && !text.contains(&STRIPE[10..]),
            "{format:?} leaks"
        );
    }
    let summary = findings_summary(&report.findings, 10);
    assert!(summary.contains("github-token") && !summary.contains(&GH[8..]));
    assert_eq!(
        highest_severity(&report.findings),
        Some(muster_scan::Severity::Sev1)
    );
    assert_eq!(highest_severity(&[]), None);
}

#[test]
fn sarif_has_the_required_shape() {
    let (_dir, root) = tree();
    let s = Scanner::with_default_rules();
    let report = s
        .scan_paths(&[root.join("logs/app.log")], &ScanOptions::default())
        .unwrap();
    let mut out = Vec::new();
    write_report(&mut out, &report, s.rules(), Format::Sarif).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "muster-scan");
    let result = &run["results"][0];
    assert_eq!(result["ruleId"], "github-token");
    let idx = result["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(run["tool"]["driver"]["rules"][idx]["id"], "github-token");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["region"]["startLine"],
        2
    );
    assert!(result["partialFingerprints"].as_object().unwrap().len() == 1);
    // GitHub code scanning ranks by security-severity; the tool links somewhere real.
    assert_eq!(
        run["tool"]["driver"]["rules"][idx]["properties"]["security-severity"],
        "9.0"
    );
    assert!(
        run["tool"]["driver"]["informationUri"]
            .as_str()
            .is_some_and(|u| u.starts_with("https://"))
    );
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
}

#[test]
fn sarif_notifies_what_was_not_scanned() {
    let mut report = muster_scan::ScanReport::default();
    report.binary_skipped.push("bin/app".into());
    report.symlink_loops.push("loop".into());
    let mut out = Vec::new();
    let s = Scanner::with_default_rules();
    write_report(&mut out, &report, s.rules(), Format::Sarif).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let notes = v["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    assert_eq!(notes.len(), 2);
    assert!(
        notes[0]["message"]["text"]
            .as_str()
            .unwrap()
            .contains("bin/app")
    );
}

#[test]
fn sizes_under_a_tenth_of_a_megabyte_read_in_kilobytes() {
    assert_eq!(muster_scan::human_size(2_500), "2.5 KB");
    assert_eq!(muster_scan::human_size(99_999), "100.0 KB");
    assert_eq!(muster_scan::human_size(150_000), "0.1 MB");
    assert_eq!(muster_scan::human_size(1_074_000_000), "1074.0 MB");
}
