import TestSupport
import Foundation
import Testing
import LosslessJSON
import SQLiteCore
@_spi(Testing) @testable import ArchiveCore

/// An archive filled through the import path from JSON written here.
struct QueryFixture {
    let folder: TemporaryDirectory
    let store: ArchiveWriter
    var database: Database { store.database }

    init() throws {
        folder = try TemporaryDirectory()
        store = try folder.writer(at: folder.path("q.db"))
    }

    static func stop(_ input: Int?, _ output: Int?, error: String? = nil) -> String {
        let i = input.map(String.init) ?? "null", o = output.map(String.init) ?? "null"
        let e = error.map { "\"\($0)\"" } ?? "null"
        return #"{"type":"stop","error":\#(e),"is_error":\#(error != nil),"usage":{"duration_ms":5,"total_input_tokens":\#(i),"total_output_tokens":\#(o),"turns":1}}"#
    }

    /// A session whose every run stops with the given tokens, last updated at `updated`.
    @discardableResult
    func add(_ id: String, updated: String, project: String? = nil, indexes: [String]? = nil,
             runs: [(Int?, Int?, String?)], extra: [String] = []) throws -> String {
        var events: [String] = []
        for (index, run) in runs.enumerated() {
            events.append(#"{"type":"user_input","content":"question \#(index) about \#(id)"}"#)
            events += extra
            events.append(Self.stop(run.0, run.1, error: run.2))
        }
        let indexJSON = indexes.map { "[" + $0.map { "\"\($0)\"" }.joined(separator: ",") + "]" } ?? "null"
        let json = #"{"session_id":"\#(id)","last_updated_at":"\#(updated)","generated_title":"Title \#(id)","index_ids":\#(indexJSON),"shared_access":"query","job_metadata":null,"events":[\#(events.joined(separator: ","))]}"#
        try store.save(Normalizer.normalize(JSONParser.parse(json)), projectID: project, organizationID: nil, syncedAt: "2026-11-01T00:00:00.000000Z")
        return json
    }

    func tokens(_ grouping: TokensReport.Grouping, zone: String = "UTC", since: String? = nil, until: String? = nil,
                weekStart: TokensReport.WeekStart = .monday, pricing: Pricing? = nil) throws -> QueryTable {
        try TokensReport(grouping: grouping, window: TimeWindow(since: since, until: until, zone: zone),
                         weekStart: weekStart, pricing: pricing).run(on: database)
    }
}

extension QueryTable {
    func column(_ name: String) -> [Cell] {
        let index = columns.firstIndex { $0.name == name }!
        return rows.map { $0[index] }
    }
    func total(_ name: String) -> Cell { totals![columns.firstIndex { $0.name == name }!] }
}

@Suite struct TimeWindowTests {
    let now = Date(timeIntervalSince1970: 1_790_000_000)  // 2026-09-21T14:13:20Z

    @Test func acceptsDatesTimesAndSpans() throws {
        let utc = try TimeWindow(since: "2026-03-01", until: "20260331", zone: "UTC", now: now)
        #expect(utc.since == "2026-03-01T00:00:00.000000Z" && utc.until == "2026-04-01T00:00:00.000000Z")
        let iso = try TimeWindow(since: "2026-03-01T10:00:00+02:00", until: nil, zone: "UTC", now: now)
        #expect(iso.since == "2026-03-01T08:00:00.000000Z")
        let local = try TimeWindow(since: "2026-07-01T10:00:00", until: nil, zone: "America/New_York", now: now)
        #expect(local.since == "2026-07-01T14:00:00.000000Z")
        // Spans start on the quarter hour, where the rollups do.
        let spans = try TimeWindow(since: "7d", until: "24h", zone: "UTC", now: now)
        #expect(spans.since == "2026-09-14T14:00:00.000000Z" && spans.until == "2026-09-20T14:00:00.000000Z")
        #expect(try TimeWindow(since: "2w", until: nil, zone: nil, now: now).since == "2026-09-07T14:00:00.000000Z")
        // A month is the whole month in the zone.
        let month = try TimeWindow(since: "2026-09", until: "2026-09", zone: "Asia/Kolkata", now: now)
        #expect(month.since == "2026-08-31T18:30:00.000000Z" && month.until == "2026-09-30T18:30:00.000000Z")
        let december = try TimeWindow(since: "2026-12", until: "2026-12", zone: "UTC", now: now)
        #expect(december.until == "2027-01-01T00:00:00.000000Z")
    }

