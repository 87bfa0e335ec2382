import TestSupport
import ArchiveCore
import ChatSimulator
import Foundation
import LosslessJSON
import SQLiteCore
import Testing

/// What a sync left to cron must never do: hang, hold the lock, leave files
/// behind in HOME, or be kept out by `status`.
@Suite struct SyncCronSafetyTests {
    let folder: TemporaryDirectory
    let key = "sk-secret-\(UUID().uuidString)"

    init() throws { folder = try TemporaryDirectory() }

    func simulator(sessions: Int) throws -> ChatSimulatorServer {
        let service = SimulatedChatService(apiKey: key, seed: 5)
        service.populate(project: nil, count: sessions)
        return try ChatSimulatorServer.start(service: service)
    }

    /// Runs the binary and kills it if it has not ended by `deadline` seconds.
    /// Timed on a thread of its own: a task pool kept busy by other tests
    /// delays a poll, not the process, and must not count as its time.
    func runBounded(_ arguments: [String], environment: [String: String], deadline: Double = TestTime.seconds(20)) async throws
        -> (result: ArchiveProcess.Result, seconds: Double, hung: Bool) {
        let started = Date()
        let running = try ArchiveProcess.start(arguments, environment: environment)
        let (ended, hung) = try await offThePool { () -> (Date, Bool) in
            while running.process.isRunning {
                if Date().timeIntervalSince(started) > deadline {
                    running.kill9()
                    return (Date(), true)
                }
                usleep(5_000)
            }
            return (Date(), false)
        }
        let result = await running.wait()
        return (result, ended.timeIntervalSince(started), hung)
    }

    @Test func aKeyRefusedMidRunEndsTheRunWithinSecondsEveryTime() async throws {
        let server = try simulator(sessions: 80)
        server.service.setLatency(milliseconds: 15)
        let env = ["LLAMA_CLOUD_API_KEY": key, "LLAMA_CLOUD_BASE_URL": server.baseURL.absoluteString]
        for round in 0..<12 {
            let db = folder.path("refused-\(round).db")
            server.service.inject(.init(.retrieve(sessionID: nil), status: 401, afterPassing: 5 + round))
            let (result, seconds, hung) = try await runBounded(["sync", "--db", db, "--concurrency", "8"], environment: env)
            #expect(!hung, "round \(round): the sync hung and was killed")
            #expect(result.status == 1, "round \(round): \(result.stderr)")
            #expect(result.stderr == "archive: authentication failed (HTTP 401): the key from LLAMA_CLOUD_API_KEY was refused\n")
            #expect(seconds < TestTime.seconds(10), "round \(round): \(seconds) s")
            #expect(!ArchiveLock.isHeld(archivePath: db))
            let status = try Database(path: db, mode: .readOnly).scalar("SELECT status FROM sync_runs", as: String.self)
            #expect(status == "failed")
            server.service.clearFaults()
        }
        server.stop()
    }

    @Test func aCorruptArchiveEndsAFullSyncWithinSeconds() async throws {
        let server = try simulator(sessions: 60)
        let env = ["LLAMA_CLOUD_API_KEY": key, "LLAMA_CLOUD_BASE_URL": server.baseURL.absoluteString]
        for round in 0..<5 {
            let db = folder.path("corrupt-\(round).db")
            let first = try await ArchiveProcess.run(["sync", "--db", db], environment: env)
            #expect(first.status == 0)
            // Everything into the main file, then garbage over every page but the
            // first (the schema): tables and indexes are gone.
            try Database(path: db).execute("PRAGMA wal_checkpoint(TRUNCATE)")
            let handle = try #require(FileHandle(forUpdatingAtPath: db))
            let size = try handle.seekToEnd()
            try handle.seek(toOffset: 16384)
            var generator = SystemRandomNumberGenerator()
            handle.write(Data((0..<(Int(size) - 16384)).map { _ in UInt8.random(in: 0...255, using: &generator) }))
            try handle.close()
            server.service.setLatency(milliseconds: 10)
            let (result, seconds, hung) = try await runBounded(["sync", "--db", db, "--full", "--concurrency", "8"], environment: env)
            server.service.setLatency(milliseconds: 0)
            #expect(!hung, "round \(round): the sync hung and was killed")
            #expect(result.status == 1, "round \(round): \(result.stdout) \(result.stderr)")
            #expect(result.stderr.hasPrefix("archive: ") && result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
            #expect(seconds < TestTime.seconds(10), "round \(round): \(seconds) s")
            #expect(!ArchiveLock.isHeld(archivePath: db))
        }
        server.stop()
    }

