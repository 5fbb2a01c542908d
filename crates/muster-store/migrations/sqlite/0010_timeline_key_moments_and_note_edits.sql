-- Key moments (the report highlights them) and notes rewritten by their author: the old
-- entry is hidden (deleted_at), never erased, and the new one names it.
ALTER TABLE timeline_entries ADD COLUMN key_moment INTEGER NOT NULL DEFAULT 0;
ALTER TABLE timeline_entries ADD COLUMN edited_from INTEGER REFERENCES timeline_entries (seq);
