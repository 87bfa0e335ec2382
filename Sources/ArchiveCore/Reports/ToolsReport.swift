import SQLiteCore

/// `archive tools`: per tool name, how often it is called and how often it fails.
/// A call's time is its run's `occurred_at` (the session's `last_updated_at`
/// for a run that has not stopped). An error result is an object with a
/// non-null `error` or a true `is_error`, or a string starting with "error".
public struct ToolsReport {
    public var window: TimeWindow

    public init(window: TimeWindow) { self.window = window }

    func run(on database: Database) throws -> QueryTable {
        let totalRuns = try database.scalar(
            "SELECT count(*) FROM usage_rows WHERE occurred_at >= ? AND occurred_at < ?",
            window.since ?? "", window.until ?? "9999", as: Int.self) ?? 0
        var table = QueryTable(columns: [
            .init("name", title: "tool"), .init("calls", kind: .integer), .init("no_result", title: "no result", kind: .integer),
            .init("error_results", title: "errors", kind: .integer), .init("runs_using", title: "runs using", kind: .integer, optional: true),
            .init("share_of_runs", title: "share of runs", kind: .number), .init("calls_per_run", title: "calls/run", kind: .number),
        ])
        // Classified when stored (tool_call_rows.error_result): no JSON is read here.
        try database.forEachRow("""
            WITH calls AS (
              SELECT \(EventKey.sessionSQL("l.call_key")) AS session_key, c.turn, c.name, l.result_seq, l.error_result,
                     coalesce((SELECT u.occurred_at FROM usage_rows u
                               WHERE u.run_key BETWEEN \(EventKey.firstSQL(EventKey.sessionSQL("l.call_key")))
                                                   AND \(EventKey.lastSQL(EventKey.sessionSQL("l.call_key")))
                                 AND u.turn = c.turn),
                              s.last_updated_at) AS at
              FROM tool_call_rows l
              JOIN sessions s ON s.session_key = \(EventKey.sessionSQL("l.call_key"))
              JOIN event_rows c ON c.event_key = l.call_key
            )
            SELECT coalesce(name, '(unnamed)'), count(*), sum(result_seq IS NULL), sum(error_result),
                   count(DISTINCT \(EventKey.firstSQL("session_key")) | turn)
            FROM calls WHERE at >= ? AND at < ?
            GROUP BY 1 ORDER BY 2 DESC, 1
            """, window.since ?? "", window.until ?? "9999"
        ) { row in
            let calls = try row.int64(1), runsUsing = try row.int64(4)
            try table.rows.append([
                .text(row.string(0)), .integer(calls), .integer(row.int64(2)), .integer(row.int64(3)), .integer(runsUsing),
                totalRuns > 0 ? .number(Double(runsUsing) / Double(totalRuns)) : .null,
                runsUsing > 0 ? .number(Double(calls) / Double(runsUsing)) : .null,
            ])
        }
        table.note = "\(totalRuns) runs in range; share of runs = runs calling the tool / all runs."
        return table
    }
}
