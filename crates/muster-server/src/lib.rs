//! # muster-server
//!
//! Muster's HTTP face, on axum: server-rendered pages (no JavaScript needed, every asset
//! embedded), the JSON REST API under `/api/v1` with its OpenAPI description, and the
//! operations endpoints (`/healthz`, `/readyz`, `/metrics`).
//!
//! Handlers are thin: they parse the request, call one `muster_engine::Engine` use case and
//! render the result. Cross-cutting concerns are middleware: the `Host` check (DNS
//! rebinding), language negotiation, CSRF (signed double-submit cookie, cross-site
//! refusal), security headers, body limits, authentication and request
//! metrics. Who may see security incidents is decided once per request ([`Viewer`]).

mod abuse;
mod alerts;
mod api;
mod auth;
mod csrf;
mod errors;
mod host;
mod lang;
mod live;
mod ops;
mod ops_care;
mod pages;
mod prometheus;
mod ratelimit;
pub mod slack;
mod state;
mod svg;
mod trouble;

pub use abuse::{Guard, bucket_key};
pub use api::{documented_routes, openapi_document};
pub use auth::{BindError, Viewer, check_bind, hash_token, new_token};
pub use csrf::percent_encode;
pub use state::AppState;

use axum::Router;
use std::time::Duration;

/// Largest request body accepted anywhere (forms and JSON are small).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The whole application: pages, API and operations endpoints with their middleware.
pub fn router(state: AppState) -> Router {
    // The Host check is outermost on pages and API, so a refused name learns nothing.
    // `/healthz`, `/readyz`, `/metrics` and `/slack/*` are exempt: load balancers and
    // probes call the address they know (often a pod IP), and Slack calls the public
    // name its proxy forwards as it likes; none of them is a browser that a rebinding
    // page could drive with someone's local access, and Slack's requests are signed.
    let pages = pages::routes()
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            csrf::layer,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::page_viewer,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            host::pages,
        ));
    let api = api::routes(&state)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::api_viewer,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            host::api,
        ));
    Router::new()
        .merge(pages)
        .nest("/api/v1", api)
        .merge(ops::routes())
        .merge(slack::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            abuse::layer,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            lang::layer,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            prometheus::layer,
        ))
        .layer(axum::middleware::from_fn(body_limit))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        // Outermost, so the answers of the layers above (413, 408) and of the router
        // (405) get the API's JSON shape or a page too.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            errors::layer,
        ))
        // Around everything, so even the body limit's and the timeout's answers carry them.
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(state)
}

/// Cap request bodies: [`MAX_BODY_BYTES`] everywhere but the alert endpoints, which take
/// monitoring's deliveries up to [`muster_core::alert::MAX_ALERT_BODY`]. A declared length
/// over the cap is refused at once; a body that grows past it fails when read (413).
async fn body_limit(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let limit = if req.uri().path().starts_with("/api/v1/alerts/") {
        muster_core::alert::MAX_ALERT_BODY
    } else {
        MAX_BODY_BYTES
    };
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return axum::http::StatusCode::PAYLOAD_TOO_LARGE.into_response();
    }
    let (parts, body) = req.into_parts();
    let body = axum::body::Body::new(http_body_util::Limited::new(body, limit));
    next.run(axum::extract::Request::from_parts(parts, body))
        .await
}

/// Serve until `shutdown` resolves, finishing requests in flight. Each request knows its
/// peer's address, for the per-source limits.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let streams = state.clone();
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        // Live pages would hold the graceful shutdown open: end their streams.
        streams.close_streams();
    })
    .await
}

async fn security_headers(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::header::{self, HeaderValue};
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    res
}
