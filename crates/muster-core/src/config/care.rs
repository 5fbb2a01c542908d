//! `[[reminders]]` and `[stale]`: the configuration of care over time
//! ([`crate::care`]). Without `[[reminders]]`, the built-in reminders apply (those whose
//! severities and roles this configuration has); `reminders = []` turns them off, and
//! `[stale] after = "off"` the stale nudge.

use super::{ConfigError, ConfigProblem, Locator, RoleDef, SeverityDef, StatusDef, norm};
use crate::care::{CareConfig, ReminderDef, When, is_key, parse_duration};
use serde::Deserialize;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReminder {
    key: Spanned<String>,
    #[serde(default)]
    when: RawWhen,
    after: Option<Spanned<String>>,
    every: Option<Spanned<String>>,
    #[serde(default)]
    once: bool,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawWhen {
    #[serde(default)]
    severity: Vec<Spanned<String>>,
    #[serde(default)]
    status: Vec<Spanned<String>>,
    no_role: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStale {
    after: Option<Spanned<String>>,
}

pub(super) fn validate_care(
    reminders: Option<Vec<RawReminder>>,
    stale: Option<RawStale>,
    severities: &[SeverityDef],
    statuses: &[StatusDef],
    roles: &[RoleDef],
    loc: &Locator<'_>,
) -> Result<CareConfig, ConfigError> {
    let builtin = CareConfig::builtin();
    let reminders = match reminders {
        // The built-in reminders that make sense here.
        None => builtin
            .reminders
            .into_iter()
            .filter(|r| {
                r.when
                    .severities
                    .iter()
                    .all(|s| severities.iter().any(|d| d.name == *s))
                    && r.when
                        .no_role
                        .as_ref()
                        .is_none_or(|k| roles.iter().any(|d| d.key == *k))
            })
            .collect(),
        Some(raw) => raw
            .into_iter()
            .map(|r| validate_reminder(r, severities, statuses, roles, loc))
            .collect::<Result<_, _>>()?,
    };
    let stale_after = match stale.and_then(|s| s.after) {
        None => builtin.stale_after,
        Some(a) if a.get_ref().trim().eq_ignore_ascii_case("off") => None,
        Some(a) => Some(duration(&a, loc)?),
    };
    Ok(CareConfig {
        reminders,
        stale_after,
    })
}

fn duration(raw: &Spanned<String>, loc: &Locator<'_>) -> Result<chrono::Duration, ConfigError> {
    parse_duration(raw.get_ref())
        .ok_or_else(|| loc.err(raw, ConfigProblem::BadDuration(raw.get_ref().clone())))
}

fn validate_reminder(
    r: RawReminder,
    severities: &[SeverityDef],
    statuses: &[StatusDef],
    roles: &[RoleDef],
    loc: &Locator<'_>,
) -> Result<ReminderDef, ConfigError> {
    let key = r.key.get_ref().trim().to_owned();
    if !is_key(&key) || key == crate::care::STALE {
        return Err(loc.err(&r.key, ConfigProblem::BadReminderKey(key)));
    }
    let severities = r
        .when
        .severity
        .iter()
        .map(|s| super::known_severity(s, severities, loc))
        .collect::<Result<Vec<_>, _>>()?;
    let statuses = r
        .when
        .status
        .iter()
        .map(|s| {
            statuses
                .iter()
                .find(|d| norm(&d.name) == norm(s.get_ref()))
                .map(|d| d.name.clone())
                .ok_or_else(|| loc.err(s, ConfigProblem::UnknownStatus(s.get_ref().clone())))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let no_role = r
        .when
        .no_role
        .as_ref()
        .map(|k| {
            roles
                .iter()
                .find(|d| norm(&d.key) == norm(k.get_ref()))
                .map(|d| d.key.clone())
                .ok_or_else(|| loc.err(k, ConfigProblem::UnknownRole(k.get_ref().clone())))
        })
        .transpose()?;
    let after = r.after.as_ref().map(|a| duration(a, loc)).transpose()?;
    let every = r.every.as_ref().map(|a| duration(a, loc)).transpose()?;
    if after.is_none() && every.is_none() {
        return Err(loc.err(&r.key, ConfigProblem::ReminderWithoutTime(key)));
    }
    Ok(ReminderDef {
        key,
        when: When {
            severities,
            statuses,
            no_role,
        },
        after,
        every,
        once: r.once,
    })
}

#[cfg(test)]
mod tests {
    use crate::care::{CareConfig, NoticeKind};
    use crate::config::{Config, ConfigProblem, DEFAULT_TOML};
    use chrono::Duration;

    #[test]
    fn the_built_in_reminders_apply_and_match_the_commented_defaults() {
        let c = Config::default();
        assert_eq!(c.care, CareConfig::builtin());
        // Uncommenting the documented defaults changes nothing.
        let start = DEFAULT_TOML.find("# [[reminders]]").unwrap();
        let uncommented: String = DEFAULT_TOML[start..]
            .lines()
            .filter_map(|l| l.strip_prefix("# "))
            .filter(|l| {
                (l.starts_with('[') && l.trim_end().ends_with(']'))
                    || l.split_once(" = ").is_some_and(|(k, _)| {
                        !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                    })
            })
            .map(|l| format!("{l}\n"))
            .collect();
        let c2 = Config::from_toml(&uncommented).unwrap();
        assert_eq!(c2.care, CareConfig::builtin());
    }

    #[test]
    fn reminders_are_read_and_checked() {
        let c = Config::from_toml(
            "[[reminders]]\nkey = \"status-update\"\nwhen = { severity = [\"sev1\"], status = [\"open\", \"In Progress\"] }\nevery = \"30s\"\n[stale]\nafter = \"2m\"\n",
        )
        .unwrap();
        let r = &c.care.reminders[0];
        assert_eq!(r.when.severities, ["SEV1"]);
        assert_eq!(r.when.statuses, ["Open", "In Progress"]);
        assert_eq!(r.every, Some(Duration::seconds(30)));
        assert_eq!(c.care.stale_after, Some(Duration::minutes(2)));
        assert_eq!(c.care.kind("status-update"), Some(NoticeKind::Update));

        let off = Config::from_toml("reminders = []\n[stale]\nafter = \"off\"\n").unwrap();
        assert!(off.care.is_empty());

        for (text, want) in [
            (
                "[[reminders]]\nkey = \"x\"\nevery = \"soon\"\n",
                ConfigProblem::BadDuration("soon".into()),
            ),
            (
                "[[reminders]]\nkey = \"Bad Key\"\nevery = \"1m\"\n",
                ConfigProblem::BadReminderKey("Bad Key".into()),
            ),
            (
                "[[reminders]]\nkey = \"x\"\n",
                ConfigProblem::ReminderWithoutTime("x".into()),
            ),
            (
                "[[reminders]]\nkey = \"x\"\nevery = \"1m\"\nwhen = { severity = [\"SEV9\"] }\n",
                ConfigProblem::UnknownSeverity("SEV9".into()),
            ),
            (
                "[[reminders]]\nkey = \"x\"\nevery = \"1m\"\nwhen = { no_role = \"pilot\" }\n",
                ConfigProblem::UnknownRole("pilot".into()),
            ),
            (
                "[stale]\nafter = \"0d\"\n",
                ConfigProblem::BadDuration("0d".into()),
            ),
        ] {
            let e = Config::from_toml(text).unwrap_err();
            assert_eq!(e.problem, want, "{text}");
            assert!(e.line.is_some());
        }
    }
}
