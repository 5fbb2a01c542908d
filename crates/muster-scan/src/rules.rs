//! Rule model and the gitleaks-format TOML loader.
//!
//! A rule file is a gitleaks configuration (`[[rules]]` with `regex`, `secretGroup`,
//! `entropy`, `keywords`, `path`, `allowlists`, `[extend] useDefault`, a global
//! `[allowlist]` / `[[allowlists]]`), plus two optional keys of ours that gitleaks
//! ignores:
//!
//! - `severity = "SEV1" | "SEV2" | "SEV3"`: the severity an incident opened by
//!   `muster scan --declare` gets when this rule fires;
//! - `window = "line" | "block" | "fragment"`: where the rule's regex runs once one of its
//!   keywords is seen. `fragment` (the default, gitleaks' behaviour) runs it over the
//!   whole chunk that contains the keyword; `line` only over the lines that contain the
//!   keyword hit (much faster on logs, and enough for single-line secrets); `block` over
//!   those lines plus up to 16 KiB after them (multi-line secrets such as PEM blocks);
//! - `caseSensitiveKeywords = true`: match the keywords exactly (token prefixes such as
//!   `ghp_` or `AKIA` have one spelling), which lets the prefilter use a faster searcher;
//! - `windowBefore` / `windowAfter` (bytes, at most 8192): how far a `line` window may
//!   reach before and after the keyword hit, when the regex needs less than the line;
//! - `confirm`: a small regex that must match right after a keyword hit (anchored there)
//!   for the hit to count, e.g. "an assignment follows"; it saves running the rule's
//!   regex near keywords that are only words in a message.

use crate::ScanError;
use regex::bytes::{Regex, RegexBuilder};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;
use toml::Spanned;

/// The compiled form of a rule's `confirm` pattern.
pub type ConfirmDfa = regex_automata::dfa::dense::DFA<Vec<u32>>;

fn compile_confirm(pattern: &str) -> Result<ConfirmDfa, String> {
    use regex_automata::dfa::{StartKind, dense};
    dense::Builder::new()
        .configure(
            dense::Config::new()
                .start_kind(StartKind::Anchored)
                .dfa_size_limit(Some(8 << 20)),
        )
        .syntax(
            regex_automata::util::syntax::Config::new()
                .unicode(false)
                .utf8(false),
        )
        .build(pattern)
        .map_err(|e| e.to_string())
}

/// The embedded default ruleset (our own rules, gitleaks format).
pub const DEFAULT_RULES_TOML: &str = include_str!("default_rules.toml");

/// How far after the keyword's line a `block` rule's regex may reach.
pub const BLOCK_WINDOW_AFTER: usize = 16 * 1024;

/// Severity hint carried by a rule (used by `muster scan --declare`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Severity {
    /// Most severe.
    #[serde(rename = "SEV1")]
    Sev1,
    /// Serious.
    #[serde(rename = "SEV2")]
    Sev2,
    /// Minor.
    #[serde(rename = "SEV3")]
    Sev3,
}

impl Severity {
    /// `SEV1`, `SEV2` or `SEV3`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Sev1 => "SEV1",
            Severity::Sev2 => "SEV2",
            Severity::Sev3 => "SEV3",
        }
    }

    fn parse(s: &str) -> Option<Severity> {
        match s.trim().to_ascii_uppercase().as_str() {
            "SEV1" | "1" | "CRITICAL" | "HIGH" => Some(Severity::Sev1),
            "SEV2" | "2" | "MEDIUM" => Some(Severity::Sev2),
            "SEV3" | "3" | "LOW" => Some(Severity::Sev3),
            _ => None,
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a rule's regex is run once one of its keywords is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// The lines containing the keyword hit.
    Line,
    /// The lines containing the keyword hit and up to [`BLOCK_WINDOW_AFTER`] bytes after.
    Block,
    /// The whole chunk (gitleaks' fragment).
    Fragment,
}

/// What an allowlist regex is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegexTarget {
    /// The secret (the capture group), the default.
    Secret,
    /// The whole regex match.
    Match,
    /// The line(s) containing the match.
    Line,
}

