//! Who is asking, and may they see security incidents.
//!
//! - Pages: the user named by the reverse-proxy header (`[server] proxy_user_header`),
//!   believed only from a peer in `[server] trusted_proxies` (loopback when none is
//!   listed); from anyone else the header is ignored. Without a name, anonymous on
//!   loopback (with the display name the person chose, kept in a cookie, for the record),
//!   refused elsewhere.
//! - API: a bearer token (`muster token create`), required off loopback or when
//!   `require_api_token` is set; the token's name is the viewer. A caller acting for
//!   someone says so (`"by"` in the JSON body, or `X-Muster-Acting-For`, percent-encoded
//!   UTF-8) and is recorded as `carol (via deploy-bot)`.
//!
//! Only the authenticated name (proxy user, token) decides who sees security incidents;
//! names people give themselves are recorded, never trusted.

use crate::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use muster_core::config::ServerConfig;
use muster_core::i18n::Args;
use muster_core::{Lang, Secret};
use sha2::{Digest, Sha256};
use std::net::SocketAddr;

/// Where a display name is kept on loopback pages.
pub const NAME_COOKIE: &str = "muster_name";
/// The header an API caller names the person it acts for with (`muster --server --by`).
pub const ACTING_FOR: &str = "x-muster-acting-for";
/// Longest name kept from a header, cookie or body.
const MAX_NAME_CHARS: usize = 80;

/// The person behind a request.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// Who authenticated: the proxy's user or the token's name.
    pub name: Option<String>,
    pub sees_security: bool,
    /// Who the request says acts: a display name chosen on loopback pages, or whom an API
    /// caller acts for. Recorded, never used to decide what may be seen.
    pub acting_for: Option<String>,
}

impl Viewer {
    fn new(name: Option<String>, server: &ServerConfig) -> Self {
        let sees_security = server.may_see_security(name.as_deref());
        Viewer {
            name,
            sees_security,
            acting_for: None,
        }
    }

    /// The name recorded as author of what this viewer does: `carol (via deploy-bot)`
    /// when an authenticated caller acts for someone, else whichever name is known.
    pub fn author(&self, fallback: &str) -> String {
        match (&self.name, &self.acting_for) {
            (Some(n), Some(a)) if n != a => format!("{a} (via {n})"),
            (Some(n), _) => n.clone(),
            (None, Some(a)) => a.clone(),
            (None, None) => fallback.to_owned(),
        }
    }

    /// Whether this viewer may see `d`: any incident but a security one; a security one
    /// if they are a security viewer, or if they declared it or hold or held one of its
    /// roles (recorded as `author(fallback)`), so its own people are never locked out.
    pub fn may_see(&self, d: &muster_core::incident::IncidentDetail, fallback: &str) -> bool {
        !d.incident.security || self.sees_security || d.involves(&self.author(fallback))
    }
}

/// A name as people send it: trimmed, at most 80 characters, none if blank.
pub fn clean_name(v: &str) -> Option<String> {
    let v: String = v.trim().chars().take(MAX_NAME_CHARS).collect();
    let v = v.trim().to_owned();
    (!v.is_empty() && !v.chars().any(char::is_control)).then_some(v)
}

/// The peer's address, when the connection's is known (in-process callers have none).
fn peer(req: &Request) -> Option<std::net::IpAddr> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

/// A new random API token (256 bits), shown once to the person who asked for it.
pub fn new_token() -> Secret {
    let a = uuid::Uuid::new_v4().simple().to_string();
    let b = uuid::Uuid::new_v4().simple().to_string();
    Secret::new(format!("mst_{a}{b}"))
}

/// What the database keeps of a token.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Why `muster serve` refuses to start on an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindError {
    NeedsAuth(SocketAddr),
}

impl BindError {
    pub fn message(&self, lang: Lang) -> String {
        match self {
            BindError::NeedsAuth(a) => lang.format(
                "web-bind-needs-auth",
                &Args::new().with("addr", a.to_string()),
            ),
        }
    }
}

/// Listening beyond loopback needs page authentication (the proxy header); API tokens are
/// then always required.
pub fn check_bind(addr: SocketAddr, server: &ServerConfig) -> Result<(), BindError> {
    if addr.ip().is_loopback() || server.proxy_user_header.is_some() {
        Ok(())
    } else {
        Err(BindError::NeedsAuth(addr))
    }
}

