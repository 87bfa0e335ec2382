-- Events and sessions come back in the order the API sent their members.
--
-- An event whose members were not in the order export writes by default
-- (its columns type, content, call_id, name, then its payload's members) has
-- a layout: one letter per member as sent, t c i n for the columns and p for
-- the next payload member ("ct" for {"content": ..., "type": ...}). Layouts
-- are interned here; events in the default order have none.
CREATE TABLE event_layouts (
  layout_id INTEGER PRIMARY KEY,
  layout    TEXT NOT NULL UNIQUE
);
ALTER TABLE event_rows ADD COLUMN layout_id INTEGER;

-- sessions.meta now holds an `events` member where the API sent it (`[]`
-- standing for the events, or null), and none when it sent none. Archived
-- sessions were exported with `events` last: their meta says so.
UPDATE sessions SET meta = CASE WHEN meta = '{}' THEN '{"events":[]}'
                                ELSE substr(meta, 1, length(meta) - 1) || ',"events":[]}' END;
