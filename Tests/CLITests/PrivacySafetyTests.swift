import TestSupport
import ArchiveCore
import ChatSimulator
import Foundation
import LosslessJSON
import SQLiteCore
import Testing

/// Forgetting and pruning with a sync around: forgotten sessions stay
/// forgotten, destructive commands wait for no sync, a kill leaves before or
/// after, reports of tokens keep their totals, and redaction happens before
/// anything is written.
@Suite struct PrivacySafetyTests {
    let folder: TemporaryDirectory
    let key = "sk-\(UUID().uuidString)"
    var db: String { folder.path("archive.db") }

    init() throws { folder = try TemporaryDirectory() }

    func simulator(sessions: Int, seed: UInt64 = 21) throws -> (SimulatedChatService, ChatSimulatorServer, [String: String]) {
        let service = SimulatedChatService(apiKey: key, seed: seed)
        service.populate(project: nil, count: sessions)
        let server = try ChatSimulatorServer.start(service: service)
        return (service, server, ["LLAMA_CLOUD_API_KEY": key, "LLAMA_CLOUD_BASE_URL": server.baseURL.absoluteString])
    }

    func scalar<T: SQLReadable>(_ sql: String, as type: T.Type = Int.self) throws -> T? {
        try Database(path: db, mode: .readOnly, busyTimeoutMilliseconds: 500).scalar(sql, as: T.self)
    }

