-- Reports that read about one row per bucket they print, however long the
-- span and however many groups: the quarter-hour rollups (0006, 0007) summed
-- again per scope at three levels, each a running sum within a block of the
-- next (the writer keeps them, in the same transaction, from the same deltas):
--   level 0: slot = quarter hour; the sum from the start of its UTC day up to and including it
--   level 1: slot = UTC day (unixepoch / 86400); the sum from the start of its era (512 days) up to and including it
--   level 2: slot = era (day / 512); the era's sum
-- The sum of any span of quarter hours is then two differences of running
-- sums plus the eras between: a local day, week or month of any zone (its
-- midnight falls on a quarter hour) costs a few rows, not one per quarter hour.
-- Days and eras are floor divisions (slots before 1970 are negative).

-- Projects get small codes, like project-and-index groups (rollup_groups).
CREATE TABLE rollup_projects (
  project_code INTEGER PRIMARY KEY,
  project_id   TEXT NOT NULL UNIQUE    -- '' for the key's default project
);

CREATE TABLE usage_levels (
  scope            INTEGER NOT NULL,   -- 0: every session; > 0: a rollup_groups group_id; < 0: minus a rollup_projects project_code
  level            INTEGER NOT NULL,   -- 0, 1 or 2 (above)
  slot             INTEGER NOT NULL,
  runs             INTEGER NOT NULL,   -- the measures of usage_rollup, summed
  error_runs       INTEGER NOT NULL,
  runs_with_tokens INTEGER NOT NULL,
  input_tokens     INTEGER NOT NULL,
  output_tokens    INTEGER NOT NULL,
  new_sessions     INTEGER NOT NULL,
  PRIMARY KEY (scope, level, slot)
) WITHOUT ROWID;

-- A tool name in a project.
CREATE TABLE tool_scopes (
  scope      INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  project_id TEXT NOT NULL,
  UNIQUE (name, project_id)
);

CREATE TABLE tool_levels (
  scope         INTEGER NOT NULL,      -- tool_scopes
  level         INTEGER NOT NULL,
  slot          INTEGER NOT NULL,
  calls         INTEGER NOT NULL,      -- the measures of tool_rollup, summed
  no_result     INTEGER NOT NULL,
  error_results INTEGER NOT NULL,
  runs_using    INTEGER NOT NULL,
  PRIMARY KEY (scope, level, slot)
) WITHOUT ROWID;

-- 0006 and 0007 put a run in the quarter hour SQLite finds, which is not
-- the one the writer finds for two kinds of times: a fraction of a second
-- from .9995 (unixepoch rounds it up to the next second) and times before
-- 1970 (integer division truncates toward zero). The quarter-hour rollups
-- are rebuilt here from whole seconds, rounded down, as the writer does.
DELETE FROM usage_rollup;
DELETE FROM session_returns;
DELETE FROM tool_rollup;
CREATE TEMP TABLE rollup_entries AS
SELECT e.qh, g.group_id, e.runs, e.error_runs, e.runs_with_tokens, e.input_tokens, e.output_tokens,
       e.qh - lag(e.qh) OVER (PARTITION BY e.session_key ORDER BY e.qh) AS gap
