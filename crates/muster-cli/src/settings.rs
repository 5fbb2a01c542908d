//! Where settings come from: flags, then environment, then the config file, then the
//! built-in defaults.

use crate::Global;
use crate::failure::Failure;
use muster_core::config::{Config, ConfigError};
use muster_core::{Lang, i18n::Args};
use muster_engine::{Engine, SystemClock};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub struct Settings {
    pub config: Arc<Config>,
    /// The file the config came from, if any.
    pub config_path: Option<PathBuf>,
    pub database_url: String,
    pub lang: Lang,
}

impl Settings {
    pub fn load(g: &Global) -> Result<Settings, Failure> {
        // The language flag is read first so that config errors are in the right language.
        let flag_lang = match g.lang.as_deref() {
            Some(l) => Some(
                l.parse::<Lang>()
                    .map_err(|e| Failure::user(e.code(), e.message(Lang::En)))?,
            ),
            None => None,
        };
        let (config, config_path) =
            load_config(g.config.as_deref(), flag_lang.unwrap_or_default())?;
        let lang = flag_lang.unwrap_or(config.language);
        let database_url = normalise_db_url(g.database.as_deref().unwrap_or(&config.database_url));
        Ok(Settings {
            config: Arc::new(config),
            config_path,
            database_url,
            lang,
        })
    }

    /// The database location without any password it may carry.
    pub fn database_display(&self) -> String {
        redact_url(&self.database_url)
    }

    /// The database file as people find it on disk (for messages about it).
    pub fn database_path(&self) -> String {
        let u = self.database_display();
        let p = u
            .strip_prefix("sqlite://")
            .or_else(|| u.strip_prefix("sqlite:"))
            .unwrap_or(&u);
        p.split('?').next().unwrap_or(p).to_owned()
    }

    /// Name the database file in a local database failure (locked, read-only, full).
    pub fn at_database(&self, f: Failure) -> Failure {
        f.at_database(&self.database_path(), self.lang)
    }

    /// How to open the database: the busy timeout from `MUSTER_DATABASE_BUSY_TIMEOUT_MS`,
    /// and the testing aid `MUSTER_TEST_DATABASE_FAULT` (`read-only` or `full`), which makes
    /// SQLite refuse writes as a read-only or full database would.
    pub fn store_options(&self) -> Result<muster_store::StoreOptions, Failure> {
        let mut o = muster_store::StoreOptions::default();
        if let Ok(ms) = std::env::var("MUSTER_DATABASE_BUSY_TIMEOUT_MS") {
            let ms: u64 = ms.trim().parse().map_err(|_| {
                Failure::user(
                    "bad_busy_timeout",
                    format!(
                        "MUSTER_DATABASE_BUSY_TIMEOUT_MS: not a number of milliseconds: {ms:?}"
                    ),
                )
            })?;
            o = o.busy_timeout(std::time::Duration::from_millis(ms));
        }
        if let Ok(f) = std::env::var("MUSTER_TEST_DATABASE_FAULT") {
            let fault: muster_store::Fault = f
                .parse()
                .map_err(|e: String| Failure::user("bad_database_fault", e))?;
            o = o.fault(muster_store::FaultSwitch::new(fault));
        }
        Ok(o)
    }

    pub async fn engine(&self) -> Result<Engine, Failure> {
        let store = muster_store::Store::open_with(&self.database_url, self.store_options()?)
            .await
            .map_err(|e| self.at_database(Failure::store(&e, self.lang)))?;
        let mut engine = Engine::new(store, self.config.clone(), Arc::new(SystemClock));
        if self.config.slack.is_some() {
            // Every declaration made here (CLI, web, API, scan) gets its Slack channel, and
            // every change reaches it: the steps are queued with the record, and the
            // running `muster serve` runs them.
            engine = engine.with_chat(Arc::new(muster_slack::provision::SlackPlatform));
        }
        if let Some(pd) = &self.config.pagerduty {
            // Pages are planned with the declaration or change, from any source; the
            // running `muster serve` sends them.
            engine = engine.with_planner(Arc::new(muster_pagerduty::PagerDutyPlanner::new(
                &self.config,
                pd,
            )));
        }
        for (lang, name, source) in
            report_templates(&self.config, self.config_path.as_deref(), self.lang)?
        {
            engine = engine
                .with_template(lang, name, source)
                // A broken template is a broken configuration: the operator must fix it.
                .map_err(|e| Failure::user(e.code(), e.message(self.lang)))?;
        }
        Ok(engine)
    }
}

/// The team's report templates named in the config, read from disk (paths are relative to
/// the config file): (language, display name, source).
pub fn report_templates(
    config: &Config,
    config_path: Option<&Path>,
    lang: Lang,
) -> Result<Vec<(Lang, String, String)>, Failure> {
    let base = config_path.and_then(Path::parent).unwrap_or(Path::new(""));
    let mut out = Vec::new();
    for (l, path) in [
        (Lang::En, &config.report_template_en),
        (Lang::Fr, &config.report_template_fr),
    ] {
        let Some(p) = path else { continue };
        let full = base.join(p);
        let source = std::fs::read_to_string(&full).map_err(|e| {
            Failure::user(
                "report_template",
                lang.format(
                    "cli-template-unreadable",
                    &Args::new()
                        .with("path", full.display().to_string())
                        .with("detail", e.to_string()),
                ),
            )
        })?;
        out.push((l, full.display().to_string(), source));
    }
    Ok(out)
}

/// Load the named file, or ./muster.toml if present, or the built-in defaults.
pub fn load_config(path: Option<&Path>, lang: Lang) -> Result<(Config, Option<PathBuf>), Failure> {
    let path = match path {
        Some(p) => Some(p.to_path_buf()),
        None => Some(PathBuf::from("muster.toml")).filter(|p| p.is_file()),
    };
    let Some(path) = path else {
        return Ok((Config::default(), None));
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Failure::user(
            "config_unreadable",
            lang.format(
                "cli-config-unreadable",
                &Args::new()
                    .with("path", path.display().to_string())
                    .with("detail", e.to_string()),
            ),
        )
    })?;
    let config = Config::from_toml(&text).map_err(|e| config_failure(&path, &e, lang))?;
    Ok((config, Some(path)))
}

pub fn config_failure(path: &Path, e: &ConfigError, lang: Lang) -> Failure {
    Failure::user(
        "config_invalid",
        format!("{}: {}", path.display(), e.message(lang)),
    )
}

/// Accept a bare file path where a URL is expected: `muster.db` → `sqlite://muster.db`.
fn normalise_db_url(raw: &str) -> String {
    let t = raw.trim();
    if t.contains("://") || t.starts_with("sqlite:") {
        t.to_owned()
    } else {
        format!("sqlite://{t}")
    }
}

fn redact_url(url: &str) -> String {
    // scheme://user:password@host → scheme://user:***@host
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((cred, host)) = rest.split_once('@')
        && let Some((user, _)) = cred.split_once(':')
    {
        return format!("{scheme}://{user}:***@{host}");
    }
    url.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(normalise_db_url("x.db"), "sqlite://x.db");
        assert_eq!(normalise_db_url("sqlite::memory:"), "sqlite::memory:");
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
    }
}
