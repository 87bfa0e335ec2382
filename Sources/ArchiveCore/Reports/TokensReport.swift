import Foundation
import LosslessJSON
import SQLiteCore

/// Token accounting, by one key or a pair of keys: days, weeks or months of
/// a time zone, projects, indexes, sessions. Time and project keys are
/// answered from the rollups (`usage_rollup`, `session_returns`), so their
/// cost does not grow with the archive; sessions, and windows that do not
/// start and end on a quarter hour, from the rows.
public struct TokensReport {
    public enum Grouping: String, Sendable, CaseIterable {
        case day, week, month, session, project, index, source

        /// The column a key of this kind is shown in.
        public var columnName: String {
            switch self {
            case .day, .week, .month: rawValue
            case .session: "session"
            case .project: "project_id"
            case .index: "index_id"
            case .source: "source"
            }
        }

        var isTime: Bool { self == .day || self == .week || self == .month }
    }
    public enum WeekStart: String, Sendable, CaseIterable { case monday, sunday }

    public var groupings: [Grouping]
    public var window: TimeWindow
    public var weekStart: WeekStart = .monday
    public var pricing: Pricing?
    /// Only these projects (empty: all).
    public var projects: [String] = []
    /// Only sessions of these sources, by name (empty: all).
    public var sources: [String] = []
    /// Only sessions bound to one of these indexes (empty: all); budgets use it.
    var indexes: [String] = []
    /// What the report reads where the window allows: the rollup levels, or
    /// (tests compare them) the quarter-hour rollups or the rows.
    var reading = RollupReading.levels
    /// With one key that is not a time: only the first rows, ranked by cost
    /// (when known) rather than tokens. The totals stay those of every row.
    public var top: (rows: Int, byCost: Bool)?

    public init(groupings: [Grouping], window: TimeWindow, weekStart: WeekStart = .monday, pricing: Pricing? = nil,
                projects: [String] = []) {
        self.groupings = groupings
        self.window = window
        self.weekStart = weekStart
        self.pricing = pricing
        self.projects = projects
    }

    public init(grouping: Grouping, window: TimeWindow, weekStart: WeekStart = .monday, pricing: Pricing? = nil) {
        self.init(groupings: [grouping], window: window, weekStart: weekStart, pricing: pricing)
    }

    /// Parses `day`, `project,day` and the like: one key or two different ones.
    /// Grouping keys that are not one key or two different ones.
    public struct GroupingError: Error, Equatable, CustomStringConvertible {
        public let text: String
        public static let expected = "one key or two different ones of day, week, month, project, index, session, source "
            + "(at most one of day, week, month), such as project,day"
        public var description: String { "grouping \"\(text)\": \(Self.expected)" }
    }

    public static func groupings(from text: String) throws(GroupingError) -> [Grouping] {
        let names = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let keys = names.compactMap(Grouping.init(rawValue:))
        guard keys.count == names.count, (1...2).contains(keys.count), Set(keys).count == keys.count,
              keys.filter(\.isTime).count < 2 else {
            throw GroupingError(text: text)
        }
        return keys
    }

    static let measureColumns: [QueryTable.Column] = [
        .init("sessions", kind: .integer, optional: true), .init("runs", kind: .integer),
        .init("error_runs", kind: .integer, optional: true), .init("input_tokens", title: "input", kind: .integer),
        .init("output_tokens", title: "output", kind: .integer), .init("total_tokens", title: "total", kind: .integer, optional: true),
        .init("cost_usd", title: "cost (USD)", kind: .money),
    ]

    /// One part of a row's key: a time bucket number or a text (compared by its bytes).
    struct KeyPart: Hashable {
        var time = 0
        var exact: ExactText = ""
        var text: String { exact.text }

        init(time: Int) { self.time = time }
        init(text: String) { exact = ExactText(text) }
    }

    struct Bucket {
        var sessions = 0
        var runs = 0
        var errorRuns = 0
        var input: Int64 = 0
        var output: Int64 = 0
        var cost = 0.0
        var pricedRuns = 0
        var unpricedRuns = 0
        /// Session keys seen, for counting them when rows (not rollups) are read.
        var seen: Set<Int64> = []

