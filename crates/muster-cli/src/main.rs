//! The `muster` binary.

mod scan_cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(name = "muster", version, about = "Self-hosted incident response")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Scan files, directories or standard input for leaked credentials.
    Scan(scan_cmd::ScanArgs),
    /// Copy standard input to standard output with every credential masked.
    Redact(scan_cmd::RedactArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Scan(args) => scan_cmd::run_scan(args),
        Command::Redact(args) => scan_cmd::run_redact(args),
    }
}
