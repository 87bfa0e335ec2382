import ArchiveCore
import Foundation
import SQLiteCore
import Testing
import TestSupport

/// Archive files from elsewhere (`import OTHER.db`, `restore`): a schema that
/// is not the migrations' own, or pages that are not sound, is refused in one
/// line within seconds, and the target archive stays byte for byte as it was.
/// (Tests/Repro/hostile-archive is shared/repro/hostile-archive, made here in Swift.)
@Suite struct HostileArchiveFileTests {
    let folder: TemporaryDirectory
    var target: String { folder.path("target.db") }
    var good: String { folder.path("good.db") }

    init() async throws {
        folder = try TemporaryDirectory()
        let lines = (1...40).map { index in
            #"{"session_id":"s-\#(index)","last_updated_at":"2026-03-0\#(index % 9 + 1)T10:00:00Z","events":[{"type":"user_input","content":"question \#(index)"},"#
                + #"{"type":"text","content":"\#(String(repeating: "answer ", count: 400))"},{"type":"stop","usage":{"total_input_tokens":\#(index),"total_output_tokens":1}}]}"#
        }
        try lines.joined(separator: "\n").write(toFile: folder.path("in.jsonl"), atomically: true, encoding: .utf8)
        for db in [good, target] {
            let imported = try await ArchiveProcess.run(["import", "--db", db, folder.path("in.jsonl")])
            #expect(imported.status == 0, "\(imported.stderr)")
        }
        // One session more in the target, so that a merge of `good` would change it.
        try #"{"session_id":"only-here","last_updated_at":"2026-04-01T10:00:00Z","events":[]}"#.write(
            toFile: folder.path("one.json"), atomically: true, encoding: .utf8)
        _ = try await ArchiveProcess.run(["import", "--db", target, folder.path("one.json")])
    }

    /// A copy of the good archive with `sql` run on it. (Not named .db: the
    /// folder's own consistency check would read an endless view forever.)
    func variant(_ name: String, _ sql: String) throws -> String {
        let path = folder.path(name + ".hostile")
        try FileManager.default.copyItem(atPath: good, toPath: path)
        let database = try Database(path: path, mode: .readWrite)
        try database.executeScript(sql + "; PRAGMA wal_checkpoint(TRUNCATE);")
        try database.close()
        return path
    }

    func bytes(_ path: String) -> [Data] {
        ["", "-wal"].map { suffix in (try? Data(contentsOf: URL(fileURLWithPath: path + suffix))) ?? Data() }
    }

    /// Runs the command, killing it (and failing) if it has not ended within a minute.
    func runBounded(_ arguments: [String]) async throws -> ArchiveProcess.Result {
        let running = try ArchiveProcess.start(arguments)
        let started = Date()
        while running.process.isRunning && Date().timeIntervalSince(started) < 60 { try await Task.sleep(nanoseconds: 20_000_000) }
        if running.process.isRunning {
            running.kill9()
            Issue.record("\(arguments) still ran after 60 s")
        }
        return await running.wait()
    }

    @Test func hostileFilesAreRefusedAndTheTargetStaysAsItWas() async throws {
        let truncated = folder.path("truncated.hostile")
        try FileManager.default.copyItem(atPath: good, toPath: truncated)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: truncated)[.size] as? Int)
        #expect(truncate(truncated, off_t(size * 3 / 5)) == 0)
        let garbage = folder.path("garbage.hostile")
        var pages = try Data(contentsOf: URL(fileURLWithPath: good))
        let pageSize = 16384
        var generator = SystemRandomNumberGenerator()
        for offset in (pageSize * (pages.count / pageSize / 2))..<(pageSize * (pages.count / pageSize / 2) + pageSize) {
            pages[offset] = UInt8.random(in: 0...255, using: &generator)
        }
        try pages.write(to: URL(fileURLWithPath: garbage))
        let cases: [(path: String, says: String)] = [
            (try variant("endless-view", """
                PRAGMA foreign_keys=OFF; PRAGMA legacy_alter_table=ON; ALTER TABLE sessions RENAME TO sessions_real;
                CREATE VIEW sessions AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n)
                SELECT 'x'||i AS session_id, NULL AS project_id, NULL AS organization_id, '2024-01-01T00:00:00Z' AS last_updated_at,
                NULL AS deleted_at, 1 AS source_key, i AS session_key, NULL AS index_ids FROM n
                """), "table sessions_real is not part of it"),
            (try variant("trigger", "CREATE TRIGGER evil AFTER UPDATE ON sessions BEGIN DELETE FROM sessions WHERE rowid <> NEW.rowid; END"),
             "trigger evil is not part of it"),
            (try variant("extra-table", "CREATE TABLE payload(x BLOB); INSERT INTO payload VALUES (zeroblob(100000))"), "table payload is not part of it"),
            (try variant("other-type", """
                DROP TABLE budget_alerts;
                CREATE TABLE budget_alerts (budget TEXT NOT NULL, period_start TEXT NOT NULL, threshold BLOB NOT NULL, alerted_at TEXT NOT NULL,
                  PRIMARY KEY (budget, period_start, threshold))
                """), "table budget_alerts is not as the migrations make it"),
            (try variant("missing-index", "DROP INDEX sessions_by_updated"), "index sessions_by_updated is missing"),
            (try variant("ledger-view", "ALTER TABLE schema_migrations RENAME TO ledger; CREATE VIEW schema_migrations AS SELECT * FROM ledger"),
             "its schema_migrations is not an archive's"),
            (truncated, "cannot use archive"),
            (garbage, "cannot use archive"),
        ]
        for (path, says) in cases {
            for command in ["import", "restore"] {
                let before = bytes(target)
                let result = try await runBounded([command, "--db", target, path])
                #expect(result.status != 0, "\(command) \(path) was accepted: \(result.stdout)")
                let lines = result.stderr.split(separator: "\n")
                #expect(lines.count == 1 && lines.first?.contains(says) == true, "\(command) \(path): \(result.stderr)")
                #expect(!result.stderr.contains("SELECT") && !result.stderr.contains("CREATE"), "\(result.stderr)")
                #expect(bytes(target) == before, "\(command) \(path) changed the target")
            }
        }
        // What is refused above is the difference alone: the good archive itself merges and restores.
        let merged = try await runBounded(["import", "--db", target, good])
        #expect(merged.status == 0, "\(merged.stderr)")
        let restored = try await runBounded(["restore", "--db", target, good])
        #expect(restored.status == 0, "\(restored.stderr)")
        let check = try await ArchiveProcess.run(["status", "--db", target, "--check"])
        #expect(check.status == 0, "\(check.stderr)")
    }

    func leftovers() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.url.path).filter { $0.contains(".merging-") || $0.contains(".restore-") }
    }

    /// A merge stopped by SIGTERM or SIGINT removes its copy as it ends.
    @Test func aMergeStoppedBySignalRemovesItsCopy() async throws {
        // Big enough that the merge is still running when its copy appears.
        let lines = (1...3_000).map { index in
            let text = String(repeating: "word\(index) ", count: 60)
            return #"{"session_id":"b-\#(index)","last_updated_at":"2026-05-01T10:00:00Z","events":[{"type":"user_input","content":"\#(text)"}]}"#
        }
        try lines.joined(separator: "\n").write(toFile: folder.path("big.jsonl"), atomically: true, encoding: .utf8)
        let big = folder.path("big.db")
        #expect(try await ArchiveProcess.run(["import", "--db", big, folder.path("big.jsonl")]).status == 0)
        for signal in [SIGTERM, SIGINT] {
            var stopped = false
            for _ in 0..<20 where !stopped {
                let fresh = folder.path("fresh-\(signal)-\(UUID().uuidString).db")
                let running = try ArchiveProcess.start(["import", "--db", fresh, big])
                while running.process.isRunning, try !FileManager.default.contentsOfDirectory(atPath: folder.url.path)
                    .contains(where: { $0.hasPrefix(".\((fresh as NSString).lastPathComponent).merging-") }) {
                    try await Task.sleep(nanoseconds: 1_000_000)
                }
                guard running.process.isRunning else { continue }  // it finished first: try again
                kill(running.process.processIdentifier, signal)
                let result = await running.wait()
                guard result.status != 0 else { continue }
                stopped = true
                #expect(result.status == signal, "\(result.stderr)")
                let left = try leftovers()
                #expect(left.isEmpty, "after signal \(signal): \(left)")
            }
            #expect(stopped, "no merge could be stopped by signal \(signal) while it ran")
        }
    }

    /// What a `kill -9` leaves (the copy, its WAL and shared memory; made
    /// here as it is left) the next merge removes.
    @Test func theNextMergeRemovesACopyAKilledOneLeft() async throws {
        let name = (target as NSString).lastPathComponent
        for suffix in ["", "-wal", "-shm"] {
            try Data("left".utf8).write(to: URL(fileURLWithPath: folder.path(".\(name).merging-Ab12Cd" + suffix)))
        }
        try Data("other".utf8).write(to: URL(fileURLWithPath: folder.path(".other.db.merging-Ab12Cd")))
        let merged = try await ArchiveProcess.run(["import", "--db", target, good])
        #expect(merged.status == 0, "\(merged.stderr)")
        #expect(try leftovers() == [".other.db.merging-Ab12Cd"])
    }
}
