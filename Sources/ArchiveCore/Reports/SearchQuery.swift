import SQLiteCore

/// `archive search`: full-text search with a highlighted snippet. The order,
/// as `search --help` and the docs state it: newest first (the matching
/// events of the sessions that came into the archive last, each session's
/// latest events first), so that a page costs the same whatever the number
/// of matches, and filters narrow the work (`NewestMatches`). Plain words
/// must all match, so a rare word finds the sessions it names and nothing
/// else. `byRelevance`: every match ranked by bm25, best first, at a cost
/// that grows with the matches.
public struct SearchQuery {
    /// Rank every match by bm25 instead of giving the newest.
    public var byRelevance = false

    public var text: String
    /// Raw FTS5 syntax instead of plain words.
    public var rawFTS = false
    /// Only these projects (empty: all).
    public var projects: [String] = []
    /// Only sessions of these sources, by name (empty: all).
    public var sources: [String] = []
    public var window: TimeWindow = .unbounded
    public var limit = 20
    public var highlight: (open: String, close: String) = ("[", "]")

    public enum SearchError: Error, CustomStringConvertible, Equatable {
        case nothingToSearch(String)
        case invalidSyntax(String)

        public var description: String {
            switch self {
            case .nothingToSearch(let text): "nothing to search for in \"\(text)\""
            case .invalidSyntax(let message): "invalid search syntax: \(message)"
            }
        }
    }

    public init(text: String) { self.text = text }

    /// Plain words become quoted FTS5 terms, all required: quotes, hyphens and
    /// colons in the query are just text.
    public static func ftsQuery(plainWords text: String) -> String? {
        var terms: [String] = []
        var current = ""
        for character in text {
            if character.isLetter || character.isNumber || character == "_" || (character.unicodeScalars.first?.properties.isEmoji ?? false && !character.isASCII) {
                current.append(character)
            } else if !current.isEmpty {
                terms.append(current)
                current = ""
            }
        }
        if !current.isEmpty { terms.append(current) }
        guard !terms.isEmpty else { return nil }
        return terms.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: " ")
    }

    func run(on database: Database) throws -> QueryTable {
        var table = frame
        try stream(on: database) { table.rows.append($0) }
        return table
    }

    /// The columns of the answer, without rows.
    var frame: QueryTable {
        QueryTable(columns: QueryTable.Column.sessionIdentity + [
            .init("title", optional: true), .init("run", kind: .integer),
            .init("kind", title: "event", optional: true), .init("snippet"),
        ] + (byRelevance ? [.init("rank", kind: .number, optional: true)] : []))
    }

    /// Each row of the answer as it is found, in batches: every match (`limit`
    /// below 0) in flat memory.
    func stream(on database: Database, row: ([QueryTable.Cell]) throws -> Void) throws {
        let match: String
        if rawFTS {
            match = text
        } else {
            guard let query = Self.ftsQuery(plainWords: text) else {
                throw SearchError.nothingToSearch(text)
            }
            match = query
        }
        do {
            // Snippets and event details for the hits only. The index keeps no
            // text, so the hits' text goes into a temporary index of the same
            // kind, where FTS5 can cut and mark the snippet.
            try database.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_hits USING fts5(body, tokenize = '\(ArchiveSchema.searchTokenizer)')")
            let copy = try database.cached(
                "INSERT INTO temp.search_hits(rowid, body) SELECT event_id, body FROM search_source WHERE event_id = ?")
            let detail = try database.cached("""
                SELECT \(SourceSQL.identity("s")), s.title, e.turn + 1, e.kind, snippet(search_hits, 0, ?1, ?2, '…', 12)
                FROM temp.search_hits
                JOIN events e ON e.event_id = search_hits.rowid
                JOIN sessions s ON s.session_key = e.session_key
                WHERE search_hits MATCH ?3 AND search_hits.rowid = ?4
                """)
            func give(_ hits: [(rowid: Int64, rank: Double?)]) throws {
                try database.execute("DELETE FROM temp.search_hits")
                for hit in hits { try copy.execute([hit.rowid]) }
                for hit in hits {
                    try detail.forEachRow([highlight.open, highlight.close, match, hit.rowid]) { found in
                        try row([
                            .text(found.string(0)), .text(found.string(1)), .init(found.optionalString(2)),
                            .init(found.optionalString(3)), .integer(found.int64(4)), .text(found.string(5)),
                            .text(found.string(6).replacingOccurrences(of: "\n", with: " ")),
                        ] + (byRelevance ? [.init(hit.rank)] : []))
                    }
                }
            }
            if byRelevance { return try give(bestMatches(database, match: match)) }
            guard limit != 0 else { return }
            var batch: [(rowid: Int64, rank: Double?)] = []
            var given = 0
            try NewestMatches(match: match, projects: projects, sources: sources, window: window).find(in: database) { rowid in
                batch.append((rowid, nil))
                given += 1
                if batch.count == Self.batchSize {
                    try give(batch)
                    batch.removeAll(keepingCapacity: true)
                }
                return limit < 0 || given < limit
            }
            try give(batch)
        } catch let error as SQLiteError where rawFTS {
            throw SearchError.invalidSyntax(error.message)
        }
    }

    /// Hits whose rows are made together.
    static let batchSize = 256

    /// The best `limit` matches by bm25 (FTS5's rank: lower is better), over every match.
    private func bestMatches(_ database: Database, match: String) throws -> [(rowid: Int64, rank: Double?)] {
        var hits: [(rowid: Int64, rank: Double?)] = []
        let filters = NewestMatches(match: match, projects: projects, sources: sources, window: window)
        try database.prepare("""
            SELECT f.rowid, f.rank FROM search_index f
            JOIN sessions s ON s.session_key = \(EventKey.sessionSQL("f.rowid"))
            WHERE search_index MATCH ?1 AND \(filters.filterSQL(from: 2)) ORDER BY f.rank LIMIT ?6
            """).forEachRow(StatementArguments([match] + filters.filterValues + [limit])) { try hits.append(($0.int64(0), $0.double(1))) }
        return hits
    }
}
