//! Care over time: reminders and the stale nudge, as pure rules.
//!
//! Nothing here reads a clock or a database: the engine passes what the record says (a
//! [`CareView`] of the incident and the stored [`CareState`] of each reminder) and gets
//! back when each reminder is due. The engine keeps one scheduled step per due time in the
//! job queue; when it runs, it asks these rules again, so a status update, a snooze or a
//! severity change made meanwhile is always taken into account.

use crate::incident::IncidentDetail;
use crate::time::Timestamp;
use chrono::Duration;

/// The key of the stale nudge among the reminders (it is configured in `[stale]`).
pub const STALE: &str = "stale";

/// The snoozes a reminder offers (its buttons, the web page's form).
pub const SNOOZES: [&str; 3] = ["30m", "1h", "2h"];

/// The longest snooze: beyond it, dismiss.
pub const MAX_SNOOZE_DAYS: i64 = 90;

/// A duration as configured or typed: whole numbers with a unit, `s`, `m`, `h` or `d`,
/// one or several (`90s`, `30m`, `1h30m`, `14d`). Zero and overflows are refused.
pub fn parse_duration(raw: &str) -> Option<Duration> {
    let s = raw.trim().to_ascii_lowercase();
    if s.is_empty() {
        return None;
    }
    let mut total: i64 = 0;
    let mut digits = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return None,
        };
        let n: i64 = digits.parse().ok()?;
        digits.clear();
        total = total.checked_add(n.checked_mul(unit)?)?;
    }
    if !digits.is_empty() || total <= 0 || total > 3650 * 86_400 {
        return None;
    }
    Some(Duration::seconds(total))
}

/// A duration as people read it back: `1h30m`, `15m`, `14d`.
pub fn format_duration(d: Duration) -> String {
    let mut s = d.num_seconds().max(0);
    if s == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
        if s >= size {
            out.push_str(&format!("{}{unit}", s / size));
            s %= size;
        }
    }
    out
}

/// [`format_duration`] of a number of seconds.
pub fn format_seconds(seconds: i64) -> String {
    format_duration(Duration::seconds(seconds))
}

/// When a reminder applies. Empty lists match everything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct When {
    /// Severity names, as configured.
    pub severities: Vec<String>,
    /// Status names, as configured. Empty: while the incident is not resolved.
    pub statuses: Vec<String>,
    /// Only while nobody holds this role (a role key).
    pub no_role: Option<String>,
}

/// One `[[reminders]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderDef {
    /// What people snooze or dismiss (`status-update`); several entries may share a key
    /// with different `when` (one interval per severity): the first that matches applies.
    pub key: String,
    pub when: When,
    /// First reminder this long after the declaration.
    pub after: Option<Duration>,
    /// Then (or from the start, without `after`) this long after the last status update
    /// or the last reminder, whichever is later.
    pub every: Option<Duration>,
    /// Say it once per incident.
    pub once: bool,
}

impl ReminderDef {
    /// What the reminder asks for.
    pub fn kind(&self) -> NoticeKind {
        match &self.when.no_role {
            Some(role) => NoticeKind::Role(role.clone()),
            None => NoticeKind::Update,
        }
    }
}

/// `[[reminders]]` and `[stale]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CareConfig {
    pub reminders: Vec<ReminderDef>,
    /// No human activity for this long: nudge. `None`: never.
    pub stale_after: Option<Duration>,
}

impl CareConfig {
    /// The built-in reminders: status updates every 15 min for SEV1, 30 min for SEV2,
    /// 2 h for SEV3, a nudge when nobody is commander after 10 min, stale after 14 days.
    pub fn builtin() -> CareConfig {
        let update = |sev: &str, minutes| ReminderDef {
            key: "status-update".into(),
            when: When {
                severities: vec![sev.into()],
                ..When::default()
            },
            after: None,
            every: Some(Duration::minutes(minutes)),
            once: false,
        };
        CareConfig {
            reminders: vec![
                update("SEV1", 15),
                update("SEV2", 30),
                update("SEV3", 120),
                ReminderDef {
                    key: "no-commander".into(),
                    when: When {
                        no_role: Some("commander".into()),
                        ..When::default()
                    },
                    after: Some(Duration::minutes(10)),
                    every: None,
                    once: true,
                },
            ],
            stale_after: Some(Duration::days(14)),
        }
    }

