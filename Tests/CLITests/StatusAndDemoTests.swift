import TestSupport
import ArchiveCore
import Foundation
import LosslessJSON
import SQLiteCore
import Testing

@Suite struct StatusAndDemoTests {
    let folder: TemporaryDirectory
    init() throws { folder = try TemporaryDirectory() }

    @Test func importCreatesTheDocumentedSchemaFromAnyDirectoryAtTheDefaultPathAndStatusShowsIt() async throws {
        let elsewhere = folder.url.appendingPathComponent("cwd")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        let dataHome = folder.path("xdg")
        let path = dataHome + "/llamacloud-archive/archive.db"
        let none = try await ArchiveProcess.run(["status"], environment: ["XDG_DATA_HOME": dataHome], directory: elsewhere)
        #expect(none.status == 1 && none.stderr.hasPrefix("archive: no archive at \(path)"))
        #expect(!FileManager.default.fileExists(atPath: dataHome), "status created \(dataHome)")
        let empty = folder.path("empty.jsonl")
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        let imported = try await ArchiveProcess.run(["import", empty], environment: ["XDG_DATA_HOME": dataHome], directory: elsewhere)
        #expect(imported.status == 0, "\(imported.stderr)")
        let result = try await ArchiveProcess.run(["status"], environment: ["XDG_DATA_HOME": dataHome], directory: elsewhere)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("archive \(path)"))
        #expect(result.stdout.contains("schema  version \(ArchiveSchema.version)"))
        let database = try Database(path: path, mode: .readOnly)
        var tables: [String] = []
        try database.forEachRow("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'search_index_%' ORDER BY name") {
            try tables.append($0.string(0))
        }
        #expect(tables == ["archive_counts", "rollup_groups", "archive_settings", "event_rows", "event_types", "events", "forgotten", "schema_migrations", "search_index", "search_source", "session_returns", "session_revisions", "sessions",
                           "sync_failures", "sync_runs", "tool_call_links", "tool_call_rows", "tool_calls", "tool_rollup", "typed_events", "usage",
                           "usage_rollup", "usage_rows", "rollup_projects", "usage_levels", "tool_scopes", "tool_levels", "budget_alerts", "sources", "content_removals"].sorted())
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        _ = try await ArchiveProcess.run(["import", empty], environment: ["ARCHIVE_DB": folder.path("env.db")])
        let viaEnvironment = try await ArchiveProcess.run(["status"], environment: ["ARCHIVE_DB": folder.path("env.db")])
        #expect(viaEnvironment.stdout.contains("archive \(folder.path("env.db"))"))
        let json = try await ArchiveProcess.run(["status", "--format", "json", "--check"], environment: ["ARCHIVE_DB": folder.path("env.db")])
        let value = try JSONParser.parse(json.stdout.trimmingCharacters(in: .newlines))
        #expect(value["schema_version"] == .number(JSONNumber(ArchiveSchema.version)) && value["sessions"] == 0 && value["path"] == .string(folder.path("env.db")))
        #expect(value["recent_runs"]?.arrayValue?.count == 1 && value["open_failures"] == [])  // the import that made it
    }

    @Test func aQueryOnAnArchiveOfAnEarlierSchemaUpgradesItOnceAndSaysSo() async throws {
        let path = folder.path("old.db")
        let first = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Migrations/0001_archive_schema.sql")
        do {
            let database = try Database(path: path)
            try Migrator([Migration(version: 1, name: "archive_schema", sql: String(contentsOf: first, encoding: .utf8))])
                .migrate(database) { "2026-05-01T00:00:00.000000Z" }
            try database.execute("""
                INSERT INTO sessions(session_key, session_id, last_updated_at, meta, first_synced_at, last_synced_at)
                VALUES (1, 'old-1', '2026-05-01T00:00:00.000000Z', '{}', '', '')
                """)
        }
        let upgraded = try await ArchiveProcess.run(["sessions", "--db", path, "--format", "csv"])
        #expect(upgraded.status == 0, "\(upgraded.stderr)")
        #expect(upgraded.stderr == "archive: upgrading \(path) from schema version 1 to \(ArchiveSchema.version) (once)\n")
        #expect(upgraded.stdout.contains("old-1"))
        let again = try await ArchiveProcess.run(["sessions", "--db", path, "--format", "csv"])
        #expect(again.status == 0 && again.stderr.isEmpty)
    }

    @Test func statusOnAFileThatIsNotAnArchiveFailsInOneLine() async throws {
        let path = folder.path("junk.db")
        try Data(repeating: 0x42, count: 5000).write(to: URL(fileURLWithPath: path))
        let result = try await ArchiveProcess.run(["status", "--db", path])
        #expect(result.status == 1)
        #expect(result.stderr == "archive: cannot use archive \(path): file is not a database: \(path)\n")
    }

    @Test func demoSyncsTheSimulatorAndSaysWhatToTryNext() async throws {
        let path = folder.path("demo.db")
        let result = try await ArchiveProcess.run(["demo", "--db", path, "--sessions", "15"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("first sync:  synced: 30 new"))
        #expect(result.stdout.contains("second sync: synced: 1 new, 5 updated, 24 unchanged, 1 deleted, 0 failed"))
        #expect(result.stdout.contains("31 sessions (1 deleted remotely)"))
        #expect(result.stdout.contains("Try next:"))
        let database = try Database(path: path, mode: .readOnly)
        let tokens = try database.scalar("SELECT sum(input_tokens) FROM usage", as: Int.self) ?? 0
        #expect(tokens > 0)
        let grouped = tokens.formatted(.number.grouping(.automatic).locale(Locale(identifier: "en_US")))
        #expect(result.stdout.contains("\(grouped) input tokens"))
    }
}
