import ChatSimulator
import Foundation
import LosslessJSON
import Testing
import TestSupport

/// Pairs of spellings that Swift's `String ==` (canonical equivalence) or a
/// careless normalisation would take for one, each kept as its own project,
/// index set, tool or session in every report, through import and sync.
@Suite struct ExactTextTests {
    static let pairs: [(name: String, a: String, b: String)] = [
        ("NFC and NFD", "caf\u{E9}", "cafe\u{301}"),
        ("precomposed and decomposed", "\u{C5}ngstr\u{F6}m", "A\u{30A}ngstro\u{308}m"),
        ("singleton sign", "\u{212A}elvin", "Kelvin"),
        ("full-width and ASCII", "\u{FF21}\u{FF22}\u{FF23}", "ABC"),
        ("ligature", "\u{FB01}le", "file"),
        ("trailing zero-width space", "proj\u{200B}", "proj"),
    ]
    static var spellings: [String] { pairs.flatMap { [$0.a, $0.b] } }

    let folder: TemporaryDirectory
    var db: String { folder.path("archive.db") }
    init() throws { folder = try TemporaryDirectory() }

    /// A session with one run whose tokens say which spelling it belongs to.
    static func session(id: String, indexIDs: [String], tool: String, input: Int, updated: String = "2026-05-01T10:00:00Z") -> JSONValue {
        [
            "session_id": .string(id), "last_updated_at": .string(updated), "generated_title": "t",
            "index_ids": .array(indexIDs.map { .string($0) }),
            "events": [
                ["type": "user_input", "content": .string("about \(tool)")],
                ["type": "tool_call", "call_id": .string("c-\(tool)"), "name": .string(tool), "arguments": [:]],
                ["type": "tool_result", "call_id": .string("c-\(tool)"), "name": .string(tool), "result": "ok"],
                ["type": "stop", "is_error": false, "usage": ["total_input_tokens": .number(JSONNumber(input)), "total_output_tokens": 1]],
            ],
        ]
    }

    func json(_ arguments: [String]) async throws -> [JSONValue] {
        let result = try await ArchiveProcess.run(arguments + ["--db", db, "--json"])
        try #require(result.status == 0, "\(arguments): \(result.stderr)")
        let parsed = try JSONParser.parse(result.stdout)
        return try #require(parsed.arrayValue ?? parsed["rows"]?.arrayValue, "\(arguments): \(result.stdout.prefix(200))")
    }

    /// Rows of a report as (key, number) pairs, the key's bytes kept.
    func column(_ rows: [JSONValue], key: String, value: String) -> [[UInt8]: Int64] {
        var found: [[UInt8]: Int64] = [:]
        for row in rows { if let text = row[key]?.stringValue { found[Array(text.utf8)] = row[value]?.int64Value } }
        return found
    }

    func expectChecked() async throws {
        let check = try await ArchiveProcess.run(["status", "--check", "--db", db])
        #expect(check.status == 0, "status --check: \(check.stdout) \(check.stderr)")
    }