    @Test func localMidnightsFollowDaylightSaving() throws {
        // Berlin moves to summer time on 2026-03-29 and back on 2026-10-25.
        let spring = try TimeWindow(since: "2026-03-29", until: "2026-03-29", zone: "Europe/Berlin", now: now)
        #expect(spring.since == "2026-03-28T23:00:00.000000Z" && spring.until == "2026-03-29T22:00:00.000000Z")
        let autumn = try TimeWindow(since: "2026-10-25", until: "2026-10-25", zone: "Europe/Berlin", now: now)
        #expect(autumn.since == "2026-10-24T22:00:00.000000Z" && autumn.until == "2026-10-25T23:00:00.000000Z")
    }

    @Test func refusesBadDatesAndZonesInOneLine() {
        #expect(throws: TimeWindowError.unknownZone("Mars/Olympus")) {
            try TimeWindow(since: nil, until: nil, zone: "Mars/Olympus")
        }
        for bad in ["2026-02-30", "yesterday", "2026/03/01", "7y", "20261301", "2026-13", "2026-1", "26-09"] {
            #expect(throws: TimeWindowError.notADate(.since, bad)) { try TimeWindow(since: bad, until: nil, zone: "UTC") }
        }
        #expect(throws: TimeWindowError.startNotBeforeEnd(since: "2026-03-02", until: "2026-03-01")) {
            try TimeWindow(since: "2026-03-02", until: "2026-03-01", zone: "UTC")
        }
    }
}

@Suite struct TokensReportTests {
    @Test func totalsEqualSumsComputedFromTheJSON() throws {
        let fixture = try QueryFixture()
        var sources: [String] = []
        sources.append(try fixture.add("a", updated: "2026-03-01T10:00:00Z", project: "p1", runs: [(100, 10, nil), (200, 20, nil)]))
        sources.append(try fixture.add("b", updated: "2026-03-02T10:00:00Z", project: "p2", runs: [(nil, nil, "overloaded"), (50, 5, nil)]))
        sources.append(try fixture.add("c", updated: "2026-03-02T23:30:00Z", runs: [(7, 1, nil)]))
        var input: Int64 = 0, output: Int64 = 0, runs = 0, errors = 0
        for source in sources {
            for event in try JSONParser.parse(source)["events"]!.arrayValue! where event["type"] == "stop" {
                runs += 1
                if event["is_error"] == true { errors += 1 }
                input += event["usage"]?["total_input_tokens"]?.int64Value ?? 0
                output += event["usage"]?["total_output_tokens"]?.int64Value ?? 0
            }
        }
        let table = try fixture.tokens(.day)
        #expect(table.total("input_tokens") == .integer(input) && table.total("output_tokens") == .integer(output))
        #expect(table.total("total_tokens") == .integer(input + output))
        #expect(table.total("runs") == .integer(Int64(runs)) && table.total("error_runs") == .integer(Int64(errors)))
        #expect(table.total("sessions") == .integer(3))
        #expect(table.column("day") == [.text("2026-03-01"), .text("2026-03-02")])
        #expect(table.column("runs") == [.integer(2), .integer(3)])
        #expect(table.column("cost_usd") == [.null, .null])
        let byProject = try fixture.tokens(.project)
        #expect(byProject.column("project_id") == [.text("p1"), .text("p2"), .text("(default)")])
        // Every session comes newest first, as `archive sessions` lists them; the leaders by tokens with `top`.
        let bySession = try fixture.tokens(.session)
        #expect(bySession.column("session_id") == [.text("c"), .text("b"), .text("a")])
        #expect(bySession.column("total_tokens") == [.integer(8), .integer(55), .integer(330)])
        #expect(bySession.totals?.suffix(7) == byProject.totals?.suffix(7) && bySession.total("sessions") == .integer(3))
        var leaders = TokensReport(grouping: .session, window: try TimeWindow(since: nil, until: nil, zone: "UTC"))
        leaders.top = (2, false)
        let top = try leaders.run(on: fixture.database)
        #expect(top.column("session_id") == [.text("a"), .text("b")] && top.totals == bySession.totals)
    }

