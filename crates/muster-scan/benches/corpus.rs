//! Corpus benchmark for the leak scanner: a generator of realistic mixed logs with
//! planted secrets and a ground-truth file, and a runner that reports recall, precision,
//! throughput (1 thread and all threads), peak memory, redaction throughput, and the
//! same corpus through other scanners installed on the machine (detect-secrets,
//! ripsecrets, and gitleaks if present). The slower scanners run on a prefix of the
//! corpus (`--others-mb`, default 100 MB; detect-secrets `--ds-mb`, default 20 MB, as it
//! scans about 0.25 MB/s here), and muster-scan is timed again on that same prefix.
//!
//! ```text
//! cargo bench -p muster-scan --bench corpus -- all --dir /tmp/muster-bench --size-mb 1024
//! cargo bench -p muster-scan --bench corpus -- gen --dir /tmp/muster-bench --size-mb 1024
//! cargo bench -p muster-scan --bench corpus -- run --dir /tmp/muster-bench [--others-mb 100] [--ds-mb 20]
//! ```
//! The corpus goes to `--dir` (keep it under /tmp: it is never committed). Every secret
//! in it is random and fake.

use muster_scan::{Redactor, ScanOptions, Scanner};
use std::collections::{HashMap, HashSet};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

mod common;
use common::*;

// ------------------------------------------------------------------ planted secrets

/// Every kind of secret the default rules know, as (rule id, generator of one line or
/// several lines holding it). The secret is always on the first line returned.
type Plant = fn(&mut Rng) -> String;

