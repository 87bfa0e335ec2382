import Foundation
import LosslessJSON
import SQLiteCore

/// Token reports from the runs themselves: pairs with sessions, and windows
/// that do not start and end on a quarter hour.
extension TokensReport {
    /// One run of `usage_rows`, read from `occurred_at, input_tokens,
    /// output_tokens, is_error` at `first` and the three columns after it.
    struct Run {
        var seconds: Int64
        var input: Int64?
        var output: Int64?
        var isError: Bool
        var rate: Pricing.Rate?

        init(_ row: Row, from first: Int, project: String, rateFor: ((String?, Int64) -> Pricing.Rate?)?) throws {
            seconds = try row.withBytes(first) { Timestamp.epochSeconds(normalized: $0) } ?? 0
            input = try row.optionalInt64(first + 1)
            output = try row.optionalInt64(first + 2)
            isError = try row.get(first + 3, as: Bool.self)
            rate = rateFor?(project.isEmpty ? nil : project, seconds)
        }

        var withTokens: Int { input != nil || output != nil ? 1 : 0 }
    }

    func gatherFromRows(_ database: Database, into tally: inout Tally) throws {
        if groupings == [.session] { return try gatherLeadingSessions(database, into: &tally) }
        var keys = KeyMaker(report: self)
        let rateFor = pricing?.resolver(zone: window.zone)
        let bySession = groupings.contains(.session)
        try database.forEachRow("""
            SELECT u.occurred_at, u.input_tokens, u.output_tokens, u.is_error, \(EventKey.sessionSQL("u.run_key")),
                   coalesce(s.project_id, ''), coalesce(s.index_ids, ''), \(SourceSQL.qualifiedID("s")), s.title,
                   \(readsSources ? SourceSQL.name("s.source_key") : "''"), s.session_id, \(SourceSQL.name("s.source_key"))
            FROM usage_rows u JOIN sessions s ON s.session_key = \(EventKey.sessionSQL("u.run_key"))
            WHERE u.occurred_at >= ?1 AND u.occurred_at < ?2 AND (?3 IS NULL OR s.project_id IN (SELECT value FROM json_each(?3)))
              AND \(SourceSQL.allows("s.source_key", parameter: "?4"))
            """, window.since ?? "", window.until ?? "9999", projectFilter, sourceFilter) { row in
            let project = try row.string(5)
            let indexIDs = try row.string(6)
            guard indexes.isEmpty || isBound(indexIDs: indexIDs) else { return }
            let run = try Run(row, from: 0, project: project, rateFor: rateFor)
            let session = try row.int64(4)
            tally.count(run, project: project, priced: pricing != nil)
            if tally.totals.seen.insert(session).inserted { tally.totals.sessions += 1 }
            let sessionID = bySession ? try row.string(7) : nil
            if let sessionID, tally.sessionDetails[ExactText(sessionID)] == nil {
                tally.sessionDetails[ExactText(sessionID)] = SessionDetails(project: project.isEmpty ? nil : project, title: try row.optionalString(8),
                                                                            sessionID: try row.string(10), source: try row.optionalString(11))
            }
            for key in try keys.keys(seconds: run.seconds, project: project, indexIDs: row.string(6), session: sessionID,
                                     source: row.string(9)) {
                tally.buckets[key, default: Bucket()].add(run)
                if tally.buckets[key]!.seen.insert(session).inserted { tally.buckets[key]!.sessions += 1 }
            }
        }
    }
}

extension TokensReport.Bucket {
    mutating func add(_ run: TokensReport.Run) {
        add(runs: 1, errorRuns: run.isError ? 1 : 0, runsWithTokens: run.withTokens, input: run.input ?? 0, output: run.output ?? 0,
            rate: run.rate)
    }
}

extension TokensReport.Tally {
    /// Adds a run to the totals, and notes its day when it has tokens but no price.
    mutating func count(_ run: TokensReport.Run, project: String, priced: Bool) {
        if priced && run.rate == nil && run.withTokens > 0 {
            let day = Int(run.seconds.floorDivided(by: 86_400))
            noRate(project: project, days: day...day)
        }
        totals.add(run)
    }
}
