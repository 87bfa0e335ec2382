import LosslessJSON
import SQLiteCore

/// The quarter hour of a normalised time as the writer's Swift finds it:
/// from its whole seconds (SQLite's `unixepoch` rounds a fraction from
/// .9995 up to the next second), rounded down (its integer division
/// truncates toward zero, which differs before 1970).
func quarterHourSQL(of time: String) -> String {
    let seconds = "unixepoch(substr(\(time), 1, 19))"
    return "(\(seconds) / 900 - (\(seconds) % 900 < 0))"
}

/// Keeps `usage_rollup`, `session_returns` (Migrations/0006) and
/// `tool_rollup` (0007), and through them the levels (0013), equal to a
/// recomputation from `usage_rows`: a session's contribution is taken out
/// before its rows or its project change and put back after, in the same
/// transaction. The SQL is the migration's, for one session.
extension ArchiveWriter {
    /// The session's runs by quarter hour, with its project and index set, as `entries`.
    private static func entriesSQL(_ columns: String) -> String {
        """
        WITH entries AS (
          SELECT e.*, e.qh - lag(e.qh) OVER (ORDER BY e.qh) AS gap, g.group_id
          FROM (SELECT \(quarterHourSQL(of: "occurred_at")) AS qh, count(*) AS runs, saturating_sum(is_error) AS error_runs,
                       saturating_sum(input_tokens IS NOT NULL OR output_tokens IS NOT NULL) AS runs_with_tokens,
                       coalesce(saturating_sum(input_tokens), 0) AS input_tokens, coalesce(saturating_sum(output_tokens), 0) AS output_tokens
                FROM usage_rows WHERE run_key BETWEEN ?1 AND ?2 GROUP BY 1) e,
               sessions s JOIN rollup_groups g ON g.project_id = coalesce(s.project_id, '') AND g.index_ids = coalesce(s.index_ids, '')
                                              AND g.source_key = s.source_key
          WHERE s.session_key = ?3
        )
        \(columns)
        """
    }

    static let rollupEntriesSQL = entriesSQL("""
        SELECT qh, group_id, runs, error_runs, runs_with_tokens, input_tokens, output_tokens, gap IS NULL FROM entries
        """)

    static let addToReturnsSQL = entriesSQL("""
        INSERT INTO session_returns(quarter_hour, group_id, gap, sessions)
        SELECT qh, group_id, gap, ?4 FROM entries WHERE gap IS NOT NULL
        ON CONFLICT DO UPDATE SET sessions = sessions + excluded.sessions
        """)

    static let dropEmptyReturnsSQL = entriesSQL("""
        DELETE FROM session_returns WHERE sessions = 0 AND (quarter_hour, group_id) IN (SELECT qh, group_id FROM entries)
        """)

    /// The session's tool calls with the quarter hour of their run, project and name, as `calls`.
    private static func callsSQL(_ statement: String) -> String {
        """
        WITH calls AS (
          SELECT \(quarterHourSQL(of: "at")) AS qh, project_id, name, turn, result_seq, error_result, source_key
          FROM (SELECT coalesce((SELECT u.occurred_at FROM usage_rows u WHERE u.run_key BETWEEN ?1 AND ?2 AND u.turn = c.turn),
                                s.last_updated_at) AS at,
                       s.project_id, coalesce(c.name, '(unnamed)') AS name, c.turn, l.result_seq, l.error_result, s.source_key
                FROM tool_call_rows l JOIN event_rows c ON c.event_key = l.call_key,
                     (SELECT coalesce(project_id, '') AS project_id, last_updated_at, source_key FROM sessions WHERE session_key = ?3) s
                WHERE l.call_key BETWEEN ?1 AND ?2)
        )
        \(statement)
        """
    }

