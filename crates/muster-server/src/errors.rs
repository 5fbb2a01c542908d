//! Errors no handler wrote: the body limit's 413, the router's 405, the timeout's 408, an
//! extractor's plain-text 400. Clients of the API are promised one shape,
//! `{"error": {"code", "message"}}`, for every error, so this outermost layer gives these
//! answers that shape (keeping their status and headers such as `Allow`); a page's 413
//! becomes a page that says the limits, in the reader's language.

use crate::AppState;
use crate::api::error_response;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use muster_core::Lang;
use muster_core::i18n::Args;

pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let method = req.method().to_string();
    let (lang, ..) = crate::lang::negotiate(&req, state.engine.config().language);
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) || already_shaped(&res) {
        return res;
    }
    if path == "/api/v1" || path.starts_with("/api/v1/") {
        let (code, message) = match status {
            StatusCode::PAYLOAD_TOO_LARGE => {
                ("body_too_large", too_large("web-api-too-large", lang))
            }
            StatusCode::METHOD_NOT_ALLOWED => (
                "method_not_allowed",
                lang.format(
                    "web-api-method-not-allowed",
                    &Args::new().with("method", method),
                ),
            ),
            StatusCode::BAD_REQUEST => ("bad_path", lang.t("web-api-bad-path")),
            StatusCode::REQUEST_TIMEOUT => ("timeout", lang.t("web-api-timeout")),
            other => (
                "http_error",
                lang.format(
                    "web-api-http-error",
                    &Args::new().with("status", other.as_u16().to_string()),
                ),
            ),
        };
        return reshape(res, error_response(status, code, message));
    }
    if status == StatusCode::PAYLOAD_TOO_LARGE && !path.starts_with("/slack/") {
        let page = crate::pages::too_large_page(&state, lang, &path);
        return reshape(res, page);
    }
    res
}

/// Whether a handler already answered in a shape people or programs read (our JSON
/// errors, our pages).
fn already_shaped(res: &Response) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json") || ct.starts_with("text/html"))
}

/// The new body with the old answer's status and headers (`Allow`, `Retry-After`, cookies),
/// except those that described the old body.
fn reshape(old: Response, new: Response) -> Response {
    let (mut parts, _) = old.into_parts();
    let (new_parts, body) = new.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_TYPE);
    for (k, v) in &new_parts.headers {
        parts.headers.insert(k, v.clone());
    }
    Response::from_parts(parts, body)
}

/// The limits someone whose request was too large can act on: the body's, and the fields'
/// from core (the ones the engine enforces).
pub fn too_large(id: &str, lang: Lang) -> String {
    let mut a = Args::new();
    a.num("max", crate::MAX_BODY_BYTES as i64)
        .num("title", muster_core::title::MAX_TITLE_CHARS as i64)
        .num("text", muster_core::incident::MAX_TEXT_CHARS as i64);
    lang.format(id, &a)
}

/// The API's answer to a body cut off at the limit while read (no `Content-Length`).
pub fn api_too_large(lang: Lang) -> Response {
    error_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        too_large("web-api-too-large", lang),
    )
    .into_response()
}
