//! Inputs: files, directories, `.gz` files and standard input.

use crate::ScanError;
use crate::engine::{BufferCtx, CHUNK_OVERLAP_BACK, CHUNK_OVERLAP_FWD, LINE_REACH, Scanner};
use crate::finding::Finding;
use memchr::{memchr, memrchr};
use rayon::prelude::*;
use serde::Serialize;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Files at least this large are memory-mapped instead of read.
const MMAP_MIN: u64 = 4 << 20;
/// How many leading bytes are inspected to decide that a file is binary.
const BINARY_SNIFF: usize = 8000;

/// Options for [`Scanner::scan_paths`].
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// Worker threads; 0 = one per core.
    pub threads: usize,
    /// Incremented with the number of bytes scanned, for progress display.
    pub progress: Option<Arc<AtomicU64>>,
    /// Set, once the inputs are listed, to the total size in bytes of the files to scan
    /// (what `progress` will reach), so a progress bar can show a percentage and the time
    /// left. Left at 0 when the total is not known: standard input or a `.gz` file.
    pub total: Option<Arc<AtomicU64>>,
}

/// The bytes `progress` counts for these targets, when known in advance: the sum of the
/// files' sizes; `None` with standard input or a compressed file.
fn known_total(targets: &[Target]) -> Option<u64> {
    targets.iter().try_fold(0u64, |sum, t| match t {
        Target::Stdin => None,
        Target::File(p) if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz")) => None,
        Target::File(p) => Some(sum + std::fs::metadata(p).map_or(0, |m| m.len())),
    })
}

/// A path that could not be scanned.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathError {
    /// The path.
    pub path: String,
    /// Why (never contains file content).
    pub message: String,
}

/// Result of scanning a set of inputs.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScanReport {
    /// Findings, sorted by path, line and column.
    pub findings: Vec<Finding>,
    /// Files (and standard input) scanned.
    pub files_scanned: u64,
    /// Bytes scanned (after decompression).
    pub bytes_scanned: u64,
    /// Binary files skipped.
    pub binary_skipped: Vec<String>,
    /// Files skipped because a global allowlist covers their path.
    pub allowlisted_paths: u64,
    /// Paths that could not be read.
    pub errors: Vec<PathError>,
    /// Symbolic-link loops found (and not followed).
    pub symlink_loops: Vec<String>,
    /// Findings dropped because the baseline lists them.
    pub baseline_suppressed: u64,
}

enum Target {
    Stdin,
    File(PathBuf),
}

enum Outcome {
    Scanned(Vec<Finding>, u64),
    Binary,
    Allowlisted,
    Error(String),
}

