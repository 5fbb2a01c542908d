//! `muster scan` and `muster redact`: the leak scanner (issue 5), on top of `muster-scan`.
//!
//! Exit codes of `muster scan`: 0 nothing found, 1 findings, 2 error (bad rule file or
//! baseline, nothing readable, output failure). Unreadable files, binary files and
//! symbolic-link loops are reported on stderr and the scan goes on.
//! `muster redact` exits 0, or 2 on error; a closed stdout (`| head`) is not an error.

use muster_scan::{Baseline, Format, Redactor, RuleSet, ScanOptions, ScanReport, Scanner};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

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
    let show_progress = !args.no_progress && std::io::stderr().is_terminal();
    let progress = show_progress.then(|| Progress::start(counter.clone()));
    let opts = ScanOptions {
        threads: args.threads,
        progress: Some(counter),
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
    warn_about_skips(&report);
    let format = match args.format {
        OutputFormat::Text => Format::Text,
        OutputFormat::Json => Format::Json,
        OutputFormat::Sarif => Format::Sarif,
    };
    let written = match &args.output {
        Some(path) => std::fs::File::create(path).and_then(|f| {
            let mut w = std::io::BufWriter::new(f);
            muster_scan::write_report(&mut w, &report, scanner.rules(), format)?;
            w.flush()
        }),
        None => {
            let mut out = std::io::stdout().lock();
            muster_scan::write_report(&mut out, &report, scanner.rules(), format)
                .and_then(|()| out.flush())
        }
    };
    if let Err(e) = written
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return fail(format!("writing the report: {e}"));
    }
    if args.format != OutputFormat::Text || args.output.is_some() {
        eprintln!("muster scan: {}", muster_scan::summary_line(&report));
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

fn warn_about_skips(report: &ScanReport) {
    for e in &report.errors {
        eprintln!(
            "muster scan: warning: cannot read {}: {}",
            e.path, e.message
        );
    }
    for l in &report.symlink_loops {
        eprintln!("muster scan: warning: symbolic-link loop at {l}, not followed");
    }
    if !report.binary_skipped.is_empty() {
        eprintln!(
            "muster scan: skipped {} binary file(s)",
            report.binary_skipped.len()
        );
    }
}

/// A progress line on stderr, drawn only while a scan takes more than half a second.
struct Progress {
    done: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Progress {
    fn start(counter: Arc<AtomicU64>) -> Progress {
        let done = Arc::new(AtomicBool::new(false));
        let flag = done.clone();
        let thread = std::thread::spawn(move || {
            let started = std::time::Instant::now();
            // Created now (so its rate covers the whole scan) but drawn only once the scan
            // has taken half a second.
            let bar = indicatif::ProgressBar::with_draw_target(
                None,
                indicatif::ProgressDrawTarget::hidden(),
            );
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{spinner} scanning: {bytes} ({bytes_per_sec}), {elapsed}",
            ) {
                bar.set_style(style);
            }
            let mut shown = false;
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                bar.set_position(counter.load(Ordering::Relaxed));
                if !shown && started.elapsed() > Duration::from_millis(500) {
                    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                    shown = true;
                }
                if shown {
                    bar.tick();
                }
            }
            bar.finish_and_clear();
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
