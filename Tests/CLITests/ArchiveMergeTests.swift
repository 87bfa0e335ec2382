import ChatSimulator
import Foundation
import LosslessJSON
import SQLiteCore
import Testing
import TestSupport

/// `archive import OTHER.db`: archives made apart become one, equal to the
/// archive that synced everything itself; the other file is only read.
@Suite struct ArchiveMergeTests {
    let folder: TemporaryDirectory
    let key = "merge-key"
    init() throws { folder = try TemporaryDirectory() }

    func sync(_ db: String, _ server: ChatSimulatorServer, project: String) async throws {
        let result = try await ArchiveProcess.run(["sync", "--db", db, "--project-id", project],
                                                  environment: ["LLAMA_CLOUD_API_KEY": key, "LLAMA_CLOUD_BASE_URL": server.baseURL.absoluteString])
        #expect(result.status == 0, "\(result.stderr)")
    }

    func export(_ db: String) async throws -> [JSONValue] {
        let result = try await ArchiveProcess.run(["export", "--db", db])
        #expect(result.status == 0, "\(result.stderr)")
        return try result.stdout.split(separator: "\n").map { try JSONParser.parse(String($0)) }
    }

    func rows(_ db: String, _ sql: String) throws -> [String] {
        var rows: [String] = []
        try Database(path: db, mode: .readOnly).forEachRow(sql) { rows.append(try $0.string(0)) }
        return rows
    }

    /// A later version of a session: its history extended by a run, or replaced.
    static func later(_ session: JSONValue, rewritten: Bool) -> JSONValue {
        guard case .object(var object) = session else { return session }
        let run: [JSONValue] = [["type": "user_input", "content": "and then?"],
                                ["type": "stop", "usage": ["total_input_tokens": 1234, "total_output_tokens": 56]]]
        object["events"] = .array(rewritten ? run : (object["events"]?.arrayValue ?? []) + run)
        object["last_updated_at"] = "2031-01-01T00:00:00Z"
        return .object(object)
    }

    @Test func aMergedArchiveEqualsTheArchiveThatSyncedBothAndTheOtherFileIsOnlyRead() async throws {
        let first = SimulatedChatService(apiKey: key, seed: 1)
        let firstIDs = first.populate(project: "p-one", count: 20)
        let second = SimulatedChatService(apiKey: key, seed: 2)
        second.populate(project: "p-two", count: 20)
        // Six sessions of the first account, later and moved to the second's project: three extended, three rewritten.
        for (index, id) in firstIDs.prefix(6).enumerated() {
            second.put(Self.later(try #require(first.session(id)), rewritten: index % 2 == 0), project: "p-two")
        }
        let one = try ChatSimulatorServer.start(service: first)
        let two = try ChatSimulatorServer.start(service: second)
        let here = folder.path("here.db"), there = folder.path("there.db"), both = folder.path("both.db")
        try await sync(here, one, project: "p-one")
        try await sync(there, two, project: "p-two")
        try await sync(both, one, project: "p-one")
        try await sync(both, two, project: "p-two")
        // A session the second account deleted since.
        let gone = try #require(second.sessionIDs(project: "p-two").first { id in !firstIDs.contains(id) })
        second.delete(gone)
        // And one it rewrote: a revision the other archive holds of a session ours never saw.
        let rewritten = try #require(second.sessionIDs(project: "p-two").last { id in !firstIDs.contains(id) })
        second.rewrite(rewritten)
        try await sync(there, two, project: "p-two")
        try await sync(both, two, project: "p-two")

        let before = try Data(contentsOf: URL(fileURLWithPath: there))
        let merged = try await ArchiveProcess.run(["import", "--db", here, there])
        #expect(merged.status == 0, "\(merged.stderr)\(merged.stdout)")
        #expect(merged.stdout.hasPrefix("merged \(there): 20 new, 6 updated, 0 unchanged, 0 older (skipped)"), "\(merged.stdout)")
        #expect(merged.stdout.contains("; 1 revisions added, 1 marked deleted"), "\(merged.stdout)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: there)) == before)

        #expect(try await export(here) == (try await export(both)))
        let facts = "SELECT session_id || ' ' || coalesce(project_id, '-') || ' ' || (deleted_at IS NOT NULL) FROM sessions ORDER BY session_id"
        #expect(try rows(here, facts) == (try rows(both, facts)))
        #expect(try rows(here, facts).contains("\(gone) p-two 1"))
        let revisions = "SELECT session_id || ' ' || revision || ' ' || length(payload) FROM session_revisions ORDER BY 1"
        #expect(try rows(here, revisions) == (try rows(both, revisions)) && (try rows(here, revisions)).count == 4)
        let tokens = try await ArchiveProcess.run(["tokens", "--db", here, "--by", "day", "--tz", "UTC", "--format", "json"])
        let reference = try await ArchiveProcess.run(["tokens", "--db", both, "--by", "day", "--tz", "UTC", "--format", "json"])
        #expect(tokens.stdout == reference.stdout)
        let check = try await ArchiveProcess.run(["status", "--db", here, "--check"])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")

        // Again: nothing new; the other's older histories lose to ours.
        let again = try await ArchiveProcess.run(["import", "--db", here, there, "--json"])
        let report = try JSONParser.parse(again.stdout)
        #expect(report["new"] == 0 && report["updated"] == 0 && report["revisions"] == 0, "\(again.stdout)")
    }

    /// This archive's [[redact]] rules apply to what a merge brings, as to any import.
    @Test func aMergeRedactsAsAnImportDoes() async throws {
        let service = SimulatedChatService(apiKey: key, seed: 4)
        var session = try #require(service.session(service.populate(project: "p", count: 1)[0]).flatMap { $0.objectValue })
        session["events"] = [["type": "user_input", "content": "mail me at alice@example.com"]]
        service.put(.object(session), project: "p")
        let server = try ChatSimulatorServer.start(service: service)
        let here = folder.path("here.db"), there = folder.path("there.db")
        try await sync(there, server, project: "p")
        let home = folder.path("config")
        try FileManager.default.createDirectory(atPath: home + "/llamacloud-archive", withIntermediateDirectories: true)
        try "[[redact]]\nname = \"email\"\npattern = '[a-z]+@[a-z.]+'\n"
            .write(toFile: home + "/llamacloud-archive/config.toml", atomically: true, encoding: .utf8)
        let merged = try await ArchiveProcess.run(["import", "--db", here, there], environment: ["XDG_CONFIG_HOME": home])
        #expect(merged.status == 0, "\(merged.stderr)")
        let exported = try await ArchiveProcess.run(["export", "--db", here])
        #expect(exported.stdout.contains("[redacted:email]") && !exported.stdout.contains("alice@"), "\(exported.stdout)")
    }

    @Test func anArchiveOfANewerSchemaIsRefusedAndNothingChanges() async throws {
        let service = SimulatedChatService(apiKey: key, seed: 3)
        service.populate(project: "p", count: 3)
        let server = try ChatSimulatorServer.start(service: service)
        let here = folder.path("here.db"), newer = folder.path("newer.db")
        try await sync(newer, server, project: "p")
        try Database(path: newer).execute("INSERT INTO schema_migrations(version, name, applied_at) VALUES (999, 'future', 'x')")
        let result = try await ArchiveProcess.run(["import", "--db", here, newer])
        #expect(result.status == 1)
        #expect(result.stderr.contains(newer) && result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(try rows(newer, "SELECT count(*) FROM sessions") == ["3"])
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path("")).filter { $0.contains("merging") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }
}
