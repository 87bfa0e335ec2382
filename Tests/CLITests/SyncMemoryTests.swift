import TestSupport
import Foundation
import LosslessJSON
import SQLiteCore
import Testing

/// A large response costs a small multiple of its bytes, however tiny its events.
@Suite struct SyncMemoryTests {
    /// Runs the binary under GNU time and returns its exit status and peak
    /// resident memory in bytes. (A child spawned straight from this large test
    /// process would report this process's peak: the kernel carries it over exec.)
    static func peakMemory(_ arguments: [String], environment: [String: String]) async throws -> (status: Int32, bytes: Int) {
        try await offThePool {
            let folder = try TemporaryDirectory()
            let report = folder.path("time.out")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/time")
            process.arguments = ["-f", "%M", "-o", report, ArchiveProcess.locateBinary().path] + arguments
            process.environment = ArchiveProcess.environment(environment)
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            process.standardInput = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            let text = try String(contentsOfFile: report, encoding: .utf8)
            let kilobytes = Int(text.split(separator: "\n").last.map(String.init) ?? "") ?? -1
            return (process.terminationStatus, kilobytes * 1024)
        }
    }

    static func fileSize(_ path: String) throws -> Int {
        guard FileManager.default.fileExists(atPath: path) else { return 0 }
        return (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    }

    @Test(.disabled(if: TestTime.underSanitizer, "a sanitizer's shadow memory is not the program's"))
    func aResponseOfManyTinyEventsCostsUnderFourTimesItsSize() async throws {
        let folder = try TemporaryDirectory()
        let events = [String](repeating: #"{"a":1}"#, count: 300_000).joined(separator: ",")
        let big = #"{"session_id":"big","last_updated_at":"2026-03-01T10:00:00Z","events":["# + events + "]}"
        let small = #"{"session_id":"small","last_updated_at":"2026-03-01T10:00:00Z","events":[{"a":1}]}"#
        let server = try ScriptedHTTPServer { request, connection in
            let id = request.query["project_id"] == "big" ? "big" : "small"
            if request.path == "/api/v1/chat" {
                connection.respond(status: 200, json: #"{"items":[{"session_id":"\#(id)","last_updated_at":"2026-03-01T10:00:00Z"}],"next_page_token":null}"#)
            } else {
                connection.respond(status: 200, json: id == "big" ? big : small)
            }
        }
        let env = ["LLAMA_CLOUD_API_KEY": "k", "LLAMA_CLOUD_BASE_URL": server.baseURL]
        let baseline = try await Self.peakMemory(["sync", "--db", folder.path("small.db"), "--project-id", "small"], environment: env)
        let measured = try await Self.peakMemory(["sync", "--db", folder.path("big.db"), "--project-id", "big"], environment: env)
        #expect(baseline.status == 0 && measured.status == 0)
        // The session is one transaction, so every page it writes stays in
        // SQLite's page cache (bounded by cache_size) until the commit: that
        // part of the peak is the database's size, not the response's cost.
        let databaseBytes = try Self.fileSize(folder.path("big.db")) + Self.fileSize(folder.path("big.db-wal"))
        let extra = measured.bytes - baseline.bytes - databaseBytes
        #expect(extra < 4 * big.utf8.count, "a \(big.utf8.count / 1000) KB response took \(extra / 1000) KB more than a tiny one besides its \(databaseBytes / 1000) KB of pages (\(measured.bytes / 1000) KB against \(baseline.bytes / 1000) KB)")
        let database = try Database(path: folder.path("big.db"), mode: .readOnly)
        #expect(try database.scalar("SELECT event_count FROM sessions", as: Int.self) == 300_000)
        server.stop()
    }
}
