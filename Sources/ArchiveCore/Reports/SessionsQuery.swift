import SQLiteCore

/// `archive sessions`: the sessions with their runs, tokens and errors.
public struct SessionsQuery {
    public enum Order: String, Sendable, CaseIterable { case updated, tokens, title }

    public var project: String?
    public var window: TimeWindow = .unbounded
    public var onlyDeleted = false
    public var limit = 50
    public var order: Order = .updated

    public init() {}

    func run(on database: Database) throws -> QueryTable {
        let orderBy: String
        switch order {
        case .updated: orderBy = "last_updated_at DESC"
        case .tokens: orderBy = "input_tokens + output_tokens DESC, last_updated_at DESC"
        case .title: orderBy = "title COLLATE NOCASE ASC, last_updated_at DESC"
        }
        var table = QueryTable(columns: [
            .init("session_id", title: "session"), .init("title"), .init("project_id", title: "project", optional: true),
            .init("last_updated_at", title: "last updated", kind: .time), .init("runs", kind: .integer, optional: true),
            .init("input_tokens", title: "input", kind: .integer), .init("output_tokens", title: "output", kind: .integer),
            .init("error_runs", title: "errors", kind: .integer, optional: true), .init("deleted", optional: true),
        ])
        try database.forEachRow("""
            SELECT session_id, title, project_id, last_updated_at, run_count, input_tokens, output_tokens,
                   error_run_count, deleted_at
            FROM sessions
            WHERE (?1 IS NULL OR project_id = ?1) AND last_updated_at >= ?2 AND last_updated_at < ?3
              AND (?4 = 0 OR deleted_at IS NOT NULL)
            ORDER BY \(orderBy) LIMIT ?5
            """, project, window.since ?? "", window.until ?? "9999", onlyDeleted, limit
        ) { row in
            try table.rows.append([
                .text(row.string(0)), .init(row.optionalString(1)), .init(row.optionalString(2)), .text(row.string(3)),
                .integer(row.int64(4)), .integer(row.int64(5)), .integer(row.int64(6)), .integer(row.int64(7)),
                row.isNull(8) ? .bool(false) : .bool(true),
            ])
        }
        return table
    }
}