    @Test func daysAreLocalToTheZoneAcrossDaylightSaving() throws {
        let fixture = try QueryFixture()
        try fixture.add("s1", updated: "2026-03-28T23:30:00Z", runs: [(1, 0, nil)])  // 00:30 CET on the 29th
        try fixture.add("s2", updated: "2026-03-29T21:30:00Z", runs: [(2, 0, nil)])  // 23:30 CEST on the 29th
        try fixture.add("s3", updated: "2026-03-29T22:30:00Z", runs: [(4, 0, nil)])  // 00:30 CEST on the 30th
        try fixture.add("s4", updated: "2026-10-25T00:30:00Z", runs: [(8, 0, nil)])  // 02:30 CEST, before the switch back
        try fixture.add("s5", updated: "2026-10-25T22:30:00Z", runs: [(16, 0, nil)]) // 23:30 CET on the 25th
        let berlin = try fixture.tokens(.day, zone: "Europe/Berlin")
        #expect(berlin.column("day") == [.text("2026-03-29"), .text("2026-03-30"), .text("2026-10-25")])
        #expect(berlin.column("input_tokens") == [.integer(3), .integer(4), .integer(24)])
        let utc = try fixture.tokens(.day, zone: "UTC")
        #expect(utc.column("day") == [.text("2026-03-28"), .text("2026-03-29"), .text("2026-10-25")])
        let window = try fixture.tokens(.day, zone: "Europe/Berlin", since: "2026-03-29", until: "2026-03-29")
        #expect(window.total("input_tokens") == .integer(3))
    }

    @Test func weeksStartOnTheChosenDayAndMonthsGroup() throws {
        let fixture = try QueryFixture()
        try fixture.add("sun", updated: "2026-11-22T12:00:00Z", runs: [(1, 0, nil)])  // a Sunday
        try fixture.add("mon", updated: "2026-11-23T12:00:00Z", runs: [(2, 0, nil)])  // a Monday
        try fixture.add("dec", updated: "2026-12-01T12:00:00Z", runs: [(4, 0, nil)])
        let monday = try fixture.tokens(.week)
        #expect(monday.column("week") == [.text("2026-11-16"), .text("2026-11-23"), .text("2026-11-30")])
        let sunday = try fixture.tokens(.week, weekStart: .sunday)
        #expect(sunday.column("week") == [.text("2026-11-22"), .text("2026-11-29")])
        #expect(sunday.column("input_tokens") == [.integer(3), .integer(4)])
        let months = try fixture.tokens(.month)
        #expect(months.column("month") == [.text("2026-11"), .text("2026-12")])
    }

    @Test func indexesCountARunTowardEachAndTheTotalOnce() throws {
        let fixture = try QueryFixture()
        try fixture.add("x", updated: "2026-03-01T10:00:00Z", indexes: ["idx-a", "idx-b"], runs: [(10, 1, nil)])
        try fixture.add("y", updated: "2026-03-01T11:00:00Z", indexes: ["idx-a"], runs: [(5, 1, nil)])
        try fixture.add("z", updated: "2026-03-01T12:00:00Z", runs: [(1, 1, nil)])
        let table = try fixture.tokens(.index)
        #expect(table.column("index_id") == [.text("idx-a"), .text("idx-b"), .text("(no index)")])
        #expect(table.column("input_tokens") == [.integer(15), .integer(10), .integer(1)])
        #expect(table.total("input_tokens") == .integer(16))
        #expect(table.note?.contains("each index") == true)
    }

    @Test func pricesChangeOverTimeAndPerProject() throws {
        let fixture = try QueryFixture()
        try fixture.add("old", updated: "2026-01-15T10:00:00Z", project: "p1", runs: [(1_000_000, 1_000_000, nil)])
        try fixture.add("new", updated: "2026-02-15T10:00:00Z", project: "p1", runs: [(1_000_000, 0, nil), (nil, nil, "error")])
        try fixture.add("vip", updated: "2026-02-15T10:00:00Z", project: "p2", runs: [(1_000_000, 0, nil)])
        let pricing = Pricing(rates: [
            .init(from: nil, project: nil, input: 3, output: 15),
            .init(from: RateStart(text: "2026-02-01"), project: nil, input: 2, output: 10),
            .init(from: RateStart(text: "2026-02-01"), project: "p2", input: 1, output: 5),
        ])
        let table = try fixture.tokens(.month, pricing: pricing)
        #expect(table.column("cost_usd") == [.number(18), .number(3)])
        #expect(table.total("cost_usd") == .number(21))
        let flat = try fixture.tokens(.month, pricing: .flat(input: 1, output: 1))
        #expect(flat.total("cost_usd") == .number(4))
        // A price known only from a later date leaves earlier runs unpriced: cost unknown.
        let partial = try fixture.tokens(.month, pricing: Pricing(rates: [.init(from: RateStart(text: "2026-02-01"), project: nil, input: 1, output: 1)]))
        #expect(partial.column("cost_usd") == [.null, .number(2)])
        #expect(partial.total("cost_usd") == .null)
    }

