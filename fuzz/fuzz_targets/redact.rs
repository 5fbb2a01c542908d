//! The scanner and the redactor on arbitrary bytes, with the default rules (what
//! `muster scan`, `muster redact` and Muster's own redacted logs see).
//! Properties: neither panics; redaction keeps the line count; and every secret the
//! scanner finds is masked in the redacted output.
#![no_main]

use libfuzzer_sys::fuzz_target;
use muster_scan::{Redactor, Scanner, fingerprint, secret_hash};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::sync::{Arc, LazyLock};

static SCANNER: LazyLock<Arc<Scanner>> = LazyLock::new(|| Arc::new(Scanner::with_default_rules()));

fuzz_target!(|data: &[u8]| {
    let scanner = Arc::clone(&SCANNER);
    let findings = scanner.scan_bytes(data, "");
    let mut out = Vec::new();
    Redactor::new(Arc::clone(&scanner)).redact_into(data, &mut out);

    let lines_in = memchr_count(data);
    let lines_out = memchr_count(&out);
    assert_eq!(lines_in, lines_out, "redaction changed the line count");

    // Each found occurrence must be gone. The same text elsewhere, without the context
    // that made it a finding (`token=` before it, a word boundary…), is not a finding and
    // is left alone, so compare counts: redaction must remove at least one occurrence per
    // found position. Markers become one 0xFF byte each, so removing a secret cannot
    // join its neighbours into a new occurrence.
    let masked = replace_markers(&out);
    let mut found: BTreeMap<&[u8], BTreeSet<usize>> = BTreeMap::new();
    for f in &findings {
        if f.line == 0 {
            continue; // path-only finding
        }
        if let Some(r) = recover_secret(&scanner, data, f) {
            found.entry(&data[r.clone()]).or_default().insert(r.start);
        }
    }
    for (secret, positions) in found {
        if secret.contains(&0xFF) {
            continue;
        }
        let before = count(data, secret);
        let after = count(&masked, secret);
        assert!(
            after + positions.len() <= before,
            "a found secret ({} bytes, at {positions:?}) is left in the redacted output",
            secret.len()
        );
    }
});

/// The secret of a finding: a capture group of its rule's regex, matched where the
/// finding starts, whose hash gives the finding's fingerprint. A finding holds no secret,
/// so this is how the test learns which bytes must be gone.
fn recover_secret(
    scanner: &Scanner,
    data: &[u8],
    f: &muster_scan::Finding,
) -> Option<Range<usize>> {
    let rule = scanner.rules().get(&f.rule_id)?;
    let regex = rule.regex.as_ref()?;
    let line_start = data
        .split_inclusive(|&b| b == b'\n')
        .take(usize::try_from(f.line).ok()? - 1)
        .map(<[u8]>::len)
        .sum::<usize>();
    let start = line_start + usize::try_from(f.column).ok()? - 1;
    // Where the engine's window started is unknown: try matches starting a little earlier.
    for from in [start, line_start] {
        let mut pos = from;
        for _ in 0..64 {
            let Some(caps) = regex.captures_at(data, pos) else {
                break;
            };
            for m in caps.iter().flatten() {
                let s = m.as_bytes();
                if !s.is_empty()
                    && fingerprint(&f.rule_id, "", f.line, &secret_hash(s)) == f.fingerprint
                {
                    return Some(m.range());
                }
            }
            let whole = caps.get(0)?;
            pos = whole.end().max(whole.start() + 1);
            if pos > data.len() {
                break;
            }
        }
    }
    None
}

fn memchr_count(b: &[u8]) -> usize {
    b.iter().filter(|&&c| c == b'\n').count()
}

/// Occurrences of `needle` in `hay`, overlapping ones included.
fn count(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

/// The redacted output with each `[REDACTED:rule-id]` marker replaced by one 0xFF byte.
fn replace_markers(out: &[u8]) -> Vec<u8> {
    const OPEN: &[u8] = b"[REDACTED:";
    let mut v = Vec::with_capacity(out.len());
    let mut i = 0;
    while i < out.len() {
        if out[i..].starts_with(OPEN)
            && let Some(close) = out[i..].iter().position(|&b| b == b']')
        {
            v.push(0xFF);
            i += close + 1;
            continue;
        }
        v.push(out[i]);
        i += 1;
    }
    v
}
