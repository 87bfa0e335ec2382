import TestSupport
import ArchiveCore
import Foundation
import LosslessJSON
import Testing

/// `archive mcp` as a client meets it, down to the bytes: every request is
/// answered with one JSON-RPC line out, whatever it held (tool calls in their
/// order, the rest at once), and the server goes on. (Tests/mcp/check_mcp.sh drives it with the official SDK.)
@Suite struct MCPServerTests {
    let folder: TemporaryDirectory
    var db: String { folder.path("archive.db") }

    init() async throws {
        folder = try TemporaryDirectory()
        let lines = (1...40).map { index in
            #"{"session_id":"s-\#(index)","last_updated_at":"2026-03-0\#(index % 9 + 1)T10:00:00Z","generated_title":"Title \#(index)","events":[{"type":"user_input","content":"question \#(index) about the renewal clause"},{"type":"text","content":"\#(String(repeating: "word ", count: 200))"},{"type":"stop","usage":{"total_input_tokens":\#(index * 10),"total_output_tokens":\#(index)}}]}"#
        }
        try lines.joined(separator: "\n").write(toFile: folder.path("in.jsonl"), atomically: true, encoding: .utf8)
        let imported = try await ArchiveProcess.run(["import", "--db", db, folder.path("in.jsonl")])
        #expect(imported.status == 0, "\(imported.stderr)")
    }

