//! Decoding: what logs wrap secrets in.
//!
//! - [`unescape`]: escape sequences (`\x22`, `\"`, `\u0022`, `%22`, `&quot;`, `&#34;`…)
//!   decoded into a copy with a map back to the original offsets. A rule's regex runs on
//!   that copy too, so `\x22ghr_…` has a word boundary before `ghr_` and `token%3D…` is
//!   an assignment. Escapes are decoded in two rounds (`%5Cx22` → `\x22` → `"`).
//! - [`decode_base64`] / [`decode_hex`]: encoded segments, decoded and scanned again (see
//!   the engine), as gitleaks' decoding does, with a depth limit.

/// Does `window` hold anything [`unescape`] would change?
#[inline]
pub(crate) fn has_escapes(window: &[u8]) -> bool {
    memchr::memchr3(b'\\', b'%', b'&', window).is_some()
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

/// Decode escape sequences in `src`. Returns the decoded bytes and, for each decoded byte
/// (plus one past the end), the offset in `src` it comes from; `None` when nothing changed.
pub(crate) fn unescape(src: &[u8]) -> Option<(Vec<u8>, Vec<u32>)> {
    let (mut out, mut map) = unescape_once(src, None)?;
    // A second round for doubly escaped text (`%5Cx22`, `&amp;quot;`).
    if has_escapes(&out)
        && let Some((o2, m2)) = unescape_once(&out, Some(&map))
    {
        out = o2;
        map = m2;
    }
    Some((out, map))
}

fn unescape_once(src: &[u8], outer: Option<&[u32]>) -> Option<(Vec<u8>, Vec<u32>)> {
    let at = |i: usize| outer.map_or(i as u32, |m| m[i]);
    let mut out = Vec::with_capacity(src.len());
    let mut map = Vec::with_capacity(src.len() + 1);
    let mut changed = false;
    let mut i = 0;
    while i < src.len() {
        let b = src[i];
        if matches!(b, b'\\' | b'%' | b'&')
            && let Some((v, n)) = escape_at(&src[i..])
        {
            out.push(v);
            map.push(at(i));
            i += n;
            changed = true;
            continue;
        }
        out.push(b);
        map.push(at(i));
        i += 1;
    }
    map.push(at(src.len()));
    changed.then_some((out, map))
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
        assert_eq!(map, vec![0, 1, 5, 6]);
        let (out, map) = unescape(b"%5Cx22k").unwrap();
        assert_eq!(out, b"\"k");
        assert_eq!(map, vec![0, 7 - 1, 7]);
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
