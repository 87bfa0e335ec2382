import TestSupport
import ArchiveCore
import Foundation
import LosslessJSON
import Testing

/// An assistant's bad query never hangs `archive mcp`: every tool call ends
/// within its limits with a tool error that says which and how to narrow it,
/// a ping or a cancellation is never stuck behind a call, and the server
/// ends with its client, whatever runs.
@Suite struct MCPLimitsTests {
    let folder: TemporaryDirectory
    var db: String { folder.path("archive.db") }
    static let endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c"

    init() async throws {
        folder = try TemporaryDirectory()
        let lines = (1...30).map { index in
            #"{"session_id":"s-\#(index)","last_updated_at":"2026-03-0\#(index % 9 + 1)T10:00:00Z","events":[{"type":"user_input","content":"question \#(index) about the renewal clause"},{"type":"stop","usage":{"total_input_tokens":10,"total_output_tokens":1}}]}"#
        }
        try lines.joined(separator: "\n").write(toFile: folder.path("in.jsonl"), atomically: true, encoding: .utf8)
        #expect(try await ArchiveProcess.run(["import", "--db", db, folder.path("in.jsonl")]).status == 0)
    }

    /// A pause stretched under a sanitizer, as every wall-time figure of the suite is.
    static func pause(_ seconds: Double) async throws { try await Task.sleep(nanoseconds: UInt64(TestTime.seconds(seconds) * 1e9)) }

    static func line(_ message: JSONValue) -> Data { Data((message.serialized + "\n").utf8) }
    static func call(_ id: Int, sql: String) -> Data {
        line(["jsonrpc": "2.0", "id": .number(JSONNumber(id)), "method": "tools/call", "params": ["name": "sql", "arguments": ["query": .string(sql)]]])
    }
    static func ping(_ id: Int) -> Data { line(["jsonrpc": "2.0", "id": .number(JSONNumber(id)), "method": "ping"]) }

    /// Starts the server on a pipe kept open: `script` writes to it; the pipe closes when it returns.
    func serve(_ arguments: [String], environment: [String: String] = [:],
               _ script: (FileHandle) async throws -> Void) async throws -> (answers: [JSONValue], secondsToEnd: Double) {
        let input = Pipe()
        // Close-on-exec: a process another test spawns meanwhile must not keep the pipe open (and the server's input with it).
        _ = fcntl(input.fileHandleForWriting.fileDescriptor, F_SETFD, FD_CLOEXEC)
        let running = try ArchiveProcess.start(["mcp", "--db", db] + arguments, environment: environment, input: input.fileHandleForReading)
        try await script(input.fileHandleForWriting)
        let closed = Date()
        try input.fileHandleForWriting.close()
        // The process's own end (its output may reach its end later: a process another test spawned may share the pipe a moment).
        let pid = running.process.processIdentifier
        func ended() -> Bool {  // gone, or a zombie waiting for Foundation to reap it
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
            return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
        }
        while !ended() && Date().timeIntervalSince(closed) < 30 { try await Self.pause(0.005) }
        let seconds = Date().timeIntervalSince(closed)
        let result = await running.wait()
        #expect(result.status == 0, "\(result.stderr)")
        return (try result.stdout.split(separator: "\n").map { try JSONParser.parse(String($0)) }, seconds)
    }

    @Test func aRunawayQueryEndsAtItsLimitAndThePingBehindItIsAnsweredFirst() async throws {
        let started = Date()
        let (answers, _) = try await serve(["--max-seconds", "1"]) { pipe in
            try pipe.write(contentsOf: Self.call(1, sql: Self.endless) + Self.ping(2))
            try await Self.pause(1.6)
            try pipe.write(contentsOf: Self.call(3, sql: "SELECT count(*) AS n FROM sessions"))
            try await Self.pause(0.4)
        }
        #expect(answers.map { $0["id"]?.int64Value } == [2, 1, 3], "the ping is not stuck behind the call: \(answers.map(\.serialized))")
        let error = answers[1]["result"]
        #expect(error?["isError"] == true)
        let text = error?["content"]?.arrayValue?.first?["text"]?.stringValue ?? ""
        #expect(text.hasPrefix("the query ran past its time limit of 1 s and was stopped; narrow it") && !text.contains("\n"), "\(text)")
        #expect(answers[2]["result"]?["structuredContent"]?["rows"]?.arrayValue?.first?["n"] == 30)
        #expect(Date().timeIntervalSince(started) < TestTime.seconds(30))
    }