    static let toolEntriesSQL = callsSQL("""
        SELECT qh, project_id, name, count(*), saturating_sum(result_seq IS NULL), saturating_sum(error_result), count(DISTINCT turn), source_key
        FROM calls GROUP BY 1, 2, 3, 8
        """)

    /// Adds (`sign` 1) or takes out (-1) the session's runs and tool calls
    /// as they now stand: to `pending` (see `flushPending`), except the
    /// returns, written at once.
    func adjustRollups(sessionKey: Int64, sign: Int) throws {
        let first = Self.eventKey(session: sessionKey, seq: 0), last = Self.lastEventKey(session: sessionKey)
        if sign > 0 {
            try database.cached("""
                INSERT OR IGNORE INTO rollup_groups(project_id, index_ids, source_key)
                SELECT coalesce(project_id, ''), coalesce(index_ids, ''), source_key FROM sessions WHERE session_key = ?
                """).execute([sessionKey])
        }
        let factor = Int64(sign)
        try database.cached(Self.rollupEntriesSQL).forEachRow([first, last, sessionKey]) { row in
            let slot = PendingRollups.UsageSlot(quarterHour: try row.int64(0), group: try row.int64(1))
            pending.usage[slot, default: []].add(try (2...7).map { try row.int64($0) * factor })
        }
        try database.cached(Self.toolEntriesSQL).forEachRow([first, last, sessionKey]) { row in
            let slot = PendingRollups.ToolSlot(quarterHour: try row.int64(0), project: ExactText(try row.string(1)), name: ExactText(try row.string(2)),
                                               source: SourceKey(rawValue: try row.int64(7)))
            pending.tools[slot, default: []].add(try (3...6).map { try row.int64($0) * factor })
        }
        try database.cached(Self.addToReturnsSQL).execute([first, last, sessionKey, sign])
        if sign < 0 { try database.cached(Self.dropEmptyReturnsSQL).execute([first, last, sessionKey]) }
    }

}

extension ArchiveReader {
    /// Rollup rows that differ from a recomputation from `usage_rows` (none when all is well).
    func rollupMismatches() throws -> Int {
        let recomputed = """
            SELECT e.qh, g.group_id, e.runs, e.error_runs, e.runs_with_tokens, e.input_tokens, e.output_tokens,
                   e.qh - lag(e.qh) OVER (PARTITION BY e.session_key ORDER BY e.qh) AS gap
            FROM (SELECT \(EventKey.sessionSQL("run_key")) AS session_key, \(quarterHourSQL(of: "occurred_at")) AS qh,
                         count(*) AS runs,
                         saturating_sum(is_error) AS error_runs, saturating_sum(input_tokens IS NOT NULL OR output_tokens IS NOT NULL) AS runs_with_tokens,
                         coalesce(saturating_sum(input_tokens), 0) AS input_tokens, coalesce(saturating_sum(output_tokens), 0) AS output_tokens
                  FROM usage_rows GROUP BY 1, 2) e
            JOIN sessions s ON s.session_key = e.session_key
            JOIN rollup_groups g ON g.project_id = coalesce(s.project_id, '') AND g.index_ids = coalesce(s.index_ids, '')
                                AND g.source_key = s.source_key
            """
        let rollup = try database.scalar("""
            WITH entries AS (\(recomputed)),
            expected AS (SELECT qh, group_id, saturating_sum(runs), saturating_sum(error_runs), saturating_sum(runs_with_tokens), saturating_sum(input_tokens),
                                saturating_sum(output_tokens), saturating_sum(gap IS NULL) FROM entries GROUP BY 1, 2)
            SELECT (SELECT count(*) FROM (SELECT * FROM expected EXCEPT SELECT * FROM usage_rollup))
                 + (SELECT count(*) FROM (SELECT * FROM usage_rollup EXCEPT SELECT * FROM expected))
            """, as: Int.self) ?? 0
        let returns = try database.scalar("""
            WITH entries AS (\(recomputed)),
            expected AS (SELECT qh, group_id, gap, count(*) FROM entries WHERE gap IS NOT NULL GROUP BY 1, 2, 3)
            SELECT (SELECT count(*) FROM (SELECT * FROM expected EXCEPT SELECT * FROM session_returns))
                 + (SELECT count(*) FROM (SELECT * FROM session_returns EXCEPT SELECT * FROM expected))
            """, as: Int.self) ?? 0
        let tools = try database.scalar("""
            WITH expected AS (
              SELECT qh, project_id, name, source_key, count(*), saturating_sum(result_seq IS NULL), saturating_sum(error_result),
                     count(DISTINCT \(EventKey.firstSQL("session_key")) | turn)
              FROM (SELECT \(quarterHourSQL(of: "at")) AS qh, project_id, name, session_key, turn, result_seq, error_result, source_key
                    FROM (SELECT coalesce((SELECT u.occurred_at FROM usage_rows u
                                           WHERE u.run_key BETWEEN \(EventKey.firstSQL("s.session_key")) AND \(EventKey.lastSQL("s.session_key"))
                                             AND u.turn = c.turn), s.last_updated_at) AS at,
                                 coalesce(s.project_id, '') AS project_id, coalesce(c.name, '(unnamed)') AS name, s.session_key, c.turn,
                                 l.result_seq, l.error_result, s.source_key
                          FROM tool_call_rows l JOIN sessions s ON s.session_key = \(EventKey.sessionSQL("l.call_key"))
                          JOIN event_rows c ON c.event_key = l.call_key))
              GROUP BY 1, 2, 3, 4)
            SELECT (SELECT count(*) FROM (SELECT * FROM expected EXCEPT SELECT * FROM tool_rollup))
                 + (SELECT count(*) FROM (SELECT * FROM tool_rollup EXCEPT SELECT * FROM expected))
            """, as: Int.self) ?? 0
        return try rollup + returns + tools + RollupLevels.usage.mismatches(in: database) + RollupLevels.tools.mismatches(in: database)
    }
}