        mutating func add(runs: Int, errorRuns: Int, runsWithTokens: Int, input: Int64, output: Int64, rate: Pricing.Rate?) {
            self.runs += runs
            self.errorRuns += errorRuns
            self.input = self.input.saturatingAdd(input)
            self.output = self.output.saturatingAdd(output)
            guard runsWithTokens > 0 else { return }
            if let rate {
                cost += Double(input) * rate.input / 1_000_000 + Double(output) * rate.output / 1_000_000
                pricedRuns += runsWithTokens
            } else {
                unpricedRuns += runsWithTokens
            }
        }

        /// Null unless every run with tokens had a price.
        var costCell: QueryTable.Cell { pricedRuns > 0 && unpricedRuns == 0 ? .number(cost) : .null }

        var measures: [QueryTable.Cell] {
            [.integer(Int64(sessions)), .integer(Int64(runs)), .integer(Int64(errorRuns)),
             .integer(input), .integer(output), .integer(input.saturatingAdd(output)), costCell]
        }
    }

    /// The report as it is gathered: buckets by key, totals, and what lacked a price.
    struct Tally {
        var buckets: [[KeyPart]: Bucket] = [:]
        var totals = Bucket()
        /// Projects ('' for the default) with tokens but no rate, and the UTC days between which that was so.
        var unpriced: [ExactText: ClosedRange<Int>] = [:]

        mutating func noRate(project: String, days: ClosedRange<Int>) {
            let known = unpriced[ExactText(project)] ?? days
            unpriced[ExactText(project)] = min(known.lowerBound, days.lowerBound)...max(known.upperBound, days.upperBound)
        }
        var sessionDetails: [ExactText: SessionDetails] = [:]
    }

    /// Every session, unranked: rows that can be written as they are made
    /// (`ArchiveReader.streamTokens`), newest session first.
    public var streams: Bool { groupings == [.session] && top == nil }

    func run(on database: Database) throws -> QueryTable {
        guard !streams else {
            var rows: [[QueryTable.Cell]] = []
            var table = try streamBySession(database) { rows.append($0) }
            table.rows = rows
            return table
        }
        return table(from: try gather(database))
    }

    func gather(_ database: Database) throws -> Tally {
        var tally = Tally()
        if groupings == [.session], top != nil, window.since == nil, window.until == nil, reading == .levels {
            try gatherLeadingSessionsFromIndexes(database, into: &tally)
            return tally
        }
        guard let range = quarterHourRange, !groupings.contains(.session), reading != .rows else {
            try gatherFromRows(database, into: &tally)
            return tally
        }
        do {
            do {
                if reading == .levels { try gatherFromLevels(database, range: range, into: &tally) } else { throw LevelsCannotAnswerError() }
            } catch is LevelsCannotAnswerError {
                tally = Tally()
                try gatherFromRollups(database, range: range, into: &tally)
            }
        } catch is SegmentError {
            tally = Tally()
            try gatherFromRows(database, into: &tally)
        }
        return tally
    }

    /// This report's columns and the totals its rows will add up to, without
    /// the rows: the totals come from a report by project over the same
    /// window and projects (from the rollups where they answer).
    func frame(_ database: Database) throws -> QueryTable {
        var byProject = self
        byProject.groupings = [.project]
        byProject.top = nil
        var tally = Tally()
        tally.totals = try byProject.gather(database).totals
        return table(from: tally)
    }

    var quarterHourRange: Range<Int64>? { window.quarterHours }

    var projectFilter: String? { TimeWindow.jsonList(projects) }

    /// `--source` values as the JSON array `SourceSQL.allows` reads.
    var sourceFilter: String? { TimeWindow.jsonList(sources) }

    /// Whether the report needs each session's source name.
    var readsSources: Bool { !sources.isEmpty || groupings.contains(.source) }

    // MARK: The table

