//! Which `Host` the pages and the API answer to: a defence against DNS rebinding.
//!
//! A hostile web page can make its own name resolve to 127.0.0.1; the browser then sends
//! its requests (and shows their answers to the page) with `Host: evil.example`. Muster on
//! loopback trusts whoever reaches it, so it must refuse names it was not given. Accepted:
//! the bound address itself, `localhost` / `127.0.0.1` / `[::1]` with the bound port, and
//! the host names of `[server] public_url`, `[slack] public_url` and `[server]
//! allowed_hosts` (a configured name without a port matches any port: the name is what a
//! rebinding attacker cannot choose). Anything else is 421 Misdirected Request.

use crate::AppState;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use muster_core::Lang;
use muster_core::config::{Config, url_host};
use std::net::SocketAddr;

/// The host names a request may name, decided once at start.
#[derive(Debug, Clone)]
pub struct HostPolicy {
    /// The listener's address; `None` when embedded without one (then loopback names
    /// are accepted on any port).
    bound: Option<SocketAddr>,
    /// Configured names, lowercased, `name` or `name:port`.
    names: Vec<String>,
}

impl HostPolicy {
    pub fn new(config: &Config, bound: Option<SocketAddr>) -> Self {
        let urls = [
            config.server.public_url.as_deref(),
            config.slack.as_ref().and_then(|s| s.public_url.as_deref()),
        ];
        let names = urls
            .into_iter()
            .flatten()
            .filter_map(url_host)
            .chain(config.server.allowed_hosts.iter().cloned())
            .collect();
        HostPolicy { bound, names }
    }

    pub fn allows(&self, host: &str) -> bool {
        let host = host.trim().to_ascii_lowercase();
        let (name, port) = split(&host);
        if let Some(b) = self.bound
            && host == b.to_string()
        {
            return true;
        }
        let local = matches!(name, "localhost" | "127.0.0.1" | "[::1]");
        if local && self.bound.is_none_or(|b| port == Some(b.port())) {
            return true;
        }
        self.names.iter().any(|allowed| {
            let (a_name, a_port) = split(allowed);
            a_name == name && a_port.is_none_or(|p| Some(p) == port)
        })
    }
}

/// `name` and port of `name[:port]` (IPv6 in brackets).
fn split(host: &str) -> (&str, Option<u16>) {
    let at = match host.rfind(':') {
        Some(i) if !host[i..].contains(']') => i,
        _ => return (host, None),
    };
    match host[at + 1..].parse() {
        Ok(p) => (&host[..at], Some(p)),
        Err(_) => (host, None),
    }
}

/// Refuse page requests naming a host Muster does not answer to, with a small page.
pub async fn pages(state: State<AppState>, req: Request, next: Next) -> Response {
    check(state, req, next, false).await
}

/// Refuse API requests naming a host Muster does not answer to, with a JSON error.
pub async fn api(state: State<AppState>, req: Request, next: Next) -> Response {
    check(state, req, next, true).await
}

/// Requests without any host (no `Host` header, no authority) are refused too: every
/// browser sends one.
async fn check(State(state): State<AppState>, req: Request, next: Next, api: bool) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.as_str().to_owned()));
    if host.is_some_and(|h| state.hosts.allows(&h)) {
        return next.run(req).await;
    }
    let lang = req.extensions().get::<Lang>().copied().unwrap_or_default();
    if api {
        return crate::api::error_response(
            StatusCode::MISDIRECTED_REQUEST,
            "misdirected_request",
            lang.t("web-misdirected"),
        );
    }
    // Both languages: the page may be seen by someone who followed a wrong link.
    let html = format!(
        "<!doctype html><html lang=\"{}\"><meta charset=\"utf-8\"><title>421</title><h1>{}</h1><p>{}</p><hr><p lang=\"{}\">{}</p></html>",
        lang.code(),
        lang.t("web-misdirected-title"),
        lang.t("web-misdirected"),
        other(lang).code(),
        other(lang).t("web-misdirected"),
    );
    (
        StatusCode::MISDIRECTED_REQUEST,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response()
}

fn other(lang: Lang) -> Lang {
    match lang {
        Lang::En => Lang::Fr,
        Lang::Fr => Lang::En,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        let c = Config::from_toml(
            "[server]\npublic_url = \"https://Muster.example.org\"\nallowed_hosts = [\"ops.internal:9000\"]\n",
        )
        .unwrap();
        let p = HostPolicy::new(&c, Some("127.0.0.1:8080".parse().unwrap()));
        for ok in [
            "127.0.0.1:8080",
            "localhost:8080",
            "LOCALHOST:8080",
            "[::1]:8080",
            "muster.example.org",
            "muster.example.org:443",
            "ops.internal:9000",
        ] {
            assert!(p.allows(ok), "{ok}");
        }
        for no in [
            "evil.example:8080",
            "localhost",
            "localhost:9999",
            "127.0.0.1",
            "ops.internal",
            "ops.internal:9001",
            "muster.example.org.evil.example",
            "",
        ] {
            assert!(!p.allows(no), "{no}");
        }
        let v6 = HostPolicy::new(&c, Some("[::1]:7000".parse().unwrap()));
        assert!(v6.allows("[::1]:7000") && v6.allows("localhost:7000"));
        assert!(!v6.allows("[::1]:8080"));
    }
}
