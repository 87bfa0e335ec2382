import TestSupport
import ArchiveCore
import ChatSimulator
import Foundation
import LosslessJSON
import SQLiteCore
import Testing

/// `archive backup` and `archive restore` through the real binary, on real
/// files, with a sync writing on loopback at the same time.
@Suite struct BackupCommandTests {
    let folder: TemporaryDirectory
    let key = "sk-\(UUID().uuidString)"
    var db: String { folder.path("archive.db") }

    init() throws { folder = try TemporaryDirectory() }

    func export(_ path: String) async throws -> [JSONValue] {
        let result = try await ArchiveProcess.run(["export", "--db", path])
        #expect(result.status == 0, "\(result.stderr)")
        return try result.stdout.split(separator: "\n").map { try JSONParser.parse(String($0)) }
    }

    func sessions(_ path: String) throws -> Int {
        try Database(path: path, mode: .readOnly).scalar("SELECT count(*) FROM sessions", as: Int.self) ?? -1
    }

    @Test func aBackupTakenWhileASyncWritesIsOneInstantWholeAndChecked() async throws {
        let service = SimulatedChatService(apiKey: key, seed: 5)
        service.populate(project: nil, count: 150)
        let server = try ChatSimulatorServer.start(service: service)
        service.holdRetrieves(after: 40)  // the sync stops after 40 sessions, mid-run, until released
        let env = ["LLAMA_CLOUD_API_KEY": key, "LLAMA_CLOUD_BASE_URL": server.baseURL.absoluteString]
        let sync = try ArchiveProcess.start(["sync", "--db", db, "--concurrency", "2"], environment: env)
        let path = db
        try await offThePool {
            while ((try? Database(path: path, mode: .readOnly, busyTimeoutMilliseconds: 200)
                .scalar("SELECT count(*) FROM sessions", as: Int.self)) ?? nil) ?? 0 < 40 { usleep(5_000) }
        }
        let copy = folder.path("copy.db")
        let backup = try await ArchiveProcess.run(["backup", copy, "--db", db, "--json"])
        #expect(backup.status == 0, "\(backup.stderr)")
        service.releaseRetrieves()
        let synced = await sync.wait()
        #expect(synced.status == 0, "\(synced.stderr)")
        // Taken mid-sync: part of it, every session whole and as the server sent it, and the copy checks out.
        let copied = try sessions(copy)
        #expect(copied == 40, "\(copied)")
        let result = try JSONParser.parse(backup.stdout)
        #expect(result["sessions"]?.int64Value == Int64(copied) && result["path"]?.stringValue == copy)
        for session in try await export(copy) {
            let id = try #require(session["session_id"]?.stringValue)
            #expect(session == service.session(id), "\(id)")
        }
        let check = try await ArchiveProcess.run(["status", "--db", copy, "--check"])
        #expect(check.status == 0 && check.stdout.contains("check   ok"), "\(check.stdout)")
        let attributes = try FileManager.default.attributesOfItem(atPath: copy)
        #expect((attributes[.posixPermissions] as? Int).map { $0 & 0o077 } == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.url.path).allSatisfy { !$0.contains(".partial-") })
        server.stop()
    }

