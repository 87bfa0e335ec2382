import Foundation
import LosslessJSON
import SQLiteCore

/// Token reports from the runs themselves: by session, and for windows
/// that do not start and end on a quarter hour.
extension TokensReport {
    /// `--by session` alone: runs come in key order, so a session's runs are
    /// together; each session is looked up once, when its first run comes.
    func gatherBySession(_ database: Database, into tally: inout Tally) throws {
        let rateFor = pricing?.resolver()
        let session = try database.prepare("SELECT session_id, coalesce(project_id, ''), title FROM sessions WHERE session_key = ?")
        let filter = Set(projects)
        var current: (key: Int64, id: String, project: String, title: String?, included: Bool)? = nil
        var bucket = Bucket()
        // With `top`, only the leading sessions are kept as they come.
        var leaders: [(id: String, project: String, title: String?, bucket: Bucket, measure: Double)] = []
        func finish() {
            guard let done = current, done.included, bucket.runs > 0 else { return }
            bucket.sessions = 1
            tally.totals.sessions += 1
            guard let top else {
                tally.buckets[[KeyPart(text: done.id)]] = bucket
                tally.sessionDetails[done.id] = (done.title, done.project.isEmpty ? nil : done.project)
                return
            }
            let measure = Self.measure(bucket, byCost: top.byCost)
            guard leaders.count < top.rows || (measure, leaders[leaders.count - 1].id) > (leaders[leaders.count - 1].measure, done.id) else { return }
            let index = leaders.firstIndex { (measure, $0.id) > ($0.measure, done.id) } ?? leaders.count
            leaders.insert((done.id, done.project, done.title, bucket, measure), at: index)
            if leaders.count > top.rows { leaders.removeLast() }
        }
        try database.forEachRow("""
            SELECT run_key, occurred_at, input_tokens, output_tokens, is_error FROM usage_rows
            WHERE occurred_at >= ?1 AND occurred_at < ?2 ORDER BY run_key
            """, window.since ?? "", window.until ?? "9999") { row in
            let key = try EventKey(rawValue: row.int64(0)).session
            if key != current?.key {
                finish()
                bucket = Bucket()
                let found = try session.first(key) { try ($0.string(0), $0.string(1), $0.optionalString(2)) }
                let project = found?.1 ?? ""
                current = (key, found?.0 ?? "", project, found?.2, found != nil && (filter.isEmpty || filter.contains(project)))
            }
            guard current!.included else { return }
            let seconds = try row.withBytes(1) { Timestamp.epochSeconds(normalized: $0) } ?? 0
            let input = try row.optionalInt64(2), output = try row.optionalInt64(3)
            let isError = try row.get(4, as: Bool.self)
            let project = current!.project
            let rate = rateFor?(project.isEmpty ? nil : project, seconds)
            let withTokens = input != nil || output != nil ? 1 : 0
            if rate == nil && withTokens > 0 && pricing != nil { tally.noRate(project: project, days: Int(seconds / 86_400)...Int(seconds / 86_400)) }
            bucket.add(runs: 1, errorRuns: isError ? 1 : 0, runsWithTokens: withTokens, input: input ?? 0, output: output ?? 0, rate: rate)
            tally.totals.add(runs: 1, errorRuns: isError ? 1 : 0, runsWithTokens: withTokens, input: input ?? 0, output: output ?? 0, rate: rate)
        }
        finish()
        for leader in leaders {
            tally.buckets[[KeyPart(text: leader.id)]] = leader.bucket
            tally.sessionDetails[leader.id] = (leader.title, leader.project.isEmpty ? nil : leader.project)
        }
    }

    /// What ranks a session or other text key: its cost (when every run with
    /// tokens had a price, else below all priced ones) or its tokens.
    static func measure(_ bucket: Bucket, byCost: Bool) -> Double {
        byCost ? (bucket.unpricedRuns == 0 ? bucket.cost : -1) : Double(bucket.input + bucket.output)
    }

    func gatherFromRows(_ database: Database, into tally: inout Tally) throws {
        if groupings == [.session] { return try gatherBySession(database, into: &tally) }
        var keys = KeyMaker(report: self)
        let rateFor = pricing?.resolver()
        let bySession = groupings.contains(.session)
        try database.forEachRow("""
            SELECT u.occurred_at, \(EventKey.sessionSQL("u.run_key")), u.input_tokens, u.output_tokens, u.is_error,
                   coalesce(s.project_id, ''), coalesce(s.index_ids, ''), s.session_id, s.title
            FROM usage_rows u JOIN sessions s ON s.session_key = \(EventKey.sessionSQL("u.run_key"))
            WHERE u.occurred_at >= ?1 AND u.occurred_at < ?2 AND (?3 IS NULL OR s.project_id IN (SELECT value FROM json_each(?3)))
            """, window.since ?? "", window.until ?? "9999", projectFilter) { row in
            let seconds = try row.withBytes(0) { Timestamp.epochSeconds(normalized: $0) } ?? 0
            let session = try row.int64(1)
            let input = try row.optionalInt64(2), output = try row.optionalInt64(3)
            let isError = try row.get(4, as: Bool.self)
            let project = try row.string(5)
            let rate = rateFor?(project.isEmpty ? nil : project, seconds)
            let withTokens = input != nil || output != nil ? 1 : 0
            if rate == nil && withTokens > 0 && pricing != nil { tally.noRate(project: project, days: Int(seconds / 86_400)...Int(seconds / 86_400)) }
            let sessionID = bySession ? try row.string(7) : nil
            if let sessionID, tally.sessionDetails[sessionID] == nil {
                tally.sessionDetails[sessionID] = (try row.optionalString(8), project.isEmpty ? nil : project)
            }
            for key in try keys.keys(seconds: seconds, project: project, indexIDs: row.string(6), session: sessionID) {
                tally.buckets[key, default: Bucket()].add(runs: 1, errorRuns: isError ? 1 : 0, runsWithTokens: withTokens,
                                                          input: input ?? 0, output: output ?? 0, rate: rate)
                if tally.buckets[key]!.seen.insert(session).inserted { tally.buckets[key]!.sessions += 1 }
            }
            tally.totals.add(runs: 1, errorRuns: isError ? 1 : 0, runsWithTokens: withTokens, input: input ?? 0, output: output ?? 0,
                             rate: rate)
            if tally.totals.seen.insert(session).inserted { tally.totals.sessions += 1 }
        }
    }
}
