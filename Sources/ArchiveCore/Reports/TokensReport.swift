import Foundation
import LosslessJSON
import SQLiteCore

/// Token accounting from `usage`, bucketed by `occurred_at` in a time zone,
/// or grouped by session, project or index.
public struct TokensReport {
    public enum Grouping: String, Sendable, CaseIterable { case day, week, month, session, project, index }
    public enum WeekStart: String, Sendable, CaseIterable { case monday, sunday }

    public var grouping: Grouping
    public var window: TimeWindow
    public var weekStart: WeekStart = .monday
    public var pricing: Pricing?

    public init(grouping: Grouping, window: TimeWindow, weekStart: WeekStart = .monday, pricing: Pricing? = nil) {
        self.grouping = grouping
        self.window = window
        self.weekStart = weekStart
        self.pricing = pricing
    }

    static let columns: [QueryTable.Column] = [
        .init("key"), .init("sessions", kind: .integer, optional: true), .init("runs", kind: .integer),
        .init("error_runs", kind: .integer, optional: true), .init("input_tokens", title: "input", kind: .integer),
        .init("output_tokens", title: "output", kind: .integer), .init("total_tokens", title: "total", kind: .integer, optional: true),
        .init("cost_usd", title: "cost (USD)", kind: .money),
    ]

    struct Bucket {
        /// Sessions by their integer key: no string per row.
        var sessions = Set<Int64>()
        var runs = 0
        var errorRuns = 0
        var input: Int64 = 0
        var output: Int64 = 0
        var cost = 0.0
        var pricedRuns = 0
        var unpricedRuns = 0

        mutating func add(session: Int64, input: Int64?, output: Int64?, isError: Bool, rate: Pricing.Rate?) {
            sessions.insert(session)
            runs += 1
            if isError { errorRuns += 1 }
            self.input += input ?? 0
            self.output += output ?? 0
            if input == nil && output == nil { return }
            if let rate {
                cost += Double(input ?? 0) * rate.input / 1_000_000 + Double(output ?? 0) * rate.output / 1_000_000
                pricedRuns += 1
            } else {
                unpricedRuns += 1
            }
        }

        /// Null unless every run with tokens had a price.
        var costCell: QueryTable.Cell { pricedRuns > 0 && unpricedRuns == 0 ? .number(cost) : .null }

        func cells(key: String) -> [QueryTable.Cell] {
            [.text(key), .integer(Int64(sessions.count)), .integer(Int64(runs)), .integer(Int64(errorRuns)),
             .integer(input), .integer(output), .integer(input + output), costCell]
        }
    }

