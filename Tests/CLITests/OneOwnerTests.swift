import TestSupport
@_spi(Testing) @testable import ArchiveCore
import ChatSimulator
import Foundation
import LosslessJSON
import SQLiteCore
import Testing

/// The archive file has one owner (`Archive`): what a command leaves behind
/// and what follows a sync, as a user sees them.
@Suite struct OneOwnerTests {
    let folder: TemporaryDirectory
    let key = "sk-secret-\(UUID().uuidString)"
    var db: String { folder.path("archive.db") }

    init() throws { folder = try TemporaryDirectory() }

    func simulator(sessions: Int) throws -> ChatSimulatorServer {
        let service = SimulatedChatService(apiKey: key, seed: 21)
        service.populate(project: nil, count: sessions)
        return try ChatSimulatorServer.start(service: service)
    }

    func config(_ text: String) throws -> String {
        let home = folder.path("config")
        try FileManager.default.createDirectory(atPath: home + "/llamacloud-archive", withIntermediateDirectories: true)
        try text.write(toFile: home + "/llamacloud-archive/config.toml", atomically: true, encoding: .utf8)
        return home
    }

    /// A first sync used to leave all it wrote in the WAL (a reader's
    /// connection, still open, was the last to close); a copy of the file
    /// alone was then an empty archive. Now every command that ends normally
    /// leaves the file whole and no WAL beside it, readers included.
    @Test func aCommandLeavesNoWALAndTheFileAloneIsTheWholeArchive() async throws {
        let server = try simulator(sessions: 10)
        defer { server.stop() }
        let env = ["LLAMA_CLOUD_API_KEY": key, "LLAMA_CLOUD_BASE_URL": server.baseURL.absoluteString]
        let sync = try await ArchiveProcess.run(["sync", "--db", db], environment: env)
        #expect(sync.status == 0, "\(sync.stderr)")
        #expect(!FileManager.default.fileExists(atPath: db + "-wal"), "sync left a WAL")
        let copy = folder.path("copy.db")
        try FileManager.default.copyItem(atPath: db, toPath: copy)  // as cp or rsync would, without -wal
        let counted = try await ArchiveProcess.run(["sql", "--db", copy, "SELECT count(*) FROM sessions", "--format", "csv"])
        #expect(counted.stdout == "count(*)\r\n10\r\n", "\(counted.stdout) \(counted.stderr)")
        for command in [["sessions"], ["search", "the"], ["status"], ["tokens", "--by", "day"]] {
            let read = try await ArchiveProcess.run(command + ["--db", db])
            #expect(read.status == 0, "\(command): \(read.stderr)")
            #expect(!FileManager.default.fileExists(atPath: db + "-wal"), "\(command) left a WAL")
        }
    }

    /// The backup after a sync that fails says so on standard error; the sync
    /// it follows is kept and stays a success (it used to be exit 1). A
    /// `[backup] dir` that is a file is refused, not overwritten with a backup.
    @Test func aFailingBackupAfterASyncLeavesTheSyncASuccess() async throws {
        let server = try simulator(sessions: 4)
        defer { server.stop() }
        let notAFolder = folder.path("backups")
        try "a file where the folder should be".write(toFile: notAFolder, atomically: true, encoding: .utf8)
        let home = try config("[backup]\ndir = \"\(notAFolder)\"\nafter_sync = true\n")
        let env = ["LLAMA_CLOUD_API_KEY": key, "LLAMA_CLOUD_BASE_URL": server.baseURL.absoluteString, "XDG_CONFIG_HOME": home]
        let sync = try await ArchiveProcess.run(["sync", "--db", db], environment: env)
        #expect(sync.status == 0, "\(sync.status): \(sync.stderr)")
        #expect(sync.stdout.hasPrefix("synced: 4 new"), "\(sync.stdout)")
        let lines = sync.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("archive: synced, but the backup after it failed: "), "\(sync.stderr)")
        let json = try await ArchiveProcess.run(["sync", "--db", db, "--json"], environment: env)
        let summary = try JSONParser.parse(json.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(json.status == 0 && summary["status"] == "ok" && summary["source"] == "default", "\(json.stdout)")
        #expect(summary["after_sync_problems"]?.arrayValue?.count == 1, "\(json.stdout)")
        #expect(try String(contentsOfFile: notAFolder, encoding: .utf8) == "a file where the folder should be")
    }