    @Test func aFolderGetsDatedBackupsAndKeepsTheNewest() async throws {
        let lines = (1...5).map { #"{"session_id":"s-\#($0)","last_updated_at":"2026-03-01T10:00:00Z","events":[]}"# }
        try lines.joined(separator: "\n").write(toFile: folder.path("in.jsonl"), atomically: true, encoding: .utf8)
        _ = try await ArchiveProcess.run(["import", "--db", db, folder.path("in.jsonl")])
        let backups = folder.path("backups")
        try FileManager.default.createDirectory(atPath: backups, withIntermediateDirectories: true)
        var made: [String] = []
        for round in 0..<3 {
            if round > 0 { try await Task.sleep(nanoseconds: 1_100_000_000) }  // dated to the second
            let result = try await ArchiveProcess.run(["backup", backups, "--db", db, "--keep", "2", "--json"])
            #expect(result.status == 0, "\(result.stderr)")
            made.append(try #require(JSONParser.parse(result.stdout)["path"]?.stringValue))
        }
        let kept = try FileManager.default.contentsOfDirectory(atPath: backups).sorted()
        #expect(kept == made.dropFirst().map { ($0 as NSString).lastPathComponent })
        // What a killed backup left (a hidden partial copy) goes once it is an hour old; a fresh one stays.
        let abandoned = backups + "/.archive-2026-01-01T000000Z.db.partial-AbCdEf", fresh = backups + "/.archive-2026-01-02T000000Z.db.partial-GhIjKl"
        for path in [abandoned, fresh] { _ = FileManager.default.createFile(atPath: path, contents: Data("x".utf8)) }
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-7200)], ofItemAtPath: abandoned)
        #expect(try await ArchiveProcess.run(["backup", backups, "--db", db]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: abandoned) && FileManager.default.fileExists(atPath: fresh))
        #expect(kept.allSatisfy { $0.hasPrefix("archive-2") && $0.hasSuffix("Z.db") })
    }

    @Test func aRestoreBringsBackTheBackupAndKeepsWhatItReplaced() async throws {
        let first = (1...4).map { #"{"session_id":"s-\#($0)","last_updated_at":"2026-03-01T10:00:00Z","events":[{"type":"user_input","content":"one"}]}"# }
        try first.joined(separator: "\n").write(toFile: folder.path("a.jsonl"), atomically: true, encoding: .utf8)
        _ = try await ArchiveProcess.run(["import", "--db", db, folder.path("a.jsonl")])
        let backup = folder.path("backup.db")
        #expect(try await ArchiveProcess.run(["backup", backup, "--db", db]).status == 0)
        let backedUp = try await export(db)
        let later = (3...9).map { #"{"session_id":"s-\#($0)","last_updated_at":"2026-03-02T10:00:00Z","events":[{"type":"user_input","content":"two"}]}"# }
        try later.joined(separator: "\n").write(toFile: folder.path("b.jsonl"), atomically: true, encoding: .utf8)
        _ = try await ArchiveProcess.run(["import", "--db", db, folder.path("b.jsonl")])
        let beforeRestore = try await export(db)
        #expect(beforeRestore.count == 9)

        // While a sync holds the archive: exit 75, nothing changed.
        do {
            let lock = try ArchiveLock(archivePath: db)
            let refused = try await ArchiveProcess.run(["restore", backup, "--db", db])
            withExtendedLifetime(lock) {}
            #expect(refused.status == 75, "\(refused.stderr)")
        }
        #expect(try await export(db) == beforeRestore)

        let restored = try await ArchiveProcess.run(["restore", backup, "--db", db, "--json"])
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(try await export(db) == backedUp)
        let previous = try #require(JSONParser.parse(restored.stdout)["previous"]?.stringValue)
        #expect(try await export(previous) == beforeRestore)
        let check = try await ArchiveProcess.run(["status", "--db", db, "--check"])
        #expect(check.status == 0 && check.stdout.contains("check   ok"), "\(check.stdout)")
        // The restored archive takes writes again: an import after it counts right.
        let again = try await ArchiveProcess.run(["import", "--db", db, folder.path("b.jsonl")])
        #expect(again.status == 0)
        #expect(try sessions(db) == 9)
        #expect(try await ArchiveProcess.run(["status", "--db", db, "--check"]).stdout.contains("check   ok"))
    }

    @Test func aRestoreOfADamagedOrForeignFileIsRefusedAndChangesNothing() async throws {
        let lines = (1...30).map { #"{"session_id":"s-\#($0)","last_updated_at":"2026-03-01T10:00:00Z","events":[{"type":"user_input","content":"\#(String(repeating: "text ", count: 400))"}]}"# }
        try lines.joined(separator: "\n").write(toFile: folder.path("in.jsonl"), atomically: true, encoding: .utf8)
        _ = try await ArchiveProcess.run(["import", "--db", db, folder.path("in.jsonl")])
        let backup = folder.path("backup.db")
        #expect(try await ArchiveProcess.run(["backup", backup, "--db", db]).status == 0)
        let before = try await export(db)
        // A page of events in the middle overwritten: SQLite's integrity check or the kept totals see it.
        // (A free page would not do: nothing reads it.)
        let pages = try Database(path: backup, mode: .readOnly)
        let leaf = try #require(try pages.scalar("""
            SELECT pageno FROM dbstat WHERE name = 'event_rows' AND pagetype = 'leaf'
            ORDER BY pageno LIMIT 1 OFFSET (SELECT count(*) / 2 FROM dbstat WHERE name = 'event_rows' AND pagetype = 'leaf')
            """, as: Int.self))
        try pages.close()
        var bytes = try Data(contentsOf: URL(fileURLWithPath: backup))
        let page = 16384, middle = (leaf - 1) * page
        bytes.replaceSubrange(middle + 100..<middle + page, with: Data(repeating: 0x5A, count: page - 100))
        let damaged = folder.path("damaged.db")
        try bytes.write(to: URL(fileURLWithPath: damaged))
        let refused = try await ArchiveProcess.run(["restore", damaged, "--db", db])
        #expect(refused.status == 1 && refused.stderr.hasPrefix("archive: "), "\(refused.stderr)")
        try "not an archive".write(toFile: folder.path("text.db"), atomically: true, encoding: .utf8)
        let foreign = try await ArchiveProcess.run(["restore", folder.path("text.db"), "--db", db])
        #expect(foreign.status == 1 && foreign.stderr.contains("text.db"))
        #expect(try await export(db) == before)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.url.path).filter { $0.contains(".restore-") || $0.contains("before-restore") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }
}

extension BackupCommandTests {
    func writeConfig(_ text: String) throws -> [String: String] {
        let home = folder.path("config")
        try FileManager.default.createDirectory(atPath: home + "/llamacloud-archive", withIntermediateDirectories: true)
        try text.write(toFile: home + "/llamacloud-archive/config.toml", atomically: true, encoding: .utf8)
        return ["XDG_CONFIG_HOME": home]
    }

    @Test func theConfigMakesABackupAfterEachSyncAndStatusShowsTheLatest() async throws {
        let service = SimulatedChatService(apiKey: key, seed: 9)
        service.populate(project: nil, count: 12)
        let server = try ChatSimulatorServer.start(service: service)
        let backups = folder.path("backups")
        try FileManager.default.createDirectory(atPath: backups, withIntermediateDirectories: true)
        var env = try writeConfig("[backup]\ndir = '\(backups)'\nkeep = 2\nafter_sync = true\n")
        env["LLAMA_CLOUD_API_KEY"] = key
        env["LLAMA_CLOUD_BASE_URL"] = server.baseURL.absoluteString
        for round in 0..<3 {
            if round > 0 {
                service.appendRun(to: service.sessionIDs(project: nil)[round])
                try await Task.sleep(nanoseconds: 1_100_000_000)  // dated to the second
            }
            let sync = try await ArchiveProcess.run(["sync", "--db", db], environment: env)
            #expect(sync.status == 0, "\(sync.stderr)")
            #expect(sync.stdout.contains("backed up to \(backups)/archive-2"), "\(sync.stdout)")
        }
        let kept = try FileManager.default.contentsOfDirectory(atPath: backups).sorted()
        #expect(kept.count == 2)
        let newest = backups + "/" + kept.last!
        #expect(try await export(newest) == export(db))
        let status = try await ArchiveProcess.run(["status", "--db", db], environment: env)
        #expect(status.stdout.contains("backup  \(kept.last!) in \(backups) ("), "\(status.stdout)")
        let statusJSON = try await ArchiveProcess.run(["status", "--db", db, "--json"], environment: env)
        #expect(try JSONParser.parse(statusJSON.stdout)["latest_backup"]?["path"]?.stringValue == newest)
        // `archive backup` with no destination uses the same folder.
        let manual = try await ArchiveProcess.run(["backup", "--db", db, "--json"], environment: env)
        #expect(manual.status == 0 && manual.stdout.contains(backups), "\(manual.stderr)")
        server.stop()
    }

    /// With `external_checkpoints`, a replicator (Litestream) copies the WAL
    /// and checkpoints it: the archive's writers never move it back (read
    /// here from the WAL index's own count of frames copied back).
    @Test func externalCheckpointsLeaveTheWALToTheReplicator() async throws {
        let lines = (1...300).map { #"{"session_id":"s-\#($0)","last_updated_at":"2026-03-01T10:00:00Z","events":[{"type":"user_input","content":"\#(String(repeating: "text \($0) ", count: 300))"}]}"# }
        try lines.joined(separator: "\n").write(toFile: folder.path("in.jsonl"), atomically: true, encoding: .utf8)
        func backfilled(external: Bool) async throws -> (backfilled: UInt32, frames: UInt32) {
            let path = folder.path("wal-\(external).db")
            let env = try writeConfig("[backup]\nexternal_checkpoints = \(external)\n")
            _ = try await ArchiveProcess.run(["status", "--db", path], environment: env)  // nothing there yet
            let created = try await ArchiveProcess.run(["import", "--db", path, folder.path("in.jsonl")], environment: env)
            #expect(created.status == 0, "\(created.stderr)")
            // The replicator's connection stays open across the next writes, as Litestream's does.
            let replicator = try Database(path: path, mode: .readOnly)
            _ = try replicator.scalar("SELECT count(*) FROM sessions", as: Int.self)
            let more = lines.map { $0.replacingOccurrences(of: "2026-03-01", with: "2026-03-02").replacingOccurrences(of: "text", with: "more") }
            try more.joined(separator: "\n").write(toFile: folder.path("more.jsonl"), atomically: true, encoding: .utf8)
            let written = try await ArchiveProcess.run(["import", "--db", path, folder.path("more.jsonl")], environment: env)
            #expect(written.status == 0, "\(written.stderr)")
            let shm = try Data(contentsOf: URL(fileURLWithPath: path + "-shm"))
            func word(_ offset: Int) -> UInt32 { shm[offset..<offset + 4].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) } }
            withExtendedLifetime(replicator) {}
            return (word(96), word(16))  // nBackfill and mxFrame, in the WAL index header (native byte order)
        }
        // Ours: the log was copied back and began again, so it holds only the last writes.
        // External: nothing copied back, and the log holds both imports.
        let ours = try await backfilled(external: false)
        let external = try await backfilled(external: true)
        #expect(external.backfilled == 0 && external.frames > 4 * ours.frames, "ours \(ours), external \(external)")
    }
}

extension BackupCommandTests {
    /// `kill -9` at any instant of a backup leaves either no file at the
    /// destination or a whole, checked one, and the archive as it was. (A
    /// kill between the rename and the end of the process leaves the whole
    /// backup: a run of this test once did.)
    @Test func aBackupKilledAtAnyInstantLeavesNothingHalfMade() async throws {
        let text = String(repeating: "words that fill the archive ", count: 400)
        let lines = (1...1500).map { #"{"session_id":"s-\#($0)","last_updated_at":"2026-03-01T10:00:00Z","events":[{"type":"user_input","content":"\#(text)\#($0)"}]}"# }
        try lines.joined(separator: "\n").write(toFile: folder.path("in.jsonl"), atomically: true, encoding: .utf8)
        #expect(try await ArchiveProcess.run(["import", "--db", db, folder.path("in.jsonl")]).status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: db))
        var killed = 0
        // Timed from the staged copy's appearance (`.NAME.XXXXXX` beside the
        // destination), watched on a thread of its own: a sleep on a loaded
        // test pool can outlast the whole backup.
        // On an idle machine a backup of this archive takes a few milliseconds:
        // rounds killed at once are added until one lands (at most 30).
        var delays = [0, 1, 5, 20, 80, 300]
        var round = -1
        while round + 1 < delays.count {
            round += 1
            let delay = delays[round], stagedPrefix = ".kill-\(round).db."
            let destination = folder.path("kill-\(round).db")
            let running = try ArchiveProcess.start(["backup", destination, "--db", db])
            let parent = folder.path("")
            try await offThePool {
                let deadline = Date().addingTimeInterval(20)
                while Date() < deadline, !FileManager.default.fileExists(atPath: destination),
                      !((try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []).contains(where: { $0.hasPrefix(stagedPrefix) }) {
                    usleep(200)
                }
                usleep(useconds_t(delay * 1_000))
            }
            running.kill9()
            let result = await running.wait()
            if result.status == SIGKILL { killed += 1 } else { #expect(result.status == 0, "\(result.stderr)") }
            // Killed before the rename: nothing there. Killed after it (or not killed): a whole, checked backup.
            if FileManager.default.fileExists(atPath: destination) {
                let check = try await ArchiveProcess.run(["status", "--db", destination, "--check"])
                #expect(check.stdout.contains("check   ok"), "\(destination): \(check.stdout) \(check.stderr)")
            }
            if round == delays.count - 1 && killed == 0 && delays.count < 30 { delays.append(0) }
        }
        #expect(killed > 0, "no backup was slow enough to be killed: the test saw nothing")
        #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == before)
    }
}
