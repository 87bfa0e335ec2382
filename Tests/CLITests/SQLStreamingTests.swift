import TestSupport
import Foundation
import LosslessJSON
import ChatSimulator
import SQLiteCore
import Testing

/// `archive sql` streams: rows go out as SQLite steps them.
@Suite struct SQLStreamingTests {
    func emptyArchive() async throws -> (TemporaryDirectory, String) {
        let folder = try TemporaryDirectory()
        let db = folder.path("s.db")
        _ = FileManager.default.createFile(atPath: folder.path("none.jsonl"), contents: Data())
        #expect(try await ArchiveProcess.run(["import", "--db", db, folder.path("none.jsonl")]).status == 0)
        return (folder, db)
    }

    static let million = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n LIMIT 1000000) SELECT i, 'row ' || i AS label FROM n"

    @Test(.disabled(if: TestTime.underSanitizer, "a sanitizer's shadow memory is not the program's"))
    func aMillionRowsAsCSVTakeFlatMemory() async throws {
        let (folder, db) = try await emptyArchive()
        let out = folder.path("out.csv")
        let report = folder.path("time.out")
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        let measured = try await offThePool { () throws -> (Int32, Int) in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/time")
            process.arguments = ["-f", "%M", "-o", report, ArchiveProcess.locateBinary().path, "sql", "--db", db, Self.million, "--format", "csv"]
            process.environment = ArchiveProcess.environment()
            process.standardOutput = FileHandle(forWritingAtPath: out)
            try process.run()
            process.waitUntilExit()
            let kilobytes = Int(try String(contentsOfFile: report, encoding: .utf8).split(separator: "\n").last ?? "") ?? -1
            return (process.terminationStatus, kilobytes * 1024)
        }
        #expect(measured.0 == 0)
        #expect(measured.1 < 100_000_000, "peak \(measured.1 / 1_000_000) MB")
        let text = try String(contentsOfFile: out, encoding: .utf8)
        #expect(text.hasPrefix("i,label\r\n1,row 1\r\n") && text.hasSuffix("1000000,row 1000000\r\n"))
    }

    @Test func jsonLinesAndAJSONArrayGiveTheSameRows() async throws {
        let (folder, db) = try await emptyArchive()
        let query = "SELECT 1 AS a, 'x' AS b UNION ALL SELECT 2, NULL"
        let lines = try await ArchiveProcess.run(["sql", "--db", db, query, "--format", "jsonl"])
        #expect(lines.stdout == "{\"a\":1,\"b\":\"x\"}\n{\"a\":2,\"b\":null}\n")
        let array = try await ArchiveProcess.run(["sql", "--db", db, query, "--json"])
        #expect(try JSONParser.parse(array.stdout) == [["a": 1, "b": "x"], ["a": 2, "b": nil]])
        withExtendedLifetime(folder) {}
    }

    @Test func aHugeCellIsShortenedNotPaddedIntoEveryRow() async throws {
        let (folder, db) = try await emptyArchive()
        let query = "SELECT 'short' AS v UNION ALL SELECT printf('%.*c', 200000, 'x') UNION ALL SELECT 'end'"
        let table = try await ArchiveProcess.run(["sql", "--db", db, query])
        #expect(table.status == 0)
        #expect(table.stdout.utf8.count < 1_000, "\(table.stdout.utf8.count) bytes")
        #expect(table.stdout.split(separator: "\n").count == 4)
        withExtendedLifetime(folder) {}
    }

    @Test func pointerFunctionsAreRefused() async throws {
        let (folder, db) = try await emptyArchive()
        for query in ["SELECT fts3_tokenizer('simple')", "SELECT fts5(NULL)"] {
            let result = try await ArchiveProcess.run(["sql", "--db", db, query])
            #expect(result.status == 1, "\(query)")
            #expect(result.stderr.hasPrefix("archive: not authorized to use function: "), "\(query): \(result.stderr)")
        }
        withExtendedLifetime(folder) {}
    }
}

/// `tokens --by session` streams: every session's row goes out as it is made.
@Suite struct TokensStreamingTests {
    /// 200,000 sessions of two runs each, written straight into the tables.
    static func manySessions(_ db: String, count: Int) throws {
        let database = try Database(path: db, mode: .readWrite)
        try database.execute("BEGIN")
        try database.execute("""
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n LIMIT \(count))
            INSERT INTO sessions(session_key, session_id, project_id, title, last_updated_at, meta, first_synced_at, last_synced_at)
            SELECT i, printf('ses-%06d', i), 'p' || (i % 3), 'Session ' || i,
                   strftime('%Y-%m-%dT%H:%M:%fZ', '2026-01-01', '+' || i || ' minutes') || '', '{}', '2026-01-01T00:00:00.000000Z',
                   '2026-01-01T00:00:00.000000Z'
            FROM n
            """)
        try database.execute("""
            INSERT INTO usage_rows(run_key, turn, input_tokens, output_tokens, is_error, occurred_at)
            SELECT (session_key << 24) | seq, seq, 100 * seq, 10, 0, last_updated_at
            FROM sessions, (SELECT 1 AS seq UNION ALL SELECT 2)
            """)
        try database.execute("COMMIT")
    }