fn plants() -> Vec<(&'static str, Plant)> {
    vec![
        ("aws-access-key-id", |r| {
            format!("AKIA{}", r.chars(16, UPPER_B32))
        }),
        ("aws-secret-access-key", |r| {
            format!("AWS_SECRET_ACCESS_KEY={}", r.chars(40, B64))
        }),
        ("gcp-api-key", |r| format!("AIza{}", r.chars(35, B64URL))),
        ("gcp-oauth-client-secret", |r| {
            format!("GOCSPX-{}", r.chars(28, B64URL))
        }),
        ("gcp-service-account-key-id", |r| {
            format!("\"private_key_id\": \"{}\"", r.chars(40, HEX))
        }),
        ("azure-storage-account-key", |r| {
            format!(
                "DefaultEndpointsProtocol=https;AccountName=logs{};AccountKey={}==;EndpointSuffix=core.windows.net",
                r.below(100),
                r.chars(86, B64)
            )
        }),
        ("azure-ad-client-secret", |r| {
            format!(
                "{}{}Q~{}",
                r.chars(3, ALNUM),
                r.below(10),
                r.chars(34, ALNUM)
            )
        }),
        ("azure-sas-token", |r| {
            format!(
                "https://acct{}.blob.core.windows.net/backups/db.bak?sv=2022-11-02&ss=b&srt=o&sp=r&se=2026-12-01T00:00:00Z&sig={}%3D",
                r.below(100),
                r.chars(43, ALNUM)
            )
        }),
        ("github-token", |r| {
            format!("{}_{}", r.pick(&["ghp", "gho", "ghs"]), r.chars(36, ALNUM))
        }),
        ("github-fine-grained-pat", |r| {
            format!("github_pat_{}", r.chars(82, ALNUM))
        }),
        ("gitlab-token", |r| format!("glpat-{}", r.chars(20, B64URL))),
        ("slack-token", |r| {
            format!(
                "xoxb-{}-{}-{}",
                r.chars(12, DIGITS),
                r.chars(13, DIGITS),
                r.chars(24, ALNUM)
            )
        }),
        ("slack-webhook-url", |r| {
            format!(
                "https://hooks.slack.com/services/T{}/B{}/{}",
                r.chars(8, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
                r.chars(10, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
                r.chars(24, ALNUM)
            )
        }),
        ("private-key", |r| {
            let body: Vec<String> = (0..12).map(|_| r.chars(64, B64)).collect();
            format!(
                "-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----",
                body.join("\n")
            )
        }),
        ("jwt", |r| {
            format!(
                "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ{}.{}",
                r.chars(60, B64URL),
                r.chars(43, B64URL)
            )
        }),
        ("database-url-password", |r| {
            format!(
                "{}://app:{}@db-{}.internal:5432/prod",
                r.pick(&["postgres", "postgresql", "mysql", "mongodb+srv", "redis"]),
                r.chars(20, ALNUM),
                r.below(10)
            )
        }),
        ("stripe-secret-key", |r| {
            format!("sk_live_{}", r.chars(32, ALNUM))
        }),
        ("twilio-api-key", |r| {
            format!("TWILIO_API_KEY=SK{}", r.chars(32, HEX))
        }),
        ("twilio-auth-token", |r| {
            format!("TWILIO_AUTH_TOKEN={}", r.chars(32, HEX))
        }),
        ("sendgrid-api-key", |r| {
            format!("SG.{}.{}", r.chars(22, B64URL), r.chars(43, B64URL))
        }),
        ("npm-token", |r| format!("npm_{}", r.chars(36, ALNUM))),
        ("npm-legacy-auth-token", |r| {
            format!("//registry.npmjs.org/:_authToken={}", r.uuid())
        }),
        ("pypi-token", |r| {
            format!("pypi-AgEIcHlwaS5vcmc{}", r.chars(70, B64URL))
        }),
        ("notify-api-key", |r| {
            let name = r.pick(&["ci", "prod-sender", "staging_key"]).to_string();
            format!("gcntfy-{name}-{}-{}", r.uuid(), r.uuid())
        }),
        ("authorization-header", |r| {
            format!("Authorization: Bearer {}", r.chars(40, ALNUM))
        }),
        ("generic-secret-assignment", |r| {
            let name = r
                .pick(&["client_secret", "DB_PASSWORD", "api_key", "SECRET_KEY_BASE"])
                .to_string();
            format!("{name}={}", r.chars(32, ALNUM))
        }),
    ]
}

/// Put a secret into a log line of one of the three kinds.
fn embed(r: &mut Rng, ts: u64, secret: &str) -> String {
    let multi = secret.contains('\n');
    match if multi { 2 } else { r.below(3) } {
        0 => format!(
            "{{\"ts\":\"{}\",\"level\":\"debug\",\"service\":\"billing\",\"msg\":\"loaded settings\",\"detail\":\"{}\",\"request_id\":\"{}\"}}",
            iso(ts),
            secret.replace('"', "\\\""),
            r.uuid()
        ),
        1 => format!(
            "10.{}.{}.{} - - [{}] \"GET /debug?cfg={} HTTP/1.1\" 500 231 \"-\" \"python-requests/2.31.0\"",
            r.below(255),
            r.below(255),
            r.below(255),
            clf(ts),
            secret.replace(' ', "%20")
        ),
        _ => format!("[{}] + echo {}", hms(ts), secret),
    }
}

// ------------------------------------------------------------------ background lines

fn iso(ts: u64) -> String {
    format!(
        "2026-11-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        1 + ts / 86400 % 28,
        ts / 3600 % 24,
        ts / 60 % 60,
        ts % 60,
        ts % 1000
    )
}
fn clf(ts: u64) -> String {
    format!(
        "{:02}/Nov/2026:{:02}:{:02}:{:02} +0000",
        1 + ts / 86400 % 28,
        ts / 3600 % 24,
        ts / 60 % 60,
        ts % 60
    )
}
fn hms(ts: u64) -> String {
    format!("{:02}:{:02}:{:02}", ts / 3600 % 24, ts / 60 % 60, ts % 60)
}

const PATHS: &[&str] = &[
    "/api/v1/items",
    "/api/v1/users/me",
    "/healthz",
    "/static/app.js",
    "/api/v2/orders",
    "/login",
    "/api/v1/notifications",
    "/favicon.ico",
    "/api/v1/search?q=boots&page=2",
    "/auth/callback",
];
const AGENTS: &[&str] = &[
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "kube-probe/1.30",
    "curl/8.5.0",
    "Go-http-client/1.1",
];
const MSGS: &[&str] = &[
    "request completed",
    "cache miss",
    "user signed in",
    "payment authorised",
    "retrying upstream call",
    "token refreshed for session",
    "password reset email queued",
    "rate limit close to threshold",
    "feature flag evaluated",
    "job enqueued",
    "secret rotated by operator",
    "api key usage recorded",
];
const CI: &[&str] = &[
    "Step 4/12 : RUN npm ci --no-audit",
    "npm WARN deprecated inflight@1.0.6: This module is not supported",
    "   Compiling serde v1.0.210",
    "   Compiling tokio v1.40.0",
    "test store::tests::migrations_apply ... ok",
    "Downloading https://files.pythonhosted.org/packages/py3/r/requests/requests-2.32.3-py3-none-any.whl",
    "##[group]Run actions/checkout@v4",
    "Using token from GITHUB_TOKEN secret (masked)",
    "export API_KEY=${API_KEY}",
    "AWS_SECRET_ACCESS_KEY=****",
    "aws configure set aws_access_key_id AKIAIOSFODNN7EXAMPLE",
    "Connecting to postgres://app@db.internal:5432/prod",
    "password: ${{ secrets.DB_PASSWORD }}",
];

fn background(r: &mut Rng, ts: u64, out: &mut String) {
    match r.below(10) {
        0..=4 => {
            let msg = r.pick(MSGS);
            out.push_str(&format!(
                "{{\"ts\":\"{}\",\"level\":\"{}\",\"service\":\"{}\",\"msg\":\"{}\",\"method\":\"GET\",\"path\":\"{}\",\"status\":{},\"duration_ms\":{}.{},\"request_id\":\"{}\",\"user_id\":{},\"tokens_used\":{}}}",
                iso(ts),
                r.pick(&["info", "info", "info", "warn", "error"]),
                r.pick(&["api", "billing", "worker", "notifier"]),
                msg,
                r.pick(PATHS),
                r.pick(&[200, 200, 200, 201, 204, 302, 404, 500]),
                r.below(900),
                r.below(10),
                r.uuid(),
                r.below(100_000),
                r.below(4096)
            ));
        }
        5..=7 => {
            out.push_str(&format!(
                "10.{}.{}.{} - - [{}] \"{} {} HTTP/1.1\" {} {} \"https://app.example.org{}\" \"{}\"",
                r.below(255),
                r.below(255),
                r.below(255),
                clf(ts),
                r.pick(&["GET", "GET", "POST", "PUT"]),
                r.pick(PATHS),
                r.pick(&[200, 200, 304, 404, 502]),
                r.below(50_000),
                r.pick(PATHS),
                r.pick(AGENTS)
            ));
        }
        _ => match r.below(4) {
            0 => out.push_str(&format!(
                "[{}] #{} sha256:{} Pull complete",
                hms(ts),
                r.below(20),
                r.chars(64, HEX)
            )),
            1 => out.push_str(&format!(
                "[{}] HEAD is now at {} Merge pull request #{}",
                hms(ts),
                r.chars(40, HEX),
                r.below(5000)
            )),
            _ => out.push_str(&format!("[{}] {}", hms(ts), r.pick(CI))),
        },
    }
    out.push('\n');
}

// ------------------------------------------------------------------ generator

fn generate(dir: &Path, size_mb: u64, seed: u64) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let target = size_mb << 20;
    let mut corpus =
        BufWriter::with_capacity(1 << 20, std::fs::File::create(dir.join("corpus.log"))?);
    let mut truth = BufWriter::new(std::fs::File::create(dir.join("truth.tsv"))?);
    let plants = plants();
    let mut r = Rng(seed | 1);
    let (mut written, mut line, mut ts) = (0u64, 1u64, 1_700_000_000u64);
    let mut buf = String::with_capacity(1 << 16);
    let mut planted = 0usize;
    while written < target {
        buf.clear();
        ts += 1;
        // About one secret per 2,000 lines (~ 2,600 in 1 GB), every kind in turn.
        if r.below(32) == 0 {
            let (rule, make) = plants[planted % plants.len()];
            planted += 1;
            let secret = make(&mut r);
            let text = embed(&mut r, ts, &secret);
            writeln!(truth, "{line}\t{rule}").unwrap();
            buf.push_str(&text);
            buf.push('\n');
        } else {
            for _ in 0..64 {
                background(&mut r, ts, &mut buf);
            }
        }
        line += buf.bytes().filter(|&b| b == b'\n').count() as u64;
        written += buf.len() as u64;
        corpus.write_all(buf.as_bytes())?;
    }
    corpus.flush()?;
    truth.flush()?;
    eprintln!(
        "generated {:.0} MB, {} lines, {planted} planted secrets in {}",
        written as f64 / 1e6,
        line - 1,
        dir.display()
    );
    Ok(())
}

/// The first `mb` megabytes of the corpus (cut at a line end), and its truth, for the
/// slower scanners.
fn prefix_corpus(dir: &Path, mb: u64) -> std::io::Result<PathBuf> {
    let data = std::fs::read(dir.join("corpus.log"))?;
    let mut end = ((mb << 20) as usize).min(data.len());
    while end < data.len() && data[end - 1] != b'\n' {
        end += 1;
    }
    let out = dir.join(format!("corpus-{mb}mb.log"));
    std::fs::write(&out, &data[..end])?;
    Ok(out)
}

// ------------------------------------------------------------------ measuring

/// User + system CPU seconds of this process (from /proc/self/stat, 100 ticks/s).
fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn vm_hwm_kb() -> u64 {
    status_kb("VmHWM:")
}

/// Samples RssAnon (heap and stacks, without file pages the kernel maps for the memory
/// map) every 5 ms; returns the peak when stopped.
struct AnonPeak {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<u64>,
}

impl AnonPeak {
    fn start() -> AnonPeak {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut peak = 0;
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(status_kb("RssAnon:"));
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            peak.max(status_kb("RssAnon:"))
        });
        AnonPeak { stop, thread }
    }

    fn stop(self) -> u64 {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.join().unwrap_or(0)
    }
}

