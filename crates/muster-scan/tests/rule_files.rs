//! Gitleaks-style rule files of our own (fixtures/rules): extend, allowlists, paths.

use muster_scan::{RuleSet, Scanner, Severity};
use std::path::Path;

fn load(name: &str) -> Scanner {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/rules")
        .join(name);
    Scanner::new(RuleSet::from_file(&path).expect("rule file loads")).expect("compiles")
}

fn rules_found(s: &Scanner, text: &str, path: &str) -> Vec<String> {
    s.scan_bytes(text.as_bytes(), path)
        .into_iter()
        .map(|f| f.rule_id)
        .collect()
}

const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkJvdCJ9.c2lnbmF0dXJlLWZha2UtZm9yLXRlc3RzLTEyMzQ1";

#[test]
fn extend_use_default_keeps_defaults_adds_and_disables() {
    let s = load("extend-default.toml");
    let defaults = RuleSet::default_rules();
    assert_eq!(s.rules().rules.len(), defaults.rules.len()); // -jwt +internal
    assert!(s.rules().get("jwt").is_none());
    assert_eq!(
        s.rules().get("muster-internal-token").unwrap().severity,
        Severity::Sev1
    );
    let line =
        "deploy ghp_R4nd0mT0k3nV4lu3Xyz9876543210abcdeFg mst_0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d";
    let found = rules_found(&s, line, "ci.log");
    assert!(found.contains(&"github-token".to_string()), "{found:?}");
    assert!(
        found.contains(&"muster-internal-token".to_string()),
        "{found:?}"
    );
    assert!(
        rules_found(&s, &format!("jwt={JWT}"), "ci.log")
            .iter()
            .all(|r| r != "jwt")
    );
    // The default scanner does report that JWT, so disabling it mattered.
    assert!(
        rules_found(
            &Scanner::with_default_rules(),
            &format!("jwt {JWT}"),
            "ci.log"
        )
        .contains(&"jwt".to_string())
    );
    // Global path allowlist added by the file.
    assert!(rules_found(&s, line, "src/testdata/fake.log").is_empty());
}

#[test]
fn rule_allowlists_targets_conditions_and_stopwords() {
    let s = load("allowlists.toml");
    let hit =
        |text: &str, path: &str| rules_found(&s, text, path).contains(&"acme-key".to_string());
    assert!(hit("acme_key = 9f8e7d6c5b4a39281706f5e4", "app.conf"));
    // regexTarget = "line"
    assert!(!hit(
        "Example: acme_key = 9f8e7d6c5b4a39281706f5e4",
        "app.conf"
    ));
    // condition = AND: both the path and the secret regex must match.
    assert!(!hit(
        "acme_key = test7d6c5b4a39281706f5e4aa",
        "sandbox.conf"
    ));
    assert!(hit("acme_key = test7d6c5b4a39281706f5e4aa", "prod.conf"));
    assert!(hit("acme_key = 9f8e7d6c5b4a39281706f5e4", "sandbox.conf"));
    // regexTarget = "match"
    assert!(!hit("acme_key = \"demo5c4b4a39281706f5e4ab\"", "app.conf"));
    assert!(hit("acme_key = \"5c4b4a39281706f5e4abdemo\"", "app.conf"));
    // rule stopword and global stopword and global regex
    assert!(!hit("acme_key = 9f8e7ddummy4a39281706f5e4", "app.conf"));
    assert!(!hit("acme-key: placeholder0000000000000000", "app.conf"));
    assert!(!hit("acme-key: 000000000000000000000000", "app.conf"));
}

#[test]
fn path_only_and_path_limited_rules() {
    let s = load("path-rules.toml");
    assert_eq!(
        rules_found(&s, "binary-ish", "conf/server.keystore"),
        vec!["keystore-file"]
    );
    assert!(rules_found(&s, "x", "conf/server.conf").is_empty());
    let env = "USER=app\nDB_PASSWORD=Zq8#kLp2!vR9\n";
    assert_eq!(
        rules_found(&s, env, "deploy/.env.production"),
        vec!["dotenv-password"]
    );
    assert!(rules_found(&s, env, "deploy/notes.txt").is_empty());
    let f = &s.scan_bytes(env.as_bytes(), ".env")[0];
    assert_eq!((f.line, f.column), (2, 1));
}

#[test]
fn invalid_files_name_the_rule_and_line() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules");
    let err = RuleSet::from_file(&dir.join("invalid-regex.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("rule `unbalanced`") && err.contains("line 10"),
        "{err}"
    );
    let err = RuleSet::from_file(&dir.join("invalid-severity.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("rule `loud`") && err.contains("line 4") && err.contains("SEV9"),
        "{err}"
    );
    let err =
        RuleSet::from_toml("[[rules]]\nid = \"nothing\"\ndescription = \"no regex, no path\"\n")
            .unwrap_err()
            .to_string();
    assert!(err.contains("`nothing`") && err.contains("line 2"), "{err}");
}

#[test]
fn overlapping_windows_from_different_searches_report_a_match_once() {
    // "aaa-k" is found by Teddy, "q~" by memmem afterwards; the window of the q~ hit joins
    // the second aaa-k window and overlaps the first one around SECRET1.
    let text = r#"
[[rules]]
id = "mixed"
regex = '''SECRET\d'''
keywords = ["q~", "aaa-k"]
window = "line"
windowBefore = 0
windowAfter = 30
"#;
    let s = Scanner::new(RuleSet::from_toml(text).unwrap()).unwrap();
    let line = format!(
        "aaa-k{}q~SECRET1{}aaa-k{}\n",
        " ".repeat(15),
        " ".repeat(21),
        " ".repeat(30)
    );
    let found = s.scan_bytes(line.as_bytes(), "x");
    assert_eq!(found.len(), 1, "{found:?}");
}
