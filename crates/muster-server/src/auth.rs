//! Who is asking, and may they see security incidents.
//!
//! - Pages: anonymous on loopback; otherwise the user named by the trusted reverse-proxy
//!   header (`[server] proxy_user_header`).
//! - API: a bearer token (`muster token create`), required off loopback or when
//!   `require_api_token` is set; the token's name is the viewer.

use crate::AppState;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use muster_core::config::ServerConfig;
use muster_core::i18n::Args;
use muster_core::{Lang, Secret};
use sha2::{Digest, Sha256};
use std::net::SocketAddr;

/// The person behind a request.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub name: Option<String>,
    pub sees_security: bool,
}

impl Viewer {
    fn new(name: Option<String>, server: &ServerConfig) -> Self {
        let sees_security = server.may_see_security(name.as_deref());
        Viewer {
            name,
            sees_security,
        }
    }

    /// The name recorded as author of what this viewer does.
    pub fn author(&self, fallback: &str) -> String {
        self.name.clone().unwrap_or_else(|| fallback.to_owned())
    }

    /// Whether this viewer may see `d`: any incident but a security one; a security one
    /// if they are a security viewer, or if they declared it or hold or held one of its
    /// roles (recorded as `author(fallback)`), so its own people are never locked out.
    pub fn may_see(&self, d: &muster_core::incident::IncidentDetail, fallback: &str) -> bool {
        !d.incident.security || self.sees_security || d.involves(&self.author(fallback))
    }
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
    let name = server.proxy_user_header.as_deref().and_then(|h| {
        req.headers()
            .get(h)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().chars().take(80).collect::<String>())
            .filter(|v| !v.is_empty())
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
    req.extensions_mut().insert(Viewer::new(name, server));
    next.run(req).await
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
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| Secret::new(t.trim()));
    let name = match bearer {
        Some(token) => match state.engine.token_name(&hash_token(token.expose())).await {
            Ok(Some(name)) => Some(name),
            Ok(None) => {
                return crate::api::error_response(
                    StatusCode::UNAUTHORIZED,
                    "invalid_token",
                    lang.t("web-api-invalid-token"),
                );
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
        return crate::api::error_response(
            StatusCode::UNAUTHORIZED,
            "token_required",
            lang.t("web-api-token-required"),
        );
    }
    req.extensions_mut().insert(Viewer::new(name, server));
    next.run(req).await
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
