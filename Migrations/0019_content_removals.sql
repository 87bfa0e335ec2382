-- Text removed from sessions that stay: by `prune` (and retention, and
-- `forget --keep-usage`) and by `redact --apply`. An incremental
-- `export --dataset` reads the removals since its cursor, as it reads
-- `forgotten`, and rewrites the partition files that still hold the
-- sessions' earlier snapshots without them. The session id, never its text.
CREATE TABLE IF NOT EXISTS content_removals (
  session_id TEXT NOT NULL,
  source_key INTEGER NOT NULL,
  change_seq INTEGER NOT NULL,          -- the change number of the write that removed the text
  removed_at TEXT NOT NULL,
  reason     TEXT NOT NULL,             -- prune | redact
  PRIMARY KEY (session_id, source_key, change_seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS content_removals_by_change ON content_removals(change_seq);
