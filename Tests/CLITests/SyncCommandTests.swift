import TestSupport
@_spi(Testing) @testable import ArchiveCore
import ChatSimulator
import Foundation
import LosslessJSON
import SQLiteCore
import Testing

@Suite struct SyncCommandTests {
    let folder: TemporaryDirectory
    let key = "sk-secret-\(UUID().uuidString)"
    var db: String { folder.path("archive.db") }

    init() throws { folder = try TemporaryDirectory() }

    func simulator(sessions: Int, project: String? = nil) throws -> ChatSimulatorServer {
        let service = SimulatedChatService(apiKey: key, seed: 11)
        service.populate(project: project, count: sessions)
        return try ChatSimulatorServer.start(service: service)
    }

    func count(_ sql: String) throws -> Int {
        try Database(path: db, mode: .readOnly, busyTimeoutMilliseconds: 200).scalar(sql, as: Int.self) ?? -1
    }

    /// Sessions archived so far by a sync running in another process (0 while the archive is not there yet).
    func archivedSoFar() -> Int {
        (try? count("SELECT count(*) FROM sessions")) ?? 0
    }

    @Test func syncPrintsOneSummaryLineAndJSONAndNothingWhenQuiet() async throws {
        let server = try simulator(sessions: 12)
        let env = ["LLAMA_CLOUD_API_KEY": key, "LLAMA_CLOUD_BASE_URL": server.baseURL.absoluteString]
        let first = try await ArchiveProcess.run(["sync", "--db", db], environment: env)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.hasPrefix("synced: 12 new, 0 updated, 0 unchanged, 0 deleted, 0 failed in "))
        #expect(first.stdout.split(separator: "\n").count == 1)
        let json = try await ArchiveProcess.run(["sync", "--db", db, "--json"], environment: env)
        let summary = try JSONParser.parse(json.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(summary["unchanged"] == 12 && summary["retrieved"] == 0 && summary["status"] == "ok")
        let quiet = try await ArchiveProcess.run(["sync", "--db", db, "--quiet"], environment: env)
        #expect(quiet.status == 0 && quiet.stdout.isEmpty && quiet.stderr.isEmpty)
        server.stop()
    }

    /// The core says what failed; the command line names the flag that fixes it.
    @Test func aFatalErrorNamesTheFlagThatFixesIt() async throws {
        let server = try simulator(sessions: 1)
        let wrong = server.baseURL.absoluteString + "/wrong"
        let env = ["LLAMA_CLOUD_API_KEY": key]
        let result = try await ArchiveProcess.run(["sync", "--db", db, "--base-url", wrong, "--max-retries", "0"], environment: env)
        #expect(result.status == 1)
        #expect(result.stderr == "archive: the API answered 404 to the listing at \(wrong): is --base-url right?\n", "\(result.stderr)")
        // The run as recorded keeps the words without the flag.
        let recorded = try Database(path: db, mode: .readOnly).scalar("SELECT message FROM sync_runs", as: String.self)
        #expect(recorded == "the API answered 404 to the listing at \(wrong)")
        let since = try await ArchiveProcess.run(["tokens", "--db", db, "--since", "someday"])
        #expect(since.status == 64 && since.stderr.hasPrefix("archive: --since \"someday\" is not a date ("))
    }

    @Test func failedSessionsExitTwoAndKeepTheRest() async throws {
        let server = try simulator(sessions: 6)
        let ids = server.service.sessionIDs(project: nil)
        server.service.inject(.init(.retrieve(sessionID: ids[2]), status: 200, body: "not json at all"))
        let env = ["LLAMA_CLOUD_API_KEY": key, "LLAMA_CLOUD_BASE_URL": server.baseURL.absoluteString]
        let result = try await ArchiveProcess.run(["sync", "--db", db], environment: env)
        #expect(result.status == 2)
        #expect(result.stdout.contains("5 new") && result.stdout.contains("1 failed"))
        #expect(result.stderr.contains("1 failed; details: archive status"))
        #expect(try count("SELECT count(*) FROM sessions") == 5)
        let status = try await ArchiveProcess.run(["status", "--db", db])
        #expect(status.status == 0)
        #expect(status.stdout.contains("\(ids[2]) (project -): HTTP 200 response is not valid JSON"))
        server.stop()
    }