/// An allowlist: a finding it matches is dropped.
#[derive(Debug, Clone)]
pub struct Allowlist {
    /// Free text.
    pub description: String,
    /// `AND`: every kind of check present must match; otherwise any one.
    pub and: bool,
    /// Path regexes.
    pub paths: Vec<Regex>,
    /// Content regexes.
    pub regexes: Vec<Regex>,
    /// What `regexes` match against.
    pub regex_target: RegexTarget,
    /// Lower-case substrings of the secret that mark it as a placeholder.
    pub stopwords: Vec<String>,
    /// Rule ids this (global) allowlist is limited to; empty = all.
    pub target_rules: Vec<String>,
}

impl Allowlist {
    /// True when the path alone allows everything (used before scanning a file).
    pub(crate) fn allows_path(&self, path: &str) -> bool {
        if self.paths.is_empty() || path.is_empty() {
            return false;
        }
        let path_ok = self.paths.iter().any(|r| r.is_match(path.as_bytes()));
        if self.and {
            // In AND mode, content checks are done later with the finding.
            self.regexes.is_empty() && self.stopwords.is_empty() && path_ok
        } else {
            path_ok
        }
    }

    /// True when the finding is allowed by this list.
    pub(crate) fn allows_finding(
        &self,
        path: &str,
        secret: &[u8],
        matched: &[u8],
        line: &[u8],
    ) -> bool {
        let target = match self.regex_target {
            RegexTarget::Secret => secret,
            RegexTarget::Match => matched,
            RegexTarget::Line => line,
        };
        let regex_ok = self.regexes.iter().any(|r| r.is_match(target));
        let stop_ok = !self.stopwords.is_empty() && contains_stopword(secret, &self.stopwords);
        let path_ok = !path.is_empty() && self.paths.iter().any(|r| r.is_match(path.as_bytes()));
        if self.and {
            let mut checks = Vec::with_capacity(3);
            if !self.paths.is_empty() {
                checks.push(path_ok);
            }
            if !self.regexes.is_empty() {
                checks.push(regex_ok);
            }
            if !self.stopwords.is_empty() {
                checks.push(stop_ok);
            }
            !checks.is_empty() && checks.iter().all(|&c| c)
        } else {
            regex_ok || stop_ok || path_ok
        }
    }
}

fn contains_stopword(secret: &[u8], stopwords: &[String]) -> bool {
    let lower = secret.to_ascii_lowercase();
    stopwords
        .iter()
        .any(|w| memchr::memmem::find(&lower, w.as_bytes()).is_some())
}

/// One compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Rule identifier, e.g. `github-pat`.
    pub id: String,
    /// Human description.
    pub description: String,
    /// Content regex (`None` for a path-only rule).
    pub regex: Option<Regex>,
    /// Capture group holding the secret (0 = first non-empty group, or the match).
    pub secret_group: usize,
    /// Minimum Shannon entropy of the secret (0 = no gate).
    pub entropy: f64,
    /// Lower-case keywords; the regex only runs where one is present. Empty = always.
    pub keywords: Vec<String>,
    /// Path regex: the rule applies only to matching paths.
    pub path: Option<Regex>,
    /// Rule-level allowlists.
    pub allowlists: Vec<Allowlist>,
    /// Severity hint for `--declare`.
    pub severity: Severity,
    /// Where the regex runs near keyword hits.
    pub window: Window,
    /// Keywords are matched exactly (case-sensitive) rather than ASCII case-insensitively.
    pub case_sensitive_keywords: bool,
    /// For `line` windows: how many bytes before the keyword hit the window may start.
    pub window_before: usize,
    /// For `line` windows: how many bytes after the keyword hit the window may end.
    pub window_after: usize,
    /// Cheap check run right after each keyword hit (anchored there); when it fails the
    /// hit opens no window. A fully compiled DFA, so a check costs a few nanoseconds.
    pub confirm: Option<Arc<ConfirmDfa>>,
    /// Free-form tags.
    pub tags: Vec<String>,
    /// gitleaks composite rules (`[[rules.required]]`): this rule's finding is kept only
    /// when each of these rules has a finding near it.
    pub required: Vec<Required>,
    /// `skipReport = true`: the rule only serves as a required part of composite rules.
    pub skip_report: bool,
}

