-- `archive tools` without reading every call: calls summed per UTC quarter
-- hour (of the call's run, or of the session's last update for a run not
-- yet stopped), project and tool name, kept by the writer like usage_rollup.
-- A run lies in one quarter hour, so runs calling a tool add up. Keyed by
-- name first: `archive tools` sums it by name without sorting.

CREATE TABLE tool_rollup (
  quarter_hour  INTEGER NOT NULL,
  project_id    TEXT NOT NULL,         -- '' for the key's default project
  name          TEXT NOT NULL,         -- '(unnamed)' for a call without a name
  calls         INTEGER NOT NULL,
  no_result     INTEGER NOT NULL,      -- calls no tool_result answered
  error_results INTEGER NOT NULL,
  runs_using    INTEGER NOT NULL,      -- runs with at least one such call
  PRIMARY KEY (name, quarter_hour, project_id)   -- tools reads it by name
) WITHOUT ROWID;

INSERT INTO tool_rollup
SELECT qh, project_id, name, count(*), sum(result_seq IS NULL), sum(error_result), count(DISTINCT session_key << 24 | turn)
FROM (SELECT unixepoch(coalesce((SELECT u.occurred_at FROM usage_rows u
                                 WHERE u.run_key BETWEEN s.session_key << 24 AND (s.session_key << 24) | 16777215
                                   AND u.turn = c.turn), s.last_updated_at)) / 900 AS qh,
             coalesce(s.project_id, '') AS project_id, coalesce(c.name, '(unnamed)') AS name, s.session_key, c.turn,
             l.result_seq, l.error_result
      FROM tool_call_rows l
      JOIN sessions s ON s.session_key = l.call_key >> 24
      JOIN event_rows c ON c.event_key = l.call_key)
GROUP BY 1, 2, 3;
