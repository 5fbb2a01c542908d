//! The hard corpus: secrets in the contexts real logs hide them in, hard negatives, a
//! ground-truth file and a recall/precision evaluator with a per-kind table.
//!
//! ```text
//! cargo bench -p muster-scan --bench hard -- gen  --dir /tmp/muster-hard [--lines 200000] [--seed N]
//! cargo bench -p muster-scan --bench hard -- eval --dir /tmp/muster-hard [--rules file.toml]
//! cargo bench -p muster-scan --bench hard -- all  --dir /tmp/muster-hard     (gen + eval)
//! cargo bench -p muster-scan --bench hard -- speed --dir /tmp/muster-hard [--mb 256] [--rules f] [--file F]
//! ```
//!
//! Without `--seed` every run draws a new seed (printed), so the corpus is never the same
//! twice. `corpus.log` holds the logs, `truth.tsv` one line per planted secret
//! (`line<TAB>kind<TAB>accepted rule ids<TAB>context`). A planted secret counts as found
//! when a finding on its line names one of the accepted rules; every finding on a line
//! with no planted secret is a false positive. `speed` writes a keyword-dense corpus
//! (JSON logs where most fields are named `token`, `key`, `password`…) and times the
//! library on one thread (best of 3) on it and on `corpus.log` repeated to `--mb`.
//! Every secret in the corpus is random and fake.

use muster_scan::{RuleSet, Scanner};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

mod common;
use common::*;

const PASSWORDISH: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#%*-_.~^";

fn base64(data: &[u8]) -> String {
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

// ------------------------------------------------------------------ kinds

/// A kind of secret: its name in the table, the rule ids that may report it, the
/// variable name a program would give it, and a generator. `named` kinds are only
/// secrets next to their name (a 40-character base64 string alone is not an AWS key).
struct Kind {
    kind: &'static str,
    rules: &'static [&'static str],
    names: &'static [&'static str],
    named: bool,
    make: fn(&mut Rng) -> String,
}

const GENERIC: &[&str] = &["generic-secret-assignment", "generic-token-assignment"];