/// One `[[rules.required]]` entry of a composite rule.
#[derive(Debug, Clone)]
pub struct Required {
    /// The rule that must also match.
    pub id: String,
    /// At most this many lines between the two findings' starts (`withinLines`).
    pub within_lines: Option<usize>,
    /// At most this many columns between the two findings' starts (`withinColumns`).
    pub within_columns: Option<usize>,
}

/// Which finding wins when two rules report the same secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precedence {
    /// The earlier rule wins over any overlapping finding (our default rules: specific
    /// rules come first, so the rule id names the credential kind).
    #[default]
    Order,
    /// gitleaks' rule: a finding of a rule whose id contains `generic` is dropped when a
    /// non-generic finding on the same line has a secret containing its secret; all other
    /// findings are kept. Used for gitleaks-format files (without `useDefault`).
    Gitleaks,
}

/// A loaded, compiled set of rules plus global allowlists.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    /// How overlapping findings are resolved.
    pub precedence: Precedence,
    /// Decode encoded segments anywhere in the text (gitleaks' decoder, for
    /// gitleaks-format files, when the scanner's decode depth is above 0) rather than only
    /// near decoding keywords (`Basic`, `eyJ`, `kind: Secret`, our default rules).
    pub decode_everywhere: bool,
    /// Rules in priority order (earlier wins when two findings overlap).
    pub rules: Vec<Rule>,
    /// Global allowlists.
    pub allowlists: Vec<Allowlist>,
    /// Title from the file.
    pub title: String,
}

impl RuleSet {
    /// Our default ruleset.
    pub fn default_rules() -> RuleSet {
        let mut set = RuleSet::from_toml_named(DEFAULT_RULES_TOML, "<default rules>")
            .expect("the embedded default ruleset is valid");
        set.precedence = Precedence::Order;
        set.decode_everywhere = false;
        set
    }

    /// Load a gitleaks-format rule file from text.
    pub fn from_toml(text: &str) -> Result<RuleSet, ScanError> {
        RuleSet::from_toml_named(text, "<rules>")
    }

    /// Load a gitleaks-format rule file from disk.
    pub fn from_file(path: &std::path::Path) -> Result<RuleSet, ScanError> {
        RuleSet::from_file_depth(path, 0)
    }

    fn from_file_depth(path: &std::path::Path, depth: usize) -> Result<RuleSet, ScanError> {
        let text = std::fs::read_to_string(path).map_err(|e| ScanError::Io {
            path: path.display().to_string(),
            source: e,
        })?;
        RuleSet::load(&text, &path.display().to_string(), path.parent(), depth)
    }

    /// Load with a name used in error messages.
    pub fn from_toml_named(text: &str, name: &str) -> Result<RuleSet, ScanError> {
        RuleSet::load(text, name, None, 0)
    }

