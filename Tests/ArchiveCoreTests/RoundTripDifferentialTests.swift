import TestSupport
import Foundation
import Testing
import LosslessJSON
import SQLiteCore
@_spi(Testing) @testable import ArchiveCore

/// Thousands of generated sessions of every shape go in, through the import
/// path and through the sync path, and come back out of export as the same
/// ordered JSON, number literals and duplicate keys included.
@Suite struct RoundTripDifferentialTests {
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return state
        }
        mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
        mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
        mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
    }

    static let numbers = ["0", "-0", "7", "1.10", "-2.5E-3", "1e400", "9007199254740993", "3.14159265358979323846", "123456789012345678901234567890"]
    static let texts = ["", "plain", "tab\tnew\nline", "quote \" and \\ backslash", "\u{0}nul", "é 日本 🚀 👩‍💻", "\u{7}\u{1b}[31m", "/slash/", "  "]

    static func value(_ random: inout Random, depth: Int) -> String {
        switch depth > 3 ? random.below(4) : random.below(7) {
        case 0: return "null"
        case 1: return random.chance(50) ? "true" : "false"
        case 2: return random.pick(numbers)
        case 3: return JSONValue.string(random.pick(texts)).serialized
        case 4: return "[" + (0..<random.below(4)).map { _ in value(&random, depth: depth + 1) }.joined(separator: ",") + "]"
        default:
            let keys = ["a", "b", "a", "type", "content", "", "é"]
            return "{" + (0..<random.below(4)).map { _ in
                JSONValue.string(random.pick(keys)).serialized + ":" + value(&random, depth: depth + 1)
            }.joined(separator: ",") + "}"
        }
    }

    static func event(_ random: inout Random, kind: String?) -> String {
        var members: [String] = []
        if let kind { members.append(#""type":"# + (random.chance(5) ? "7" : JSONValue.string(kind).serialized)) }
        let fields = ["content", "call_id", "name", "arguments", "result", "usage", "is_error", "error", "extra", "content"]
        for field in fields where random.chance(30) {
            let text = random.chance(70)
            members.append(JSONValue.string(field).serialized + ":" + (text ? JSONValue.string(random.pick(texts)).serialized : value(&random, depth: 1)))
        }
        for index in members.indices.reversed() where random.chance(40) { members.swapAt(index, random.below(index + 1)) }
        return "{" + members.joined(separator: ",") + "}"
    }

    static func session(_ random: inout Random, id: Int) -> String {
        var events: [String] = []
        for _ in 0..<random.below(6) {
            events.append(event(&random, kind: "user_input"))
            if random.chance(60) {  // a streamed block, deltas joining it (empty ones too), or not
                let pieces = (0..<random.below(4)).map { _ in random.pick(["", "ab", "é", "🚀 x", "\n"]) }
                let kind = random.pick(["text", "thinking"])
                for piece in pieces {
                    events.append(random.chance(50) ? #"{"type":"\#(kind)_delta","content":\#(JSONValue.string(piece).serialized)}"#
                                                    : #"{"content":\#(JSONValue.string(piece).serialized),"type":"\#(kind)_delta"}"#)
                }
                let block = random.chance(85) ? pieces.joined() : "other"
                events.append(#"{"type":"\#(kind)","content":\#(JSONValue.string(block).serialized)}"#)
            }
            for _ in 0..<random.below(4) {
                events.append(event(&random, kind: random.chance(10) ? nil : random.pick(["tool_call", "tool_result", "stop", "citation", "text"])))
            }
        }
        var members = [
            #""session_id":"ses-\#(id)""#,
            #""last_updated_at":"\#(random.pick(["2026-03-01T10:00:00Z", "2026-03-01T10:00:00.5+05:30", "2026-03-01 10:00:00.123456"]))""#,
        ]
        if random.chance(70) { members.append(#""generated_title":"# + (random.chance(20) ? "null" : JSONValue.string(random.pick(texts)).serialized)) }
        if random.chance(50) { members.append(#""job_metadata":"# + value(&random, depth: 1)) }
        if random.chance(30) { members.append(#""index_ids":["i1","i2"]"#) }
        if random.chance(30) { members.append(#""future_field":"# + value(&random, depth: 1)) }
        switch random.below(10) {
        case 0: break  // no events at all
        case 1: members.append(#""events":null"#)
        default: members.append(#""events":["# + events.joined(separator: ",") + "]")
        }
        if random.chance(10) { members.append(#""future_field":1.50"#) }  // a duplicate key
        for index in members.indices.reversed() where random.chance(50) { members.swapAt(index, random.below(index + 1)) }
        return "{" + members.joined(separator: ",") + "}"
    }

    /// The same JSON, members in order, numbers as written (strings compared by value).
    static func ordered(_ text: String) throws -> String { try JSONParser.parse(text).serialized }

    @Test func exportGivesBackEverySessionAsSent() throws {
        let folder = try TemporaryDirectory()
        var random = Random(state: 0x9E37_79B9_7F4A_7C15)
        let sessions = (0..<3_000).map { Self.session(&random, id: $0) }
        let corpus = folder.path("corpus.jsonl")
        try Data(sessions.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: corpus))

        let imported = try folder.writer(at: folder.path("imported.db"))
        let report = try Importer(store: imported, onFailure: { Issue.record("import: \($0)") }).run(paths: [corpus])
        #expect(report.new == sessions.count)
        let synced = try folder.writer(at: folder.path("synced.db"))
        for text in sessions {
            try synced.save(Normalizer.normalize(body: Array(text.utf8)), projectID: nil, organizationID: nil, syncedAt: "x")
        }
        var mismatches = 0
        for (id, text) in sessions.enumerated() {
            let expected = try Self.ordered(text)
            for store in [imported, synced] {
                let exported = try #require(try store.reader.sessionJSON(sessionID: "ses-\(id)"))
                if try Self.ordered(exported) != expected {
                    mismatches += 1
                    if mismatches <= 3 { Issue.record("ses-\(id):\n sent     \(expected)\n exported \(try Self.ordered(exported))") }
                }
            }
        }
        #expect(mismatches == 0)
        // Storing the same sessions again changes nothing: no rewrite, no revision.
        for text in sessions.prefix(500) {
            let outcome = try synced.save(Normalizer.normalize(body: Array(text.utf8)), projectID: nil, organizationID: nil, syncedAt: "y")
            #expect(outcome == .unchanged)
        }
        #expect(try synced.database.scalar("SELECT count(*) FROM session_revisions", as: Int.self) == 0)
    }
}
