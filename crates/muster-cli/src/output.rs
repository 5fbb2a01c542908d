//! Human-readable output, in the chosen language, and the JSON form for scripts.

use muster_core::Lang;
use muster_core::config::Config;
use muster_core::i18n::Args;
use muster_core::incident::{Incident, IncidentDetail, ResourceKind};
use muster_core::time::display;
use muster_store::Page;
use serde::Serialize;
use std::fmt::Write;

pub fn print_json<T: Serialize>(v: &T) {
    match serde_json::to_string_pretty(v) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("muster: {e}"),
    }
}

/// Print a confirmation: the sentence for people, the value for `--json`.
pub fn say(json: bool, text: &str, value: &serde_json::Value) {
    if json {
        print_json(value);
    } else {
        println!("{text}");
    }
}

fn base_args(i: &Incident, c: &Config, lang: Lang) -> Args {
    Args::new()
        .with("number", i.number.to_string())
        .with("title", i.title.to_string())
        .with("status", c.status_label(&i.status, lang))
        .with("severity", i.severity.clone())
}

pub fn changed(message_id: &str, d: &IncidentDetail, c: &Config, lang: Lang) -> String {
    lang.format(message_id, &d.message_args(c, lang))
}

pub fn declared(d: &IncidentDetail, c: &Config, lang: Lang) -> String {
    let i = &d.incident;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        lang.format("cli-declared", &base_args(i, c, lang))
    );
    let _ = writeln!(
        out,
        "  {}: #{}",
        lang.t("cli-label-channel"),
        i.channel_name
    );
    if let Some(url) = d
        .resource(ResourceKind::Meeting)
        .and_then(|m| m.url.as_deref())
    {
        let _ = writeln!(out, "  {}: {url}", lang.t("cli-label-meeting"));
    }
    for r in &d.roles {
        let _ = writeln!(out, "  {}: {}", c.role_label(&r.role, lang), r.person);
    }
    let _ = writeln!(
        out,
        "{}",
        lang.format("cli-declared-next", &base_args(i, c, lang))
    );
    out
}

pub fn list(page: &Page<Incident>, c: &Config, lang: Lang) -> String {
    let mut out = String::new();
    if page.items.is_empty() {
        let _ = writeln!(out, "{}", lang.t("cli-list-empty"));
        return out;
    }
    let rows: Vec<[String; 5]> = page
        .items
        .iter()
        .map(|i| {
            let mut title = i.title.to_string();
            if i.security {
                title.push_str(" 🔒");
            }
            [
                i.number.to_string(),
                i.severity.clone(),
                c.status_label(&i.status, lang),
                i.declared_at.format("%Y-%m-%d %H:%M").to_string(),
                title,
            ]
        })
        .collect();
    let header = [
        lang.t("cli-col-number"),
        lang.t("cli-col-severity"),
        lang.t("cli-col-status"),
        lang.t("cli-col-declared"),
        lang.t("cli-col-title"),
    ];
    let mut widths = header.clone().map(|h| h.chars().count());
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String; 5]| {
        let mut s = String::new();
        for (k, cell) in cells.iter().enumerate() {
            if k == 4 {
                s.push_str(cell);
            } else {
                let pad = widths[k] - cell.chars().count();
                s.push_str(cell);
                s.push_str(&" ".repeat(pad + 2));
            }
        }
        s
    };
    let _ = writeln!(out, "{}", line(&header));
    for r in &rows {
        let _ = writeln!(out, "{}", line(r));
    }
    let mut a = Args::new();
    a.num("shown", page.items.len() as i64)
        .num("total", page.total as i64);
    let _ = writeln!(out, "{}", lang.format("cli-list-total", &a));
    out
}

pub fn show(d: &IncidentDetail, c: &Config, lang: Lang) -> String {
    let i = &d.incident;
    let mut out = String::new();
    let t = |id: &str| lang.t(id);
    let _ = writeln!(out, "{}: {}", i.number, i.title);
    let _ = writeln!(
        out,
        "  {}: {}    {}: {}    {}: {}",
        t("cli-label-status"),
        c.status_label(&i.status, lang),
        t("cli-label-severity"),
        i.severity,
        t("cli-label-team"),
        i.team.as_deref().unwrap_or("-")
    );
    if i.security {
        let _ = writeln!(out, "  {}", t("cli-security-flag"));
    }
    if i.drill {
        let _ = writeln!(out, "  {}", t("cli-drill-flag"));
    }
    let _ = writeln!(
        out,
        "  {}: {} ({})",
        t("cli-label-declared"),
        display(i.declared_at),
        i.declared_by
    );
    let _ = writeln!(out, "  {}: {}", t("cli-label-channel"), d.channel_label());
    for r in &d.resources {
        if r.kind == ResourceKind::Meeting
            && let Some(url) = &r.url
        {
            let _ = writeln!(out, "  {}: {url}", t("cli-label-meeting"));
        }
    }
    let _ = writeln!(out, "  Id: {}", i.id);
    if !i.description.is_empty() {
        let _ = writeln!(out, "\n{}", i.description);
    }
    let _ = writeln!(out, "\n{}", t("cli-heading-roles"));
    for r in &d.roles {
        let _ = writeln!(out, "  {}: {}", c.role_label(&r.role, lang), r.person);
    }
    let imp = &i.impact;
    if imp.detected_at.is_some()
        || imp.started_at.is_some()
        || imp.mitigated_at.is_some()
        || imp.ended_at.is_some()
    {
        let _ = writeln!(out, "\n{}", t("cli-heading-impact"));
        for (key, v) in [
            ("impact-started", imp.started_at),
            ("impact-detected", imp.detected_at),
            ("impact-mitigated", imp.mitigated_at),
            ("impact-ended", imp.ended_at),
        ] {
            if let Some(v) = v {
                let _ = writeln!(out, "  {}: {}", t(key), display(v));
            }
        }
    }
    let _ = writeln!(out, "\n{}", t("cli-heading-timeline"));
    for e in &d.timeline {
        let _ = writeln!(
            out,
            "  {}  {}  {}",
            display(e.at),
            e.author,
            e.event.describe(lang, c).replace('\n', "\n      ")
        );
    }
    if !d.updates.is_empty() {
        let _ = writeln!(out, "\n{}", t("cli-heading-updates"));
        for u in &d.updates {
            let _ = writeln!(out, "  {}  {}  {}", display(u.at), u.author, u.text);
        }
    }
    if !d.actions.is_empty() {
        let _ = writeln!(out, "\n{}", t("cli-heading-actions"));
        for a in &d.actions {
            let mark = if a.done_at.is_some() { "x" } else { " " };
            let _ = writeln!(
                out,
                "  {}. [{mark}] {} ({}, {}{}){}",
                a.number,
                a.text,
                a.action_type.label(lang),
                a.priority,
                a.owner
                    .as_deref()
                    .map(|o| format!(", {o}"))
                    .unwrap_or_default(),
                a.link
                    .as_deref()
                    .map(|l| format!(" {l}"))
                    .unwrap_or_default()
            );
        }
    }
    out
}