    /// Load; `dir` resolves a relative `[extend] path`, `depth` counts nested extends.
    fn load(
        text: &str,
        name: &str,
        dir: Option<&std::path::Path>,
        depth: usize,
    ) -> Result<RuleSet, ScanError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(0);
            ScanError::Rules {
                file: name.to_string(),
                rule: None,
                line,
                message: e.message().trim().to_string(),
            }
        })?;
        let ctx = Ctx { text, file: name };
        let mut set = RuleSet {
            title: raw.title.clone().unwrap_or_default(),
            precedence: Precedence::Gitleaks,
            decode_everywhere: true,
            ..RuleSet::default()
        };
        let mut disabled: Vec<String> = Vec::new();
        if let Some(ext) = &raw.extend {
            let refuse = |message: String| ScanError::Rules {
                file: name.to_string(),
                rule: None,
                line: 0,
                message,
            };
            if ext.use_default {
                let base = RuleSet::default_rules();
                set.rules = base.rules;
                set.allowlists = base.allowlists;
                set.precedence = Precedence::Order;
                set.decode_everywhere = false;
            } else if let Some(p) = &ext.path {
                // gitleaks: the extended file is the base; this file's rules add to or
                // override it. Relative paths are relative to this file.
                if depth >= 2 {
                    return Err(refuse(
                        "[extend] path: more than 2 levels of extends".into(),
                    ));
                }
                let mut base_path = std::path::PathBuf::from(p);
                if base_path.is_relative()
                    && let Some(d) = dir
                {
                    base_path = d.join(base_path);
                }
                let base = RuleSet::from_file_depth(&base_path, depth + 1)
                    .map_err(|e| refuse(format!("[extend] path {p}: {e}")))?;
                set.rules = base.rules;
                set.allowlists = base.allowlists;
                set.precedence = base.precedence;
                set.decode_everywhere = base.decode_everywhere;
            } else if ext.url.is_some() {
                return Err(refuse(
                    "[extend] url is not supported (Muster does not fetch rules over the network); download the file and use [extend] path".into(),
                ));
            }
            disabled = ext.disabled_rules.clone();
        }
        set.rules.retain(|r| !disabled.contains(&r.id));

        if let Some(a) = &raw.allowlist {
            set.allowlists.push(ctx.allowlist(a, None)?);
        }
        for a in &raw.allowlists {
            set.allowlists.push(ctx.allowlist(a, None)?);
        }
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, r) in set.rules.iter().enumerate() {
            seen.insert(r.id.clone(), i);
        }
        for raw_rule in &raw.rules {
            let rule = ctx.rule(raw_rule)?;
            if disabled.contains(&rule.id) {
                continue;
            }
            match seen.get(&rule.id) {
                // A rule with the id of a default rule replaces it (gitleaks merges; we
                // take the user's definition for the fields given).
                Some(&i) => set.rules[i] = merge_rule(set.rules[i].clone(), rule, raw_rule),
                None => {
                    seen.insert(rule.id.clone(), set.rules.len());
                    set.rules.push(rule);
                }
            }
        }
        for r in &set.rules {
            for q in &r.required {
                if !set.rules.iter().any(|o| o.id == q.id) {
                    let at = text.find(&format!("\"{}\"", q.id)).unwrap_or(0);
                    return Err(ctx.err(
                        Some(&r.id),
                        at,
                        format!("required rule `{}` is not defined", q.id),
                    ));
                }
            }
        }
        Ok(set)
    }

    /// Look a rule up by id.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// Keep only the rules whose id satisfies `keep`.
    pub fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        self.rules.retain(|r| keep(&r.id));
    }
}

fn merge_rule(base: Rule, new: Rule, raw: &RawRule) -> Rule {
    let mut out = base;
    if raw.regex.is_some() {
        out.regex = new.regex;
        out.secret_group = new.secret_group;
    }
    if !new.description.is_empty() {
        out.description = new.description;
    }
    if raw.entropy.is_some() {
        out.entropy = new.entropy;
    }
    if !new.keywords.is_empty() {
        out.keywords = new.keywords;
    }
    if raw.path.is_some() {
        out.path = new.path;
    }
    out.allowlists.extend(new.allowlists);
    if raw.severity.is_some() {
        out.severity = new.severity;
    }
    if raw.window.is_some() {
        out.window = new.window;
    }
    if raw.case_sensitive_keywords.is_some() {
        out.case_sensitive_keywords = new.case_sensitive_keywords;
    }
    if raw.window_before.is_some() {
        out.window_before = new.window_before;
    }
    if raw.window_after.is_some() {
        out.window_after = new.window_after;
    }
    if raw.confirm.is_some() {
        out.confirm = new.confirm;
    }
    out.tags.extend(new.tags);
    if !new.required.is_empty() {
        out.required = new.required;
    }
    if raw.skip_report.is_some() {
        out.skip_report = new.skip_report;
    }
    out
}

fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

struct Ctx<'a> {
    text: &'a str,
    file: &'a str,
}