/// Child mode: one measurement in a fresh process, so peak memory is its own.
fn measure(kind: &str, file: &Path, threads: usize) {
    let anon = AnonPeak::start();
    let start = Instant::now();
    let cpu0 = cpu_secs();
    let out = match kind {
        "scan" => {
            let mut scanner = Scanner::with_default_rules();
            if let Some(size) = std::env::var("MUSTER_CHUNK_KB")
                .ok()
                .and_then(|v| v.parse::<usize>().ok())
            {
                scanner.set_chunk_size(size << 10);
            }
            let report = scanner
                .scan_paths(
                    &[file.to_path_buf()],
                    &ScanOptions {
                        threads,
                        ..Default::default()
                    },
                )
                .expect("scan");
            let lines: Vec<String> = report
                .findings
                .iter()
                .map(|f| format!("{}\t{}", f.line, f.rule_id))
                .collect();
            std::fs::write(file.with_extension("found.tsv"), lines.join("\n")).unwrap();
            report.bytes_scanned
        }
        "redact" => {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let input = std::fs::File::open(file).unwrap();
                let sink = std::fs::File::create("/dev/null").unwrap();
                Redactor::with_default_rules()
                    .redact_stream(input, sink)
                    .unwrap()
            })
        }
        "redact-pipe" => {
            // What `muster redact` does: standard input to standard output.
            let stdin = std::io::stdin().lock();
            let stdout = std::io::stdout().lock();
            let n = Redactor::with_default_rules()
                .redact_stream(stdin, stdout)
                .unwrap();
            let secs = start.elapsed().as_secs_f64();
            let cpu = cpu_secs() - cpu0;
            let anon_kb = anon.stop();
            eprintln!(
                "{{\"bytes\":{n},\"secs\":{secs},\"cpu\":{cpu},\"hwm_kb\":{},\"anon_kb\":{anon_kb}}}",
                vm_hwm_kb()
            );
            return;
        }
        _ => panic!("unknown measurement"),
    };
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_secs() - cpu0;
    let anon_kb = anon.stop();
    println!(
        "{{\"bytes\":{out},\"secs\":{secs},\"cpu\":{cpu},\"hwm_kb\":{},\"anon_kb\":{anon_kb}}}",
        vm_hwm_kb()
    );
}

