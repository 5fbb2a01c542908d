-- Alerts from monitoring (issue 12).
--
-- Every delivery is kept as received, redacted by the scanner's redactor, in the same
-- transaction as what it caused; Muster answers the sender only after that commit.
CREATE TABLE alert_deliveries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    source      TEXT NOT NULL,
    group_key   TEXT NOT NULL,
    received_at TEXT NOT NULL,
    -- declare | suggest | ignore | record: what the rules said.
    action      TEXT NOT NULL,
    payload     TEXT NOT NULL,
    incident_id TEXT REFERENCES incidents (id)
);
CREATE INDEX alert_deliveries_by_group ON alert_deliveries (source, group_key);

-- The incidents a group declared. A group's alerts go to its newest incident that is not
-- closed; once that one is closed, the group's next firing alert declares a new one.
CREATE TABLE alert_groups (
    source      TEXT NOT NULL,
    group_key   TEXT NOT NULL,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    created_at  TEXT NOT NULL,
    PRIMARY KEY (source, group_key, incident_id)
);

-- Each alert of an incident, by fingerprint, with its last status.
CREATE TABLE alerts (
    incident_id   TEXT NOT NULL REFERENCES incidents (id),
    fingerprint   TEXT NOT NULL,
    name          TEXT NOT NULL,
    firing        INTEGER NOT NULL,
    labels        TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    PRIMARY KEY (incident_id, fingerprint)
);
