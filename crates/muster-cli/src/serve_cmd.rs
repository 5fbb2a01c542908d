//! `muster serve` and `muster token …`.

use crate::Global;
use crate::failure::Failure;
use crate::output;
use crate::settings::Settings;
use clap::Subcommand;
use muster_core::config::SlackTransport;
use muster_core::i18n::Args;
use std::net::SocketAddr;
use std::sync::Arc;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on [default: from the config, 127.0.0.1:8080]
    #[arg(long, env = "MUSTER_BIND", value_name = "ADDR")]
    pub bind: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token; it is printed once and only its hash is kept.
    Create { name: String },
    /// List tokens (names and dates, never the tokens).
    List,
    /// Revoke a token.
    Revoke { name: String },
}

/// Logs go to standard error through the secret redactor: whatever a library or a bug puts
/// in a log line, a credential is masked before it is written. `MUSTER_LOG` sets the level
/// (`info` by default; `debug`, or a tracing filter such as `muster_server=debug`).
fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("MUSTER_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    // Socket Mode's one-time URL tickets never reach a log, whatever the level.
    let filter = match muster_slack::socket::QUIET_HANDSHAKE.parse() {
        Ok(d) => filter.add_directive(d),
        Err(_) => filter,
    };
    let redactor = muster_scan::Redactor::with_default_rules();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(move || {
            muster_scan::RedactingWriter::with_redactor(std::io::stderr(), redactor.clone())
        })
        .try_init();
}

pub fn serve(args: ServeArgs, g: &Global) -> Result<(), Failure> {
    init_logging();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::system("runtime", e.to_string()))?;
    rt.block_on(run(args, g))
}

async fn run(args: ServeArgs, g: &Global) -> Result<(), Failure> {
    let s = Settings::load(g)?;
    let lang = s.lang;
    let bind = args.bind.unwrap_or_else(|| s.config.server.bind.clone());
    let addr: SocketAddr = bind.parse().map_err(|_| {
        Failure::user(
            "bad_bind",
            muster_core::config::ConfigError {
                line: None,
                column: None,
                problem: muster_core::config::ConfigProblem::BadBind(bind.clone()),
            }
            .message(lang),
        )
    })?;
    // Refuse before touching anything else: an open port without auth is never the default.
    muster_server::check_bind(addr, &s.config.server)
        .map_err(|e| Failure::user("bind_needs_auth", e.message(lang)))?;
    let engine = s.engine().await?;
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        Failure::system(
            "bind_failed",
            lang.format(
                "cli-bind-failed",
                &Args::new()
                    .with("addr", addr.to_string())
                    .with("detail", e.to_string()),
            ),
        )
    })?;
    let local = listener
        .local_addr()
        .map_err(|e| Failure::system("bind_failed", e.to_string()))?;
    let mut state = muster_server::AppState::new(engine, local.ip().is_loopback()).bound_to(local);
    if let Some(g) = s.config.alerts.as_ref().and_then(|a| a.grafana.as_ref()) {
        state = state.with_grafana_secret(crate::slack_cmd::grafana_secret(
            g,
            s.config_path.as_deref(),
            lang,
        )?);
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut worker_task = None;
    let mut worker = None;
    let mut socket_task = None;
    if let Some(slack) = s.config.slack.clone() {
        let app = crate::slack_cmd::slack_app(&slack, s.config_path.as_deref(), lang)?;
        let app_token = match slack.transport {
            SlackTransport::Socket => Some(crate::slack_cmd::app_token(
                &slack,
                s.config_path.as_deref(),
                lang,
            )?),
            SlackTransport::Http => None,
        };
        worker = Some(app.worker(state.engine_arc()));
        state = state.with_slack(app);
        if let Some(token) = app_token {
            socket_task = Some(socket_mode(&state, &slack, token, stop_rx.clone(), lang));
        }
    }
    if let Some(pd) = &s.config.pagerduty {
        let runner =
            crate::slack_cmd::pagerduty_runner(&s.config, pd, s.config_path.as_deref(), lang)?;
        let w = worker
            .take()
            .unwrap_or_else(|| muster_engine::workflow::Worker::new(state.engine_arc()));
        worker = Some(w.with_runner(Arc::new(runner)));
    }
    if let Some(worker) = worker {
        let mut rx = stop_rx.clone();
        worker_task = Some(tokio::spawn(worker.run(async move {
            let _ = rx.wait_for(|stop| *stop).await;
        })));
    }
    eprintln!(
        "{}",
        lang.format(
            "cli-serving",
            &Args::new()
                .with("url", format!("http://{local}"))
                .with("db", s.database_display())
        )
    );
    let result = muster_server::serve(listener, state, async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    })
    .await
    .map_err(|e| Failure::system("serve_failed", e.to_string()));
    if let Some(t) = worker_task {
        let _ = t.await;
    }
    if let Some(t) = socket_task {
        let _ = t.await;
    }
    drop(stop_rx);
    result
}

