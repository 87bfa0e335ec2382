import TestSupport
import Foundation
import Testing
import LosslessJSON
import SQLiteCore
@_spi(Testing) @testable import ArchiveCore

/// Schema 18 rewrote the views so that counting them does not read what only
/// fills a column (Datasette counts every page it shows). They must answer
/// row for row as the views they replaced, which are rebuilt here as temporary
/// views from the migrations that defined them.
@Suite struct CountedViewsTests {
    @Test func theRewrittenViewsAnswerAsTheViewsTheyReplaced() throws {
        let folder = try TemporaryDirectory()
        let store = try folder.writer(at: folder.path("archive.db"))
        let events = [
            #"{"type":"user_input","content":"caf\u00e9 tab\tend"}"#,
            #"{"type":"text_delta","delta":"stream"}"#, #"{"type":"text_delta","delta":"ed"}"#,
            #"{"type":"text","content":"streamed"}"#,
            #"{"type":"tool_call","call_id":"c1","name":"f","arguments":{"q":"x","n":3}}"#,
            #"{"type":"tool_result","call_id":"c1","result":"error: no","image_attachment":{"attachment_name":"p.png","source_id":"s1"}}"#,
            #"{"type":"tool_call","call_id":"c2","name":"g","arguments":"plain"}"#,
            #"{"call_id":"c3","arguments":{"untyped":"call"}}"#,
            #"{"call_id":"c3","result":["untyped result"]}"#,
            #"{"usage":{"input_tokens":5}}"#,
            #"{"something":"else"}"#,
            #"{"type":"thinking","content":""}"#,
            #"{"type":"stop","usage":{"input_tokens":10,"output_tokens":2}}"#,
        ]
        for (index, id) in ["first", "second", "third"].enumerated() {
            let json = #"{"session_id":"\#(id)","last_updated_at":"2026-05-0\#(index + 1)T10:00:00Z","events":["#
                + events.dropFirst(index).joined(separator: ",") + "]}"
            try store.save(Normalizer.normalize(JSONParser.parse(json)), projectID: nil, organizationID: nil,
                           syncedAt: "2026-05-01T10:00:00.000000Z")
        }
        let replaced = ["typed_events": 1, "search_source": 2, "tool_calls": 16, "events": 16]
        for (name, version) in replaced.sorted(by: { $0.value < $1.value }) {
            try store.database.execute(Self.temporary(name, from: version))
        }
        for (name, order) in [("typed_events", "event_key"), ("search_source", "event_id"),
                              ("tool_calls", "session_key, call_seq"), ("events", "event_id")] {
            let now = try rows(store.database, "SELECT * FROM \(name) ORDER BY \(order)")
            let before = try rows(store.database, "SELECT * FROM old_\(name) ORDER BY \(order)")
            #expect(now == before, "\(name)")
            #expect(now.count > 3, "\(name)")
            #expect(try rows(store.database, "SELECT count(*) FROM \(name)") == ["\(now.count)"], "\(name)")
        }
    }

    /// The CREATE VIEW of `name` in migration `version`, as a temporary view
    /// `old_name` that reads the other old views.
    static func temporary(_ name: String, from version: Int) throws -> String {
        let sql = try #require(EmbeddedMigrations.all.first { $0.version == version }).sql
        let start = try #require(sql.range(of: "CREATE VIEW \(name)"))
        let end = sql.range(of: ";\n", range: start.upperBound..<sql.endIndex)?.lowerBound ?? sql.index(before: sql.endIndex)
        var view = String(sql[start.lowerBound..<end])
        view = view.replacingOccurrences(of: "CREATE VIEW \(name)", with: "CREATE TEMP VIEW old_\(name)")
        return view.replacingOccurrences(of: "FROM typed_events", with: "FROM old_typed_events")
    }

    func rows(_ database: Database, _ sql: String) throws -> [String] {
        var out: [String] = []
        try database.prepare(sql).forEachRow { row in
            out.append(try (0..<row.count).map { try row.isNull($0) ? "∅" : row.string($0) }.joined(separator: "|"))
        }
        return out
    }
}
