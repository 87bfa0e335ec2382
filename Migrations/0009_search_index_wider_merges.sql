-- Merge search index segments 64 at a time (16 before), and force a merge
-- only past 128 segments on one level. A bulk import commits a segment per
-- batch; with 16-way merges 300,000 sessions paid for one more level of
-- merging than 100,000 did, and import time grew 3.4-3.7x for 3x the
-- sessions. With 64-way merges both sizes merge once (3.0-3.2x), and a
-- search for a term probes at most a few hundred segments.
INSERT INTO search_index(search_index, rank) VALUES ('automerge', 64);
INSERT INTO search_index(search_index, rank) VALUES ('crisismerge', 128);
