//! The hand-made corpus (`fixtures/handmade/lines.txt`): realistic log lines in formats
//! the generated corpus does not use, each planted secret found by an accepted rule, and
//! no finding on the negative lines.

use muster_scan::Scanner;
use std::collections::BTreeMap;

const LINES: &str = include_str!("fixtures/handmade/lines.txt");

#[test]
fn handmade_corpus_recall_and_precision() {
    let mut log = String::new();
    let mut planted: BTreeMap<u64, Vec<&str>> = BTreeMap::new();
    let mut negatives = 0;
    for (i, entry) in LINES.lines().enumerate() {
        let (head, text) = entry.split_once('\t').expect("tab after the marker");
        let line = i as u64 + 1;
        match head.split_once(' ') {
            Some(("P", rules)) => {
                planted.insert(line, rules.split(',').collect());
            }
            _ if head == "N" => negatives += 1,
            _ => assert_eq!(head, "C", "line {line}: unknown marker"),
        }
        log.push_str(text);
        log.push('\n');
    }
    let findings = Scanner::with_default_rules().scan_bytes(log.as_bytes(), "handmade.log");
    let mut by_line: BTreeMap<u64, Vec<&str>> = BTreeMap::new();
    for f in &findings {
        by_line.entry(f.line).or_default().push(&f.rule_id);
    }
    let mut missed = Vec::new();
    for (line, rules) in &planted {
        let got = by_line.get(line);
        if !got.is_some_and(|g| g.iter().any(|r| rules.contains(r))) {
            missed.push(format!("line {line}: want {rules:?}, got {got:?}"));
        }
    }
    let false_positives: Vec<String> = by_line
        .iter()
        .filter(|(l, _)| !planted.contains_key(l))
        .map(|(l, r)| format!("line {l}: {r:?}"))
        .collect();
    let found = planted.len() - missed.len();
    let tp: usize = by_line
        .iter()
        .filter(|(l, _)| planted.contains_key(l))
        .map(|(_, r)| r.len())
        .sum();
    let fp: usize = by_line
        .iter()
        .filter(|(l, _)| !planted.contains_key(l))
        .map(|(_, r)| r.len())
        .sum();
    let recall = found as f64 / planted.len() as f64;
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    println!(
        "hand-made corpus: recall {:.2}% ({found}/{}), precision {:.2}% ({fp} false positives, {negatives} negative lines)",
        recall * 100.0,
        planted.len(),
        precision * 100.0
    );
    assert!(
        recall >= 0.99 && precision >= 0.99,
        "missed: {missed:#?}\nfalse positives: {false_positives:#?}"
    );
}