    @Test func badKeyExitsOneAndTheKeyIsNeverPrintedOrStored() async throws {
        let server = try simulator(sessions: 3)
        let wrong = "sk-wrong-\(UUID().uuidString)"
        let result = try await ArchiveProcess.run(
            ["sync", "--db", db, "--base-url", server.baseURL.absoluteString], environment: ["LLAMA_CLOUD_API_KEY": wrong])
        #expect(result.status == 1)
        #expect(result.stderr == "archive: authentication failed (HTTP 401): the key from LLAMA_CLOUD_API_KEY was refused\n")
        #expect(server.service.requestCount(.list) == 1)
        // A good run too, then look for either key anywhere in the output and the archive's files.
        let good = try await ArchiveProcess.run(
            ["sync", "--db", db, "--base-url", server.baseURL.absoluteString], environment: ["LLAMA_CLOUD_API_KEY": key])
        #expect(good.status == 0)
        for text in [result.stdout, result.stderr, good.stdout, good.stderr] {
            #expect(!text.contains(wrong) && !text.contains(key))
        }
        for file in try FileManager.default.contentsOfDirectory(atPath: folder.url.path) {
            let bytes = try Data(contentsOf: folder.url.appendingPathComponent(file))
            #expect(bytes.range(of: Data(key.utf8)) == nil && bytes.range(of: Data(wrong.utf8)) == nil, "key found in \(file)")
        }
        server.stop()
    }

    @Test func missingKeyAndBadArgumentsAreOneLineErrors() async throws {
        let noKey = try await ArchiveProcess.run(["sync", "--db", db, "--base-url", "http://127.0.0.1:9"])
        #expect(noKey.status == 1)
        #expect(noKey.stderr == "archive: no API key: LLAMA_CLOUD_API_KEY is not set; set it or pass --api-key-file\n")
        let badPage = try await ArchiveProcess.run(["sync", "--db", db, "--page-size", "0"], environment: ["LLAMA_CLOUD_API_KEY": "k"])
        #expect(badPage.status == 64)
        let unreachable = try await ArchiveProcess.run(
            ["sync", "--db", db, "--base-url", "http://127.0.0.1:9", "--max-retries", "0"], environment: ["LLAMA_CLOUD_API_KEY": "k"])
        #expect(unreachable.status == 1)
        #expect(unreachable.stderr.hasPrefix("archive: cannot reach http://127.0.0.1:9"))
    }

