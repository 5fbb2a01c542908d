//! `muster scan` and `muster redact`: owned by the scanner work (issue 5).

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// Files or directories to scan; `-` or nothing reads standard input.
    pub paths: Vec<std::path::PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct RedactArgs {}

pub fn run_scan(_args: ScanArgs) -> ExitCode {
    eprintln!("muster scan: not implemented yet");
    ExitCode::from(2)
}

pub fn run_redact(_args: RedactArgs) -> ExitCode {
    eprintln!("muster redact: not implemented yet");
    ExitCode::from(2)
}