/// A source, project and index set: what `rollup_groups` codes.
struct RollupGroup: Hashable {
    let project: ExactText
    let indexIDs: ExactText
    let source: SourceKey
}

/// What the writer saw of a new session's runs and tool calls as it wrote
/// them: enough to add the session to the rollups without reading it back.
struct WrittenRuns {
    var runs = 0, errorRuns = 0, runsWithTokens = 0
    var input: Int64 = 0, output: Int64 = 0
    /// The session's tool calls in seq order, as links; `next` is the first not yet seen.
    let links: [ToolCallLink]
    var next = 0
    /// Calls by tool name: calls, without a result, error results, and the turns calling it.
    var byName: [ExactText: (calls: Int, noResult: Int, errors: Int, turns: Set<Int>)] = [:]

    init(links: [ToolCallLink]) { self.links = links }

    /// Notes the event at `seq` if it is the next tool call.
    mutating func see(seq: Int, name: String?, turn: Int) {
        guard next < links.count, links[next].callSeq == seq else { return }
        let link = links[next]
        next += 1
        let name = ExactText(name ?? "(unnamed)")
        var tally = byName[name] ?? (0, 0, 0, [])
        tally.calls += 1
        if link.resultSeq == nil { tally.noResult += 1 }
        if link.errorResult { tally.errors += 1 }
        tally.turns.insert(turn)
        byName[name] = tally
    }

    mutating func add(_ usage: StopUsage) {
        runs += 1
        if usage.isError { errorRuns += 1 }
        if usage.inputTokens != nil || usage.outputTokens != nil { runsWithTokens += 1 }
        input = input.saturatingAdd(usage.inputTokens ?? 0)
        output = output.saturatingAdd(usage.outputTokens ?? 0)
    }
}

