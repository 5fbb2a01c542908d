//! `muster scan` and `muster redact`: the leak scanner (issue 5), on top of `muster-scan`.
//!
//! Exit codes of `muster scan`: 0 nothing found, 1 findings, 2 error (bad rule file or
//! baseline, nothing readable, output failure). Unreadable files, binary files and
//! symbolic-link loops are reported on stderr and the scan goes on.
//! `muster redact` exits 0, or 2 on error; a closed stdout (`| head`) is not an error.

use muster_core::Lang;
use muster_core::i18n::Args;
use muster_scan::{Baseline, Format, Redactor, RuleSet, ScanOptions, ScanReport, Scanner};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// When to colour findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` is set.
    Auto,
    /// Always, even into a file or a pipe.
    Always,
    /// Never.
    Never,
}

/// Report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Human-readable lines.
    Text,
    /// JSON: `{"findings": [...], "summary": {...}}`.
    Json,
    /// SARIF 2.1.0 (GitHub code scanning and other CI tools).
    Sarif,
}

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// Files or directories to scan; `-` or nothing reads standard input.
    pub paths: Vec<PathBuf>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Rule file in gitleaks format, used instead of the default rules
    /// (`[extend] useDefault = true` in it adds to them).
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Ignore findings already listed in this report (from `--format json` or `sarif`).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Never show the progress bar (it only shows when stderr is a terminal).
    #[arg(long)]
    pub no_progress: bool,
    /// Show the progress bar even when stderr is not a terminal.
    #[arg(long, conflicts_with = "no_progress")]
    pub progress: bool,
    /// Colour the findings of the text report: auto (on a terminal, unless `NO_COLOR` is
    /// set), always or never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
    /// Worker threads [default: one per core].
    #[arg(long, short = 'j', value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// Do not honour inline `muster:allow` / `gitleaks:allow` markers.
    #[arg(long)]
    pub no_allow_markers: bool,
    /// Decode base64 and hex segments and scan them again, up to this many levels
    /// [default: 2 near `Basic`, base64 JSON and Kubernetes Secrets with the default
    /// rules; 0 (off) with a gitleaks-format `--rules` file, as gitleaks; 0 turns it off].
    #[arg(long, value_name = "N")]
    pub max_decode_depth: Option<usize>,
    /// Open an incident when something is found
    #[arg(long)]
    pub declare: bool,
}

#[derive(Debug, clap::Args)]
pub struct RedactArgs {
    /// Rule file in gitleaks format, used instead of the default rules.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
}

fn load_scanner(rules: Option<&Path>) -> Result<Scanner, String> {
    let set = match rules {
        Some(p) => RuleSet::from_file(p).map_err(|e| e.to_string())?,
        None => RuleSet::default_rules(),
    };
    Scanner::new(set).map_err(|e| e.to_string())
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("muster scan: error: {msg}");
    ExitCode::from(2)
}