fn kinds() -> Vec<Kind> {
    vec![
        Kind {
            kind: "aws-access-key-id",
            rules: &["aws-access-key-id"],
            names: &["AWS_ACCESS_KEY_ID", "aws_access_key_id", "accessKeyId"],
            named: false,
            make: |r| format!("{}{}", r.pick(&["AKIA", "ASIA"]), r.chars(16, UPPER_B32)),
        },
        Kind {
            kind: "aws-secret-access-key",
            rules: &["aws-secret-access-key", "generic-secret-assignment"],
            names: &[
                "AWS_SECRET_ACCESS_KEY",
                "aws_secret_access_key",
                "awsSecretKey",
            ],
            named: true,
            make: |r| r.chars(40, B64),
        },
        Kind {
            kind: "gcp-api-key",
            rules: &["gcp-api-key"],
            names: &["GOOGLE_API_KEY", "mapsKey"],
            named: false,
            make: |r| format!("AIza{}", r.chars(35, B64URL)),
        },
        Kind {
            kind: "github-token",
            rules: &["github-token"],
            names: &["GITHUB_TOKEN", "GH_TOKEN", "token"],
            named: false,
            make: |r| {
                format!(
                    "{}_{}",
                    r.pick(&["ghp", "gho", "ghu", "ghs", "ghr"]),
                    r.chars(36, ALNUM)
                )
            },
        },
        Kind {
            kind: "github-fine-grained-pat",
            rules: &["github-fine-grained-pat"],
            names: &["GITHUB_PAT", "github_token"],
            named: false,
            make: |r| format!("github_pat_{}_{}", r.chars(22, ALNUM), r.chars(59, ALNUM)),
        },
        Kind {
            kind: "gitlab-token",
            rules: &["gitlab-token"],
            names: &["GITLAB_TOKEN", "CI_JOB_TOKEN", "private_token"],
            named: false,
            make: |r| {
                format!(
                    "{}-{}",
                    r.pick(&["glpat", "glrt", "gldt", "glptt"]),
                    r.chars(20, B64URL)
                )
            },
        },
        Kind {
            kind: "slack-token",
            rules: &["slack-token"],
            names: &["SLACK_BOT_TOKEN", "slack_token", "SLACK_REFRESH_TOKEN"],
            named: false,
            make: |r| match r.below(6) {
                0 => format!(
                    "xoxb-{}-{}-{}",
                    r.chars(12, DIGITS),
                    r.chars(13, DIGITS),
                    r.chars(24, ALNUM)
                ),
                1 => format!(
                    "xoxp-{}-{}-{}-{}",
                    r.chars(12, DIGITS),
                    r.chars(12, DIGITS),
                    r.chars(13, DIGITS),
                    r.chars(32, HEX)
                ),
                2 => format!(
                    "xoxa-2-{}-{}-{}-{}",
                    r.chars(12, DIGITS),
                    r.chars(12, DIGITS),
                    r.chars(13, DIGITS),
                    r.chars(64, HEX)
                ),
                3 => format!("xoxr-{}-{}", r.chars(12, DIGITS), r.chars(60, B64URL)),
                4 => format!("xoxe.xoxp-1-{}", r.chars(140, ALNUM)),
                _ => format!("xoxe-1-{}", r.chars(140, ALNUM)),
            },
        },
        Kind {
            kind: "slack-webhook-url",
            rules: &["slack-webhook-url"],
            names: &["SLACK_WEBHOOK_URL", "webhook"],
            named: false,
            make: |r| {
                format!(
                    "https://hooks.slack.com/services/T{}/B{}/{}",
                    r.chars(8, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
                    r.chars(10, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
                    r.chars(24, ALNUM)
                )
            },
        },
        Kind {
            kind: "jwt",
            rules: &["jwt"],
            names: &["id_token", "access_token", "jwt"],
            named: false,
            make: |r| {
                format!(
                    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJ{}.{}",
                    r.chars(80, B64URL),
                    r.chars(43, B64URL)
                )
            },
        },
        Kind {
            kind: "connection-string",
            rules: &["database-url-password", "url-password"],
            names: &["DATABASE_URL", "dsn", "REDIS_URL", "BROKER_URL"],
            named: false,
            make: |r| {
                let n = 16 + r.below(10) as usize;
                let pw = r.chars(n, ALNUM);
                match r.below(8) {
                    0 => format!("postgres://app:{pw}@db-1.internal:5432/prod"),
                    1 => format!("postgresql://svc_user:{pw}@10.0.3.4/orders?sslmode=require"),
                    2 => format!("mysql://root:{pw}@mysql.prod:3306/app"),
                    3 => format!("mongodb+srv://admin:{pw}@cluster0.ab1cd.mongodb.net/db"),
                    4 => format!("redis://:{pw}@cache.internal:6379/0"),
                    5 => format!("amqp://guest2:{pw}@rabbit.internal:5672/vhost"),
                    6 => format!("https://deploy:{pw}@git.example.com/org/repo.git"),
                    _ => format!("rediss://default:{pw}@redis-123.cloud.example:6380"),
                }
            },
        },
        Kind {
            kind: "azure-storage-account-key",
            rules: &["azure-storage-account-key"],
            names: &["AZURE_STORAGE_CONNECTION_STRING", "connStr"],
            named: false,
            make: |r| {
                format!(
                    "DefaultEndpointsProtocol=https;AccountName=logs{};AccountKey={}==;EndpointSuffix=core.windows.net",
                    r.below(100),
                    r.chars(86, B64)
                )
            },
        },
        Kind {
            kind: "twilio",
            rules: &["twilio-auth-token", "twilio-api-key"],
            names: &["TWILIO_AUTH_TOKEN", "twilioAuthToken"],
            named: false,
            make: |r| match r.below(3) {
                0 => format!(
                    "https://AC{}:{}@api.twilio.com/2010-04-01/Accounts",
                    r.chars(32, HEX),
                    r.chars(32, HEX)
                ),
                1 => format!(
                    "account_sid=AC{} auth_token={}",
                    r.chars(32, HEX),
                    r.chars(32, HEX)
                ),
                _ => format!("twilio_api_key=SK{}", r.chars(32, HEX)),
            },
        },
        Kind {
            kind: "stripe-secret-key",
            rules: &["stripe-secret-key"],
            names: &["STRIPE_SECRET_KEY", "stripeKey"],
            named: false,
            make: |r| format!("{}_{}", r.pick(&["sk_live", "rk_live"]), r.chars(32, ALNUM)),
        },
        Kind {
            kind: "openai-api-key",
            rules: &["openai-api-key"],
            names: &["OPENAI_API_KEY", "openai_key"],
            named: false,
            make: |r| match r.below(2) {
                0 => format!(
                    "sk-proj-{}T3BlbkFJ{}",
                    r.chars(74, B64URL),
                    r.chars(74, B64URL)
                ),
                _ => format!("sk-{}T3BlbkFJ{}", r.chars(20, ALNUM), r.chars(20, ALNUM)),
            },
        },
        Kind {
            kind: "anthropic-api-key",
            rules: &["anthropic-api-key"],
            names: &["ANTHROPIC_API_KEY", "anthropicKey"],
            named: false,
            make: |r| {
                format!(
                    "sk-ant-{}-{}AA",
                    r.pick(&["api03", "admin01"]),
                    r.chars(93, B64URL)
                )
            },
        },
        Kind {
            kind: "sendgrid-api-key",
            rules: &["sendgrid-api-key"],
            names: &["SENDGRID_API_KEY"],
            named: false,
            make: |r| format!("SG.{}.{}", r.chars(22, B64URL), r.chars(43, B64URL)),
        },
        Kind {
            kind: "npm-token",
            rules: &["npm-token"],
            names: &["NPM_TOKEN"],
            named: false,
            make: |r| format!("npm_{}", r.chars(36, ALNUM)),
        },
        Kind {
            kind: "notify-api-key",
            rules: &["notify-api-key"],
            names: &["NOTIFY_API_KEY", "notify_key", "GC_NOTIFY_KEY"],
            named: false,
            make: |r| {
                let name = r
                    .pick(&["ci", "prod-sender", "staging_key", "my.key", "team-a-live"])
                    .to_string();
                match r.below(2) {
                    0 => format!("gcntfy-{name}-{}-{}", r.uuid(), r.uuid()),
                    _ => format!("gcntfy-{}-{}", r.uuid(), r.uuid()),
                }
            },
        },
        Kind {
            // Without the prefix a key is a name and two UUIDs: only its name tells it
            // apart (a bare pair of UUIDs in free text is not claimed).
            kind: "notify-api-key-unprefixed",
            rules: &["notify-api-key"],
            names: &["NOTIFY_API_KEY", "notify_key", "GC_NOTIFY_KEY"],
            named: true,
            make: |r| {
                let name = r
                    .pick(&["ci", "prod-sender", "staging_key", "team-a-live"])
                    .to_string();
                format!("{name}-{}-{}", r.uuid(), r.uuid())
            },
        },
        Kind {
            kind: "private-key",
            rules: &["private-key"],
            names: &["private_key"],
            named: false,
            make: |r| {
                let body: Vec<String> = (0..8).map(|_| r.chars(64, B64)).collect();
                format!(
                    "-----BEGIN {}PRIVATE KEY-----\n{}\n-----END {}PRIVATE KEY-----",
                    "RSA ",
                    body.join("\n"),
                    "RSA "
                )
            },
        },
        Kind {
            kind: "generic-password",
            rules: GENERIC,
            names: &[
                "DB_PASSWORD",
                "password",
                "client_secret",
                "SECRET_KEY_BASE",
                "smtp_pass",
            ],
            named: true,
            make: |r| {
                let n = 14 + r.below(18) as usize;
                let mut s = r.chars(n, PASSWORDISH);
                // Make sure it looks random (has digits and both cases).
                s.push_str(&r.chars(1, DIGITS));
                s.push('Q');
                s
            },
        },
        Kind {
            kind: "generic-api-key",
            rules: GENERIC,
            names: &[
                "api_key",
                "X-Api-Key",
                "apiKey",
                "access_token",
                "auth_token",
            ],
            named: true,
            make: |r| {
                let n = 32 + r.below(12) as usize;
                r.chars(n, ALNUM)
            },
        },
    ]
}

// ------------------------------------------------------------------ contexts

/// A context puts `name` = `secret` into one or more log lines; the secret's first
/// character is on the first line unless the context says otherwise (returned index).
type Context = fn(&mut Rng, &str, &str) -> (Vec<String>, usize);

fn ts(r: &mut Rng) -> String {
    format!(
        "2026-11-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        1 + r.below(28),
        r.below(24),
        r.below(60),
        r.below(60),
        r.below(1000)
    )
}

fn one(s: String) -> (Vec<String>, usize) {
    (vec![s], 0)
}

fn pct(s: &str, all: bool) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        // RFC 3986 unreserved characters are never encoded.
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else if b == b' ' && !all {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn contexts() -> Vec<(&'static str, Context, bool)> {
    // (name, context, works for multi-line secrets)
    vec![
        (
            "nginx-x22",
            |r, n, s| {
                one(format!(
                    "10.1.{}.{} - - [03/Nov/2026:10:00:00 +0000] \"POST /api/v1/hooks HTTP/1.1\" 200 17 \"-\" \"Go-http-client/1.1\" body=\"{{\\x22{n}\\x22:\\x22{s}\\x22,\\x22retry\\x22:2}}\"",
                    r.below(255),
                    r.below(255)
                ))
            },
            false,
        ),
        (
            "nginx-x22-bare",
            |r, _n, s| {
                one(format!(
                    "{} [error] 31#31: *{} upstream said: \\x22{s}\\x22 while reading response header",
                    ts(r),
                    r.below(100000)
                ))
            },
            false,
        ),
        (
            "json-escaped",
            |r, n, s| {
                one(format!(
                    "{{\"ts\":\"{}\",\"level\":\"debug\",\"msg\":\"loaded config {{\\\"{n}\\\": \\\"{s}\\\", \\\"region\\\": \\\"eu-west-1\\\"}}\",\"trace\":\"{}\"}}",
                    ts(r),
                    r.uuid()
                ))
            },
            false,
        ),
        (
            "json-u0022",
            |r, n, s| {
                one(format!(
                    "{{\"time\":\"{}\",\"body\":\"{{\\u0022{n}\\u0022:\\u0022{s}\\u0022}}\"}}",
                    ts(r)
                ))
            },
            false,
        ),
        (
            "json-field",
            |r, n, s| {
                one(format!(
                    "{{\"@timestamp\":\"{}\",\"level\":\"INFO\",\"logger\":\"cfg\",\"{n}\":\"{s}\",\"pid\":{}}}",
                    ts(r),
                    r.below(60000)
                ))
            },
            false,
        ),
        (
            "url-query",
            |r, n, s| {
                one(format!(
                    "{} GET /oauth/callback?{}={}&state={} 302",
                    ts(r),
                    n.to_ascii_lowercase(),
                    pct(s, false),
                    r.chars(12, ALNUM)
                ))
            },
            false,
        ),
        (
            "url-encoded-json",
            |r, n, s| {
                one(format!(
                    "{} POST /collect?payload={} 204",
                    ts(r),
                    pct(&format!("{{\"{n}\":\"{s}\"}}"), true)
                ))
            },
            false,
        ),
        (
            "form-plus",
            |r, n, s| {
                one(format!(
                    "{} audit form=comment={}&{n}%3D{}&submit=Send",
                    ts(r),
                    pct("please rotate this", false),
                    pct(s, false)
                ))
            },
            false,
        ),
        (
            "html-quot",
            |_r, n, s| {
                one(format!(
                    "<div id=\"app\" data-config=\"{{&quot;{n}&quot;:&quot;{s}&quot;,&quot;debug&quot;:true}}\"></div>"
                ))
            },
            false,
        ),
        (
            "shell-export",
            |r, n, s| {
                one(format!(
                    "{} + export {n}={}",
                    ts(r),
                    match r.below(3) {
                        0 => format!("'{s}'"),
                        1 => format!("\"{s}\""),
                        _ => s.to_string(),
                    }
                ))
            },
            false,
        ),
        (
            "shell-curl",
            |_r, _n, s| {
                one(format!(
                    "+ curl -sS -H 'Content-Type: application/json' -H \"X-Auth: {s}\" https://api.internal/v2/deploy"
                ))
            },
            false,
        ),
        (
            "yaml",
            |_r, n, s| one(format!("    {}: \"{s}\"", n.to_ascii_lowercase())),
            false,
        ),
        ("yaml-plain", |_r, n, s| one(format!("  {n}: {s}")), false),
        (
            "toml",
            |_r, n, s| one(format!("{} = \"{s}\"", n.to_ascii_lowercase())),
            false,
        ),
        ("ini", |_r, n, s| one(format!("{n} = {s}")), false),
        (
            "dotenv",
            |_r, n, s| one(format!("{}={s}", n.to_ascii_uppercase())),
            false,
        ),
        (
            "csv",
            |r, n, s| {
                one(format!(
                    "{},{},\"{n}\",\"{s}\",{}",
                    r.below(10000),
                    ts(r),
                    r.pick(&["ok", "failed"])
                ))
            },
            false,
        ),
        (
            "go-struct",
            |r, n, s| {
                one(format!(
                    "{} level=debug msg=\"client config\" cfg=&{{Endpoint:https://api.example.com {}:{s} Timeout:30s}}",
                    ts(r),
                    capitalise(n)
                ))
            },
            false,
        ),
        (
            "go-struct-quoted",
            |_r, n, s| {
                one(format!(
                    "config: &main.Config{{Endpoint:\"https://api.example.com\", {}:\"{s}\", Retries:3}}",
                    capitalise(n)
                ))
            },
            false,
        ),
        (
            "java-tostring",
            |r, n, s| {
                one(format!(
                    "{} INFO  [main] c.e.Settings - Settings{{url='https://x.example', {}='{s}', timeout=30}}",
                    ts(r),
                    camel(n)
                ))
            },
            false,
        ),
        (
            "python-repr",
            |_r, n, s| {
                one(format!(
                    "DEBUG:root:kwargs={{'timeout': 5, '{}': '{s}', 'verify': True}}",
                    n.to_ascii_lowercase()
                ))
            },
            false,
        ),
        (
            "auth-bearer",
            |r, _n, s| {
                one(format!(
                    "{} DEBUG http: > Authorization: {} {s}",
                    ts(r),
                    r.pick(&["Bearer", "bearer", "token", "Token"])
                ))
            },
            false,
        ),
        (
            "auth-basic",
            |r, _n, s| {
                one(format!(
                    "{} DEBUG request headers={{'Authorization': 'Basic {}'}}",
                    ts(r),
                    base64(
                        format!("{}:{s}", r.pick(&["ci-bot", "x-access-token", "admin"]))
                            .as_bytes()
                    )
                ))
            },
            false,
        ),
        (
            "k8s-secret",
            |r, n, s| {
                let key = n.to_ascii_lowercase().replace('_', "-");
                (
                    vec![
                        "apiVersion: v1".into(),
                        "kind: Secret".into(),
                        "metadata:".into(),
                        format!("  name: app-{}", r.chars(5, HEX)),
                        "type: Opaque".into(),
                        "data:".into(),
                        format!("  {key}: {}", base64(s.as_bytes())),
                    ],
                    6,
                )
            },
            false,
        ),
        (
            "base64-json",
            |r, n, s| {
                one(format!(
                    "{} event={}",
                    ts(r),
                    base64(
                        format!("{{\"{n}\":\"{s}\",\"user\":\"u{}\"}}", r.below(999)).as_bytes()
                    )
                ))
            },
            false,
        ),
        (
            "stack-trace",
            |r, n, s| {
                let t = ts(r);
                let mut lines = vec![format!("{t} ERROR [worker-3] request failed")];
                lines.push(format!(
                "{t} ERROR [worker-3] java.lang.IllegalStateException: bad credentials for {}={s}",
                camel(n)
            ));
                lines.push(format!(
                    "{t} ERROR [worker-3] \tat com.example.Client.connect(Client.java:88)"
                ));
                (lines, 1)
            },
            false,
        ),
        (
            "prefixed-multiline",
            |r, _n, s| {
                let t = ts(r);
                let lines: Vec<String> =
                    s.lines().map(|l| format!("{t} app[web.1]: {l}")).collect();
                (lines, 0)
            },
            true,
        ),
        (
            "free-text",
            |r, _n, s| {
                one(format!(
                    "{} WARN deploy: using credential {s} from the environment (rotate me)",
                    ts(r)
                ))
            },
            false,
        ),
    ]
}

fn capitalise(n: &str) -> String {
    let c = camel(n);
    let mut cs = c.chars();
    match cs.next() {
        Some(f) => f.to_ascii_uppercase().to_string() + cs.as_str(),
        None => c,
    }
}

fn camel(n: &str) -> String {
    let mut out = String::new();
    let mut up = false;
    for (i, ch) in n.chars().enumerate() {
        if ch == '_' || ch == '-' {
            up = true;
        } else if up {
            out.push(ch.to_ascii_uppercase());
            up = false;
        } else if i == 0 || !n.contains('_') {
            out.push(ch);
        } else {
            out.push(ch.to_ascii_lowercase());
        }
    }
    out
}

/// Contexts that carry no name: only kinds recognisable on their own fit them.
const UNNAMED: &[&str] = &["nginx-x22-bare", "shell-curl", "auth-bearer", "free-text"];

// ------------------------------------------------------------------ negatives

fn negative(r: &mut Rng) -> String {
    let t = ts(r);
    match r.below(22) {
        0 => format!(
            "{t} INFO git: checked out commit_sha={} token_count=1842",
            r.chars(40, HEX)
        ),
        1 => format!(
            "{{\"ts\":\"{t}\",\"token_id\":\"{}\",\"msg\":\"token refreshed\"}}",
            r.uuid()
        ),
        2 => format!("{t} api_key_id={} tenant=acme", r.uuid()),
        3 => format!(
            "{t} pulled image@sha256:{} key=sha256:{}",
            r.chars(64, HEX),
            r.chars(64, HEX)
        ),
        4 => format!(
            "{t} upload md5 key={} etag=\"{}\"",
            r.chars(32, HEX),
            r.chars(32, HEX)
        ),
        5 => format!("{t} cache token: {} hit=true", r.chars(40, HEX)),
        6 => format!("{t} password: ******** user=admin"),
        7 => format!("{t} GITHUB_TOKEN=ghp_************************************"),
        8 => format!("{t} token=xxxxxxxxxxxxxxxxxxxxxxxx"),
        9 => format!("{t} Authorization: Bearer <token>"),
        10 => format!("{t} export API_KEY=${{API_KEY}} DB_PASSWORD=${{DB_PASSWORD}}"),
        11 => {
            format!("{t} access_key={{{{ .Values.accessKey }}}} secret_key={{{{ secrets.KEY }}}}")
        }
        12 => {
            format!("{t} using AKIAIOSFODNN7EXAMPLE and wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        }
        13 => format!("{t} stripe key sk_live_************************ masked"),
        14 => format!("{t} password reset requested for user {}", r.uuid()),
        15 => format!("{t} secret rotated: kms key {} version 3", r.uuid()),
        16 => format!("{t} api_token=REDACTED session_key=[REDACTED]"),
        17 => format!(
            "{t} {{\"idempotency_key\":\"{}\",\"request_token\":\"{}\"}}",
            r.uuid(),
            r.chars(32, HEX)
        ),
        18 => format!("{t} postgres://app:********@db.internal:5432/prod connected"),
        19 => format!("{t} redis://localhost:6379/0 https://example.com/a:b@c"),
        20 => format!(
            "{t} token ghp_abcd…wxyz (masked) key=sk-…{}",
            r.chars(4, ALNUM)
        ),
        _ => format!("{t} DB_PASSWORD=<db-password> SMTP_PASS=%(smtp_pass)s TOKEN=$TOKEN"),
    }
}

const MSGS: &[&str] = &[
    "request completed",
    "token bucket refilled",
    "user logged in with password",
    "secret manager call ok",
    "refreshing access token",
    "key rotation scheduled",
    "password policy updated",
    "credentials loaded from vault",
];

fn background(r: &mut Rng) -> String {
    let t = ts(r);
    match r.below(4) {
        0 => format!(
            "{{\"ts\":\"{t}\",\"level\":\"info\",\"msg\":\"{}\",\"tokens_used\":{},\"key\":\"user:{}\",\"request_id\":\"{}\",\"latency_ms\":{}}}",
            r.pick(MSGS),
            r.below(5000),
            r.below(100000),
            r.uuid(),
            r.below(900)
        ),
        1 => format!(
            "10.0.{}.{} - - [03/Nov/2026:10:{:02}:{:02} +0000] \"GET /api/v1/items?page={}&sort=asc HTTP/1.1\" 200 {} \"-\" \"Mozilla/5.0\"",
            r.below(255),
            r.below(255),
            r.below(60),
            r.below(60),
            r.below(50),
            r.below(90000)
        ),
        2 => format!(
            "{t} level=info msg=\"{}\" component=auth token_ttl=3600 key_id={}",
            r.pick(MSGS),
            r.below(99)
        ),
        _ => format!(
            "{t} INFO [main] c.e.Service - processed {} records in {} ms",
            r.below(10000),
            r.below(1000)
        ),
    }
}

// ------------------------------------------------------------------ generate

fn generate(dir: &Path, lines: u64, seed: u64) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut r = Rng(seed | 1);
    let kinds = kinds();
    let ctxs = contexts();
    let mut out = std::io::BufWriter::new(std::fs::File::create(dir.join("corpus.log"))?);
    let mut truth = std::io::BufWriter::new(std::fs::File::create(dir.join("truth.tsv"))?);
    let mut line = 0u64;
    let mut plant_i = 0usize;
    while line < lines {
        let roll = r.below(10);
        if roll < 2 {
            // plant: cycle kinds, random context that fits
            let k = &kinds[plant_i % kinds.len()];
            plant_i += 1;
            let secret = (k.make)(&mut r);
            let multi = secret.contains('\n');
            let (cname, ctx) = loop {
                let (cname, ctx, multi_ok) = r.pick(&ctxs);
                if multi != *multi_ok {
                    continue;
                }
                if k.named && UNNAMED.contains(cname) {
                    continue;
                }
                break (*cname, *ctx);
            };
            let name = *r.pick(k.names);
            let (ls, at) = ctx(&mut r, name, &secret);
            // A named kind inside Basic credentials loses its name: the header rule is
            // the right one there.
            let mut accepted = k.rules.join(",");
            if k.named && (cname == "auth-basic" || cname == "auth-bearer") {
                accepted.push_str(",authorization-header");
            }
            writeln!(
                truth,
                "{}\t{}\t{}\t{}",
                line + 1 + at as u64,
                k.kind,
                accepted,
                cname
            )?;
            for l in ls {
                writeln!(out, "{l}")?;
                line += 1;
            }
        } else if roll < 4 {
            writeln!(out, "{}", negative(&mut r))?;
            line += 1;
        } else {
            writeln!(out, "{}", background(&mut r))?;
            line += 1;
        }
    }
    out.flush()?;
    truth.flush()?;
    println!("wrote {} lines, {} planted, seed {seed}", line, plant_i);
    Ok(())
}

// ------------------------------------------------------------------ evaluate

struct Truth {
    line: u64,
    kind: String,
    rules: Vec<String>,
    context: String,
}

fn read_truth(path: &Path) -> Vec<Truth> {
    std::fs::read_to_string(path)
        .expect("truth.tsv")
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            Truth {
                line: f[0].parse().expect("line"),
                kind: f[1].to_string(),
                rules: f[2].split(',').map(str::to_string).collect(),
                context: f.get(3).unwrap_or(&"").to_string(),
            }
        })
        .collect()
}

/// Score findings against the truth and print the per-kind and per-context tables.
/// Returns (recall, precision).
fn evaluate(scanner: &Scanner, corpus: &Path, truth: &[Truth], verbose: bool) -> (f64, f64) {
    let data = std::fs::read(corpus).expect("corpus");
    let findings = scanner.scan_bytes(&data, "corpus.log");
    let mut by_line: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for f in &findings {
        by_line.entry(f.line).or_default().push(f.rule_id.clone());
    }
    let planted: std::collections::HashSet<u64> = truth.iter().map(|t| t.line).collect();
    let mut per_kind: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    let mut per_ctx: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut found_total = 0;
    let mut misses = Vec::new();
    for t in truth {
        let got = by_line.get(&t.line);
        let ok = got.is_some_and(|g| g.iter().any(|r| t.rules.contains(r)));
        let other = !ok && got.is_some();
        let e = per_kind.entry(&t.kind).or_default();
        e.0 += 1;
        let c = per_ctx.entry(&t.context).or_default();
        c.0 += 1;
        if ok {
            e.1 += 1;
            c.1 += 1;
            found_total += 1;
        } else {
            if other {
                e.2 += 1;
            }
            misses.push(format!(
                "line {} {} in {} (got {:?})",
                t.line, t.kind, t.context, got
            ));
        }
    }
    let mut fp = 0usize;
    let mut fp_lines = Vec::new();
    let data_lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    for (line, rules) in &by_line {
        if !planted.contains(line) {
            fp += rules.len();
            if fp_lines.len() < 15 {
                let text = data_lines
                    .get(*line as usize - 1)
                    .map(|l| String::from_utf8_lossy(&l[..l.len().min(160)]).to_string())
                    .unwrap_or_default();
                fp_lines.push(format!("line {line} {rules:?}: {text}"));
            }
        }
    }
    let tp_findings: usize = by_line
        .iter()
        .filter(|(l, _)| planted.contains(l))
        .map(|(_, r)| r.len())
        .sum();
    println!("| kind | planted | found | recall | found under another rule |");
    println!("|---|---:|---:|---:|---:|");
    for (k, (n, f, o)) in &per_kind {
        println!(
            "| {k} | {n} | {f} | {:.2} % | {o} |",
            100.0 * *f as f64 / *n as f64
        );
    }
    println!();
    println!("| context | planted | recall |");
    println!("|---|---:|---:|");
    for (k, (n, f)) in &per_ctx {
        println!("| {k} | {n} | {:.2} % |", 100.0 * *f as f64 / *n as f64);
    }
    let recall = found_total as f64 / truth.len().max(1) as f64;
    let precision = tp_findings as f64 / (tp_findings + fp).max(1) as f64;
    println!(
        "\nrecall {:.2} % ({found_total}/{}), precision {:.2} % ({fp} false positives in {} findings)",
        recall * 100.0,
        truth.len(),
        precision * 100.0,
        findings.len()
    );
    if verbose {
        for m in misses.iter().take(40) {
            println!("MISS {m}");
        }
        for f in &fp_lines {
            println!("FP {f}");
        }
    }
    (recall, precision)
}

// ------------------------------------------------------------------ speed

fn dense(dir: &Path, mb: u64, seed: u64) -> std::io::Result<PathBuf> {
    let path = dir.join("dense.log");
    let mut r = Rng(seed | 1);
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
    let mut n = 0u64;
    while n < mb << 20 {
        let t = ts(&mut r);
        let l = format!(
            "{{\"ts\":\"{t}\",\"level\":\"info\",\"msg\":\"token refreshed\",\"token_type\":\"bearer\",\"key\":\"session:{}\",\"password_changed\":false,\"secret_ref\":\"vault/kv/app\",\"api_key_id\":{},\"access_token_ttl\":3600,\"tokens_used\":{}}}\n",
            r.below(1 << 30),
            r.below(1000),
            r.below(5000)
        );
        out.write_all(l.as_bytes())?;
        n += l.len() as u64;
    }
    out.flush()?;
    Ok(path)
}

fn repeat_to(src: &Path, dst: &Path, mb: u64) -> std::io::Result<()> {
    let data = std::fs::read(src)?;
    let mut out = std::io::BufWriter::new(std::fs::File::create(dst)?);
    let mut n = 0u64;
    while n < mb << 20 {
        out.write_all(&data)?;
        n += data.len() as u64;
    }
    out.flush()
}

/// Best of 3 on one thread: (MB/s wall, MB per CPU-second, findings).
fn time_scan(scanner: &Scanner, path: &Path) -> (f64, f64, usize) {
    let data = std::fs::read(path).expect("read");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool");
    let (mut best, mut best_cpu) = (f64::MAX, f64::MAX);
    let mut n = 0;
    for _ in 0..3 {
        let (t, c) = (Instant::now(), cpu_secs());
        n = pool.install(|| scanner.scan_bytes(&data, "x.log").len());
        best = best.min(t.elapsed().as_secs_f64());
        best_cpu = best_cpu.min(cpu_secs() - c);
    }
    let mb = data.len() as f64 / 1e6;
    (mb / best, mb / best_cpu.max(0.01), n)
}

// ------------------------------------------------------------------ main

fn scanner_from(rules: Option<&String>) -> Scanner {
    match rules {
        Some(p) => Scanner::new(RuleSet::from_file(Path::new(p)).expect("rules")).expect("compile"),
        None => Scanner::with_default_rules(),
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let cmd = args.first().cloned().unwrap_or_default();
    let opt = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let dir = PathBuf::from(opt("--dir").unwrap_or_else(|| "/tmp/muster-hard".into()));
    let lines: u64 = opt("--lines")
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let seed: u64 = opt("--seed")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    let rules = opt("--rules");
    let verbose = args.iter().any(|a| a == "-v" || a == "--verbose");
    match cmd.as_str() {
        "gen" => generate(&dir, lines, seed).expect("generate"),
        "eval" => {
            let truth = read_truth(&dir.join("truth.tsv"));
            evaluate(
                &scanner_from(rules.as_ref()),
                &dir.join("corpus.log"),
                &truth,
                verbose,
            );
        }
        "all" => {
            generate(&dir, lines, seed).expect("generate");
            let truth = read_truth(&dir.join("truth.tsv"));
            evaluate(
                &scanner_from(rules.as_ref()),
                &dir.join("corpus.log"),
                &truth,
                verbose,
            );
        }
        "speed" => {
            let mb: u64 = opt("--mb").and_then(|v| v.parse().ok()).unwrap_or(256);
            std::fs::create_dir_all(&dir).expect("dir");
            let scanner = scanner_from(rules.as_ref());
            let d = dense(&dir, mb, seed).expect("dense corpus");
            let (mbps, cpu, n) = time_scan(&scanner, &d);
            println!(
                "keyword-dense corpus ({mb} MB): {mbps:.0} MB/s wall, {cpu:.0} MB per CPU-second, 1 thread ({n} findings)"
            );
            if dir.join("corpus.log").exists() {
                let big = dir.join("hard-big.log");
                repeat_to(&dir.join("corpus.log"), &big, mb).expect("repeat");
                let (mbps, cpu, n) = time_scan(&scanner, &big);
                println!(
                    "hard corpus repeated ({mb} MB): {mbps:.0} MB/s wall, {cpu:.0} MB per CPU-second, 1 thread ({n} findings)"
                );
            }
            if let Some(f) = opt("--file") {
                let (mbps, cpu, n) = time_scan(&scanner, Path::new(&f));
                println!(
                    "{f}: {mbps:.0} MB/s wall, {cpu:.0} MB per CPU-second, 1 thread ({n} findings)"
                );
            }
        }
        _ => {
            eprintln!(
                "usage: hard gen|eval|all|speed --dir DIR [--lines N] [--seed N] [--rules F] [--mb N] [-v]"
            );
        }
    }
}
