//! Streaming redaction: [`Redactor`] for pipes and [`RedactingWriter`] for Rust writers.

use crate::engine::{LINE_REACH, Scanner};
use crate::rules::Window;
use memchr::memmem;
use memchr::memrchr;
use std::io::{Read, Write};
use std::ops::Range;
use std::sync::Arc;

/// A partial line longer than this is redacted and written in pieces, so memory stays
/// bounded whatever the line length.
pub const MAX_PENDING: usize = 1 << 20;
/// A PEM block still open after this many lines is assumed broken and no longer masked.
const MAX_PEM_LINES: usize = 500;

/// Replaces every secret in the text given to it by `[REDACTED:rule-id]`.
///
/// It works on complete lines and keeps only a small state between calls (whether a
/// private-key block is open), so memory use does not grow with the input. A secret that
/// spans lines (a PEM private key) is masked line by line even when its lines arrive in
/// separate calls.
#[derive(Debug, Clone)]
pub struct Redactor {
    scanner: Arc<Scanner>,
    active: Vec<bool>,
    /// Rule id of the open PEM block, if any, and how many lines it has had.
    open_block: Option<(usize, usize)>,
    /// Rule used for PEM blocks (the first `block`-window rule).
    block_rule: Option<usize>,
}

impl Redactor {
    /// A redactor using the scanner's rules.
    pub fn new(scanner: Arc<Scanner>) -> Redactor {
        let active = scanner
            .active_rules("")
            .unwrap_or_else(|| vec![true; scanner.rules.rules.len()]);
        let block_rule = scanner
            .rules
            .rules
            .iter()
            .position(|r| r.window == Window::Block);
        Redactor {
            scanner,
            active,
            open_block: None,
            block_rule,
        }
    }

    /// A redactor with the default rules.
    pub fn with_default_rules() -> Redactor {
        Redactor::new(Arc::new(Scanner::with_default_rules()))
    }

    fn marker(&self, rule: usize, out: &mut Vec<u8>) {
        out.extend_from_slice(b"[REDACTED:");
        out.extend_from_slice(self.scanner.rules.rules[rule].id.as_bytes());
        out.push(b']');
    }

    /// Redact `input` (normally whole lines) and append the result to `out`.
    pub fn redact_into(&mut self, input: &[u8], out: &mut Vec<u8>) {
        let mut pos = 0;
        // Inside an open PEM block: mask whole lines until its END line.
        while let Some((rule, lines)) = self.open_block {
            if pos >= input.len() {
                return;
            }
            let line_end = memchr::memchr(b'\n', &input[pos..]).map_or(input.len(), |p| pos + p);
            let line = &input[pos..line_end];
            self.marker(rule, out);
            if line_end < input.len() {
                out.push(b'\n');
            }
            if memmem::find(line, b"-----END").is_some() || lines + 1 >= MAX_PEM_LINES {
                self.open_block = None;
            } else if line_end < input.len() {
                self.open_block = Some((rule, lines + 1));
            }
            pos = (line_end + 1).min(input.len());
        }
        let rest = &input[pos..];
        let mut spans = self.scanner.secret_spans(rest, &self.active);
        if let Some(br) = self.block_rule.filter(|&r| self.active[r]) {
            self.pem_fallback(rest, br, &mut spans);
        }
        self.emit(rest, &spans, out);
    }

    /// A PEM BEGIN line whose block the regex could not match (cut by the end of the
    /// input, or malformed): mask from BEGIN to its END line, or to the end of the input
    /// and remember that a block is open.
    fn pem_fallback(&mut self, rest: &[u8], rule: usize, spans: &mut Vec<(Range<usize>, usize)>) {
        let mut added = false;
        for begin in memmem::find_iter(rest, b"-----BEGIN") {
            if spans.iter().any(|(s, _)| s.start <= begin && begin < s.end) {
                continue;
            }
            let line_end = memchr::memchr(b'\n', &rest[begin..]).map_or(rest.len(), |p| begin + p);
            if memmem::find(&rest[begin..line_end], b"PRIVATE KEY").is_none() {
                continue;
            }
            match memmem::find(&rest[line_end..], b"-----END") {
                Some(e) => {
                    let end_line = memchr::memchr(b'\n', &rest[line_end + e..])
                        .map_or(rest.len(), |p| line_end + e + p);
                    spans.push((begin..end_line, rule));
                }
                None => {
                    let end = if rest.last() == Some(&b'\n') {
                        rest.len() - 1
                    } else {
                        rest.len()
                    };
                    spans.push((begin..end, rule));
                    if rest.last() == Some(&b'\n') {
                        self.open_block = Some((rule, 1));
                    } else {
                        self.open_block = Some((rule, 0));
                    }
                }
            }
            added = true;
        }
        if added {
            spans.sort_by_key(|s| (s.0.start, s.0.end));
        }
    }

    fn emit(&self, data: &[u8], spans: &[(Range<usize>, usize)], out: &mut Vec<u8>) {
        out.reserve(data.len() + spans.len() * 24);
        let mut cursor = 0;
        for (span, rule) in spans {
            if span.end <= cursor || span.is_empty() {
                continue;
            }
            let start = span.start.max(cursor);
            out.extend_from_slice(&data[cursor..start]);
            // One marker per line, so line counts stay the same.
            self.marker(*rule, out);
            for _ in memchr::memchr_iter(b'\n', &data[start..span.end]) {
                out.push(b'\n');
                self.marker(*rule, out);
            }
            cursor = span.end;
        }
        out.extend_from_slice(&data[cursor..]);
    }

