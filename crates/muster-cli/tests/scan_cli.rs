//! `muster scan` and `muster redact` through the real binary.

use std::io::Write;
use std::process::{Command, Output, Stdio};

// Fake secrets generated for these tests.
const GH: &str = "ghp_Q2x9Lm4Pz7Rt1Vb8Nc3Kd6Hs0Jf5Gw2Ye7Ua";
const STRIPE: &str = "sk_live_4eC39HqLyjWDarjtT1zdp7dcXq";
const GH2: &str = "ghp_Z8y7Xw6Vu5Ts4Rq3Po2Nm1Lk0Ji9Hg8Fe7Dc";

fn muster(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_muster"));
    c.args(args).env_remove("MUSTER_CONFIG");
    output(c, stdin)
}

/// Run `c`, feeding it `stdin` when given, and wait for everything it printed.
fn output(mut c: Command, stdin: Option<&[u8]>) -> Output {
    let mut child = c
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("muster runs");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("logs")).unwrap();
    std::fs::write(
        dir.path().join("logs/ci.log"),
        format!("step 1\nexport GITHUB_TOKEN={GH}\nstep 3\n"),
    )
    .unwrap();
    std::fs::write(dir.path().join("logs/clean.log"), "all good\n").unwrap();
    dir
}

#[test]
fn findings_exit_1_with_redacted_text_report() {
    let dir = workdir();
    let out = muster(
        &[
            "scan",
            "--no-progress",
            dir.path().join("logs").to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("ci.log:2:21: github-token [SEV1]"),
        "{stdout}"
    );
    assert!(stdout.contains("ghp_Q2…["), "{stdout}");
    assert!(!stdout.contains(&GH[8..]) && !text(&out.stderr).contains(&GH[8..]));
    assert!(stdout.contains("1 finding in 2 files"), "{stdout}");
}

#[test]
fn clean_input_exits_0() {
    let dir = workdir();
    let out = muster(
        &["scan", dir.path().join("logs/clean.log").to_str().unwrap()],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn standard_input_with_and_without_dash() {
    let input = format!("hello\nkey={STRIPE}\n");
    for args in [&["scan"][..], &["scan", "-"][..]] {
        let out = muster(args, Some(input.as_bytes()));
        assert_eq!(out.status.code(), Some(1));
        assert!(
            text(&out.stdout).contains("<stdin>:2:5: stripe-secret-key"),
            "{}",
            text(&out.stdout)
        );
    }
}

#[test]
fn json_and_sarif_formats() {
    let dir = workdir();
    let logs = dir.path().join("logs");
    let out = muster(
        &[
            "scan",
            "--format",
            "json",
            "-j",
            "1",
            logs.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"][0]["rule_id"], "github-token");
    assert_eq!(v["findings"][0]["line"], 2);
    assert_eq!(v["findings"][0]["severity"], "SEV1");
    assert!(v["findings"][0]["fingerprint"].as_str().unwrap().len() >= 16);
    assert_eq!(v["summary"]["files_scanned"], 2);
    let out = muster(&["scan", "--format", "sarif", logs.to_str().unwrap()], None);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    assert_eq!(v["runs"][0]["results"][0]["ruleId"], "github-token");
    assert!(!text(&out.stdout).contains(&GH[8..]));
}

#[test]
fn baseline_accepts_known_findings() {
    let dir = workdir();
    let logs = dir.path().join("logs");
    let baseline = dir.path().join("baseline.json");
    let out = muster(
        &[
            "scan",
            "--format",
            "json",
            "-o",
            baseline.to_str().unwrap(),
            logs.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let out = muster(
        &[
            "scan",
            "--baseline",
            baseline.to_str().unwrap(),
            logs.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("1 in baseline"));
    let out = muster(
        &[
            "scan",
            "--baseline",
            dir.path().join("nope.json").to_str().unwrap(),
        ],
        Some(b""),
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn custom_rules_and_invalid_rules() {
    let dir = workdir();
    let rules = dir.path().join("rules.toml");
    std::fs::write(
        &rules,
        "[extend]\nuseDefault = true\n\n[[rules]]\nid = \"acme-token\"\nregex = '''acme_[0-9a-f]{16}'''\nkeywords = [\"acme_\"]\n",
    )
    .unwrap();
    let out = muster(
        &["scan", "--rules", rules.to_str().unwrap()],
        Some(format!("acme_0123456789abcdef {GH}\n").as_bytes()),
    );
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("acme-token") && stdout.contains("github-token"),
        "{stdout}"
    );
    std::fs::write(
        &rules,
        "[[rules]]\nid = \"ok\"\nregex = 'a'\n\n[[rules]]\nid = \"bad-one\"\nregex = '''(x'''\n",
    )
    .unwrap();
    let out = muster(&["scan", "--rules", rules.to_str().unwrap()], Some(b"x"));
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("rule `bad-one`") && stderr.contains("line 7"),
        "{stderr}"
    );
}

#[test]
fn unreadable_paths_are_reported_and_the_scan_goes_on() {
    let dir = workdir();
    let missing = dir.path().join("missing.log");
    let out = muster(
        &[
            "scan",
            missing.to_str().unwrap(),
            dir.path().join("logs").to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("cannot read") && text(&out.stderr).contains("missing.log"));
    let out = muster(&["scan", missing.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn declare_flag_opens_an_incident_from_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], stdin: Option<&[u8]>| muster_in(dir.path(), args, stdin);
    let out = run(
        &["scan", "--declare"],
        Some(format!("leak {GH}\n").as_bytes()),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("declared INC-1"),
        "{}",
        text(&out.stderr)
    );
    let show = run(&["--json", "incident", "show", "INC-1"], None);
    let d = text(&show.stdout);
    assert!(
        d.contains("\"severity\": \"SEV1\"") && d.contains("github-token"),
        "{d}"
    );
    assert!(!d.contains(&GH[8..]), "the secret is not in the record");
}

#[test]
fn redact_filters_stdin_to_stdout() {
    let input = format!("a {GH} b\nDATABASE_URL=postgres://app:Xk29fLq8Vz@db/prod\nplain\n");
    let out = muster(&["redact"], Some(input.as_bytes()));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        "a [REDACTED:github-token] b\nDATABASE_URL=postgres://app:[REDACTED:database-url-password]@db/prod\nplain\n"
    );
}

#[test]
fn redact_streams_lines_as_they_arrive() {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_muster"))
        .arg("redact")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    for i in 0..3 {
        // The output line comes back while stdin is still open.
        writeln!(stdin, "event {i} token {GH}").unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        assert_eq!(line, format!("event {i} token [REDACTED:github-token]\n"));
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

/// `muster` in `dir`, without the caller's environment choosing another database, server
/// or configuration.
fn muster_in(dir: &std::path::Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_muster"));
    c.args(args).current_dir(dir);
    for var in [
        "MUSTER_CONFIG",
        "MUSTER_DATABASE_URL",
        "MUSTER_SERVER",
        "MUSTER_TOKEN",
        "MUSTER_LANG",
    ] {
        c.env_remove(var);
    }
    output(c, stdin)
}

/// Scan the same findings with `--declare` (plus `extra` arguments) twice: one incident,
/// each finding noted once, no secret anywhere.
fn declares_once(dir: &std::path::Path, extra: &[&str]) {
    let scan = |input: &str| {
        let mut args = extra.to_vec();
        args.extend(["scan", "--declare"]);
        let out = muster_in(dir, &args, Some(input.as_bytes()));
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        text(&out.stderr)
    };
    let input = format!("leak {GH}\nleak {STRIPE}\n");
    let first = scan(&input);
    assert!(first.contains("declared INC-1"), "{first}");
    let second = scan(&input);
    assert!(second.contains("already open as INC-1"), "{second}");
    assert!(second.contains("0 finding(s)"), "{second}");
    // The same leak seen again with one more secret: added to the open incident, which
    // its fingerprints match, instead of a second incident.
    let third = scan(&format!("{input}leak {GH2}\n"));
    assert!(third.contains("already open as INC-1"), "{third}");
    assert!(third.contains("1 finding(s)"), "{third}");
    let mut args = extra.to_vec();
    args.extend(["--json", "incident", "list"]);
    let list = muster_in(dir, &args, None);
    let list: serde_json::Value = serde_json::from_slice(&list.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", text(&list.stderr)));
    assert_eq!(list["total"], 1, "{list}");
    let mut args = extra.to_vec();
    args.extend(["--json", "incident", "show", "INC-1"]);
    let show = text(&muster_in(dir, &args, None).stdout);
    let d: serde_json::Value = serde_json::from_str(&show).unwrap();
    let notes: Vec<&str> = d["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["event"]["text"].as_str())
        .collect();
    let noted = notes
        .iter()
        .map(|n| n.matches("fingerprint ").count())
        .sum::<usize>();
    assert_eq!(noted, 3, "each finding noted once: {notes:?}");
    for secret in [GH, STRIPE, GH2] {
        assert!(
            !show.contains(&secret[8..]),
            "the secret is not in the record"
        );
    }
    assert!(!first.contains(&GH[8..]) && !second.contains(&GH[8..]));
    assert!(!third.contains(&GH2[8..]));
}

#[test]
fn declaring_twice_on_the_same_findings_opens_one_incident() {
    let dir = tempfile::tempdir().unwrap();
    declares_once(dir.path(), &[]);
}

/// The same through a running server's API (its `Idempotency-Key`).
#[test]
fn declaring_twice_through_a_server_opens_one_incident() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    // The scan follows its own incident through the server on its own; whoever lists and
    // shows it afterwards here is someone else, so let everyone see security incidents.
    std::fs::write(
        dir.path().join("muster.toml"),
        "[server]\nsecurity_viewers = [\"*\"]\n",
    )
    .unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_muster"));
    c.args(["serve", "--bind", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env("MUSTER_LOG", "info");
    for var in [
        "MUSTER_CONFIG",
        "MUSTER_DATABASE_URL",
        "MUSTER_SERVER",
        "MUSTER_TOKEN",
    ] {
        c.env_remove(var);
    }
    let mut child = c
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let stderr = child.stderr.take().unwrap();
    let child = Kill(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(u) = line.split_whitespace().find(|w| w.starts_with("http://")) {
                let _ = tx.send(u.trim_end_matches(['.', ',']).to_owned());
            }
        }
    });
    let url = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("muster serve starts");
    let other = tempfile::tempdir().unwrap();
    declares_once(other.path(), &["--server", &url]);
    drop(child);
}

// ---------------------------------------------------------------- for people (issue 15)

#[test]
fn color_always_paints_findings_and_never_or_a_pipe_does_not() {
    let dir = workdir();
    let logs = dir.path().join("logs");
    let logs = logs.to_str().unwrap();
    let painted = muster(&["scan", "--no-progress", "--color", "always", logs], None);
    assert_eq!(painted.status.code(), Some(1));
    let stdout = text(&painted.stdout);
    // The rule in its severity's colour (SEV1: bold red), the summary too.
    assert!(
        stdout.contains("\x1b[1;31mgithub-token\x1b[0m"),
        "{stdout:?}"
    );
    assert!(
        stdout.contains("\x1b[1;31m1 finding in 2 files"),
        "{stdout:?}"
    );
    assert!(!stdout.contains(&GH[8..]));
    // `auto` (the default) into a pipe, and `never`: plain text.
    for args in [
        &["scan", "--no-progress", logs][..],
        &["scan", "--no-progress", "--color", "never", logs],
    ] {
        let plain = muster(args, None);
        let stdout = text(&plain.stdout);
        assert!(!stdout.contains('\x1b'), "{stdout:?}");
        assert!(
            stdout.contains("ci.log:2:21: github-token [SEV1]"),
            "{stdout}"
        );
    }
    let bad = muster(&["scan", "--color", "sometimes", logs], None);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad.stderr));
}

#[test]
fn control_characters_in_paths_are_not_sent_to_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let name = dir.path().join("evil\x1b[2Jname.log");
    std::fs::write(&name, format!("export GITHUB_TOKEN={GH}\n")).unwrap();
    let out = muster(&["scan", "--no-progress", name.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(!stdout.contains('\x1b'), "{stdout:?}");
    assert!(stdout.contains("evil?[2Jname.log:1:21"), "{stdout}");
}

#[test]
fn lang_fr_and_the_configured_language_translate_the_report() {
    let dir = workdir();
    let logs = dir.path().join("logs");
    let logs = logs.to_str().unwrap();
    let fr = muster(&["--lang", "fr", "scan", "--no-progress", logs], None);
    assert_eq!(fr.status.code(), Some(1), "{}", text(&fr.stderr));
    let stdout = text(&fr.stdout);
    assert!(stdout.contains("1 résultat dans 2 fichiers"), "{stdout}");
    assert!(
        stdout.contains("entropie") && stdout.contains("empreinte"),
        "{stdout}"
    );
    assert!(!stdout.contains("finding"), "{stdout}");
    // The configuration's language, when no --lang is given; --lang wins over it.
    let config = dir.path().join("muster.toml");
    std::fs::write(&config, "language = \"fr\"\n").unwrap();
    let config = config.to_str().unwrap();
    let from_config = muster(&["--config", config, "scan", "--no-progress", logs], None);
    assert!(text(&from_config.stdout).contains("1 résultat dans 2 fichiers"));
    let flag_wins = muster(
        &[
            "--config",
            config,
            "--lang",
            "en",
            "scan",
            "--no-progress",
            logs,
        ],
        None,
    );
    assert!(text(&flag_wins.stdout).contains("1 finding in 2 files"));
    // Warnings and the stderr summary of a JSON report too.
    let missing = dir.path().join("missing.log");
    let json = muster(
        &[
            "--lang",
            "fr",
            "scan",
            "--no-progress",
            "--format",
            "json",
            logs,
            missing.to_str().unwrap(),
        ],
        None,
    );
    let stderr = text(&json.stderr);
    assert!(stderr.contains("impossible de lire"), "{stderr}");
    assert!(
        stderr.contains("1 résultat dans 2 fichiers (") && stderr.contains("1 illisible(s)"),
        "{stderr}"
    );
    let bad = muster(&["--lang", "xx", "scan", logs], None);
    assert_ne!(bad.status.code(), Some(0));
    assert_ne!(bad.status.code(), Some(1));
}

#[test]
fn progress_shows_percent_and_time_left_when_the_size_is_known() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.log");
    let line = "2026-12-03T20:00:00Z INFO request served path=/api/v1/items status=200\n";
    std::fs::write(&file, line.repeat(40_000)).unwrap();
    let file = file.to_str().unwrap();
    let out = muster(&["scan", "--progress", file], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("[####################] scanning: 100% (2.8 MB of 2.8 MB"),
        "{stderr:?}"
    );
    assert!(stderr.contains("left"), "{stderr:?}");
    // The line is cleared at the end, before the report.
    assert!(stderr.ends_with("\r\x1b[2K"), "{stderr:?}");
    let fr = muster(&["--lang", "fr", "scan", "--progress", file], None);
    let stderr = text(&fr.stderr);
    assert!(
        stderr.contains("analyse : 100 % (2.8 MB sur 2.8 MB") && stderr.contains("restant"),
        "{stderr:?}"
    );
    // Standard input: the total is unknown, so no percentage, the bytes read instead.
    let piped = muster(&["scan", "--progress", "-"], Some(line.as_bytes()));
    let stderr = text(&piped.stderr);
    assert!(
        stderr.contains("scanning: 0.1 KB") && !stderr.contains('%'),
        "{stderr:?}"
    );
    // Not a terminal and not forced: nothing drawn.
    let quiet = muster(&["scan", file], None);
    assert!(!text(&quiet.stderr).contains("scanning"));
}
