-- The incident record. Times are RFC 3339 UTC text with microseconds (text order = time order).

CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO counters (name, value) VALUES ('incident_number', 0);

CREATE TABLE incidents (
    id              TEXT PRIMARY KEY,
    number          INTEGER NOT NULL UNIQUE,
    title           TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    severity        TEXT NOT NULL,
    status          TEXT NOT NULL,
    team            TEXT,
    security        INTEGER NOT NULL DEFAULT 0,
    drill           INTEGER NOT NULL DEFAULT 0,
    channel_name    TEXT NOT NULL,
    declared_by     TEXT NOT NULL,
    declared_at     TEXT NOT NULL,
    detected_at     TEXT,
    started_at      TEXT,
    mitigated_at    TEXT,
    ended_at        TEXT,
    resolved_at     TEXT,
    closed_at       TEXT,
    summary         TEXT NOT NULL DEFAULT '',
    impact_users    TEXT NOT NULL DEFAULT '',
    impact_staff    TEXT NOT NULL DEFAULT '',
    impact_partners TEXT NOT NULL DEFAULT '',
    impact_other    TEXT NOT NULL DEFAULT '',
    trigger_text    TEXT NOT NULL DEFAULT '',
    detection       TEXT NOT NULL DEFAULT '',
    resolution      TEXT NOT NULL DEFAULT '',
    root_causes     TEXT NOT NULL DEFAULT '',
    went_well       TEXT NOT NULL DEFAULT '',
    went_wrong      TEXT NOT NULL DEFAULT '',
    got_lucky       TEXT NOT NULL DEFAULT '',
    updated_at      TEXT NOT NULL
);
CREATE INDEX incidents_status ON incidents (status, number);
CREATE INDEX incidents_severity ON incidents (severity, number);
CREATE INDEX incidents_declared_at ON incidents (declared_at);

-- Append-only history. `event` is the JSON of muster_core::incident::TimelineEvent.
CREATE TABLE timeline_entries (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    at          TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    author      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    event       TEXT NOT NULL,
    -- Identity of the outside thing an entry came from (a chat message), so that capturing
    -- it twice keeps one entry.
    source_key  TEXT,
    deleted_at  TEXT
);
CREATE INDEX timeline_by_incident ON timeline_entries (incident_id, at, seq);
CREATE UNIQUE INDEX timeline_by_source ON timeline_entries (incident_id, source_key)
    WHERE source_key IS NOT NULL;

CREATE TABLE status_updates (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    at          TEXT NOT NULL,
    author      TEXT NOT NULL,
    text        TEXT NOT NULL,
    status      TEXT NOT NULL,
    severity    TEXT NOT NULL
);
CREATE INDEX status_updates_by_incident ON status_updates (incident_id, id);

CREATE TABLE role_assignments (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    role        TEXT NOT NULL,
    person      TEXT NOT NULL,
    at          TEXT NOT NULL,
    assigned_by TEXT NOT NULL
);
CREATE INDEX role_assignments_by_incident ON role_assignments (incident_id, id);

CREATE TABLE action_items (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    number      INTEGER NOT NULL,
    text        TEXT NOT NULL,
    action_type TEXT NOT NULL,
    priority    TEXT NOT NULL,
    owner       TEXT,
    link        TEXT,
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    done_at     TEXT,
    UNIQUE (incident_id, number)
);

-- Typed references to things outside the record: {system, id, url}.
CREATE TABLE resources (
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    kind        TEXT NOT NULL,
    system      TEXT NOT NULL,
    external_id TEXT NOT NULL,
    url         TEXT,
    PRIMARY KEY (incident_id, kind)
);