    func json(_ arguments: [String], environment: [String: String] = [:]) async throws -> JSONValue {
        let result = try await ArchiveProcess.run(arguments + ["--db", db], environment: environment)
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
        return try JSONParser.parse(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    func writeConfig(_ text: String) throws -> [String: String] {
        let home = folder.path("config")
        try FileManager.default.createDirectory(atPath: home + "/llamacloud-archive", withIntermediateDirectories: true)
        try text.write(toFile: home + "/llamacloud-archive/config.toml", atomically: true, encoding: .utf8)
        return ["XDG_CONFIG_HOME": home]
    }

    @Test func aForgottenSessionStaysForgottenUntilUndone() async throws {
        let (service, server, env) = try simulator(sessions: 8)
        defer { server.stop() }
        #expect(try await ArchiveProcess.run(["sync", "--db", db], environment: env).status == 0)
        let ids = service.sessionIDs(project: nil)
        let forgotten = try await json(["forget", ids[2], "--json"])
        #expect(forgotten["sessions"] == 1 && forgotten["session_ids"] == [.string(ids[2])])
        // Changed remotely and synced with --full: still not fetched, counted as forgotten.
        service.appendRun(to: ids[2])
        service.resetCounts()
        let sync = try await json(["sync", "--full", "--json"], environment: env)
        #expect(sync["forgotten"] == 1 && sync["retrieved"] == 7, "\(sync)")
        #expect(service.requestCount(.retrieve) == 7)
        #expect(try scalar("SELECT count(*) FROM sessions WHERE session_id = '\(ids[2])'") == 0)
        let text = try await ArchiveProcess.run(["sync", "--db", db], environment: env)
        #expect(text.stdout.contains("1 forgotten (skipped)"), "\(text.stdout)")
        // An export imported again does not bring it back either.
        let export = folder.path("old.jsonl")
        try JSONValue.object(service.session(ids[2])!.objectValue!).serialized.write(toFile: export, atomically: true, encoding: .utf8)
        let imported = try await json(["import", export, "--json"])
        #expect(imported["forgotten"] == 1 && imported["new"] == 0)
        // Undone: the next sync fetches it.
        let undo = try await ArchiveProcess.run(["forget", "--undo", ids[2], "--db", db])
        #expect(undo.status == 0 && undo.stdout.contains("no longer forgotten"), "\(undo.stderr)")
        let again = try await json(["sync", "--json"], environment: env)
        #expect(again["new"] == 1 && again["forgotten"] == 0)
        let session = try await ArchiveProcess.run(["export", "--db", db, "--session", ids[2]])
        #expect(try JSONParser.parse(session.stdout.trimmingCharacters(in: .newlines)) == service.session(ids[2]))
        let twice = try await ArchiveProcess.run(["forget", "--undo", ids[2], "--db", db])
        #expect(twice.status == 64 && twice.stderr.contains("is not forgotten"))
    }

    @Test func keptUsageComesBackWholeAfterUndoAndAFullSync() async throws {
        let (service, server, env) = try simulator(sessions: 6)
        defer { server.stop() }
        #expect(try await ArchiveProcess.run(["sync", "--db", db], environment: env).status == 0)
        let months = try await json(["tokens", "--by", "project,month", "--json"])
        let id = service.sessionIDs(project: nil)[1]
        let kept = try await json(["forget", id, "--keep-usage", "--json"])
        #expect(kept["kept_usage"] == true)
        #expect(try await json(["tokens", "--by", "project,month", "--json"]) == months)
        #expect(try await ArchiveProcess.run(["forget", "--undo", id, "--db", db]).status == 0)
        let sync = try await json(["sync", "--full", "--json"], environment: env)
        #expect(sync["updated"] == 1, "\(sync)")
        let session = try await ArchiveProcess.run(["export", "--db", db, "--session", id])
        #expect(try JSONParser.parse(session.stdout.trimmingCharacters(in: .newlines)) == service.session(id))
        #expect(try await json(["tokens", "--by", "project,month", "--json"]) == months)
        let check = try await ArchiveProcess.run(["status", "--db", db, "--check"])
        #expect(check.stdout.contains("check   ok"), "\(check.stdout)")
    }

    @Test func pruneKeepsEveryReportOfTokensAndTools() async throws {
        var lines: [String] = []
        SimulatedChatService.writeCorpus(count: 300, seed: 4) { lines.append($0) }
        try lines.joined(separator: "\n").write(toFile: folder.path("in.jsonl"), atomically: true, encoding: .utf8)
        #expect(try await ArchiveProcess.run(["import", "--db", db, folder.path("in.jsonl")]).status == 0)
        let reports = [["tokens", "--by", "project,month", "--json"], ["tokens", "--by", "day", "--tz", "Asia/Kathmandu", "--json"],
                       ["tools", "--format", "json"], ["sessions", "--order", "tokens", "--limit", "5", "--format", "json"]]
        var before: [JSONValue] = []
        for report in reports { before.append(try await json(report)) }
        let updated = try #require(try scalar("SELECT last_updated_at FROM sessions ORDER BY last_updated_at LIMIT 1 OFFSET 150", as: String.self))
        let dry = try await json(["prune", "--content-older-than", updated, "--dry-run", "--json"])
        #expect(dry["dry_run"]?.arrayValue?.count ?? 0 > 100)
        #expect(try scalar("SELECT count(*) FROM sessions WHERE content_pruned_at IS NOT NULL") == 0)
        let pruned = try await json(["prune", "--content-older-than", updated, "--json"])
        #expect(pruned["sessions"]?.int64Value == Int64(dry["dry_run"]?.arrayValue?.count ?? -1))
        for (report, expected) in zip(reports, before) {
            let after = try await json(report)
            // The sessions listing shows titles, which are text: it compares without them.
            if report[0] == "sessions" {
                let strip = { (value: JSONValue) in value.arrayValue?.map { $0.objectValue.map { object -> JSONValue in
                    var copy = object
                    copy["title"] = nil
                    return .object(copy)
                } ?? $0 } }
                #expect(strip(after) == strip(expected))
            } else {
                #expect(after == expected, "\(report)")
            }
        }
        // A second prune finds nothing more to do.
        let again = try await json(["prune", "--content-older-than", updated, "--json"])
        #expect(again["sessions"] == 0)
    }

    @Test func destructiveCommandsRefuseWhileASyncHoldsTheArchive() async throws {
        let (service, server, env) = try simulator(sessions: 60)
        defer { server.stop() }
        #expect(try await ArchiveProcess.run(["sync", "--db", db], environment: env).status == 0)
        for id in service.sessionIDs(project: nil) { service.appendRun(to: id) }
        service.holdRetrieves(after: 5)
        let sync = try ArchiveProcess.start(["sync", "--db", db], environment: env)
        let path = db
        try await offThePool { while !ArchiveLock.isHeld(archivePath: path) { usleep(5_000) } }
        let before = try scalar("SELECT count(*) FROM event_rows")
        let config = try writeConfig("[[redact]]\nname = \"x\"\npattern = \"the\"\n")
        for command in [["forget", service.sessionIDs(project: nil)[0]], ["prune", "--content-older-than", "1d"],
                        ["redact", "--apply"]] {
            let result = try await ArchiveProcess.run(command + ["--db", db], environment: config)
            #expect(result.status == 75, "\(command): \(result.status) \(result.stderr)")
        }
        #expect(try scalar("SELECT count(*) FROM event_rows") == before)
        service.releaseRetrieves()
        #expect(await sync.wait().status == 0)
    }

    /// `kill -9` at any instant of a forget leaves the archive as before or as after, and checked.
    @Test func aKilledForgetLeavesTheArchiveBeforeOrAfter() async throws {
        var lines: [String] = []
        SimulatedChatService.writeCorpus(count: 4000, seed: 8) { lines.append($0) }
        try lines.joined(separator: "\n").write(toFile: folder.path("in.jsonl"), atomically: true, encoding: .utf8)
        #expect(try await ArchiveProcess.run(["import", "--db", db, folder.path("in.jsonl")]).status == 0)
        let total = try #require(try scalar("SELECT count(*) FROM sessions"))
        let cut = try #require(try scalar("SELECT last_updated_at FROM sessions ORDER BY last_updated_at LIMIT 1 OFFSET 3000", as: String.self))
        try FileManager.default.copyItem(atPath: db, toPath: folder.path("base.db"))
        var killed = 0
        // Each attempt on a fresh copy, killed this long after the forget took the
        // archive's lock (a sleep from its start would not do: under a loaded test
        // run it can outlast the forget).
        for delay in [0, 0, 20, 60, 150, 300, 600] {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db + suffix) }
            try FileManager.default.copyItem(atPath: folder.path("base.db"), toPath: db)
            let running = try ArchiveProcess.start(["forget", "--until", cut, "--db", db])
            let path = db
            try await offThePool {
                while running.process.isRunning, !ArchiveLock.isHeld(archivePath: path) { usleep(200) }
                usleep(useconds_t(delay * 1000))
            }
            running.kill9()
            let result = await running.wait()
            if result.status == SIGKILL { killed += 1 } else { #expect(result.status == 0, "\(result.stderr)") }
            let left = try #require(try scalar("SELECT count(*) FROM sessions"))
            let forgotten = try #require(try scalar("SELECT count(*) FROM forgotten"))
            #expect((left == total && forgotten == 0) || (left < total && left + forgotten == total), "\(left) \(forgotten)")
            let check = try await ArchiveProcess.run(["status", "--db", db, "--check"])
            #expect(check.stdout.contains("check   ok"), "\(check.stdout) \(check.stderr)")
        }
        #expect(killed > 0, "no forget was slow enough to be killed: the test saw nothing")
    }

    @Test func matchListsWhatItWouldForgetAndNeedsYesOffATerminal() async throws {
        let lines = (1...4).map { n in
            #"{"session_id":"s-\#(n)","last_updated_at":"2026-03-0\#(n)T10:00:00Z","events":[{"type":"user_input","content":"\#(n % 2 == 0 ? "renewal clause" : "weather")"}]}"#
        }
        try lines.joined(separator: "\n").write(toFile: folder.path("in.jsonl"), atomically: true, encoding: .utf8)
        #expect(try await ArchiveProcess.run(["import", "--db", db, folder.path("in.jsonl")]).status == 0)
        let refused = try await ArchiveProcess.run(["forget", "--match", "renewal clause", "--db", db])
        #expect(refused.status == 64 && refused.stderr.contains("pass --yes"), "\(refused.stderr)")
        #expect(refused.stdout.contains("s-2") && refused.stdout.contains("s-4") && !refused.stdout.contains("s-1"))
        #expect(try scalar("SELECT count(*) FROM sessions") == 4)
        let dry = try await ArchiveProcess.run(["forget", "--match", "renewal", "--dry-run", "--db", db])
        #expect(dry.status == 0 && dry.stdout.contains("would forget 2 sessions"))
        let done = try await ArchiveProcess.run(["forget", "--match", "renewal clause", "--yes", "--db", db])
        #expect(done.status == 0 && done.stdout.contains("forgot 2 sessions (1 project), 2 events"), "\(done.stdout)")
        // The reason keeps the selector, not the words searched for.
        #expect(try scalar("SELECT group_concat(DISTINCT reason) FROM forgotten", as: String.self) == "--match (words not kept)")
        let unknown = try await ArchiveProcess.run(["forget", "s-", "--db", db])
        #expect(unknown.status == 1 && unknown.stderr.contains("no session s- in the archive (full session ids only)"), "\(unknown.stderr)")
        let nothing = try await ArchiveProcess.run(["forget", "--db", db])
        #expect(nothing.status == 64)
    }

    /// Text a rule matches never reaches the archive or its WAL: a reader
    /// holds the WAL open through the sync, and its bytes are read after.
    @Test func redactionAtIngestWritesNoByteOfWhatTheRulesMatch() async throws {
        let (service, server, env) = try simulator(sessions: 5)
        defer { server.stop() }
        let secret = "llx-\(UUID().uuidString.replacingOccurrences(of: "-", with: ""))"
        service.put(try JSONParser.parse(#"""
            {"session_id":"ses-secret","last_updated_at":"2026-03-01T10:00:00Z","generated_title":"mail alice@example.com","events":[{"type":"user_input","content":"my key is \#(secret), mail alice@example.com"},{"type":"tool_call","call_id":"c","name":"send","arguments":{"to":"alice@example.com"}},{"type":"tool_result","call_id":"c","name":"send","result":"sent with \#(secret)"}]}
            """#), project: nil)
        let config = try writeConfig(#"""
            [[redact]]
            name = "email"
            pattern = "[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}"

            [[redact]]
            name = "llx-key"
            pattern = "llx-[A-Za-z0-9]{20,}"
            """#)
        #expect(try await ArchiveProcess.run(["import", "--db", db, "/dev/null"]).status == 0)
        let reader = try Database(path: db, mode: .readOnly)
        _ = try reader.scalar("SELECT count(*) FROM sessions", as: Int.self)
        let sync = try await ArchiveProcess.run(["sync", "--db", db], environment: env.merging(config) { $1 })
        #expect(sync.status == 0, "\(sync.stderr)")
        #expect(FileManager.default.fileExists(atPath: db + "-wal"))
        for text in [secret, "alice@example.com"] {
            for suffix in ["", "-wal", "-shm"] {
                let data = try Data(contentsOf: URL(fileURLWithPath: db + suffix))
                #expect(data.range(of: Data(text.utf8)) == nil, "\(text) in archive.db\(suffix)")
            }
        }
        withExtendedLifetime(reader) {}
        let show = try await ArchiveProcess.run(["show", "ses-secret", "--db", db])
        #expect(show.stdout.contains("mail [redacted:email]") && show.stdout.contains("my key is [redacted:llx-key]"), "\(show.stdout)")
        let status = try await ArchiveProcess.run(["status", "--db", db], environment: config)
        #expect(status.stdout.contains("redaction rules: email, llx-key"), "\(status.stdout)")
        // Import applies the same rules.
        let export = folder.path("secret.jsonl")
        try service.session("ses-secret")!.serialized.write(toFile: export, atomically: true, encoding: .utf8)
        let other = folder.path("other.db")
        #expect(try await ArchiveProcess.run(["import", "--db", other, export], environment: config).status == 0)
        let imported = try Data(contentsOf: URL(fileURLWithPath: other))
        #expect(imported.range(of: Data(secret.utf8)) == nil && imported.range(of: Data("alice@example.com".utf8)) == nil)
    }

    @Test func retentionPrunesOldContentAtTheEndOfEverySync() async throws {
        let old = #"{"session_id":"s-old","last_updated_at":"2020-01-01T10:00:00Z","generated_title":"old talk","events":[{"type":"user_input","content":"ancient words"},{"type":"stop","usage":{"total_input_tokens":7,"total_output_tokens":3}}]}"#
        try old.write(toFile: folder.path("old.jsonl"), atomically: true, encoding: .utf8)
        #expect(try await ArchiveProcess.run(["import", "--db", db, folder.path("old.jsonl")]).status == 0)
        let (_, server, env) = try simulator(sessions: 3)
        defer { server.stop() }
        let config = try writeConfig("[retention]\ncontent_days = 400\n")
        let sync = try await ArchiveProcess.run(["sync", "--db", db], environment: env.merging(config) { $1 })
        #expect(sync.status == 0 && sync.stdout.contains("retention pruned the content of 1 sessions"), "\(sync.stdout) \(sync.stderr)")
        #expect(try scalar("SELECT count(*) FROM sessions WHERE content_pruned_at IS NOT NULL") == 1)
        #expect(try scalar("SELECT content_pruned_at IS NOT NULL FROM sessions WHERE session_id = 's-old'") == 1)
        #expect(try scalar("SELECT input_tokens FROM sessions WHERE session_id = 's-old'") == 7)
        let search = try await ArchiveProcess.run(["search", "ancient", "--db", db])
        #expect(!search.stdout.contains("s-old"))
        let status = try await ArchiveProcess.run(["status", "--db", db], environment: config)
        #expect(status.stdout.contains("content of 1 sessions pruned; retention: content kept 400 days"), "\(status.stdout)")
    }

    /// `status --check` sees a forgotten session that is still archived (a
    /// removal that failed to remove): the check is not blind.
    @Test func statusCheckSeesAForgottenSessionStillArchived() async throws {
        let line = #"{"session_id":"s-1","last_updated_at":"2026-03-01T10:00:00Z","events":[{"type":"user_input","content":"hi"}]}"#
        try line.write(toFile: folder.path("in.jsonl"), atomically: true, encoding: .utf8)
        #expect(try await ArchiveProcess.run(["import", "--db", db, folder.path("in.jsonl")]).status == 0)
        let database = try Database(path: db, mode: .readWrite)
        try database.execute("INSERT INTO forgotten(session_id, forgotten_at, reason, kept_usage) VALUES ('s-1', '2026-03-02T00:00:00.000000Z', 'by id', 0)")
        try database.close()
        let check = try await ArchiveProcess.run(["status", "--db", db, "--check"])
        #expect(check.status == 1 && check.stderr.contains("1 forgotten sessions are still archived with their content"), "\(check.stderr)")
    }

    /// An archive written before writers deleted securely may hold old text
    /// in free space: the first removal rewrites it whole, once.
    @Test func anArchiveFromBeforeSecureDeletionIsRewrittenWholeOnce() async throws {
        let lines = (1...3).map { #"{"session_id":"s-\#($0)","last_updated_at":"2026-03-01T10:00:00Z","events":[{"type":"user_input","content":"words \#($0)"}]}"# }
        try lines.joined(separator: "\n").write(toFile: folder.path("in.jsonl"), atomically: true, encoding: .utf8)
        #expect(try await ArchiveProcess.run(["import", "--db", db, folder.path("in.jsonl")]).status == 0)
        let database = try Database(path: db, mode: .readWrite)
        try database.execute("INSERT INTO archive_settings(name, value) VALUES ('content_may_linger', 1)")
        try database.close()
        let first = try await json(["forget", "s-1", "--json"])
        #expect(first["erasure"]?["vacuumed"] == true)
        let second = try await json(["forget", "s-2", "--json"])
        #expect(second["erasure"]?["vacuumed"] == false)
    }
}