    /// Every reminder key, once, in configuration order, then `stale` if configured.
    pub fn keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = Vec::new();
        for r in &self.reminders {
            if !keys.contains(&r.key.as_str()) {
                keys.push(&r.key);
            }
        }
        if self.stale_after.is_some() {
            keys.push(STALE);
        }
        keys
    }

    /// Whether anything is configured at all.
    pub fn is_empty(&self) -> bool {
        self.reminders.is_empty() && self.stale_after.is_none()
    }

    /// The entry of `key` that applies to the incident now, if any.
    pub fn reminder(&self, key: &str, view: &CareView) -> Option<&ReminderDef> {
        self.reminders
            .iter()
            .find(|r| r.key == key && view.matches(&r.when))
    }

    /// When `key` is next due for this incident; `None` when it does not apply (not
    /// matching, dismissed, said once already, incident over).
    pub fn due(&self, key: &str, view: &CareView, state: &CareState) -> Option<Timestamp> {
        if state.dismissed {
            return None;
        }
        let due = if key == STALE {
            let after = self.stale_after?;
            if view.closed {
                return None;
            }
            let base = state
                .last_sent
                .map_or(view.last_activity, |s| s.max(view.last_activity));
            base + after
        } else {
            let def = self.reminder(key, view)?;
            let last_update = view.last_update.unwrap_or(view.declared_at);
            match state.last_sent {
                None => match (def.after, def.every) {
                    (Some(after), _) => view.declared_at + after,
                    (None, Some(every)) => last_update + every,
                    (None, None) => return None,
                },
                Some(sent) => {
                    let every = if def.once {
                        None
                    } else {
                        def.every.or(def.after)
                    };
                    sent.max(last_update) + every?
                }
            }
        };
        Some(state.snoozed_until.map_or(due, |s| s.max(due)))
    }

    /// How often status updates are asked for at `severity` (for the welcome message).
    pub fn update_interval(&self, severity: &str) -> Option<Duration> {
        self.reminders
            .iter()
            .filter(|r| r.kind() == NoticeKind::Update)
            .find(|r| {
                r.when.severities.is_empty()
                    || r.when
                        .severities
                        .iter()
                        .any(|s| s.eq_ignore_ascii_case(severity))
            })
            .and_then(|r| r.every)
    }

    /// What `key` asks people for.
    pub fn kind(&self, key: &str) -> Option<NoticeKind> {
        if key == STALE {
            return self.stale_after.map(|_| NoticeKind::Stale);
        }
        self.reminders
            .iter()
            .find(|r| r.key == key)
            .map(|r| r.kind())
    }
}

/// What a reminder asks people to do.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "role")]
pub enum NoticeKind {
    /// Post a status update.
    Update,
    /// Give this role to someone.
    Role(String),
    /// Nothing happened for a long time: resolve, schedule the retrospective or keep open.
    Stale,
}

/// What Muster stored about one reminder of one incident.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CareState {
    pub last_sent: Option<Timestamp>,
    pub snoozed_until: Option<Timestamp>,
    pub dismissed: bool,
}

/// What the reminders look at in an incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CareView {
    pub severity: String,
    pub status: String,
    /// Resolved or closed: status updates are no longer asked for.
    pub resolved: bool,
    pub closed: bool,
    /// Keys of the roles somebody holds.
    pub roles: Vec<String>,
    pub declared_at: Timestamp,
    pub last_update: Option<Timestamp>,
    /// The last human activity: a change of the record, a human entry on the timeline,
    /// or a message or reaction in its channel (`chat_activity`).
    pub last_activity: Timestamp,
}

