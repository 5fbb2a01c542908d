//! The incident report: the record rendered through a MiniJinja (Jinja2 syntax) template.
//!
//! Every value a template prints is escaped for Markdown unless the template marks it
//! `|safe`, so a title such as `<script>` or `**urgent**` shows as typed, in the Markdown
//! and in the HTML made from it. Teams replace the bundled templates with their own file;
//! the context they receive is documented in `docs/report-templates.md`.

use crate::config::Config;
use crate::i18n::Lang;
use crate::incident::{IncidentDetail, ResourceKind};
use crate::time::{Timestamp, display};
use minijinja::{Environment, Error as TplError, Value};
use serde::Serialize;
use std::fmt::Write as _;

const BUNDLED_EN: &str = include_str!("templates/report.en.md.j2");
const BUNDLED_FR: &str = include_str!("templates/report.fr.md.j2");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Markdown,
    Html,
}

impl std::str::FromStr for ReportFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "md" | "markdown" => Ok(ReportFormat::Markdown),
            "html" => Ok(ReportFormat::Html),
            other => Err(other.to_owned()),
        }
    }
}

/// A template that failed to load or render, with where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("report template {name}{}: {detail}", line.map(|l| format!(", line {l}")).unwrap_or_default())]
pub struct TemplateError {
    pub name: String,
    pub line: Option<usize>,
    pub detail: String,
}

impl TemplateError {
    fn from(name: &str, e: TplError) -> Self {
        TemplateError {
            name: name.to_owned(),
            line: e.line(),
            detail: e
                .detail()
                .map(str::to_owned)
                .unwrap_or_else(|| e.kind().to_string()),
        }
    }
}

/// The bundled template for a language.
pub fn bundled_template(lang: Lang) -> &'static str {
    match lang {
        Lang::En => BUNDLED_EN,
        Lang::Fr => BUNDLED_FR,
    }
}

/// Render `detail` with `template` (the bundled one when `None`).
pub fn render(
    detail: &IncidentDetail,
    config: &Config,
    lang: Lang,
    format: ReportFormat,
    template: Option<(&str, &str)>,
    now: Timestamp,
) -> Result<String, TemplateError> {
    let (name, source) = template.unwrap_or(("bundled", bundled_template(lang)));
    let mut env = Environment::new();
    env.set_formatter(markdown_formatter);
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .keep_trailing_newline(true)
            .build()
            .expect("default syntax with a trailing newline is valid"),
    );
    env.add_filter("cell", cell_filter);
    let tpl = env
        .template_from_named_str(name, source)
        .map_err(|e| TemplateError::from(name, e))?;
    let ctx = context(detail, config, lang, now);
    let md = tpl.render(ctx).map_err(|e| TemplateError::from(name, e))?;
    Ok(match format {
        ReportFormat::Markdown => md,
        ReportFormat::Html => to_html(&md, &detail.incident.title.to_string(), lang),
    })
}

/// Check a custom template compiles, for `muster config check`.
pub fn check_template(name: &str, source: &str) -> Result<(), TemplateError> {
    let mut env = Environment::new();
    env.add_filter("cell", cell_filter);
    env.template_from_named_str(name, source)
        .map(|_| ())
        .map_err(|e| TemplateError::from(name, e))
}

fn markdown_formatter(
    out: &mut minijinja::Output<'_>,
    _state: &mut minijinja::State<'_, '_>,
    value: &Value,
) -> Result<(), TplError> {
    if value.is_undefined() || value.is_none() {
        return Ok(());
    }
    let text = match value.as_str() {
        Some(s) => s.to_owned(),
        None => value.to_string(),
    };
    let rendered = if value.is_safe() {
        text
    } else {
        escape_markdown(&text)
    };
    out.write_str(&rendered)
        .map_err(|_| TplError::new(minijinja::ErrorKind::WriteFailure, "write failed"))
}

