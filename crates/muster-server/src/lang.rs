//! Which language a request is answered in: `?lang=` (remembered in a cookie), then the
//! cookie, then `Accept-Language`, then the configured default.

use crate::AppState;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use muster_core::Lang;

pub const COOKIE: &str = "muster_lang";

/// The language a request asks for, and whether it asked in the query (to remember it).
pub fn negotiate(req: &Request, default: Lang) -> (Lang, Option<Lang>, Option<Lang>) {
    let from_query = req.uri().query().and_then(|q| {
        q.split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == "lang")
            .and_then(|(_, v)| v.parse::<Lang>().ok())
    });
    let from_cookie = cookie(req, COOKIE).and_then(|v| v.parse::<Lang>().ok());
    let from_header = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Lang::from_accept_language);
    let lang = from_query
        .or(from_cookie)
        .or(from_header)
        .unwrap_or(default);
    (lang, from_query, from_cookie)
}

pub async fn layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let (lang, from_query, from_cookie) = negotiate(&req, state.engine.config().language);
    req.extensions_mut().insert(lang);
    let mut res = next.run(req).await;
    if let Some(l) = from_query
        && from_cookie != Some(l)
        && let Ok(v) = format!(
            "{COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
            l.code()
        )
        .parse()
    {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// A cookie's value from the request.
pub fn cookie<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    cookie_in(req.headers(), name)
}

pub fn cookie_in<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}
