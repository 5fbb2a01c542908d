//! `muster slack manifest`, and building the Slack app from the configuration.

use crate::Global;
use crate::failure::Failure;
use clap::Subcommand;
use muster_core::config::{SlackConfig, SlackTransport};
use muster_core::i18n::Args;
use muster_core::{Lang, Secret};
use muster_slack::{SlackClient, SlackClientConfig};
use std::path::Path;

#[derive(Debug, Subcommand)]
pub enum SlackCommand {
    /// Print a ready Slack app manifest (JSON) for Muster at URL, or for Socket Mode.
    Manifest {
        /// Where Slack reaches Muster, e.g. https://muster.example.org (not with Socket Mode)
        #[arg(long)]
        url: Option<String>,
        /// A Socket Mode app: no request URLs [default: with `transport = "socket"`]
        #[arg(long)]
        socket: bool,
        /// The slash command [default: from the config, /incident]
        #[arg(long)]
        command: Option<String>,
    },
}

pub fn run(cmd: SlackCommand, g: &Global) -> Result<(), Failure> {
    let s = crate::settings::Settings::load(g)?;
    match cmd {
        SlackCommand::Manifest {
            url,
            socket,
            command,
        } => {
            let command = command
                .or_else(|| s.config.slack.as_ref().map(|c| c.command.clone()))
                .unwrap_or_else(|| "/incident".into());
            let socket = socket
                || s.config
                    .slack
                    .as_ref()
                    .is_some_and(|c| c.transport == SlackTransport::Socket);
            if socket {
                crate::output::print_json(&muster_slack::manifest::socket_mode_manifest(&command));
                return Ok(());
            }
            let Some(url) = url else {
                return Err(Failure::user(
                    "manifest_needs_url",
                    s.lang.t("cli-slack-manifest-needs-url"),
                ));
            };
            let url = url.trim().trim_end_matches('/');
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(Failure::user(
                    "bad_url",
                    muster_core::DomainError::BadUrl(url.to_owned()).message(s.lang),
                ));
            }
            let m = muster_slack::manifest::manifest(url, &command);
            crate::output::print_json(&m);
            Ok(())
        }
    }
}

/// Read a secret from its file or environment variable; never from the config itself.
fn secret(env: &str, file: Option<&Path>, base: &Path, lang: Lang) -> Result<Secret, Failure> {
    read_secret("slack", env, file, base, lang)
}

/// Read `service`'s secret from its file or environment variable. The refusal
/// (`cli-{service}-secret-missing`, `…-unreadable`) names where, never the value.
fn read_secret(
    service: &str,
    env: &str,
    file: Option<&Path>,
    base: &Path,
    lang: Lang,
) -> Result<Secret, Failure> {
    if let Some(f) = file {
        let full = base.join(f);
        return std::fs::read_to_string(&full)
            .map(|s| Secret::new(s.trim()))
            .map_err(|e| {
                Failure::user(
                    format!("{service}_secret_unreadable"),
                    lang.format(
                        &format!("cli-{service}-secret-unreadable"),
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
            format!("{service}_secret_missing"),
            lang.format(
                &format!("cli-{service}-secret-missing"),
                &Args::new().with("name", env),
            ),
        )),
    }
}

/// The Slack endpoints' dependencies, from `[slack]` and its secrets.
pub fn slack_app(
    c: &SlackConfig,
    config_path: Option<&Path>,
    lang: Lang,
) -> Result<muster_server::slack::SlackApp, Failure> {
    let base = base_dir(config_path);
    let token = secret(&c.bot_token_env, c.bot_token_file.as_deref(), base, lang)?;
    let client =
        SlackClient::new(SlackClientConfig::new(token).with_base_url(c.api_base_url.clone()))
            .map_err(|e| Failure::user("slack_config", e.to_string()))?;
    let app = match c.transport {
        // Socket Mode needs no signing secret: Slack speaks on connections Muster opened.
        SlackTransport::Socket => {
            muster_server::slack::SlackApp::for_socket_mode(client, c.clone())
        }
        SlackTransport::Http => {
            let signing = secret(
                &c.signing_secret_env,
                c.signing_secret_file.as_deref(),
                base,
                lang,
            )?;
            muster_server::slack::SlackApp::new(client, c.clone(), signing)
        }
    };
    app.map_err(|e| Failure::system("scanner", e.to_string()))
}

/// The PagerDuty runner, with its routing key read from its file or environment variable
/// and checked (32 characters) before serving. The refusal names where, never the value.
pub fn pagerduty_runner(
    config: &muster_core::config::Config,
    pd: &muster_core::config::PagerDutyConfig,
    config_path: Option<&Path>,
    lang: Lang,
) -> Result<muster_pagerduty::PagerDutyRunner, Failure> {
    let key = read_secret(
        "pagerduty",
        &pd.routing_key_env,
        pd.routing_key_file.as_deref(),
        base_dir(config_path),
        lang,
    )?;
    if key.expose().chars().count() != 32 {
        return Err(Failure::user(
            "pagerduty_key_invalid",
            lang.t("cli-pagerduty-key-invalid"),
        ));
    }
    muster_pagerduty::PagerDutyRunner::new(pd, key, config.server.public_url.clone())
        .map_err(|e| Failure::system("pagerduty_client", e))
}

/// The secret of `[alerts.grafana]`, from its file or environment variable.
pub fn grafana_secret(
    g: &muster_core::config::GrafanaSignature,
    config_path: Option<&Path>,
    lang: Lang,
) -> Result<Secret, Failure> {
    read_secret(
        "grafana",
        &g.secret_env,
        g.secret_file.as_deref(),
        base_dir(config_path),
        lang,
    )
}

fn base_dir(config_path: Option<&Path>) -> &Path {
    config_path.and_then(Path::parent).unwrap_or(Path::new(""))
}

/// The app-level token for Socket Mode, which must be one (`xapp-…`). The refusal names
/// where it came from, never the value.
pub fn app_token(
    c: &SlackConfig,
    config_path: Option<&Path>,
    lang: Lang,
) -> Result<Secret, Failure> {
    let token = secret(
        &c.app_token_env,
        c.app_token_file.as_deref(),
        base_dir(config_path),
        lang,
    )?;
    if token.expose().starts_with("xapp-") {
        return Ok(token);
    }
    let source = match &c.app_token_file {
        Some(f) => f.display().to_string(),
        None => c.app_token_env.clone(),
    };
    Err(Failure::user(
        "slack_app_token_invalid",
        lang.format(
            "cli-slack-app-token-invalid",
            &Args::new().with("name", source),
        ),
    ))
}
