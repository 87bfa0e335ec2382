import LosslessJSON
import SQLiteCore

/// `archive tools`: per tool name, how often it is called and how often it fails.
/// A call's time is its run's `occurred_at` (the session's `last_updated_at`
/// for a run that has not stopped). An error result is an object with a
/// non-null `error` or a true `is_error`, or a string starting with "error".
public struct ToolsReport {
    public var window: TimeWindow
    /// Only these projects (empty: all).
    public var projects: [String] = []
    /// Only sessions of these sources, by name (empty: all).
    public var sources: [String] = []
    /// Levels, quarter-hour rollups or rows (tests compare them).
    var reading = RollupReading.levels

    public init(window: TimeWindow, projects: [String] = []) {
        self.window = window
        self.projects = projects
    }

    func run(on database: Database) throws -> QueryTable {
        // The rollups answer any window that starts and ends on a quarter hour.
        let range = window.quarterHours
        let filter = TimeWindow.jsonList(projects), sourceFilter = TimeWindow.jsonList(sources)
        let totalRuns: Int
        var table = Self.emptyTable
        if let range, reading == .levels {
            totalRuns = try runsFromLevels(database, range: range)
            try namesFromLevels(database, range: range).forEach { Self.add($0, to: &table, totalRuns: totalRuns) }
        } else if let range, reading == .quarterHours {
            totalRuns = try database.scalar("""
                SELECT coalesce(saturating_sum(r.runs), 0) FROM usage_rollup r JOIN rollup_groups g USING (group_id)
                WHERE r.quarter_hour >= ?1 AND r.quarter_hour < ?2 AND (?3 IS NULL OR g.project_id IN (SELECT value FROM json_each(?3)))
                  AND \(SourceSQL.allows("g.source_key", parameter: "?4"))
                """, range.lowerBound, range.upperBound, filter, sourceFilter, as: Int.self) ?? 0
            try database.forEachRow("""
                SELECT name, saturating_sum(calls), saturating_sum(no_result), saturating_sum(error_results), saturating_sum(runs_using) FROM tool_rollup
                WHERE quarter_hour >= ?1 AND quarter_hour < ?2 AND (?3 IS NULL OR project_id IN (SELECT value FROM json_each(?3)))
                  AND \(SourceSQL.allows("source_key", parameter: "?4"))
                GROUP BY 1 ORDER BY 2 DESC, 1
                """, range.lowerBound, range.upperBound, filter, sourceFilter) { try Self.add($0, to: &table, totalRuns: totalRuns) }
        } else {
            totalRuns = try database.scalar("""
                SELECT count(*) FROM usage_rows u JOIN sessions s ON s.session_key = \(EventKey.sessionSQL("u.run_key"))
                WHERE u.occurred_at >= ?1 AND u.occurred_at < ?2 AND (?3 IS NULL OR s.project_id IN (SELECT value FROM json_each(?3)))
                  AND \(SourceSQL.allows("s.source_key", parameter: "?4"))
                """, window.since ?? "", window.until ?? "9999", filter, sourceFilter, as: Int.self) ?? 0
            try rowsByTool(database, filter: filter, sourceFilter: sourceFilter) { try Self.add($0, to: &table, totalRuns: totalRuns) }
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
        add((try row.string(0), [try row.int64(1), try row.int64(2), try row.int64(3), try row.int64(4)]), to: &table, totalRuns: totalRuns)
    }

    /// A tool's name and its calls, calls without a result, error results and runs using it.
    static func add(_ tool: (name: String, sums: [Int64]), to table: inout QueryTable, totalRuns: Int) {
        let calls = tool.sums[0], runsUsing = tool.sums[3]
        table.rows.append([
            .text(tool.name), .integer(calls), .integer(tool.sums[1]), .integer(tool.sums[2]), .integer(runsUsing),
            totalRuns > 0 ? .number(Double(runsUsing) / Double(totalRuns)) : .null,
            runsUsing > 0 ? .number(Double(calls) / Double(runsUsing)) : .null,
        ])
    }

    /// Runs in the window, from the usage levels: of every session, or of the projects asked for.
    func runsFromLevels(_ database: Database, range: Range<Int64>) throws -> Int {
        var scopes: [Int64] = []
        if projects.isEmpty && sources.isEmpty {
            scopes = [0]
        } else if projects.isEmpty {
            scopes = try TokensReport.sourceScopes(database).filter { TimeWindow.allows(sources, $0.source) }.map(\.code)
        } else {
            try database.forEachRow("SELECT project_code, project_id, \(SourceSQL.name("p.source_key")) FROM rollup_projects p") { row in
                if try TimeWindow.allows(projects, row.string(1)) && TimeWindow.allows(sources, row.string(2)) {
                    scopes.append(-(try row.int64(0)))
                }
            }
        }
        return try scopes.reduce(0) { total, scope in
            total + Int(try RollupLevels.usage.spans(scope: scope, cuts: [range.lowerBound, range.upperBound], in: database).first?[0] ?? 0)
        }
    }

    /// Per tool name, from the tool levels of each name in each project asked
    /// for; most called first, then by name (its bytes).
    func namesFromLevels(_ database: Database, range: Range<Int64>) throws -> [(name: String, sums: [Int64])] {
        var byName: [ExactText: [Int64]] = [:]
        var scopes: [(scope: Int64, name: String)] = []
        try database.forEachRow("SELECT scope, name, project_id, \(SourceSQL.name("t.source_key")) FROM tool_scopes t") { row in
            if try TimeWindow.allows(projects, row.string(2)) && TimeWindow.allows(sources, row.string(3)) {
                scopes.append((try row.int64(0), try row.string(1)))
            }
        }
        for (scope, name) in scopes {
            guard let sums = try RollupLevels.tools.spans(scope: scope, cuts: [range.lowerBound, range.upperBound], in: database).first,
                  sums[0] != 0 else { continue }
            byName[ExactText(name), default: []].add(sums)
        }
        return byName.map { (name: $0.key.text, sums: $0.value) }
            .sorted { ($0.sums[0], ExactText($1.name)) > ($1.sums[0], ExactText($0.name)) }
    }

    /// Per tool from the calls themselves: for windows between quarter hours.
    func rowsByTool(_ database: Database, filter: String?, sourceFilter: String?, body: (Row) throws -> Void) throws {
        // Classified when stored (tool_call_rows.error_result): no JSON is read here.
        try database.forEachRow("""
            WITH calls AS (
              SELECT \(EventKey.sessionSQL("l.call_key")) AS session_key, s.project_id, s.source_key, c.turn, c.name, l.result_seq, l.error_result,
                     coalesce((SELECT u.occurred_at FROM usage_rows u
                               WHERE u.run_key BETWEEN \(EventKey.firstSQL(EventKey.sessionSQL("l.call_key")))
                                                   AND \(EventKey.lastSQL(EventKey.sessionSQL("l.call_key")))
                                 AND u.turn = c.turn),
                              s.last_updated_at) AS at
              FROM tool_call_rows l
              JOIN sessions s ON s.session_key = \(EventKey.sessionSQL("l.call_key"))
              JOIN event_rows c ON c.event_key = l.call_key
            )
            SELECT coalesce(name, '(unnamed)'), count(*), saturating_sum(result_seq IS NULL), saturating_sum(error_result),
                   count(DISTINCT \(EventKey.firstSQL("session_key")) | turn)
            FROM calls WHERE at >= ?1 AND at < ?2 AND (?3 IS NULL OR project_id IN (SELECT value FROM json_each(?3)))
              AND \(SourceSQL.allows("source_key", parameter: "?4"))
            GROUP BY 1 ORDER BY 2 DESC, 1
            """, window.since ?? "", window.until ?? "9999", filter, sourceFilter, body: body)
    }
}
