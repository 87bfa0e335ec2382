import TestSupport
import ArchiveCore
import ChatSimulator
import Foundation
import LosslessJSON
import SQLiteCore
import Testing

/// `archive export --dataset` through the real binary: incremental after real
/// syncs, crash-safe, and one dataset per archive.
@Suite struct DatasetExportTests {
    let folder: TemporaryDirectory
    let key = "sk-\(UUID().uuidString)"
    var db: String { folder.path("archive.db") }
    var dataset: String { folder.path("dataset") }

    init() throws { folder = try TemporaryDirectory() }

    func json(_ arguments: [String], environment: [String: String] = [:]) async throws -> JSONValue {
        let result = try await ArchiveProcess.run(arguments + ["--db", db], environment: environment)
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
        return try JSONParser.parse(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    func manifest() throws -> JSONValue {
        try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: dataset + "/_manifest.json"))))
    }

    /// Every row of a table, from every file the manifest lists, through gzip(1).
    func rows(_ table: String) throws -> [JSONValue] {
        var rows: [JSONValue] = []
        for file in try manifest()["files"]?.arrayValue ?? [] where file["table"]?.stringValue == table {
            let path = dataset + "/" + file["path"]!.stringValue!
            let (data, status) = try gunzip(path)
            #expect(status == 0, "\(path)")
            for line in data.split(separator: 0x0A) { rows.append(try JSONParser.parse(Array(line))) }
        }
        return rows
    }

    /// The latest snapshot of each session, minus those whose tombstone is newer.
    func latestSessions() throws -> [String: JSONValue] {
        var latest: [String: JSONValue] = [:]
        for row in try rows("sessions") {
            let id = row["session_id"]!.stringValue!
            if let seen = latest[id], seen["snapshot_at"]!.stringValue! >= row["snapshot_at"]!.stringValue! { continue }
            latest[id] = row
        }
        for tombstone in try rows("deletions") {
            let id = tombstone["session_id"]!.stringValue!
            if let seen = latest[id], seen["snapshot_at"]!.stringValue! <= tombstone["snapshot_at"]!.stringValue! { latest[id] = nil }
        }
        return latest
    }

    /// The partition files the manifest lists and those on disk; the
    /// indexes on disk must be the listed exports' own.
    func listedFilesOnDisk() throws -> (listed: Set<String>, onDisk: Set<String>) {
        let listed = Set(try manifest()["files"]?.arrayValue?.compactMap { $0["path"]?.stringValue } ?? [])
        let exports = Set(try manifest()["exports"]?.arrayValue?.compactMap { $0["number"]?.int64Value } ?? [])
        var onDisk = Set<String>()
        let enumerator = FileManager.default.enumerator(atPath: dataset)
        while let path = enumerator?.nextObject() as? String {
            var isFolder: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: dataset + "/" + path, isDirectory: &isFolder)
            if path.hasPrefix("_index/") && !isFolder.boolValue {
                let number = Int64(path.dropFirst("_index/export-".count).prefix { $0.isNumber })
                #expect(path.hasPrefix("_index/export-") && exports.contains(number ?? -1), "an index of no listed export: \(path)")
            } else if !isFolder.boolValue && path != "_manifest.json" {
                onDisk.insert(path)
            }
        }
        return (listed, onDisk)
    }

    @Test func aDatasetFollowsSyncsWithSnapshotsAndTombstones() async throws {
        let service = SimulatedChatService(apiKey: key, seed: 31)
        service.populate(project: nil, count: 30)
        let server = try ChatSimulatorServer.start(service: service)
        defer { server.stop() }
        let env = ["LLAMA_CLOUD_API_KEY": key, "LLAMA_CLOUD_BASE_URL": server.baseURL.absoluteString]
        #expect(try await ArchiveProcess.run(["sync", "--db", db], environment: env).status == 0)
        let first = try await json(["export", "--dataset", dataset, "--json"])
        #expect(first["full"] == true && first["sessions"] == 30)
        let status = try await json(["status", "--json"])
        #expect(try rows("events").count == Int(status["events"]?.int64Value ?? -1))
        let firstFiles = try manifest()["files"]?.arrayValue ?? []
        // Remotely: three sessions go on, two are rewritten, two deleted; here one is forgotten.
        let ids = service.sessionIDs(project: nil)
        for id in ids[0..<3] { service.appendRun(to: id) }
        for id in ids[3..<5] { service.rewrite(id) }
        for id in ids[5..<7] { service.delete(id) }
        #expect(try await ArchiveProcess.run(["sync", "--db", db], environment: env).status == 0)
        #expect(try await ArchiveProcess.run(["forget", ids[10], "--db", db]).status == 0)
        let second = try await json(["export", "--dataset", dataset, "--json"])
        #expect(second["full"] == false && second["sessions"] == 7 && second["deletions"] == 1, "\(second)")
        // Of what was written before, only the files that held the forgotten session changed: rewritten without it.
        let listed = try manifest()["files"]?.arrayValue ?? []
        let replaced = Set(try manifest()["exports"]?.arrayValue?.last?["replaced"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        #expect(second["rewritten"]?.int64Value == Int64(replaced.count) && replaced.count >= 2, "\(replaced)")
        for file in firstFiles where !replaced.contains(file["path"]?.stringValue ?? "") { #expect(listed.contains(file)) }
        for path in replaced {
            let (data, status) = try gunzip(dataset + "/" + path)
            #expect(status == 0 && !String(decoding: data, as: UTF8.self).contains(ids[10]), "\(path) still holds the forgotten session")
        }
        let latest = try latestSessions()
        let now = try await json(["status", "--json"])
        #expect(latest.count == Int(now["sessions"]?.int64Value ?? -1) && latest[ids[10]] == nil)
        #expect(latest[ids[5]]?["deleted_at"]?.stringValue != nil, "a session deleted remotely is kept, marked")
        let eventsNow = try rows("events").filter { latest[$0["session_id"]!.stringValue!]?["snapshot_at"] == $0["snapshot_at"] }
        #expect(eventsNow.count == Int(now["events"]?.int64Value ?? -1))
        let rewritten = try #require(service.session(ids[3]))
        let firstInput = eventsNow.first { $0["session_id"]?.stringValue == ids[3] && $0["seq"] == 0 }
        #expect(firstInput?["content"] == rewritten["events"]?.arrayValue?.first?["content"])
    }

    @Test func aKilledExportIsRedoneByTheNextAndNeverSeenHalfDone() async throws {
        var lines: [String] = []
        SimulatedChatService.writeCorpus(count: 5000, seed: 9) { lines.append($0) }
        try lines.joined(separator: "\n").write(toFile: folder.path("in.jsonl"), atomically: true, encoding: .utf8)
        #expect(try await ArchiveProcess.run(["import", "--db", db, folder.path("in.jsonl")]).status == 0)
        var killed = 0
        // Each attempt a whole export (--full), killed this long after it began to write.
        for delay in [0, 0, 20, 60, 150, 300, 600] {
            let running = try ArchiveProcess.start(["export", "--dataset", dataset, "--full", "--db", db])
            let path = dataset
            try await offThePool {
                while running.process.isRunning, !FileManager.default.fileExists(atPath: path + "/sessions") { usleep(100) }
                usleep(useconds_t(delay * 1000))
            }
            running.kill9()
            let result = await running.wait()
            if result.status == SIGKILL { killed += 1 } else { #expect(result.status == 0, "\(result.stderr)") }
            // Whatever the instant: the manifest, when there is one, lists whole files only.
            if FileManager.default.fileExists(atPath: dataset + "/_manifest.json") {
                #expect(try latestSessions().count == 5000)
            }
        }
        #expect(killed > 0, "no export was slow enough to be killed: the test saw nothing")
        _ = try await json(["export", "--dataset", dataset, "--json"])
        let (listed, onDisk) = try listedFilesOnDisk()
        #expect(listed == onDisk, "left over: \(onDisk.subtracting(listed).sorted().prefix(5))")
        #expect(try latestSessions().count == 5000)
    }

    @Test func oneDatasetPerArchiveAndFullStartsAnew() async throws {
        let line = #"{"session_id":"s-1","last_updated_at":"2026-03-01T10:00:00Z","events":[{"type":"user_input","content":"hi"}]}"#
        try line.write(toFile: folder.path("in.jsonl"), atomically: true, encoding: .utf8)
        #expect(try await ArchiveProcess.run(["import", "--db", db, folder.path("in.jsonl")]).status == 0)
        _ = try await json(["export", "--dataset", dataset, "--json"])
        let other = folder.path("other.db")
        #expect(try await ArchiveProcess.run(["import", "--db", other, folder.path("in.jsonl")]).status == 0)
        let refused = try await ArchiveProcess.run(["export", "--dataset", dataset, "--db", other])
        #expect(refused.status == 1 && refused.stderr.contains("holds a dataset of another archive"), "\(refused.stderr)")
        let before = try listedFilesOnDisk().onDisk
        let full = try await ArchiveProcess.run(["export", "--dataset", dataset, "--db", other, "--full", "--json"])
        #expect(full.status == 0, "\(full.stderr)")
        let result = try JSONParser.parse(full.stdout.trimmingCharacters(in: .newlines))
        #expect(result["full"] == true && result["removed"]?.int64Value == Int64(before.count))
        let (listed, onDisk) = try listedFilesOnDisk()
        #expect(listed == onDisk && listed.isDisjoint(with: before))
        let misuse = try await ArchiveProcess.run(["export", "--dataset", dataset, "--project", "p", "--db", db])
        #expect(misuse.status == 64)
        let file = folder.path("in.jsonl")
        let onAFile = try await ArchiveProcess.run(["export", "--dataset", file, "--db", db])
        #expect(onAFile.status == 1 && onAFile.stderr == "archive: \(file) is a file: the dataset goes into a folder\n", "\(onAFile.stderr)")
        try Data("not json".utf8).write(to: URL(fileURLWithPath: dataset + "/_manifest.json"))
        let damaged = try await ArchiveProcess.run(["export", "--dataset", dataset, "--db", db])
        #expect(damaged.status == 1 && damaged.stderr.hasPrefix("archive: \(dataset)/_manifest.json: not JSON"), "\(damaged.stderr)")
    }
}
