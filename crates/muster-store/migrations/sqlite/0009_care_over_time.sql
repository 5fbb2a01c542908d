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

-- Incidents declared before reminders existed have no scheduled check: each one not
-- closed gets one, due at once, which schedules its reminders (or says the overdue ones).
INSERT INTO jobs (incident_id, step, run_after, created_at, updated_at)
    SELECT id, 'care/remind/check.0', '1970-01-01T00:00:00.000000Z',
           '1970-01-01T00:00:00.000000Z', '1970-01-01T00:00:00.000000Z'
    FROM incidents WHERE closed_at IS NULL;
