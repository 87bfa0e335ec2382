import SQLiteCore

/// `usage_levels` and `tool_levels` (Migrations/0013): per scope, running
/// sums within UTC days (level 0, by quarter hour) and within eras of 512
/// days (level 1, by day), and era sums (level 2). The sum over any span of
/// quarter hours is a few rows whatever its length.
struct RollupLevels {
    let table: String
    let columns: [String]

    static let usage = RollupLevels(table: "usage_levels",
                                    columns: ["runs", "error_runs", "runs_with_tokens", "input_tokens", "output_tokens", "new_sessions"])
    static let tools = RollupLevels(table: "tool_levels", columns: ["calls", "no_result", "error_results", "runs_using"])

    /// `usage_levels` scopes below minus this are sources: minus (this + `source_key`).
    /// Project codes never come near it.
    static let sourceScopeBase: Int64 = 1 << 40

    /// The `usage_levels` scope of every session of a source.
    static func sourceScope(_ source: SourceKey) -> Int64 { -(sourceScopeBase + source.rawValue) }

    static let quarterHoursPerDay: Int64 = 96
    static let daysPerEra: Int64 = 512

    /// The blocks a level's running sums restart at: a level-0 slot's day, a level-1 slot's era.
    static func block(of slot: Int64, level: Int) -> (first: Int64, last: Int64) {
        let size = level == 0 ? quarterHoursPerDay : level == 1 ? daysPerEra : 1
        let first = slot.floorDivided(by: size) * size
        return (first, first + size - 1)
    }

    private var list: String { columns.joined(separator: ", ") }

    // MARK: Writing

    /// Adds plain per-quarter-hour deltas (by scope, then quarter hour) to every level.
    func apply(_ deltas: [Int64: [Int64: [Int64]]], in database: Database) throws {
        for (scope, byQuarterHour) in deltas {
            var slots = byQuarterHour
            for level in 0...2 {
                var blocks: [Int64: [(slot: Int64, delta: [Int64])]] = [:]
                var coarser: [Int64: [Int64]] = [:]
                for (slot, delta) in slots where delta.contains(where: { $0 != 0 }) {
                    blocks[Self.block(of: slot, level: level).first, default: []].append((slot, delta))
                    if level < 2 { coarser[slot.floorDivided(by: level == 0 ? Self.quarterHoursPerDay : Self.daysPerEra), default: []].add(delta) }
                }
                for (_, entries) in blocks {
                    try applyBlock(scope: scope, level: level, entries.sorted { $0.slot < $1.slot }, in: database)
                }
                slots = coarser
            }
        }
    }

    /// Rewrites the running sums of one block from its first changed slot on:
    /// each row's own part is its running sum less the previous row's; a
    /// row whose own part becomes zero is deleted.
    private func applyBlock(scope: Int64, level: Int, _ deltas: [(slot: Int64, delta: [Int64])], in database: Database) throws {
        let (first, last) = Self.block(of: deltas[0].slot, level: level)
        let zero = [Int64](repeating: 0, count: columns.count)
        var oldBefore = try database.cached("""
            SELECT \(list) FROM \(table) WHERE scope = ?1 AND level = ?2 AND slot >= ?3 AND slot < ?4 ORDER BY slot DESC LIMIT 1
            """).first([scope, level, first, deltas[0].slot], map: values) ?? zero
        var existing: [(slot: Int64, running: [Int64])] = []
        try database.cached("""
            SELECT slot, \(list) FROM \(table) WHERE scope = ?1 AND level = ?2 AND slot >= ?3 AND slot <= ?4 ORDER BY slot
            """).forEachRow([scope, level, deltas[0].slot, last]) { row in
            existing.append((try row.int64(0), try (1...columns.count).map { try row.int64($0) }))
        }
        let write = try database.cached("""
            INSERT OR REPLACE INTO \(table)(scope, level, slot, \(list)) VALUES (?, ?, ?\(String(repeating: ", ?", count: columns.count)))
            """)
        let delete = try database.cached("DELETE FROM \(table) WHERE scope = ? AND level = ? AND slot = ?")
        var newBefore = oldBefore
        var row = 0, change = 0
        while row < existing.count || change < deltas.count {
            let slot = min(row < existing.count ? existing[row].slot : .max, change < deltas.count ? deltas[change].slot : .max)
            var own = zero, old: [Int64]? = nil
            if row < existing.count, existing[row].slot == slot {
                old = existing[row].running
                own = zip(existing[row].running, oldBefore).map { $0 &- $1 }
                oldBefore = existing[row].running
                row += 1
            }
            if change < deltas.count, deltas[change].slot == slot {
                own.add(deltas[change].delta)
                change += 1
            }
            if own.allSatisfy({ $0 == 0 }) {
                if old != nil { try delete.execute([scope, level, slot]) }
                continue
            }
            let running = zip(newBefore, own).map { $0 &+ $1 }
            if running != old { try write.execute(StatementArguments([scope, level, slot] + running)) }
            newBefore = running
        }
    }