    func run(on database: Database) throws -> QueryTable {
        var buckets: [String: Bucket] = [:]
        var timeKeys: [Int] = []       // local day, week start or month number, in order of first sight
        var timeBuckets: [Bucket] = []
        var indexOfTimeKey: [Int: Int] = [:]
        var last = (key: Int.min, index: -1)  // rows come in time order: most share the previous row's bucket
        var totals = Bucket()
        var offsets = ZoneOffsets(zone: window.zone)
        var indexCache: [String: [String]] = [:]
        let rateFor = pricing?.resolver()
        let needsSession = grouping == .project || grouping == .index || grouping == .session
            || (pricing?.hasProjectRates ?? false)
        let sql = needsSession
            ? """
              SELECT u.occurred_at, \(EventKey.sessionSQL("u.run_key")), u.input_tokens, u.output_tokens, u.is_error, s.project_id, s.index_ids,
                     s.session_id
              FROM usage_rows u JOIN sessions s ON s.session_key = \(EventKey.sessionSQL("u.run_key"))
              WHERE u.occurred_at >= ? AND u.occurred_at < ?
              """
            : """
              SELECT occurred_at, \(EventKey.sessionSQL("run_key")), input_tokens, output_tokens, is_error, NULL, NULL, NULL
              FROM usage_rows WHERE occurred_at >= ? AND occurred_at < ?
              """
        try database.forEachRow(sql, window.since ?? "", window.until ?? "9999") { row in
            let seconds = try row.withBytes(0) { Timestamp.epochSeconds(normalized: $0) } ?? 0
            let session = try row.int64(1)
            let input = try row.optionalInt64(2), output = try row.optionalInt64(3)
            let isError = try row.get(4, as: Bool.self)
            let project = try needsSession ? row.optionalString(5) : nil
            let rate = rateFor?(project, seconds)
            totals.add(session: session, input: input, output: output, isError: isError, rate: rate)
            switch grouping {
            case .day, .week, .month:
                let key = timeKey(seconds, offsets: &offsets)
                if key != last.key {
                    if let known = indexOfTimeKey[key] {
                        last = (key, known)
                    } else {
                        timeKeys.append(key)
                        timeBuckets.append(Bucket())
                        indexOfTimeKey[key] = timeBuckets.count - 1
                        last = (key, timeBuckets.count - 1)
                    }
                }
                timeBuckets[last.index].add(session: session, input: input, output: output, isError: isError, rate: rate)
            case .session, .project, .index:
                let keys: [String]
                if grouping == .session {
                    keys = try [row.string(7)]
                } else if grouping == .project {
                    keys = [project ?? "(default)"]
                } else {
                    let text = try row.optionalString(6) ?? "null"
                    if indexCache[text] == nil {
                        let ids = (try? JSONParser.parse(text))?.arrayValue?.compactMap(\.stringValue) ?? []
                        indexCache[text] = ids.isEmpty ? ["(no index)"] : Array(Set(ids)).sorted()
                    }
                    keys = indexCache[text]!
                }
                for key in keys {
                    buckets[key, default: Bucket()].add(session: session, input: input, output: output, isError: isError, rate: rate)
                }
            }
        }
        let ordered: [(String, Bucket)]
        switch grouping {
        case .day, .week, .month:
            ordered = zip(timeKeys, timeBuckets).sorted { $0.0 < $1.0 }.map { (label(forTimeKey: $0.0), $0.1) }
        default:
            ordered = buckets.sorted { ($0.value.input + $0.value.output, $1.key) > ($1.value.input + $1.value.output, $0.key) }
        }
        return QueryTable(
            columns: grouping == .session ? [.init("key", keepsWhole: true)] + Self.columns.dropFirst() : Self.columns,
            rows: ordered.map { $0.1.cells(key: $0.0) },
            totals: totals.cells(key: "total"),
            note: grouping == .index ? "A run counts toward each index its session is bound to; the total counts it once." : nil)
    }

    /// The bucket of a UTC time in the report's zone: a day number, the day
    /// number a week starts on, or year * 12 + month.
    private func timeKey(_ seconds: Int64, offsets: inout ZoneOffsets) -> Int {
        let local = seconds + Int64(offsets.offset(at: seconds))
        let day = Int(local >= 0 ? local / 86_400 : (local - 86_399) / 86_400)
        switch grouping {
        case .week:
            let weekday = ((day + 3) % 7 + 7) % 7  // 0 = Monday (1970-01-01 was a Thursday)
            return day - (weekStart == .monday ? weekday : (weekday + 1) % 7)
        case .month:
            let (y, m, _) = Timestamp.civilFromDays(day)
            return y * 12 + (m - 1)
        default:
            return day
        }
    }

    /// A zone's UTC offset, asked of Foundation again only when a time falls
    /// outside the span the last answer holds for (up to the next transition).
    struct ZoneOffsets {
        let zone: TimeZone
        var span = (from: Int64.max, until: Int64.min, offset: 0)

        mutating func offset(at seconds: Int64) -> Int {
            if seconds >= span.from && seconds < span.until { return span.offset }
            let date = Date(timeIntervalSince1970: Double(seconds))
            let offset = zone.secondsFromGMT(for: date)
            let next = zone.nextDaylightSavingTimeTransition(after: date).map { Int64($0.timeIntervalSince1970) } ?? Int64.max
            span = (seconds, next, offset)
            return offset
        }
    }

    private func label(forTimeKey key: Int) -> String {
        if grouping == .month { return String(format: "%04d-%02d", key / 12, key % 12 + 1) }
        let (y, m, d) = Timestamp.civilFromDays(key)
        return String(format: "%04d-%02d-%02d", y, m, d)
    }
}
