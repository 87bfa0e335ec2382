-- Forgetting on purpose (`archive forget`, `prune`, `redact --apply`).
--
-- One row per session forgotten: sync and import never bring it back
-- until `archive forget --undo ID` removes its row. The reason is the
-- selector the command was given (a project id, a date, "--match" without
-- its query), never the session's content.
CREATE TABLE forgotten (
  session_id   TEXT PRIMARY KEY,
  forgotten_at TEXT NOT NULL,
  reason       TEXT NOT NULL,
  kept_usage   INTEGER NOT NULL         -- 1: its session row and usage were kept without content (--keep-usage)
) WITHOUT ROWID;

-- Listed sessions a sync skipped because they were forgotten.
ALTER TABLE sync_runs ADD COLUMN forgotten INTEGER NOT NULL DEFAULT 0;

-- When a session's content (events' text, tool arguments and results, its
-- title and revisions) was dropped, by `prune`, retention or `forget
-- --keep-usage`; NULL while it is whole. Its ids, times, project, index set
-- and usage stay.
ALTER TABLE sessions ADD COLUMN content_pruned_at TEXT;
CREATE INDEX sessions_pruned ON sessions(content_pruned_at) WHERE content_pruned_at IS NOT NULL;

-- Writers run with secure_delete on from this version: what they delete is
-- overwritten. An archive written before may hold fragments of deleted text
-- in free space, so the first forget, prune or redact rewrites it whole
-- (VACUUM) and drops this mark.
INSERT INTO archive_settings(name, value)
SELECT 'content_may_linger', 1 WHERE EXISTS (SELECT 1 FROM sessions) OR EXISTS (SELECT 1 FROM session_revisions);