extension ArchiveWriter {
    /// A new session's part of the rollups, from what the writer just wrote:
    /// all its runs, and the calls of runs not yet stopped, take the session's
    /// `last_updated_at` (nothing was archived before), so it is one quarter
    /// hour; the SQL of `adjustRollups` would find the same (the tests hold
    /// the two to a recomputation).
    func addNewSessionToRollups(_ session: NormalizedSession, projectID: String?, source: SourceKey, written: WrittenRuns) throws {
        var updated = session.lastUpdatedAt
        guard written.runs > 0 || !written.byName.isEmpty,
              let seconds = updated.withUTF8({ Timestamp.epochSeconds(normalized: UnsafeRawBufferPointer($0)) }) else { return }
        let quarterHour = seconds.floorDivided(by: 900)
        let project = projectID ?? ""
        if written.runs > 0 {
            let group = try groupID(RollupGroup(project: ExactText(project), indexIDs: ExactText(session.indexIDs ?? ""), source: source))
            pending.usage[PendingRollups.UsageSlot(quarterHour: quarterHour, group: group), default: []]
                .add([Int64(written.runs), Int64(written.errorRuns), Int64(written.runsWithTokens), written.input, written.output, 1])
        }
        for (name, tally) in written.byName {
            pending.tools[PendingRollups.ToolSlot(quarterHour: quarterHour, project: ExactText(project), name: name, source: source), default: []]
                .add([Int64(tally.calls), Int64(tally.noResult), Int64(tally.errors), Int64(tally.turns.count)])
        }
    }

    /// Writes what `pending` gathered, inside the transaction, just before it
    /// commits. Gathered, not written at once: a statement that may change
    /// more than one row opens a statement journal, and at each one FTS5
    /// writes out the terms it gathers in memory (the import's batches would
    /// flush the search index at every session).
    func flushPending() throws {
        var usageLevels: [Int64: [Int64: [Int64]]] = [:]
        var groupScopes: [Int64: [Int64]] = [:]  // group → every scope its runs count in
        for (slot, sums) in pending.usage where sums.contains(where: { $0 != 0 }) {
            try database.cached("""
                INSERT INTO usage_rollup(quarter_hour, group_id, runs, error_runs, runs_with_tokens, input_tokens, output_tokens, new_sessions)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT DO UPDATE SET runs = runs + excluded.runs, error_runs = error_runs + excluded.error_runs,
                  runs_with_tokens = runs_with_tokens + excluded.runs_with_tokens, input_tokens = input_tokens + excluded.input_tokens,
                  output_tokens = output_tokens + excluded.output_tokens, new_sessions = new_sessions + excluded.new_sessions
                """).execute([slot.quarterHour, slot.group, sums[0], sums[1], sums[2], sums[3], sums[4], sums[5]])
            if sums[0] <= 0 {
                try database.cached("DELETE FROM usage_rollup WHERE quarter_hour = ? AND group_id = ? AND runs = 0")
                    .execute([slot.quarterHour, slot.group])
            }
            if groupScopes[slot.group] == nil {
                let (project, source) = try projectCode(group: slot.group)
                groupScopes[slot.group] = [0, slot.group, -project, RollupLevels.sourceScope(source)]
            }
            for scope in groupScopes[slot.group]! {
                usageLevels[scope, default: [:]][slot.quarterHour, default: []].add(sums)
            }
        }
        var toolLevels: [Int64: [Int64: [Int64]]] = [:]
        var toolScopes: [PendingRollups.ToolScope: Int64] = [:]
        for (slot, sums) in pending.tools where sums.contains(where: { $0 != 0 }) {
            try database.cached("""
                INSERT INTO tool_rollup(quarter_hour, project_id, name, calls, no_result, error_results, runs_using, source_key)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT DO UPDATE SET calls = calls + excluded.calls, no_result = no_result + excluded.no_result,
                  error_results = error_results + excluded.error_results, runs_using = runs_using + excluded.runs_using
                """).execute([slot.quarterHour, slot.project.text, slot.name.text, sums[0], sums[1], sums[2], sums[3], slot.source.rawValue])
            if sums[0] <= 0 {
                try database.cached("DELETE FROM tool_rollup WHERE name = ? AND quarter_hour = ? AND project_id = ? AND source_key = ? AND calls = 0")
                    .execute([slot.name.text, slot.quarterHour, slot.project.text, slot.source.rawValue])
            }
            let key = PendingRollups.ToolScope(project: slot.project, name: slot.name, source: slot.source)
            if toolScopes[key] == nil { toolScopes[key] = try toolScope(key) }
            toolLevels[toolScopes[key]!, default: [:]][slot.quarterHour, default: []].add(sums)
        }
        try RollupLevels.usage.apply(usageLevels, in: database)
        try RollupLevels.tools.apply(toolLevels, in: database)
        try writeCounts(pending.counts)
        pending = PendingRollups()
    }

