//! Abuse protection: per-source request limits, bounded concurrency and bounded work
//! after the ack.
//!
//! - **Pages, API and operations endpoints** are limited per client address (IPv6 per /64,
//!   since one host usually holds a whole /64). Behind a trusted proxy (`proxy_user_header`
//!   set, the peer in `trusted_proxies`) the client address is the *last* entry of
//!   `forwarded_for_header`: the one the proxy itself appended, which a client cannot
//!   forge (earlier entries can be). From any other peer the header is ignored.
//! - **Slack** (`/slack/*`): Slack sends every workspace's requests from its own addresses,
//!   so limiting by address could drop a declaration. Instead, requests whose signature
//!   fails are limited per address (tightly: each costs an HMAC, and Slack's own never
//!   fail), and once an address has sent a verified request it is trusted for a while, so
//!   a stranger cannot get Slack's addresses refused by sending bad signatures from them
//!   (or through another app pointed at us). Verified requests are limited per workspace
//!   (team id), generously: the limit only stops a replay flood.
//! - Over a limit: 429 with `Retry-After`, JSON under `/api`, a short page in the reader's
//!   language (and the other one) elsewhere.
//! - **Concurrency**: pages/API and Slack each have a pool of `max_concurrent_requests`
//!   slots; a request that finds none is refused at once (503, `Retry-After: 1`) instead of
//!   queued, so a flood of page requests cannot slow down Slack's acknowledgements.
//! - **Work after the ack** (opening the declare modal) runs in at most
//!   [`MAX_AFTER_ACK`] tasks; when they are all busy the caller says so instead of queueing.

use crate::AppState;
use crate::ratelimit::Limiter;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use muster_core::Lang;
use muster_core::config::ServerConfig;
use muster_core::i18n::Args;
use std::fmt::Write;
use std::future::Future;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Tasks running Slack calls after an acknowledgement, at most.
pub const MAX_AFTER_ACK: usize = 128;

/// How long an address that sent a verified Slack request skips the bad-signature limit.
const TRUST_VERIFIED: Duration = Duration::from_secs(600);

/// Why a request was refused, as the metric's label.
#[derive(Clone, Copy)]
enum Reason {
    PerSource,
    SlackSignature,
    SlackTeam,
    Overload,
}

const REASONS: [(Reason, &str); 4] = [
    (Reason::PerSource, "per_source"),
    (Reason::SlackSignature, "slack_bad_signature"),
    (Reason::SlackTeam, "slack_team"),
    (Reason::Overload, "overload"),
];

/// The limiters, pools and counters the middleware shares.
pub struct Guard {
    enabled: bool,
    forwarded_for: Option<String>,
    /// Who may set `forwarded_for` (the proxies `proxy_user_header` is believed from).
    server: ServerConfig,
    per_ip: Limiter<IpAddr>,
    slack_bad: Limiter<IpAddr>,
    slack_team: Limiter<String>,
    web_slots: Arc<Semaphore>,
    slack_slots: Arc<Semaphore>,
    after_ack: Arc<Semaphore>,
    refused: [AtomicU64; REASONS.len()],
    after_ack_refused: AtomicU64,
}

impl Guard {
    pub fn new(server: &ServerConfig) -> Guard {
        let l = &server.rate_limit;
        let slots = server.max_concurrent_requests.max(1) as usize;
        Guard {
            enabled: l.enabled,
            server: server.clone(),
            forwarded_for: server
                .proxy_user_header
                .as_ref()
                .map(|_| l.forwarded_for_header.clone()),
            per_ip: Limiter::new(l.per_second, l.burst, l.max_sources),
            slack_bad: Limiter::new(
                l.slack_bad_signature_per_second,
                l.slack_bad_signature_burst,
                l.max_sources,
            ),
            slack_team: Limiter::new(l.slack_team_per_second, l.slack_team_burst, l.max_sources),
            web_slots: Arc::new(Semaphore::new(slots)),
            slack_slots: Arc::new(Semaphore::new(slots)),
            after_ack: Arc::new(Semaphore::new(MAX_AFTER_ACK)),
            refused: Default::default(),
            after_ack_refused: AtomicU64::new(0),
        }
    }

