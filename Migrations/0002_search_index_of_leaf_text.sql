-- The search index holds the text of user inputs, final text and thinking
-- blocks, and the string and integer leaves of tool arguments and results
-- (not their JSON keys and punctuation, which only added terms that every
-- tool result shares). It keeps no copy of the text: the writer computes it
-- as it stores each event (Normalizer.searchEntry) and again to delete it;
-- the view search_source computes the same from the stored rows, and a test
-- holds the two together.
DROP TABLE search_index;
CREATE VIRTUAL TABLE search_index USING fts5(
  body,
  content = '',
  tokenize = 'porter unicode61 remove_diacritics 2'
);
-- Merge index segments 16 at a time rather than 4: a bulk import writes many
-- segments, and merging them less eagerly makes it about a fifth faster for
-- a few per cent on search latency.
INSERT INTO search_index(search_index, rank) VALUES ('automerge', 16);
-- Terms gather in memory up to 16 MB before they are written as a segment
-- (at the default, 1 MB, a bulk import wrote many small segments whose
-- merging left about 5% of the file as free pages).
INSERT INTO search_index(search_index, rank) VALUES ('hashsize', 16777216);

DROP VIEW search_source;
CREATE VIEW search_source(event_id, body) AS
SELECT event_key,
       CASE WHEN kind IN ('tool_call', 'tool_result') THEN
              (SELECT group_concat(atom, ' ')
               FROM json_tree(payload, CASE kind WHEN 'tool_call' THEN '$.arguments' ELSE '$.result' END)
               WHERE type = 'text' OR (type = 'integer' AND typeof(atom) = 'integer'))
            ELSE content
       END
FROM typed_events
WHERE kind IN ('user_input', 'text', 'thinking', 'tool_call', 'tool_result');

INSERT INTO search_index(rowid, body) SELECT event_id, body FROM search_source;