    /// One rule for every key file, the flags' and `[[sources]]`' alike (ssh's): readable by others, it is refused.
    @Test func keyFileIsReadAndAWorldReadableOneIsRefused() async throws {
        let server = try simulator(sessions: 2)
        let keyFile = folder.path("key")
        try Data((key + "\n").utf8).write(to: URL(fileURLWithPath: keyFile))
        chmod(keyFile, 0o644)
        let loose = try await ArchiveProcess.run(["sync", "--db", db, "--api-key-file", keyFile, "--base-url", server.baseURL.absoluteString])
        #expect(loose.status == 1)
        #expect(loose.stderr == "archive: the API key file \(keyFile) is readable by others (mode 644); refusing it: chmod 600 \(keyFile)\n",
                "\(loose.stderr)")
        #expect(!FileManager.default.fileExists(atPath: db + "-wal"), "nothing was opened")
        chmod(keyFile, 0o600)
        let tight = try await ArchiveProcess.run(["sync", "--db", db, "--api-key-file", keyFile, "--base-url", server.baseURL.absoluteString])
        #expect(tight.status == 0 && tight.stderr.isEmpty)
        server.stop()
    }

    @Test func secondConcurrentSyncLeavesAtOnceWithSeventyFive() async throws {
        let server = try simulator(sessions: 40)
        // The first sync takes the lock, then waits on its first retrieve until
        // released (a latency it outlived under a sanitizer made this flaky).
        server.service.holdRetrieves(after: 0)
        let env = ["LLAMA_CLOUD_API_KEY": key, "LLAMA_CLOUD_BASE_URL": server.baseURL.absoluteString]
        let first = try ArchiveProcess.start(["sync", "--db", db, "--concurrency", "1"], environment: env)
        while server.service.requestCount(.list) < 1 {
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        let second = try await ArchiveProcess.run(["sync", "--db", db], environment: env)
        server.service.releaseRetrieves()
        #expect(second.status == 75)
        // The message names what holds the lock: the first sync, its pid, since when.
        #expect(second.stderr.hasPrefix("archive: \(db) is held by archive sync (pid \(first.process.processIdentifier)) since "), "\(second.stderr)")
        #expect(second.stderr.hasSuffix(" UTC; leaving it be\n") && second.stderr.split(separator: "\n").count == 1, "\(second.stderr)")
        let done = await first.wait()
        #expect(done.status == 0)
        #expect(try count("SELECT count(*) FROM sessions") == 40)
        server.stop()
    }

    @Test func killedMidSyncThenRerunLeavesAConsistentCompleteArchive() async throws {
        let server = try simulator(sessions: 200)
        server.service.setLatency(milliseconds: 40)
        let env = ["LLAMA_CLOUD_API_KEY": key, "LLAMA_CLOUD_BASE_URL": server.baseURL.absoluteString]
        let running = try ArchiveProcess.start(["sync", "--db", db, "--concurrency", "2"], environment: env)
        // Watched from a thread of its own, so that a busy task pool cannot make it late.
        let path = db
        try await offThePool {
            while ((try? Database(path: path, mode: .readOnly, busyTimeoutMilliseconds: 200)
                .scalar("SELECT count(*) FROM sessions", as: Int.self)) ?? nil) ?? 0 < 10 {
                usleep(5_000)
            }
            running.kill9()
        }
        let killed = await running.wait()
        #expect(killed.status == SIGKILL)
        let partial = try count("SELECT count(*) FROM sessions")
        #expect(partial >= 10 && partial < 200)
        // Every archived session is whole: its event rows match its event_count.
        #expect(try count("SELECT count(*) FROM sessions s WHERE event_count != (SELECT count(*) FROM events e WHERE e.session_id = s.session_id)") == 0)
        let afterKill = try await ArchiveProcess.run(["status", "--db", db])
        #expect(afterKill.stdout.contains(" interrupted "), "\(afterKill.stdout)")
        server.service.setLatency(milliseconds: 0)
        let rerun = try await ArchiveProcess.run(["sync", "--db", db], environment: env)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(rerun.stdout.contains("\(200 - partial) new"))
        let check = try await ArchiveProcess.run(["status", "--db", db, "--check"])
        #expect(check.status == 0 && check.stdout.contains("check   ok"))
        let store = try ArchiveReader(path: db)
        for id in server.service.sessionIDs(project: nil) {
            let archived = try JSONParser.parse(#require(try store.sessionJSON(sessionID: id)))
            #expect(archived == (server.service.session(id)))
        }
        server.stop()
    }

    @Test func onATerminalAProgressLineIsRedrawnThenCleared() async throws {
        let server = try simulator(sessions: 30)
        server.service.setLatency(milliseconds: 20)
        let transcript = folder.path("tty.out")
        // util-linux `script` gives the command a pseudo-terminal.
        let command = "\(ArchiveProcess.locateBinary().path) sync --db \(db) --concurrency 1 --base-url \(server.baseURL.absoluteString)"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-qfec", command, transcript]
        process.environment = ArchiveProcess.environment(["LLAMA_CLOUD_API_KEY": key, "TERM": "xterm"])
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        while process.isRunning { try await Task.sleep(nanoseconds: 10_000_000) }
        #expect(process.terminationStatus == 0)
        let screen = try String(contentsOfFile: transcript, encoding: .utf8)
        #expect(screen.contains("\r\u{1B}[2Klisting… ") && screen.contains(" · fetched "))
        #expect(screen.contains("\r\u{1B}[2Ksynced: 30 new"))
        server.stop()
    }
}
