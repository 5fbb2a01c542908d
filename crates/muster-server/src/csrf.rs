//! CSRF protection for forms: a double-submit cookie. Every page gets a random token in a
//! `SameSite=Strict` cookie and in its forms; a POST whose form token does not match the
//! cookie is refused before any handler runs. No server-side state, so any replica can
//! check any form.

use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

pub const COOKIE: &str = "muster_csrf";
pub const FIELD: &str = "csrf";

/// The token for this request, available to handlers that render forms.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

pub async fn layer(mut req: Request, next: Next) -> Response {
    let existing = crate::lang::cookie(&req, COOKIE)
        .filter(|v| v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned);
    if req.method() == Method::POST {
        let Some(cookie) = existing.clone() else {
            return refuse(&req);
        };
        // Read the form body, check the field, and hand the body on untouched.
        let (parts, body) = req.into_parts();
        let bytes = match axum::body::to_bytes(body, crate::MAX_BODY_BYTES).await {
            Ok(b) => b,
            Err(_) => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
        };
        let sent = form_field(&bytes, FIELD);
        let ok = sent.is_some_and(|s| s.as_bytes().ct_eq(cookie.as_bytes()).into());
        req = Request::from_parts(parts, axum::body::Body::from(bytes));
        if !ok {
            return refuse(&req);
        }
    }
    let fresh = existing.is_none();
    let token = existing.unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    req.extensions_mut().insert(CsrfToken(token.clone()));
    let mut res = next.run(req).await;
    if fresh && let Ok(v) = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict").parse() {
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
