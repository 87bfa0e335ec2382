-- `archive status` without counting rows: the writer keeps these counts in
-- the same transaction as the rows they count.
CREATE TABLE archive_counts (
  name  TEXT PRIMARY KEY,   -- sessions, deleted_sessions, events, tool_calls, runs, revisions
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO archive_counts VALUES
  ('sessions', (SELECT count(*) FROM sessions)),
  ('deleted_sessions', (SELECT count(*) FROM sessions WHERE deleted_at IS NOT NULL)),
  ('events', (SELECT count(*) FROM event_rows)),
  ('tool_calls', (SELECT count(*) FROM tool_call_rows)),
  ('runs', (SELECT count(*) FROM usage_rows)),
  ('revisions', (SELECT count(*) FROM session_revisions));

-- The rollups answer the token reports this index served (a window between
-- quarter hours reads the rows in key order instead); it was a tenth of the
-- usage rows' size.
DROP INDEX usage_by_time;
