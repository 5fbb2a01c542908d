//! Every user-facing sentence, in English and French, through Project Fluent.
//!
//! Messages live in `i18n/en.ftl` and `i18n/fr.ftl`, compiled into the binary. A unit test
//! fails when a message exists in one language only or when the two disagree on the
//! variables a message takes, so a translation can never silently fall back.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

const EN_FTL: &str = include_str!("i18n/en.ftl");
const FR_FTL: &str = include_str!("i18n/fr.ftl");

/// A language Muster speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Fr,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Fr];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    /// Whether the message `id` exists (for ids built at run time).
    pub fn has(self, id: &str) -> bool {
        bundle(self).has_message(id)
    }

    /// The message `id` without arguments.
    pub fn t(self, id: &str) -> String {
        self.format(id, &Args::new())
    }

    /// The message `id` with its arguments. An unknown id renders as the id itself, which
    /// the completeness tests make impossible for ids used in code.
    pub fn format(self, id: &str, args: &Args) -> String {
        let bundle = bundle(self);
        let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
            return id.to_owned();
        };
        let mut errors = vec![];
        let fargs = args.to_fluent();
        bundle
            .format_pattern(pattern, Some(&fargs), &mut errors)
            .into_owned()
    }

    /// Pick the best language from an HTTP `Accept-Language` value.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut it = part.trim().split(';');
            let tag = it.next().unwrap_or("").trim();
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if let Ok(lang) = tag.parse::<Lang>()
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l)
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Lang {
    type Err = crate::DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let primary = s.trim().split(['-', '_']).next().unwrap_or("");
        match primary.to_ascii_lowercase().as_str() {
            "en" => Ok(Lang::En),
            "fr" => Ok(Lang::Fr),
            _ => Err(crate::DomainError::UnknownLanguage(
                s.chars().take(20).collect(),
            )),
        }
    }
}

/// Owned message arguments, so callers need not juggle Fluent lifetimes.
#[derive(Debug, Default, Clone)]
pub struct Args(Vec<(&'static str, Arg)>);

#[derive(Debug, Clone)]
enum Arg {
    Str(String),
    Num(i64),
}

impl Args {
    pub fn new() -> Self {
        Args(Vec::new())
    }
    pub fn str(&mut self, key: &'static str, value: impl Into<String>) -> &mut Self {
        self.0.push((key, Arg::Str(value.into())));
        self
    }
    pub fn num(&mut self, key: &'static str, value: i64) -> &mut Self {
        self.0.push((key, Arg::Num(value)));
        self
    }
    pub fn with(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.str(key, value);
        self
    }
    /// The same arguments with every text value passed through `f` (numbers unchanged):
    /// to escape what people typed for the format a message is rendered into.
    pub fn map_text(self, f: impl Fn(&str) -> String) -> Self {
        Args(
            self.0
                .into_iter()
                .map(|(k, v)| match v {
                    Arg::Str(s) => (k, Arg::Str(f(&s))),
                    n => (k, n),
                })
                .collect(),
        )
    }
    fn to_fluent(&self) -> FluentArgs<'_> {
        let mut a = FluentArgs::new();
        for (k, v) in &self.0 {
            match v {
                Arg::Str(s) => a.set(*k, FluentValue::from(s.as_str())),
                Arg::Num(n) => a.set(*k, FluentValue::from(*n)),
            }
        }
        a
    }
}

fn bundle(lang: Lang) -> &'static FluentBundle<FluentResource> {
    static EN: OnceLock<FluentBundle<FluentResource>> = OnceLock::new();
    static FR: OnceLock<FluentBundle<FluentResource>> = OnceLock::new();
    let (cell, src) = match lang {
        Lang::En => (&EN, EN_FTL),
        Lang::Fr => (&FR, FR_FTL),
    };
    cell.get_or_init(|| build(lang, src))
}

fn build(lang: Lang, src: &str) -> FluentBundle<FluentResource> {
    let res = FluentResource::try_new(src.to_owned())
        .unwrap_or_else(|(_, errs)| panic!("built-in {lang} messages do not parse: {errs:?}"));
    let langid: unic_langid::LanguageIdentifier = lang.code().parse().expect("valid language id");
    let mut bundle = FluentBundle::new_concurrent(vec![langid]);
    // Terminal output and Markdown do not want Unicode isolation marks around values.
    bundle.set_use_isolating(false);
    bundle
        .add_resource(res)
        .unwrap_or_else(|errs| panic!("duplicate {lang} messages: {errs:?}"));
    bundle
}

