-- The writer now computes each event's search text itself (Normalizer.searchEntry)
-- instead of reading it back through this view; the view stays what FTS5 reads
-- for snippets, deletions and integrity checks, and a test holds the two together.
-- One change: tool arguments that are not a JSON string are indexed as their
-- JSON text, as tool results always were (a number keeps its literal).
DROP VIEW search_source;
CREATE VIEW search_source(event_id, body) AS
SELECT event_key,
       CASE kind
         WHEN 'tool_call' THEN
           CASE json_type(payload, '$.arguments')
             WHEN 'text' THEN payload ->> '$.arguments'
             ELSE payload -> '$.arguments'
           END
         WHEN 'tool_result' THEN payload -> '$.result'
         ELSE content
       END
FROM typed_events
WHERE kind IN ('user_input', 'text', 'thinking', 'tool_call', 'tool_result');

INSERT INTO search_index(search_index) VALUES ('rebuild');

-- Terms gather in memory up to 16 MB before they are written as a segment
-- (the default, 1 MB, cut a bulk import's index into many small segments
-- whose merging left about 5% of the file as free pages).
INSERT INTO search_index(search_index, rank) VALUES ('hashsize', 16777216);
