-- The durable workflow: one row per (incident, step). A step is claimed with a lease, so a
-- crashed worker's step is picked up again when the lease runs out; the unique key means a
-- retried request can never add a second copy of a step.
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id  TEXT NOT NULL REFERENCES incidents (id),
    step         TEXT NOT NULL,
    depends_on   TEXT,
    state        TEXT NOT NULL DEFAULT 'pending',
    attempts     INTEGER NOT NULL DEFAULT 0,
    run_after    TEXT NOT NULL,
    locked_until TEXT,
    last_error   TEXT,
    output       TEXT,
    input        TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (incident_id, step)
);
CREATE INDEX jobs_due ON jobs (state, run_after);

-- Deliveries already handled (Slack event ids, view submissions), so a retry does nothing.
CREATE TABLE idempotency_keys (
    key        TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
);
