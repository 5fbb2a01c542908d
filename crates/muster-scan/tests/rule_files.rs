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

#[test]
fn composite_rules_need_their_parts_nearby() {
    let toml = r#"
[[rules]]
id = "acme-client-id"
regex = '''acme_id=(AID[0-9]{8})'''
keywords = ["acme_id"]
skipReport = true

[[rules]]
id = "acme-secret"
regex = '''acme_secret=([A-Za-z0-9]{20})'''
keywords = ["acme_secret"]
[[rules.required]]
id = "acme-client-id"
withinLines = 2
"#;
    let s = Scanner::new(RuleSet::from_toml(toml).unwrap()).unwrap();
    let near = "acme_id=AID12345678\nx\nacme_secret=Zr8kQ2mVw9xLp4TbN7qA\n";
    assert_eq!(rules_found(&s, near, "a.env"), vec!["acme-secret"]);
    let far = "acme_id=AID12345678\n1\n2\n3\nacme_secret=Zr8kQ2mVw9xLp4TbN7qA\n";
    assert!(rules_found(&s, far, "a.env").is_empty());
    let alone = "acme_secret=Zr8kQ2mVw9xLp4TbN7qA\n";
    assert!(rules_found(&s, alone, "a.env").is_empty());
    let bad = toml.replace(
        "id = \"acme-client-id\"\nwithinLines",
        "id = \"nope\"\nwithinLines",
    );
    let err = RuleSet::from_toml(&bad).unwrap_err().to_string();
    assert!(err.contains("required rule `nope`"), "{err}");
}

#[test]
fn extend_path_loads_the_base_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("base.toml"),
        "[[rules]]\nid = \"base-rule\"\nregex = '''BASE[0-9]{6}'''\nkeywords = [\"base\"]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("mine.toml"),
        "[extend]\npath = \"base.toml\"\n\n[[rules]]\nid = \"mine\"\nregex = '''MINE[0-9]{6}'''\nkeywords = [\"mine\"]\n",
    )
    .unwrap();
    let s = Scanner::new(RuleSet::from_file(&dir.path().join("mine.toml")).unwrap()).unwrap();
    assert_eq!(
        rules_found(&s, "BASE123456 MINE123456", "x"),
        vec!["base-rule", "mine"]
    );
    std::fs::write(
        dir.path().join("loop.toml"),
        "[extend]\npath = \"loop.toml\"\n",
    )
    .unwrap();
    assert!(RuleSet::from_file(&dir.path().join("loop.toml")).is_err());
}

#[test]
fn gitleaks_files_decode_when_asked() {
    let toml =
        "[[rules]]\nid = \"acme\"\nregex = '''acme_[A-Za-z0-9]{20}'''\nkeywords = [\"acme_\"]\n";
    // base64 of "key: acme_Zr8kQ2mVw9xLp4TbN7qA"
    let text = "payload a2V5OiBhY21lX1pyOGtRMm1Wdzl4THA0VGJON3FB end";
    let mut s = Scanner::new(RuleSet::from_toml(toml).unwrap()).unwrap();
    assert!(rules_found(&s, text, "x").is_empty());
    s.max_decode_depth = 2;
    assert_eq!(rules_found(&s, text, "x"), vec!["acme"]);
}
