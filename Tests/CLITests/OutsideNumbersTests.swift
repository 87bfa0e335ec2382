import ArchiveCore
import ChatSimulator
import Foundation
import LosslessJSON
import SQLiteCore
import Testing
import TestSupport

/// Numbers from a hostile server or file are data, never a crash: a session
/// whose counts the archive cannot add is archived with them kept as sent,
/// and sums past 2^63 stop there in every report and check.
/// (Tests/Repro/poison-tokens is shared/repro/poison-tokens.)
@Suite struct OutsideNumbersTests {
    let folder: TemporaryDirectory
    var db: String { folder.path("archive.db") }
    static let repro = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Repro/poison-tokens/sessions.jsonl").path

    init() throws { folder = try TemporaryDirectory() }

    func rows(_ sql: String) throws -> [String] {
        var rows: [String] = []
        try Database(path: db, mode: .readOnly).forEachRow(sql) { rows.append(try $0.optionalString(0) ?? "NULL") }
        return rows
    }

    func expectPoisonArchived() async throws {
        #expect(try rows("SELECT session_id || ' ' || input_tokens FROM sessions ORDER BY session_id") == ["fine-1 10", "poison-1 0"])
        let faults = try rows("SELECT number_faults FROM sessions WHERE session_id = 'poison-1'").first ?? ""
        #expect(faults.contains("event 2: usage.total_input_tokens 4611686018427387904 is above 2^53-1"), "\(faults)")
        #expect(try rows("SELECT count(*) FROM usage WHERE session_id = 'poison-1' AND input_tokens IS NULL") == ["2"])
        // What the server sent comes back byte for byte.
        let exported = try await ArchiveProcess.run(["export", "--db", db, "--session", "poison-1"])
        #expect(exported.stdout.components(separatedBy: "\"total_input_tokens\": 4611686018427387904").count == 3
                    || exported.stdout.components(separatedBy: "\"total_input_tokens\":4611686018427387904").count == 3, "\(exported.stdout)")
        let check = try await ArchiveProcess.run(["status", "--db", db, "--check"])
        #expect(check.status == 0 && check.stdout.contains("check   ok"), "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains("1 sessions hold numbers kept only as sent"))
    }

    @Test func thePoisonSessionIsImportedWithItsNumbersKeptAsSent() async throws {
        let imported = try await ArchiveProcess.run(["import", "--db", db, Self.repro])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.hasPrefix("imported: 2 new"), "\(imported.stdout)")
        #expect(imported.stderr.contains("sessions.jsonl:2: session poison-1: event 2: usage.total_input_tokens"), "\(imported.stderr)")
        try await expectPoisonArchived()
    }

    /// Over a real loopback server, twice: the first run archives both
    /// sessions, the second finds nothing changed (it used to die each time).
    @Test func thePoisonSessionIsSyncedRunAfterRun() async throws {
        let service = SimulatedChatService(apiKey: "k", seed: 3)
        for line in try String(contentsOfFile: Self.repro, encoding: .utf8).split(separator: "\n") {
            service.put(try JSONParser.parse(String(line)), project: nil)
        }
        let server = try ChatSimulatorServer.start(service: service)
        let environment = ["LLAMA_CLOUD_API_KEY": "k", "LLAMA_CLOUD_BASE_URL": server.baseURL.absoluteString]
        let first = try await ArchiveProcess.run(["sync", "--db", db], environment: environment)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("2 new"), "\(first.stdout)")
        let second = try await ArchiveProcess.run(["sync", "--db", db], environment: environment)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("0 new") && second.stdout.contains("2 unchanged"), "\(second.stdout)")
        try await expectPoisonArchived()
        let status = try await ArchiveProcess.run(["status", "--db", db])
        #expect(!status.stdout.contains("interrupted"), "\(status.stdout)")
    }

    /// Every kind of number the rule refuses, each named in `number_faults`.
    @Test func eachRefusedNumberIsNamedAndNothingAddsIt() async throws {
        let values = ["-1", "18446744073709551616", "1e308", "12.5", "\"12\"", "true", "99999999999999999999", "9007199254740992"]
        let lines = values.enumerated().map { index, value in
            #"{"session_id":"odd-\#(index)","last_updated_at":"2026-12-07T10:00:00Z","events":[{"type":"user_input","content":"hi"},"#
                + #"{"type":"stop","usage":{"total_input_tokens":\#(value),"total_output_tokens":7,"turns":\#(value),"duration_ms":\#(value)}}],"#
                + #""job_metadata":{"total_input_tokens":\#(value),"duration_ms":\#(value)}}"#
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: folder.path("odd.jsonl"), atomically: true, encoding: .utf8)
        let imported = try await ArchiveProcess.run(["import", "--db", db, folder.path("odd.jsonl")])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(try rows("SELECT count(*) FROM sessions WHERE number_faults LIKE '%usage.total_input_tokens%'") == ["\(values.count)"])
        #expect(try rows("SELECT count(*) FROM usage WHERE input_tokens IS NOT NULL OR agent_turns IS NOT NULL") == ["0"])
        #expect(try rows("SELECT sum(output_tokens) FROM sessions") == ["\(7 * values.count)"])
        let faults = try rows("SELECT number_faults FROM sessions ORDER BY session_id")
        #expect(faults[0].contains("-1 is negative") && faults[1].contains("is not a whole number within 64 bits")
                    && faults[4].contains("is a string, not a number") && faults[5].contains("is a boolean"), "\(faults)")
        #expect(faults[7].contains("9007199254740992 is above 2^53-1"), "\(faults)")
        // The largest count kept is 2^53-1 itself.
        let edge = #"{"session_id":"edge","last_updated_at":"2026-12-07T10:00:00Z","events":[{"type":"stop","usage":{"total_input_tokens":9007199254740991}}]}"#
        try edge.write(toFile: folder.path("edge.json"), atomically: true, encoding: .utf8)
        _ = try await ArchiveProcess.run(["import", "--db", db, folder.path("edge.json")])
        #expect(try rows("SELECT input_tokens || ' ' || coalesce(number_faults, '-') FROM sessions WHERE session_id = 'edge'") == ["9007199254740991 -"])
        let check = try await ArchiveProcess.run(["status", "--db", db, "--check"])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
    }

    /// Sums past 2^63, within one session (1,100 runs of 2^53-1) and across
    /// sessions in one quarter hour: every report, the budgets, the dataset,
    /// MCP and `status --check` answer; none raises "integer overflow".
    @Test func sumsPastTwoToThe63StopThereEverywhere() async throws {
        let big = "9007199254740991"
        func session(_ id: String, runs: Int, minute: Int) -> String {
            let run = #"{"type":"user_input","content":"q"},{"type":"tool_call","call_id":"c","name":"t","arguments":{}},"#
                + #"{"type":"tool_result","call_id":"c","result":"ok"},{"type":"stop","usage":{"total_input_tokens":\#(big),"total_output_tokens":\#(big)}}"#
            return #"{"session_id":"\#(id)","last_updated_at":"2026-12-07T10:\#(minute):00Z","events":[\#(Array(repeating: run, count: runs).joined(separator: ","))]}"#
        }
        let lines = [session("huge", runs: 1_100, minute: 10)] + (1...3).map { session("big-\($0)", runs: 400, minute: 11) }
        try (lines.joined(separator: "\n") + "\n").write(toFile: folder.path("big.jsonl"), atomically: true, encoding: .utf8)
        let imported = try await ArchiveProcess.run(["import", "--db", db, folder.path("big.jsonl")])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(try rows("SELECT input_tokens FROM sessions WHERE session_id = 'huge'") == ["\(Int64.max)"])
        #expect(try rows("SELECT number_faults FROM sessions WHERE session_id = 'huge'").first?.contains("input tokens pass 2^63-1") == true)

        let config = try BudgetCommandTests.writeConfig(in: folder)
        let environment = ["XDG_CONFIG_HOME": config]
        var commands: [[String]] = ["day", "week", "month", "project", "session", "index", "source", "project,month"].map {
            ["tokens", "--by", $0, "--format", "json"]
        }
        commands += [["tokens", "--since", "2026-12-07", "--until", "2026-12-08"], ["tools"], ["sessions", "--order", "tokens"],
                     ["report", "--out", folder.path("report.html")], ["budget"], ["export", "--dataset", folder.path("dataset")],
                     ["sql", "SELECT saturating_sum(input_tokens) FROM usage"], ["status", "--check"]]
        for command in commands {
            let result = try await ArchiveProcess.run(command + ["--db", db], environment: environment)
            #expect(result.status == 0 || (command == ["budget"] && result.status == 3), "\(command): \(result.status) \(result.stderr)")
            #expect(!result.stderr.contains("overflow") && !result.stderr.contains("SQL"), "\(command): \(result.stderr)")
        }
        let totals = try JSONParser.parse(try await ArchiveProcess.run(["tokens", "--by", "session", "--format", "json", "--db", db]).stdout)
        #expect(totals["totals"]?["input_tokens"]?.int64Value == Int64.max, "\(totals.serialized)")

        let request = JSONValue.object(["jsonrpc": "2.0", "id": 1, "method": "tools/call",
                                        "params": ["name": "tokens", "arguments": ["by": "day"]]]).serialized
        try (request + "\n").write(toFile: folder.path("mcp-in"), atomically: true, encoding: .utf8)
        let mcp = try await ArchiveProcess.run(["mcp", "--db", db], input: FileHandle(forReadingAtPath: folder.path("mcp-in")))
        let answer = try JSONParser.parse(mcp.stdout.split(separator: "\n").first.map(String.init) ?? "")
        #expect(answer["result"]?["isError"] != .bool(true) && answer["error"] == nil, "\(mcp.stdout)")
    }
}

/// shared/repro/nfc-nfd-rollup (copied to Tests/Repro): NFC and NFD index ids
/// keep rollup groups of their own, and token sums past 2^63 in its
/// sessions leave `status --check` ok (it raised "integer overflow").
@Suite struct NFCNFDRollupReproTests {
    @Test func theReproImportsAndChecks() async throws {
        let folder = try TemporaryDirectory()
        let db = folder.path("r.db")
        let repro = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Repro/nfc-nfd-rollup")
        for file in ["in.jsonl", "in2.jsonl"] {
            let imported = try await ArchiveProcess.run(["import", "--db", db, repro.appendingPathComponent(file).path])
            #expect(imported.status == 0, "\(imported.stderr.prefix(300))")
            let check = try await ArchiveProcess.run(["status", "--check", "--db", db])
            #expect(check.status == 0 && check.stdout.contains("check   ok"), "\(check.stderr.prefix(300))")
        }
    }
}
