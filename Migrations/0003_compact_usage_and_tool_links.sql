-- Runs and tool call links keyed like events, by (session_key << 24) | seq,
-- instead of by session_id text: a fifth of their size, and rows of a new
-- session go at the end of their tables. The views `usage` and
-- `tool_call_links` keep the columns they had as tables.

CREATE TABLE usage_rows (
  run_key       INTEGER PRIMARY KEY,   -- (session_key << 24) | seq of the stop event
  turn          INTEGER NOT NULL,
  input_tokens  INTEGER,
  output_tokens INTEGER,
  duration_ms   REAL,
  agent_turns   INTEGER,
  is_error      INTEGER NOT NULL,
  error         TEXT,
  occurred_at   TEXT NOT NULL
);
INSERT INTO usage_rows(run_key, turn, input_tokens, output_tokens, duration_ms, agent_turns, is_error, error, occurred_at)
SELECT (session_key << 24) | seq, turn, input_tokens, output_tokens, duration_ms, agent_turns, is_error, error, occurred_at
FROM usage ORDER BY session_key, seq;
DROP TABLE usage;
-- Covers the token reports; the session is the row key's high bits.
CREATE INDEX usage_by_time ON usage_rows(occurred_at, input_tokens, output_tokens, is_error);

CREATE VIEW usage AS
SELECT s.session_id,
       u.run_key >> 24          AS session_key,
       u.turn,
       u.run_key & 16777215     AS seq,
       u.input_tokens, u.output_tokens, u.duration_ms, u.agent_turns, u.is_error, u.error, u.occurred_at
FROM usage_rows u
LEFT JOIN sessions s ON s.session_key = u.run_key >> 24
                    AND u.run_key BETWEEN s.session_key << 24 AND (s.session_key << 24) | 16777215;

CREATE TABLE tool_call_rows (
  call_key     INTEGER PRIMARY KEY,    -- (session_key << 24) | seq of the tool_call
  result_seq   INTEGER,                -- the first later tool_result of the same call_id; NULL when none arrived
  error_result INTEGER NOT NULL DEFAULT 0
);
INSERT INTO tool_call_rows(call_key, result_seq, error_result)
SELECT (s.session_key << 24) | l.call_seq, l.result_seq, l.error_result
FROM tool_call_links l JOIN sessions s ON s.session_id = l.session_id
ORDER BY 1;
DROP VIEW tool_calls;
DROP TABLE tool_call_links;

CREATE VIEW tool_call_links AS
SELECT s.session_id, l.call_key & 16777215 AS call_seq, l.result_seq, l.error_result
FROM tool_call_rows l
LEFT JOIN sessions s ON s.session_key = l.call_key >> 24
                    AND l.call_key BETWEEN s.session_key << 24 AND (s.session_key << 24) | 16777215;

CREATE VIEW tool_calls AS
SELECT s.session_id,
       c.call_id,
       c.turn,
       c.name,
       c.payload -> '$.arguments'                        AS arguments,
       r.payload -> '$.result'                           AS result,
       l.call_key & 16777215                             AS call_seq,
       l.result_seq,
       r.payload ->> '$.image_attachment.attachment_name' AS image_attachment_name,
       r.payload ->> '$.image_attachment.source_id'       AS image_source_id,
       l.error_result
FROM tool_call_rows l
JOIN sessions s ON s.session_key = l.call_key >> 24
               AND l.call_key BETWEEN s.session_key << 24 AND (s.session_key << 24) | 16777215
JOIN event_rows c ON c.event_key = l.call_key
LEFT JOIN event_rows r ON r.event_key = ((l.call_key >> 24) << 24) | l.result_seq;