    @Test func pricingFilesInJSONAndTOML() throws {
        let folder = try TemporaryDirectory()
        let toml = folder.path("prices.toml")
        try """
            # rates in USD per million tokens
            [[rates]]
            input = 3.0
            output = 15

            [[rates]]
            from = 2026-02-01
            project = "p2"   # cheaper for p2
            input = 1
            output = 5
            """.write(toFile: toml, atomically: true, encoding: .utf8)
        let fromTOML = try Pricing.load(path: toml)
        #expect(fromTOML.rates.count == 2)
        let rate = fromTOML.resolver(zone: TimeZone(identifier: "UTC")!)
        #expect(rate("p2", try #require(Timestamp.microseconds(fromISO8601: "2026-03-01T00:00:00.000000Z")) / 1_000_000)?.input == 1)
        #expect(rate("p2", try #require(Timestamp.microseconds(fromISO8601: "2026-01-01T00:00:00.000000Z")) / 1_000_000)?.input == 3)
        let json = folder.path("prices.json")
        try #"{"rates":[{"input":3,"output":15},{"from":"2026-02-01","project":"p2","input":1,"output":5}]}"#
            .write(toFile: json, atomically: true, encoding: .utf8)
        #expect(try Pricing.load(path: json) == fromTOML)
        let bad = folder.path("bad.toml")
        try "[[rates]]\ninput = 3\nouptut = 15\n".write(toFile: bad, atomically: true, encoding: .utf8)
        #expect(throws: SettingsFileError.fault(path: bad, line: 3, place: nil, message: "unknown key ouptut in [[rates]] (expected from, project, input, output)")) {
            try Pricing.load(path: bad)
        }
        let worse = folder.path("worse.toml")
        try "[[rates]]\ninput = lots\n".write(toFile: worse, atomically: true, encoding: .utf8)
        #expect(throws: SettingsFileError.fault(path: worse, line: 2, place: nil, message: "cannot read the value of input")) { try Pricing.load(path: worse) }
    }
}

@Suite struct SearchAndSQLTests {
    @Test func snippetsUseTheTokenizerOfTheIndex() throws {
        let fixture = try QueryFixture()
        try fixture.store.save(Normalizer.normalize(JSONParser.parse(Fixtures.richSession)), projectID: "p", organizationID: nil, syncedAt: "x")
        // "renews" finds "renewal" only through the porter stemmer; the snippet
        // marks it only if its own tokenizer stems the same way.
        let found = try SearchQuery(text: "renews").run(on: fixture.database)
        #expect(found.column("snippet").contains(.text("What does the Q3 [renewal] clause say?")))
        let accents = try SearchQuery(text: "RENEWÀL").run(on: fixture.database)
        #expect(accents.column("snippet") == found.column("snippet"))
    }

