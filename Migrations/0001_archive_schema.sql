-- Archive schema v1. A public interface: documented in README.md.
-- Times are UTC text, exactly YYYY-MM-DDTHH:MM:SS.ffffffZ.

CREATE TABLE sessions (
  session_key       INTEGER PRIMARY KEY, -- compact internal key; events are stored under it
  session_id        TEXT NOT NULL UNIQUE,
  project_id        TEXT,              -- the project it was synced from; NULL = the key's default project
  organization_id   TEXT,
  title             TEXT,              -- the API's generated_title
  last_updated_at   TEXT NOT NULL,     -- normalised to UTC
  shared_access     TEXT,
  index_ids         TEXT,              -- JSON array, or NULL on unbound sessions
  job_duration_ms   REAL,              -- job_metadata: usage of the most recent run only
  job_input_tokens  INTEGER,
  job_output_tokens INTEGER,
  job_turns         INTEGER,
  job_is_error      INTEGER,
  job_error         TEXT,
  event_count       INTEGER NOT NULL DEFAULT 0,
  run_count         INTEGER NOT NULL DEFAULT 0, -- stop events: the usage rows of this session
  error_run_count   INTEGER NOT NULL DEFAULT 0,
  input_tokens      INTEGER NOT NULL DEFAULT 0, -- sums over the session's usage rows
  output_tokens     INTEGER NOT NULL DEFAULT 0,
  unknown_fields    TEXT,              -- JSON object of top-level fields this schema has no column for, or NULL
  meta              TEXT NOT NULL,     -- the session JSON exactly as received, without "events"
  source_hash       INTEGER,           -- 64-bit hash of the session JSON bytes last stored (sync or JSONL import)
  first_synced_at   TEXT NOT NULL,
  last_synced_at    TEXT NOT NULL,
  deleted_at        TEXT               -- set when the API no longer has it; NULL while it exists remotely
);
CREATE INDEX sessions_by_project ON sessions(project_id, last_updated_at);
CREATE INDEX sessions_by_updated ON sessions(last_updated_at);
CREATE INDEX sessions_by_source_hash ON sessions(source_hash);

-- Events are stored under one integer key, (session_key << 24) | seq, so a
-- session's history is one range of the table and needs no second index.
-- Read them through the view `events`.
CREATE TABLE event_types (
  type_id INTEGER PRIMARY KEY,
  type    TEXT NOT NULL UNIQUE           -- an event `type` as the API sent it
);

CREATE TABLE event_rows (
  event_key INTEGER PRIMARY KEY,
  turn      INTEGER NOT NULL,
  type_id   INTEGER REFERENCES event_types(type_id),  -- NULL when the event had no type
  content   TEXT,                      -- NULL when content_ref points at the text instead
  content_ref INTEGER,                 -- a delta whose text is a slice of a later block of its session:
                                       -- (block seq << 40) | (byte offset << 20) | byte length
  call_id   TEXT,
  name      TEXT,
  payload   TEXT
);

-- Events with their type decoded, their kind (the type, or for an untyped
-- event the one its fields show) and their text (a streamed delta's text is
-- stored once, as a slice of the block that completes it).
CREATE VIEW typed_events AS
SELECT e.event_key,
       e.turn,
       t.type,
       coalesce(t.type,
         CASE
           WHEN e.call_id IS NOT NULL AND json_type(e.payload, '$.arguments') IS NOT NULL THEN 'tool_call'
           WHEN e.call_id IS NOT NULL AND json_type(e.payload, '$.result') IS NOT NULL THEN 'tool_result'
           WHEN json_type(e.payload, '$.usage') IS NOT NULL OR json_type(e.payload, '$.is_error') IS NOT NULL THEN 'stop'
           ELSE 'untyped'
         END) AS kind,
       CASE WHEN e.content_ref IS NULL THEN e.content
            ELSE CAST(substr(CAST(b.content AS BLOB), ((e.content_ref >> 20) & 1048575) + 1, e.content_ref & 1048575) AS TEXT)
       END AS content,
       e.call_id,
       e.name,
       e.payload
FROM event_rows e
LEFT JOIN event_types t ON t.type_id = e.type_id
LEFT JOIN event_rows b ON e.content_ref IS NOT NULL
                      AND b.event_key = ((e.event_key >> 24) << 24) | (e.content_ref >> 40);

-- One row per event, in history order. Columns plus payload give back the
-- event exactly: a field is in its column when it is a JSON string, else in payload.
CREATE VIEW events AS
SELECT e.event_key                AS event_id,   -- the search index's key
       s.session_id,
       e.event_key & 16777215     AS seq,        -- 0-based position in the history
       e.turn,                                   -- 0-based run; a run starts at a user_input
       e.type,                                   -- as received; NULL when the event had none
       e.kind,
       e.content,
       e.call_id,
       e.name,
       e.payload                                 -- JSON object of every other field; NULL when there is none
