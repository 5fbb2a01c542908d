//! Slack Web API method descriptions, derived from slack-ruby/slack-api-ref (MIT) into
//! `fixtures/slack/methods/` (see the README there), and the checks the simulator runs on
//! every request: known method, known argument names, argument types, required
//! arguments and argument groups.

use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

macro_rules! method_fixtures {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../fixtures/slack/methods/", $name, ".json")))),*]
    };
}

const FIXTURES: &[(&str, &str)] = method_fixtures![
    "apps.connections.open",
    "auth.test",
    "bookmarks.add",
    "bookmarks.list",
    "chat.getPermalink",
    "chat.postEphemeral",
    "chat.postMessage",
    "chat.update",
    "conversations.archive",
    "conversations.create",
    "conversations.history",
    "conversations.info",
    "conversations.list",
    "conversations.invite",
    "conversations.join",
    "conversations.members",
    "conversations.replies",
    "conversations.setPurpose",
    "conversations.setTopic",
    "reactions.add",
    "usergroups.users.list",
    "users.info",
    "views.open",
    "views.update",
];

/// Arguments every method accepts although the descriptions do not list them.
const UNIVERSAL_ARGS: &[&str] = &["token"];

/// One method's description.
#[derive(Debug, Clone, Deserialize)]
pub struct MethodSpec {
    pub name: String,
    pub args: BTreeMap<String, ArgSpec>,
    #[serde(default)]
    pub arg_groups: Vec<ArgGroup>,
    pub errors: BTreeSet<String>,
    pub response_examples: Vec<Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ArgSpec {
    pub required: bool,
    /// A type name, a list of accepted type names, or null (then `format` says `json`).
    #[serde(rename = "type")]
    pub kind: Option<TypeSpec>,
    #[serde(default)]
    pub format: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum TypeSpec {
    One(String),
    Any(Vec<String>),
}

#[derive(Debug, Clone, Deserialize)]
pub struct ArgGroup {
    pub args: Vec<String>,
    pub mutually_exclusive: bool,
    pub required: bool,
}

/// Every method the simulator knows, by name.
pub fn methods() -> &'static BTreeMap<String, MethodSpec> {
    static SPECS: OnceLock<BTreeMap<String, MethodSpec>> = OnceLock::new();
    SPECS.get_or_init(|| {
        FIXTURES
            .iter()
            .map(|(name, text)| {
                let spec: MethodSpec = serde_json::from_str(text)
                    .unwrap_or_else(|e| panic!("fixture {name} does not parse: {e}"));
                assert_eq!(spec.name, *name, "fixture name mismatch");
                (spec.name.clone(), spec)
            })
            .collect()
    })
}

pub fn method(name: &str) -> Option<&'static MethodSpec> {
    methods().get(name)
}

/// A request that does not match the description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgProblem {
    Unknown(String),
    WrongType {
        arg: String,
        expected: String,
    },
    MissingRequired(String),
    /// None of a required group was given.
    MissingOneOf(Vec<String>),
    /// More than one of a mutually exclusive group was given.
    Exclusive(Vec<String>),
}

impl std::fmt::Display for ArgProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ArgProblem::Unknown(a) => write!(f, "[ERROR] unknown argument: {a}"),
            ArgProblem::WrongType { arg, expected } => {
                write!(f, "[ERROR] argument {arg} must be of type {expected}")
            }
            ArgProblem::MissingRequired(a) => write!(f, "[ERROR] missing required field: {a}"),
            ArgProblem::MissingOneOf(g) => {
                write!(
                    f,
                    "[ERROR] one of these fields is required: {}",
                    g.join(", ")
                )
            }
            ArgProblem::Exclusive(g) => {
                write!(
                    f,
                    "[ERROR] only one of these fields may be given: {}",
                    g.join(", ")
                )
            }
        }
    }
}

impl MethodSpec {
    /// Check names, types, required arguments and groups. Values arrive as JSON: strings
    /// from form bodies, any JSON value from JSON bodies.
    pub fn check(&self, args: &BTreeMap<String, Value>) -> Vec<ArgProblem> {
        let mut problems = vec![];
        for (name, value) in args {
            if UNIVERSAL_ARGS.contains(&name.as_str()) {
                continue;
            }
            match self.args.get(name) {
                None => problems.push(ArgProblem::Unknown(name.clone())),
                Some(spec) => {
                    if !spec.accepts(value) {
                        problems.push(ArgProblem::WrongType {
                            arg: name.clone(),
                            expected: spec.describe(),
                        });
                    }
                }
            }
        }
        for (name, spec) in &self.args {
            if spec.required && !present(args.get(name)) {
                problems.push(ArgProblem::MissingRequired(name.clone()));
            }
        }
        for g in &self.arg_groups {
            let given: Vec<String> = g
                .args
                .iter()
                .filter(|a| present(args.get(*a)))
                .cloned()
                .collect();
            if g.required && given.is_empty() {
                problems.push(ArgProblem::MissingOneOf(g.args.clone()));
            }
            if g.mutually_exclusive && given.len() > 1 {
                problems.push(ArgProblem::Exclusive(given));
            }
        }
        problems
    }

    /// The successful response examples.
    pub fn ok_examples(&self) -> impl Iterator<Item = &Value> {
        self.response_examples
            .iter()
            .filter(|e| e.get("ok") == Some(&Value::Bool(true)))
    }

    /// The first successful example's `key` object, used as the template of answers.
    pub fn example_object(&self, key: &str) -> Option<&Value> {
        self.ok_examples()
            .filter_map(|e| e.get(key))
            .find(|v| v.is_object())
    }
}

fn present(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(_) => true,
    }
}