#[cfg(test)]
mod tests {
    use super::*;
    use fluent_syntax::ast::{Entry, Expression, InlineExpression, Pattern, PatternElement};
    use std::collections::{BTreeMap, BTreeSet};

    fn vars_of(p: &Pattern<&str>, out: &mut BTreeSet<String>) {
        for el in &p.elements {
            if let PatternElement::Placeable { expression } = el {
                match expression {
                    Expression::Inline(InlineExpression::VariableReference { id }) => {
                        out.insert(id.name.to_owned());
                    }
                    Expression::Select { selector, variants } => {
                        if let InlineExpression::VariableReference { id } = selector {
                            out.insert(id.name.to_owned());
                        }
                        for v in variants {
                            vars_of(&v.value, out);
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    fn messages(src: &'static str) -> BTreeMap<String, BTreeSet<String>> {
        let res = fluent_syntax::parser::parse(src).expect("parses");
        let mut out = BTreeMap::new();
        for entry in &res.body {
            if let Entry::Message(m) = entry {
                let mut vars = BTreeSet::new();
                if let Some(v) = &m.value {
                    vars_of(v, &mut vars);
                }
                out.insert(m.id.name.to_owned(), vars);
            }
        }
        out
    }

    #[test]
    fn every_message_exists_in_both_languages_with_the_same_variables() {
        let en = messages(EN_FTL);
        let fr = messages(FR_FTL);
        let only_en: Vec<_> = en.keys().filter(|k| !fr.contains_key(*k)).collect();
        let only_fr: Vec<_> = fr.keys().filter(|k| !en.contains_key(*k)).collect();
        assert!(only_en.is_empty(), "missing in French: {only_en:?}");
        assert!(only_fr.is_empty(), "missing in English: {only_fr:?}");
        for (id, vars) in &en {
            assert_eq!(vars, &fr[id], "message {id} takes different variables");
        }
        assert!(en.len() > 50, "suspiciously few messages: {}", en.len());
    }

    #[test]
    fn every_error_has_a_message() {
        use crate::DomainError::*;
        let samples = vec![
            TitleEmpty,
            TitleTooLong { max: 1, actual: 2 },
            TitleNoLetters,
            BadChannelName("x".into()),
            BadChannelTemplate("x".into()),
            BadIncidentRef("x".into()),
            IncidentNotFound("x".into()),
            UnknownSeverity {
                given: "x".into(),
                valid: vec!["A".into()],
            },
            UnknownStatus {
                given: "x".into(),
                valid: vec![],
            },
            UnknownRole {
                given: "x".into(),
                valid: vec![],
            },
            UnknownTeam {
                given: "x".into(),
                valid: vec![],
            },
            TransitionNotAllowed {
                from: "a".into(),
                to: "b".into(),
                allowed: vec![],
            },
            AlreadyInStatus("x".into()),
            SameSeverity("x".into()),
            EmptyText,
            TextTooLong { max: 1, actual: 2 },
            UnknownActionType {
                given: "x".into(),
                valid: vec![],
            },
            UnknownPriority { given: "x".into() },
            ActionNotFound(1),
            ActionAlreadyDone(1),
            ActionNotDone(1),
            RoleNotHeld("x".into()),
            BadTime("x".into()),
            BadUrl("x".into()),
            ImpactOutOfOrder {
                earlier: "a".into(),
                later: "b".into(),
            },
            TimeInFuture {
                value: "x".into(),
                minutes: 5,
            },
            NoteBeforeIncident {
                value: "x".into(),
                day: "d".into(),
            },
            NothingToChange,
            UnknownLanguage("x".into()),
            UnknownField {
                given: "x".into(),
                valid: vec![],
            },
        ];
        for e in samples {
            for lang in Lang::ALL {
                let m = e.message(lang);
                assert!(
                    !m.starts_with("error-"),
                    "{lang}: no message for {}",
                    e.code()
                );
            }
            assert_ne!(
                e.message(Lang::En),
                e.message(Lang::Fr),
                "{} not translated",
                e.code()
            );
        }
    }

    #[test]
    fn accept_language() {
        assert_eq!(
            Lang::from_accept_language("fr-CA,fr;q=0.9,en;q=0.8"),
            Some(Lang::Fr)
        );
        assert_eq!(Lang::from_accept_language("de, en;q=0.5"), Some(Lang::En));
        assert_eq!(
            Lang::from_accept_language("en;q=0.2, fr;q=0.7"),
            Some(Lang::Fr)
        );
        assert_eq!(Lang::from_accept_language("de"), None);
    }
}
