import TestSupport
import Foundation
import Testing
import LosslessJSON
import SQLiteCore
@_spi(Testing) @testable import ArchiveCore

/// The rollups the token reports read are kept by the writer; after every
/// kind of change they must equal a recomputation from the rows.
@Suite struct UsageRollupTests {
    static func session(_ id: String, updated: String, runs: [(Int, Int)], indexes: String = "null", errorLast: Bool = false) -> String {
        var events: [String] = []
        for (offset, run) in runs.enumerated() {
            events.append(Fixtures.userInput("q\(offset)"))
            events.append(Fixtures.text("a\(offset)"))
            events.append(errorLast && offset == runs.count - 1
                ? #"{"type":"stop","error":"boom","is_error":true,"usage":{"total_input_tokens":null,"total_output_tokens":null}}"#
                : Fixtures.stop(input: run.0, output: run.1))
        }
        return #"{"session_id":"\#(id)","last_updated_at":"\#(updated)","index_ids":\#(indexes),"events":[\#(events.joined(separator: ","))]}"#
    }

    func save(_ store: ArchiveWriter, _ text: String, project: String? = "p1") throws {
        try store.save(Normalizer.normalize(body: Array(text.utf8)), projectID: project, organizationID: nil, syncedAt: "2026-05-01T00:00:00Z")
    }

    func rollupRows(_ store: ArchiveWriter) throws -> Int {
        try store.database.scalar("SELECT count(*) FROM usage_rollup", as: Int.self) ?? 0
    }

    /// The rollups and the counts agree with the rows.
    func consistent(_ store: ArchiveWriter) throws -> Bool {
        try store.reader.rollupMismatches() == 0 && store.reader.counts() == store.reader.countedFromRows()
    }