    /// Redact one string (convenience for tests and small inputs).
    pub fn redact_str(&mut self, input: &str) -> String {
        let mut out = Vec::with_capacity(input.len());
        self.redact_into(input.as_bytes(), &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Where to cut an over-long partial line so that no secret is split: about
    /// `LINE_REACH` bytes before its end, moved to the start (or end) of a secret there.
    fn safe_cut(&self, pending: &[u8]) -> usize {
        let spans = self.scanner.secret_spans(pending, &self.active);
        let mut cut = pending.len().saturating_sub(LINE_REACH);
        for (s, _) in &spans {
            if s.start < cut && cut < s.end {
                cut = if s.start > 0 { s.start } else { s.end };
            }
        }
        cut.max(1)
    }

    /// Copy `reader` to `writer`, redacted. Each read's complete lines are written and
    /// flushed at once, so a live stream (`tail -F`, `kubectl logs -f`) shows up line by
    /// line; a large file goes through in big blocks. Returns the bytes read.
    pub fn redact_stream<R: Read, W: Write>(
        &mut self,
        mut reader: R,
        mut writer: W,
    ) -> std::io::Result<u64> {
        let mut buf = vec![0u8; 1 << 20];
        let mut pending: Vec<u8> = Vec::new();
        let mut out: Vec<u8> = Vec::new();
        let mut total = 0u64;
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            total += n as u64;
            let chunk = &buf[..n];
            // Fast path: nothing pending, redact the complete lines straight from `buf`.
            let (complete, tail): (&[u8], &[u8]) = if pending.is_empty() {
                match memrchr(b'\n', chunk) {
                    Some(p) => (&chunk[..=p], &chunk[p + 1..]),
                    None => (&[], chunk),
                }
            } else {
                pending.extend_from_slice(chunk);
                (&[], &[])
            };
            if !complete.is_empty() {
                self.redact_into(complete, &mut out);
                pending.extend_from_slice(tail);
            } else if let Some(p) = memrchr(b'\n', &pending) {
                let rest = pending.split_off(p + 1);
                self.redact_into(&pending, &mut out);
                pending = rest;
            } else if pending.is_empty() {
                pending.extend_from_slice(tail);
            }
            while pending.len() > MAX_PENDING {
                let cut = self.safe_cut(&pending);
                self.redact_into(&pending[..cut], &mut out);
                pending.drain(..cut);
            }
            if !out.is_empty() {
                writer.write_all(&out)?;
                writer.flush()?;
                out.clear();
            }
        }
        if !pending.is_empty() {
            self.redact_into(&pending, &mut out);
            writer.write_all(&out)?;
        }
        writer.flush()?;
        Ok(total)
    }
}

/// A [`Write`] wrapper that masks secrets in everything written through it.
///
/// Text is held until a newline arrives, then the complete lines are redacted and
/// written to the inner writer. `flush` (and dropping the writer) redacts and writes a
/// trailing partial line too. A very long line is written in pieces (see
/// [`MAX_PENDING`]), so memory stays bounded.
///
/// ```
/// use std::io::Write;
/// let mut w = muster_scan::RedactingWriter::new(Vec::new());
/// writeln!(w, "token ghp_0123456789abcdefghijklmnopqrstuvwxyZ leaked").unwrap();
/// let out = String::from_utf8(w.into_inner().unwrap()).unwrap();
/// assert_eq!(out, "token [REDACTED:github-token] leaked\n");
/// ```
pub struct RedactingWriter<W: Write> {
    inner: Option<W>,
    redactor: Redactor,
    pending: Vec<u8>,
    out: Vec<u8>,
}

impl<W: Write> RedactingWriter<W> {
    /// Wrap `inner`, masking with the default rules.
    pub fn new(inner: W) -> RedactingWriter<W> {
        RedactingWriter::with_redactor(inner, Redactor::with_default_rules())
    }

    /// Wrap `inner` with a given redactor (for custom rules).
    pub fn with_redactor(inner: W, redactor: Redactor) -> RedactingWriter<W> {
        RedactingWriter {
            inner: Some(inner),
            redactor,
            pending: Vec::new(),
            out: Vec::new(),
        }
    }

    /// Flush and return the inner writer.
    pub fn into_inner(mut self) -> std::io::Result<W> {
        self.flush()?;
        Ok(self
            .inner
            .take()
            .expect("inner writer present until into_inner"))
    }

    /// The inner writer.
    pub fn get_ref(&self) -> &W {
        self.inner
            .as_ref()
            .expect("inner writer present until into_inner")
    }

    fn write_out(&mut self) -> std::io::Result<()> {
        if !self.out.is_empty() {
            if let Some(w) = self.inner.as_mut() {
                w.write_all(&self.out)?;
            }
            self.out.clear();
        }
        Ok(())
    }
}

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if let Some(p) = memchr::memrchr(b'\n', buf) {
            let keep = buf.len() - p - 1;
            let split = self.pending.len() - keep;
            let rest = self.pending.split_off(split);
            self.redactor.redact_into(&self.pending, &mut self.out);
            self.pending = rest;
        }
        while self.pending.len() > MAX_PENDING {
            let cut = self.redactor.safe_cut(&self.pending);
            self.redactor
                .redact_into(&self.pending[..cut], &mut self.out);
            self.pending.drain(..cut);
        }
        self.write_out()?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.pending.is_empty() {
            let pending = std::mem::take(&mut self.pending);
            self.redactor.redact_into(&pending, &mut self.out);
        }
        self.write_out()?;
        match self.inner.as_mut() {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }
}

impl<W: Write> Drop for RedactingWriter<W> {
    fn drop(&mut self) {
        if self.inner.is_some() {
            let _ = self.flush();
        }
    }
}
