-- A team's archive: sessions from several accounts and regions. A session is
-- identified by its source and its id (two regions may use the same id).
-- Sessions archived before sources belong to the source named 'default'.
CREATE TABLE IF NOT EXISTS sources (
  source_key      INTEGER PRIMARY KEY,
  name            TEXT NOT NULL UNIQUE,  -- the config file's [[sources]] name; 'default' for flags alone
  base_url        TEXT,                  -- where it was last synced from (NULL: only imported)
  organization_id TEXT,
  last_synced_at  TEXT,                  -- when a sync of it last finished
  page_size       INTEGER                -- the largest list page its server took (NULL: not found yet)
);
INSERT OR IGNORE INTO sources(source_key, name) VALUES (1, 'default');
-- Page sizes were remembered per base URL; each source finds its own again (a few 422s, once).
DELETE FROM archive_settings WHERE name LIKE 'page_size %';

-- sessions: UNIQUE (session_id, source_key) instead of UNIQUE (session_id).
-- The views that read sessions name it, and read the rebuilt table.
PRAGMA legacy_alter_table = ON;
CREATE TABLE sessions_rebuilt (
  session_key       INTEGER PRIMARY KEY, -- compact internal key; events are stored under it
  session_id        TEXT NOT NULL,       -- the API's id; unique within its source
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
  deleted_at        TEXT,              -- set when the API no longer has it; NULL while it exists remotely
  content_pruned_at TEXT,
  change_seq        INTEGER NOT NULL DEFAULT 0,
  source_key        INTEGER NOT NULL DEFAULT 1 REFERENCES sources(source_key),
  UNIQUE (session_id, source_key)
);
INSERT INTO sessions_rebuilt(session_key, session_id, project_id, organization_id, title, last_updated_at, shared_access, index_ids,
  job_duration_ms, job_input_tokens, job_output_tokens, job_turns, job_is_error, job_error, event_count, run_count, error_run_count,
  input_tokens, output_tokens, unknown_fields, meta, source_hash, first_synced_at, last_synced_at, deleted_at, content_pruned_at,
  change_seq, source_key)
SELECT session_key, session_id, project_id, organization_id, title, last_updated_at, shared_access, index_ids,
  job_duration_ms, job_input_tokens, job_output_tokens, job_turns, job_is_error, job_error, event_count, run_count, error_run_count,
  input_tokens, output_tokens, unknown_fields, meta, source_hash, first_synced_at, last_synced_at, deleted_at, content_pruned_at,
  change_seq, 1
FROM sessions ORDER BY session_key;
DROP TABLE sessions;
ALTER TABLE sessions_rebuilt RENAME TO sessions;
CREATE INDEX sessions_by_project ON sessions(project_id, last_updated_at);
CREATE INDEX sessions_by_updated ON sessions(last_updated_at);
CREATE INDEX sessions_pruned ON sessions(content_pruned_at) WHERE content_pruned_at IS NOT NULL;
CREATE INDEX sessions_by_change ON sessions(change_seq);
CREATE INDEX sessions_by_tokens ON sessions(input_tokens + output_tokens DESC, last_updated_at DESC);
CREATE INDEX sessions_by_input_tokens ON sessions(input_tokens DESC);
CREATE INDEX sessions_by_output_tokens ON sessions(output_tokens DESC);

CREATE TABLE forgotten_rebuilt (
  session_id   TEXT NOT NULL,
  source_key   INTEGER NOT NULL DEFAULT 1,
  forgotten_at TEXT NOT NULL,
  reason       TEXT NOT NULL,
  kept_usage   INTEGER NOT NULL,        -- 1: its session row and usage were kept without content (--keep-usage)
  change_seq   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (session_id, source_key)
) WITHOUT ROWID;
INSERT INTO forgotten_rebuilt(session_id, source_key, forgotten_at, reason, kept_usage, change_seq)
SELECT session_id, 1, forgotten_at, reason, kept_usage, change_seq FROM forgotten;
DROP TABLE forgotten;
ALTER TABLE forgotten_rebuilt RENAME TO forgotten;

CREATE TABLE session_revisions_rebuilt (
  session_id    TEXT NOT NULL,
  source_key    INTEGER NOT NULL DEFAULT 1,
  revision      INTEGER NOT NULL,      -- 1 for the first superseded history
  superseded_at TEXT NOT NULL,
  payload       TEXT NOT NULL,         -- the full previous session JSON
  PRIMARY KEY (session_id, source_key, revision)
);
INSERT INTO session_revisions_rebuilt(session_id, source_key, revision, superseded_at, payload)
SELECT session_id, 1, revision, superseded_at, payload FROM session_revisions ORDER BY rowid;
DROP TABLE session_revisions;
ALTER TABLE session_revisions_rebuilt RENAME TO session_revisions;