struct Measured {
    bytes: u64,
    secs: f64,
    cpu: f64,
    hwm_kb: u64,
    anon_kb: u64,
}

/// Best of `n` runs (least wall time), to damp noise from other work on the machine.
fn best(kind: &str, file: &Path, threads: usize, n: usize) -> Measured {
    (0..n)
        .map(|_| child(kind, file, threads))
        .min_by(|a, b| a.secs.total_cmp(&b.secs))
        .unwrap()
}

fn child(kind: &str, file: &Path, threads: usize) -> Measured {
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe)
        .args([
            "measure",
            kind,
            file.to_str().unwrap(),
            &threads.to_string(),
        ])
        .output()
        .expect("child runs");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!("child failed: {}", String::from_utf8_lossy(&out.stderr));
    });
    Measured {
        bytes: v["bytes"].as_u64().unwrap(),
        secs: v["secs"].as_f64().unwrap(),
        cpu: v["cpu"].as_f64().unwrap(),
        hwm_kb: v["hwm_kb"].as_u64().unwrap(),
        anon_kb: v["anon_kb"].as_u64().unwrap_or(0),
    }
}

fn mbps(bytes: u64, secs: f64) -> f64 {
    bytes as f64 / 1e6 / secs
}

fn read_truth(path: &Path, max_line: u64) -> Vec<(u64, String)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| {
            let (n, rule) = l.split_once('\t')?;
            let n: u64 = n.parse().ok()?;
            (n <= max_line).then(|| (n, rule.to_string()))
        })
        .collect()
}

