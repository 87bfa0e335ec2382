import Foundation
import LosslessJSON
import SQLiteCore
import Testing
import TestSupport
@_spi(Testing) @testable import ArchiveCore

/// The generated corpus behind the round-trip test (3,000 sessions of every
/// shape), with index sets and tool names in both Unicode normal forms,
/// imported, changed and imported again, then synced under projects spelled
/// both ways: after each step every report from the rollups equals the same
/// report computed from the rows.
@Suite struct RollupDifferentialAtScaleTests {
    static let indexSets: [JSONValue] = [.null, ["i1"], ["caf\u{E9}"], ["cafe\u{301}"], ["i1", "caf\u{E9}"], ["\u{212A}"], ["K"]]
    static let projects: [String?] = [nil, "p1", "caf\u{E9}", "cafe\u{301}", "\u{FB01}le", "file"]

    /// A generated session, given an index set, a run with tokens, a time, and
    /// (every other one) its `é` spelled as `e` + U+0301 everywhere, tool names included.
    static func session(_ random: inout RoundTripDifferentialTests.Random, id: Int, updated: String) throws -> String {
        var text = RoundTripDifferentialTests.session(&random, id: id)
        if id % 2 == 1 { text = text.replacingOccurrences(of: "\u{E9}", with: "e\u{301}") }
        guard case .object(var object) = try JSONParser.parse(text) else { return text }
        object["index_ids"] = random.pick(indexSets)
        object["last_updated_at"] = .string(updated)
        var events = object["events"]?.arrayValue ?? []
        events.append(["type": "tool_call", "call_id": "extra", "name": random.pick(["search", "s\u{E9}arch", "se\u{301}arch"]), "arguments": [:]])
        events.append(["type": "stop", "is_error": .bool(random.chance(10)),
                       "usage": ["total_input_tokens": .number(JSONNumber(random.below(5_000))), "total_output_tokens": .number(JSONNumber(random.below(500)))]])
        object["events"] = .array(events)
        return JSONValue.object(object).serialized
    }

    func expectReportsAgree(_ store: ArchiveWriter, step: String) throws {
        let problems = try store.reader.keptTotalsProblems()
        #expect(problems.isEmpty, "\(step): \(problems)")
        for zone in ["UTC", "Asia/Kathmandu"] {
            let window = try TimeWindow(since: nil, until: nil, zone: zone)
            for groupings in [[.project], [.index], [.day], [.project, .day], [.index, .project]] as [[TokensReport.Grouping]] {
                let report = TokensReport(groupings: groupings, window: window, pricing: nil)
                _ = try RollupReportAgreementTests.expectSameAsRows(report, store.database, "\(step) \(zone) \(groupings)")
                var filtered = report
                filtered.projects = ["caf\u{E9}"]  // not "cafe\u{301}"
                _ = try RollupReportAgreementTests.expectSameAsRows(filtered, store.database, "\(step) \(zone) \(groupings) caf\u{E9}")
            }
            var tools = ToolsReport(window: window)
            tools.reading = .rows
            let toolsFromRows = try tools.run(on: store.database)
            #expect(!toolsFromRows.rows.isEmpty, "\(step) \(zone) tools")
            for reading in [RollupReading.levels, .quarterHours] {
                tools.reading = reading
                #expect(try tools.run(on: store.database) == toolsFromRows, "\(step) \(zone) tools \(reading)")
            }
        }
    }

    @Test func reportsFromRollupsEqualReportsFromRowsAfterImportChangeReimportAndSync() throws {
        let folder = try TemporaryDirectory()
        let store = try folder.writer(at: folder.path("a.db"))
        var random = RoundTripDifferentialTests.Random(state: 0xD1FF_2026)
        let count = 3_000
        let first = try (0..<count).map { try Self.session(&random, id: $0, updated: "2026-03-01T\(10 + $0 % 12):\($0 % 6)0:00Z") }
        let corpus = folder.path("first.jsonl")
        try Data(first.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: corpus))
        #expect(try Importer(store: store, onFailure: { Issue.record("import: \($0)") }).run(paths: [corpus]).new == count)
        try expectReportsAgree(store, step: "import")

        // A third of the sessions changed (other events, index set and tool names), a day later.
        let changed = try stride(from: 0, to: count, by: 3).map { try Self.session(&random, id: $0, updated: "2026-03-02T09:\($0 % 6)0:00Z") }
        try Data(changed.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: corpus))
        #expect(try Importer(store: store, onFailure: { Issue.record("re-import: \($0)") }).run(paths: [corpus]).updated == changed.count)
        try expectReportsAgree(store, step: "re-import")

        // A sync: every fifth session again, under projects spelled both ways, a week later.
        for id in stride(from: 0, to: count, by: 5) {
            let text = try Self.session(&random, id: id, updated: "2026-03-09T08:\(id % 6)0:00Z")
            try store.save(Normalizer.normalize(body: Array(text.utf8)), projectID: random.pick(Self.projects), organizationID: nil, syncedAt: "x")
        }
        try expectReportsAgree(store, step: "sync")
        let spellings = try store.database.scalar("""
            SELECT count(DISTINCT hex(project_id)) FROM rollup_groups WHERE project_id IN ('caf\u{E9}', 'cafe\u{301}', '\u{FB01}le', 'file')
            """, as: Int.self)
        #expect(spellings == 4)
    }
}