    @Test func plainWordsJustWork() throws {
        #expect(SearchQuery.ftsQuery(plainWords: #"renewal-clause: "Q3" OR NEAR(x)"#) == #""renewal" "clause" "Q3" "OR" "NEAR" "x""#)
        #expect(SearchQuery.ftsQuery(plainWords: "-- : \"") == nil)
        let fixture = try QueryFixture()
        try fixture.store.save(Normalizer.normalize(JSONParser.parse(Fixtures.richSession)), projectID: "p", organizationID: nil, syncedAt: "x")
        let found = try SearchQuery(text: #"Q3 "renewal" clause:"#).run(on: fixture.database)
        #expect(found.column("session_id") == [.text("ses-rich")])
        #expect(found.column("kind") == [.text("user_input")])
        #expect(found.column("snippet").first == .text("What does the [Q3] [renewal] [clause] say?"))
        // Tool JSON is searched by its values: the snippet is the leaf text, and keys are not terms.
        let inResult = try SearchQuery(text: "clause auto-renews").run(on: fixture.database)
        #expect(inResult.column("kind") == [.text("tool_result")])
        #expect(inResult.column("snippet") == [.text("The [renewal] [clause] [auto]-[renews].")])
        #expect(try SearchQuery(text: "score").run(on: fixture.database).rows.isEmpty)
        #expect(try SearchQuery(text: "2026").run(on: fixture.database).column("kind") == [.text("tool_call")])
        var other = SearchQuery(text: "renewal")
        other.projects = ["elsewhere"]
        #expect(try other.run(on: fixture.database).rows.isEmpty)
        var raw = SearchQuery(text: "renew* NOT termination")
        raw.rawFTS = true
        #expect(try raw.run(on: fixture.database).rows.count == 4)
        raw.text = "\"unclosed"
        let error = #expect(throws: SearchQuery.SearchError.self) { try raw.run(on: fixture.database) }
        #expect(error?.description.hasPrefix("invalid search syntax: ") == true)
    }

    @Test(arguments: [
        "INSERT INTO sessions(session_id, last_updated_at, meta, first_synced_at, last_synced_at) VALUES ('x','y','{}','z','z')",
        "UPDATE sessions SET title = 'hacked'", "DELETE FROM event_rows", "DROP TABLE usage", "CREATE TABLE t(x)",
        "ALTER TABLE sessions ADD COLUMN y", "ATTACH DATABASE '/tmp/other.db' AS other", "PRAGMA user_version = 7",
        "PRAGMA journal_mode = DELETE", "PRAGMA writable_schema = 1", "VACUUM", "REINDEX", "ANALYZE",
        "INSERT INTO search_index(search_index) VALUES ('rebuild')", "CREATE TEMP TABLE t(x)", "BEGIN IMMEDIATE",
        "SELECT 1; DELETE FROM sessions", "DETACH DATABASE main",
    ])
    func everyWriteFormIsRefusedAndTheFileIsUnchanged(_ sql: String) throws {
        let fixture = try QueryFixture()
        try fixture.add("a", updated: "2026-03-01T10:00:00Z", runs: [(1, 1, nil)])
        try fixture.database.executeScript("PRAGMA wal_checkpoint(TRUNCATE)")
        let path = fixture.store.path
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let reader = try ArchiveReader(path: path)
        #expect(throws: ReadOnlySQL.QueryError.self) { try reader.sql(sql) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(try fixture.database.scalar("SELECT count(*) FROM sessions", as: Int.self) == 1)
    }

    @Test func readingWorksWithParametersAndTableFunctions() throws {
        let fixture = try QueryFixture()
        try fixture.add("a", updated: "2026-03-01T10:00:00Z", runs: [(10, 1, nil), (20, 2, nil)])
        let reader = try ArchiveReader(path: fixture.store.path)
        let sum = try reader.sql("SELECT sum(input_tokens) AS input FROM usage WHERE session_id = ? AND input_tokens > ?", parameters: ["a", "5"])
        #expect(sum.rows == [[.integer(30)]] && sum.columns.map(\.name) == ["input"] && sum.columns[0].kind == .integer)
        let info = try reader.sql("PRAGMA table_info(sessions)")
        #expect(info.rows.count > 10)
        let search = try reader.sql("SELECT count(*) FROM search_index WHERE search_index MATCH 'question'")
        #expect(search.rows == [[.integer(2)]])
        #expect(throws: ReadOnlySQL.QueryError.parameterCount(expected: 1, given: 0)) {
            try reader.sql("SELECT ?")
        }
    }
}

@Suite struct SessionsToolsTranscriptTests {
    @Test func sessionsAreFilteredOrderedAndLimited() throws {
        let fixture = try QueryFixture()
        try fixture.add("small", updated: "2026-03-03T10:00:00Z", project: "p1", runs: [(1, 1, nil)])
        try fixture.add("big", updated: "2026-03-01T10:00:00Z", project: "p1", runs: [(100, 100, "x")])
        try fixture.add("other", updated: "2026-03-02T10:00:00Z", project: "p2", runs: [(10, 10, nil)])
        _ = try fixture.store.markDeleted(sessionID: "other", at: "2026-03-04T00:00:00.000000Z")
        var query = SessionsQuery()
        #expect(try query.run(on: fixture.database).column("session_id") == [.text("small"), .text("other"), .text("big")])
        query.order = .tokens
        let byTokens = try query.run(on: fixture.database)
        #expect(byTokens.column("session_id") == [.text("big"), .text("other"), .text("small")])
        #expect(byTokens.column("error_runs") == [.integer(1), .integer(0), .integer(0)])
        #expect(byTokens.column("deleted") == [.bool(false), .bool(true), .bool(false)])
        query.project = "p1"
        query.limit = 1
        #expect(try query.run(on: fixture.database).column("session_id") == [.text("big")])
        var deleted = SessionsQuery()
        deleted.onlyDeleted = true
        #expect(try deleted.run(on: fixture.database).column("session_id") == [.text("other")])
        var since = SessionsQuery()
        since.window = try TimeWindow(since: "2026-03-02", until: nil, zone: "UTC")
        #expect(try since.run(on: fixture.database).rows.count == 2)
        // Within a window (the time index first) and over all time (the tokens index), the same order.
        since.order = .tokens
        #expect(try since.run(on: fixture.database).column("session_id") == [.text("other"), .text("small")])
    }

