import TestSupport
import Foundation
import LosslessJSON
import SQLiteCore
import Testing

/// A large response costs a small multiple of its bytes, however tiny its events.
@Suite struct SyncMemoryTests {
    /// Runs the binary and returns its exit status and peak resident memory in bytes (from `wait4`).
    static func peakMemory(_ arguments: [String], environment: [String: String]) throws -> (status: Int32, bytes: Int) {
        let binary = ArchiveProcess.locateBinary().path
        let argv = ([binary] + arguments).map { strdup($0) } + [nil]
        let envp = ArchiveProcess.environment(environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for descriptor in [Int32(1), 2] {
            posix_spawn_file_actions_addopen(&actions, descriptor, "/dev/null", O_WRONLY, 0)
        }
        var pid = pid_t()
        guard posix_spawn(&pid, binary, &actions, nil, argv, envp) == 0 else { throw POSIXError(.ENOEXEC) }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        return ((status >> 8) & 0xFF, usage.ru_maxrss * 1024)
    }

    @Test func aResponseOfManyTinyEventsCostsUnderFourTimesItsSize() async throws {
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
        let baseline = try Self.peakMemory(["sync", "--db", folder.path("small.db"), "--project-id", "small"], environment: env)
        let measured = try Self.peakMemory(["sync", "--db", folder.path("big.db"), "--project-id", "big"], environment: env)
        #expect(baseline.status == 0 && measured.status == 0)
        let extra = measured.bytes - baseline.bytes
        #expect(extra < 4 * big.utf8.count, "a \(big.utf8.count / 1000) KB response took \(extra / 1000) KB more than a tiny one")
        let database = try Database(path: folder.path("big.db"), mode: .readOnly)
        #expect(try database.scalar("SELECT event_count FROM sessions", as: Int.self) == 300_000)
        server.stop()
    }
}
