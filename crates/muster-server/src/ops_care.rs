//! Reminders in `/metrics` (`muster_engine::care`): when each is due, and how many are
//! overdue. Security incidents and drills are neither labelled nor counted.

use std::fmt::Write;

pub fn render(reminders: &[(String, String, f64)], out: &mut String) {
    let _ = writeln!(
        out,
        "# HELP muster_reminder_due_seconds Seconds until each reminder of an incident not closed is due (negative: overdue)."
    );
    let _ = writeln!(out, "# TYPE muster_reminder_due_seconds gauge");
    for (number, key, seconds) in reminders {
        let _ = writeln!(
            out,
            "muster_reminder_due_seconds{{incident=\"{}\",reminder=\"{}\"}} {seconds}",
            crate::prometheus::escape(number),
            crate::prometheus::escape(key)
        );
    }
    let overdue = reminders.iter().filter(|(_, _, s)| *s < 0.0).count();
    let _ = writeln!(
        out,
        "# HELP muster_reminders_overdue Reminders past due (their message is on its way or waits for a worker)."
    );
    let _ = writeln!(out, "# TYPE muster_reminders_overdue gauge");
    let _ = writeln!(out, "muster_reminders_overdue {overdue}");
}