    @Test func jsonSummaryIsPrintedOnAFatalErrorToo() async throws {
        let server = try simulator(sessions: 3)
        let keyFile = folder.path("key")
        try Data("sk-wrong\n".utf8).write(to: URL(fileURLWithPath: keyFile))
        chmod(keyFile, 0o600)
        let result = try await ArchiveProcess.run(
            ["sync", "--db", folder.path("a.db"), "--json", "--api-key-file", keyFile, "--base-url", server.baseURL.absoluteString])
        #expect(result.status == 1)
        let summary = try JSONParser.parse(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        let message = "authentication failed (HTTP 401): the key from the file \(keyFile) was refused"
        #expect(summary["status"] == "failed")
        #expect(summary["message"] == .string(message))
        #expect(result.stderr == "archive: \(message)\n")
        server.stop()
    }

    @Test func jsonSummaryIsPrintedWhenTheArchiveIsLockedToo() async throws {
        let db = folder.path("locked.db")
        let lock = try ArchiveLock(archivePath: db, holder: "archive import")
        let result = try await ArchiveProcess.run(["sync", "--db", db, "--json", "--base-url", "http://127.0.0.1:9"],
                                                  environment: ["LLAMA_CLOUD_API_KEY": key])
        withExtendedLifetime(lock) {}
        #expect(result.status == 75)
        let summary = try JSONParser.parse(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(summary["status"] == "failed")
        // Not "another sync": what holds it, this test process as `archive import`.
        let held = try #require(summary["message"]?.stringValue)
        #expect(held.hasPrefix("\(db) is held by archive import (pid \(getpid())) since ") && held.hasSuffix(" UTC; leaving it be"), "\(held)")
        #expect(result.stderr == "archive: \(held)\n")
    }

    @Test func aSyncLeavesNothingInHome() async throws {
        let server = try simulator(sessions: 5)
        let home = folder.path("home")
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let result = try await ArchiveProcess.run(
            ["sync", "--db", folder.path("a.db")],
            environment: ["HOME": home, "LLAMA_CLOUD_API_KEY": key, "LLAMA_CLOUD_BASE_URL": server.baseURL.absoluteString])
        #expect(result.status == 0, "\(result.stderr)")
        let left = FileManager.default.enumerator(atPath: home).map { Array($0.compactMap { $0 as? String }) } ?? []
        #expect(left.isEmpty, "a sync created \(left) in HOME")
        server.stop()
    }

    @Test func statusNeverTakesTheSyncLock() async throws {
        let server = try simulator(sessions: 3)
        let db = folder.path("a.db")
        let first = try await ArchiveProcess.run(
            ["sync", "--db", db], environment: ["LLAMA_CLOUD_API_KEY": key, "LLAMA_CLOUD_BASE_URL": server.baseURL.absoluteString])
        #expect(first.status == 0)
        // Many `status` runs while this process takes and drops the lock as a
        // starting sync would: not once may the lock be found taken.
        let statuses = try (0..<16).map { _ in try ArchiveProcess.start(["status", "--db", db]) }
        var refused: [String] = [], attempts = 0
        while statuses.contains(where: { $0.process.isRunning }) || attempts < 200 {
            attempts += 1
            do { _ = try ArchiveLock(archivePath: db) } catch { refused.append(error.description) }
            try await Task.sleep(nanoseconds: 500_000)  // leaves the task pool's threads to the other tests
        }
        for status in statuses { #expect(await status.wait().status == 0) }
        #expect(refused.isEmpty, "\(refused.count) of \(attempts) lock attempts were refused while status ran: \(Set(refused))")
        // And while a writer holds the lock, status sees it.
        let lock = try ArchiveLock(archivePath: db)
        #expect(ArchiveLock.isHeld(archivePath: db))
        withExtendedLifetime(lock) {}
        server.stop()
    }
}
