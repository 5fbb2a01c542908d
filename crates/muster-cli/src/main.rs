//! The `muster` binary: one command line for every part of Muster.
//!
//! Exit codes are part of the interface: 0 success, 2 a problem with what was asked (usage,
//! validation, unknown incident, invalid config), 1 anything else (database, I/O). Scan has
//! its own documented codes (1 means findings).

mod backend;
mod care_cmd;
mod config_cmd;
mod failure;
mod incident_cmd;
mod output;
mod scan_cmd;
mod serve_cmd;
mod settings;
mod slack_cmd;

use clap::{Parser, Subcommand};
use failure::Failure;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "muster",
    version,
    about = "Self-hosted incident response: declare, run and review incidents",
    long_about = None
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// Options every command understands.
#[derive(Debug, Clone, clap::Args)]
pub struct Global {
    /// Configuration file [default: ./muster.toml if it exists, else built-in defaults]
    #[arg(long, global = true, env = "MUSTER_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database URL or SQLite file path [default: from the config, sqlite://muster.db]
    #[arg(long, global = true, env = "MUSTER_DATABASE_URL", value_name = "URL")]
    pub database: Option<String>,
    /// Language of messages and reports: en or fr [default: from the config]
    #[arg(long, global = true, env = "MUSTER_LANG", value_name = "LANG")]
    pub lang: Option<String>,
    /// Machine-readable JSON output (errors too, on stderr)
    #[arg(long, global = true)]
    pub json: bool,
    /// Act through a running Muster server's API instead of the local database
    #[arg(long, global = true, env = "MUSTER_SERVER", value_name = "URL")]
    pub server: Option<String>,
    /// API token for --server (from `muster token create`)
    #[arg(long, global = true, env = "MUSTER_TOKEN", hide_env_values = true, value_name = "TOKEN", value_parser = parse_secret)]
    pub token: Option<muster_core::Secret>,
}

// Parsed once per process: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Declare, follow and review incidents.
    #[command(subcommand)]
    Incident(incident_cmd::IncidentCommand),
    /// Print or check the configuration.
    #[command(subcommand)]
    Config(config_cmd::ConfigCommand),
    /// Create or upgrade the database schema (also done automatically on start).
    Migrate,
    /// Serve the web pages, the REST API and the operations endpoints.
    Serve(serve_cmd::ServeArgs),
    /// Slack app helpers.
    #[command(subcommand)]
    Slack(slack_cmd::SlackCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(serve_cmd::TokenCommand),
    /// Scan files, directories or standard input for leaked credentials.
    Scan(scan_cmd::ScanArgs),
    /// Copy standard input to standard output with every credential masked.
    Redact(scan_cmd::RedactArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let global = cli.global;
    let result = match cli.command {
        Command::Scan(args) => return scan_cmd::run_scan(args, &global),
        Command::Redact(args) => return scan_cmd::run_redact(args),
        Command::Config(cmd) => config_cmd::run(cmd, &global),
        Command::Incident(cmd) => {
            runtime().and_then(|rt| rt.block_on(incident_cmd::run(cmd, &global)))
        }
        Command::Migrate => runtime().and_then(|rt| rt.block_on(migrate(&global))),
        Command::Serve(args) => serve_cmd::serve(args, &global),
        Command::Slack(cmd) => slack_cmd::run(cmd, &global),
        Command::Token(cmd) => runtime().and_then(|rt| rt.block_on(serve_cmd::token(cmd, &global))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => f.report(global.json),
    }
}

fn parse_secret(s: &str) -> Result<muster_core::Secret, String> {
    Ok(muster_core::Secret::new(s.trim()))
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::system("runtime", e.to_string()))
}

async fn migrate(global: &Global) -> Result<(), Failure> {
    let s = settings::Settings::load(global)?;
    let fail = |e: muster_store::StoreError| s.at_database(Failure::store(&e, s.lang));
    let store = muster_store::Store::connect_opts(&s.database_url, s.store_options()?)
        .await
        .map_err(fail)?;
    let n = store.migrate().await.map_err(fail)?;
    let mut a = muster_core::i18n::Args::new();
    a.num("count", n as i64).str("url", s.database_display());
    output::say(
        global.json,
        &s.lang.format("cli-migrated", &a),
        &serde_json::json!({"applied": n}),
    );
    Ok(())
}
