import ChatSimulator
import Foundation
import Testing
import TestSupport

/// Another local user plants a symbolic link where the tool will create a
/// file; whatever the link points at must stay byte for byte as it was.
@Suite struct PlantedLinkTests {
    let folder: TemporaryDirectory
    init() throws { folder = try TemporaryDirectory() }

    /// A file the test owns, standing for someone's real archive.
    func victim(_ name: String = "victim.db") throws -> (path: String, bytes: Data) {
        let bytes = Data("someone's real archive \(UUID())\n".utf8)
        let path = folder.path(name)
        try bytes.write(to: URL(fileURLWithPath: path))
        return (path, bytes)
    }

    func corpus() throws -> String {
        var lines: [String] = []
        SimulatedChatService.writeCorpus(count: 3, seed: 5) { lines.append($0) }
        let path = folder.path("in.jsonl")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func theDemoNeverUsesAFolderSomeoneElseCouldHavePlanted() async throws {
        let shared = folder.path("tmp")
        let data = folder.path("victim-data")
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let archive = Data("a real archive \(UUID())".utf8)
        for suffix in ["", "-wal", "-shm", ".lock"] {
            try archive.write(to: URL(fileURLWithPath: data + "/archive.db" + suffix))
        }
        // The fixed name earlier versions used, planted as a link to the victim's data folder.
        try FileManager.default.createSymbolicLink(atPath: shared + "/llamacloud-archive-demo", withDestinationPath: data)

        let result = try await ArchiveProcess.run(["demo", "--sessions", "3"], environment: ["TMPDIR": shared])
        #expect(result.status == 0, "\(result.stderr)")
        for suffix in ["", "-wal", "-shm", ".lock"] {
            #expect(FileManager.default.contents(atPath: data + "/archive.db" + suffix) == archive, "archive.db\(suffix) changed")
        }
        let used = try #require(result.stdout.split(separator: "\n").first { $0.contains("The archive at ") })
        #expect(used.contains(shared + "/llamacloud-archive-demo-"), "\(used)")
        let made = try FileManager.default.contentsOfDirectory(atPath: shared).filter { $0.hasPrefix("llamacloud-archive-demo-") }
        #expect(made.count == 1)
        var info = stat()
        #expect(lstat(shared + "/" + made[0], &info) == 0)
        #expect(info.st_mode & S_IFMT == S_IFDIR && info.st_mode & 0o777 == 0o700 && info.st_uid == getuid())
    }

    @Test func aLinkAtTheLockFilesNameIsRefusedAndItsTargetKept() async throws {
        let target = try victim()
        let db = folder.path("archive.db")
        try FileManager.default.createSymbolicLink(atPath: db + ".lock", withDestinationPath: target.path)
        let result = try await ArchiveProcess.run(["import", "--db", db, try corpus()])
        #expect(result.status != 0)
        #expect(result.stderr.contains("archive.db.lock") && result.stderr.contains("symbolic link"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(FileManager.default.contents(atPath: target.path) == target.bytes)
    }

    @Test func exportAndReportReplaceALinkAtTheirOutputInsteadOfWritingThroughIt() async throws {
        let db = folder.path("archive.db")
        let imported = try await ArchiveProcess.run(["import", "--db", db, try corpus()])
        try #require(imported.status == 0, "\(imported.stderr)")
        for (command, name) in [("export", "out.jsonl"), ("report", "out.html")] {
            let target = try victim("victim-\(command)")
            let out = folder.path(name)
            try FileManager.default.createSymbolicLink(atPath: out, withDestinationPath: target.path)
            let result = try await ArchiveProcess.run([command, "--db", db, "--out", out])
            #expect(result.status == 0, "\(command): \(result.stderr)")
            #expect(FileManager.default.contents(atPath: target.path) == target.bytes, "\(command) wrote through the link")
            var info = stat()
            #expect(lstat(out, &info) == 0)
            #expect(info.st_mode & S_IFMT == S_IFREG, "\(command): --out is still a link")
            #expect(info.st_mode & 0o777 == 0o600, "\(command): --out is readable by others")
            #expect((FileManager.default.contents(atPath: out)?.count ?? 0) > 100)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.url.path).filter { $0.hasPrefix(".out") }
            #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
        }
    }
}
