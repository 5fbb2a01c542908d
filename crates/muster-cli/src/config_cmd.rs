//! `muster config default` and `muster config check`.

use crate::Global;
use crate::failure::Failure;
use crate::settings::load_config;
use clap::Subcommand;
use muster_core::config::DEFAULT_TOML;
use muster_core::i18n::Args;
use muster_core::{Lang, report};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the fully commented default configuration.
    Default,
    /// Check a configuration file and the report templates it names.
    Check {
        /// The file [default: --config, $MUSTER_CONFIG, or ./muster.toml]
        file: Option<PathBuf>,
    },
}

pub fn run(cmd: ConfigCommand, g: &Global) -> Result<(), Failure> {
    let lang = match g.lang.as_deref() {
        Some(l) => l
            .parse::<Lang>()
            .map_err(|e| Failure::user(e.code(), e.message(Lang::En)))?,
        None => Lang::En,
    };
    match cmd {
        ConfigCommand::Default => {
            print!("{DEFAULT_TOML}");
            Ok(())
        }
        ConfigCommand::Check { file } => {
            let path = file
                .or_else(|| g.config.clone())
                .unwrap_or_else(|| PathBuf::from("muster.toml"));
            let (config, _) = load_config(Some(&path), lang)?;
            let lang = g
                .lang
                .as_deref()
                .and_then(|l| l.parse().ok())
                .unwrap_or(config.language);
            for (_, name, source) in crate::settings::report_templates(&config, Some(&path), lang)?
            {
                report::check_template(&name, &source).map_err(|e| {
                    Failure::user(
                        "report_template",
                        muster_engine::EngineError::Template(e).message(lang),
                    )
                })?;
            }
            let msg = lang.format(
                "cli-config-valid",
                &Args::new().with("path", path.display().to_string()),
            );
            crate::output::say(
                g.json,
                &msg,
                &serde_json::json!({"valid": true, "path": path}),
            );
            Ok(())
        }
    }
}