    /// The code of a group's project in `rollup_projects`, adding it on first sight, and the group's source.
    private func projectCode(group: Int64) throws -> (project: Int64, source: SourceKey) {
        try database.cached("""
            INSERT OR IGNORE INTO rollup_projects(project_id, source_key) SELECT project_id, source_key FROM rollup_groups WHERE group_id = ?
            """).execute([group])
        return try database.cached("""
            SELECT p.project_code, g.source_key FROM rollup_groups g
            JOIN rollup_projects p ON p.project_id = g.project_id AND p.source_key = g.source_key
            WHERE g.group_id = ?
            """).first([group]) { (try $0.int64(0), SourceKey(rawValue: try $0.int64(1))) }!
    }

    /// The code of a tool name in a project in `tool_scopes`, adding it on first sight.
    private func toolScope(_ scope: PendingRollups.ToolScope) throws -> Int64 {
        try database.cached("INSERT OR IGNORE INTO tool_scopes(name, project_id, source_key) VALUES (?, ?, ?)")
            .execute([scope.name.text, scope.project.text, scope.source.rawValue])
        return try database.cached("SELECT scope FROM tool_scopes WHERE name = ? AND project_id = ? AND source_key = ?")
            .scalar([scope.name.text, scope.project.text, scope.source.rawValue], as: Int64.self)!
    }

    /// The code of a project and index set, adding it on first sight.
    func groupID(_ group: RollupGroup) throws -> Int64 {
        if let known = groupCodes[group] { return known }
        try database.cached("INSERT OR IGNORE INTO rollup_groups(project_id, index_ids, source_key) VALUES (?, ?, ?)")
            .execute([group.project.text, group.indexIDs.text, group.source.rawValue])
        let id = try database.cached("SELECT group_id FROM rollup_groups WHERE project_id = ? AND index_ids = ? AND source_key = ?")
            .scalar([group.project.text, group.indexIDs.text, group.source.rawValue], as: Int64.self)!
        groupCodes.add(group, code: id)
        return id
    }
}

/// Rollup and count changes gathered during a transaction (see `flushPending`).
struct PendingRollups {
    struct UsageSlot: Hashable { let quarterHour: Int64; let group: Int64 }
    struct ToolSlot: Hashable { let quarterHour: Int64; let project: ExactText; let name: ExactText; let source: SourceKey }
    struct ToolScope: Hashable { let project: ExactText; let name: ExactText; let source: SourceKey }
    var usage: [UsageSlot: [Int64]] = [:]
    var tools: [ToolSlot: [Int64]] = [:]
    var counts = ArchiveCounts.Delta()
    /// The transaction's change number, once something asked for it (`changeNumber()`).
    var changeNumber: Int64?
}

extension [Int64] {
    /// Adds `other` element by element (an empty array counts as zeros).
    mutating func add(_ other: [Int64]) {
        if isEmpty { self = other; return }
        for index in indices { self[index] = self[index].saturatingAdd(other[index]) }
    }
}
