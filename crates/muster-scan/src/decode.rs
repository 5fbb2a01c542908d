//! Decoding: what logs wrap secrets in.
//!
//! - [`unescape`]: escape sequences (`\x22`, `\"`, `\u0022`, `%22`, `&quot;`, `&#34;`…)
//!   decoded into a copy with a map back to the original offsets. A rule's regex runs on
//!   that copy too, so `\x22ghr_…` has a word boundary before `ghr_` and `token%3D…` is
//!   an assignment. Escapes are decoded in two rounds (`%5Cx22` → `\x22` → `"`).
//! - [`decode_base64`] / [`decode_hex`]: encoded segments, decoded and scanned again (see
//!   the engine), as gitleaks' decoding does, with a depth limit.

/// Does `window` hold an escape that hides a boundary or an assignment from the rules
/// (`\x22`, `\u0022`, `\n`, `%3D`, `&quot;`)? `\"` alone does not count: the rules
/// read it as it is, and JSON logs are full of it.
#[inline]
pub(crate) fn has_escapes(window: &[u8]) -> bool {
    memchr::memchr3_iter(b'\\', b'%', b'&', window).any(|i| {
        let next = window.get(i + 1).copied().unwrap_or(0);
        match window[i] {
            b'\\' => matches!(next, b'x' | b'u' | b'n' | b'r' | b't'),
            b'%' => next.is_ascii_hexdigit(),
            _ => next.is_ascii_lowercase() || next == b'#',
        }
    })
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn hex2(s: &[u8]) -> Option<u8> {
    Some(hex_val(*s.first()?)? << 4 | hex_val(*s.get(1)?)?)
}

/// One decoded escape at the start of `s`: (decoded byte, bytes consumed).
fn escape_at(s: &[u8]) -> Option<(u8, usize)> {
    match s[0] {
        b'\\' => match *s.get(1)? {
            b'x' => Some((hex2(&s[2..])?, 4)),
            b'u' => {
                let hi = hex2(&s[2..])?;
                let lo = hex2(&s[4..])?;
                (hi == 0 && lo < 0x80).then_some((lo, 6))
            }
            b'n' | b'r' | b't' => Some((b' ', 2)),
            c @ (b'"' | b'\'' | b'\\' | b'/' | b'`' | b'$') => Some((c, 2)),
            _ => None,
        },
        b'%' => {
            let v = hex2(&s[1..])?;
            Some((v, 3))
        }
        b'&' => {
            let end = memchr::memchr(b';', &s[..s.len().min(10)])?;
            let name = &s[1..end];
            let v = match name {
                b"quot" => b'"',
                b"apos" => b'\'',
                b"amp" => b'&',
                b"lt" => b'<',
                b"gt" => b'>',
                b"equals" => b'=',
                b"colon" => b':',
                _ if name.first() == Some(&b'#') => {
                    let n = if name.get(1).is_some_and(|c| *c == b'x' || *c == b'X') {
                        u32::from_str_radix(std::str::from_utf8(&name[2..]).ok()?, 16).ok()?
                    } else {
                        std::str::from_utf8(&name[1..]).ok()?.parse().ok()?
                    };
                    u8::try_from(n).ok().filter(|b| b.is_ascii())?
                }
                _ => return None,
            };
            Some((v, end + 1))
        }
        _ => None,
    }
}

/// Where decoded text comes from: breakpoints `(decoded offset, source offset)`, sorted;
/// between two breakpoints decoded and source bytes correspond one to one.
#[derive(Debug, Default)]
pub(crate) struct OffsetMap {
    points: Vec<(u32, u32)>,
}

impl OffsetMap {
    /// The source offset of decoded offset `i` (a decoded escape maps to its start).
    pub(crate) fn orig(&self, i: usize) -> usize {
        let i = i as u32;
        let k = self.points.partition_point(|p| p.0 <= i);
        match k.checked_sub(1).map(|k| self.points[k]) {
            Some((d, o)) => (o + (i - d)) as usize,
            None => i as usize,
        }
    }
}

/// Decode escape sequences in `src`. Returns the decoded bytes and the map back to `src`
/// offsets; `None` when nothing changed.
pub(crate) fn unescape(src: &[u8]) -> Option<(Vec<u8>, OffsetMap)> {
    let (mut out, mut map) = unescape_once(src)?;
    // A second round for doubly escaped text (`%5Cx22`, `&amp;quot;`).
    if memchr::memchr3(b'\\', b'%', b'&', &out).is_some()
        && let Some((o2, m2)) = unescape_once(&out)
    {
        // Compose: decoded-2 → decoded-1 → source.
        let points = m2
            .points
            .iter()
            .map(|&(d, o)| (d, map.orig(o as usize) as u32))
            .collect::<Vec<_>>();
        // Between round-2 breakpoints the round-1 map may have breakpoints of its own.
        let mut all: Vec<(u32, u32)> = points;
        for &(d1, o1) in &map.points {
            // Decoded-1 offset d1 appears in decoded-2 at m2⁻¹(d1) when it is not inside
            // a round-2 escape; find it by walking m2.
            let k = m2.points.partition_point(|p| p.1 <= d1);
            let (d2, o2) = k.checked_sub(1).map_or((0, 0), |k| m2.points[k]);
            // Points come in pairs (escape start, after it): an even index is the start
            // of a round-2 escape, and offsets after its first byte are inside it.
            let inside = k.checked_sub(1).is_some_and(|k| k % 2 == 0) && d1 > o2;
            if !inside {
                all.push((d2 + (d1 - o2), o1));
            }
        }
        all.sort_unstable();
        all.dedup_by_key(|p| p.0);
        map = OffsetMap { points: all };
        out = o2;
    }
    Some((out, map))
}

fn unescape_once(src: &[u8]) -> Option<(Vec<u8>, OffsetMap)> {
    let mut out = Vec::with_capacity(src.len());
    let mut points = Vec::new();
    let mut i = 0;
    while let Some(p) = memchr::memchr3(b'\\', b'%', b'&', &src[i..]) {
        let at = i + p;
        out.extend_from_slice(&src[i..at]);
        match escape_at(&src[at..]) {
            Some((v, n)) => {
                points.push((out.len() as u32, at as u32));
                out.push(v);
                points.push((out.len() as u32, (at + n) as u32));
                i = at + n;
            }
            None => {
                out.push(src[at]);
                i = at + 1;
            }
        }
    }
    if points.is_empty() {
        return None;
    }
    out.extend_from_slice(&src[i..]);
    Some((out, OffsetMap { points }))
}

/// Decode standard or URL-safe base64 (padding optional). `None` when `s` is not base64
/// of printable text: decoding only pays when the result can hold a secret.
pub(crate) fn decode_base64(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for &c in s {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = acc << 6 | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    printable(&out).then_some(out)
}

/// Decode a hex string of even length into printable text.
pub(crate) fn decode_hex(s: &[u8]) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let out: Option<Vec<u8>> = s.chunks(2).map(hex2).collect();
    out.filter(|o| printable(o))
}

fn printable(b: &[u8]) -> bool {
    !b.is_empty()
        && b.iter()
            .all(|&c| c == b'\n' || c == b'\r' || c == b'\t' || (0x20..0x7f).contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> String {
        String::from_utf8(unescape(s.as_bytes()).map(|d| d.0).unwrap_or(s.into())).unwrap()
    }

    #[test]
    fn escapes_decode() {
        assert_eq!(dec(r"\x22ghr_x\x22"), "\"ghr_x\"");
        assert_eq!(dec(r#"{\"a\":\"b\"}"#), r#"{"a":"b"}"#);
        assert_eq!(dec(r"\u0022k\u0022"), "\"k\"");
        assert_eq!(dec("a%3Db%22"), "a=b\"");
        assert_eq!(dec("&quot;x&quot; &#34;y&#x27;"), "\"x\" \"y'");
        assert_eq!(dec("%5Cx22k"), "\"k");
        assert_eq!(dec("100% sure & done"), "100% sure & done");
    }

    #[test]
    fn map_points_back() {
        let (out, map) = unescape(br"a\x22b").unwrap();
        assert_eq!(out, b"a\"b");
        let m: Vec<usize> = (0..=out.len()).map(|i| map.orig(i)).collect();
        assert_eq!(m, vec![0, 1, 5, 6]);
        let (out, map) = unescape(b"x%5Cx22k%41").unwrap();
        assert_eq!(out, b"x\"kA");
        let m: Vec<usize> = (0..=out.len()).map(|i| map.orig(i)).collect();
        assert_eq!(m, vec![0, 1, 7, 8, 11]);
    }

    #[test]
    fn base64_and_hex() {
        assert_eq!(decode_base64(b"dXNlcjpwYXNz").unwrap(), b"user:pass");
        assert_eq!(decode_base64(b"dXNlcjpwYXNz=").unwrap(), b"user:pass");
        assert!(decode_base64(b"////").is_none());
        assert_eq!(decode_hex(b"6869").unwrap(), b"hi");
        assert!(decode_hex(b"ff00").is_none());
    }
}
