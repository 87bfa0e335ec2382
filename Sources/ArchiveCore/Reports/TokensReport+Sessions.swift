import LosslessJSON
import SQLiteCore

/// `--by session`: every session streamed newest first, or the leading few.
extension TokensReport {
    /// Every session with runs in the window, one row each as it is made, in
    /// the order `archive sessions` lists them (most recently updated first),
    /// in flat memory however many there are. Returns the table without its
    /// rows: columns, totals and warnings.
    func streamBySession(_ database: Database, row: ([QueryTable.Cell]) throws -> Void) throws -> QueryTable {
        let rateFor = pricing?.resolver(zone: window.zone)
        var tally = Tally()
        let runs = try database.prepare("""
            SELECT occurred_at, input_tokens, output_tokens, is_error FROM usage_rows
            WHERE run_key BETWEEN \(EventKey.firstSQL("?1")) AND \(EventKey.lastSQL("?1")) AND occurred_at >= ?2 AND occurred_at < ?3
            """)
        try database.forEachRow("""
            SELECT session_key, \(SourceSQL.qualifiedID("sessions")), coalesce(project_id, ''), title, session_id,
                   \(SourceSQL.name("sessions.source_key")) FROM sessions
            WHERE (?1 IS NULL OR project_id IN (SELECT value FROM json_each(?1))) AND \(SourceSQL.allows("source_key", parameter: "?2"))
            ORDER BY last_updated_at DESC, session_key DESC
            """, projectFilter, sourceFilter) { session in
            let project = try session.string(2)
            var bucket = Bucket()
            try runs.forEachRow([session.int64(0), window.since ?? "", window.until ?? "9999"]) { run in
                let run = try Run(run, from: 0, project: project, rateFor: rateFor)
                bucket.add(run)
                tally.count(run, project: project, priced: pricing != nil)
            }
            guard bucket.runs > 0 else { return }
            bucket.sessions = 1
            tally.totals.sessions += 1
            try row([.text(session.string(1)), .text(session.string(4)), .init(session.optionalString(5)), .init(session.optionalString(3)),
                     .init(project.isEmpty ? nil : project)] + bucket.measures)
        }
        return table(from: tally)
    }

    /// `top` sessions only: runs come in key order, so a session's runs are
    /// together; each session is looked up once, when its first run comes,
    /// and only the leaders are kept.
    func gatherLeadingSessions(_ database: Database, into tally: inout Tally) throws {
        guard let top else { preconditionFailure("every session is streamed, not gathered") }
        let rateFor = pricing?.resolver(zone: window.zone)
        let session = try database.prepare(sessionLookupSQL)
        var current: (key: Int64, id: String, project: String, details: SessionDetails?, included: Bool)? = nil
        var bucket = Bucket()
        var leaders: [(id: String, details: SessionDetails?, bucket: Bucket, measure: Double)] = []
        func finish() {
            guard let done = current, done.included, bucket.runs > 0 else { return }
            bucket.sessions = 1
            tally.totals.sessions += 1
            let measure = Self.measure(bucket, byCost: top.byCost)
            guard leaders.count < top.rows || (measure, leaders[leaders.count - 1].id) > (leaders[leaders.count - 1].measure, done.id) else { return }
            let index = leaders.firstIndex { (measure, $0.id) > ($0.measure, done.id) } ?? leaders.count
            leaders.insert((done.id, done.details, bucket, measure), at: index)
            if leaders.count > top.rows { leaders.removeLast() }
        }
        try database.forEachRow("""
            SELECT occurred_at, input_tokens, output_tokens, is_error, run_key FROM usage_rows
            WHERE occurred_at >= ?1 AND occurred_at < ?2 ORDER BY run_key
            """, window.since ?? "", window.until ?? "9999") { row in
            let key = try EventKey(rawValue: row.int64(4)).session
            if key != current?.key {
                finish()
                bucket = Bucket()
                let found = try session.first([key, sourceFilter]) { try ($0.string(0), SessionDetails(lookedUp: $0)) }
                let project = found?.1.project ?? ""
                current = (key, found?.0 ?? "", project, found?.1, found != nil && isAllowed(project))
            }
            guard let project = current?.project, current?.included == true else { return }
            let run = try Run(row, from: 0, project: project, rateFor: rateFor)
            bucket.add(run)
            tally.count(run, project: project, priced: pricing != nil)
        }
        finish()
        for leader in leaders {
            tally.buckets[[KeyPart(text: leader.id)]] = leader.bucket
            tally.sessionDetails[ExactText(leader.id)] = leader.details
        }
    }