/// Put multi-line text in one table cell or list line.
fn cell_filter(value: Value) -> String {
    let s = value
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| value.to_string());
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Escape text so CommonMark shows it literally: inline markup characters always, and the
/// characters that only matter at the start of a line (lists, headings, quotes) there.
pub fn escape_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for (i, line) in s.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let trimmed = line.trim_start();
        let lead = &line[..line.len() - trimmed.len()];
        out.push_str(lead);
        let chars = trimmed.char_indices();
        let starts_numbered = trimmed
            .find(|c: char| !c.is_ascii_digit())
            .is_some_and(|p| p > 0 && matches!(trimmed.as_bytes()[p], b'.' | b')'));
        for (j, c) in chars {
            let at_start = j == 0;
            match c {
                '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' | '#' | '!'
                | '{' | '}' => {
                    out.push('\\');
                    out.push(c);
                }
                '-' | '+' | '=' if at_start => {
                    out.push('\\');
                    out.push(c);
                }
                '.' | ')'
                    if starts_numbered && !trimmed[..j].contains(|c: char| !c.is_ascii_digit()) =>
                {
                    out.push('\\');
                    out.push(c);
                }
                _ => out.push(c),
            }
        }
    }
    out
}

/// Standalone HTML: the Markdown rendered with tables, inside a minimal printable page.
pub fn to_html(markdown: &str, title: &str, lang: Lang) -> String {
    let body = markdown_to_html_fragment(markdown);
    let mut page = String::with_capacity(body.len() + 1024);
    let _ = write!(
        page,
        "<!doctype html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n<main>\n{}</main>\n</body>\n</html>\n",
        lang.code(),
        html_escape(title),
        REPORT_CSS,
        body
    );
    page
}

/// The Markdown as an HTML fragment, for embedding in a page: the safe subset
/// ([`crate::markdown`]), so what people wrote in the report's sections may use Markdown
/// and still adds no markup of its own.
pub fn markdown_to_html_fragment(markdown: &str) -> String {
    crate::markdown::to_html(markdown, crate::markdown::Flavor::Document)
}

pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const REPORT_CSS: &str = "body{font:16px/1.5 system-ui,sans-serif;color:#1b1b1b;margin:0;padding:2rem}main{max-width:60rem;margin:auto}table{border-collapse:collapse;width:100%}th,td{border:1px solid #767676;padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#f1f1f1}h1,h2,h3{line-height:1.2}code{background:#f1f1f1}";

#[derive(Serialize)]
struct Ctx {
    lang: &'static str,
    generated_at: String,
    incident: IncidentCtx,
    roles: Vec<RoleCtx>,
    authors: Vec<String>,
    facilitators: Vec<String>,
    narrative: crate::incident::Narrative,
    timeline: Vec<EntryCtx>,
    updates: Vec<UpdateCtx>,
    actions: Vec<ActionCtx>,
}

#[derive(Serialize)]
struct IncidentCtx {
    number: String,
    id: String,
    title: String,
    description: String,
    severity: String,
    severity_description: String,
    status: String,
    team: String,
    security: bool,
    drill: bool,
    declared_by: String,
    declared_at: String,
    date: String,
    channel: String,
    meeting_url: String,
    detected_at: String,
    started_at: String,
    mitigated_at: String,
    ended_at: String,
    resolved_at: String,
    closed_at: String,
    duration: String,
}

#[derive(Serialize)]
struct RoleCtx {
    key: String,
    role: String,
    person: String,
}

#[derive(Serialize)]
struct EntryCtx {
    at: String,
    author: String,
    text: String,
    kind: &'static str,
    /// A key moment: the bundled templates list them and set them in bold.
    key: bool,
}

#[derive(Serialize)]
struct UpdateCtx {
    at: String,
    author: String,
    text: String,
    status: String,
    severity: String,
}

#[derive(Serialize)]
struct ActionCtx {
    number: i64,
    text: String,
    action_type: String,
    owner: String,
    link: String,
    priority: String,
    done: bool,
    done_at: String,
}

fn opt_time(t: Option<Timestamp>) -> String {
    t.map(display).unwrap_or_default()
}

fn human_duration(mins: i64, lang: Lang) -> String {
    let (h, m) = (mins / 60, mins % 60);
    match (h, lang) {
        (0, _) => format!("{m} min"),
        (_, Lang::En) => format!("{h} h {m:02} min"),
        (_, Lang::Fr) => format!("{h} h {m:02}"),
    }
}