    func table(from tally: Tally) -> QueryTable {
        // Time keys in time order; others by their total tokens, most first.
        let ordered: [(key: [KeyPart], bucket: Bucket)]
        if groupings.count == 1 {
            ordered = groupings[0].isTime
                ? tally.buckets.sorted { $0.key[0].time < $1.key[0].time }.map { ($0.key, $0.value) }
                : Self.ranked(tally.buckets, top: top)
        } else {
            var rank: [[KeyPart: Int]] = []
            for (position, grouping) in groupings.enumerated() {
                var tokens: [KeyPart: Int64] = [:]
                for (key, bucket) in tally.buckets {
                    let part = key[position]
                    tokens[part] = tokens[part, default: 0].saturatingAdd(bucket.input.saturatingAdd(bucket.output))
                }
                let sorted = grouping.isTime
                    ? tokens.keys.sorted { $0.time < $1.time }
                    : tokens.keys.sorted { (tokens[$0]!, $1.exact) > (tokens[$1]!, $0.exact) }
                rank.append(Dictionary(uniqueKeysWithValues: sorted.enumerated().map { ($1, $0) }))
            }
            // Each key's ranks, looked up once; then sorted by them.
            ordered = tally.buckets.map { entry in (entry, entry.key.indices.map { rank[$0][entry.key[$0]]! }) }
                .sorted { $0.1.lexicographicallyPrecedes($1.1) }.map { ($0.0.key, $0.0.value) }
        }
        let showsSessionDetails = groupings.contains(.session)
        let detailsProject = showsSessionDetails && !groupings.contains(.project)
        var columns = groupings.map { QueryTable.Column($0.columnName, title: $0.columnName.replacingOccurrences(of: "_id", with: "")) }
        if showsSessionDetails { columns += QueryTable.Column.sessionIdentity.dropFirst() + [.init("title", optional: true)] }
        if detailsProject { columns.append(.init("project_id", title: "project", optional: true)) }
        columns += Self.measureColumns
        let rows: [[QueryTable.Cell]] = ordered.map { key, bucket in
            var cells = zip(groupings, key).map { grouping, part in QueryTable.Cell.text(label(grouping, part)) }
            if showsSessionDetails, let id = zip(groupings, key).first(where: { $0.0 == .session })?.1.exact {
                let details = tally.sessionDetails[id]
                cells += [.init(details?.sessionID), .init(details?.source), .init(details?.title)]
                if detailsProject { cells.append(.init(details?.project)) }
            }
            return cells + bucket.measures
        }
        var totals: [QueryTable.Cell] = [.text("total")] + Array(repeating: .null, count: columns.count - Self.measureColumns.count - 1)
        totals += tally.totals.measures
        var table = QueryTable(columns: columns, rows: rows, totals: totals,
                               note: groupings.contains(.index) ? "A run counts toward each index its session is bound to; the total counts it once." : nil)
        table.warnings = tally.unpriced.keys.sorted().map { exact in
            let days = tally.unpriced[exact]!, project = exact.text
            let first = Timestamp.dayLabel(days.lowerBound), last = Timestamp.dayLabel(days.upperBound)
            return "no price for project \(project.isEmpty ? "(default)" : project) \(first == last ? "on \(first)" : "from \(first) to \(last)") "
                + "(UTC): the cost of its runs there is unknown"
        }
        return table
    }

    /// Text keys by tokens (or cost), most first, ties by key; only `top.rows` of them when asked.
    static func ranked(_ buckets: [[KeyPart]: Bucket], top: (rows: Int, byCost: Bool)?) -> [(key: [KeyPart], bucket: Bucket)] {
        let entries = buckets.map { (key: $0.key, bucket: $0.value, measure: Self.measure($0.value, byCost: top?.byCost == true)) }
        let before: ((key: [KeyPart], bucket: Bucket, measure: Double), (key: [KeyPart], bucket: Bucket, measure: Double)) -> Bool = {
            ($0.measure, $1.key[0].exact) > ($1.measure, $0.key[0].exact)
        }
        guard let top else { return entries.sorted(by: before).map { ($0.key, $0.bucket) } }
        // The first few of many: kept sorted as they come, no sort of them all.
        var chosen: [(key: [KeyPart], bucket: Bucket, measure: Double)] = []
        for entry in entries where chosen.count < top.rows || before(entry, chosen[chosen.count - 1]) {
            let index = chosen.firstIndex { before(entry, $0) } ?? chosen.count
            chosen.insert(entry, at: index)
            if chosen.count > top.rows { chosen.removeLast() }
        }
        return chosen.map { ($0.key, $0.bucket) }
    }