/// Socket Mode, until shutdown. If Slack turns it off for the app (`link_disabled`) or
/// refuses the token, the operator is told on standard error and nothing reconnects; the
/// pages and the API keep running.
fn socket_mode(
    state: &muster_server::AppState,
    slack: &muster_core::config::SlackConfig,
    token: muster_core::Secret,
    mut stop: tokio::sync::watch::Receiver<bool>,
    lang: muster_core::Lang,
) -> tokio::task::JoinHandle<()> {
    let config = muster_slack::socket::SocketModeConfig {
        connections: slack.socket_connections,
        ..Default::default()
    };
    let socket = muster_server::slack::socket::socket_mode(state, token, config);
    eprintln!(
        "{}",
        lang.format(
            "cli-slack-socket-mode",
            Args::new().num("connections", slack.socket_connections as i64)
        )
    );
    tokio::spawn(async move {
        let Some(socket) = socket else { return };
        let result = socket
            .run(async move {
                let _ = stop.wait_for(|s| *s).await;
            })
            .await;
        let message = match result {
            Ok(()) => return,
            Err(muster_slack::socket::SocketModeError::LinkDisabled) => {
                lang.t("cli-slack-socket-link-disabled")
            }
            Err(muster_slack::socket::SocketModeError::Refused(code)) => {
                lang.format("cli-slack-socket-refused", &Args::new().with("code", code))
            }
        };
        eprintln!("{message}");
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

pub async fn token(cmd: TokenCommand, g: &Global) -> Result<(), Failure> {
    let s = Settings::load(g)?;
    let lang = s.lang;
    let engine = s.engine().await?;
    let fail = |e: muster_engine::EngineError| s.at_database(Failure::engine(&e, lang));
    match cmd {
        TokenCommand::Create { name } => {
            let name = name.trim().to_owned();
            if name.is_empty() || name.chars().count() > 80 {
                return Err(Failure::user(
                    "bad_name",
                    muster_core::DomainError::EmptyText.message(lang),
                ));
            }
            let token = muster_server::new_token();
            let created = engine
                .create_token(&name, &muster_server::hash_token(token.expose()))
                .await
                .map_err(fail)?;
            if !created {
                return Err(Failure::user(
                    "token_exists",
                    lang.format("cli-token-exists", &Args::new().with("name", &name)),
                ));
            }
            if g.json {
                output::print_json(&serde_json::json!({"name": name, "token": token.expose()}));
            } else {
                eprintln!(
                    "{}",
                    lang.format("cli-token-created", &Args::new().with("name", &name))
                );
                // The one place a token is printed: to the person who asked for it.
                println!("{}", token.expose());
            }
        }
        TokenCommand::List => {
            let tokens = engine.list_tokens().await.map_err(fail)?;
            if g.json {
                output::print_json(&tokens);
            } else if tokens.is_empty() {
                println!("{}", lang.t("cli-token-none"));
            } else {
                for t in tokens {
                    println!(
                        "{}\t{}\t{}",
                        t.name,
                        t.created_at,
                        t.revoked_at
                            .map(|r| format!("revoked {r}"))
                            .unwrap_or_else(|| "active".into())
                    );
                }
            }
        }
        TokenCommand::Revoke { name } => {
            if !engine.revoke_token(name.trim()).await.map_err(fail)? {
                return Err(Failure::user(
                    "token_not_found",
                    lang.format(
                        "cli-token-not-found",
                        &Args::new().with("name", name.trim()),
                    ),
                ));
            }
            let msg = lang.format("cli-token-revoked", &Args::new().with("name", name.trim()));
            output::say(g.json, &msg, &serde_json::json!({"revoked": name.trim()}));
        }
    }
    Ok(())
}
