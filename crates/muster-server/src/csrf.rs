//! CSRF protection for forms, in two layers.
//!
//! 1. Cross-site requests are refused outright: an `Origin` naming another host than the
//!    request's `Host` (or `null`), or `Sec-Fetch-Site: cross-site`.
//! 2. A signed double-submit token. The cookie holds a random nonce; forms carry an HMAC
//!    of that nonce (and of the signed-in user's name, when a proxy names one) under a key
//!    made when the server starts. A cookie/field pair someone chose (say, planted through
//!    a sibling subdomain) fails, because nobody outside the server can sign a nonce. The
//!    cookie is `__Host-muster_csrf` and `Secure` when `public_url` is https, so no other
//!    host may set it; over plain HTTP (loopback) browsers refuse `__Host-` cookies, so
//!    the plain name `muster_csrf` is used there. A restart changes the key: open forms
//!    are refused once and work after a reload.

use crate::AppState;
use crate::auth::Viewer;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, KeyInit, Mac};
use muster_core::config::Config;
use sha2::Sha256;
use subtle::ConstantTimeEq;

pub const PLAIN_COOKIE: &str = "muster_csrf";
pub const HOST_COOKIE: &str = "__Host-muster_csrf";
pub const FIELD: &str = "csrf";

/// The token for this request's forms, available to handlers that render them.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

/// A fresh signing key.
pub fn new_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    key[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    key[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    key
}

/// Whether people reach Muster over TLS (an https `[server] public_url`). `[slack]
/// public_url` does not decide it: it only builds links, and people may still open
/// Muster over plain HTTP on loopback, where a `Secure` cookie would be dropped.
pub fn served_over_tls(config: &Config) -> bool {
    config
        .server
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"))
}

/// The CSRF cookie's name.
pub fn cookie_name(config: &Config) -> &'static str {
    if served_over_tls(config) {
        HOST_COOKIE
    } else {
        PLAIN_COOKIE
    }
}

/// The form field that goes with `nonce` for this viewer.
fn sign(key: &[u8; 32], nonce: &str, viewer: Option<&str>) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("any key length works");
    mac.update(nonce.as_bytes());
    mac.update(b"\0");
    mac.update(viewer.unwrap_or("").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Whether the browser says this request comes from another site.
fn cross_site(headers: &HeaderMap) -> bool {
    let fetch_site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("cross-site"));
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_elsewhere = headers
        .get(header::ORIGIN)
        .map(|o| {
            let o = o.to_str().unwrap_or("null");
            let origin_host = o.split_once("://").map(|(_, h)| h.trim_end_matches('/'));
            // An opaque origin ("null": sandboxed frames, data: URLs) is never ours.
            origin_host.is_none_or(|oh| host.is_none_or(|h| !oh.eq_ignore_ascii_case(h)))
        })
        .unwrap_or(false);
    fetch_site || origin_elsewhere
}

pub async fn layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let config = state.engine.config();
    let name = cookie_name(config);
    let existing = crate::lang::cookie(&req, name)
        .filter(|v| v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned);
    let viewer = req
        .extensions()
        .get::<Viewer>()
        .and_then(|v| v.name.clone());
    if req.method() == Method::POST {
        if cross_site(req.headers()) {
            return refuse(&req);
        }
        let Some(nonce) = existing.clone() else {
            return refuse(&req);
        };
        // Read the form body, check the field, and hand the body on untouched.
        let (parts, body) = req.into_parts();
        let bytes = match axum::body::to_bytes(body, crate::MAX_BODY_BYTES).await {
            Ok(b) => b,
            Err(_) => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
        };
        let expected = sign(&state.csrf_key, &nonce, viewer.as_deref());
        let sent = form_field(&bytes, FIELD);
        let ok = sent.is_some_and(|s| s.as_bytes().ct_eq(expected.as_bytes()).into());
        req = Request::from_parts(parts, axum::body::Body::from(bytes));
        if !ok {
            return refuse(&req);
        }
    }
    let fresh = existing.is_none();
    let nonce = existing.unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    req.extensions_mut()
        .insert(CsrfToken(sign(&state.csrf_key, &nonce, viewer.as_deref())));
    let mut res = next.run(req).await;
    let secure = if served_over_tls(config) {
        "; Secure"
    } else {
        ""
    };
    if fresh
        && let Ok(v) = format!("{name}={nonce}; Path=/; HttpOnly; SameSite=Strict{secure}").parse()
    {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

fn refuse(req: &Request) -> Response {
    let lang = req
        .extensions()
        .get::<muster_core::Lang>()
        .copied()
        .unwrap_or_default();
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        lang.t("web-csrf-refused"),
    )
        .into_response()
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    url_decode_pairs(body)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// `application/x-www-form-urlencoded` pairs.
pub fn url_decode_pairs(body: &[u8]) -> impl Iterator<Item = (String, String)> + '_ {
    body.split(|b| *b == b'&').filter_map(|pair| {
        let mut it = pair.splitn(2, |b| *b == b'=');
        let k = decode(it.next()?);
        let v = decode(it.next().unwrap_or(b""));
        Some((k, v))
    })
}

/// Percent-encode everything but unreserved characters (for a cookie or header value).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-decode (`+` as a space, as forms write it).
pub fn percent_decode(s: &[u8]) -> String {
    decode(s)
}

fn decode(s: &[u8]) -> String {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < s.len() => {
                match u8::from_str_radix(std::str::from_utf8(&s[i + 1..i + 3]).unwrap_or("zz"), 16)
                {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_forms() {
        let pairs: Vec<_> = url_decode_pairs(b"a=1+2&csrf=%41b&empty=&bad=%zz%4").collect();
        assert_eq!(pairs[0], ("a".into(), "1 2".into()));
        assert_eq!(pairs[1], ("csrf".into(), "Ab".into()));
        assert_eq!(pairs[2], ("empty".into(), "".into()));
        assert_eq!(pairs[3], ("bad".into(), "%zz%4".into()));
    }
}
