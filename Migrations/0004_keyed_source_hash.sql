-- Settings of this archive; the first is the random key of the source hash.
CREATE TABLE archive_settings (
  name  TEXT PRIMARY KEY,
  value BLOB NOT NULL
) WITHOUT ROWID;

-- sessions.source_hash becomes SipHash-2-4-128 under this key (16 bytes):
-- the 64-bit hashes before it could be collided on purpose. They are
-- dropped; the next import of a session stores its new one.
INSERT INTO archive_settings(name, value) VALUES ('source_hash_key', randomblob(16));
UPDATE sessions SET source_hash = NULL;
-- Imports read every hash at once; no query looks one up.
DROP INDEX sessions_by_source_hash;

-- A streamed delta with empty text used to be stored as a slice of length 0
-- of its block, which SQLite reads back as NULL: it keeps its '' instead.
UPDATE event_rows SET content = '', content_ref = NULL
WHERE content_ref IS NOT NULL AND (content_ref & 1048575) = 0;