    /// Retention is the archive's policy, not a source's: it runs once per
    /// run, after every source, and is said once.
    @Test func retentionRunsOncePerRunAfterEverySource() async throws {
        let old = #"{"session_id":"s-old","last_updated_at":"2020-01-01T10:00:00Z","events":[{"type":"user_input","content":"ancient words"}]}"#
        try old.write(toFile: folder.path("old.jsonl"), atomically: true, encoding: .utf8)
        #expect(try await ArchiveProcess.run(["import", "--db", db, folder.path("old.jsonl")]).status == 0)
        let first = try simulator(sessions: 2), second = try simulator(sessions: 3)
        defer { first.stop(); second.stop() }
        let home = try config("""
            [retention]
            content_days = 400

            [[sources]]
            name = "one"
            base_url = "\(first.baseURL.absoluteString)"
            api_key_env = "ONE_KEY"

            [[sources]]
            name = "two"
            base_url = "\(second.baseURL.absoluteString)"
            api_key_env = "ONE_KEY"
            """)
        let env = ["ONE_KEY": key, "XDG_CONFIG_HOME": home]
        let sync = try await ArchiveProcess.run(["sync", "--db", db, "--json"], environment: env)
        #expect(sync.status == 0, "\(sync.stderr)")
        let run = try JSONParser.parse(sync.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(run["pruned"] == 1, "\(sync.stdout)")
        #expect(run["sources"]?.arrayValue?.map { $0["source"] } == ["one", "two"], "\(sync.stdout)")
        #expect(run["sources"]?.arrayValue?.allSatisfy { $0["pruned"] == nil } == true, "pruning belongs to the run: \(sync.stdout)")
        let text = try await ArchiveProcess.run(["sync", "--db", db], environment: env)
        #expect(text.stdout.split(separator: "\n").filter { $0.contains("retention") }.isEmpty, "nothing left to prune: \(text.stdout)")
    }

    /// The flags' source and `[[sources]]` go through the same checks: a base
    /// URL that is not http(s) is refused from the flags and from `[sync]` alike.
    @Test func theFlagsAndTheConfigFileShareOneCheckOfTheBaseURL() async throws {
        let flags = try await ArchiveProcess.run(["sync", "--db", db, "--base-url", "ftp://example.com"], environment: ["LLAMA_CLOUD_API_KEY": key])
        #expect(flags.status == 64 && flags.stderr == "archive: invalid base URL ftp://example.com\n", "\(flags.stderr)")
        let home = try config("[sync]\nbase_url = \"file:///etc/passwd\"\n")
        let configured = try await ArchiveProcess.run(["sync", "--db", db], environment: ["LLAMA_CLOUD_API_KEY": key, "XDG_CONFIG_HOME": home])
        #expect(configured.status == 64, "\(configured.stderr)")
        #expect(configured.stderr.hasSuffix("config.toml:2: base_url must be an http or https URL\n"), "\(configured.stderr)")
        #expect(!FileManager.default.fileExists(atPath: db), "nothing was opened")
    }

    /// An archive of an earlier schema read while a writer holds the lock is
    /// not upgraded behind the writer's back: the reader says who holds it.
    @Test func aReaderUpgradesAnOlderArchiveOnlyUnderTheLock() async throws {
        let line = #"{"session_id":"s-1","last_updated_at":"2026-03-01T10:00:00Z","events":[{"type":"user_input","content":"hi"}]}"#
        try line.write(toFile: folder.path("in.jsonl"), atomically: true, encoding: .utf8)
        #expect(try await ArchiveProcess.run(["import", "--db", db, folder.path("in.jsonl")]).status == 0)
        let database = try Database(path: db, mode: .readWrite)
        try database.execute("DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)")
        try database.close()
        let lock = try ArchiveLock(archivePath: db, holder: "archive import")
        let refused = try await ArchiveProcess.run(["sessions", "--db", db])
        #expect(refused.status == 75, "\(refused.status): \(refused.stderr)")
        #expect(refused.stderr.contains("is held by archive import (pid \(getpid()))"), "\(refused.stderr)")
        withExtendedLifetime(lock) {}
    }
}