    private func values(_ row: Row) throws -> [Int64] { try columns.indices.map { try row.int64($0) } }

    // MARK: Reading

    /// The sums of one scope over the spans between consecutive `cuts`
    /// (quarter hours, ascending): `cuts.count - 1` arrays.
    func spans(scope: Int64, cuts: [Int64], in database: Database) throws -> [[Int64]] {
        guard cuts.count > 1 else { return [] }
        let zero = [Int64](repeating: 0, count: columns.count)
        let firstEra = cuts[0].floorDivided(by: Self.quarterHoursPerDay).floorDivided(by: Self.daysPerEra)
        let lastEra = cuts[cuts.count - 1].floorDivided(by: Self.quarterHoursPerDay).floorDivided(by: Self.daysPerEra)
        var eras: [(slot: Int64, sums: [Int64])] = []
        if lastEra > firstEra {
            try database.cached("""
                SELECT slot, \(list) FROM \(table) WHERE scope = ?1 AND level = 2 AND slot >= ?2 AND slot < ?3 ORDER BY slot
                """).forEachRow([scope, firstEra, lastEra]) { row in
                eras.append((try row.int64(0), try (1...columns.count).map { try row.int64($0) }))
            }
        }
        let lastBefore = try database.cached("""
            SELECT \(list) FROM \(table) WHERE scope = ?1 AND level = ?2 AND slot < ?3 AND slot >= ?4 ORDER BY slot DESC LIMIT 1
            """)
        // Many cuts over few days (a report by day): the days' running sums
        // are read once in order rather than looked up cut by cut.
        let firstDay = cuts[0].floorDivided(by: Self.quarterHoursPerDay), lastDay = cuts[cuts.count - 1].floorDivided(by: Self.quarterHoursPerDay)
        var days: [(slot: Int64, running: [Int64])]? = nil
        if Int64(cuts.count) * 16 >= lastDay - firstDay {
            var read: [(slot: Int64, running: [Int64])] = []
            try database.cached("""
                SELECT slot, \(list) FROM \(table) WHERE scope = ?1 AND level = 1 AND slot >= ?2 AND slot < ?3 ORDER BY slot
                """).forEachRow([scope, Self.block(of: firstDay, level: 1).first, lastDay]) { row in
                read.append((try row.int64(0), try (1...columns.count).map { try row.int64($0) }))
            }
            days = read
        }
        var dayRow = 0
        // The sum from the start of the cut's era up to the cut.
        func withinEra(_ cut: Int64) throws -> [Int64] {
            let day = cut.floorDivided(by: Self.quarterHoursPerDay)
            let eraStart = Self.block(of: day, level: 1).first
            var sums = zero
            if day > eraStart {
                if let days {
                    while dayRow < days.count && days[dayRow].slot < day { dayRow += 1 }
                    if dayRow > 0, days[dayRow - 1].slot >= eraStart { sums = days[dayRow - 1].running }
                } else {
                    sums = try lastBefore.first([scope, 1, day, eraStart], map: values) ?? zero
                }
            }
            let dayStart = day * Self.quarterHoursPerDay
            if cut > dayStart, let within = try lastBefore.first([scope, 0, cut, dayStart], map: values) {
                sums = zip(sums, within).map { $0 &+ $1 }
            }
            return sums
        }
        var result: [[Int64]] = []
        result.reserveCapacity(cuts.count - 1)
        var era = 0
        var previous = try withinEra(cuts[0])
        for cut in cuts.dropFirst() {
            let cutEra = cut.floorDivided(by: Self.quarterHoursPerDay).floorDivided(by: Self.daysPerEra)
            var crossed = zero
            while era < eras.count && eras[era].slot < cutEra {
                crossed = zip(crossed, eras[era].sums).map { $0 &+ $1 }
                era += 1
            }
            let current = try withinEra(cut)
            // (eras crossed) - (within era at the previous cut) + (within era at this cut)
            result.append((0..<columns.count).map { crossed[$0] &- previous[$0] &+ current[$0] })
            previous = current
        }
        return result
    }

