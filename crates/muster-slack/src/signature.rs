//! Slack request signatures (`X-Slack-Signature`, version `v0`).
//!
//! Slack signs every request it sends: `v0=` followed by the lowercase hex HMAC-SHA256,
//! keyed with the app's signing secret, of `v0:{X-Slack-Request-Timestamp}:{raw body}`.
//! [`Verifier::verify`] checks the headers against the raw body (before any parsing),
//! compares in constant time and refuses timestamps more than five minutes from `now`,
//! which bounds replays. [`sign`] produces the header value, for tests and the simulator.

use hmac::{Hmac, KeyInit, Mac};
use muster_core::Secret;
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The header carrying the signature (HTTP header names are case-insensitive).
pub const SIGNATURE_HEADER: &str = "x-slack-signature";
/// The header carrying the request timestamp, in seconds since the Unix epoch.
pub const TIMESTAMP_HEADER: &str = "x-slack-request-timestamp";
/// Set on Slack's redeliveries: the attempt number (1, 2, 3).
pub const RETRY_NUM_HEADER: &str = "x-slack-retry-num";
/// Set on Slack's redeliveries: why (`http_timeout`, `http_error`…).
pub const RETRY_REASON_HEADER: &str = "x-slack-retry-reason";
/// Slack's recommended tolerance between its timestamp and our clock: five minutes.
pub const DEFAULT_TOLERANCE_SECS: i64 = 5 * 60;

const VERSION: &str = "v0";
const SIGNATURE_PREFIX: &str = "v0=";
const MAC_HEX_LEN: usize = 64;

/// Why a request's signature was refused. None of the variants carry the secret, the
/// expected signature or the body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the X-Slack-Request-Timestamp header is missing")]
    MissingTimestamp,
    #[error("the X-Slack-Signature header is missing")]
    MissingSignature,
    #[error("the X-Slack-Request-Timestamp header is not a Unix time in seconds")]
    MalformedTimestamp,
    #[error("the X-Slack-Signature header is not a v0 signature (v0= and 64 hex digits)")]
    MalformedSignature,
    /// The timestamp is further than the tolerance from now (positive: in the past).
    #[error(
        "the request timestamp is {age_secs} s away from now, beyond the {tolerance_secs} s tolerance"
    )]
    Stale { age_secs: i64, tolerance_secs: i64 },
    #[error("the signature does not match the body")]
    Mismatch,
}

/// Checks Slack signatures with one signing secret.
#[derive(Debug, Clone)]
pub struct Verifier {
    secret: Secret,
    tolerance_secs: i64,
}

impl Verifier {
    /// A verifier with the default five-minute tolerance.
    pub fn new(secret: Secret) -> Self {
        Verifier {
            secret,
            tolerance_secs: DEFAULT_TOLERANCE_SECS,
        }
    }

    /// Change the tolerance (seconds, either direction).
    pub fn with_tolerance_secs(mut self, secs: i64) -> Self {
        self.tolerance_secs = secs.max(0);
        self
    }

    /// Verify a request. `timestamp` and `signature` are the raw header values (None when
    /// absent), `body` the raw body bytes, `now_unix` the current time in Unix seconds.
    pub fn verify(
        &self,
        timestamp: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
        now_unix: i64,
    ) -> Result<(), SignatureError> {
        let ts_raw = timestamp.ok_or(SignatureError::MissingTimestamp)?.trim();
        let sig_raw = signature.ok_or(SignatureError::MissingSignature)?.trim();
        let ts = parse_timestamp(ts_raw)?;
        let given = parse_signature(sig_raw)?;
        let age = now_unix.saturating_sub(ts);
        if age.unsigned_abs() > self.tolerance_secs.unsigned_abs() {
            return Err(SignatureError::Stale {
                age_secs: age,
                tolerance_secs: self.tolerance_secs,
            });
        }
        let expected = mac(&self.secret, ts_raw, body);
        if bool::from(expected.as_slice().ct_eq(given.as_slice())) {
            Ok(())
        } else {
            Err(SignatureError::Mismatch)
        }
    }
}