    func label(_ grouping: Grouping, _ part: KeyPart) -> String {
        switch grouping {
        case .month:
            let (year, month) = part.time.quotientAndRemainder(dividingBy: 12)
            return month < 0 ? Timestamp.zeroPadded(year - 1, 4) + "-" + Timestamp.zeroPadded(month + 13, 2)
                             : Timestamp.zeroPadded(year, 4) + "-" + Timestamp.zeroPadded(month + 1, 2)
        case .day, .week: return Timestamp.dayLabel(part.time)
        case .project: return part.text.isEmpty ? "(default)" : part.text
        case .index, .session, .source: return part.text
        }
    }

    /// Makes the keys of a run (or of a rollup row): one per index when
    /// grouped by index.
    struct KeyMaker {
        let report: TokensReport
        var offsets: ZoneOffsets
        var indexCache: [ExactText: [String]] = [:]

        init(report: TokensReport) {
            self.report = report
            offsets = ZoneOffsets(zone: report.window.zone)
        }

        mutating func keys(seconds: Int64, project: String, indexIDs: String, session: String?, source: String = "") -> [[KeyPart]] {
            keys(localDay: localDay(seconds), project: project, indexIDs: indexIDs, session: session, source: source)
        }

        mutating func keys(localDay: Int, project: String, indexIDs: String, session: String?, source: String = "") -> [[KeyPart]] {
            var keys: [[KeyPart]] = [[]]
            for grouping in report.groupings {
                let parts: [KeyPart]
                switch grouping {
                case .day, .week, .month: parts = [KeyPart(time: timeKey(localDay: localDay, grouping))]
                case .project: parts = [KeyPart(text: project)]
                case .session: parts = [KeyPart(text: session ?? "")]
                case .source: parts = [KeyPart(text: source)]
                case .index:
                    let exactIDs = ExactText(indexIDs)
                    if indexCache[exactIDs] == nil {
                        let ids = (try? JSONParser.parse(indexIDs))?.arrayValue?.compactMap(\.stringValue) ?? []
                        indexCache[exactIDs] = ids.isEmpty ? ["(no index)"] : Set(ids.map(ExactText.init(_:))).sorted().map(\.text)
                    }
                    parts = indexCache[exactIDs]!.map { KeyPart(text: $0) }
                }
                keys = parts.count == 1 ? keys.map { $0 + parts } : keys.flatMap { key in parts.map { key + [$0] } }
            }
            return keys
        }

        /// The UTC second a key's time bucket starts at, if it has one.
        mutating func bucketStart(key: [KeyPart], seconds: Int64) -> Int64? {
            guard let position = report.groupings.firstIndex(where: \.isTime) else { return nil }
            let time = key[position].time
            let day: Int
            switch report.groupings[position] {
            case .month: day = Timestamp.daysFromCivil(year: time / 12, month: time % 12 + 1, day: 1)
            default: day = time
            }
            let localMidnight = Int64(day) * 86_400
            let guess = localMidnight - Int64(offsets.offset(at: seconds))
            return localMidnight - Int64(offsets.offset(at: guess))
        }

        /// The local day number of a UTC time in the report's zone.
        mutating func localDay(_ seconds: Int64) -> Int {
            let local = seconds + Int64(offsets.offset(at: seconds))
            return Int(local >= 0 ? local / 86_400 : (local - 86_399) / 86_400)
        }

        /// The bucket of a local day: the day number, the day number its week
        /// starts on, or year * 12 + month.
        func timeKey(localDay day: Int, _ grouping: Grouping) -> Int {
            switch grouping {
            case .week:
                let weekday = ((day + 3) % 7 + 7) % 7  // 0 = Monday (1970-01-01 was a Thursday)
                return day - (report.weekStart == .monday ? weekday : (weekday + 1) % 7)
            case .month:
                let (y, m, _) = Timestamp.civilFromDays(day)
                return y * 12 + (m - 1)
            default:
                return day
            }
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
}