    /// Sends these lines (raw bytes) and returns the answers, one per line.
    func exchange(_ lines: [[UInt8]], arguments: [String] = []) async throws -> (answers: [JSONValue], stderr: String) {
        let input = folder.path("requests-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: input, contents: Data(lines.flatMap { $0 + [0x0A] }))
        let result = try await ArchiveProcess.run(["mcp", "--db", db] + arguments, input: FileHandle(forReadingAtPath: input))
        #expect(result.status == 0, "\(result.stderr)")
        return (try result.stdout.split(separator: "\n").map { try JSONParser.parse(String($0)) }, result.stderr)
    }

    static func request(_ id: Int, _ method: String, _ params: JSONValue = [:]) -> [UInt8] {
        Array(JSONValue.object(["jsonrpc": "2.0", "id": .number(JSONNumber(id)), "method": .string(method), "params": params]).serialized.utf8)
    }

    @Test func everyLineIsAnsweredInOrderAndTheServerGoesOn() async throws {
        let (answers, stderr) = try await exchange([
            Self.request(1, "initialize", ["protocolVersion": "2099-01-01", "capabilities": [:], "clientInfo": ["name": "t", "version": "1"]]),
            Array(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.utf8),
            Array("not json".utf8),
            [0xFF, 0xFE, 0x7B],
            Array("[1, 2]".utf8),
            Array(#"{"jsonrpc":"2.0","id":{"x":1},"method":"ping"}"#.utf8),
            Array(#"{"jsonrpc":"1.0","id":7,"method":"ping"}"#.utf8),
            Self.request(2, "resources/list"),
            Self.request(3, "tools/call", ["name": "nope"]),
            Self.request(4, "tools/call", ["name": "search", "arguments": ["query": 5]]),
            Self.request(5, "tools/call", ["name": "search", "arguments": "renewal"]),
            Array(#"{"jsonrpc":"2.0","id":"six","method":"ping"}"#.utf8),
            Self.request(8, "tools/call", ["name": "search", "arguments": ["query": "renewal", "limit": 3]]),
        ])
        #expect(stderr.isEmpty)
        // Tool calls are answered in their order on a thread of their own; the rest at once, in order.
        let calls = answers.filter { [3, 4, 5, 8].contains($0["id"]?.int64Value) }
        let others = answers.filter { ![3, 4, 5, 8].contains($0["id"]?.int64Value) }
        #expect(others.map { $0["error"]?["code"]?.int64Value } == [nil, -32700, -32700, -32600, -32600, -32600, -32601, nil],
                "\(answers.map(\.serialized))")
        #expect(calls.map { $0["id"]?.int64Value } == [3, 4, 5, 8])
        #expect(calls.map { $0["error"]?["code"]?.int64Value } == [-32602, -32602, -32602, nil])
        #expect(others[0]["result"]?["protocolVersion"] == "2025-11-25")  // a revision it does not speak gets its newest
        #expect(others[7]["id"] == "six" && others[7]["result"] == [:])
        let hits = calls[3]["result"]?["structuredContent"]?["rows"]?.arrayValue ?? []
        #expect(hits.count == 3)
    }

    @Test func aLineLongerThanTheLimitIsRefusedUnreadAndTheNextOneServed() async throws {
        let huge = Array(#"{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":""#.utf8) + Array(repeating: 0x61, count: 3 << 20) + Array(#""}}"#.utf8)
        let (answers, _) = try await exchange([huge, Self.request(2, "ping")])
        #expect(answers.count == 2)
        #expect(answers.first?["error"]?["code"] == -32700 && answers.last?["id"] == 2)
    }

    @Test func resultsAreCutToTheLimitAndSaySo() async throws {
        let (answers, _) = try await exchange([
            Self.request(1, "tools/call", ["name": "sql", "arguments": ["query": "SELECT content FROM events", "max_rows": 10000]]),
            Self.request(2, "tools/call", ["name": "show_session", "arguments": ["id": "s-7"]]),
        ], arguments: ["--max-result-kb", "4"])
        let table = try #require(answers.first?["result"]?["structuredContent"])
        #expect(table["truncated"] == true && (table["rows"]?.arrayValue?.count ?? 0) < 80)
        #expect(answers.first?["result"]?["content"]?.arrayValue?.first?["text"]?.stringValue.map { $0.utf8.count <= 4096 } == true)
        let session = try #require(answers.last?["result"]?["structuredContent"])
        #expect(session["session_id"] == "s-7" && session["runs"]?.arrayValue?.count == 1)
    }

    /// An agent asks of a team's archive as a person does: by source, and a session as SOURCE:ID.
    @Test func toolsTakeSourcesAndNameSessionsAsShowTakesThem() async throws {
        let eu = #"{"session_id":"s-7","last_updated_at":"2026-03-20T10:00:00Z","events":[{"type":"user_input","content":"an eu question on the renewal clause"},{"type":"stop","usage":{"total_input_tokens":5000,"total_output_tokens":9}}]}"#
        try eu.write(toFile: folder.path("eu.jsonl"), atomically: true, encoding: .utf8)
        let imported = try await ArchiveProcess.run(["import", "--db", db, "--source", "eu", folder.path("eu.jsonl")])
        #expect(imported.status == 0, "\(imported.stderr)")
        let (answers, _) = try await exchange([
            Self.request(1, "tools/call", ["name": "tokens", "arguments": ["by": "source"]]),
            Self.request(2, "tools/call", ["name": "tokens", "arguments": ["by": "month", "source": "eu"]]),
            Self.request(3, "tools/call", ["name": "search", "arguments": ["query": "eu renewal", "source": ["eu"]]]),
            Self.request(4, "tools/call", ["name": "show_session", "arguments": ["id": "eu:s-7"]]),
            Self.request(5, "tools/call", ["name": "show_session", "arguments": ["id": "s-7"]]),
        ])
        let bySource = answers[0]["result"]?["structuredContent"]?["rows"]?.arrayValue ?? []
        #expect(bySource.map { "\($0["source"]?.stringValue ?? "?") \($0["input_tokens"]?.serialized ?? "?")" }.sorted() == ["default 8200", "eu 5000"])
        #expect(answers[1]["result"]?["structuredContent"]?["totals"]?["input_tokens"] == 5000)
        // A session as people type it, and as the API and the `sessions` table know it.
        let hit = answers[2]["result"]?["structuredContent"]?["rows"]?.arrayValue
        #expect(hit?.map { [$0["session"], $0["session_id"], $0["source"]] } == [["eu:s-7", "s-7", "eu"]], "\(answers[2])")
        let shown = answers[3]["result"]?["structuredContent"]
        #expect(shown?["session"] == "eu:s-7" && shown?["session_id"] == "s-7" && shown?["source"] == "eu", "\(answers[3])")
        #expect(answers[3]["result"]?["structuredContent"]?["runs"]?.arrayValue?.first?["user_input"]?.stringValue?.hasPrefix("an eu question") == true,
                "\(answers[3])")
        #expect(answers[4]["result"]?["isError"] == true && answers[4]["result"]?["structuredContent"]?["error"]?.stringValue?.contains("eu:s-7") == true,
                "\(answers[4])")
    }

    @Test func itReadsWhileASyncHoldsTheWritersLock() async throws {
        let lock = try ArchiveLock(archivePath: db)
        let (answers, _) = try await exchange([Self.request(1, "tools/call", ["name": "tokens", "arguments": ["by": "project"]])])
        withExtendedLifetime(lock) {}
        #expect(answers.first?["result"]?["structuredContent"]?["totals"]?["input_tokens"] == 8200)
    }
}