pub fn run_scan(args: ScanArgs, global: &crate::Global) -> ExitCode {
    // The language of the human output: `--lang`, else the configuration's.
    let lang = match crate::settings::Settings::load(global) {
        Ok(s) => s.lang,
        Err(f) => return f.report(global.json),
    };
    let mut scanner = match load_scanner(args.rules.as_deref()) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    scanner.allow_markers = !args.no_allow_markers;
    if let Some(d) = args.max_decode_depth {
        scanner.max_decode_depth = d.min(8);
    }
    let baseline = match &args.baseline {
        Some(p) => match Baseline::load(p) {
            Ok(b) => Some(b),
            Err(e) => return fail(e),
        },
        None => None,
    };
    let counter = Arc::new(AtomicU64::new(0));
    // u64::MAX until the inputs are listed (then their size, or 0 when unknown).
    let total = Arc::new(AtomicU64::new(u64::MAX));
    let show_progress = args.progress || (!args.no_progress && std::io::stderr().is_terminal());
    let progress =
        show_progress.then(|| Progress::start(counter.clone(), total.clone(), lang, args.progress));
    let opts = ScanOptions {
        threads: args.threads,
        progress: Some(counter),
        total: Some(total),
    };
    let result = scanner.scan_paths(&args.paths, &opts);
    if let Some(p) = progress {
        p.finish();
    }
    let mut report = match result {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    if let Some(b) = &baseline {
        b.apply(&mut report);
    }
    warn_about_skips(&report, lang);
    let format = match args.format {
        OutputFormat::Text => Format::Text,
        OutputFormat::Json => Format::Json,
        OutputFormat::Sarif => Format::Sarif,
    };
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            args.output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let write = |w: &mut dyn Write| match format {
        Format::Text => write_text(w, &report, lang, color),
        _ => muster_scan::write_report(w, &report, scanner.rules(), format),
    };
    let written = match &args.output {
        Some(path) => std::fs::File::create(path).and_then(|f| {
            let mut w = std::io::BufWriter::new(f);
            write(&mut w)?;
            w.flush()
        }),
        None => {
            let mut out = std::io::stdout().lock();
            write(&mut out).and_then(|()| out.flush())
        }
    };
    if let Err(e) = written
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return fail(format!("writing the report: {e}"));
    }
    if args.format != OutputFormat::Text || args.output.is_some() {
        eprintln!("muster scan: {}", summary(&report, lang));
    }
    if args.declare
        && !report.findings.is_empty()
        && let Err(f) = declare_incident(&report, global)
    {
        return f.report(global.json);
    }
    if !report.findings.is_empty() {
        ExitCode::from(1)
    } else if report.files_scanned == 0 && !report.errors.is_empty() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

/// `--declare`: open a security incident with the scan's severity, the redacted findings
/// as its description and notes. Never the secrets themselves. Works on the local
/// database or through `--server`, like every incident command.
///
/// Run again on the same findings, it opens nothing: the declaration's key is derived from
/// the findings' sorted fingerprints, so the repeat finds the incident the first run
/// declared, says so, and notes only findings whose fingerprints its notes do not hold yet
/// (none, unless the first run stopped before its note). Run on findings that overlap an
/// open scan incident's (the same leak seen again, with more), it adds the new ones to
/// that incident instead of opening another.
fn declare_incident(
    report: &ScanReport,
    global: &crate::Global,
) -> Result<(), crate::failure::Failure> {
    let severity = muster_scan::highest_severity(&report.findings).map(|s| s.as_str().to_owned());
    let summary = muster_scan::findings_summary(&report.findings, 20);
    let n = report.findings.len();
    let key = findings_key(&report.findings);
    crate::runtime()?.block_on(async {
        let s = crate::settings::Settings::load(global)?;
        let lang = s.lang;
        // The scan's severity if the team's configuration has it, else the default.
        let severity = severity.filter(|sev| s.config.severity(sev).is_ok());
        let backend = crate::backend::Backend::open(&s, global).await?;
        let title = lang.format(
            "scan-incident-title",
            &muster_core::i18n::Args::new().with("count", n.to_string()),
        );
        let description: String = summary
            .chars()
            .take(muster_core::incident::MAX_TEXT_CHARS)
            .collect();
        let fingerprints: std::collections::HashSet<&str> = report
            .findings
            .iter()
            .map(|f| f.fingerprint.as_str())
            .collect();
        let declared = match open_incident_with(&backend, &fingerprints).await? {
            Some(d) => muster_engine::Declared::Again(d),
            None => {
                backend
                    .declare_keyed(
                        muster_engine::Declaration {
                            title,
                            severity,
                            security: true,
                            description: Some(description),
                            by: SCANNER.into(),
                            ..Default::default()
                        },
                        &key,
                    )
                    .await?
            }
        };
        let d = declared.detail();
        let recorded = recorded_fingerprints(d);
        let new: Vec<&muster_scan::Finding> = report
            .findings
            .iter()
            .filter(|f| !recorded.contains(f.fingerprint.as_str()))
            .collect();
        let r = muster_core::IncidentRef::Id(d.incident.id);
        for note in finding_notes(&new) {
            backend.add_note(r, &note, None, SCANNER).await?;
        }
        backend.shutdown().await;
        let mut args = muster_core::i18n::Args::new();
        args.str("number", d.incident.number.to_string())
            .num("new", new.len() as i64);
        let id = if declared.is_new() {
            "scan-incident-declared"
        } else {
            "scan-incident-already-open"
        };
        eprintln!("{}", lang.format(id, &args));
        Ok(())
    })
}

/// Who the scanner's incidents and notes are recorded as.
const SCANNER: &str = "muster scan";

/// How many recent incidents are looked through for an open scan incident.
const OPEN_LOOKUP: u32 = 100;

/// The open (neither resolved nor closed) security incident the scanner declared whose
/// notes already list one of `fingerprints`, newest first. Only the scanner's own
/// incidents are read, through the same backend (local database or server) as the rest.
async fn open_incident_with(
    backend: &crate::backend::Backend,
    fingerprints: &std::collections::HashSet<&str>,
) -> Result<Option<muster_core::incident::IncidentDetail>, crate::failure::Failure> {
    let page = backend
        .list(&muster_engine::ListQuery {
            include_security: true,
            involving: Some(SCANNER.into()),
            page: 1,
            per_page: OPEN_LOOKUP,
            ..Default::default()
        })
        .await?;
    for i in page.items.iter().filter(|i| {
        i.security
            // Through a server with a token, it is recorded as `muster scan (via <token>)`.
            && i.declared_by.starts_with(SCANNER)
            && i.resolved_at.is_none()
            && i.closed_at.is_none()
    }) {
        let d = backend
            .get_as(muster_core::IncidentRef::Id(i.id), SCANNER)
            .await?;
        if recorded_fingerprints(&d)
            .iter()
            .any(|f| fingerprints.contains(f.as_str()))
        {
            return Ok(Some(d));
        }
    }
    Ok(None)
}

/// The delivery key of a set of findings: the SHA-256 of their sorted, distinct
/// fingerprints, so the same findings (in any order) declare once.
fn findings_key(findings: &[muster_scan::Finding]) -> String {
    let fps: std::collections::BTreeSet<&str> =
        findings.iter().map(|f| f.fingerprint.as_str()).collect();
    let joined = fps.into_iter().collect::<Vec<_>>().join("\n");
    format!("scan-{}", muster_scan::secret_hash(joined.as_bytes()))
}

/// The word before a fingerprint in a finding's note line.
const FINGERPRINT_MARK: &str = "fingerprint";

/// Fingerprints the incident's notes already list (from [`finding_notes`]).
fn recorded_fingerprints(
    d: &muster_core::incident::IncidentDetail,
) -> std::collections::HashSet<String> {
    d.timeline
        .iter()
        .filter_map(|e| match &e.event {
            muster_core::incident::TimelineEvent::Note { text } => Some(text),
            _ => None,
        })
        .flat_map(|text| {
            let words: Vec<&str> = text.split_whitespace().collect();
            words
                .windows(2)
                .filter(|w| w[0] == FINGERPRINT_MARK)
                .map(|w| w[1].to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// One line per finding (redacted: where, which rule, the secret's redacted form, its
/// fingerprint), in as few notes as the text limit allows.
fn finding_notes(findings: &[&muster_scan::Finding]) -> Vec<String> {
    let max = muster_core::incident::MAX_TEXT_CHARS;
    let mut notes: Vec<String> = Vec::new();
    let mut current = String::new();
    for f in findings {
        let line = format!(
            "- {}:{}:{} {} {} ({}) {FINGERPRINT_MARK} {}\n",
            f.path, f.line, f.column, f.rule_id, f.redacted, f.severity, f.fingerprint
        );
        let line: String = line.chars().take(max).collect();
        if current.chars().count() + line.chars().count() > max {
            notes.push(std::mem::take(&mut current));
        }
        current.push_str(&line);
    }
    if !current.is_empty() {
        notes.push(current);
    }
    notes
}

fn warn_about_skips(report: &ScanReport, lang: Lang) {
    for e in &report.errors {
        let args = Args::new()
            .with("path", printable(&e.path))
            .with("error", printable(&e.message));
        eprintln!("{}", lang.format("scan-warn-unreadable", &args));
    }
    for l in &report.symlink_loops {
        let args = Args::new().with("path", printable(l));
        eprintln!("{}", lang.format("scan-warn-loop", &args));
    }
    if !report.binary_skipped.is_empty() {
        let mut args = Args::new();
        args.num("count", report.binary_skipped.len() as i64);
        eprintln!("{}", lang.format("scan-warn-binary", &args));
    }
}

/// Text that came from outside (paths, rule descriptions) with control characters shown
/// as `?`, so a file name cannot move the cursor or change colours on a terminal.
fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// SGR colour of a severity.
fn severity_color(severity: &str) -> &'static str {
    match severity {
        "SEV1" => "1;31",
        "SEV2" => "33",
        _ => "36",
    }
}

/// Wrap `text` in an SGR colour when `on`.
fn paint(on: bool, sgr: &str, text: &str) -> String {
    if on {
        format!("\x1b[{sgr}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

/// The human report: each finding on two lines, then the summary, in `lang`; coloured
/// (rule by severity, location in bold) when `color`.
fn write_text(
    w: &mut dyn Write,
    report: &ScanReport,
    lang: Lang,
    color: bool,
) -> std::io::Result<()> {
    for f in &report.findings {
        let location = format!("{}:{}:{}:", printable(&f.path), f.line, f.column);
        let severity = f.severity.to_string();
        let args = Args::new()
            .with("secret", paint(color, "35", &f.redacted))
            .with("entropy", format!("{:.2}", f.entropy))
            .with("fingerprint", f.fingerprint.clone());
        writeln!(
            w,
            "{} {} [{}] {}\n    {}",
            paint(color, "1", &location),
            paint(color, severity_color(&severity), &f.rule_id),
            paint(color, severity_color(&severity), &severity),
            printable(&f.description),
            lang.format("scan-finding-detail", &args)
        )?;
    }
    let line = summary(report, lang);
    let sgr = if report.findings.is_empty() {
        "32"
    } else {
        "1;31"
    };
    writeln!(w, "{}", paint(color, sgr, &line))
}

/// The one-line summary in `lang`: findings, files, bytes, skips and errors.
fn summary(report: &ScanReport, lang: Lang) -> String {
    let count = |id: &str, n: u64| {
        let mut a = Args::new();
        a.num("count", n as i64);
        lang.format(id, &a)
    };
    let mut extra = String::new();
    for (id, n) in [
        ("scan-summary-binary", report.binary_skipped.len() as u64),
        ("scan-summary-allowlisted", report.allowlisted_paths),
        ("scan-summary-baseline", report.baseline_suppressed),
        ("scan-summary-loops", report.symlink_loops.len() as u64),
        ("scan-summary-unreadable", report.errors.len() as u64),
    ] {
        if n > 0 {
            extra.push_str(", ");
            extra.push_str(&count(id, n));
        }
    }
    let mut args = Args::new()
        .with("size", muster_scan::human_size(report.bytes_scanned))
        .with("extra", extra);
    args.num("findings", report.findings.len() as i64)
        .num("files", report.files_scanned as i64);
    lang.format("scan-summary", &args)
}

/// `1.5 MB` style size for the progress line.
fn size(bytes: u64) -> String {
    muster_scan::human_size(bytes)
}

/// A duration for people: `42 s`, `3 min 5 s`, `1 h 2 min`.
fn duration(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min {} s", secs / 60, secs % 60),
        _ => format!("{} h {} min", secs / 3600, secs / 60 % 60),
    }
}

/// The progress line: with a known total, a bar, the percentage and the time left at
/// the rate so far; else the bytes read and the time spent.
fn progress_line(lang: Lang, done: u64, total: u64, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64().max(0.001);
    let rate = size((done as f64 / secs) as u64);
    if total == 0 {
        let args = Args::new()
            .with("done", size(done))
            .with("rate", rate)
            .with("elapsed", duration(elapsed.as_secs()));
        return lang.format("scan-progress", &args);
    }
    let done = done.min(total);
    let percent = done * 100 / total;
    let left = if done == 0 {
        "?".to_owned()
    } else {
        duration(((total - done) as f64 * secs / done as f64).ceil() as u64)
    };
    let filled = (percent / 5) as usize;
    let bar = format!("[{}{}]", "#".repeat(filled), "-".repeat(20 - filled));
    let mut args = Args::new()
        .with("done", size(done))
        .with("total", size(total))
        .with("rate", rate)
        .with("left", left);
    args.num("percent", percent as i64);
    format!("{bar} {}", lang.format("scan-progress-known", &args))
}

/// A progress line on stderr, drawn only while a scan takes more than half a second
/// (from the start when forced with `--progress`), cleared at the end.
struct Progress {
    done: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Progress {
    fn start(counter: Arc<AtomicU64>, total: Arc<AtomicU64>, lang: Lang, forced: bool) -> Progress {
        let done = Arc::new(AtomicBool::new(false));
        let flag = done.clone();
        let thread = std::thread::spawn(move || {
            let started = std::time::Instant::now();
            let delay = if forced {
                Duration::ZERO
            } else {
                Duration::from_millis(500)
            };
            let mut shown = false;
            let draw = |line: &str| {
                let mut err = std::io::stderr().lock();
                let _ = write!(err, "\r\x1b[2K{line}");
                let _ = err.flush();
            };
            loop {
                let finished = flag.load(Ordering::Relaxed);
                let total = total.load(Ordering::Relaxed);
                if started.elapsed() >= delay && total != u64::MAX {
                    let line = progress_line(
                        lang,
                        counter.load(Ordering::Relaxed),
                        total,
                        started.elapsed(),
                    );
                    draw(&line);
                    shown = true;
                }
                if finished {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            if shown {
                draw("");
            }
        });
        Progress { done, thread }
    }

    fn finish(self) {
        self.done.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
    }
}

pub fn run_redact(args: RedactArgs) -> ExitCode {
    let scanner = match load_scanner(args.rules.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("muster redact: error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut redactor = Redactor::new(Arc::new(scanner));
    let stdin = std::io::stdin().lock();
    let stdout = std::io::stdout().lock();
    match redactor.redact_stream(stdin, stdout) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("muster redact: error: {e}");
            ExitCode::from(2)
        }
    }
}