    @Test(.disabled(if: TestTime.underSanitizer, "a sanitizer's shadow memory is not the program's"))
    func everySessionGoesOutInFlatMemoryNewestFirst() async throws {
        let (folder, db) = try await SQLStreamingTests().emptyArchive()
        try Self.manySessions(db, count: 200_000)
        folder.checksArchivesWhenRemoved = false  // its rows are written by SQL, not by the store that keeps the counts
        let measured = try await SyncMemoryTests.peakMemory(["tokens", "--by", "session", "--db", db, "--format", "csv"], environment: [:])
        #expect(measured.status == 0)
        #expect(measured.bytes < 60_000_000, "peak \(measured.bytes / 1_000_000) MB")
        let csv = try await ArchiveProcess.run(["tokens", "--by", "session", "--db", db, "--format", "csv"])
        let lines = csv.stdout.split(separator: "\r\n")
        #expect(lines.count == 200_001)
        #expect(lines.first == "session,session_id,source,title,project_id,sessions,runs,error_runs,input_tokens,output_tokens,total_tokens,cost_usd")
        #expect(lines.dropFirst().first == "ses-200000,ses-200000,default,Session 200000,p2,1,2,0,300,20,320,")
        #expect(lines.last == "ses-000001,ses-000001,default,Session 1,p1,1,2,0,300,20,320,")
        withExtendedLifetime(folder) {}
    }

    @Test func aStreamedTableAndJSONEndWithTheTotalsOfTheRows() async throws {
        let folder = try TemporaryDirectory()
        let db = folder.path("a.db")
        var lines: [String] = []
        ChatSimulator.SimulatedChatService.writeCorpus(count: 400, seed: 12) { lines.append($0) }
        try lines.joined(separator: "\n").write(toFile: folder.path("c.jsonl"), atomically: true, encoding: .utf8)
        #expect(try await ArchiveProcess.run(["import", "--db", db, folder.path("c.jsonl")]).status == 0)
        let priced = ["--price-input", "1", "--price-output", "10"]
        func json(_ arguments: [String]) async throws -> JSONValue {
            try JSONParser.parse(try await ArchiveProcess.run(["tokens", "--db", db, "--format", "json"] + arguments + priced).stdout)
        }
        let project = try #require(try await json(["--by", "project"])["totals"])
        let sessions = try await json(["--by", "session"])
        let rows = sessions["rows"]?.arrayValue ?? []
        // Newest first, as `archive sessions` lists them; the totals are those of the rows, and of every project.
        let listing = try await ArchiveProcess.run(["sessions", "--db", db, "--limit", "0", "--format", "json"])
        let listed: [JSONValue] = try JSONParser.parse(listing.stdout).arrayValue ?? []
        let withRuns: [JSONValue?] = listed.filter { ($0["runs"]?.int64Value ?? 0) > 0 }.map { $0["session_id"] }
        #expect(rows.map { $0["session_id"] } == withRuns)
        let totals = try #require(sessions["totals"])
        let inputs: Int64 = rows.compactMap { $0["input_tokens"]?.int64Value }.reduce(0, +)
        #expect(rows.count > 50 && totals["sessions"]?.int64Value == Int64(rows.count))
        #expect(totals["input_tokens"]?.int64Value == inputs && totals["input_tokens"] == project["input_tokens"])
        let cost = totals["cost_usd"]?.doubleValue ?? -1, projectCost = project["cost_usd"]?.doubleValue ?? -2
        #expect(abs(cost - projectCost) < 1e-6)
        // On a terminal: columns wide enough for the totals, which come last.
        let screen = try await TerminalRenderingTests().onTerminal(["tokens", "--by", "session", "--db", db, "--no-pager"],
                                                                   environment: ["TERM": "xterm", "NO_COLOR": "1", "COLUMNS": "200"])
        let shown = screen.split(separator: "\n").map(String.init)
        let total = try #require(shown.last { $0.hasPrefix("total") })
        #expect(!total.contains("…"), "\(total)")
        // The leaders, ranked, and --limit only where rows are ranked.
        let top = try await json(["--by", "session", "--limit", "3"])
        let all = sessions
        let costs: [(cost: Double, id: String)] = (all["rows"]?.arrayValue ?? []).map {
            ($0["cost_usd"]?.doubleValue ?? 0, $0["session_id"]?.stringValue ?? "")
        }
        let ranked = costs.sorted { ($0.cost, $1.id) > ($1.cost, $0.id) }.prefix(3).map(\.id)
        #expect(top["rows"]?.arrayValue?.map { $0["session_id"]?.stringValue ?? "" } == Array(ranked))
        #expect(top["totals"] == all["totals"])
        let refused = try await ArchiveProcess.run(["tokens", "--by", "day", "--db", db, "--limit", "3"])
        #expect(refused.status == 64 && refused.stderr.contains("--limit ranks the rows of --by session, project, index or source"))
    }
}
