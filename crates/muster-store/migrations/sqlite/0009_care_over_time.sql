-- Care over time (reminders, the stale nudge). The due times themselves are rows of the
-- job queue (`care/remind/<key>.<unix seconds>` with its `run_after`); this keeps what
-- the rules need besides the record: when each reminder was last said, snoozes and
-- dismissals, and the last human activity seen in the incident's chat.
CREATE TABLE care_state (
    incident_id   TEXT NOT NULL REFERENCES incidents (id),
    key           TEXT NOT NULL,
    last_sent_at  TEXT,
    snoozed_until TEXT,
    dismissed_at  TEXT,
    PRIMARY KEY (incident_id, key)
);

CREATE TABLE chat_activity (
    incident_id TEXT PRIMARY KEY REFERENCES incidents (id),
    last_at     TEXT NOT NULL
);
