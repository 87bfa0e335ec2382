import TestSupport
import ArchiveCore
import ChatSimulator
import Foundation
import LosslessJSON
import Testing

/// Forgetting reaches the dataset: after `forget`, `prune` or `redact
/// --apply`, the next `export --dataset` rewrites every file that held the
/// session's earlier snapshots, and no byte of any file in the dataset's
/// folder (gunzipped) holds the removed text; the rest reads as before.
@Suite struct DatasetForgettingTests {
    let folder: TemporaryDirectory
    var db: String { folder.path("archive.db") }
    var dataset: String { folder.path("lake") }
    static let marker = PrivacyCommandTests.marker

    init() throws { folder = try TemporaryDirectory() }

    func run(_ arguments: [String], _ environment: [String: String] = [:]) async throws -> ArchiveProcess.Result {
        let result = try await ArchiveProcess.run(arguments + ["--db", db], environment: environment)
        #expect(result.status == 0, "\(arguments): \(result.stdout) \(result.stderr)")
        return result
    }

    /// A config naming the dataset's folder, and the rules given.
    func config(_ extra: String = "") throws -> [String: String] {
        let home = folder.path("config/llamacloud-archive")
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        try "[dataset]\ndir = \"\(dataset)\"\n\(extra)".write(toFile: home + "/config.toml", atomically: true, encoding: .utf8)
        return ["XDG_CONFIG_HOME": folder.path("config")]
    }

