import TestSupport
import Foundation
import LosslessJSON
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
