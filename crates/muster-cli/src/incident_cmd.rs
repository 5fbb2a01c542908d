//! `muster incident …`: every lifecycle operation, against the local database.

use crate::Global;
use crate::backend::Backend;
use crate::failure::Failure;
use crate::output;
use crate::settings::Settings;
use clap::Subcommand;
use muster_core::i18n::Args;
use muster_core::report::ReportFormat;
use muster_core::{IncidentRef, Lang};
use muster_engine::{ActionInput, Declaration, EditInput, ImpactInput, ListQuery};
use std::path::PathBuf;

// Parsed once per process: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// Declare an incident: numbers it, names its channel, opens a meeting room and makes
    /// the declarer Incident Commander and Operations Lead.
    Declare {
        /// What is going wrong, in a few words.
        title: String,
        /// Severity [default: from the config, SEV3]
        #[arg(long, short)]
        severity: Option<String>,
        /// Team or product affected.
        #[arg(long, short)]
        team: Option<String>,
        /// A security incident: kept private.
        #[arg(long)]
        security: bool,
        /// An exercise: recorded like any incident, left out of metrics.
        #[arg(long)]
        drill: bool,
        /// What is known so far.
        #[arg(long, short)]
        description: Option<String>,
        #[command(flatten)]
        by: By,
    },
    /// List incidents, newest first.
    List {
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        severity: Option<String>,
        #[arg(long)]
        team: Option<String>,
        /// Only incidents whose title contains this text.
        #[arg(long)]
        search: Option<String>,
        /// Include drills.
        #[arg(long)]
        drills: bool,
        #[arg(long, default_value_t = 1)]
        page: u32,
        #[arg(long, default_value_t = 50)]
        per_page: u32,
    },
    /// Everything about one incident.
    Show { id: String },
    /// Move an incident to another status.
    Status {
        id: String,
        status: String,
        #[command(flatten)]
        by: By,
    },
    /// Change the severity.
    Severity {
        id: String,
        severity: String,
        #[command(flatten)]
        by: By,
    },
    /// Give a role to someone: commander, ops-lead, scribe, comms.
    Role {
        id: String,
        role: String,
        person: String,
        #[command(flatten)]
        by: By,
    },
    /// Add a note to the timeline.
    Note {
        id: String,
        text: String,
        /// When it happened: HH:MM (today, UTC), YYYY-MM-DD HH:MM or RFC 3339.
        #[arg(long)]
        at: Option<String>,
        #[command(flatten)]
        by: By,
    },
    /// Post a status update.
    Update {
        id: String,
        text: String,
        #[command(flatten)]
        by: By,
    },
    /// Add an action item.
    Action {
        id: String,
        text: String,
        /// Investigate, Mitigate, Repair, Detect or Prevent.
        #[arg(long = "type", value_name = "TYPE")]
        action_type: String,
        /// P0 (recurrence likely) to P3 (trivial risk).
        #[arg(long)]
        priority: String,
        #[arg(long)]
        owner: Option<String>,
        /// Link to the issue that tracks it.
        #[arg(long)]
        link: Option<String>,
        #[command(flatten)]
        by: By,
    },
    /// Mark action item N as done.
    ActionDone {
        id: String,
        number: i64,
        #[command(flatten)]
        by: By,
    },
    /// Record when the impact was detected, started, mitigated or ended.
    Impact {
        id: String,
        #[arg(long)]
        detected: Option<String>,
        #[arg(long)]
        started: Option<String>,
        #[arg(long)]
        mitigated: Option<String>,
        #[arg(long)]
        ended: Option<String>,
        #[command(flatten)]
        by: By,
    },
    /// Edit the title, description, team or the report's sections.
    Edit {
        id: String,
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        team: Option<String>,
        #[arg(long)]
        summary: Option<String>,
        #[arg(long)]
        impact_users: Option<String>,
        #[arg(long)]
        impact_staff: Option<String>,
        #[arg(long)]
        impact_partners: Option<String>,
        #[arg(long)]
        impact_other: Option<String>,
        #[arg(long)]
        trigger: Option<String>,
        #[arg(long)]
        detection: Option<String>,
        #[arg(long)]
        resolution: Option<String>,
        #[arg(long)]
        root_causes: Option<String>,
        #[arg(long)]
        went_well: Option<String>,
        #[arg(long)]
        went_wrong: Option<String>,
        #[arg(long)]
        got_lucky: Option<String>,
        #[command(flatten)]
        by: By,
    },
    /// The impact is over: record the end and move to the resolved status.
    Resolve {
        id: String,
        #[command(flatten)]
        by: By,
    },
    /// Close the incident.
    Close {
        id: String,
        #[command(flatten)]
        by: By,
    },
    /// Put the incident's reminders off for a while (30m, 1h, 2d): every one but the stale
    /// nudge, or only --key.
    Snooze {
        id: String,
        duration: String,
        /// Only this reminder (status-update, no-commander, stale…).
        #[arg(long)]
        key: Option<String>,
        #[command(flatten)]
        by: By,
    },
    /// Stop one of the incident's reminders.
    Dismiss {
        id: String,
        key: String,
        #[command(flatten)]
        by: By,
    },
    /// Render the incident report.
    Report {
        id: String,
        /// md or html
        #[arg(long, default_value = "md")]
        format: String,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, clap::Args)]
