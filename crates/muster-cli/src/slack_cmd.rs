//! `muster slack manifest`, and building the Slack app from the configuration.

use crate::Global;
use crate::failure::Failure;
use clap::Subcommand;
use muster_core::config::SlackConfig;
use muster_core::i18n::Args;
use muster_core::{Lang, Secret};
use muster_slack::{SlackClient, SlackClientConfig};
use std::path::Path;

#[derive(Debug, Subcommand)]
pub enum SlackCommand {
    /// Print a ready Slack app manifest (JSON) for Muster at URL.
    Manifest {
        /// Where Slack reaches Muster, e.g. https://muster.example.org
        #[arg(long)]
        url: String,
        /// The slash command [default: from the config, /incident]
        #[arg(long)]
        command: Option<String>,
    },
}

pub fn run(cmd: SlackCommand, g: &Global) -> Result<(), Failure> {
    let s = crate::settings::Settings::load(g)?;
    match cmd {
        SlackCommand::Manifest { url, command } => {
            let url = url.trim().trim_end_matches('/');
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(Failure::user(
                    "bad_url",
                    muster_core::DomainError::BadUrl(url.to_owned()).message(s.lang),
                ));
            }
            let command = command
                .or_else(|| s.config.slack.as_ref().map(|c| c.command.clone()))
                .unwrap_or_else(|| "/incident".into());
            let m = muster_slack::manifest::manifest(url, &command);
            crate::output::print_json(&m);
            Ok(())
        }
    }
}

/// Read a secret from its file or environment variable; never from the config itself.
fn secret(env: &str, file: Option<&Path>, base: &Path, lang: Lang) -> Result<Secret, Failure> {
    if let Some(f) = file {
        let full = base.join(f);
        return std::fs::read_to_string(&full)
            .map(|s| Secret::new(s.trim()))
            .map_err(|e| {
                Failure::user(
                    "slack_secret_unreadable",
                    lang.format(
                        "cli-slack-secret-unreadable",
                        &Args::new()
                            .with("path", full.display().to_string())
                            .with("detail", e.to_string()),
                    ),
                )
            });
    }
    match std::env::var(env) {
        Ok(v) if !v.trim().is_empty() => Ok(Secret::new(v.trim())),
        _ => Err(Failure::user(
            "slack_secret_missing",
            lang.format("cli-slack-secret-missing", &Args::new().with("name", env)),
        )),
    }
}

/// The Slack endpoints' dependencies, from `[slack]` and its secrets.
pub fn slack_app(
    c: &SlackConfig,
    config_path: Option<&Path>,
    lang: Lang,
) -> Result<muster_server::slack::SlackApp, Failure> {
    let base = config_path.and_then(Path::parent).unwrap_or(Path::new(""));
    let token = secret(&c.bot_token_env, c.bot_token_file.as_deref(), base, lang)?;
    let signing = secret(
        &c.signing_secret_env,
        c.signing_secret_file.as_deref(),
        base,
        lang,
    )?;
    let client =
        SlackClient::new(SlackClientConfig::new(token).with_base_url(c.api_base_url.clone()))
            .map_err(|e| Failure::user("slack_config", e.to_string()))?;
    muster_server::slack::SlackApp::new(client, c.clone(), signing)
        .map_err(|e| Failure::system("scanner", e.to_string()))
}