impl Ctx<'_> {
    fn err(&self, rule: Option<&str>, offset: usize, message: String) -> ScanError {
        ScanError::Rules {
            file: self.file.to_string(),
            rule: rule.map(str::to_string),
            line: line_of(self.text, offset),
            message,
        }
    }

    fn regex(
        &self,
        rule: Option<&str>,
        re: &Spanned<String>,
        what: &str,
    ) -> Result<Regex, ScanError> {
        compile_go_regex(re.get_ref())
            .map_err(|e| self.err(rule, re.span().start, format!("invalid {what} regex: {e}")))
    }

    fn rule(&self, r: &RawRule) -> Result<Rule, ScanError> {
        let id = r.id.get_ref().trim().to_string();
        let at = r.id.span().start;
        if id.is_empty() {
            return Err(self.err(None, at, "rule has an empty id".into()));
        }
        let rid = Some(id.as_str());
        let regex = match &r.regex {
            Some(re) => Some(self.regex(rid, re, "rule")?),
            None => None,
        };
        let path = match &r.path {
            Some(p) => Some(self.regex(rid, p, "path")?),
            None => None,
        };
        if regex.is_none() && path.is_none() {
            return Err(self.err(rid, at, "rule needs a regex or a path".into()));
        }
        let secret_group = r.secret_group.unwrap_or(0);
        if let Some(re) = &regex
            && secret_group >= re.captures_len().max(1)
            && secret_group > 0
        {
            return Err(self.err(
                rid,
                at,
                format!(
                    "secretGroup {secret_group} but the regex has only {} group(s)",
                    re.captures_len() - 1
                ),
            ));
        }
        let severity = match &r.severity {
            Some(s) => Severity::parse(s.get_ref()).ok_or_else(|| {
                self.err(
                    rid,
                    s.span().start,
                    format!("unknown severity {:?}", s.get_ref()),
                )
            })?,
            None => Severity::Sev2,
        };
        let window = match r
            .window
            .as_ref()
            .map(|w| (w.get_ref().as_str(), w.span().start))
        {
            None | Some(("fragment", _)) => Window::Fragment,
            Some(("line", _)) => Window::Line,
            Some(("block", _)) => Window::Block,
            Some((other, off)) => {
                return Err(self.err(rid, off, format!("unknown window {other:?}")));
            }
        };
        let confirm = match &r.confirm {
            Some(c) => Some(Arc::new(compile_confirm(c.get_ref()).map_err(|e| {
                self.err(rid, c.span().start, format!("invalid confirm regex: {e}"))
            })?)),
            None => None,
        };
        let mut allowlists = Vec::new();
        if let Some(a) = &r.allowlist {
            allowlists.push(self.allowlist(a, rid)?);
        }
        for a in &r.allowlists {
            allowlists.push(self.allowlist(a, rid)?);
        }
        let case_sensitive_keywords = r.case_sensitive_keywords.unwrap_or(false);
        let mut keywords: Vec<String> = if case_sensitive_keywords {
            r.keywords.clone()
        } else {
            r.keywords.iter().map(|k| k.to_ascii_lowercase()).collect()
        };
        keywords.sort();
        keywords.dedup();
        keywords.retain(|k| !k.is_empty());
        Ok(Rule {
            id,
            description: r.description.clone().unwrap_or_default(),
            regex,
            secret_group,
            entropy: r.entropy.unwrap_or(0.0),
            keywords,
            path,
            allowlists,
            severity,
            window,
            tags: r.tags.clone(),
            required: r
                .required
                .iter()
                .map(|q| Required {
                    id: q.id.trim().to_string(),
                    within_lines: q.within_lines,
                    within_columns: q.within_columns,
                })
                .collect(),
            skip_report: r.skip_report.unwrap_or(false),
            case_sensitive_keywords,
            window_before: r
                .window_before
                .unwrap_or(crate::engine::LINE_REACH)
                .min(crate::engine::LINE_REACH),
            window_after: r
                .window_after
                .unwrap_or(crate::engine::LINE_REACH)
                .min(crate::engine::LINE_REACH),
            confirm,
        })
    }

    fn allowlist(&self, a: &RawAllowlist, rule: Option<&str>) -> Result<Allowlist, ScanError> {
        let mut paths = Vec::new();
        for p in &a.paths {
            paths.push(self.regex(rule, p, "allowlist path")?);
        }
        let mut regexes = Vec::new();
        for p in &a.regexes {
            regexes.push(self.regex(rule, p, "allowlist")?);
        }
        let regex_target = match a.regex_target.as_deref() {
            None | Some("") | Some("secret") => RegexTarget::Secret,
            Some("match") => RegexTarget::Match,
            Some("line") => RegexTarget::Line,
            Some(other) => {
                let at = a.regexes.first().map(|r| r.span().start).unwrap_or(0);
                return Err(self.err(rule, at, format!("unknown regexTarget {other:?}")));
            }
        };
        let and = match a
            .condition
            .as_deref()
            .map(|c| c.trim().to_ascii_uppercase())
        {
            None => false,
            Some(c) if c.is_empty() || c == "OR" => false,
            Some(c) if c == "AND" || c == "&&" => true,
            Some(c) => {
                let at = a.regexes.first().map(|r| r.span().start).unwrap_or(0);
                return Err(self.err(rule, at, format!("unknown allowlist condition {c:?}")));
            }
        };
        Ok(Allowlist {
            description: a.description.clone().unwrap_or_default(),
            and,
            paths,
            regexes,
            regex_target,
            stopwords: a.stopwords.iter().map(|s| s.to_ascii_lowercase()).collect(),
            target_rules: a.target_rules.clone(),
        })
    }
}

