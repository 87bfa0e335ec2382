import TestSupport
import Foundation
import SQLiteCore
import Testing

/// The archive path: read commands create nothing, another program's SQLite
/// file is left alone, and an archive on a read-only folder can be read.
@Suite struct ArchivePathTests {
    let folder: TemporaryDirectory
    init() throws { folder = try TemporaryDirectory() }

    @Test func readCommandsNeverCreateAnything() async throws {
        let typo = folder.path("missing/typo.db")
        for arguments in [["status", "--check"], ["status"], ["sessions"], ["tokens"], ["export"], ["sql", "SELECT 1"]] {
            let result = try await ArchiveProcess.run(arguments + ["--db", typo])
            #expect(result.status == 1, "\(arguments)")
            #expect(result.stderr.hasPrefix("archive: no archive at \(typo)"), "\(arguments): \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: folder.path("missing")), "\(arguments) created a folder")
        }
    }

    @Test func anotherProgramsSQLiteFileIsRefusedUnchanged() async throws {
        let path = folder.path("other.db")
        do {
            let other = try Database(path: path, mode: .readWriteCreate)
            try other.execute("PRAGMA journal_mode=DELETE")
            try other.execute("CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT)")
            try other.execute("INSERT INTO notes(body) VALUES ('keep me')")
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let sessions = folder.path("s.jsonl")
        try Data(#"{"session_id":"a","last_updated_at":"2026-01-01T00:00:00Z","events":[]}"#.utf8).write(to: URL(fileURLWithPath: sessions))
        for arguments in [["status"], ["status", "--check"], ["import", sessions], ["sessions"], ["export"],
                          ["sync", "--base-url", "http://127.0.0.1:9"]] {
            let result = try await ArchiveProcess.run(arguments + ["--db", path], environment: ["LLAMA_CLOUD_API_KEY": "k"])
            #expect(result.status == 1, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("it is a SQLite file of another program"), "\(arguments): \(result.stderr)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before, "\(arguments) changed the file")
        }
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
    }

    @Test func anArchiveInAReadOnlyFolderCanBeRead() async throws {
        let archiveFolder = folder.path("ro")
        let db = archiveFolder + "/archive.db"
        let demo = try await ArchiveProcess.run(["demo", "--db", db, "--sessions", "5"])
        #expect(demo.status == 0, "\(demo.stderr)")
        // The last connection to close checkpoints the WAL and removes it.
        try Database(path: db).execute("PRAGMA wal_checkpoint(TRUNCATE)")
        #expect(!FileManager.default.fileExists(atPath: db + "-wal"))
        // The folder refuses writes; as root, the commands run as nobody so that it truly does.
        chmod(archiveFolder, 0o555)
        chmod(db, 0o644)
        defer { chmod(archiveFolder, 0o755) }
        for arguments in [["status"], ["status", "--check"], ["sessions"], ["tokens"], ["tools"], ["search", "the"], ["export"],
                          ["sql", "SELECT count(*) FROM sessions"]] {
            let result = try await offThePool { try Self.runUnprivileged(arguments + ["--db", db]) }
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: db + "-shm"))
    }

    /// Runs the binary as nobody when this test runs as root (else as itself).
    static func runUnprivileged(_ arguments: [String]) throws -> (status: Int32, stderr: String) {
        let process = Process()
        let errors = Pipe()
        let binary = ArchiveProcess.locateBinary().path
        if getuid() == 0 {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", binary] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = arguments
        }
        process.environment = ArchiveProcess.environment(["HOME": "/nonexistent"])
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let stderr = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stderr, as: UTF8.self))
    }

    @Test func openingANonDatabaseFileManyTimesFailsCleanly() throws {
        let path = folder.path("not-a-db")
        try Data(repeating: 0x41, count: 8192).write(to: URL(fileURLWithPath: path))
        for _ in 0..<200 {
            #expect(throws: SQLiteError.self) { _ = try Database(path: path) }
            #expect(throws: SQLiteError.self) { _ = try Database(path: path, mode: .readOnly) }
        }
    }
}
