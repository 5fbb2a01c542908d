-- Several chat platforms at once: an incident has one channel per platform (a Slack
-- channel and a Matrix room), so a resource is keyed by (incident, kind, system), and it
-- keeps the name the platform actually gave it (a channel that got `-2` because its
-- planned name was taken).
CREATE TABLE resources_new (
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    kind        TEXT NOT NULL,
    system      TEXT NOT NULL,
    external_id TEXT NOT NULL,
    url         TEXT,
    name        TEXT,
    PRIMARY KEY (incident_id, kind, system)
);
INSERT INTO resources_new (incident_id, kind, system, external_id, url)
    SELECT incident_id, kind, system, external_id, url FROM resources;
DROP TABLE resources;
ALTER TABLE resources_new RENAME TO resources;
CREATE INDEX resources_by_external_id ON resources (kind, system, external_id);

-- Steps are typed (`muster_core::step::StepId`) and name the platform that runs them:
-- `channel` becomes `slack/channel`, `update:3` becomes `slack/update/3`, and a
-- reaction's `timeline:<event>` becomes `slack/capture/<event>`. Before this migration
-- only Slack had steps.
UPDATE jobs SET step = 'slack/' || CASE
        WHEN step LIKE 'timeline:%' THEN 'capture/' || substr(step, 10)
        ELSE replace(step, ':', '/')
    END
    WHERE instr(step, '/') = 0;
UPDATE jobs SET depends_on = 'slack/' || depends_on
    WHERE depends_on IS NOT NULL AND instr(depends_on, '/') = 0;