pub struct By {
    /// Who is doing this [default: $MUSTER_USER, then $USER]
    #[arg(long = "by", value_name = "NAME")]
    pub by: Option<String>,
}

impl By {
    /// A name the person gave: `--by`, else `$MUSTER_USER`.
    fn claimed(&self) -> Option<String> {
        self.by
            .clone()
            .or_else(|| std::env::var("MUSTER_USER").ok())
            .filter(|s| !s.trim().is_empty())
    }

    fn name(&self) -> String {
        self.claimed()
            .or_else(|| std::env::var("USER").ok())
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| "cli".to_owned())
    }

    /// The name to record. Through a server only a name the person gave is sent (as
    /// `X-Muster-Acting-For`; empty sends none): the server records the token's name
    /// with it, and a login name guessed from `$USER` would only add noise there.
    fn name_for(&self, backend: &Backend) -> String {
        match backend {
            Backend::Local(..) => self.name(),
            Backend::Remote(_) => self.claimed().unwrap_or_default(),
        }
    }
}

fn parse_ref(id: &str, lang: Lang) -> Result<IncidentRef, Failure> {
    id.parse::<IncidentRef>()
        .map_err(|e| Failure::user(e.code(), e.message(lang)))
}

pub async fn run(cmd: IncidentCommand, g: &Global) -> Result<(), Failure> {
    let s = Settings::load(g)?;
    let backend = Backend::open(&s, g).await?;
    let result = dispatch(cmd, g, &s, &backend).await;
    backend.shutdown().await;
    match backend {
        Backend::Local(..) => result.map_err(|f| s.at_database(f)),
        Backend::Remote(_) => result,
    }
}