impl Verifier {
    /// [`Verifier::verify`] with the headers of an HTTP request (`http::HeaderMap`, the
    /// type axum and reqwest share).
    pub fn verify_headers(
        &self,
        headers: &reqwest::header::HeaderMap,
        body: &[u8],
        now_unix: i64,
    ) -> Result<(), SignatureError> {
        let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        self.verify(get(TIMESTAMP_HEADER), get(SIGNATURE_HEADER), body, now_unix)
    }
}

/// `X-Slack-Retry-Num` of a redelivery (None on a first delivery or an unreadable value).
pub fn retry_num(headers: &reqwest::header::HeaderMap) -> Option<u32> {
    headers
        .get(RETRY_NUM_HEADER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The `X-Slack-Signature` value for `body` sent at `timestamp` (Unix seconds).
pub fn sign(secret: &Secret, timestamp: i64, body: &[u8]) -> String {
    let mac = mac(secret, &timestamp.to_string(), body);
    format!("{SIGNATURE_PREFIX}{}", hex::encode(mac))
}

fn mac(secret: &Secret, timestamp: &str, body: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.expose().as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(VERSION.as_bytes());
    mac.update(b":");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

fn parse_timestamp(raw: &str) -> Result<i64, SignatureError> {
    if raw.is_empty() || raw.len() > 12 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SignatureError::MalformedTimestamp);
    }
    raw.parse().map_err(|_| SignatureError::MalformedTimestamp)
}

fn parse_signature(raw: &str) -> Result<Vec<u8>, SignatureError> {
    let hex_part = raw
        .strip_prefix(SIGNATURE_PREFIX)
        .ok_or(SignatureError::MalformedSignature)?;
    if hex_part.len() != MAC_HEX_LEN {
        return Err(SignatureError::MalformedSignature);
    }
    hex::decode(hex_part).map_err(|_| SignatureError::MalformedSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Slack's documented example, copied into the repository.
    struct Example {
        secret: String,
        timestamp: String,
        body: String,
        signature: String,
    }

    fn example() -> Example {
        let text = include_str!("../tests/fixtures/signing/slack-doc-example.txt");
        let get = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("{key}=")))
                .unwrap_or_else(|| panic!("fixture has {key}"))
                .to_owned()
        };
        Example {
            secret: get("secret"),
            timestamp: get("timestamp"),
            body: get("body"),
            signature: get("signature"),
        }
    }

    fn ts(e: &Example) -> i64 {
        e.timestamp.parse().unwrap()
    }

    #[test]
    fn slack_documented_example_verifies() {
        let e = example();
        let v = Verifier::new(Secret::new(e.secret.clone()));
        assert_eq!(
            v.verify(
                Some(&e.timestamp),
                Some(&e.signature),
                e.body.as_bytes(),
                ts(&e) + 10
            ),
            Ok(())
        );
    }

    #[test]
    fn sign_reproduces_the_documented_signature() {
        let e = example();
        assert_eq!(
            sign(&Secret::new(e.secret.clone()), ts(&e), e.body.as_bytes()),
            e.signature
        );
    }

    #[test]
    fn any_change_to_the_body_secret_or_timestamp_is_a_mismatch() {
        let e = example();
        let v = Verifier::new(Secret::new(e.secret.clone()));
        let now = ts(&e);
        let mut body = e.body.clone().into_bytes();
        body[10] ^= 1;
        assert_eq!(
            v.verify(Some(&e.timestamp), Some(&e.signature), &body, now),
            Err(SignatureError::Mismatch)
        );
        let other = Verifier::new(Secret::new("another-secret"));
        assert_eq!(
            other.verify(
                Some(&e.timestamp),
                Some(&e.signature),
                e.body.as_bytes(),
                now
            ),
            Err(SignatureError::Mismatch)
        );
        let later = (now + 1).to_string();
        assert_eq!(
            v.verify(Some(&later), Some(&e.signature), e.body.as_bytes(), now),
            Err(SignatureError::Mismatch)
        );
        // Same digits, upper case: hex decoding accepts it, and it still matches.
        let upper = format!("v0={}", e.signature[3..].to_uppercase());
        assert_eq!(
            v.verify(Some(&e.timestamp), Some(&upper), e.body.as_bytes(), now),
            Ok(())
        );
    }

    #[test]
    fn stale_and_future_timestamps_are_refused() {
        let e = example();
        let v = Verifier::new(Secret::new(e.secret.clone()));
        let t = ts(&e);
        let check = |now: i64| {
            v.verify(
                Some(&e.timestamp),
                Some(&e.signature),
                e.body.as_bytes(),
                now,
            )
        };
        assert_eq!(check(t + 300), Ok(()));
        assert_eq!(check(t - 300), Ok(()));
        assert_eq!(
            check(t + 301),
            Err(SignatureError::Stale {
                age_secs: 301,
                tolerance_secs: 300
            })
        );
        assert!(matches!(
            check(t - 301),
            Err(SignatureError::Stale { age_secs: -301, .. })
        ));
        let strict = Verifier::new(Secret::new(e.secret.clone())).with_tolerance_secs(5);
        assert!(matches!(
            strict.verify(
                Some(&e.timestamp),
                Some(&e.signature),
                e.body.as_bytes(),
                t + 6
            ),
            Err(SignatureError::Stale { .. })
        ));
    }

    #[test]
    fn missing_and_malformed_headers_are_typed() {
        let e = example();
        let v = Verifier::new(Secret::new(e.secret.clone()));
        let t = ts(&e);
        let body = e.body.as_bytes();
        assert_eq!(
            v.verify(None, Some(&e.signature), body, t),
            Err(SignatureError::MissingTimestamp)
        );
        assert_eq!(
            v.verify(Some(&e.timestamp), None, body, t),
            Err(SignatureError::MissingSignature)
        );
        for bad in [
            "",
            "abc",
            "-1531420618",
            "1531420618.5",
            "99999999999999999999",
        ] {
            assert_eq!(
                v.verify(Some(bad), Some(&e.signature), body, t),
                Err(SignatureError::MalformedTimestamp),
                "{bad}"
            );
        }
        let truncated = &e.signature[..e.signature.len() - 2];
        let v1 = e.signature.replacen("v0=", "v1=", 1);
        let not_hex = format!("v0={}", "zz".repeat(32));
        for bad in ["", "v0=", truncated, v1.as_str(), not_hex.as_str()] {
            assert_eq!(
                v.verify(Some(&e.timestamp), Some(bad), body, t),
                Err(SignatureError::MalformedSignature),
                "{bad}"
            );
        }
    }

    #[test]
    fn verify_from_an_http_header_map() {
        use reqwest::header::{HeaderMap, HeaderValue};
        let e = example();
        let v = Verifier::new(Secret::new(e.secret.clone()));
        let mut h = HeaderMap::new();
        h.insert(
            TIMESTAMP_HEADER,
            HeaderValue::from_str(&e.timestamp).unwrap(),
        );
        assert_eq!(
            v.verify_headers(&h, e.body.as_bytes(), ts(&e)),
            Err(SignatureError::MissingSignature)
        );
        h.insert(
            "X-Slack-Signature",
            HeaderValue::from_str(&e.signature).unwrap(),
        );
        assert_eq!(v.verify_headers(&h, e.body.as_bytes(), ts(&e)), Ok(()));
        assert_eq!(retry_num(&h), None);
        h.insert("X-Slack-Retry-Num", HeaderValue::from_static("2"));
        assert_eq!(retry_num(&h), Some(2));
    }

    #[test]
    fn errors_and_debug_never_show_the_secret() {
        let v = Verifier::new(Secret::new("super-secret-signing-key"));
        assert!(!format!("{v:?}").contains("super-secret"));
        let err = v.verify(Some("1"), Some("v0=00"), b"x", 1).unwrap_err();
        assert!(!err.to_string().contains("super-secret"));
    }
}