    /// Over all time the costliest sessions come from the tokens index, ties
    /// broken by the latest update: the same as sorting every session.
    @Test func theCostliestSessionsFromTheIndexAreTheSortsFirst() throws {
        let fixture = try QueryFixture()
        var expected: [(tokens: Int, updated: String, id: String)] = []
        for n in 0..<60 {
            let tokens = (n * 37) % 11, updated = String(format: "2026-03-%02dT10:00:00Z", 1 + n % 28)
            _ = try fixture.add("s\(n)", updated: updated, project: "p\(n % 3)", runs: [(tokens, tokens % 3, nil)])
            expected.append((tokens + tokens % 3, updated, "s\(n)"))
        }
        let plan = try fixture.database.first("""
            EXPLAIN QUERY PLAN SELECT session_id FROM sessions WHERE (?1 IS NULL OR project_id = ?1) AND +last_updated_at >= ''
            AND +last_updated_at < '9999' ORDER BY input_tokens + output_tokens DESC, last_updated_at DESC LIMIT 5
            """) { try $0.string(3) }
        #expect(plan?.contains("sessions_by_tokens") == true, "\(plan ?? "")")
        var query = SessionsQuery()
        query.order = .tokens
        query.limit = 15
        let sorted = expected.sorted { ($0.tokens, $0.updated) > ($1.tokens, $1.updated) }
        let ids = try query.run(on: fixture.database).column("session_id")
        #expect(ids.count == 15)
        // Equal (tokens, updated) pairs may come in either order: compare those keys.
        let keys = sorted.prefix(15).map { "\($0.tokens) \($0.updated)" }
        let got = ids.compactMap { value -> String? in
            guard case .text(let id) = value, let entry = expected.first(where: { $0.id == id }) else { return nil }
            return "\(entry.tokens) \(entry.updated)"
        }
        #expect(got == Array(keys))
    }

    @Test func toolsReportCountsCallsMissingResultsAndErrors() throws {
        let fixture = try QueryFixture()
        let call = #"{"type":"tool_call","call_id":"c1","name":"search","arguments":{}}"#
        let ok = #"{"type":"tool_result","call_id":"c1","name":"search","result":[1]}"#
        let failed = #"{"type":"tool_result","call_id":"c1","name":"search","result":{"error":"timeout"}}"#
        let call2 = #"{"type":"tool_call","call_id":"c2","name":"read","arguments":{}}"#
        try fixture.add("a", updated: "2026-03-01T10:00:00Z", runs: [(1, 1, nil), (1, 1, nil)], extra: [call, ok, call2])
        try fixture.add("b", updated: "2026-03-01T10:00:00Z", runs: [(1, 1, nil)], extra: [call, failed])
        let table = try ToolsReport(window: .unbounded).run(on: fixture.database)
        #expect(table.column("name") == [.text("search"), .text("read")])
        #expect(table.column("calls") == [.integer(3), .integer(2)])
        #expect(table.column("no_result") == [.integer(0), .integer(2)])
        #expect(table.column("error_results") == [.integer(1), .integer(0)])
        #expect(table.column("runs_using") == [.integer(3), .integer(2)])
        #expect(table.column("share_of_runs") == [.number(1), .number(2.0 / 3)])
        #expect(table.column("calls_per_run") == [.number(1), .number(1)])
    }

    @Test func transcriptPrefersFinalBlocksOverDeltas() throws {
        let fixture = try QueryFixture()
        try fixture.store.save(Normalizer.normalize(JSONParser.parse(Fixtures.richSession)), projectID: "p", organizationID: nil, syncedAt: "x")
        let transcript = try #require(try fixture.store.reader.transcript(sessionID: "ses-rich"))
        #expect(transcript.runs.count == 2)
        #expect(transcript.runs[0].answer == "It auto-renews 👩‍👩‍👧 yearly\u{0}.")
        #expect(transcript.runs[0].thinking == "Let me look it up.")
        #expect(transcript.runs[0].toolCalls.map(\.name) == ["search", "lookup"])
        #expect(transcript.runs[0].toolCalls[0].imageAttachment == "page-3.png")
        #expect(transcript.runs[0].toolCalls[1].result == nil)
        #expect(transcript.runs[0].otherEvents == [#"citation: "unknown type" {"ref":"src-9"}"#])
        #expect(transcript.runs[1].usage?.isError == true && transcript.runs[1].usage?.error == "model overloaded")
        #expect(transcript.runs[1].toolCalls.first?.result == #""no match""#)
        let deltasOnly = Fixtures.session(id: "d", updated: "2026-01-01T00:00:00Z", events: [
            Fixtures.userInput("hi"), #"{"type":"text_delta","content":"Hel"}"#, #"{"type":"text_delta","content":"lo"}"#,
        ])
        try fixture.store.save(Normalizer.normalize(JSONParser.parse(deltasOnly)), projectID: nil, organizationID: nil, syncedAt: "x")
        #expect(try fixture.store.reader.transcript(sessionID: "d")?.runs.first?.answer == "Hello")
        #expect(try fixture.store.reader.transcript(sessionID: "nope") == nil)
    }
}