fn context(detail: &IncidentDetail, config: &Config, lang: Lang, now: Timestamp) -> Value {
    let i = &detail.incident;
    let start = i.impact.started_at.unwrap_or(i.declared_at);
    let end = i.impact.ended_at.or(i.resolved_at);
    let duration = end
        .map(|e| human_duration((e - start).num_minutes().max(0), lang))
        .unwrap_or_default();
    let severity_description = config
        .severities
        .iter()
        .find(|s| s.name == i.severity)
        .and_then(|s| s.description.get(lang))
        .unwrap_or("")
        .to_owned();
    let roles: Vec<RoleCtx> = detail
        .roles
        .iter()
        .map(|r| RoleCtx {
            key: r.role.clone(),
            role: config.role_label(&r.role, lang),
            person: r.person.clone(),
        })
        .collect();
    let mut authors = vec![i.declared_by.clone()];
    for r in &detail.roles {
        if !authors.contains(&r.person) {
            authors.push(r.person.clone());
        }
    }
    let facilitators = detail
        .roles
        .iter()
        .filter(|r| r.role == "commander")
        .map(|r| r.person.clone())
        .collect();
    let mut timeline: Vec<&crate::incident::TimelineEntry> = detail.timeline.iter().collect();
    timeline.sort_by_key(|e| (e.at, e.seq));
    let ctx = Ctx {
        lang: lang.code(),
        generated_at: display(now),
        incident: IncidentCtx {
            number: i.number.to_string(),
            id: i.id.to_string(),
            title: i.title.to_string(),
            description: i.description.clone(),
            severity: i.severity.clone(),
            severity_description,
            status: config.status_label(&i.status, lang),
            team: i.team.clone().unwrap_or_default(),
            security: i.security,
            drill: i.drill,
            declared_by: i.declared_by.clone(),
            declared_at: display(i.declared_at),
            date: i.declared_at.format("%Y-%m-%d").to_string(),
            channel: detail.channel_label(),
            meeting_url: detail
                .resource(ResourceKind::Meeting)
                .and_then(|r| r.url.clone())
                .unwrap_or_default(),
            detected_at: opt_time(i.impact.detected_at),
            started_at: opt_time(i.impact.started_at),
            mitigated_at: opt_time(i.impact.mitigated_at),
            ended_at: opt_time(i.impact.ended_at),
            resolved_at: opt_time(i.resolved_at),
            closed_at: opt_time(i.closed_at),
            duration,
        },
        roles,
        authors,
        facilitators,
        narrative: i.narrative.clone(),
        timeline: timeline
            .into_iter()
            .map(|e| EntryCtx {
                at: display(e.at),
                author: e.author.clone(),
                text: e.event.describe(lang, config),
                kind: if e.event.is_human() {
                    "human"
                } else {
                    "system"
                },
                key: e.key_moment,
            })
            .collect(),
        updates: detail
            .updates
            .iter()
            .map(|u| UpdateCtx {
                at: display(u.at),
                author: u.author.clone(),
                text: u.text.clone(),
                status: config.status_label(&u.status, lang),
                severity: u.severity.clone(),
            })
            .collect(),
        actions: detail
            .actions
            .iter()
            .map(|a| ActionCtx {
                number: a.number,
                text: a.text.clone(),
                action_type: a.action_type.label(lang),
                owner: a.owner.clone().unwrap_or_default(),
                link: a.link.clone().unwrap_or_default(),
                priority: a.priority.to_string(),
                done: a.done_at.is_some(),
                done_at: opt_time(a.done_at),
            })
            .collect(),
    };
    Value::from(minijinja::value::Serde(ctx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_markdown_would_interpret() {
        assert_eq!(escape_markdown("**bold** <b>"), "\\*\\*bold\\*\\* \\<b\\>");
        assert_eq!(escape_markdown("- item"), "\\- item");
        assert_eq!(escape_markdown("1. first"), "1\\. first");
        assert_eq!(escape_markdown("2026-11-26 a-b"), "2026-11-26 a-b");
        assert_eq!(escape_markdown("a|b"), "a\\|b");
    }

    #[test]
    fn escaped_text_renders_literally_in_html() {
        let md = escape_markdown("<script>alert(1)</script> **x** [l](javascript:x)");
        let html = markdown_to_html_fragment(&md);
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("<strong>"), "{html}");
        assert!(!html.contains("<a "), "{html}");
    }

    #[test]
    fn bundled_templates_compile() {
        for lang in Lang::ALL {
            check_template("bundled", bundled_template(lang)).unwrap();
        }
    }

    #[test]
    fn template_errors_carry_the_line() {
        let e = check_template("custom.j2", "line one\n{{ broken(\n").unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
    }
}