    @Test func importKeepsEverySpellingApartInEveryReport() async throws {
        var lines: [String] = []
        for (number, spelling) in Self.spellings.enumerated() {
            lines.append(Self.session(id: "ses-" + spelling, indexIDs: [spelling], tool: spelling, input: 100 * (number + 1)).serialized)
        }
        let file = folder.path("in.jsonl")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: file))
        let imported = try await ArchiveProcess.run(["import", "--db", db, file])
        try #require(imported.status == 0, "\(imported.stderr)")

        let byIndex = column(try await json(["tokens", "--by", "index"]), key: "index_id", value: "input_tokens")
        let tools = column(try await json(["tools"]), key: "name", value: "calls")
        let sessions = column(try await json(["sessions"]), key: "session_id", value: "input_tokens")
        for (number, spelling) in Self.spellings.enumerated() {
            let bytes = Array(spelling.utf8)
            #expect(byIndex[bytes] == Int64(100 * (number + 1)), "index \(spelling.unicodeScalars.map { String($0.value, radix: 16) })")
            #expect(tools[bytes] == 1, "tool \(spelling.unicodeScalars.map { String($0.value, radix: 16) })")
            #expect(sessions[Array(("ses-" + spelling).utf8)] == Int64(100 * (number + 1)), "session \(spelling)")
        }
        #expect(byIndex.count == Self.spellings.count && tools.count == Self.spellings.count)
        try await expectChecked()

        // A second import that changes one spelling's session leaves its twin alone.
        let changed = Self.session(id: "ses-" + Self.pairs[0].b, indexIDs: [Self.pairs[0].b], tool: Self.pairs[0].b,
                                   input: 7, updated: "2026-05-02T10:00:00Z").serialized
        try Data((changed + "\n").utf8).write(to: URL(fileURLWithPath: file))
        let again = try await ArchiveProcess.run(["import", "--db", db, file])
        try #require(again.status == 0, "\(again.stderr)")
        let after = column(try await json(["tokens", "--by", "index"]), key: "index_id", value: "input_tokens")
        #expect(after[Array(Self.pairs[0].a.utf8)] == 100 && after[Array(Self.pairs[0].b.utf8)] == 7)
        try await expectChecked()
    }

    @Test func syncKeepsEveryProjectSpellingApartInTokensAndTheReport() async throws {
        let key = "sk-\(UUID().uuidString)"
        let service = SimulatedChatService(apiKey: key, seed: 3)
        for (number, spelling) in Self.spellings.enumerated() {
            service.put(Self.session(id: "ses-" + spelling, indexIDs: [spelling], tool: spelling, input: 100 * (number + 1)),
                        project: spelling)
        }
        let server = try ChatSimulatorServer.start(service: service)
        defer { server.stop() }
        let projects = Self.spellings.flatMap { ["--project-id", $0] }
        let sync = try await ArchiveProcess.run(["sync", "--db", db] + projects,
                                                environment: ["LLAMA_CLOUD_API_KEY": key, "LLAMA_CLOUD_BASE_URL": server.baseURL.absoluteString])
        try #require(sync.status == 0, "\(sync.stdout) \(sync.stderr)")
        let byProject = column(try await json(["tokens", "--by", "project"]), key: "project_id", value: "input_tokens")
        for (number, spelling) in Self.spellings.enumerated() {
            #expect(byProject[Array(spelling.utf8)] == Int64(100 * (number + 1)), "project \(spelling.unicodeScalars.map { String($0.value, radix: 16) })")
        }
        #expect(byProject.count == Self.spellings.count)
        try await expectChecked()

        let report = try await ArchiveProcess.run(["report", "--db", db, "--out", "-"])
        try #require(report.status == 0, "\(report.stderr)")
        for spelling in Self.spellings {
            #expect(report.stdout.contains("<td>\(spelling)</td>"), "the report has no row for project \(spelling.unicodeScalars.map { String($0.value, radix: 16) })")
        }
        // Without prices: one tokens column per table, no "unknown" spend card, ids that never wrap.
        #expect(!report.stdout.contains("<th class=\"n\">tokens</th><th class=\"n\">tokens</th>"))
        #expect(report.stdout.contains("<th class=\"n\">tokens</th><th></th>"))
        #expect(!report.stdout.contains("<b>unknown</b>") && report.stdout.contains("No prices: spend is not shown."))
        #expect(report.stdout.contains("td code { white-space: nowrap; }"))
        #expect(!report.stdout.contains("cost (USD)"))
    }

    /// A session that moves from one spelling of a project to the other moves its spend with it.
    @Test func aSessionMovedToTheOtherSpellingOfItsProjectMovesItsTokens() async throws {
        let key = "sk-\(UUID().uuidString)"
        let (nfc, nfd) = (Self.pairs[0].a, Self.pairs[0].b)
        for (project, updated) in [(nfc, "2026-05-01T10:00:00Z"), (nfd, "2026-05-01T11:00:00Z")] {
            let service = SimulatedChatService(apiKey: key, seed: 4)
            service.put(Self.session(id: "ses-moving", indexIDs: ["idx"], tool: "t", input: 500, updated: updated), project: project)
            let server = try ChatSimulatorServer.start(service: service)
            defer { server.stop() }
            let sync = try await ArchiveProcess.run(["sync", "--db", db, "--project-id", project],
                                                    environment: ["LLAMA_CLOUD_API_KEY": key, "LLAMA_CLOUD_BASE_URL": server.baseURL.absoluteString])
            try #require(sync.status == 0, "\(sync.stdout) \(sync.stderr)")
        }
        let byProject = column(try await json(["tokens", "--by", "project"]), key: "project_id", value: "input_tokens")
        #expect(byProject == [Array(nfd.utf8): 500])
        try await expectChecked()
    }

    /// Token counts near 2^63 from a hostile source: reports saturate, never trap.
    @Test func reportsOverTokenCountsThatOverflowInt64DoNotCrash() async throws {
        let huge = Int(Int64.max / 2 + 1)
        let lines = ["ses-big-1", "ses-big-2", "ses-big-3"].map {
            Self.session(id: $0, indexIDs: ["idx"], tool: "t", input: huge).serialized
        }
        let file = folder.path("big.jsonl")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: file))
        let imported = try await ArchiveProcess.run(["import", "--db", db, file])
        try #require(imported.status == 0, "\(imported.stdout) \(imported.stderr)")
        for by in ["index", "project", "day", "session"] {
            let result = try await ArchiveProcess.run(["tokens", "--by", by, "--db", db])
            #expect(result.status == 0, "tokens --by \(by): \(result.stderr.prefix(300))")
        }
    }
}