impl Scanner {
    /// Scan files, directories (recursively, following symbolic links with loop
    /// detection) and `-` for standard input. Errors on single paths are collected in the
    /// report; the scan goes on.
    pub fn scan_paths(
        &self,
        inputs: &[PathBuf],
        opts: &ScanOptions,
    ) -> Result<ScanReport, ScanError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(opts.threads)
            .build()
            .map_err(|e| ScanError::Other(format!("thread pool: {e}")))?;
        pool.install(|| self.scan_paths_in_pool(inputs, opts))
    }

    fn scan_paths_in_pool(
        &self,
        inputs: &[PathBuf],
        opts: &ScanOptions,
    ) -> Result<ScanReport, ScanError> {
        let mut report = ScanReport::default();
        let mut targets = Vec::new();
        let stdin_default = [PathBuf::from("-")];
        let inputs = if inputs.is_empty() {
            &stdin_default[..]
        } else {
            inputs
        };
        for input in inputs {
            if input.as_os_str() == "-" {
                targets.push(Target::Stdin);
                continue;
            }
            match std::fs::metadata(input) {
                Err(e) => report.errors.push(PathError {
                    path: input.display().to_string(),
                    message: e.to_string(),
                }),
                Ok(m) if m.is_dir() => {
                    for entry in walkdir::WalkDir::new(input)
                        .follow_links(true)
                        .sort_by_file_name()
                    {
                        match entry {
                            Ok(e) if e.file_type().is_file() => {
                                targets.push(Target::File(e.into_path()))
                            }
                            Ok(_) => {}
                            Err(e) => {
                                let path = e
                                    .path()
                                    .map(|p| p.display().to_string())
                                    .unwrap_or_default();
                                if e.loop_ancestor().is_some() {
                                    report.symlink_loops.push(path);
                                } else {
                                    let message = e
                                        .io_error()
                                        .map(|io| io.to_string())
                                        .unwrap_or_else(|| e.to_string());
                                    report.errors.push(PathError { path, message });
                                }
                            }
                        }
                    }
                }
                Ok(_) => targets.push(Target::File(input.clone())),
            }
        }
        if let Some(total) = &opts.total {
            total.store(known_total(&targets).unwrap_or(0), Ordering::Relaxed);
        }
        let outcomes: Vec<(String, Outcome)> = targets
            .par_iter()
            .map(|t| match t {
                Target::Stdin => {
                    let stdin = std::io::stdin();
                    let lock = stdin.lock();
                    (
                        "<stdin>".to_string(),
                        self.scan_stream(lock, "", "<stdin>", opts.progress.as_deref()),
                    )
                }
                Target::File(p) => (
                    p.display().to_string(),
                    self.scan_file(p, opts.progress.as_deref()),
                ),
            })
            .collect();
        for (path, outcome) in outcomes {
            match outcome {
                Outcome::Scanned(f, bytes) => {
                    report.files_scanned += 1;
                    report.bytes_scanned += bytes;
                    report.findings.extend(f);
                }
                Outcome::Binary => report.binary_skipped.push(path),
                Outcome::Allowlisted => report.allowlisted_paths += 1,
                Outcome::Error(message) => report.errors.push(PathError { path, message }),
            }
        }
        report.findings.sort_by(|a, b| {
            (&a.path, a.line, a.column, &a.rule_id).cmp(&(&b.path, b.line, b.column, &b.rule_id))
        });
        Ok(report)
    }

    fn scan_file(&self, path: &Path, progress: Option<&AtomicU64>) -> Outcome {
        let shown = path.display().to_string();
        let rule_path = shown.replace('\\', "/");
        let Some(active) = self.active_rules(&rule_path) else {
            return Outcome::Allowlisted;
        };
        let mut findings = self.path_only_findings(&rule_path);
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) => return Outcome::Error(e.to_string()),
        };
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
        {
            let decoder =
                flate2::read::MultiGzDecoder::new(std::io::BufReader::with_capacity(1 << 16, file));
            return match self.scan_stream_active(decoder, &rule_path, &shown, &active, progress) {
                Outcome::Scanned(f, n) => {
                    findings.extend(f);
                    Outcome::Scanned(findings, n)
                }
                other => other,
            };
        }
        let len = match file.metadata() {
            Ok(m) => m.len(),
            Err(e) => return Outcome::Error(e.to_string()),
        };
        let ctx = BufferCtx {
            path: &rule_path,
            display_path: &shown,
            active: &active,
            first_line: 1,
            data_abs: 0,
            line_start_abs: 0,
            on_chunk_done: None,
        };
        if len >= MMAP_MIN {
            // SAFETY: the map is read-only; if another process truncates the file while we
            // read it we may get SIGBUS, the same risk every mmap-based scanner takes.
            let map = match unsafe { memmap2::Mmap::map(&file) } {
                Ok(m) => m,
                Err(e) => return Outcome::Error(e.to_string()),
            };
            let _ = map.advise(memmap2::Advice::Sequential);
            // Keep the mapping in small pages, so releasing a finished chunk (below)
            // really drops it from our resident set.
            #[cfg(target_os = "linux")]
            let _ = map.advise(memmap2::Advice::NoHugePage);
            if is_binary(&map[..BINARY_SNIFF.min(map.len())]) {
                return Outcome::Binary;
            }
            let page = 4096;
            let release = |r: std::ops::Range<usize>| {
                if let Some(p) = progress {
                    p.fetch_add((r.end - r.start) as u64, Ordering::Relaxed);
                }
                // Give the pages of a finished chunk back so resident memory stays bounded
                // by the chunks in flight, whatever the file size.
                let start = r.start.div_ceil(page) * page;
                let end = (r.end / page) * page;
                if end > start {
                    // SAFETY: read-only file mapping; dropped pages are re-read from the
                    // file if touched again (by a neighbouring chunk's overlap).
                    unsafe {
                        let _ = map.unchecked_advise_range(
                            memmap2::UncheckedAdvice::DontNeed,
                            start,
                            end - start,
                        );
                    }
                }
            };
            let c = BufferCtx {
                on_chunk_done: Some(&release),
                ..ctx
            };
            findings.extend(self.scan_buffer(&map, 0..map.len(), &c).0);
            return Outcome::Scanned(findings, len);
        }
        let mut data = Vec::with_capacity(len as usize + 1);
        if let Err(e) = (&file).read_to_end(&mut data) {
            return Outcome::Error(e.to_string());
        }
        if is_binary(&data[..BINARY_SNIFF.min(data.len())]) {
            return Outcome::Binary;
        }
        findings.extend(self.scan_buffer(&data, 0..data.len(), &ctx).0);
        if let Some(p) = progress {
            p.fetch_add(data.len() as u64, Ordering::Relaxed);
        }
        Outcome::Scanned(findings, data.len() as u64)
    }

    fn scan_stream<R: Read>(
        &self,
        reader: R,
        path: &str,
        shown: &str,
        progress: Option<&AtomicU64>,
    ) -> Outcome {
        match self.active_rules(path) {
            None => Outcome::Allowlisted,
            Some(active) => self.scan_stream_active(reader, path, shown, &active, progress),
        }
    }

    /// Scan any reader (standard input, a decompressor) in bounded memory: blocks of
    /// about `chunk size × threads` bytes plus overlap, each scanned in parallel.
    pub fn scan_reader<R: Read>(
        &self,
        reader: R,
        display_path: &str,
    ) -> Result<(Vec<Finding>, u64), ScanError> {
        match self.scan_stream(reader, "", display_path, None) {
            Outcome::Scanned(f, n) => Ok((f, n)),
            Outcome::Binary => Ok((Vec::new(), 0)),
            Outcome::Allowlisted => Ok((Vec::new(), 0)),
            Outcome::Error(message) => Err(ScanError::Other(format!("{display_path}: {message}"))),
        }
    }

    fn scan_stream_active<R: Read>(
        &self,
        mut reader: R,
        path: &str,
        shown: &str,
        active: &[bool],
        progress: Option<&AtomicU64>,
    ) -> Outcome {
        let block = self.chunk_size * rayon::current_num_threads().max(1);
        let mut buf: Vec<u8> = Vec::with_capacity(block + CHUNK_OVERLAP_FWD + CHUNK_OVERLAP_BACK);
        let mut own_start = 0usize;
        let mut data_abs = 0u64;
        let mut first_line = 1u64;
        let mut line_start_abs = 0u64;
        let mut eof = false;
        let mut sniffed = false;
        let mut total = 0u64;
        let mut findings = Vec::new();
        loop {
            let want = own_start + block + CHUNK_OVERLAP_FWD;
            while !eof && buf.len() < want {
                let old = buf.len();
                buf.resize(want, 0);
                match reader.read(&mut buf[old..]) {
                    Ok(0) => {
                        buf.truncate(old);
                        eof = true;
                    }
                    Ok(n) => buf.truncate(old + n),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => buf.truncate(old),
                    Err(e) => {
                        buf.truncate(old);
                        return Outcome::Error(e.to_string());
                    }
                }
            }
            if !sniffed {
                sniffed = true;
                if is_binary(&buf[..BINARY_SNIFF.min(buf.len())]) {
                    return Outcome::Binary;
                }
            }
            if own_start >= buf.len() {
                break;
            }
            let own_end = if eof && buf.len() - own_start <= block {
                buf.len()
            } else {
                let target = own_start + block;
                let hi = (target + LINE_REACH).min(buf.len());
                match memchr(b'\n', &buf[target..hi]) {
                    Some(p) => target + p + 1,
                    None => target,
                }
            };
            let ctx = BufferCtx {
                path,
                display_path: shown,
                active,
                first_line,
                data_abs,
                line_start_abs,
                on_chunk_done: None,
            };
            let (f, lines) = self.scan_buffer(&buf, own_start..own_end, &ctx);
            findings.extend(f);
            first_line += lines;
            if let Some(p) = memrchr(b'\n', &buf[own_start..own_end]) {
                line_start_abs = data_abs + (own_start + p + 1) as u64;
            }
            let n = (own_end - own_start) as u64;
            total += n;
            if let Some(p) = progress {
                p.fetch_add(n, Ordering::Relaxed);
            }
            let keep_from = own_end.saturating_sub(CHUNK_OVERLAP_BACK);
            buf.drain(..keep_from);
            data_abs += keep_from as u64;
            own_start = own_end - keep_from;
            if eof && own_start >= buf.len() {
                break;
            }
        }
        Outcome::Scanned(findings, total)
    }
}

/// A file is binary when its first bytes contain a NUL (the heuristic git uses).
pub fn is_binary(head: &[u8]) -> bool {
    memchr(0, head).is_some()
}
