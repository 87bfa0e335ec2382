import TestSupport
import ChatSimulator
import Foundation
import LosslessJSON
import SQLiteCore
import Testing

/// Every file shape a user may hand `archive import`, and files that fail to read.
@Suite struct ImportShapeTests {
    let folder: TemporaryDirectory
    var db: String { folder.path("archive.db") }
    init() throws { folder = try TemporaryDirectory() }

    static func sessions(_ count: Int, seed: UInt64 = 3) -> [String] {
        var lines: [String] = []
        SimulatedChatService.writeCorpus(count: count, seed: seed) { lines.append($0) }
        return lines
    }

    func write(_ name: String, _ text: String) throws -> String {
        let path = folder.path(name)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func archived() throws -> Int {
        try Database(path: db, mode: .readOnly).scalar("SELECT count(*) FROM sessions", as: Int.self) ?? -1
    }

    /// `--project` files the sessions under a project, as a sync of it does,
    /// byte for byte (not merged with its other Unicode spelling).
    @Test func importWithAProjectFilesTheSessionsUnderIt() async throws {
        let lines = Self.sessions(6)
        let first = try write("a.jsonl", lines.prefix(3).joined(separator: "\n"))
        let second = try write("b.jsonl", lines.dropFirst(3).joined(separator: "\n"))
        #expect(try await ArchiveProcess.run(["import", "--db", db, "--project", "caf\u{E9}", first]).status == 0)
        #expect(try await ArchiveProcess.run(["import", "--db", db, "--project", "cafe\u{301}", second]).status == 0)
        let database = try Database(path: db, mode: .readOnly)
        #expect(try database.scalar("SELECT group_concat(hex(project_id) || ':' || n) FROM (SELECT project_id, count(*) AS n FROM sessions GROUP BY 1 ORDER BY 1)",
                                    as: String.self) == "63616665CC81:3,636166C3A9:3")
        let tokens = try await ArchiveProcess.run(["tokens", "--db", db, "--by", "project", "--format", "json"])
        #expect(tokens.status == 0)
        #expect(tokens.stdout.contains("\"project_id\":\"caf\u{E9}\"") && tokens.stdout.contains("\"project_id\":\"cafe\u{301}\""), "\(tokens.stdout)")
        let check = try await ArchiveProcess.run(["status", "--db", db, "--check"])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
    }

    @Test func aBadFirstLineOfJSONLLosesOnlyThatLine() async throws {
        let lines = Self.sessions(40)
        for (name, bad) in [("cut", String(lines[0].prefix(50))), ("garbage", lines[0] + " trailing"),
                            ("deep", String(repeating: "[", count: 600) + String(repeating: "]", count: 600))] {
            let file = try write("\(name).jsonl", ([bad] + lines.dropFirst()).joined(separator: "\n") + "\n")
            let result = try await ArchiveProcess.run(["import", "--db", db, file])
            #expect(result.status == 2, "\(name): \(result.stderr)")
            #expect(result.stderr.hasPrefix("\(file):1: "), "\(name): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1)
            #expect(result.stdout.contains("failed from 40 records"), "\(name): \(result.stdout)")
        }
        #expect(try archived() == 39)
    }

    @Test func aRecordThatIsNotValidUnicodeIsRefusedAndTheRestKept() async throws {
        let lines = Self.sessions(3)
        let file = folder.path("utf8.jsonl")
        let broken = Array(lines[1].utf8.prefix(40)) + [0xC3, 0x28] + Array(lines[1].utf8.dropFirst(40))
        try Data(Array(lines[0].utf8) + [0x0A] + broken + [0x0A] + Array(lines[2].utf8)).write(to: URL(fileURLWithPath: file))
        let surrogate = try write("surrogate.jsonl", #"{"session_id":"s\ud800","last_updated_at":"2026-01-01T00:00:00Z"}"#)
        let result = try await ArchiveProcess.run(["import", "--db", db, file, surrogate])
        #expect(result.status == 2)
        #expect(result.stderr == "\(file):2: invalid UTF-8 at byte 40\n\(surrogate):1: lone surrogate \\uD800\n")
        #expect(try archived() == 2)
    }

    @Test func errorMessagesNeverEchoControlBytesFromTheInput() async throws {
        let file = try write("control.jsonl", #"{"session_id":"evil\u001b]0;title\u0007\u0000","last_updated_at":"\u001b[2J"}"# + "\n")
        let result = try await ArchiveProcess.run(["import", "--db", db, file])
        #expect(result.status == 2)
        #expect(!result.stderr.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" }, "\(result.stderr.debugDescription)")
        #expect(result.stderr.hasPrefix("\(file):1: session evil\u{FFFD}]0;title\u{FFFD}\u{FFFD}: unreadable last_updated_at"))
    }

    @Test func aByteOrderMarkIsSkipped() async throws {
        let lines = Self.sessions(3)
        let file = folder.path("bom.jsonl")
        try Data([0xEF, 0xBB, 0xBF] + Array(lines.joined(separator: "\n").utf8)).write(to: URL(fileURLWithPath: file))
        let result = try await ArchiveProcess.run(["import", "--db", db, file])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try archived() == 3)
    }

    @Test func arraysImportOnOneLineOrManyAndBadElementsAreNamed() async throws {
        let lines = Self.sessions(30)
        let oneLine = try write("one.json", "[" + lines.prefix(10).joined(separator: ",") + "]")
        let pretty = try write("pretty.json", "[\n  " + lines[10..<20].joined(separator: ",\n  ") + "\n]\n")
        let bad = try write("bad.json", "[\n" + lines[20] + ",\n{\"session_id\": 3},\n" + lines[21] + "\n]")
        let empty = try write("empty.json", " [ ] ")
        let result = try await ArchiveProcess.run(["import", "--db", db, oneLine, pretty, bad, empty])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr == "\(bad):3: missing session_id\n")
        #expect(try archived() == 22)
    }

    @Test func onePrettyPrintedObjectStillImports() async throws {
        let value = try JSONParser.parse(Self.sessions(1)[0])
        let pretty = value.serialized.replacingOccurrences(of: ",\"", with: ",\n  \"")
        let file = try write("pretty-object.json", "{\n  " + pretty.dropFirst())
        let result = try await ArchiveProcess.run(["import", "--db", db, file])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try archived() == 1)
    }

    @Test func anOlderSnapshotNeverReplacesNewerHistory() async throws {
        let newer = #"{"session_id":"s","last_updated_at":"2026-05-02T00:00:00Z","events":[{"type":"user_input","content":"two"}]}"#
        let older = #"{"session_id":"s","last_updated_at":"2026-05-01T00:00:00+00:00","events":[{"type":"user_input","content":"one"}]}"#
        let first = try await ArchiveProcess.run(["import", "--db", db, try write("newer.json", newer)])
        #expect(first.status == 0)
        let olderFile = try write("older.json", older)
        let second = try await ArchiveProcess.run(["import", "--db", db, olderFile])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr == "note: \(olderFile):1: session s was last updated 2026-05-01T00:00:00.000000Z, before the archived 2026-05-02T00:00:00.000000Z: skipped\n")
        #expect(second.stdout.hasPrefix("imported: 0 new, 0 updated, 0 unchanged, 1 older (skipped), 0 failed"))
        let export = try await ArchiveProcess.run(["export", "--db", db])
        #expect(try JSONParser.parse(export.stdout.trimmingCharacters(in: .newlines)) == JSONParser.parse(newer))
    }

    @Test func exportNeverWritesOverTheArchiveAndItsFilesArePrivate() async throws {
        _ = try await ArchiveProcess.run(["import", "--db", db, try write("one.jsonl", Self.sessions(2).joined(separator: "\n"))])
        let before = try Data(contentsOf: URL(fileURLWithPath: db))
        for target in [db, db + "-wal", folder.path("./archive.db")] {
            let result = try await ArchiveProcess.run(["export", "--db", db, "--out", target])
            #expect(result.status == 64, "\(target): \(result.stderr)")
            #expect(result.stderr.contains("is the archive itself"))
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == before)
        let out = folder.path("export.jsonl")
        let exported = try await ArchiveProcess.run(["export", "--db", db, "--out", out])
        #expect(exported.status == 0)
        #expect(try FileManager.default.attributesOfItem(atPath: out)[.posixPermissions] as? Int == 0o600)
        #expect(try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").count == 2)
    }

    @Test func aReadErrorIsReportedNotTakenForTheEnd() async throws {
        let process = Process()
        process.executableURL = ArchiveProcess.locateBinary()
        process.arguments = ["import", "--db", db, "-"]
        process.environment = ArchiveProcess.environment()
        // A folder as standard input: read(2) fails with EISDIR.
        process.standardInput = FileHandle(forReadingAtPath: folder.path("."))
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let (stderr, status) = try await offThePool {
            let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (text, process.terminationStatus)
        }
        #expect(status == 1)
        #expect(stderr == "archive: <stdin>: read error after line 0: Is a directory\n")
        let run = try Database(path: db, mode: .readOnly).scalar("SELECT status || ': ' || message FROM sync_runs", as: String.self)
        #expect(run == "failed: <stdin>: read error after line 0: Is a directory")
    }

    @Test(.enabled(if: getuid() == 0, "mounts a small tmpfs"))
    func aFullDiskIsOneFatalLineAndKeepsWhatWasCommitted() async throws {
        let small = folder.path("small")
        try FileManager.default.createDirectory(atPath: small, withIntermediateDirectories: true)
        #expect(mount("tmpfs", small, "tmpfs", 0, "size=6m") == 0)
        defer { umount(small) }
        let corpus = try write("corpus.jsonl", Self.sessions(2_500).joined(separator: "\n"))
        let target = small + "/archive.db"
        let result = try await ArchiveProcess.run(["import", "--db", target, corpus])
        #expect(result.status == 1, "\(result.stdout) \(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("archive: cannot write the archive \(target): database or disk is full"), "\(result.stderr)")
        let database = try Database(path: target, mode: .readOnly)
        let kept = try database.scalar("SELECT count(*) FROM sessions", as: Int.self) ?? -1
        #expect(kept % 500 == 0 && kept < 2_500)
        #expect(try database.scalar("PRAGMA integrity_check", as: String.self) == "ok")
    }
}
