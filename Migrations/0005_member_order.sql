-- Events and sessions come back in the order the API sent their members.
--
-- An event whose members were not in the order export writes by default
-- (its columns type, content, call_id, name, then its payload's members) has
-- a layout: one letter per member as sent, t c i n for the columns and p for
-- the next payload member ("ct" for {"content": ..., "type": ...}). A layout
-- is interned with the type, in event_types, so that it costs the rows
-- nothing: (type, layout) pairs get codes, the type NULL for an untyped event.
-- event_rows.type_id refers to event_types: checked at commit, when every
-- code is back in place.
PRAGMA defer_foreign_keys = ON;
CREATE TEMP TABLE saved_event_types AS SELECT type_id, type FROM event_types;
DROP TABLE event_types;
CREATE TABLE event_types (
  type_id INTEGER PRIMARY KEY,
  type    TEXT,                          -- an event `type` as the API sent it; NULL: untyped
  layout  TEXT                           -- the order of its members; NULL: the default order
);
CREATE UNIQUE INDEX event_types_by_shape ON event_types(type IS NULL, ifnull(type, ''), ifnull(layout, ''));
INSERT INTO event_types(type_id, type) SELECT type_id, type FROM saved_event_types;
DROP TABLE saved_event_types;

-- sessions.meta now holds an `events` member where the API sent it (`[]`
-- standing for the events, or null), and none when it sent none. Archived
-- sessions were exported with `events` last: their meta says so.
UPDATE sessions SET meta = CASE WHEN meta = '{}' THEN '{"events":[]}'
                                ELSE substr(meta, 1, length(meta) - 1) || ',"events":[]}' END;
