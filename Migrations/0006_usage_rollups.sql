-- Token reports that do not grow with the archive: runs summed per UTC
-- quarter hour, project and index set, kept by the writer in the same
-- transaction as the rows (ArchiveStore's UsageRollups) and folded into
-- days, weeks or months of any zone at query time (every zone's midnight
-- falls on a quarter hour).
--
-- Counting sessions exactly: a session's runs, grouped by quarter hour, are
-- its entries. An entry is "new" when it is the session's first; any other
-- goes into session_returns with its gap (quarter hours since the session's
-- previous entry). A session has runs in a bucket starting at quarter hour B
-- when one of its entries in the bucket is new or has gap > (its quarter hour - B).

-- Sessions are grouped by project and index set; a group has a small code.
CREATE TABLE rollup_groups (
  group_id   INTEGER PRIMARY KEY,
  project_id TEXT NOT NULL,            -- '' for the key's default project
  index_ids  TEXT NOT NULL,            -- the session's JSON array as stored; '' when unbound
  UNIQUE (project_id, index_ids)
);

CREATE TABLE usage_rollup (
  quarter_hour     INTEGER NOT NULL,   -- unixepoch(occurred_at) / 900
  group_id         INTEGER NOT NULL,   -- rollup_groups: the sessions' project and index set
  runs             INTEGER NOT NULL,
  error_runs       INTEGER NOT NULL,
  runs_with_tokens INTEGER NOT NULL,   -- runs with input or output tokens (those a price applies to)
  input_tokens     INTEGER NOT NULL,
  output_tokens    INTEGER NOT NULL,
  new_sessions     INTEGER NOT NULL,   -- sessions whose first runs these are
  PRIMARY KEY (quarter_hour, group_id)
) WITHOUT ROWID;

CREATE TABLE session_returns (
  quarter_hour INTEGER NOT NULL,
  group_id     INTEGER NOT NULL,
  gap          INTEGER NOT NULL,       -- quarter hours since the session's previous runs
  sessions     INTEGER NOT NULL,
  PRIMARY KEY (quarter_hour, group_id, gap)
) WITHOUT ROWID;

INSERT INTO rollup_groups(project_id, index_ids)
SELECT DISTINCT coalesce(project_id, ''), coalesce(index_ids, '') FROM sessions;

CREATE TEMP TABLE rollup_entries AS
SELECT e.qh, g.group_id, e.runs, e.error_runs, e.runs_with_tokens, e.input_tokens, e.output_tokens,
       e.qh - lag(e.qh) OVER (PARTITION BY e.session_key ORDER BY e.qh) AS gap
FROM (SELECT run_key >> 24 AS session_key, unixepoch(occurred_at) / 900 AS qh, count(*) AS runs,
             sum(is_error) AS error_runs, sum(input_tokens IS NOT NULL OR output_tokens IS NOT NULL) AS runs_with_tokens,
             coalesce(sum(input_tokens), 0) AS input_tokens, coalesce(sum(output_tokens), 0) AS output_tokens
      FROM usage_rows GROUP BY 1, 2) e
JOIN sessions s ON s.session_key = e.session_key
JOIN rollup_groups g ON g.project_id = coalesce(s.project_id, '') AND g.index_ids = coalesce(s.index_ids, '');

INSERT INTO usage_rollup
SELECT qh, group_id, sum(runs), sum(error_runs), sum(runs_with_tokens), sum(input_tokens), sum(output_tokens), sum(gap IS NULL)
FROM rollup_entries GROUP BY 1, 2;

INSERT INTO session_returns
SELECT qh, group_id, gap, count(*) FROM rollup_entries WHERE gap IS NOT NULL GROUP BY 1, 2, 3;

DROP TABLE rollup_entries;
