//! Times people type (`--at 14:05`, `2026-11-26 14:05`, RFC 3339) and the one format the
//! record stores. All times are UTC; the clock is passed in, never read here.

use crate::DomainError;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, TimeZone, Utc};

pub type Timestamp = DateTime<Utc>;

/// Parse a time typed by a person. `now` anchors `HH:MM` (today) and `now`.
pub fn parse_user_time(s: &str, now: Timestamp) -> Result<Timestamp, DomainError> {
    let t = s.trim();
    let bad = || DomainError::BadTime(t.chars().take(40).collect());
    if t.eq_ignore_ascii_case("now") || t.eq_ignore_ascii_case("maintenant") {
        return Ok(now);
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(t, fmt) {
            return Ok(Utc.from_utc_datetime(&n));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(Utc.from_utc_datetime(&d.and_time(NaiveTime::MIN)));
    }
    for fmt in ["%H:%M:%S", "%H:%M"] {
        if let Ok(time) = NaiveTime::parse_from_str(t, fmt) {
            return Ok(Utc.from_utc_datetime(&now.date_naive().and_time(time)));
        }
    }
    Err(bad())
}

/// The storage form: fixed-width RFC 3339 in UTC with microseconds, so that text order is
/// time order in every database.
pub fn to_storage(t: Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub fn from_storage(s: &str) -> Option<Timestamp> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// How times appear in reports and terminal output.
pub fn display(t: Timestamp) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_usual_forms() {
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 15, 0, 0).unwrap();
        let want = Utc.with_ymd_and_hms(2026, 11, 26, 14, 5, 0).unwrap();
        for s in [
            "14:05",
            "2026-11-26 14:05",
            "2026-11-26T14:05:00Z",
            "2026-11-26T09:05:00-05:00",
        ] {
            assert_eq!(parse_user_time(s, now).unwrap(), want, "{s}");
        }
        assert_eq!(parse_user_time("now", now).unwrap(), now);
        assert!(parse_user_time("yesterday-ish", now).is_err());
        assert!(parse_user_time("25:00", now).is_err());
    }

    #[test]
    fn storage_round_trips_and_sorts() {
        let a = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        let b = a + chrono::Duration::microseconds(1);
        assert_eq!(from_storage(&to_storage(a)), Some(a));
        assert!(to_storage(a) < to_storage(b));
    }
}