impl CareView {
    /// The view of a stored incident; `chat_activity` is the last human message or
    /// reaction in its channel, if one was seen.
    pub fn of(
        d: &IncidentDetail,
        closed_status: &str,
        resolved_status: &str,
        chat_activity: Option<Timestamp>,
    ) -> CareView {
        let i = &d.incident;
        let human = d
            .timeline
            .iter()
            .filter(|e| e.event.is_human())
            .map(|e| e.recorded_at)
            .max();
        let last_activity = [Some(i.updated_at), human, chat_activity]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(i.declared_at);
        CareView {
            severity: i.severity.clone(),
            status: i.status.clone(),
            resolved: i.resolved_at.is_some()
                || i.closed_at.is_some()
                || i.status == closed_status
                || i.status == resolved_status,
            closed: i.closed_at.is_some() || i.status == closed_status,
            roles: d.roles.iter().map(|r| r.role.clone()).collect(),
            declared_at: i.declared_at,
            last_update: d.updates.iter().map(|u| u.at).max(),
            last_activity,
        }
    }

    fn matches(&self, w: &When) -> bool {
        let eq = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        let severity =
            w.severities.is_empty() || w.severities.iter().any(|s| eq(s, &self.severity));
        let status = if w.statuses.is_empty() {
            !self.resolved
        } else {
            !self.closed && w.statuses.iter().any(|s| eq(s, &self.status))
        };
        let role = w
            .no_role
            .as_ref()
            .is_none_or(|r| !self.roles.iter().any(|h| eq(h, r)));
        severity && status && role
    }
}

/// The step argument of a scheduled check: `<key>.<unix seconds>`, so each due time is
/// its own row of the queue (a rerun after a crash finds it, never adds a second).
pub fn occurrence(key: &str, at: Timestamp) -> String {
    format!("{key}.{}", ceil_seconds(at).timestamp())
}

/// `at` rounded up to a whole second: a check named by its due time never runs before it.
pub fn ceil_seconds(at: Timestamp) -> Timestamp {
    let floor = at - Duration::nanoseconds(i64::from(at.timestamp_subsec_nanos()));
    if floor == at {
        at
    } else {
        floor + Duration::seconds(1)
    }
}

/// The key and time of an occurrence argument.
pub fn parse_occurrence(arg: &str) -> Option<(&str, Timestamp)> {
    let (key, secs) = arg.rsplit_once('.')?;
    let at = chrono::DateTime::from_timestamp(secs.parse().ok()?, 0)?;
    (!key.is_empty()).then_some((key, at))
}

/// The platform name of the engine's own scheduled reminder checks.
pub const PLATFORM: &str = "care";

/// A check that looks at every reminder (after a change), due at once whatever its name.
pub const CHECK: &str = "check";

/// When a queued step may run at the earliest: a reminder check
/// (`care/remind/<key>.<unix seconds>`) at the time its name says, so the name is the
/// schedule and queuing the same due time twice keeps one row. Other steps: at once.
pub fn not_before(step: &crate::step::StepId) -> Option<Timestamp> {
    match &step.kind {
        crate::step::StepKind::Remind(arg) if step.platform == PLATFORM => parse_occurrence(arg)
            .filter(|(k, _)| *k != CHECK)
            .map(|(_, t)| t),
        _ => None,
    }
}

