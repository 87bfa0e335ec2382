import TestSupport
import Foundation
import LosslessJSON
import Testing

/// `archive search` as a user meets it: newest first, every match with
/// `--limit 0` (streamed), and `--rank` for relevance.
@Suite struct SearchCommandTests {
    let folder: TemporaryDirectory
    var db: String { folder.path("archive.db") }

    init() async throws {
        folder = try TemporaryDirectory()
        let lines = (1...30).map { index in
            #"{"session_id":"s-\#(String(format: "%02d", index))","last_updated_at":"2026-03-01T10:\#(String(format: "%02d", index)):00Z","events":[{"type":"user_input","content":"question \#(index) about the renewal clause\#(index == 7 ? " zyzzogeton zyzzogeton" : "")"},{"type":"stop","usage":{"total_input_tokens":10,"total_output_tokens":1}}]}"#
        }
        try lines.joined(separator: "\n").write(toFile: folder.path("in.jsonl"), atomically: true, encoding: .utf8)
        #expect(try await ArchiveProcess.run(["import", "--db", db, folder.path("in.jsonl")]).status == 0)
    }

    @Test func newestFirstEveryMatchWithLimitZeroAndRelevanceWhenAsked() async throws {
        let page = try await ArchiveProcess.run(["search", "--db", db, "renewal", "--limit", "3", "--format", "csv"])
        #expect(page.stdout.split(separator: "\r\n").dropFirst().map { $0.split(separator: ",")[0] } == ["s-30", "s-29", "s-28"], "\(page.stdout)")
        let every = try await ArchiveProcess.run(["search", "--db", db, "renewal", "--limit", "0", "--format", "csv"])
        let ids = every.stdout.split(separator: "\r\n").dropFirst().map { String($0.split(separator: ",")[0]) }
        #expect(ids == (1...30).reversed().map { String(format: "s-%02d", $0) }, "\(every.stdout)")
        #expect(!every.stdout.split(separator: "\r\n")[0].contains("rank"))
        let ranked = try await ArchiveProcess.run(["search", "--db", db, "--fts", "zyzzogeton OR renewal", "--rank", "--limit", "2", "--format", "json"])
        let rows = try JSONParser.parse(ranked.stdout).arrayValue ?? []
        #expect(rows.first?["session"] == "s-07" && rows.first?["rank"] != nil, "\(ranked.stdout)")
    }
}
