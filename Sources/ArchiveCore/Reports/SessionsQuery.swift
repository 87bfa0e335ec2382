import SQLiteCore

/// `archive sessions`: the sessions with their runs, tokens and errors.
public struct SessionsQuery {
    public enum Order: String, Sendable, CaseIterable { case updated, tokens, title }

    public var project: String?
    /// Only sessions of these sources, by name (empty: all).
    public var sources: [String] = []
    public var window: TimeWindow = .unbounded
    public var onlyDeleted = false
    public var limit = 50
    public var order: Order = .updated
    /// Adds each session's cost (null when a run with tokens has no price).
    public var pricing: Pricing?

    public init() {}

    func run(on database: Database) throws -> QueryTable {
        let orderBy: String
        switch order {
        case .updated: orderBy = "last_updated_at DESC"
        case .tokens: orderBy = "input_tokens + output_tokens DESC, last_updated_at DESC"
        case .title: orderBy = "title COLLATE NOCASE ASC, last_updated_at DESC"
        }
        // Over all time, the costliest sessions come from sessions_by_tokens in
        // order (a `+` keeps the planner from reaching for the time index
        // instead, which would sort every session); within a window, the time
        // index narrows first.
        let time = order == .tokens && window.since == nil && window.until == nil ? "+last_updated_at" : "last_updated_at"
        var keys: [Int64] = []
        var table = QueryTable(columns: QueryTable.Column.sessionIdentity + [
            .init("title"), .init("project_id", title: "project", optional: true),
            .init("last_updated_at", title: "last updated", kind: .time), .init("runs", kind: .integer, optional: true),
            .init("input_tokens", title: "input", kind: .integer), .init("output_tokens", title: "output", kind: .integer),
            .init("error_runs", title: "errors", kind: .integer, optional: true), .init("deleted", optional: true),
        ])
        try database.forEachRow("""
            SELECT \(SourceSQL.identity("sessions")), title, project_id, last_updated_at, run_count, input_tokens, output_tokens,
                   error_run_count, deleted_at, session_key
            FROM sessions
            WHERE (?1 IS NULL OR project_id = ?1) AND \(time) >= ?2 AND \(time) < ?3
              AND (?4 = 0 OR deleted_at IS NOT NULL) AND \(SourceSQL.allows("source_key", parameter: "?6"))
            ORDER BY \(orderBy) LIMIT ?5
            """, project, window.since ?? "", window.until ?? "9999", onlyDeleted, limit, TimeWindow.jsonList(sources)
        ) { row in
            keys.append(try row.int64(11))
            try table.rows.append([
                .text(row.string(0)), .text(row.string(1)), .init(row.optionalString(2)),
                .init(row.optionalString(3)), .init(row.optionalString(4)), .text(row.string(5)),
                .integer(row.int64(6)), .integer(row.int64(7)), .integer(row.int64(8)), .integer(row.int64(9)),
                row.isNull(10) ? .bool(false) : .bool(true),
            ])
        }
        if let pricing {
            table.columns.append(.init("cost_usd", title: "cost (USD)", kind: .money))
            let rate = pricing.resolver(zone: window.zone)
            let runs = try database.prepare("""
                SELECT occurred_at, input_tokens, output_tokens FROM usage_rows
                WHERE run_key BETWEEN \(EventKey.firstSQL("?1")) AND \(EventKey.lastSQL("?1")) AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL)
                """)
            for (index, key) in keys.enumerated() {
                let project: String? = if case .text(let id) = table.rows[index][4] { id } else { nil }
                // Priced as `archive tokens` prices: unknown when a run with tokens has no rate.
                var bucket = TokensReport.Bucket()
                try runs.forEachRow([key]) { run in
                    let seconds = try run.withBytes(0) { Timestamp.epochSeconds(normalized: $0) } ?? 0
                    try bucket.add(runs: 1, errorRuns: 0, runsWithTokens: 1, input: run.optionalInt64(1) ?? 0,
                                   output: run.optionalInt64(2) ?? 0, rate: rate(project, seconds))
                }
                table.rows[index].append(bucket.costCell)
            }
        }
        return table
    }
}