final class Payload: Sendable {}

@Suite struct ImportExportTests {
    /// The queue must not keep what the writer has taken: an import's memory
    /// would grow with thousands of parsed sessions.
    @Test func importQueueReleasesWhatWasTaken() throws {
        let queue = BoundedQueue<Payload>(capacity: 4)
        weak var taken: Payload?
        do {
            let payload = Payload()
            taken = payload
            #expect(queue.push(payload))
            #expect(queue.push(Payload()))
            _ = queue.pop()
        }
        #expect(taken == nil)
    }

    @Test func importsObjectsArraysJSONLAndFoldersReportingBadRecordsByLine() throws {
        let fixture = try QueryFixture()
        let folder = fixture.folder
        let one = Fixtures.session(id: "one", updated: "2026-01-01T00:00:00Z", events: [Fixtures.userInput("a")])
        let two = Fixtures.session(id: "two", updated: "2026-01-02T00:00:00Z", events: [Fixtures.userInput("b")])
        let three = Fixtures.session(id: "three", updated: "2026-01-03T00:00:00Z", events: [Fixtures.userInput("c")])
        try FileManager.default.createDirectory(atPath: folder.path("in/nested"), withIntermediateDirectories: true)
        try "  \n\(one)\n".write(toFile: folder.path("in/one.json"), atomically: true, encoding: .utf8)
        try "[\n\(two),\n  {\"session_id\": \"bad\"}\n]".write(toFile: folder.path("in/nested/list.json"), atomically: true, encoding: .utf8)
        try "\(three)\n{not json\n\n\(Fixtures.richSession.replacingOccurrences(of: "\n", with: " "))\n".write(toFile: folder.path("in/more.jsonl"), atomically: true, encoding: .utf8)
        try "ignored".write(toFile: folder.path("in/readme.txt"), atomically: true, encoding: .utf8)
        var failures: [String] = []
        let report = try Importer(store: fixture.store) { failures.append($0) }.run(paths: [folder.path("in")])
        #expect(report.files == 3 && report.records == 6 && report.new == 4 && report.failed == 2, "\(report) \(failures)")
        #expect(failures == [
            "\(folder.path("in/more.jsonl")):2: expected a member name",
            "\(folder.path("in/nested/list.json")):3: missing last_updated_at".replacingOccurrences(of: ":3: ", with: ":3: session bad: "),
        ])
        let again = try Importer(store: fixture.store) { _ in }.run(paths: [folder.path("in")])
        #expect(again.unchanged == 4 && again.new == 0)
        #expect(try fixture.database.scalar("SELECT count(*) FROM sync_runs WHERE source = 'import'", as: Int.self) == 2)
        #expect(throws: Importer.ImportError.self) { try Importer(store: fixture.store) { _ in }.run(paths: [folder.path("missing")]) }
    }

    /// An import hands the index tokens made on its reading thread; saving
    /// without them lets SQLite tokenize. Both must give the same index,
    /// for new sessions and for histories that grow by a few events.
    @Test func importedTokensIndexAsSQLiteWould() throws {
        let rich = Fixtures.richSession.replacingOccurrences(of: "\n", with: " ")
        let short = Fixtures.session(id: "grow", updated: "2026-01-01T00:00:00Z", events: [Fixtures.userInput("renewal terms"), Fixtures.text("Ça va")])
        let grown = Fixtures.session(id: "grow", updated: "2026-01-02T00:00:00Z", events: [
            Fixtures.userInput("renewal terms"), Fixtures.text("Ça va"), #"{"type":"text","content":""}"#,
            #"{"type":"tool_call","call_id":"k","name":"f","arguments":{"q":"naïve café 42"}}"#, Fixtures.userInput("second run"),
        ])
        let imported = try QueryFixture()
        try [rich, short].joined(separator: "\n").write(toFile: imported.folder.path("a.jsonl"), atomically: true, encoding: .utf8)
        try grown.write(toFile: imported.folder.path("b.jsonl"), atomically: true, encoding: .utf8)
        _ = try Importer(store: imported.store) { _ in }.run(paths: [imported.folder.path("a.jsonl")])
        let replayedBefore = try #require(imported.store.searchTokenReplay?.replayedDocuments)
        #expect(replayedBefore >= 9)
        let report = try Importer(store: imported.store) { _ in }.run(paths: [imported.folder.path("b.jsonl")])
        #expect(report.updated == 1)
        // The three new texts (one of them empty) took the tokens made for them.
        #expect(imported.store.searchTokenReplay?.replayedDocuments == replayedBefore + 3)
        #expect(try Normalizer.normalize(JSONParser.parse(grown)).withSearchTokens(
            from: SearchTokenizer()).searchTokens?.documentCount == 5)

        let saved = try QueryFixture()
        for json in [rich, short, grown] {
            try saved.store.save(Normalizer.normalize(JSONParser.parse(json)), projectID: nil, organizationID: nil, syncedAt: "x")
        }
        func instances(_ database: Database) throws -> [String] {
            try database.executeScript("CREATE VIRTUAL TABLE IF NOT EXISTS temp.vocab USING fts5vocab(main, search_index, 'instance')")
            var rows: [String] = []
            try database.forEachRow("SELECT term, doc, offset FROM vocab ORDER BY term, doc, offset") {
                try rows.append("\($0.string(0)) \($0.int64(1)) \($0.int(2))")
            }
            return rows
        }
        let fromImport = try instances(imported.database)
        #expect(fromImport.count > 40)
        #expect(fromImport == (try instances(saved.database)))
    }

    @Test func aSessionRewrittenWithinOneBatchKeepsTheSearchIndexWhole() throws {
        let fixture = try QueryFixture()
        let first = Fixtures.session(id: "r", updated: "2026-01-01T00:00:00Z", events: [Fixtures.userInput("zebras everywhere")])
        let second = Fixtures.session(id: "r", updated: "2026-01-02T00:00:00Z", events: [Fixtures.userInput("lions instead")])
        let third = Fixtures.session(id: "r", updated: "2026-01-03T00:00:00Z", events: [Fixtures.userInput("lions instead"), Fixtures.text("and tigers")])
        try [first, second, third].joined(separator: "\n").write(toFile: fixture.folder.path("r.jsonl"), atomically: true, encoding: .utf8)
        let report = try Importer(store: fixture.store) { _ in }.run(paths: [fixture.folder.path("r.jsonl")])
        #expect(report.new == 1 && report.updated == 2)
        try fixture.database.execute("INSERT INTO search_index(search_index) VALUES ('integrity-check')")
        #expect(try fixture.database.scalar("SELECT count(*) FROM search_index WHERE search_index MATCH 'zebras'", as: Int.self) == 0)
        #expect(try fixture.database.scalar("SELECT count(*) FROM search_index WHERE search_index MATCH 'lions OR tigers'", as: Int.self) == 2)
        #expect(try fixture.database.scalar("SELECT count(*) FROM session_revisions", as: Int.self) == 1)
    }

    @Test func exportAfterImportEqualsTheInput() throws {
        let fixture = try QueryFixture()
        let lines = [Fixtures.richSession.replacingOccurrences(of: "\n", with: ""),
                     Fixtures.session(id: "s2", updated: "2026-05-01T00:00:00Z", events: [Fixtures.userInput("x"), Fixtures.stop(input: 1, output: 2)])]
        try lines.joined(separator: "\n").write(toFile: fixture.folder.path("in.jsonl"), atomically: true, encoding: .utf8)
        _ = try Importer(store: fixture.store) { _ in }.run(paths: [fixture.folder.path("in.jsonl")])
        var out: [String] = []
        #expect(try Exporter().run(reader: fixture.store.reader) { out.append($0) } == 2)
        #expect(try out.map { try JSONParser.parse($0) } == lines.map { try JSONParser.parse($0) })
        var one = Exporter()
        one.sessionIDs = ["s2"]
        out.removeAll()
        try one.run(reader: fixture.store.reader) { out.append($0) }
        #expect(out.count == 1)
        one.sessionIDs = ["nope"]
        #expect(throws: ArchiveError.unknownSession("nope")) { try one.run(reader: fixture.store.reader) { _ in } }
    }
}