CREATE TABLE sync_failures_rebuilt (
  run_id      INTEGER NOT NULL REFERENCES sync_runs(run_id),
  session_id  TEXT NOT NULL,
  project_id  TEXT,
  http_status INTEGER,                 -- NULL for failures that were not an HTTP status (bad JSON, network)
  message     TEXT NOT NULL,
  failed_at   TEXT NOT NULL,
  source_key  INTEGER NOT NULL DEFAULT 1
);
INSERT INTO sync_failures_rebuilt(run_id, session_id, project_id, http_status, message, failed_at, source_key)
SELECT run_id, session_id, project_id, http_status, message, failed_at, 1 FROM sync_failures ORDER BY rowid;
DROP TABLE sync_failures;
ALTER TABLE sync_failures_rebuilt RENAME TO sync_failures;
CREATE INDEX sync_failures_by_session ON sync_failures(session_id);

-- The rollups' groups, projects and tool scopes belong to a source: a report
-- by source, or of some sources, reads the rollups as one by project does.
-- Every row so far is the default source's.
CREATE TABLE rollup_groups_rebuilt (
  group_id   INTEGER PRIMARY KEY,
  project_id TEXT NOT NULL,            -- '' for the key's default project
  index_ids  TEXT NOT NULL,            -- the session's JSON array as stored; '' when unbound
  source_key INTEGER NOT NULL DEFAULT 1,
  UNIQUE (source_key, project_id, index_ids)
);
INSERT INTO rollup_groups_rebuilt(group_id, project_id, index_ids, source_key)
SELECT group_id, project_id, index_ids, 1 FROM rollup_groups ORDER BY group_id;
DROP TABLE rollup_groups;
ALTER TABLE rollup_groups_rebuilt RENAME TO rollup_groups;

CREATE TABLE rollup_projects_rebuilt (
  project_code INTEGER PRIMARY KEY,
  project_id   TEXT NOT NULL,          -- '' for the key's default project
  source_key   INTEGER NOT NULL DEFAULT 1,
  UNIQUE (source_key, project_id)
);
INSERT INTO rollup_projects_rebuilt(project_code, project_id, source_key)
SELECT project_code, project_id, 1 FROM rollup_projects ORDER BY project_code;
DROP TABLE rollup_projects;
ALTER TABLE rollup_projects_rebuilt RENAME TO rollup_projects;

CREATE TABLE tool_scopes_rebuilt (
  scope      INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  project_id TEXT NOT NULL,
  source_key INTEGER NOT NULL DEFAULT 1,
  UNIQUE (source_key, name, project_id)
);
INSERT INTO tool_scopes_rebuilt(scope, name, project_id, source_key)
SELECT scope, name, project_id, 1 FROM tool_scopes ORDER BY scope;
DROP TABLE tool_scopes;
ALTER TABLE tool_scopes_rebuilt RENAME TO tool_scopes;

CREATE TABLE tool_rollup_rebuilt (
  quarter_hour  INTEGER NOT NULL,
  project_id    TEXT NOT NULL,         -- '' for the key's default project
  name          TEXT NOT NULL,         -- '(unnamed)' for a call without a name
  source_key    INTEGER NOT NULL DEFAULT 1,  -- before the measures: SQLite 3.40's integrity_check misreads a key column after them
  calls         INTEGER NOT NULL,
  no_result     INTEGER NOT NULL,      -- calls no tool_result answered
  error_results INTEGER NOT NULL,
  runs_using    INTEGER NOT NULL,      -- runs with at least one such call
  PRIMARY KEY (name, quarter_hour, project_id, source_key)   -- tools reads it by name
) WITHOUT ROWID;
INSERT INTO tool_rollup_rebuilt(quarter_hour, project_id, name, source_key, calls, no_result, error_results, runs_using)
SELECT quarter_hour, project_id, name, 1, calls, no_result, error_results, runs_using FROM tool_rollup ORDER BY name, quarter_hour, project_id;
DROP TABLE tool_rollup;
ALTER TABLE tool_rollup_rebuilt RENAME TO tool_rollup;
PRAGMA legacy_alter_table = OFF;

-- usage_levels gets a scope per source, minus (2^40 + source_key), so that
-- --source and --by source read one scope per source. So far every session
-- is the default source's: its scope is the scope of every session (0).
INSERT OR REPLACE INTO usage_levels(scope, level, slot, runs, error_runs, runs_with_tokens, input_tokens, output_tokens, new_sessions)
SELECT -1099511627777, level, slot, runs, error_runs, runs_with_tokens, input_tokens, output_tokens, new_sessions
FROM usage_levels WHERE scope = 0;

-- The views name each row's session by its key too: an id alone may be in
-- two sources, (session_key) is one session.
DROP VIEW IF EXISTS tool_calls;
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
       l.error_result,
       s.session_key
FROM tool_call_rows l
JOIN sessions s ON s.session_key = l.call_key >> 24
               AND l.call_key BETWEEN s.session_key << 24 AND (s.session_key << 24) | 16777215
JOIN event_rows c ON c.event_key = l.call_key
LEFT JOIN event_rows r ON r.event_key = ((l.call_key >> 24) << 24) | l.result_seq;

DROP VIEW IF EXISTS events;
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
       e.payload,                                -- JSON object of every other field; NULL when there is none
       s.session_key                             -- sessions.session_key: the session, whatever its source
FROM typed_events e
JOIN sessions s ON s.session_key = e.event_key >> 24
               AND e.event_key BETWEEN s.session_key << 24 AND (s.session_key << 24) | 16777215;