/// Recall (by line and rule), precision (by line) against the ground truth.
fn score(truth: &[(u64, String)], found: &[(u64, String)]) -> (f64, f64, usize, usize) {
    let truth_set: HashSet<(u64, &str)> = truth.iter().map(|(l, r)| (*l, r.as_str())).collect();
    let truth_lines: HashSet<u64> = truth.iter().map(|t| t.0).collect();
    let found_set: HashSet<(u64, &str)> = found.iter().map(|(l, r)| (*l, r.as_str())).collect();
    let hit = truth_set.iter().filter(|t| found_set.contains(t)).count();
    let found_lines: HashSet<u64> = found.iter().map(|f| f.0).collect();
    let true_pos = found_lines
        .iter()
        .filter(|l| truth_lines.contains(l))
        .count();
    let false_pos = found_lines.len() - true_pos;
    let recall = hit as f64 / truth_set.len().max(1) as f64;
    let precision = true_pos as f64 / found_lines.len().max(1) as f64;
    (recall, precision, truth_set.len() - hit, false_pos)
}

fn parse_found(path: &Path) -> Vec<(u64, String)> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (n, r) = l.split_once('\t')?;
            Some((n.parse().ok()?, r.to_string()))
        })
        .collect()
}

fn line_count(path: &Path) -> u64 {
    let data = std::fs::read(path).unwrap();
    data.iter().filter(|&&b| b == b'\n').count() as u64
}

/// Run an external scanner; returns (seconds, lines it flagged) or None when missing.
fn external(name: &str, cmd: &mut Command, parse: fn(&str) -> Vec<u64>) -> Option<(f64, Vec<u64>)> {
    let start = Instant::now();
    let out = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).output();
    let secs = start.elapsed().as_secs_f64();
    match out {
        Ok(o) => {
            let text = String::from_utf8_lossy(&o.stdout);
            let lines = parse(&text);
            if lines.is_empty() && !o.status.success() && o.status.code() != Some(1) {
                eprintln!(
                    "{name}: exit {:?}: {}",
                    o.status.code(),
                    String::from_utf8_lossy(&o.stderr)
                        .lines()
                        .last()
                        .unwrap_or("")
                );
            }
            Some((secs, lines))
        }
        Err(e) => {
            eprintln!("{name}: not run ({e})");
            None
        }
    }
}