/// A reminder key: lowercase ASCII letters, digits and `-`, starting with a letter.
pub fn is_key(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some('a'..='z'))
        && c.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '-'))
        && s.len() <= 40
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32) -> Timestamp {
        chrono::Utc.with_ymd_and_hms(2026, 3, 1, h, m, 0).unwrap()
    }

    fn view(severity: &str) -> CareView {
        CareView {
            severity: severity.into(),
            status: "Open".into(),
            resolved: false,
            closed: false,
            roles: vec![],
            declared_at: t(10, 0),
            last_update: None,
            last_activity: t(10, 0),
        }
    }

    #[test]
    fn durations_take_seconds_to_days() {
        assert_eq!(parse_duration("90s"), Some(Duration::seconds(90)));
        assert_eq!(parse_duration("30m"), Some(Duration::minutes(30)));
        assert_eq!(parse_duration(" 2H "), Some(Duration::hours(2)));
        assert_eq!(parse_duration("14d"), Some(Duration::days(14)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::minutes(90)));
        for bad in [
            "",
            "0m",
            "m",
            "30",
            "30x",
            "-5m",
            "1.5h",
            "99999999999999999999d",
            "4000d",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
        for d in ["1h30m", "15m", "14d", "45s", "1d2h3m4s"] {
            assert_eq!(format_duration(parse_duration(d).unwrap()), d);
        }
    }

    #[test]
    fn status_updates_count_from_the_last_update_or_reminder() {
        let c = CareConfig::builtin();
        let mut v = view("SEV1");
        let mut s = CareState::default();
        assert_eq!(c.due("status-update", &v, &s), Some(t(10, 15)));
        v.last_update = Some(t(10, 12));
        assert_eq!(c.due("status-update", &v, &s), Some(t(10, 27)));
        // Reminded at 10:27 and no update since: again 15 min after the reminder.
        s.last_sent = Some(t(10, 27));
        assert_eq!(c.due("status-update", &v, &s), Some(t(10, 42)));
        // An update after the reminder resets the timer.
        v.last_update = Some(t(10, 35));
        assert_eq!(c.due("status-update", &v, &s), Some(t(10, 50)));
        // SEV2 has its own interval, SEV4 none.
        v.severity = "SEV2".into();
        assert_eq!(c.due("status-update", &v, &s), Some(t(11, 5)));
        v.severity = "SEV4".into();
        assert_eq!(c.due("status-update", &v, &s), None);
        assert_eq!(c.update_interval("sev1"), Some(Duration::minutes(15)));
        assert_eq!(c.update_interval("SEV3"), Some(Duration::hours(2)));
        assert_eq!(c.update_interval("SEV4"), None);
    }

    #[test]
    fn snoozes_delay_and_dismissals_stop() {
        let c = CareConfig::builtin();
        let v = view("SEV1");
        let mut s = CareState {
            snoozed_until: Some(t(11, 0)),
            ..CareState::default()
        };
        assert_eq!(c.due("status-update", &v, &s), Some(t(11, 0)));
        // A snooze that ended earlier than the schedule changes nothing.
        s.snoozed_until = Some(t(10, 5));
        assert_eq!(c.due("status-update", &v, &s), Some(t(10, 15)));
        s.dismissed = true;
        assert_eq!(c.due("status-update", &v, &s), None);
    }

    #[test]
    fn the_commander_nudge_is_said_once_and_only_without_a_commander() {
        let c = CareConfig::builtin();
        let mut v = view("SEV3");
        let mut s = CareState::default();
        assert_eq!(c.due("no-commander", &v, &s), Some(t(10, 10)));
        s.last_sent = Some(t(10, 10));
        assert_eq!(c.due("no-commander", &v, &s), None);
        s.last_sent = None;
        v.roles.push("commander".into());
        assert_eq!(c.due("no-commander", &v, &s), None);
        assert_eq!(
            c.kind("no-commander"),
            Some(NoticeKind::Role("commander".into()))
        );
    }

    #[test]
    fn resolved_incidents_get_no_update_reminders_but_can_go_stale() {
        let c = CareConfig::builtin();
        let mut v = view("SEV1");
        v.resolved = true;
        let s = CareState::default();
        assert_eq!(c.due("status-update", &v, &s), None);
        assert_eq!(c.due(STALE, &v, &s), Some(t(10, 0) + Duration::days(14)));
        v.last_activity = t(12, 0);
        assert_eq!(c.due(STALE, &v, &s), Some(t(12, 0) + Duration::days(14)));
        v.closed = true;
        assert_eq!(c.due(STALE, &v, &s), None);
    }

    #[test]
    fn occurrences_round_trip() {
        let at = t(10, 15);
        let arg = occurrence("status-update", at);
        assert_eq!(parse_occurrence(&arg), Some(("status-update", at)));
        let late = at + Duration::milliseconds(1);
        assert_eq!(
            parse_occurrence(&occurrence("k", late)),
            Some(("k", at + Duration::seconds(1)))
        );
        assert_eq!(parse_occurrence("nope"), None);
        assert_eq!(parse_occurrence(".5"), None);
        assert!(is_key("status-update") && !is_key("Status") && !is_key("a.b"));
        use crate::step::{StepId, StepKind};
        let due = StepId::new(PLATFORM, StepKind::Remind(arg.clone()));
        assert_eq!(not_before(&due), Some(at));
        let check = StepId::new(PLATFORM, StepKind::Remind("check.1764000000".into()));
        assert_eq!(not_before(&check), None);
        assert_eq!(
            not_before(&StepId::new("slack", StepKind::Remind(arg))),
            None
        );
    }
}
