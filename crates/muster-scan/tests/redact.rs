//! The streaming redactor and the `Write` wrapper.

use muster_scan::{RedactingWriter, Redactor};
use std::io::Write;

const GH: &str = "ghp_Q2x9Lm4Pz7Rt1Vb8Nc3Kd6Hs0Jf5Gw2Ye7Ua";
const PEM_BODY: &str = "MIIEowIBAAKCAQEA1x2Yz3Wv4Ut5Sr6Qp7On8Ml9Kj0Ih1Gf2Ed3Cb4Aa5Zz6Yy7Xx8\nWw9Vv0Uu1Tt2Ss3Rr4Qq5Pp6Oo7Nn8Mm9Ll0Kk1Jj2Ii3Hh4Gg5Ff6Ee7Dd8Cc9Bb0Aa1\n";

#[test]
fn secrets_are_replaced_and_the_rest_kept() {
    let mut r = Redactor::with_default_rules();
    let out = r.redact_str(&format!("user=bob token={GH} status=ok\nclean line\n"));
    assert_eq!(
        out,
        "user=bob token=[REDACTED:github-token] status=ok\nclean line\n"
    );
    let db = r.redact_str("DATABASE_URL=postgres://app:Xk29fLq8Vz@db:5432/prod\n");
    assert_eq!(
        db,
        "DATABASE_URL=postgres://app:[REDACTED:database-url-password]@db:5432/prod\n"
    );
}

#[test]
fn pem_block_split_across_calls_is_masked_line_by_line() {
    let mut r = Redactor::with_default_rules();
    let mut out = Vec::new();
    r.redact_into(b"before\n-----BEGIN RSA PRIVATE KEY-----\n", &mut out);
    r.redact_into(PEM_BODY.as_bytes(), &mut out);
    r.redact_into(b"-----END RSA PRIVATE KEY-----\nafter\n", &mut out);
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.lines().count(), 6);
    assert!(
        !text.contains("MIIE") && !text.contains("BEGIN RSA"),
        "{text}"
    );
    assert!(text.starts_with("before\n[REDACTED:private-key]\n"));
    assert!(text.ends_with("[REDACTED:private-key]\nafter\n"));
    // Whole block in one call: same number of lines.
    let whole = r.redact_str(&format!(
        "before\n-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}-----END RSA PRIVATE KEY-----\nafter\n"
    ));
    assert_eq!(whole, text);
}

#[test]
fn redact_stream_handles_partial_and_long_lines() {
    let mut input = Vec::new();
    for i in 0..2000 {
        writeln!(input, "line {i} token {GH}").unwrap();
    }
    // A 3 MB line with secrets inside, and no newline at the end.
    let filler = "x ".repeat(50_000);
    for _ in 0..30 {
        input.extend_from_slice(filler.as_bytes());
        input.extend_from_slice(GH.as_bytes());
        input.push(b' ');
    }
    let mut out = Vec::new();
    let mut r = Redactor::with_default_rules();
    let n = r.redact_stream(&input[..], &mut out).unwrap();
    assert_eq!(n, input.len() as u64);
    let text = String::from_utf8(out).unwrap();
    assert!(!text.contains(&GH[6..]));
    assert_eq!(text.matches("[REDACTED:github-token]").count(), 2030);
    assert!(!text.ends_with('\n'));
}

/// A reader that returns one line per read, like a pipe fed by `tail -F`.
struct Trickle(Vec<Vec<u8>>);
impl std::io::Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.0.is_empty() {
            return Ok(0);
        }
        let next = self.0.remove(0);
        buf[..next.len()].copy_from_slice(&next);
        Ok(next.len())
    }
}

/// A writer that records what had been flushed after each write.
#[derive(Default)]
struct Recorder {
    data: Vec<u8>,
    flushed_at: Vec<usize>,
}
impl Write for Recorder {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.data.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.flushed_at.push(self.data.len());
        Ok(())
    }
}

#[test]
fn each_line_is_flushed_as_it_arrives() {
    let lines: Vec<Vec<u8>> = (0..5)
        .map(|i| format!("event {i} {GH}\n").into_bytes())
        .collect();
    let mut rec = Recorder::default();
    Redactor::with_default_rules()
        .redact_stream(Trickle(lines), &mut rec)
        .unwrap();
    let one = "event 0 [REDACTED:github-token]\n".len();
    assert_eq!(
        &rec.flushed_at[..5],
        &[one, 2 * one, 3 * one, 4 * one, 5 * one]
    );
}

#[test]
fn redacting_writer_buffers_until_newline_and_flushes() {
    let mut w = RedactingWriter::new(Vec::new());
    write!(w, "token {}", &GH[..10]).unwrap();
    assert!(w.get_ref().is_empty(), "nothing written before the newline");
    writeln!(w, "{} end", &GH[10..]).unwrap();
    assert_eq!(
        w.get_ref().as_slice(),
        b"token [REDACTED:github-token] end\n"
    );
    write!(w, "tail {GH}").unwrap();
    w.flush().unwrap();
    assert_eq!(
        w.get_ref().as_slice(),
        b"token [REDACTED:github-token] end\ntail [REDACTED:github-token]"
    );
}

#[test]
fn redacting_writer_flushes_on_drop() {
    let shared = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    {
        let mut w = RedactingWriter::new(Shared(shared.clone()));
        write!(w, "no newline {GH}").unwrap();
    }
    assert_eq!(
        shared.lock().unwrap().as_slice(),
        b"no newline [REDACTED:github-token]"
    );
}
