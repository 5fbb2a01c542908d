//! `X-Slack-Request-Timestamp` / `X-Slack-Signature` verification. The input is split
//! into: timestamp header line, signature header line, the rest is the body.
//! Properties: verification never panics on any header values; a forged header is never
//! accepted without the secret; what `sign` produces always verifies.
#![no_main]

use libfuzzer_sys::fuzz_target;
use muster_core::Secret;
use muster_slack::signature::{Verifier, sign};

const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const NOW: i64 = 1_531_420_618;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |&b| b == b'\n');
    let ts = parts.next().unwrap_or_default();
    let sig = parts.next().unwrap_or_default();
    let body = parts.next().unwrap_or_default();
    let (Ok(ts), Ok(sig)) = (std::str::from_utf8(ts), std::str::from_utf8(sig)) else {
        return;
    };
    let secret = Secret::new(SECRET);
    let v = Verifier::new(secret.clone());
    let now = ts.trim().parse::<i64>().unwrap_or(NOW);
    for opt_ts in [None, Some(ts)] {
        for opt_sig in [None, Some(sig)] {
            let r = v.verify(opt_ts, opt_sig, body, now);
            if r.is_ok() {
                // Accepted: then it must be exactly what signing produces.
                let ts_num: i64 = ts.trim().parse().expect("accepted timestamp parses");
                assert_eq!(sign(&secret, ts_num, body), sig.trim());
            }
        }
    }
    // Round trip: a correctly signed body verifies at its own time, with any tolerance.
    let ts_num = now.rem_euclid(10_000_000_000);
    let good = sign(&secret, ts_num, body);
    assert_eq!(
        v.verify(Some(&ts_num.to_string()), Some(&good), body, ts_num),
        Ok(())
    );
    let _ = Verifier::new(secret)
        .with_tolerance_secs(now)
        .verify(Some(ts), Some(sig), body, now);
});