    @Test func rollupsEqualTheRowsAfterEveryKindOfChange() throws {
        let folder = try TemporaryDirectory()
        let store = try folder.writer(at: folder.path("a.db"))
        // New sessions, in several quarter hours, projects and index sets.
        try save(store, Self.session("a", updated: "2026-03-01T10:00:00Z", runs: [(10, 1), (20, 2)]))
        try save(store, Self.session("b", updated: "2026-03-01T10:14:59Z", runs: [(5, 5)], indexes: #"["i1","i2"]"#))
        try save(store, Self.session("c", updated: "2026-03-02T23:59:00+05:30", runs: [(1, 1)], errorLast: true), project: nil)
        #expect(try consistent(store))
        #expect(try rollupRows(store) == 3)
        // Appended runs a day later: a second entry of "a", with a gap.
        try save(store, Self.session("a", updated: "2026-03-02T09:00:00Z", runs: [(10, 1), (20, 2), (30, 3)]))
        #expect(try store.database.scalar("SELECT count(*) FROM session_returns", as: Int.self) == 1)
        #expect(try consistent(store))
        // A rewrite: history that does not extend the archived one.
        try save(store, Self.session("a", updated: "2026-03-03T09:00:00Z", runs: [(7, 7)]))
        #expect(try consistent(store))
        // Metadata only: the index set changes, the runs stay.
        try save(store, Self.session("b", updated: "2026-03-03T09:00:00Z", runs: [(5, 5)], indexes: #"["i3"]"#))
        #expect(try store.database.scalar("""
            SELECT count(*) FROM usage_rollup JOIN rollup_groups USING (group_id) WHERE index_ids LIKE '%i1%'
            """, as: Int.self) == 0)
        #expect(try consistent(store))
        // Another project takes the session over.
        try save(store, Self.session("b", updated: "2026-03-03T09:00:00Z", runs: [(5, 5)], indexes: #"["i3"]"#), project: "p2")
        #expect(try consistent(store))
        // Deletion marks keep the runs: the rollups do not move; the counts do.
        _ = try store.markDeleted(sessionID: "c", at: "2026-04-01T00:00:00Z")
        #expect(try consistent(store))
        #expect(try store.markMissingDeleted(projectID: "p2", listed: [], at: "2026-04-02T00:00:00Z") == 1)
        #expect(try store.reader.counts().deletedSessions == 2)
        #expect(try consistent(store))
        // A deleted session that comes back is live again.
        try save(store, Self.session("c", updated: "2026-04-03T00:00:00Z", runs: [(1, 1)], errorLast: true), project: nil)
        #expect(try store.reader.counts().deletedSessions == 1)
        #expect(try consistent(store))
        // Unchanged sessions change nothing.
        try save(store, Self.session("b", updated: "2026-03-03T09:00:00Z", runs: [(5, 5)], indexes: #"["i3"]"#), project: "p2")
        #expect(try consistent(store))
        // Imports, in batches.
        let corpus = folder.path("c.jsonl")
        let lines = (0..<300).map { Self.session("imp-\($0)", updated: "2026-04-\(10 + $0 % 9)T0\($0 % 10):\($0 % 6)0:00Z", runs: [($0, 1), (1, $0)]) }
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: corpus))
        let report = try Importer(store: store, onFailure: { Issue.record("import: \($0)") }).run(paths: [corpus])
        #expect(report.new == 300)
        #expect(try consistent(store))
        // Every run and token is in the rollups exactly once.
        #expect(try store.database.scalar("SELECT sum(runs) FROM usage_rollup", as: Int.self)
                == store.database.scalar("SELECT count(*) FROM usage_rows", as: Int.self))
        #expect(try store.database.scalar("SELECT sum(input_tokens) FROM usage_rollup", as: Int.self)
                == store.database.scalar("SELECT sum(input_tokens) FROM usage_rows", as: Int.self))
        // A mismatch is seen: the check is not blind (nor is the folder's own check, so it is off here).
        folder.checksArchivesWhenRemoved = false
        try store.database.execute("UPDATE usage_levels SET runs = runs + 1 WHERE (scope, level, slot) = (SELECT scope, level, slot FROM usage_levels WHERE level = 2 LIMIT 1)")
        #expect(try store.reader.rollupMismatches() == 2)
        try store.database.execute("UPDATE usage_levels SET runs = runs - 1 WHERE level = 2 AND (scope, slot) = (SELECT scope, slot FROM usage_levels WHERE level = 2 LIMIT 1)")
        #expect(try store.reader.rollupMismatches() == 0)
        try store.database.execute("DELETE FROM usage_levels WHERE (scope, level, slot) = (SELECT scope, level, slot FROM usage_levels WHERE level = 0 LIMIT 1)")
        #expect(try store.reader.rollupMismatches() == 1)
        try store.database.execute("UPDATE usage_rollup SET runs = runs + 1 WHERE (quarter_hour, group_id) = (SELECT quarter_hour, group_id FROM usage_rollup LIMIT 1)")
        #expect(try store.reader.rollupMismatches() > 4)
        #expect(ArchiveConsistency.problems(in: folder.url).count == 1)
    }

    /// The same session saved again under the other Unicode spelling of its
    /// project (nothing else changed) moves its runs to that project's group.
    @Test func aProjectRespelledInAnotherNormalFormMovesTheRollups() throws {
        let folder = try TemporaryDirectory()
        let store = try folder.writer(at: folder.path("a.db"))
        let text = Self.session("s", updated: "2026-03-01T10:00:00Z", runs: [(10, 1)])
        try save(store, text, project: "caf\u{E9}")
        try save(store, text, project: "cafe\u{301}")
        #expect(try consistent(store))
        let projects = try store.database.scalar("""
            SELECT group_concat(hex(project_id)) FROM usage_rollup JOIN rollup_groups USING (group_id)
            """, as: String.self)
        #expect(projects == "63616665CC81")  // "cafe" + U+0301: only the new spelling holds runs
    }

    @Test func theMigrationBuildsRollupsForAnExistingArchive() throws {
        let folder = try TemporaryDirectory()
        let path = folder.path("old.db")
        do {
            let store = try ArchiveWriter(path: path)
            defer { try? store.close() }
            try save(store, Self.session("a", updated: "2026-03-01T10:00:00Z", runs: [(10, 1)]))
            try save(store, Self.session("a", updated: "2026-03-05T10:00:00Z", runs: [(10, 1), (3, 4)]))
            try save(store, Self.session("b", updated: "2026-03-01T10:05:00Z", runs: [(2, 2)]), project: nil)
            // As an archive of schema 5 was: no rollups.
            try store.database.executeScript("""
                DROP TABLE usage_levels; DROP TABLE tool_levels; DROP TABLE rollup_projects; DROP TABLE tool_scopes;
                DROP TABLE usage_rollup; DROP TABLE session_returns; DROP TABLE tool_rollup; DROP TABLE rollup_groups;
                DROP TABLE archive_counts; DROP TABLE forgotten; DROP INDEX sessions_pruned;
                ALTER TABLE sessions DROP COLUMN content_pruned_at; ALTER TABLE sync_runs DROP COLUMN forgotten;
                DROP INDEX sessions_by_change; ALTER TABLE sessions DROP COLUMN change_seq;
                DELETE FROM archive_settings WHERE name = 'archive_id';
                CREATE INDEX usage_by_time ON usage_rows(occurred_at, input_tokens, output_tokens, is_error);
                DELETE FROM schema_migrations WHERE version >= 6;
                """)
        }
        let store = try folder.writer(at: path)
        #expect(try store.reader.appliedSchemaVersion() == ArchiveSchema.version)
        // The upgrade's WAL is checkpointed away: no later process reads it whole on opening.
        #expect(try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int == 0)
        #expect(try rollupRows(store) == 3)
        #expect(try store.database.scalar("SELECT count(*) FROM session_returns", as: Int.self) == 1)
        #expect(try store.reader.rollupMismatches() == 0)
        #expect(try store.database.scalar("SELECT count(*) FROM usage_levels WHERE level = 2", as: Int.self) == 6)  // every session, 2 groups, 2 projects, 1 source
        #expect(try store.reader.counts() == store.reader.countedFromRows() && store.reader.counts().sessions == 2)
    }

    /// SQLite's unixepoch rounds .9995 s and more up to the next second, and so
    /// to the next quarter hour at :14:59.9995; the writer's Swift does not.
    /// Every path must agree: new (Swift), changed (SQL), and the check.
    @Test func aRunInTheLastMillisecondOfAQuarterHourStaysInIt() throws {
        let folder = try TemporaryDirectory()
        let store = try folder.writer(at: folder.path("a.db"))
        try save(store, Self.session("a", updated: "2026-03-01T10:14:59.999900Z", runs: [(10, 1)]))
        #expect(try consistent(store))
        try save(store, Self.session("a", updated: "2026-03-01T10:14:59.999950Z", runs: [(10, 1)], indexes: #"["i9"]"#))
        #expect(try consistent(store))
        #expect(try store.database.scalar("SELECT group_concat(quarter_hour) FROM usage_rollup", as: Int64.self)
                == (try #require(Timestamp.microseconds(fromISO8601: "2026-03-01T10:00:00Z")) / 900_000_000))
    }

    /// Schema 12 put a run just before 1970 in quarter hour 0 (SQLite's
    /// division truncates); 13 rebuilds the rollups floored, and builds the levels.
    @Test func theLevelsMigrationFloorsQuarterHoursBefore1970() throws {
        let folder = try TemporaryDirectory()
        let path = folder.path("old.db")
        do {
            let store = try ArchiveWriter(path: path)
            defer { try? store.close() }
            try save(store, Self.session("a", updated: "1969-12-31T23:59:00Z", runs: [(10, 1)]))
            try save(store, Self.session("b", updated: "1970-01-01T00:01:00Z", runs: [(2, 2)]))
            #expect(try store.database.scalar("SELECT group_concat(quarter_hour) FROM usage_rollup ORDER BY 1", as: String.self) == "-1,0")
            try store.database.executeScript("""
                DROP TABLE usage_levels; DROP TABLE tool_levels; DROP TABLE rollup_projects; DROP TABLE tool_scopes;
                DROP TABLE tool_rollup;
                CREATE TABLE tool_rollup (quarter_hour INTEGER NOT NULL, project_id TEXT NOT NULL, name TEXT NOT NULL, calls INTEGER NOT NULL,
                  no_result INTEGER NOT NULL, error_results INTEGER NOT NULL, runs_using INTEGER NOT NULL,
                  PRIMARY KEY (name, quarter_hour, project_id)) WITHOUT ROWID;
                DELETE FROM usage_rollup;
                INSERT INTO usage_rollup VALUES (0, (SELECT group_id FROM rollup_groups LIMIT 1), 2, 0, 2, 12, 3, 2);
                DELETE FROM schema_migrations WHERE version >= 13;
                """)
        }
        let store = try folder.writer(at: path)
        #expect(try store.reader.appliedSchemaVersion() == ArchiveSchema.version)
        #expect(try store.database.scalar("SELECT group_concat(quarter_hour) FROM usage_rollup ORDER BY 1", as: String.self) == "-1,0")
        #expect(try store.reader.rollupMismatches() == 0)
    }
}

/// The token reports read the rollups; the same reports read from the rows
/// must give the same tables, in every zone (half- and quarter-hour ones
/// too), for every key and pair of keys, window and price list.
@Suite struct RollupReportAgreementTests {
    /// Sessions close together (four months), or far apart (seven years from
    /// 1969, across the levels' 512-day eras and the epoch).
    struct Corpus: Sendable, CustomStringConvertible {
        let name: String
        let start: String
        let days: Int
        let gaps: [Int]
        let windows: [(String?, String?)]
        var description: String { name }

        static let dense = Corpus(name: "dense", start: "2026-01-01T00:00:00Z", days: 120, gaps: [60, 600, 3_600, 20_000, 86_400, 40 * 86_400],
                                  windows: [(nil, nil), ("2026-02-03", "2026-03-15"), ("2026-03", "2026-04")])
        static let sparse = Corpus(name: "sparse", start: "1969-06-01T00:00:00Z", days: 7 * 365, gaps: [900, 86_400, 40 * 86_400, 400 * 86_400],
                                   windows: [(nil, nil), ("1970-02-03", "1971-03-15"), ("1972-03", "1974-04")])
    }

    @Test(arguments: [Corpus.dense, .sparse])
    func reportsFromRollupsEqualReportsFromRows(_ corpus: Corpus) throws {
        let folder = try TemporaryDirectory()
        let store = try folder.writer(at: folder.path("a.db"))
        var random = RoundTripDifferentialTests.Random(state: 0x5EED_2026)
        let base = try #require(Timestamp.microseconds(fromISO8601: corpus.start)) / 1_000_000
        // Three sources; a tenth of the ids are in two of them (other sessions under the same id).
        let sources = [SourceKey.default, try store.source(named: "na"), try store.source(named: "eu")]
        for number in 0..<165 {
            let id = number < 150 ? number : (number - 150) * 10
            let source = number < 150 ? random.pick(sources) : sources[(id / 10) % 3 == 0 ? 1 : 2]
            var runs: [(Int, Int)] = []
            var seconds = base + Int64(random.below(corpus.days * 86_400))
            let project: String? = random.pick(["p1", "p2", "p3", nil])
            let indexes = random.pick(["null", #"["i1"]"#, #"["i1","i2"]"#, #"["i3"]"#])
            // Saved a few times, each time with more runs and a later time:
            // entries in several quarter hours, days and months.
            for _ in 0..<(1 + random.below(4)) {
                for _ in 0..<(1 + random.below(3)) { runs.append((random.below(5_000), random.below(500))) }
                let updated = Timestamp.format(microseconds: seconds * 1_000_000)
                let text = UsageRollupTests.session("s\(id)", updated: updated, runs: runs, indexes: indexes, errorLast: random.chance(10))
                try store.save(Normalizer.normalize(body: Array(text.utf8)), projectID: project, organizationID: nil, source: source, syncedAt: "x")
                seconds += Int64(random.pick(corpus.gaps))
            }
        }
        #expect(try store.reader.rollupMismatches() == 0)
        let pricing = Pricing(rates: [.init(from: nil, project: nil, input: 3, output: 15), .init(from: RateStart(text: "2026-02-10"), project: "p2", input: 1, output: 2)])
        let keys: [[TokensReport.Grouping]] = [[.day], [.week], [.month], [.project], [.index], [.project, .day], [.day, .index],
                                               [.month, .project], [.index, .project], [.week, .project], [.source], [.source, .month],
                                               [.project, .source]]
        var compared = 0
        #expect(try store.database.scalar("SELECT count(DISTINCT slot) FROM usage_levels WHERE level = 2", as: Int.self) ?? 0 >= (corpus.days > 1_000 ? 5 : 1))
        for zone in ["UTC", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Adelaide", "America/St_Johns", "Europe/Berlin", "Pacific/Chatham"] {
            for (since, until) in corpus.windows {
                for groupings in keys {
                    var report = TokensReport(groupings: groupings, window: try TimeWindow(since: since, until: until, zone: zone),
                                              pricing: groupings.count == 1 ? pricing : nil)
                    if groupings == [.project, .day] { report.projects = ["p1", "p3"] }
                    if groupings == [.month] || groupings == [.day, .index] { report.sources = ["eu", "default"] }
                    #expect(report.quarterHourRange != nil)
                    compared += try Self.expectSameAsRows(report, store.database, "\(zone) \(groupings) \(since ?? "-")")
                }
            }
        }
        #expect(compared == 273)
        #expect(try store.database.scalar("SELECT count(*) - count(DISTINCT session_id) FROM sessions", as: Int.self) ?? 0 >= 5)
        // The costliest sessions over all time, from the indexes, by tokens and by cost, in all and in some projects.
        for (byCost, projects) in [(false, []), (true, []), (true, ["p2", "p3"]), (false, ["p1"]), (true, ["-eu"])] as [(Bool, [String])] {
            for rows in [1, 5, 40] {
                let bySource = projects == ["-eu"]
                var report = TokensReport(groupings: [.session], window: .unbounded, pricing: pricing, projects: bySource ? [] : projects)
                if bySource { report.sources = ["eu"] }
                report.top = (rows, byCost)
                compared += try Self.expectSameAsRows(report, store.database, "top \(rows) by \(byCost ? "cost" : "tokens") in \(projects)")
            }
        }
        #expect(compared == 288)
    }

    /// The report read from the levels and from the quarter-hour rollups
    /// equals the report read from the rows; 1 when it does.
    static func expectSameAsRows(_ report: TokensReport, _ database: Database, _ label: String) throws -> Int {
        var report = report
        report.reading = .rows
        let fromRows = try report.run(on: database)
        var agree = true
        for reading in [RollupReading.levels, .quarterHours] {
            report.reading = reading
            let table = try report.run(on: database)
            guard table.columns == fromRows.columns, same(table.totals ?? [], fromRows.totals ?? []), table.rows.count == fromRows.rows.count else {
                Issue.record("\(label), \(reading): totals \(table.totals ?? []) rows \(table.rows.count); from the rows \(fromRows.totals ?? []) rows \(fromRows.rows.count)")
                agree = false
                continue
            }
            for (a, b) in zip(table.rows, fromRows.rows) where !same(a, b) {
                Issue.record("\(label), \(reading): \(a); from the rows \(b)")
                agree = false
                break
            }
        }
        return agree ? 1 : 0
    }

    /// Equal cells, costs to a millionth of a cent (sums in another order).
    static func same(_ a: [QueryTable.Cell], _ b: [QueryTable.Cell]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { x, y in
            if case .number(let p) = x, case .number(let q) = y { return abs(p - q) < 1e-8 }
            return x == y
        }
    }
}

extension RollupReportAgreementTests {
    @Test func toolsFromRollupsEqualToolsFromCallsAndFollowEveryChange() throws {
        let folder = try TemporaryDirectory()
        let store = try folder.writer(at: folder.path("a.db"))
        func call(_ id: String, _ name: String) -> String { #"{"type":"tool_call","call_id":"\#(id)","name":"\#(name)","arguments":{}}"# }
        func result(_ id: String, error: Bool) -> String {
            error ? #"{"type":"tool_result","call_id":"\#(id)","result":{"error":"no"}}"# : #"{"type":"tool_result","call_id":"\#(id)","result":"ok"}"#
        }
        var random = RoundTripDifferentialTests.Random(state: 77)
        let sources = [SourceKey.default, try store.source(named: "eu")]
        for id in 0..<80 {
            let source = random.pick(sources)
            var events: [String] = []
            var seconds = Int64(1_770_000_000 + random.below(60 * 86_400))
            for save in 0..<(1 + random.below(3)) {
                for turn in 0..<(1 + random.below(2)) {
                    events.append(Fixtures.userInput("q"))
                    for n in 0..<random.below(3) {
                        let callID = "c\(save)-\(turn)-\(n)"
                        events.append(call(callID, random.pick(["search", "lookup", "fetch"])))
                        if random.chance(80) { events.append(result(callID, error: random.chance(25))) }
                    }
                    if random.chance(85) { events.append(Fixtures.stop(input: 1, output: 1)) }  // else a run not yet stopped
                }
                let text = #"{"session_id":"t\#(id)","last_updated_at":"\#(Timestamp.format(microseconds: seconds * 1_000_000))","events":[\#(events.joined(separator: ","))]}"#
                try store.save(Normalizer.normalize(body: Array(text.utf8)), projectID: random.pick(["p1", "p2", nil]), organizationID: nil,
                               source: source, syncedAt: "x")
                seconds += Int64(random.pick([300, 7_200, 90_000]))
            }
        }
        #expect(try store.reader.rollupMismatches() == 0)
        #expect(try store.database.scalar("SELECT count(*) FROM tool_rollup", as: Int.self) ?? 0 > 20)
        for (since, until, projects) in [(nil, nil, []), ("2026-02-10", "2026-03-01", []), (nil, "2026-03", ["p1"]), (nil, nil, ["-eu"])]
                as [(String?, String?, [String])] {
            var report = ToolsReport(window: try TimeWindow(since: since, until: until, zone: "Asia/Kathmandu"), projects: projects == ["-eu"] ? [] : projects)
            if projects == ["-eu"] { report.sources = ["eu"] }
            report.reading = .rows
            let fromRows = try report.run(on: store.database)
            #expect(!fromRows.rows.isEmpty)
            for reading in [RollupReading.levels, .quarterHours] {
                report.reading = reading
                #expect(try report.run(on: store.database) == fromRows, "\(since ?? "-") \(projects) \(reading)")
            }
        }
    }
}

