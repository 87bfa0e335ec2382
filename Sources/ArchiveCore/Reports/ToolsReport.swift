import SQLiteCore

/// `archive tools`: per tool name, how often it is called and how often it fails.
/// A call's time is its run's `occurred_at` (the session's `last_updated_at`
/// for a run that has not stopped). An error result is an object with a
/// non-null `error` or a true `is_error`, or a string starting with "error".
public struct ToolsReport {
    public var window: TimeWindow
    /// Only these projects (empty: all).
    public var projects: [String] = []
    /// Read the rows even where the rollups would do (tests compare the two).
    var readsRows = false

    public init(window: TimeWindow, projects: [String] = []) {
        self.window = window
        self.projects = projects
    }

    func run(on database: Database) throws -> QueryTable {
        // The rollups answer any window that starts and ends on a quarter hour.
        let range = window.quarterHours
        let filter = TimeWindow.projectList(projects)
        let totalRuns: Int
        var table = Self.emptyTable
        if let range, !readsRows {
            totalRuns = try database.scalar("""
                SELECT coalesce(sum(r.runs), 0) FROM usage_rollup r JOIN rollup_groups g USING (group_id)
                WHERE r.quarter_hour >= ?1 AND r.quarter_hour < ?2 AND (?3 IS NULL OR g.project_id IN (SELECT value FROM json_each(?3)))
                """, range.lowerBound, range.upperBound, filter, as: Int.self) ?? 0
            try database.forEachRow("""
                SELECT name, sum(calls), sum(no_result), sum(error_results), sum(runs_using) FROM tool_rollup
                WHERE quarter_hour >= ?1 AND quarter_hour < ?2 AND (?3 IS NULL OR project_id IN (SELECT value FROM json_each(?3)))
                GROUP BY 1 ORDER BY 2 DESC, 1
                """, range.lowerBound, range.upperBound, filter) { try Self.add($0, to: &table, totalRuns: totalRuns) }
        } else {
            totalRuns = try database.scalar("""
                SELECT count(*) FROM usage_rows u JOIN sessions s ON s.session_key = \(EventKey.sessionSQL("u.run_key"))
                WHERE u.occurred_at >= ?1 AND u.occurred_at < ?2 AND (?3 IS NULL OR s.project_id IN (SELECT value FROM json_each(?3)))
                """, window.since ?? "", window.until ?? "9999", filter, as: Int.self) ?? 0
            try rowsByTool(database, filter: filter) { try Self.add($0, to: &table, totalRuns: totalRuns) }
        }
        table.note = "\(totalRuns) runs in range; share of runs = runs calling the tool / all runs."
        return table
    }

    static var emptyTable: QueryTable {
        QueryTable(columns: [
            .init("name", title: "tool"), .init("calls", kind: .integer), .init("no_result", title: "no result", kind: .integer),
            .init("error_results", title: "errors", kind: .integer), .init("runs_using", title: "runs using", kind: .integer, optional: true),
            .init("share_of_runs", title: "share of runs", kind: .number), .init("calls_per_run", title: "calls/run", kind: .number),
        ])
    }

    static func add(_ row: Row, to table: inout QueryTable, totalRuns: Int) throws {
        let calls = try row.int64(1), runsUsing = try row.int64(4)
        try table.rows.append([
            .text(row.string(0)), .integer(calls), .integer(row.int64(2)), .integer(row.int64(3)), .integer(runsUsing),
            totalRuns > 0 ? .number(Double(runsUsing) / Double(totalRuns)) : .null,
            runsUsing > 0 ? .number(Double(calls) / Double(runsUsing)) : .null,
        ])
    }

    /// Per tool from the calls themselves: for windows between quarter hours.
    func rowsByTool(_ database: Database, filter: String?, body: (Row) throws -> Void) throws {
        // Classified when stored (tool_call_rows.error_result): no JSON is read here.
        try database.forEachRow("""
            WITH calls AS (
              SELECT \(EventKey.sessionSQL("l.call_key")) AS session_key, s.project_id, c.turn, c.name, l.result_seq, l.error_result,
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
            FROM calls WHERE at >= ?1 AND at < ?2 AND (?3 IS NULL OR project_id IN (SELECT value FROM json_each(?3)))
            GROUP BY 1 ORDER BY 2 DESC, 1
            """, window.since ?? "", window.until ?? "9999", filter, body: body)
    }
}