pub async fn page_viewer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let server = &state.engine.config().server;
    // The header is believed only from a trusted proxy: anyone else could type it.
    let trusted = peer(&req).is_some_and(|p| server.trusts_proxy(p));
    let name = server
        .proxy_user_header
        .as_deref()
        .filter(|_| trusted)
        .and_then(|h| {
            req.headers()
                .get(h)
                .and_then(|v| v.to_str().ok())
                .and_then(clean_name)
        });
    if name.is_none() && !state.loopback {
        let lang = req.extensions().get::<Lang>().copied().unwrap_or_default();
        return (
            StatusCode::UNAUTHORIZED,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            lang.t("web-sign-in-required"),
        )
            .into_response();
    }
    let mut viewer = Viewer::new(name, server);
    if viewer.name.is_none() {
        viewer.acting_for = crate::lang::cookie(&req, NAME_COOKIE)
            .map(|v| crate::csrf::percent_decode(v.as_bytes()))
            .and_then(|v| clean_name(&v));
    }
    req.extensions_mut().insert(viewer);
    next.run(req).await
}

/// A 401 from the API, with the challenge RFC 6750 asks for.
fn unauthorized(code: &str, message: String, token_given: bool) -> Response {
    let mut res = crate::api::error_response(StatusCode::UNAUTHORIZED, code, message);
    let challenge = if token_given {
        "Bearer realm=\"muster\", error=\"invalid_token\""
    } else {
        "Bearer realm=\"muster\""
    };
    res.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static(challenge),
    );
    res
}

/// The token of an `Authorization: Bearer …` header; the scheme is case-insensitive
/// (RFC 9110).
pub(crate) fn bearer(req: &Request) -> Option<Secret> {
    let v = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| Secret::new(token.trim()))
}

pub async fn api_viewer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let lang = req.extensions().get::<Lang>().copied().unwrap_or_default();
    // The API description is public, like any OpenAPI document.
    if req.uri().path().ends_with("/openapi.json") {
        req.extensions_mut()
            .insert(Viewer::new(None, &state.engine.config().server));
        return next.run(req).await;
    }
    let server = &state.engine.config().server;
    let token = bearer(&req);
    let name = match &token {
        Some(token) => match state.engine.token_name(&hash_token(token.expose())).await {
            Ok(Some(name)) => Some(name),
            Ok(None) => {
                return unauthorized("invalid_token", lang.t("web-api-invalid-token"), true);
            }
            Err(e) => {
                return crate::api::error_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    e.code(),
                    e.message(lang),
                );
            }
        },
        None => None,
    };
    if name.is_none() && (server.require_api_token || !state.loopback) {
        return unauthorized("token_required", lang.t("web-api-token-required"), false);
    }
    let mut viewer = Viewer::new(name, server);
    viewer.acting_for = req
        .headers()
        .get(ACTING_FOR)
        .and_then(|v| v.to_str().ok())
        .map(|v| crate::csrf::percent_decode(v.as_bytes()))
        .and_then(|v| clean_name(&v));
    // Alert bodies (up to 1 MiB) are the senders' own format, with no `by`.
    if req.uri().path().contains("/alerts/") {
        req.extensions_mut().insert(viewer);
        return next.run(req).await;
    }
    let req = match take_by(req).await {
        Ok((req, Some(by))) => {
            viewer.acting_for = Some(by);
            req
        }
        Ok((req, None)) => req,
        Err(res) => return res,
    };
    let mut req = req;
    req.extensions_mut().insert(viewer);
    next.run(req).await
}

/// Take `"by"` out of a JSON object body (every request body accepts it), handing on the
/// rest. Bodies that are not JSON objects go on untouched, for the handler to refuse.
async fn take_by(req: Request) -> Result<(Request, Option<String>), Response> {
    let json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json {
        return Ok((req, None));
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, crate::MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            // The same answer as the body limit's own: the code and the limits to act on.
            crate::errors::api_too_large(
                parts.extensions.get::<Lang>().copied().unwrap_or_default(),
            )
        })?;
    let mut by = None;
    let bytes = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(mut m))
            if m.get("by").is_some_and(serde_json::Value::is_string) =>
        {
            by = m.remove("by").and_then(|v| v.as_str().and_then(clean_name));
            serde_json::to_vec(&m).map_or(bytes, Into::into)
        }
        _ => bytes,
    };
    Ok((
        Request::from_parts(parts, axum::body::Body::from(bytes)),
        by,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_loopback_needs_auth() {
        let mut s = ServerConfig::default();
        assert!(check_bind("127.0.0.1:8080".parse().unwrap(), &s).is_ok());
        assert!(check_bind("[::1]:8080".parse().unwrap(), &s).is_ok());
        assert!(check_bind("0.0.0.0:8080".parse().unwrap(), &s).is_err());
        s.proxy_user_header = Some("X-Forwarded-User".into());
        assert!(check_bind("0.0.0.0:8080".parse().unwrap(), &s).is_ok());
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = new_token();
        assert_ne!(a, new_token());
        assert_eq!(hash_token(a.expose()).len(), 64);
        assert!(!format!("{a:?}").contains("mst_"));
    }
}