    /// 120 other sessions and the marked one in two snapshots on two days,
    /// each from an export of its own.
    func datasetWithTheMarkedSession(_ environment: [String: String]) async throws {
        var filler: [String] = []
        SimulatedChatService.writeCorpus(count: 120, seed: 11) { filler.append($0) }
        try filler.joined(separator: "\n").write(toFile: folder.path("filler.jsonl"), atomically: true, encoding: .utf8)
        try PrivacyCommandTests.markedSession(version: 1, firstInput: "hello \(Self.marker)input")
            .write(toFile: folder.path("v1.jsonl"), atomically: true, encoding: .utf8)
        try PrivacyCommandTests.markedSession(version: 2, firstInput: "hello changed \(Self.marker)input")
            .write(toFile: folder.path("v2.jsonl"), atomically: true, encoding: .utf8)
        _ = try await run(["import", folder.path("filler.jsonl"), folder.path("v1.jsonl")], environment)
        _ = try await run(["export", "--dataset", dataset], environment)
        _ = try await run(["import", folder.path("v2.jsonl")], environment)
        _ = try await run(["export", "--dataset", dataset], environment)
        let holding = try filesHolding(Self.marker)
        #expect(holding.filter { $0.contains("2025-03-01") }.count >= 3 && holding.filter { $0.contains("2025-03-02") }.count >= 3,
                "the marker was not written to both snapshots' files: the test sees nothing (\(holding))")
    }

    /// Every file under the dataset's folder holding `text`, gzip files read through gzip(1).
    func filesHolding(_ text: String) throws -> [String] {
        var holding: [String] = []
        let walker = FileManager.default.enumerator(atPath: dataset)
        while let path = walker?.nextObject() as? String {
            var isFolder: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: dataset + "/" + path, isDirectory: &isFolder)
            if isFolder.boolValue { continue }
            let data: Data
            if path.hasSuffix(".gz") {
                let (unpacked, status) = try gunzip(dataset + "/" + path)
                #expect(status == 0, "\(path) is not a whole gzip file")
                data = unpacked
            } else {
                data = FileManager.default.contents(atPath: dataset + "/" + path) ?? Data()
            }
            if data.range(of: Data(text.utf8)) != nil { holding.append(path) }
        }
        return holding
    }

    /// The latest snapshot of each session in the dataset, as the README's
    /// queries take it, and the archive's own figures for the same.
    func latestAgreesWithTheArchive() async throws -> [String: JSONValue] {
        let manifest = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: dataset + "/_manifest.json"))))
        var rows: [String: [JSONValue]] = [:]
        for file in manifest["files"]?.arrayValue ?? [] {
            let (data, _) = try gunzip(dataset + "/" + file["path"]!.stringValue!)
            for line in data.split(separator: 0x0A) { rows[file["table"]!.stringValue!, default: []].append(try JSONParser.parse(Array(line))) }
            let count = data.split(separator: 0x0A).count
            #expect(Int64(count) == file["rows"]?.int64Value, "\(file["path"]!): the manifest's row count")
        }
        var latest: [String: JSONValue] = [:]
        for row in rows["sessions"] ?? [] {
            let id = row["session_id"]!.stringValue!
            if let seen = latest[id], seen["snapshot_at"]!.stringValue! >= row["snapshot_at"]!.stringValue! { continue }
            latest[id] = row
        }
        for tombstone in rows["deletions"] ?? [] {
            let id = tombstone["session_id"]!.stringValue!
            if let seen = latest[id], seen["snapshot_at"]!.stringValue! <= tombstone["snapshot_at"]!.stringValue! { latest[id] = nil }
        }
        let status = try JSONParser.parse(try await run(["status", "--json"]).stdout)
        #expect(latest.count == Int(status["sessions"]?.int64Value ?? -1))
        let events = (rows["events"] ?? []).filter { latest[$0["session_id"]!.stringValue!]?["snapshot_at"] == $0["snapshot_at"] }
        #expect(events.count == Int(status["events"]?.int64Value ?? -1))
        return latest
    }

    /// `rules`, for the config file, are added after the dataset is written:
    /// sync and import apply them before anything is stored.
    func expectTheDatasetForgets(after arguments: [String], rules: String = "") async throws -> [String: JSONValue] {
        try await datasetWithTheMarkedSession(try config())
        let environment = try config(rules)
        let removal = try await run(arguments + ["--json"], environment)
        let copies = try JSONParser.parse(removal.stdout)["copies_still_holding"]?.arrayValue ?? []
        #expect(copies.contains { $0["kind"] == "dataset" && $0["paths"]?.arrayValue?.first?.stringValue == dataset },
                "\(arguments) does not name the dataset: \(removal.stdout)")
        let export = try JSONParser.parse(try await run(["export", "--dataset", dataset, "--json"], environment).stdout)
        #expect((export["rewritten"]?.int64Value ?? 0) >= 6, "\(export)")
        let left = try filesHolding(Self.marker)
        #expect(left.isEmpty, "\(arguments): still in \(left)")
        let replaced = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: dataset + "/_manifest.json"))))["exports"]?
            .arrayValue?.last?["replaced"]?.arrayValue ?? []
        #expect(replaced.count == Int(export["rewritten"]?.int64Value ?? -1))
        return try await latestAgreesWithTheArchive()
    }

    @Test func forgetReachesEveryFileOfTheDataset() async throws {
        let latest = try await expectTheDatasetForgets(after: ["forget", "ses-marked"])
        #expect(latest["ses-marked"] == nil)
        let naming = try filesHolding("ses-marked")
        #expect(naming.allSatisfy { $0.hasPrefix("deletions/") || $0.hasPrefix("_index/") },
                "only the tombstone and the index name the forgotten session: \(naming)")
    }

    @Test func forgetKeepingUsageKeepsItsNumbersAndNoText() async throws {
        let latest = try await expectTheDatasetForgets(after: ["forget", "ses-marked", "--keep-usage"])
        #expect(latest["ses-marked"]?["input_tokens"]?.int64Value == 100)
    }

    @Test func pruneReachesEveryFileOfTheDataset() async throws {
        let latest = try await expectTheDatasetForgets(after: ["prune", "--content-older-than", "2025-06-01"])
        #expect(latest["ses-marked"]?["content_pruned_at"]?.stringValue != nil)
    }

    @Test func redactReachesEveryFileOfTheDataset() async throws {
        let latest = try await expectTheDatasetForgets(after: ["redact", "--apply"], rules: """
            [[redact]]
            name = "marker"
            pattern = "\(Self.marker)"
            """)
        #expect(latest["ses-marked"]?["title"]?.stringValue == "title [redacted:marker]title")
    }

    /// A dataset written before the indexes: the first purge builds them from its files.
    @Test func aDatasetWithoutIndexesGetsThemWhenFirstNeeded() async throws {
        let environment = try config()
        try await datasetWithTheMarkedSession(environment)
        try FileManager.default.removeItem(atPath: dataset + "/_index")
        _ = try await run(["forget", "ses-marked"], environment)
        _ = try await run(["export", "--dataset", dataset], environment)
        let left = try filesHolding(Self.marker)
        #expect(left.isEmpty, "still in \(left)")
        #expect(FileManager.default.fileExists(atPath: dataset + "/_index/export-00001.jsonl.gz"))
        _ = try await latestAgreesWithTheArchive()
    }
}
