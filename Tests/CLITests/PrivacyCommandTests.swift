import TestSupport
import ArchiveCore
import ChatSimulator
import Foundation
import LosslessJSON
import SQLiteCore
import Testing

/// `archive forget`, `prune` and `redact --apply` through the real binary:
/// what they remove is gone from every byte of the archive, its WAL and
/// shared memory, and from the search index's terms.
@Suite struct PrivacyCommandTests {
    let folder: TemporaryDirectory
    var db: String { folder.path("archive.db") }
    static let marker = "qzvkplmx"
    static let revisionMarker = "revmarkxq"

    init() throws { folder = try TemporaryDirectory() }

    /// A session with the marker in its user input, thinking (streamed and
    /// whole), answer, tool arguments and result, title and metadata.
    static func markedSession(version: Int, firstInput: String) -> String {
        let m = marker
        return #"""
        {"session_id":"ses-marked","last_updated_at":"2025-03-0\#(version)T10:00:00Z","generated_title":"title \#(m)title","index_ids":["idx-a"],"job_metadata":{"error":"meta \#(m)meta","total_input_tokens":100},"events":[{"type":"user_input","content":"\#(firstInput)"},{"type":"thinking_delta","content":"think \#(m)th"},{"type":"thinking_delta","content":"ink more"},{"type":"thinking","content":"think \#(m)think more"},{"type":"tool_call","call_id":"c1","name":"search","arguments":{"query":"\#(m)args"}},{"type":"tool_result","call_id":"c1","name":"search","result":[{"text":"found \#(m)result"}]},{"type":"text_delta","content":"answer \#(m)ans"},{"type":"text","content":"answer \#(m)answer"},{"type":"stop","usage":{"total_input_tokens":100,"total_output_tokens":20}}]}
        """#
    }

    /// An archive of 120 other sessions and the marked one, which a second
    /// import rewrote (its first history, with a marker of its own, is a
    /// revision). Three imports: the search index has several segments.
    func archiveWithMarkedSession() async throws {
        var filler: [String] = []
        SimulatedChatService.writeCorpus(count: 120, seed: 11) { filler.append($0) }
        try filler.joined(separator: "\n").write(toFile: folder.path("filler.jsonl"), atomically: true, encoding: .utf8)
        try Self.markedSession(version: 1, firstInput: "hello \(Self.revisionMarker) \(Self.marker)input")
            .write(toFile: folder.path("v1.jsonl"), atomically: true, encoding: .utf8)
        try Self.markedSession(version: 2, firstInput: "hello changed \(Self.marker)input")
            .write(toFile: folder.path("v2.jsonl"), atomically: true, encoding: .utf8)
        for file in ["filler.jsonl", "v1.jsonl", "v2.jsonl"] {
            let result = try await ArchiveProcess.run(["import", "--db", db, folder.path(file)])
            #expect(result.status == 0, "\(result.stderr)")
        }
        let revisions = try Database(path: db, mode: .readOnly).scalar("SELECT count(*) FROM session_revisions", as: Int.self)
        #expect(revisions == 1)
    }

    /// How often `text` occurs in the archive's files, byte for byte.
    func occurrences(of text: String) throws -> [String: Int] {
        var found: [String: Int] = [:]
        for suffix in ["", "-wal", "-shm"] {
            guard let data = FileManager.default.contents(atPath: db + suffix) else { continue }
            var count = 0, from = data.startIndex
            while let range = data.range(of: Data(text.utf8), in: from..<data.endIndex) {
                count += 1
                from = range.upperBound
            }
            found["archive.db" + suffix] = count
        }
        return found
    }

    func searchTerms(containing text: String) throws -> [String] {
        let database = try Database(path: db, mode: .readOnly)
        try database.execute("CREATE VIRTUAL TABLE temp.terms USING fts5vocab(main, search_index, 'row')")
        var terms: [String] = []
        try database.forEachRow("SELECT term FROM temp.terms WHERE instr(term, ?) > 0", text) { terms.append(try $0.string(0)) }
        return terms
    }

    func statusCheckPasses() async throws -> Bool {
        let check = try await ArchiveProcess.run(["status", "--db", db, "--check"])
        return check.status == 0 && check.stdout.contains("check   ok")
    }

    /// Runs `arguments` with a reader holding the archive open (so that the
    /// WAL and shared memory stay on disk to be read), and checks that no
    /// marker is left anywhere.
    func expectNoTrace(after arguments: [String], environment: [String: String] = [:]) async throws {
        try await archiveWithMarkedSession()
        #expect(try occurrences(of: Self.marker).values.reduce(0, +) > 0, "the markers were never written: the test sees nothing")
        let reader = try Database(path: db, mode: .readOnly)
        _ = try reader.scalar("SELECT count(*) FROM sessions", as: Int.self)
        let result = try await ArchiveProcess.run(arguments + ["--db", db], environment: environment)
        #expect(result.status == 0, "\(arguments): \(result.stdout) \(result.stderr)")
        for marker in [Self.marker, Self.revisionMarker] {
            let left = try occurrences(of: marker)
            #expect(left.values.allSatisfy { $0 == 0 }, "\(arguments): \(marker) still in \(left)")
            #expect(try searchTerms(containing: marker).isEmpty, "\(arguments): \(marker) still a search term")
        }
        for suffix in ["", "-wal", "-shm"] {
            let mode = try FileManager.default.attributesOfItem(atPath: db + suffix)[.posixPermissions] as? Int
            #expect(mode == 0o600, "archive.db\(suffix)")
        }
        withExtendedLifetime(reader) {}
        #expect(try await statusCheckPasses(), "\(arguments)")
    }

    @Test func forgetLeavesNoByteOfTheSession() async throws {
        try await expectNoTrace(after: ["forget", "ses-marked"])
        let database = try Database(path: db, mode: .readOnly)
        #expect(try database.scalar("SELECT count(*) FROM sessions WHERE session_id = 'ses-marked'", as: Int.self) == 0)
        #expect(try database.scalar("SELECT reason FROM forgotten WHERE session_id = 'ses-marked'", as: String.self) == "by id")
    }

    @Test func forgetKeepingUsageLeavesNoByteOfItsText() async throws {
        try await expectNoTrace(after: ["forget", "ses-marked", "--keep-usage"])
        let database = try Database(path: db, mode: .readOnly)
        #expect(try database.scalar("SELECT input_tokens FROM sessions WHERE session_id = 'ses-marked'", as: Int.self) == 100)
        #expect(try database.scalar("SELECT count(*) FROM usage WHERE session_id = 'ses-marked'", as: Int.self) == 1)
    }

    @Test func pruneLeavesNoByteOfTheText() async throws {
        try await expectNoTrace(after: ["prune", "--content-older-than", "2025-06-01"])
        let show = try await ArchiveProcess.run(["show", "ses-marked", "--db", db])
        #expect(show.stdout.contains("content pruned"), "\(show.stdout)")
        let export = try await ArchiveProcess.run(["export", "--db", db, "--session", "ses-marked"])
        let exported = try JSONParser.parse(export.stdout.trimmingCharacters(in: .newlines))
        #expect(exported[ArchiveWriter.prunedMarker]?.stringValue != nil, "\(export.stdout)")
        #expect(exported["generated_title"]?.isNull == true)
        // That export imported again leaves the session as pruned as it was.
        try export.stdout.write(toFile: folder.path("pruned.jsonl"), atomically: true, encoding: .utf8)
        let again = try await ArchiveProcess.run(["import", "--db", db, folder.path("pruned.jsonl"), "--json"])
        #expect(try JSONParser.parse(again.stdout)["unchanged"] == 1, "\(again.stdout) \(again.stderr)")
        let stillPruned = try Database(path: db, mode: .readOnly)
            .scalar("SELECT content_pruned_at IS NOT NULL FROM sessions WHERE session_id = 'ses-marked'", as: Int.self)
        #expect(stillPruned == 1)
    }

    @Test func redactApplyLeavesNoByteOfWhatTheRulesMatch() async throws {
        let config = try writeConfig("""
            [[redact]]
            name = "marker"
            pattern = "\(Self.marker)|\(Self.revisionMarker)"
            """)
        try await expectNoTrace(after: ["redact", "--apply"], environment: config)
        let show = try await ArchiveProcess.run(["show", "ses-marked", "--db", db], environment: config)
        #expect(show.stdout.contains("hello changed [redacted:marker]input"), "\(show.stdout)")
        let revision = try Database(path: db, mode: .readOnly).scalar("SELECT payload FROM session_revisions", as: String.self)
        #expect(revision?.contains("hello [redacted:marker] [redacted:marker]input") == true, "\(revision ?? "")")
    }

    /// Backups keep what was later forgotten: forget says so, and
    /// `backup --purge-forgotten` rewrites them without it.
    @Test func backupsArePurgedOfForgottenSessionsOnRequest() async throws {
        try await archiveWithMarkedSession()
        let backups = folder.path("backups")
        try FileManager.default.createDirectory(atPath: backups, withIntermediateDirectories: true)
        let config = try writeConfig("[backup]\ndir = \"\(backups)\"\n")
        #expect(try await ArchiveProcess.run(["backup", "--db", db], environment: config).status == 0)
        let backup = try #require(try FileManager.default.contentsOfDirectory(atPath: backups).first.map { backups + "/" + $0 })
        func markers(in path: String) throws -> Int {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            return [Self.marker, Self.revisionMarker].filter { data.range(of: Data($0.utf8)) != nil }.count
        }
        #expect(try markers(in: backup) == 2)
        let forget = try await ArchiveProcess.run(["forget", "ses-marked", "--db", db], environment: config)
        #expect(forget.status == 0 && forget.stdout.contains("1 backup in the backup folder still holds the old content"), "\(forget.stdout)")
        let purge = try await ArchiveProcess.run(["backup", "--purge-forgotten", "--db", db, "--json"], environment: config)
        #expect(purge.status == 0, "\(purge.stderr)")
        let purged = try JSONParser.parse(purge.stdout)
        #expect(purged.arrayValue?.first?["removed"] == 1 && purged.arrayValue?.first?["path"]?.stringValue == backup, "\(purge.stdout)")
        #expect(try markers(in: backup) == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: backups).count == 1)
        let check = try await ArchiveProcess.run(["status", "--db", backup, "--check"])
        #expect(check.stdout.contains("check   ok"), "\(check.stdout)")
        // Restored, it still keeps the session forgotten.
        let forgotten = try Database(path: backup, mode: .readOnly).scalar("SELECT count(*) FROM forgotten", as: Int.self)
        #expect(forgotten == 1)
        let again = try await ArchiveProcess.run(["backup", "--purge-forgotten", "--db", db, "--json"], environment: config)
        #expect(try JSONParser.parse(again.stdout).arrayValue?.first?["removed"] == 0)
    }

    func writeConfig(_ text: String) throws -> [String: String] {
        let home = folder.path("config")
        try FileManager.default.createDirectory(atPath: home + "/llamacloud-archive", withIntermediateDirectories: true)
        try text.write(toFile: home + "/llamacloud-archive/config.toml", atomically: true, encoding: .utf8)
        return ["XDG_CONFIG_HOME": home]
    }
}
