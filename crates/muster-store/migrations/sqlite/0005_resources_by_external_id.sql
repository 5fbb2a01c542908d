-- Every Slack request in an incident channel finds its incident by the channel id
-- (`incident_by_resource`): without this index that is a scan of every resource ever
-- recorded, which made acknowledgements slower as incidents accumulated (load benchmark).
CREATE INDEX resources_by_external_id ON resources (kind, system, external_id);