/// Compile a regex written for Go's RE2 (gitleaks) with the `regex` crate.
///
/// Differences handled: a `{` that does not start a repetition is a literal in Go but an
/// error here, so it is escaped; size limits are raised for the few very large rules.
/// Unicode classes are off (Go's `\w`, `\d`, `\s`, `\b` are ASCII), which is also faster.
pub fn compile_go_regex(pattern: &str) -> Result<Regex, regex::Error> {
    let fixed = escape_literal_braces(pattern);
    RegexBuilder::new(&fixed)
        .unicode(false)
        .size_limit(256 << 20)
        .dfa_size_limit(64 << 20)
        .build()
}

fn escape_literal_braces(p: &str) -> String {
    let b = p.as_bytes();
    let mut out = String::with_capacity(p.len() + 4);
    let mut i = 0;
    let mut in_class = false;
    while i < b.len() {
        let c = b[i];
        if c == b'\\' && i + 1 < b.len() {
            // Copy the escape (and the whole UTF-8 char after it) verbatim.
            let ch_len = p[i + 1..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&p[i..i + 1 + ch_len]);
            i += 1 + ch_len;
            continue;
        }
        if in_class {
            if c == b']' {
                in_class = false;
            }
        } else if c == b'[' {
            in_class = true;
            // `[]` and `[^]` put a literal `]` first.
            let mut j = i + 1;
            if j < b.len() && b[j] == b'^' {
                j += 1;
            }
            if j < b.len() && b[j] == b']' {
                out.push_str(&p[i..=j]);
                i = j + 1;
                continue;
            }
        } else if c == b'{' && !is_repetition(&b[i..]) {
            out.push_str("\\{");
            i += 1;
            continue;
        } else if c == b'}' && !closes_repetition(&b[..i]) {
            out.push_str("\\}");
            i += 1;
            continue;
        }
        let ch_len = p[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&p[i..i + ch_len]);
        i += ch_len;
    }
    out
}

fn is_repetition(s: &[u8]) -> bool {
    // `{n}`, `{n,}`, `{n,m}`
    let mut i = 1;
    let d0 = i;
    while i < s.len() && s[i].is_ascii_digit() {
        i += 1;
    }
    if i == d0 {
        return false;
    }
    if i < s.len() && s[i] == b'}' {
        return true;
    }
    if i < s.len() && s[i] == b',' {
        i += 1;
        while i < s.len() && s[i].is_ascii_digit() {
            i += 1;
        }
        return i < s.len() && s[i] == b'}';
    }
    false
}

