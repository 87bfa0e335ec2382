import TestSupport
import ArchiveCore
import ChatSimulator
import Foundation
import LosslessJSON
import Testing

@Suite struct RewriteTests {
    static func run(_ question: String, input: Int) -> [JSONValue] {
        [["type": "user_input", "content": .string(question)], ["type": "text", "content": "answer"],
         ["type": "stop", "error": nil, "is_error": false,
          "usage": ["duration_ms": 10, "total_input_tokens": .number(JSONNumber(Int64(input))), "total_output_tokens": 5, "turns": 1]]]
    }

    static func session(updated: String, runs: [[JSONValue]]) -> JSONValue {
        ["session_id": "ses-r", "last_updated_at": .string(updated), "events": .array(runs.flatMap { $0 })]
    }

    @Test func aRewriteKeepsTheTimeOfRunsItLeavesUnchanged() async throws {
        let harness = try await SyncHarness()
        let runs = [Self.run("first", input: 100), Self.run("second", input: 200), Self.run("third", input: 300)]
        harness.service.put(Self.session(updated: "2026-09-30T10:00:00Z", runs: runs), project: nil)
        _ = try await harness.sync()
        // October: the first question is edited (a rewrite) and a fourth run is added.
        var edited = runs
        edited[0][0] = ["type": "user_input", "content": "first, edited"]
        harness.service.put(Self.session(updated: "2026-10-02T10:00:00Z", runs: edited + [Self.run("fourth", input: 400)]),
                            project: nil)
        let summary = try await harness.sync()
        #expect(summary.updated == 1)
        #expect(try harness.int("SELECT count(*) FROM session_revisions") == 1)
        #expect(try harness.strings("SELECT input_tokens || '@' || substr(occurred_at, 1, 10) FROM usage ORDER BY seq") == [
            "100@2026-09-30", "200@2026-09-30", "300@2026-09-30", "400@2026-10-02",
        ])
    }
}