fn which(name: &str, extra: &[&str]) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(extra.iter().map(PathBuf::from));
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// Runs another scanner on a file: (seconds, lines it flagged), or None when missing.
type ToolRun<'a> = &'a dyn Fn(&Path) -> Option<(f64, Vec<u64>)>;

fn run(dir: &Path, others_mb: u64, ds_mb: u64) {
    let corpus = dir.join("corpus.log");
    let size = std::fs::metadata(&corpus)
        .expect("corpus exists (run gen first)")
        .len();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let max_line = line_count(&corpus);
    let truth = read_truth(&dir.join("truth.tsv"), max_line);
    println!(
        "corpus: {} ({:.0} MB, {} lines, {} planted secrets), {} cores",
        corpus.display(),
        size as f64 / 1e6,
        max_line,
        truth.len(),
        cores
    );

    let _ = child("scan", &corpus, 0); // warms the page cache
    let one = best("scan", &corpus, 1, 3);
    let all = best("scan", &corpus, cores, 3);
    let found = parse_found(&corpus.with_extension("found.tsv"));
    let (recall, precision, missed, fps) = score(&truth, &found);
    println!("muster-scan default rules:");
    println!(
        "  recall    {:.2}% ({} of {} planted secrets missed)",
        recall * 100.0,
        missed,
        truth.len()
    );
    println!(
        "  precision {:.2}% ({} false-positive lines)",
        precision * 100.0,
        fps
    );
    let line = |label: &str, m: &Measured| {
        println!(
            "  {label:<11} {:>6.0} MB/s wall ({:.2} s), {:>6.0} MB per CPU-second ({:.2} CPU-s), peak RSS {} MB (anonymous {} MB)",
            mbps(m.bytes, m.secs),
            m.secs,
            mbps(m.bytes, m.cpu),
            m.cpu,
            m.hwm_kb / 1024,
            m.anon_kb / 1024
        )
    };
    line("1 thread:", &one);
    line(&format!("{cores} threads:"), &all);
    let red1 = best("redact", &corpus, 1, 3);
    let red = best("redact", &corpus, cores, 3);
    println!("  redact (library Redactor, corpus file to /dev/null):");
    line("1 thread:", &red1);
    line(&format!("{cores} threads:"), &red);
    // The real binary, as a pipe filter.
    // The same code path as `muster redact`, through pipes: cat corpus | redact > /dev/null.
    {
        let exe = std::env::current_exe().unwrap();
        let mut best_m: Option<Measured> = None;
        for _ in 0..3 {
            let out = Command::new("sh")
                .arg("-c")
                .arg(format!(
                    "cat {} | {} measure redact-pipe - 0 > /dev/null",
                    corpus.display(),
                    exe.display()
                ))
                .output()
                .expect("pipe runs");
            let v: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap_or_default();
            if let (Some(bytes), Some(secs)) = (v["bytes"].as_u64(), v["secs"].as_f64()) {
                let m = Measured {
                    bytes,
                    secs,
                    cpu: v["cpu"].as_f64().unwrap_or(0.0),
                    hwm_kb: v["hwm_kb"].as_u64().unwrap_or(0),
                    anon_kb: v["anon_kb"].as_u64().unwrap_or(0),
                };
                if best_m.as_ref().is_none_or(|b| m.secs < b.secs) {
                    best_m = Some(m);
                }
            }
        }
        if let Some(m) = best_m {
            println!(
                "  redact as a pipe filter (cat corpus | redact > /dev/null, same code as `muster redact`):"
            );
            line("pipe:", &m);
        }
    }
    // The real binary, as a pipe filter (MUSTER_BIN, default target/release/muster).
    let bin = std::env::var("MUSTER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/release/muster")
        });
    if bin.is_file() {
        let mut best_secs = f64::MAX;
        for _ in 0..3 {
            let start = Instant::now();
            let status = Command::new("sh")
                .arg("-c")
                .arg(format!(
                    "cat {} | {} redact > /dev/null",
                    corpus.display(),
                    bin.display()
                ))
                .status();
            if status.is_ok_and(|s| s.success()) {
                best_secs = best_secs.min(start.elapsed().as_secs_f64());
            }
        }
        println!(
            "  `cat corpus | {} redact > /dev/null`: {:.0} MB/s wall ({:.2} s)",
            bin.display(),
            mbps(size, best_secs),
            best_secs
        );
    } else {
        println!(
            "  (muster binary not found at {}; set MUSTER_BIN to time `muster redact`)",
            bin.display()
        );
    }

    // Bad input: one 200 MB line with secrets along it, scanned memory-mapped.
    {
        let long = dir.join("one-long-line.log");
        if !long.exists() {
            let mut r = Rng(7);
            let mut w = BufWriter::new(std::fs::File::create(&long).unwrap());
            let filler = "lorem ipsum dolor sit amet, consectetur adipiscing elit ".repeat(64);
            let (mut n, mut planted) = (0usize, 0usize);
            while n < 200 << 20 {
                if n % (20 << 20) < filler.len() {
                    let s = format!(" ghp_{} ", r.chars(36, ALNUM));
                    w.write_all(s.as_bytes()).unwrap();
                    n += s.len();
                    planted += 1;
                }
                w.write_all(filler.as_bytes()).unwrap();
                n += filler.len();
            }
            w.write_all(b"\n").unwrap();
            w.flush().unwrap();
            std::fs::write(dir.join("one-long-line.planted"), planted.to_string()).unwrap();
        }
        let m = best("scan", &long, cores, 1);
        let found = parse_found(&long.with_extension("found.tsv")).len();
        let planted =
            std::fs::read_to_string(dir.join("one-long-line.planted")).unwrap_or_default();
        println!(
            "  one 200 MB line: {found} of {} secrets found, {:.2} s, peak RSS {} MB (anonymous {} MB)",
            planted.trim(),
            m.secs,
            m.hwm_kb / 1024,
            m.anon_kb / 1024
        );
    }

    // Other scanners, each on a prefix of the corpus small enough for it, compared with
    // muster-scan on the same prefix.
    let home = std::env::var("HOME").unwrap_or_default();
    let pybin = format!("{home}/.pyenv/shims");
    println!(
        "\nother scanners (each on the first N MB of the same corpus, muster-scan timed on the same file):"
    );
    let compare = |name: &str, mb: u64, run_tool: ToolRun<'_>| {
        let file = if mb > 0 && mb << 20 < size {
            prefix_corpus(dir, mb).unwrap()
        } else {
            corpus.clone()
        };
        let fsize = std::fs::metadata(&file).unwrap().len();
        let truth_lines: HashSet<u64> = read_truth(&dir.join("truth.tsv"), line_count(&file))
            .iter()
            .map(|t| t.0)
            .collect();
        let ours = best("scan", &file, 1, 3);
        let ours_all = best("scan", &file, cores, 3);
        let found: HashSet<u64> = parse_found(&file.with_extension("found.tsv"))
            .iter()
            .map(|f| f.0)
            .collect();
        let our_tp = found.iter().filter(|l| truth_lines.contains(l)).count();
        let Some((secs, lines)) = run_tool(&file) else {
            println!("  {name}: not installed");
            return;
        };
        let lines: HashSet<u64> = lines.into_iter().collect();
        let tp = lines.iter().filter(|l| truth_lines.contains(l)).count();
        println!(
            "  {name} on {:.0} MB ({} planted): {secs:.2} s = {:.2} MB/s; planted found {:.1}%, {} other lines flagged",
            fsize as f64 / 1e6,
            truth_lines.len(),
            mbps(fsize, secs),
            100.0 * tp as f64 / truth_lines.len().max(1) as f64,
            lines.len() - tp
        );
        println!(
            "    muster-scan on the same file: {:.3} s 1 thread ({:.0}x faster), {:.3} s {cores} threads ({:.0}x faster); planted found {:.1}%, {} other lines flagged",
            ours.secs,
            secs / ours.secs,
            ours_all.secs,
            secs / ours_all.secs,
            100.0 * our_tp as f64 / truth_lines.len().max(1) as f64,
            found.len() - our_tp
        );
    };
    let ds_cmd = which("detect-secrets", &[&pybin]);
    compare("detect-secrets 1.5", ds_mb, &|file: &Path| {
        let ds = ds_cmd.as_ref()?;
        // detect-secrets reports nothing for files outside the working directory.
        let mut cmd = Command::new(ds);
        cmd.current_dir(file.parent().unwrap())
            .args(["scan", "--all-files"])
            .arg(file.file_name().unwrap());
        external("detect-secrets", &mut cmd, |out| {
            let v: serde_json::Value = serde_json::from_str(out).unwrap_or_default();
            let mut lines = Vec::new();
            if let Some(files) = v["results"].as_object() {
                for items in files.values() {
                    for it in items.as_array().into_iter().flatten() {
                        if let Some(n) = it["line_number"].as_u64() {
                            lines.push(n);
                        }
                    }
                }
            }
            lines
        })
    });
    let rs_cmd = which("ripsecrets", &["/tmp/ripsecrets/bin"]);
    compare("ripsecrets", others_mb, &|file: &Path| {
        let rs = rs_cmd.as_ref()?;
        // Output lines are `path:line:text`; only the line number is kept.
        external("ripsecrets", Command::new(rs).arg(file), |out| {
            out.lines()
                .filter_map(|l| l.split(':').nth(1).and_then(|n| n.trim().parse().ok()))
                .collect()
        })
    });
    let gl_cmd = which("gitleaks", &[&pybin]);
    compare("gitleaks 8 (default config)", others_mb, &|file: &Path| {
        let gl = gl_cmd.as_ref()?;
        let rep = dir.join("gitleaks-report.json");
        let (secs, _) = external(
            "gitleaks",
            Command::new(gl)
                .args([
                    "dir",
                    "--no-banner",
                    "--exit-code",
                    "0",
                    "--report-format",
                    "json",
                    "--report-path",
                ])
                .arg(&rep)
                .arg(file),
            |_| Vec::new(),
        )?;
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&rep).unwrap_or_default())
                .unwrap_or_default();
        Some((
            secs,
            v.as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| f["StartLine"].as_u64())
                .collect(),
        ))
    });
    let mut by_rule: HashMap<&str, usize> = HashMap::new();
    for (_, r) in &truth {
        *by_rule.entry(r).or_default() += 1;
    }
    println!(
        "\nplanted kinds: {} ({} rules of the default set)",
        by_rule.len(),
        plants().len()
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let get = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let dir = PathBuf::from(get("--dir").unwrap_or_else(|| "/tmp/muster-bench".into()));
    let size_mb: u64 = get("--size-mb")
        .and_then(|s| s.parse().ok())
        .unwrap_or(1024);
    let others_mb: u64 = get("--others-mb")
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    let ds_mb: u64 = get("--ds-mb").and_then(|s| s.parse().ok()).unwrap_or(20);
    let seed: u64 = get("--seed").and_then(|s| s.parse().ok()).unwrap_or(42);
    match args.first().map(String::as_str) {
        Some("gen") => generate(&dir, size_mb, seed).expect("generate"),
        Some("run") => run(&dir, others_mb, ds_mb),
        Some("all") => {
            generate(&dir, size_mb, seed).expect("generate");
            run(&dir, others_mb, ds_mb);
        }
        Some("measure") => measure(&args[1], Path::new(&args[2]), args[3].parse().unwrap()),
        _ => eprintln!(
            "usage: corpus (gen|run|all) [--dir DIR] [--size-mb N] [--others-mb N] [--seed S]"
        ),
    }
}