    /// The config file's `[mcp] max_seconds` sets the limit when the flag does not.
    @Test func theLimitIsASettingToo() async throws {
        let home = folder.path("config")
        try FileManager.default.createDirectory(atPath: home + "/llamacloud-archive", withIntermediateDirectories: true)
        try "[mcp]\nmax_seconds = 0.5\n".write(toFile: home + "/llamacloud-archive/config.toml", atomically: true, encoding: .utf8)
        let (answers, _) = try await serve(["--max-million-rows", "1000000"], environment: ["XDG_CONFIG_HOME": home]) { pipe in
            try pipe.write(contentsOf: Self.call(1, sql: Self.endless))
            try await Self.pause(0.9)
        }
        let text = answers.first?["result"]?["content"]?.arrayValue?.first?["text"]?.stringValue ?? ""
        #expect(text.hasPrefix("the query ran past its time limit of 0.5 s"), "\(answers.map(\.serialized))")
    }

    /// `archive sql` has the same limit, off unless asked for.
    @Test func archiveSQLTakesTheSameLimit() async throws {
        let started = Date()
        let stopped = try await ArchiveProcess.run(["sql", "--db", db, "--max-seconds", "0.5", Self.endless])
        #expect(stopped.status == 1 && Date().timeIntervalSince(started) < TestTime.seconds(20))
        #expect(stopped.stderr.hasPrefix("archive: the query ran past its time limit of 0.5 s and was stopped; narrow it")
                && stopped.stderr.hasSuffix("(--max-seconds)\n"), "\(stopped.stderr)")
        let fine = try await ArchiveProcess.run(["sql", "--db", db, "--max-seconds", "5", "SELECT count(*) AS n FROM sessions", "--format", "csv"])
        #expect(fine.status == 0 && fine.stdout == "n\r\n30\r\n", "\(fine.stdout) \(fine.stderr)")
    }

    @Test func aCrossJoinStopsAtItsRowLimit() async throws {
        let (answers, _) = try await serve(["--max-million-rows", "1"]) { pipe in
            try pipe.write(contentsOf: Self.call(1, sql: "SELECT count(*) FROM events a, events b, events c, events d"))
            try await Self.pause(1.5)
        }
        let text = answers.first?["result"]?["content"]?.arrayValue?.first?["text"]?.stringValue ?? ""
        #expect(text.hasPrefix("the query looked at more than 1000000 rows and was stopped"), "\(answers.map(\.serialized))")
    }

    @Test func aCancelledCallStopsAndTheNextIsAnsweredAtOnce() async throws {
        let (answers, _) = try await serve(["--max-seconds", "60", "--max-million-rows", "1000000"]) { pipe in
            try pipe.write(contentsOf: Self.call(1, sql: Self.endless))
            try await Self.pause(0.3)
            try pipe.write(contentsOf: Self.line(["jsonrpc": "2.0", "method": "notifications/cancelled", "params": ["requestId": 1]]))
            try pipe.write(contentsOf: Self.call(2, sql: "SELECT 1 AS one"))
            try await Self.pause(0.7)
        }
        #expect(answers.map { $0["id"]?.int64Value } == [2], "a cancelled call gets no answer: \(answers.map(\.serialized))")
    }

    /// The client goes while an endless query runs: the server is gone within a second, leaving no orphan.
    @Test func theServerEndsWithItsClient() async throws {
        let (answers, seconds) = try await serve(["--max-seconds", "600", "--max-million-rows", "1000000"]) { pipe in
            try pipe.write(contentsOf: Self.call(1, sql: Self.endless))
            try await Self.pause(0.5)
        }
        #expect(answers.isEmpty)
        // It ends itself 0.95 s after its input ends (0.8 s on an idle machine: the closing note's figure); the bound
        // only tells "ended" from "ran its 600 s query", whatever a loaded machine's scheduling adds.
        #expect(seconds < TestTime.seconds(10), "\(seconds) s after its input closed")
    }

    /// SIGTERM ends it too, whatever runs (a parent that blocked the signal notwithstanding).
    @Test func sigtermEndsItWhileAQueryRuns() async throws {
        let input = Pipe()
        _ = fcntl(input.fileHandleForWriting.fileDescriptor, F_SETFD, FD_CLOEXEC)
        let running = try ArchiveProcess.start(["mcp", "--db", db, "--max-seconds", "600", "--max-million-rows", "1000000"],
                                               input: input.fileHandleForReading)
        try input.fileHandleForWriting.write(contentsOf: Self.call(1, sql: Self.endless))
        try await Self.pause(0.5)
        let sent = Date()
        kill(running.process.processIdentifier, SIGTERM)
        let pid = running.process.processIdentifier
        func ended() -> Bool {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
            return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
        }
        while !ended() && Date().timeIntervalSince(sent) < 30 { try await Self.pause(0.005) }
        #expect(Date().timeIntervalSince(sent) < TestTime.seconds(10), "ended by SIGTERM, not by its 600 s limit")
        try input.fileHandleForWriting.close()
        _ = await running.wait()
    }

    /// A query that needs more memory than the server may use ends as a tool error naming the limit.
    @Test func aGreedyQueryStopsAtTheMemoryLimit() async throws {
        let (answers, _) = try await serve(["--max-memory-mb", "16", "--max-million-rows", "1000000"]) { pipe in
            try pipe.write(contentsOf: Self.call(1, sql: "SELECT length(group_concat(printf('%.500c', 'x'))) FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 200000) SELECT x FROM c)"))
            try pipe.write(contentsOf: Self.call(2, sql: "SELECT count(*) AS n FROM sessions"))
            try await Self.pause(1.5)
        }
        let text = answers.first?["result"]?["content"]?.arrayValue?.first?["text"]?.stringValue ?? ""
        #expect(text.hasPrefix("the query needed more than 16 MB of memory and was stopped"), "\(answers.map(\.serialized))")
        #expect(answers.last?["result"]?["structuredContent"]?["rows"]?.arrayValue?.first?["n"] == 30)
    }

    /// The guards hold under the limits: each is refused at once as a tool error, and the archive is byte for byte as before.
    @Test func theGuardsRefuseAtOnceAndTheArchiveIsUnchanged() async throws {
        let before = try Data(contentsOf: URL(fileURLWithPath: db))
        let refused = ["ATTACH DATABASE '\(folder.path("x.db"))' AS x", "DETACH DATABASE main", "PRAGMA writable_schema=ON",
                       "SELECT load_extension('x')", "VACUUM INTO '\(folder.path("copy.db"))'", "DELETE FROM sessions",
                       "SELECT 1; DELETE FROM sessions", "SELECT fts3_tokenizer('simple')", "DELETE FROM session_titles",
                       "UPDATE sessions SET title = 'x'"]
        let (answers, _) = try await serve([]) { pipe in
            for (index, sql) in refused.enumerated() { try pipe.write(contentsOf: Self.call(index + 1, sql: sql)) }
            try await Self.pause(0.6)
        }
        #expect(answers.count == refused.count)
        for answer in answers { #expect(answer["result"]?["isError"] == true, "\(answer.serialized)") }
        #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == before)
        #expect(!FileManager.default.fileExists(atPath: folder.path("copy.db")) && !FileManager.default.fileExists(atPath: folder.path("x.db")))
    }
}
