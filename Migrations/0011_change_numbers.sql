-- What changed since a dataset export (`archive export --dataset`): every
-- write that changes a session (saved new or changed, marked deleted,
-- pruned) gives it the next change number, and so does the record of a
-- forgotten session. An export notes the highest number it wrote; the next
-- writes only what is above it. 0: before this version (a first export
-- writes everything anyway).
ALTER TABLE sessions ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
CREATE INDEX sessions_by_change ON sessions(change_seq);
ALTER TABLE forgotten ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;

-- Names this archive in a dataset's manifest, so that an export into a
-- folder that another archive wrote is refused.
INSERT INTO archive_settings(name, value) VALUES ('archive_id', lower(hex(randomblob(16))));
