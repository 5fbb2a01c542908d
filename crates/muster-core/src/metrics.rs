//! Incident metrics: how many incidents per week, and how long they took to mitigate and
//! resolve by severity. Drills are excluded by the caller's query; this module only counts.

use crate::incident::Incident;
use chrono::{Datelike, Duration, NaiveDate};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeekCount {
    /// Monday of the ISO week.
    pub week: NaiveDate,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DurationStats {
    pub count: u64,
    pub mean_minutes: Option<f64>,
    pub median_minutes: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeverityStats {
    pub severity: String,
    pub incidents: u64,
    pub time_to_mitigate: DurationStats,
    pub time_to_resolve: DurationStats,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    pub total: u64,
    pub per_week: Vec<WeekCount>,
    pub by_severity: Vec<SeverityStats>,
}

fn stats(mut minutes: Vec<f64>) -> DurationStats {
    let count = minutes.len() as u64;
    if minutes.is_empty() {
        return DurationStats {
            count,
            mean_minutes: None,
            median_minutes: None,
        };
    }
    minutes.sort_by(|a, b| a.total_cmp(b));
    let mean = minutes.iter().sum::<f64>() / minutes.len() as f64;
    let mid = minutes.len() / 2;
    let median = if minutes.len().is_multiple_of(2) {
        (minutes[mid - 1] + minutes[mid]) / 2.0
    } else {
        minutes[mid]
    };
    DurationStats {
        count,
        mean_minutes: Some(mean),
        median_minutes: Some(median),
    }
}

/// Compute metrics over `incidents`, listing severities in `severity_order` and the last
/// `weeks` ISO weeks ending with the week of `today` (weeks without incidents count 0).
pub fn compute(
    incidents: &[Incident],
    severity_order: &[String],
    today: NaiveDate,
    weeks: u32,
) -> Metrics {
    let this_monday = today - Duration::days(today.weekday().num_days_from_monday() as i64);
    let first = this_monday - Duration::weeks(weeks.saturating_sub(1) as i64);
    let mut per_week: Vec<WeekCount> = (0..weeks)
        .map(|k| WeekCount {
            week: first + Duration::weeks(k as i64),
            count: 0,
        })
        .collect();
    for i in incidents {
        let d = i.declared_at.date_naive();
        let monday = d - Duration::days(d.weekday().num_days_from_monday() as i64);
        if let Some(w) = per_week.iter_mut().find(|w| w.week == monday) {
            w.count += 1;
        }
    }
    let by_severity = severity_order
        .iter()
        .map(|sev| {
            let of: Vec<&Incident> = incidents.iter().filter(|i| &i.severity == sev).collect();
            let since = |i: &Incident| i.impact.started_at.unwrap_or(i.declared_at);
            let mitigate = of
                .iter()
                .filter_map(|i| {
                    i.impact
                        .mitigated_at
                        .map(|m| (m - since(i)).num_seconds() as f64 / 60.0)
                })
                .filter(|m| *m >= 0.0)
                .collect();
            let resolve = of
                .iter()
                .filter_map(|i| {
                    i.resolved_at
                        .map(|r| (r - since(i)).num_seconds() as f64 / 60.0)
                })
                .filter(|m| *m >= 0.0)
                .collect();
            SeverityStats {
                severity: sev.clone(),
                incidents: of.len() as u64,
                time_to_mitigate: stats(mitigate),
                time_to_resolve: stats(resolve),
            }
        })
        .collect();
    Metrics {
        total: incidents.len() as u64,
        per_week,
        by_severity,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_median() {
        let s = stats(vec![10.0, 30.0, 20.0, 100.0]);
        assert_eq!(s.mean_minutes, Some(40.0));
        assert_eq!(s.median_minutes, Some(25.0));
        let s = stats(vec![5.0, 1.0, 3.0]);
        assert_eq!(s.median_minutes, Some(3.0));
        assert_eq!(stats(vec![]).mean_minutes, None);
    }
}