fn closes_repetition(before: &[u8]) -> bool {
    // Walk back over `n`, `n,`, `n,m` to an unescaped `{`.
    let mut i = before.len();
    while i > 0 && (before[i - 1].is_ascii_digit() || before[i - 1] == b',') {
        i -= 1;
    }
    if i == 0 || before[i - 1] != b'{' || i >= before.len() {
        return false;
    }
    // The `{` is escaped when an odd number of backslashes precedes it.
    let slashes = before[..i - 1]
        .iter()
        .rev()
        .take_while(|&&b| b == b'\\')
        .count();
    slashes.is_multiple_of(2)
}

#[derive(Debug, Deserialize)]
struct RawConfig {
    title: Option<String>,
    #[serde(default)]
    extend: Option<RawExtend>,
    #[serde(default)]
    rules: Vec<RawRule>,
    #[serde(default)]
    allowlist: Option<RawAllowlist>,
    #[serde(default)]
    allowlists: Vec<RawAllowlist>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawExtend {
    #[serde(default)]
    use_default: bool,
    path: Option<String>,
    url: Option<String>,
    #[serde(default)]
    disabled_rules: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRule {
    id: Spanned<String>,
    description: Option<String>,
    regex: Option<Spanned<String>>,
    secret_group: Option<usize>,
    entropy: Option<f64>,
    #[serde(default)]
    keywords: Vec<String>,
    path: Option<Spanned<String>>,
    #[serde(default)]
    tags: Vec<String>,
    allowlist: Option<RawAllowlist>,
    #[serde(default)]
    allowlists: Vec<RawAllowlist>,
    severity: Option<Spanned<String>>,
    window: Option<Spanned<String>>,
    case_sensitive_keywords: Option<bool>,
    window_before: Option<usize>,
    window_after: Option<usize>,
    confirm: Option<Spanned<String>>,
    #[serde(default)]
    required: Vec<RawRequired>,
    skip_report: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRequired {
    id: String,
    within_lines: Option<usize>,
    within_columns: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAllowlist {
    description: Option<String>,
    condition: Option<String>,
    #[serde(default)]
    paths: Vec<Spanned<String>>,
    #[serde(default)]
    regexes: Vec<Spanned<String>>,
    regex_target: Option<String>,
    #[serde(default)]
    stopwords: Vec<String>,
    #[serde(default)]
    target_rules: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_braces_are_escaped() {
        assert_eq!(
            escape_literal_braces(r"^\$(?:\d+|{\d+})$"),
            r"^\$(?:\d+|\{\d+\})$"
        );
        assert_eq!(escape_literal_braces(r"a{2,3}b{4}"), r"a{2,3}b{4}");
        assert_eq!(escape_literal_braces(r"[{}]x"), r"[{}]x");
        assert_eq!(escape_literal_braces(r"a\\{0,3}b"), r"a\\{0,3}b");
        assert_eq!(escape_literal_braces(r"a\{0,3}b"), r"a\{0,3\}b");
        assert!(compile_go_regex(r"^\${(?:[A-Z_]+|[a-z_]+)}$").is_ok());
    }

    #[test]
    fn invalid_rule_names_rule_and_line() {
        let text = "title = \"t\"\n\n[[rules]]\nid = \"ok\"\nregex = 'abc'\n\n[[rules]]\nid = \"broken-rule\"\nregex = '''(unclosed'''\n";
        let err = RuleSet::from_toml(text).unwrap_err().to_string();
        assert!(err.contains("broken-rule"), "{err}");
        assert!(err.contains("line 9"), "{err}");
    }

    #[test]
    fn toml_syntax_error_has_line() {
        let err = RuleSet::from_toml("[[rules]]\nid = \"x\"\nregex = 'a\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 3"), "{err}");
    }

    #[test]
    fn bad_secret_group_is_rejected() {
        let err = RuleSet::from_toml("[[rules]]\nid = \"g\"\nregex = 'a(b)'\nsecretGroup = 3\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`g`") && err.contains("secretGroup"), "{err}");
    }

    #[test]
    fn default_rules_load() {
        let set = RuleSet::default_rules();
        assert!(set.rules.len() >= 20);
        assert!(set.rules.iter().all(|r| !r.keywords.is_empty()));
    }
}