FROM typed_events e
JOIN sessions s ON s.session_key = e.event_key >> 24
               AND e.event_key BETWEEN s.session_key << 24 AND (s.session_key << 24) | 16777215;

-- Which tool_result answers which tool_call (same call_id, first after the call).
CREATE TABLE tool_call_links (
  session_id TEXT NOT NULL,
  call_seq   INTEGER NOT NULL,
  result_seq INTEGER,                  -- NULL when no result arrived
  error_result INTEGER NOT NULL DEFAULT 0, -- 1 when the result reads as an error (see README)
  PRIMARY KEY (session_id, call_seq)
) WITHOUT ROWID;

CREATE VIEW tool_calls AS
SELECT l.session_id,
       c.call_id,
       c.turn,
       c.name,
       c.payload -> '$.arguments'                        AS arguments,
       r.payload -> '$.result'                           AS result,
       l.call_seq,
       l.result_seq,
       r.payload ->> '$.image_attachment.attachment_name' AS image_attachment_name,
       r.payload ->> '$.image_attachment.source_id'       AS image_source_id,
       l.error_result
FROM tool_call_links l
JOIN sessions s ON s.session_id = l.session_id
JOIN event_rows c ON c.event_key = (s.session_key << 24) | l.call_seq
LEFT JOIN event_rows r ON r.event_key = (s.session_key << 24) | l.result_seq;

-- One row per stop event: that run's usage.
CREATE TABLE usage (
  session_id    TEXT NOT NULL,
  session_key   INTEGER NOT NULL,      -- sessions.session_key, for compact indexes
  turn          INTEGER NOT NULL,
  seq           INTEGER NOT NULL,
  input_tokens  INTEGER,               -- NULL when the API reported none
  output_tokens INTEGER,
  duration_ms   REAL,
  agent_turns   INTEGER,               -- the API's usage.turns
  is_error      INTEGER NOT NULL,
  error         TEXT,
  occurred_at   TEXT NOT NULL,         -- the session's last_updated_at when this stop was first archived
  PRIMARY KEY (session_id, seq)
) WITHOUT ROWID;
CREATE INDEX usage_by_time ON usage(occurred_at, session_key, input_tokens, output_tokens, is_error);

-- Earlier histories that a later sync found rewritten (not extended).
CREATE TABLE session_revisions (
  session_id    TEXT NOT NULL,
  revision      INTEGER NOT NULL,      -- 1 for the first superseded history
  superseded_at TEXT NOT NULL,
  payload       TEXT NOT NULL,         -- the full previous session JSON
  PRIMARY KEY (session_id, revision)
);

CREATE TABLE sync_runs (
  run_id      INTEGER PRIMARY KEY,
  started_at  TEXT NOT NULL,
  finished_at TEXT,
  status      TEXT NOT NULL,           -- running | ok | partial | failed
  source      TEXT NOT NULL,           -- the API base URL, or 'import'
  projects    TEXT,                    -- JSON array of project ids synced (null = default project)
  listed      INTEGER NOT NULL DEFAULT 0,
  new         INTEGER NOT NULL DEFAULT 0,
  updated     INTEGER NOT NULL DEFAULT 0,
  unchanged   INTEGER NOT NULL DEFAULT 0,
  deleted     INTEGER NOT NULL DEFAULT 0,
  failed      INTEGER NOT NULL DEFAULT 0,
  requests    INTEGER NOT NULL DEFAULT 0,
  message     TEXT
);

CREATE TABLE sync_failures (
  run_id      INTEGER NOT NULL REFERENCES sync_runs(run_id),
  session_id  TEXT NOT NULL,
  project_id  TEXT,
  http_status INTEGER,                 -- NULL for failures that were not an HTTP status (bad JSON, network)
  message     TEXT NOT NULL,
  failed_at   TEXT NOT NULL
);
CREATE INDEX sync_failures_by_session ON sync_failures(session_id);

-- Full-text search over user inputs, final text and thinking blocks, tool
-- arguments and results. The text is not stored twice: the index reads it
-- from events through search_source.
CREATE VIEW search_source(event_id, body) AS
SELECT event_key,
       CASE kind
         WHEN 'tool_call' THEN payload ->> '$.arguments'
         WHEN 'tool_result' THEN payload -> '$.result'
         ELSE content
       END
FROM typed_events
WHERE kind IN ('user_input', 'text', 'thinking', 'tool_call', 'tool_result');

CREATE VIRTUAL TABLE search_index USING fts5(
  body,
  content = 'search_source',
  content_rowid = 'event_id',
  tokenize = 'porter unicode61 remove_diacritics 2'
);
-- Merge index segments 16 at a time rather than 4: a bulk import writes many
-- segments, and merging them less eagerly makes it about a fifth faster for
-- a few per cent on search latency.
INSERT INTO search_index(search_index, rank) VALUES ('automerge', 16);