async fn dispatch(
    cmd: IncidentCommand,
    g: &Global,
    s: &Settings,
    engine: &Backend,
) -> Result<(), Failure> {
    let lang = s.lang;
    let fail = |e: Failure| e;
    use IncidentCommand::*;
    let (detail, message_id) = match cmd {
        Declare {
            title,
            severity,
            team,
            security,
            drill,
            description,
            by,
        } => {
            let d = engine
                .declare(Declaration {
                    title,
                    severity,
                    team,
                    security,
                    drill,
                    description,
                    by: by.name_for(engine),
                    ..Declaration::default()
                })
                .await
                .map_err(fail)?;
            if g.json {
                output::print_json(&d);
            } else {
                print!("{}", output::declared(&d, engine.config(), lang));
            }
            return Ok(());
        }
        List {
            status,
            severity,
            team,
            search,
            drills,
            page,
            per_page,
        } => {
            let q = ListQuery {
                status,
                severity,
                team,
                search,
                // Whoever can open the database file can see everything in it.
                include_security: true,
                involving: None,
                include_drills: drills,
                page,
                per_page,
            };
            let page_data = engine.list(&q).await.map_err(fail)?;
            if g.json {
                output::print_json(&serde_json::json!({
                    "total": page_data.total,
                    "page": page,
                    "per_page": per_page,
                    "incidents": page_data.items,
                }));
            } else {
                print!("{}", output::list(&page_data, engine.config(), lang));
            }
            return Ok(());
        }
        Show { id } => {
            let d = engine.get(parse_ref(&id, lang)?).await.map_err(fail)?;
            if g.json {
                output::print_json(&d);
            } else {
                print!("{}", output::show(&d, engine.config(), lang));
                let r = muster_core::IncidentRef::Id(d.incident.id);
                print!(
                    "{}",
                    crate::care_cmd::reminder_lines(&engine.reminders(r).await?, lang)
                );
            }
            return Ok(());
        }
        Snooze {
            id,
            duration,
            key,
            by,
        } => {
            let r = parse_ref(&id, lang)?;
            let who = by.name_for(engine);
            let until = engine.snooze(r, key.as_deref(), &duration, &who).await?;
            return crate::care_cmd::snoozed(&id, until, g.json, lang);
        }
        Dismiss { id, key, by } => {
            let r = parse_ref(&id, lang)?;
            engine.dismiss(r, &key, &by.name_for(engine)).await?;
            return crate::care_cmd::dismissed(&id, &key, g.json, lang);
        }
        Report { id, format, output } => {
            let fmt: ReportFormat = format.parse().map_err(|v: String| {
                Failure::user(
                    "bad_format",
                    lang.format("cli-bad-format", &Args::new().with("value", v)),
                )
            })?;
            let r = parse_ref(&id, lang)?;
            let text = engine.report(r, lang, fmt).await.map_err(fail)?;
            match output {
                Some(path) => {
                    write_atomically(&path, &text).map_err(|e| {
                        Failure::system(
                            "write_failed",
                            lang.format(
                                "cli-write-failed",
                                &Args::new()
                                    .with("path", path.display().to_string())
                                    .with("detail", e.to_string()),
                            ),
                        )
                    })?;
                    let msg = lang.format(
                        "cli-report-written",
                        &Args::new().with("path", path.display().to_string()),
                    );
                    output::say(g.json, &msg, &serde_json::json!({"written": path}));
                }
                None => print!("{text}"),
            }
            return Ok(());
        }
        Status { id, status, by } => (
            engine
                .set_status(parse_ref(&id, lang)?, &status, &by.name_for(engine))
                .await
                .map_err(fail)?,
            "cli-status-changed",
        ),
        Severity { id, severity, by } => (
            engine
                .set_severity(parse_ref(&id, lang)?, &severity, &by.name_for(engine))
                .await
                .map_err(fail)?,
            "cli-severity-changed",
        ),
        Role {
            id,
            role,
            person,
            by,
        } => (
            engine
                .assign_role(parse_ref(&id, lang)?, &role, &person, &by.name_for(engine))
                .await
                .map_err(fail)?,
            "cli-role-assigned",
        ),
        Note { id, text, at, by } => (
            engine
                .add_note(
                    parse_ref(&id, lang)?,
                    &text,
                    at.as_deref(),
                    &by.name_for(engine),
                )
                .await
                .map_err(fail)?,
            "cli-note-added",
        ),
        Update { id, text, by } => (
            engine
                .post_update(parse_ref(&id, lang)?, &text, &by.name_for(engine))
                .await
                .map_err(fail)?,
            "cli-update-posted",
        ),
        Action {
            id,
            text,
            action_type,
            priority,
            owner,
            link,
            by,
        } => (
            engine
                .add_action(
                    parse_ref(&id, lang)?,
                    ActionInput {
                        text,
                        action_type,
                        priority,
                        owner,
                        link,
                    },
                    &by.name_for(engine),
                )
                .await
                .map_err(fail)?,
            "cli-action-added",
        ),
        ActionDone { id, number, by } => (
            engine
                .complete_action(parse_ref(&id, lang)?, number, &by.name_for(engine))
                .await
                .map_err(fail)?,
            "cli-action-done",
        ),
        Impact {
            id,
            detected,
            started,
            mitigated,
            ended,
            by,
        } => (
            engine
                .set_impact(
                    parse_ref(&id, lang)?,
                    ImpactInput {
                        detected,
                        started,
                        mitigated,
                        ended,
                    },
                    &by.name_for(engine),
                )
                .await
                .map_err(fail)?,
            "cli-impact-recorded",
        ),
        Edit {
            id,
            title,
            description,
            team,
            summary,
            impact_users,
            impact_staff,
            impact_partners,
            impact_other,
            trigger,
            detection,
            resolution,
            root_causes,
            went_well,
            went_wrong,
            got_lucky,
            by,
        } => {
            let narrative: Vec<(String, String)> = [
                ("summary", summary),
                ("impact_users", impact_users),
                ("impact_staff", impact_staff),
                ("impact_partners", impact_partners),
                ("impact_other", impact_other),
                ("trigger", trigger),
                ("detection", detection),
                ("resolution", resolution),
                ("root_causes", root_causes),
                ("went_well", went_well),
                ("went_wrong", went_wrong),
                ("got_lucky", got_lucky),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
            .collect();
            (
                engine
                    .edit(
                        parse_ref(&id, lang)?,
                        EditInput {
                            title,
                            description,
                            team,
                            narrative,
                        },
                        &by.name_for(engine),
                    )
                    .await
                    .map_err(fail)?,
                "cli-edited",
            )
        }
        Resolve { id, by } => (
            engine
                .resolve(parse_ref(&id, lang)?, &by.name_for(engine))
                .await
                .map_err(fail)?,
            "cli-resolved",
        ),
        Close { id, by } => (
            engine
                .close(parse_ref(&id, lang)?, &by.name_for(engine))
                .await
                .map_err(fail)?,
            "cli-closed",
        ),
    };
    if g.json {
        output::print_json(&detail);
    } else {
        println!(
            "{}",
            output::changed(message_id, &detail, engine.config(), lang)
        );
    }
    Ok(())
}

/// Write to a temporary file beside the target, then rename, so a reader never sees half.
fn write_atomically(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("report"),
        std::process::id()
    ));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