    fn count(&self, reason: Reason) {
        self.refused[reason as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Requests refused so far, by reason (`per_source`, `slack_bad_signature`, …).
    pub fn refused(&self) -> Vec<(&'static str, u64)> {
        REASONS
            .iter()
            .map(|(r, name)| (*name, self.refused[*r as usize].load(Ordering::Relaxed)))
            .collect()
    }

    /// Prometheus lines: refusals by reason, remembered sources, work refused after acks.
    pub fn render(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP muster_http_throttled_total Requests refused by the abuse limits."
        );
        let _ = writeln!(out, "# TYPE muster_http_throttled_total counter");
        for (name, n) in self.refused() {
            let _ = writeln!(out, "muster_http_throttled_total{{reason=\"{name}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP muster_rate_limit_sources Sources the rate limiters remember."
        );
        let _ = writeln!(out, "# TYPE muster_rate_limit_sources gauge");
        for (name, n) in [
            ("per_source", self.per_ip.tracked()),
            ("slack_bad_signature", self.slack_bad.tracked()),
            ("slack_team", self.slack_team.tracked()),
        ] {
            let _ = writeln!(out, "muster_rate_limit_sources{{limiter=\"{name}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP muster_slack_after_ack_refused_total Slack calls after an ack refused because {MAX_AFTER_ACK} were already running."
        );
        let _ = writeln!(out, "# TYPE muster_slack_after_ack_refused_total counter");
        let _ = writeln!(
            out,
            "muster_slack_after_ack_refused_total {}",
            self.after_ack_refused.load(Ordering::Relaxed)
        );
    }

    /// Sources remembered by the per-address limiter (for tests of its bound).
    pub fn tracked_sources(&self) -> usize {
        self.per_ip.tracked()
    }

    /// The client's address: the connection's peer, or behind a trusted proxy the last
    /// address in the forwarded-for header. IPv6 addresses are cut to their /64.
    fn source(&self, req: &Request) -> Option<IpAddr> {
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        // Only a trusted proxy's header: anyone else could dodge the limit by forging it.
        let trusted = peer.is_some_and(|p| self.server.trusts_proxy(p));
        let forwarded = self
            .forwarded_for
            .as_deref()
            .filter(|_| trusted)
            .and_then(|h| {
                let last = req.headers().get_all(h).iter().next_back()?;
                last.to_str()
                    .ok()?
                    .rsplit(',')
                    .next()?
                    .trim()
                    .parse::<IpAddr>()
                    .ok()
            });
        forwarded.or(peer).map(bucket_key)
    }
}

/// One key per IPv4 address, per IPv6 /64 (IPv4-mapped IPv6 counts as IPv4).
pub fn bucket_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// Run `work` after the ack if fewer than [`MAX_AFTER_ACK`] such tasks are running;
/// otherwise drop it and return false, so the caller can tell the person to try again.
pub fn spawn_after_ack(guard: Arc<Guard>, work: impl Future<Output = ()> + Send + 'static) -> bool {
    match guard.after_ack.clone().try_acquire_owned() {
        Ok(permit) => {
            tokio::spawn(async move {
                work.await;
                drop(permit);
            });
            true
        }
        Err(_) => {
            guard.after_ack_refused.fetch_add(1, Ordering::Relaxed);
            tracing::warn!("too many Slack calls after acks are running: refused one more");
            false
        }
    }
}

/// The middleware: limits by source, then a concurrency slot for the request's duration.
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let guard = state.abuse.clone();
    let slack = req.uri().path().starts_with("/slack/");
    let req = if !guard.enabled {
        req
    } else if slack {
        match slack_limits(&state, &guard, req).await {
            Ok(req) => req,
            Err(res) => return res,
        }
    } else {
        if let Some(ip) = guard.source(&req)
            && let Err(wait) = guard.per_ip.check(&ip, Instant::now())
            && !tokened_alert(&state, alert_token(&req)).await
        {
            guard.count(Reason::PerSource);
            return too_many(&req, wait);
        }
        req
    };
    let slots = if slack {
        &guard.slack_slots
    } else {
        &guard.web_slots
    };
    let Ok(_slot) = slots.clone().try_acquire_owned() else {
        guard.count(Reason::Overload);
        let lang = lang_of(&req);
        let mut res = refusal(
            &req,
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            lang.t("web-overloaded"),
            other_lang(lang).t("web-overloaded"),
        );
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return res;
    };
    next.run(req).await
}

/// An alert delivery with a valid API token: never refused by the per-source limit, since
/// Alertmanager does not retry a 429 and a storm would lose alerts. Asked only of a source
/// over its limit, so the token is looked up only then.
async fn tokened_alert(state: &AppState, token_hash: Option<String>) -> bool {
    match token_hash {
        Some(hash) => matches!(state.engine.token_name(&hash).await, Ok(Some(_))),
        None => false,
    }
}

/// The hashed bearer token of a request to the alert endpoints.
fn alert_token(req: &Request) -> Option<String> {
    if !req.uri().path().starts_with("/api/v1/alerts/") {
        return None;
    }
    crate::auth::bearer(req).map(|t| crate::auth::hash_token(t.expose()))
}

/// `/slack/*`: refuse an address that keeps failing verification before spending an HMAC
/// on it; charge failures to the address and verified requests to their workspace.
async fn slack_limits(state: &AppState, guard: &Guard, req: Request) -> Result<Request, Response> {
    let now = Instant::now();
    let ip = guard.source(&req);
    if let Some(ip) = ip
        && let Err(wait) = guard.slack_bad.peek(&ip, now)
    {
        guard.count(Reason::SlackSignature);
        return Err(too_many(&req, wait));
    }
    // Without a signing secret (Socket Mode only) the endpoints refuse everything anyway.
    let Some(verifier) = state.slack.as_ref().and_then(|a| a.verifier.as_ref()) else {
        return Ok(req);
    };
    let (parts, body) = req.into_parts();
    // The body limit layer outside has already capped the size.
    let bytes = match axum::body::to_bytes(body, crate::MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => return Err(StatusCode::PAYLOAD_TOO_LARGE.into_response()),
    };
    let verified = verifier
        .verify_headers(&parts.headers, &bytes, state.engine.now().timestamp())
        .is_ok();
    if verified {
        if let Some(ip) = ip {
            guard.slack_bad.trust(&ip, now, now + TRUST_VERIFIED);
        }
        let team = team_of(&parts.headers, &bytes).unwrap_or_default();
        if let Err(wait) = guard.slack_team.check(&team, now) {
            guard.count(Reason::SlackTeam);
            tracing::warn!(
                team,
                "refused verified Slack requests over the workspace limit"
            );
            return Err(retry_after(
                (StatusCode::TOO_MANY_REQUESTS, "rate limited\n").into_response(),
                wait,
            ));
        }
    } else if let Some(ip) = ip {
        // The endpoint answers 401 and logs it; the address pays for it.
        let _ = guard.slack_bad.check(&ip, now);
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// The Slack workspace a (verified) request comes from: `team_id` of a slash command or an
/// Events API envelope, `team.id` (or `user.team_id`) of an interaction payload.
fn team_of(headers: &HeaderMap, body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Team {
        id: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct User {
        team_id: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct Envelope {
        team_id: Option<String>,
        team: Option<Team>,
        user: Option<User>,
    }
    let from_json = |b: &[u8]| {
        let e: Envelope = serde_json::from_slice(b).ok()?;
        e.team_id
            .or(e.team.and_then(|t| t.id))
            .or(e.user.and_then(|u| u.team_id))
    };
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if json {
        return from_json(body);
    }
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
    form.iter().find_map(|(k, v)| match k.as_str() {
        "team_id" => Some(v.clone()),
        "payload" => from_json(v.as_bytes()),
        _ => None,
    })
}

fn other_lang(lang: Lang) -> Lang {
    match lang {
        Lang::En => Lang::Fr,
        Lang::Fr => Lang::En,
    }
}

fn lang_of(req: &Request) -> Lang {
    req.extensions().get::<Lang>().copied().unwrap_or_default()
}

fn retry_after(mut res: Response, wait: Duration) -> Response {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

/// 429 with `Retry-After`, in the request's language and the other one.
fn too_many(req: &Request, wait: Duration) -> Response {
    let lang = lang_of(req);
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut args = Args::new();
    args.num("seconds", secs.max(1) as i64);
    let res = refusal(
        req,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        lang.format("web-rate-limited", &args),
        other_lang(lang).format("web-rate-limited", &args),
    );
    retry_after(res, wait)
}

/// A refusal: JSON `{"error": …}` under `/api`, plain text to Slack, a page otherwise.
fn refusal(
    req: &Request,
    status: StatusCode,
    code: &str,
    message: String,
    other: String,
) -> Response {
    let path = req.uri().path();
    if path.starts_with("/api/") {
        return crate::api::error_response(status, code, message);
    }
    if path.starts_with("/slack/") {
        return (status, format!("{message}\n")).into_response();
    }
    let lang = lang_of(req);
    let heading = |l: Lang| {
        if status == StatusCode::TOO_MANY_REQUESTS {
            l.t("web-rate-limited-heading")
        } else {
            l.t("web-overloaded-heading")
        }
    };
    let page = format!(
        "<!doctype html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title></head><body><main><h1>{}</h1><p>{}</p><hr><section lang=\"{}\"><h2>{}</h2><p>{}</p></section></main></body></html>\n",
        lang.code(),
        escape(&heading(lang)),
        escape(&heading(lang)),
        escape(&message),
        other_lang(lang).code(),
        escape(&heading(other_lang(lang))),
        escape(&other),
    );
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page,
    )
        .into_response()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_after_acks_is_bounded_and_refused_when_full() {
        let guard = Arc::new(Guard::new(&ServerConfig::default()));
        let (tx, rx) = tokio::sync::watch::channel(false);
        for _ in 0..MAX_AFTER_ACK {
            let mut rx = rx.clone();
            assert!(spawn_after_ack(guard.clone(), async move {
                let _ = rx.wait_for(|done| *done).await;
            }));
        }
        assert!(!spawn_after_ack(guard.clone(), async {}));
        let mut out = String::new();
        guard.render(&mut out);
        assert!(
            out.contains("muster_slack_after_ack_refused_total 1"),
            "{out}"
        );
        // As tasks finish, room comes back.
        tx.send(true).unwrap();
        let t = Instant::now();
        while !spawn_after_ack(guard.clone(), async {}) {
            assert!(t.elapsed() < Duration::from_secs(5));
            tokio::task::yield_now().await;
        }
    }

    #[test]
    fn ipv6_is_keyed_by_its_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(bucket_key(a), bucket_key(b));
        assert_ne!(bucket_key(a), bucket_key(c));
        let m: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(bucket_key(m), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn the_workspace_of_each_kind_of_slack_request() {
        let form = HeaderMap::new();
        let mut json = HeaderMap::new();
        json.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        assert_eq!(
            team_of(&form, b"command=%2Fincident&team_id=T1&text=x").as_deref(),
            Some("T1")
        );
        let payload = serde_urlencoded::to_string([(
            "payload",
            r#"{"type":"view_submission","team":{"id":"T2"},"user":{"id":"U1"}}"#,
        )])
        .unwrap();
        assert_eq!(team_of(&form, payload.as_bytes()).as_deref(), Some("T2"));
        assert_eq!(
            team_of(&json, br#"{"type":"event_callback","team_id":"T3"}"#).as_deref(),
            Some("T3")
        );
        assert_eq!(team_of(&json, b"not json"), None);
    }
}