    // MARK: Checking

    /// The levels as the migration computes them from the quarter-hour
    /// rollups, as `expected(scope, level, slot, measures…)`.
    static func recomputedSQL(plain: String, measures: [String]) -> String {
        let day = "(qh - ((qh % 96) + 96) % 96) / 96"
        let window = measures.map { "wrapping_sum(\($0)) OVER w" }.joined(separator: ", ")
        let sums = measures.map { "saturating_sum(\($0)) AS \($0)" }.joined(separator: ", ")
        let names = measures.joined(separator: ", ")
        return """
            base AS (SELECT scope, qh, \(day) AS day, \(names) FROM (\(plain))),
            expected AS (
              SELECT scope, 0, qh, \(window) FROM base WINDOW w AS (PARTITION BY scope, day ORDER BY qh)
              UNION ALL
              SELECT scope, 1, day, \(window)
              FROM (SELECT scope, day, (day - ((day % 512) + 512) % 512) / 512 AS era, \(sums) FROM base GROUP BY scope, day)
              WINDOW w AS (PARTITION BY scope, era ORDER BY day)
              UNION ALL
              SELECT scope, 2, (day - ((day % 512) + 512) % 512) / 512, \(sums) FROM base GROUP BY 1, 3)
            """
    }

    static let usagePlainSQL = """
        SELECT 0 AS scope, quarter_hour AS qh, saturating_sum(runs) AS runs, saturating_sum(error_runs) AS error_runs, saturating_sum(runs_with_tokens) AS runs_with_tokens,
               saturating_sum(input_tokens) AS input_tokens, saturating_sum(output_tokens) AS output_tokens, saturating_sum(new_sessions) AS new_sessions
        FROM usage_rollup GROUP BY quarter_hour
        UNION ALL
        SELECT -p.project_code, r.quarter_hour, saturating_sum(runs), saturating_sum(error_runs), saturating_sum(runs_with_tokens), saturating_sum(input_tokens), saturating_sum(output_tokens), saturating_sum(new_sessions)
        FROM usage_rollup r JOIN rollup_groups g USING (group_id) JOIN rollup_projects p ON p.project_id = g.project_id AND p.source_key = g.source_key
        GROUP BY 1, 2
        UNION ALL
        SELECT -(\(sourceScopeBase) + g.source_key), r.quarter_hour, saturating_sum(runs), saturating_sum(error_runs), saturating_sum(runs_with_tokens), saturating_sum(input_tokens),
               saturating_sum(output_tokens), saturating_sum(new_sessions)
        FROM usage_rollup r JOIN rollup_groups g USING (group_id)
        GROUP BY 1, 2
        UNION ALL
        SELECT group_id, quarter_hour, runs, error_runs, runs_with_tokens, input_tokens, output_tokens, new_sessions FROM usage_rollup
        """

    static let toolsPlainSQL = """
        SELECT s.scope AS scope, t.quarter_hour AS qh, t.calls AS calls, t.no_result AS no_result, t.error_results AS error_results,
               t.runs_using AS runs_using
        FROM tool_rollup t JOIN tool_scopes s ON s.name = t.name AND s.project_id = t.project_id AND s.source_key = t.source_key
        """

    /// Rows of the level table that differ from a recomputation (none when all is well).
    func mismatches(in database: Database) throws -> Int {
        let plain = table == Self.usage.table ? Self.usagePlainSQL : Self.toolsPlainSQL
        return try database.scalar("""
            WITH \(Self.recomputedSQL(plain: plain, measures: columns))
            SELECT (SELECT count(*) FROM (SELECT * FROM expected EXCEPT SELECT * FROM \(table)))
                 + (SELECT count(*) FROM (SELECT * FROM \(table) EXCEPT SELECT * FROM expected))
            """, as: Int.self) ?? 0
    }
}
