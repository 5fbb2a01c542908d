-- Exactly-once effects outside (a Slack channel, a posted message) across crashes.
--
-- `runs` counts every claim of a step and is never reset (a retry button resets
-- `attempts`): a step with runs > 1 may already have had its effect, so it looks for it
-- before acting again.
ALTER TABLE jobs ADD COLUMN runs INTEGER NOT NULL DEFAULT 0;

-- Names (or other scarce keys) reserved by an incident before asking for them outside, so
-- that after a crash an incident can tell "taken by my earlier run" from "taken by someone
-- else", and two incidents never both adopt the same thing.
CREATE TABLE reservations (
    key         TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    created_at  TEXT NOT NULL
);

-- The incident a delivery (a Slack view submission) declared, written in the same
-- transaction as the incident and its workflow: a redelivery finds it, and a failed
-- declaration leaves no key behind to swallow the user's retry.
ALTER TABLE idempotency_keys ADD COLUMN incident_id TEXT;
