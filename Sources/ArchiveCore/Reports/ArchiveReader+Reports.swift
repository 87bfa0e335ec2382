import SQLiteCore

/// The questions the CLI asks, answered by the store over its own connection:
/// no caller runs SQL of its own on it (`archive sql` has `ReadOnlySQL.Reader`).
extension ArchiveReader {
    public func sessions(_ query: SessionsQuery) throws -> QueryTable { try query.run(on: database) }
    public func search(_ query: SearchQuery) throws -> QueryTable { try query.run(on: database) }
    /// A search's rows as they are found (`limit` below 0: every match, in flat memory).
    public func streamSearch(_ query: SearchQuery, begin: (QueryTable) throws -> Void,
                             row: ([QueryTable.Cell]) throws -> Void) throws -> QueryTable {
        try begin(query.frame)
        try query.stream(on: database, row: row)
        return query.frame
    }
    /// A report reads one snapshot: what a sync commits while it runs is in
    /// none of its parts or in all of them.
    public func tokens(_ report: TokensReport) throws -> QueryTable { try database.readTransaction { try report.run(on: database) } }

    /// A report that `streams`, as it is made: `begin` gets its columns and
    /// the totals the rows will add up to (to lay them out), `row` each row.
    /// Returns the columns, the totals of the rows and the warnings.
    public func streamTokens(_ report: TokensReport, begin: (QueryTable) throws -> Void,
                             row: ([QueryTable.Cell]) throws -> Void) throws -> QueryTable {
        precondition(report.streams, "only every session is streamed")
        try begin(report.frame(database))
        return try report.streamBySession(database, row: row)
    }
    public func tools(_ report: ToolsReport) throws -> QueryTable { try database.readTransaction { try report.run(on: database) } }
    /// The transcript of the session a typed id (`SOURCE:ID`, or an id in one source only) names.
    public func transcript(sessionID: String) throws -> Transcript? {
        guard let key = try sessionKey(typed: sessionID) else { return nil }
        return try Transcript.load(sessionKey: key, sessionID: sessionID, from: database)
    }

    public var isEmpty: Bool {
        get throws { try database.scalar("SELECT NOT EXISTS (SELECT 1 FROM sessions)", as: Bool.self) ?? true }
    }

    /// The live session with the most runs: the one worth showing first.
    public func busiestSessionID() throws -> String? {
        try database.scalar(
            "SELECT session_id FROM sessions WHERE deleted_at IS NULL ORDER BY run_count DESC, session_id LIMIT 1",
            as: String.self)
    }

    public struct Totals: Sendable, Equatable {
        public let sessions, deletedSessions, events, runs, toolCalls: Int
        public let inputTokens, outputTokens: Int
    }

    public func totals() throws -> Totals {
        try database.first("""
            SELECT count(*) AS sessions, coalesce(saturating_sum(deleted_at IS NOT NULL), 0) AS deleted, coalesce(saturating_sum(event_count), 0) AS events,
                   coalesce(saturating_sum(run_count), 0) AS runs, coalesce(saturating_sum(input_tokens), 0) AS input, coalesce(saturating_sum(output_tokens), 0) AS output,
                   (SELECT count(*) FROM tool_call_links) AS tool_calls
            FROM sessions
            """) { row in
            try Totals(sessions: row.get("sessions"), deletedSessions: row.get("deleted"), events: row.get("events"), runs: row.get("runs"),
                       toolCalls: row.get("tool_calls"), inputTokens: row.get("input"), outputTokens: row.get("output"))
        }!
    }
}