FROM (SELECT run_key >> 24 AS session_key,
             unixepoch(substr(occurred_at, 1, 19)) / 900 - (unixepoch(substr(occurred_at, 1, 19)) % 900 < 0) AS qh, count(*) AS runs,
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
INSERT INTO tool_rollup
SELECT qh, project_id, name, count(*), sum(result_seq IS NULL), sum(error_result), count(DISTINCT session_key << 24 | turn)
FROM (SELECT unixepoch(substr(at, 1, 19)) / 900 - (unixepoch(substr(at, 1, 19)) % 900 < 0) AS qh,
             project_id, name, session_key, turn, result_seq, error_result
      FROM (SELECT coalesce((SELECT u.occurred_at FROM usage_rows u
                             WHERE u.run_key BETWEEN s.session_key << 24 AND (s.session_key << 24) | 16777215
                               AND u.turn = c.turn), s.last_updated_at) AS at,
                   coalesce(s.project_id, '') AS project_id, coalesce(c.name, '(unnamed)') AS name, s.session_key, c.turn,
                   l.result_seq, l.error_result
            FROM tool_call_rows l
            JOIN sessions s ON s.session_key = l.call_key >> 24
            JOIN event_rows c ON c.event_key = l.call_key))
GROUP BY 1, 2, 3;

INSERT INTO rollup_projects(project_id) SELECT DISTINCT project_id FROM rollup_groups ORDER BY 1;
INSERT INTO tool_scopes(name, project_id) SELECT DISTINCT name, project_id FROM tool_rollup ORDER BY 1, 2;

CREATE TEMP TABLE usage_by_scope AS
SELECT scope, qh, (qh - ((qh % 96) + 96) % 96) / 96 AS day, runs, error_runs, runs_with_tokens, input_tokens, output_tokens, new_sessions
FROM (SELECT 0 AS scope, quarter_hour AS qh, sum(runs) AS runs, sum(error_runs) AS error_runs, sum(runs_with_tokens) AS runs_with_tokens,
             sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, sum(new_sessions) AS new_sessions
      FROM usage_rollup GROUP BY quarter_hour
      UNION ALL
      SELECT -p.project_code, r.quarter_hour, sum(runs), sum(error_runs), sum(runs_with_tokens), sum(input_tokens), sum(output_tokens), sum(new_sessions)
      FROM usage_rollup r JOIN rollup_groups g USING (group_id) JOIN rollup_projects p ON p.project_id = g.project_id
      GROUP BY 1, 2
      UNION ALL
      SELECT group_id, quarter_hour, runs, error_runs, runs_with_tokens, input_tokens, output_tokens, new_sessions FROM usage_rollup);

INSERT INTO usage_levels
SELECT scope, 0, qh, sum(runs) OVER w, sum(error_runs) OVER w, sum(runs_with_tokens) OVER w, sum(input_tokens) OVER w,
       sum(output_tokens) OVER w, sum(new_sessions) OVER w
FROM usage_by_scope WINDOW w AS (PARTITION BY scope, day ORDER BY qh);

INSERT INTO usage_levels
SELECT scope, 1, day, sum(runs) OVER w, sum(error_runs) OVER w, sum(runs_with_tokens) OVER w, sum(input_tokens) OVER w,
       sum(output_tokens) OVER w, sum(new_sessions) OVER w
FROM (SELECT scope, day, (day - ((day % 512) + 512) % 512) / 512 AS era, sum(runs) AS runs, sum(error_runs) AS error_runs,
             sum(runs_with_tokens) AS runs_with_tokens, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
             sum(new_sessions) AS new_sessions
      FROM usage_by_scope GROUP BY scope, day)
WINDOW w AS (PARTITION BY scope, era ORDER BY day);

INSERT INTO usage_levels
SELECT scope, 2, (day - ((day % 512) + 512) % 512) / 512, sum(runs), sum(error_runs), sum(runs_with_tokens), sum(input_tokens),
       sum(output_tokens), sum(new_sessions)
FROM usage_by_scope GROUP BY 1, 3;

DROP TABLE usage_by_scope;

CREATE TEMP TABLE tools_by_scope AS
SELECT s.scope, t.quarter_hour AS qh, (t.quarter_hour - ((t.quarter_hour % 96) + 96) % 96) / 96 AS day,
       t.calls, t.no_result, t.error_results, t.runs_using
FROM tool_rollup t JOIN tool_scopes s ON s.name = t.name AND s.project_id = t.project_id;

INSERT INTO tool_levels
SELECT scope, 0, qh, sum(calls) OVER w, sum(no_result) OVER w, sum(error_results) OVER w, sum(runs_using) OVER w
FROM tools_by_scope WINDOW w AS (PARTITION BY scope, day ORDER BY qh);

INSERT INTO tool_levels
SELECT scope, 1, day, sum(calls) OVER w, sum(no_result) OVER w, sum(error_results) OVER w, sum(runs_using) OVER w
FROM (SELECT scope, day, (day - ((day % 512) + 512) % 512) / 512 AS era, sum(calls) AS calls, sum(no_result) AS no_result,
             sum(error_results) AS error_results, sum(runs_using) AS runs_using
      FROM tools_by_scope GROUP BY scope, day)
WINDOW w AS (PARTITION BY scope, era ORDER BY day);

INSERT INTO tool_levels
SELECT scope, 2, (day - ((day % 512) + 512) % 512) / 512, sum(calls), sum(no_result), sum(error_results), sum(runs_using)
FROM tools_by_scope GROUP BY 1, 3;

DROP TABLE tools_by_scope;