impl ArgSpec {
    fn type_names(&self) -> Vec<String> {
        match &self.kind {
            Some(TypeSpec::One(t)) => vec![t.clone()],
            Some(TypeSpec::Any(ts)) => ts.clone(),
            None => vec![],
        }
    }

    fn describe(&self) -> String {
        let mut names = self.type_names();
        if self.format.as_deref() == Some("json") {
            names.push("json".into());
        }
        names.join(" or ")
    }

    fn accepts(&self, v: &Value) -> bool {
        let names = self.type_names();
        if self.format.as_deref() == Some("json") {
            // A JSON-encoded string (form bodies) or the JSON value itself (JSON bodies);
            // other listed types (e.g. `attachments` may be a boolean) still count.
            return accepts_json(v) || names.iter().any(|t| t != "string" && accepts_type(t, v));
        }
        names.is_empty() || names.iter().any(|t| accepts_type(t, v))
    }
}

fn accepts_json(v: &Value) -> bool {
    match v {
        Value::String(s) => serde_json::from_str::<Value>(s).is_ok(),
        Value::Array(_) | Value::Object(_) => true,
        _ => false,
    }
}

fn id_like(s: &str, prefixes: &[char]) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if prefixes.contains(&c))
        && s.len() >= 3
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

fn accepts_type(t: &str, v: &Value) -> bool {
    match (t, v) {
        ("string" | "enum", Value::String(_)) => true,
        ("string", Value::Array(_) | Value::Object(_)) => false,
        ("boolean", Value::Bool(_)) => true,
        ("boolean", Value::String(s)) => matches!(s.as_str(), "true" | "false" | "1" | "0"),
        ("number" | "integer", Value::Number(_)) => true,
        ("number" | "integer", Value::String(s)) => s.parse::<f64>().is_ok(),
        // An id, or `#name` (which chat methods accept).
        ("channel", Value::String(s)) => {
            id_like(s, &['C', 'G', 'D'])
                || s.strip_prefix('#').is_some_and(|n| {
                    !n.is_empty()
                        && n.chars()
                            .all(|c| c.is_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
                })
        }
        ("user", Value::String(s)) => id_like(s, &['U', 'W', 'B']),
        ("timestamp", Value::String(s)) => {
            let (a, b) = s.split_once('.').unwrap_or((s, "0"));
            !a.is_empty()
                && a.bytes().all(|c| c.is_ascii_digit())
                && b.bytes().all(|c| c.is_ascii_digit())
        }
        ("array", Value::Array(_)) => true,
        ("array", Value::String(_)) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    #[test]
    fn every_fixture_loads_with_facts() {
        let m = methods();
        assert_eq!(m.len(), FIXTURES.len());
        for spec in m.values() {
            assert!(spec.errors.contains("ratelimited"), "{}", spec.name);
            assert!(spec.ok_examples().count() >= 1, "{}", spec.name);
        }
        let create = method("conversations.create").unwrap();
        assert!(create.args["name"].required);
        assert!(create.errors.contains("name_taken"));
    }

    #[test]
    fn names_types_and_required_arguments_are_checked() {
        let create = method("conversations.create").unwrap();
        assert!(
            create
                .check(&args(&[
                    ("name", json!("x")),
                    ("is_private", json!("true"))
                ]))
                .is_empty()
        );
        assert_eq!(
            create.check(&args(&[("name", json!("x")), ("private", json!("true"))])),
            [ArgProblem::Unknown("private".into())]
        );
        assert!(matches!(
            create.check(&args(&[("name", json!("x")), ("is_private", json!("yes"))]))[..],
            [ArgProblem::WrongType { .. }]
        ));
        assert_eq!(
            create.check(&args(&[])),
            [ArgProblem::MissingRequired("name".into())]
        );
        let info = method("conversations.info").unwrap();
        assert!(matches!(
            info.check(&args(&[("channel", json!("general"))]))[..],
            [ArgProblem::WrongType { .. }]
        ));
        let post = method("chat.postMessage").unwrap();
        let base = [("channel", json!("C1234")), ("text", json!("hi"))];
        let with = |k: &str, v: Value| {
            let mut a = args(&base);
            a.insert(k.to_owned(), v);
            post.check(&a)
        };
        assert!(with("blocks", json!("[{\"type\":\"divider\"}]")).is_empty());
        assert!(with("blocks", json!([{"type": "divider"}])).is_empty());
        assert!(matches!(
            with("blocks", json!("[not json"))[..],
            [ArgProblem::WrongType { .. }]
        ));
        assert!(with("attachments", json!(false)).is_empty());
        assert!(matches!(
            with("thread_ts", json!(12))[..],
            [ArgProblem::WrongType { .. }]
        ));
    }

    #[test]
    fn argument_groups_are_checked() {
        let open = method("views.open").unwrap();
        let view = json!("{\"type\":\"modal\"}");
        assert_eq!(
            open.check(&args(&[("view", view.clone())])),
            [ArgProblem::MissingOneOf(vec![
                "trigger_id".into(),
                "interactivity_pointer".into()
            ])]
        );
        assert!(matches!(
            open.check(&args(&[
                ("view", view.clone()),
                ("trigger_id", json!("1")),
                ("interactivity_pointer", json!("2"))
            ]))[..],
            [ArgProblem::Exclusive(_)]
        ));
        assert!(matches!(
            open.check(&args(&[
                ("view", json!("{broken")),
                ("trigger_id", json!("1"))
            ]))[..],
            [ArgProblem::WrongType { .. }]
        ));
        let post = method("chat.postMessage").unwrap();
        assert!(matches!(
            post.check(&args(&[("channel", json!("C1234"))]))[..],
            [ArgProblem::MissingOneOf(_)]
        ));
    }
}
