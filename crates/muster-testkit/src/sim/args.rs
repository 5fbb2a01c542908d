//! How the simulator reads a call's arguments (as Slack does) and says it failed.

use serde_json::Value;
use std::collections::BTreeMap;

/// A call's arguments by name, from the query string and the form or JSON body.
pub(super) type Args = BTreeMap<String, Value>;

/// A Slack error answer: its code, and any fields to add to `{"ok": false, "error": code}`.
pub(super) struct ApiError {
    pub(super) code: &'static str,
    pub(super) extra: Option<Value>,
}

pub(super) fn err(code: &'static str) -> ApiError {
    ApiError { code, extra: None }
}

pub(super) type ApiResult = Result<Value, ApiError>;

pub(super) fn text_arg<'a>(args: &'a Args, name: &str) -> Option<&'a str> {
    args.get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// A text argument, owned.
pub(super) fn arg(args: &Args, name: &str) -> Option<String> {
    text_arg(args, name).map(str::to_owned)
}

pub(super) fn bool_arg(args: &Args, name: &str) -> bool {
    match args.get(name) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true" || s == "1",
        _ => false,
    }
}

/// A JSON argument given as a JSON-encoded string (form) or as JSON (JSON body).
pub(super) fn json_arg(args: &Args, name: &str) -> Option<Value> {
    match args.get(name)? {
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => serde_json::from_str(s).ok(),
        other => Some(other.clone()),
    }
}

/// `limit` for the read methods: Slack's default 100, at most 999.
pub(super) fn limit_arg(args: &Args) -> usize {
    let given = match args.get("limit") {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.parse::<f64>().ok(),
        _ => None,
    };
    match given {
        Some(n) if n >= 1.0 => (n as usize).min(999),
        _ => 100,
    }
}

/// Simulated timestamps as comparable numbers (seconds and microseconds).
fn ts_key(ts: &str) -> Option<(u64, u64)> {
    let (a, b) = ts.split_once('.').unwrap_or((ts, "0"));
    let micros = format!("{b:0<6}");
    Some((a.parse().ok()?, micros.get(..6)?.parse().ok()?))
}

/// The `oldest` / `latest` / `inclusive` window of the read methods.
pub(super) struct TsWindow {
    oldest: Option<(u64, u64)>,
    latest: Option<(u64, u64)>,
    inclusive: bool,
}

impl TsWindow {
    pub(super) fn from_args(args: &Args) -> TsWindow {
        TsWindow {
            oldest: text_arg(args, "oldest").and_then(ts_key),
            latest: text_arg(args, "latest").and_then(ts_key),
            inclusive: bool_arg(args, "inclusive"),
        }
    }

    pub(super) fn contains(&self, ts: &str) -> bool {
        let Some(t) = ts_key(ts) else {
            return false;
        };
        let after_oldest = self
            .oldest
            .is_none_or(|o| t > o || (self.inclusive && t == o));
        let before_latest = self
            .latest
            .is_none_or(|l| t < l || (self.inclusive && t == l));
        after_oldest && before_latest
    }
}