    /// `top` sessions over all time, without reading every run: sessions come
    /// from indexes in order of a bound on their measure (total tokens; by
    /// cost, input and output tokens times the highest prices), each is
    /// measured from its own runs, and the reading stops once the last
    /// leader beats the bound of every session not yet read (Fagin's
    /// threshold algorithm). Totals and missing prices come from the levels.
    func gatherLeadingSessionsFromIndexes(_ database: Database, into tally: inout Tally) throws {
        guard let top else { preconditionFailure("every session is streamed, not gathered") }
        var whole = self
        whole.groupings = [.project]
        whole.top = nil
        let totals = try whole.gather(database)
        tally.totals = totals.totals
        tally.unpriced = totals.unpriced
        let rateFor = pricing?.resolver(zone: window.zone)
        let session = try database.prepare(sessionLookupSQL)
        let runs = try database.prepare("""
            SELECT occurred_at, input_tokens, output_tokens, is_error FROM usage_rows
            WHERE run_key BETWEEN \(EventKey.firstSQL("?1")) AND \(EventKey.lastSQL("?1"))
            """)
        let byCost = top.byCost && pricing != nil
        let inputPrice = pricing?.rates.map(\.input).max() ?? 0, outputPrice = pricing?.rates.map(\.output).max() ?? 0
        func bound(input: Int64, output: Int64) -> Double {
            byCost ? Double(input) * inputPrice / 1_000_000 + Double(output) * outputPrice / 1_000_000 : Double(input.saturatingAdd(output))
        }
        let orders = byCost ? ["input_tokens DESC, session_key", "output_tokens DESC, session_key"]
                            : ["input_tokens + output_tokens DESC, last_updated_at DESC, session_key"]
        let lists = try orders.map { try database.prepare("SELECT session_key, input_tokens, output_tokens FROM sessions ORDER BY \($0) LIMIT ?1 OFFSET ?2") }
        var positions = [(input: Int64, output: Int64)](repeating: (0, 0), count: lists.count)
        var seen = Set<Int64>()
        var leaders: [(id: String, details: SessionDetails, bucket: Bucket, measure: Double)] = []
        var offset = 0, chunk = max(top.rows, 4), exhausted = false
        while !exhausted {
            exhausted = true
            for (index, list) in lists.enumerated() {
                var keys: [Int64] = []
                try list.forEachRow([chunk, offset]) { row in
                    keys.append(try row.int64(0))
                    positions[index] = (try row.int64(1), try row.int64(2))
                }
                if keys.count == chunk { exhausted = false }
                for key in keys where seen.insert(key).inserted {
                    guard let found = try session.first([key, sourceFilter], map: { try ($0.string(0), SessionDetails(lookedUp: $0)) }),
                          isAllowed(found.1.project ?? "") else { continue }
                    var bucket = Bucket()
                    try runs.forEachRow([key]) { bucket.add(try Run($0, from: 0, project: found.1.project ?? "", rateFor: rateFor)) }
                    guard bucket.runs > 0 else { continue }
                    bucket.sessions = 1
                    let measure = Self.measure(bucket, byCost: top.byCost)
                    guard leaders.count < top.rows || (measure, leaders[leaders.count - 1].id) > (leaders[leaders.count - 1].measure, found.0) else { continue }
                    let place = leaders.firstIndex { (measure, $0.id) > ($0.measure, found.0) } ?? leaders.count
                    leaders.insert((found.0, found.1, bucket, measure), at: place)
                    if leaders.count > top.rows { leaders.removeLast() }
                }
            }
            offset += chunk
            chunk *= 2
            // A session not read yet is below every list's position in that list.
            let threshold = byCost ? bound(input: positions[0].input, output: positions[1].output)
                                   : bound(input: positions[0].input, output: positions[0].output)
            if leaders.count == top.rows && leaders[leaders.count - 1].measure > threshold { break }
        }
        for leader in leaders {
            tally.buckets[[KeyPart(text: leader.id)]] = leader.bucket
            tally.sessionDetails[ExactText(leader.id)] = leader.details
        }
    }

    /// A session by its key (?1), if its source is allowed (?2): its id as
    /// typed, then its `SessionDetails` (project, title, API id, source).
    var sessionLookupSQL: String {
        """
        SELECT \(SourceSQL.qualifiedID("sessions")), coalesce(project_id, ''), title, session_id,
               \(SourceSQL.name("sessions.source_key")) FROM sessions
        WHERE session_key = ?1 AND \(SourceSQL.allows("source_key", parameter: "?2"))
        """
    }

    /// What ranks a session or other text key: its cost (when every run with
    /// tokens had a price, else below all priced ones) or its tokens.
    static func measure(_ bucket: Bucket, byCost: Bool) -> Double {
        byCost ? (bucket.unpricedRuns == 0 ? bucket.cost : -1) : Double(bucket.input.saturatingAdd(bucket.output))
    }
}

/// What a session row of `--by session` shows beside its id as typed.
struct SessionDetails {
    var project: String?
    var title: String?
    var sessionID: String
    var source: String?

    /// From `sessionLookupSQL`'s columns 1 to 4.
    init(lookedUp row: Row) throws {
        let project = try row.string(1)
        self.project = project.isEmpty ? nil : project
        title = try row.optionalString(2)
        sessionID = try row.string(3)
        source = try row.optionalString(4)
    }

    init(project: String?, title: String?, sessionID: String, source: String?) {
        (self.project, self.title, self.sessionID, self.source) = (project, title, sessionID, source)
    }
}
