import TestSupport
import Foundation
import Testing
import LosslessJSON
import SQLiteCore
@_spi(Testing) @testable import ArchiveCore

@Suite struct ArchiveStoreTests {
    let folder: TemporaryDirectory
    let store: ArchiveWriter

    init() throws {
        folder = try TemporaryDirectory()
        store = try folder.writer(at: folder.path("nested/dir/archive.db"))
    }

    @discardableResult
    func save(_ json: String, project: String? = "proj-1", at now: String = "2026-05-01T00:00:00.000000Z") throws -> ArchiveWriter.SaveOutcome {
        try store.save(Normalizer.normalize(JSONParser.parse(json)), projectID: project, organizationID: nil, syncedAt: now)
    }

    func strings(_ sql: String, _ values: any SQLBindable...) throws -> [String] {
        var out: [String] = []
        let statement = try store.database.prepare(sql)
        try statement.bind(values)
        try statement.forEachRow { row in
            out.append(try (0..<row.count).map { try row.isNull($0) ? "∅" : row.string($0) }.joined(separator: "|"))
        }
        return out
    }

    @Test func newArchiveIsPrivateAndAtTheLatestSchema() throws {
        let attributes = try FileManager.default.attributesOfItem(atPath: folder.path("nested/dir/archive.db"))
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let dir = try FileManager.default.attributesOfItem(atPath: folder.path("nested/dir"))
        #expect((dir[.posixPermissions] as? Int) == 0o700)
        #expect(try store.reader.appliedSchemaVersion() == ArchiveSchema.version)
        #expect(ArchiveSchema.version >= 1)
        #expect(try store.database.scalar("PRAGMA page_size", as: Int.self) == ArchiveSchema.pageSize)
        #expect(try Self.searchIndexMerges(store.database) == ["automerge|64", "crisismerge|128"])
    }

    static func searchIndexMerges(_ database: Database) throws -> [String] {
        var settings: [String] = []
        try database.forEachRow("SELECT k, v FROM search_index_config WHERE k IN ('automerge', 'crisismerge') ORDER BY k") {
            settings.append("\(try $0.string(0))|\(try $0.string(1))")
        }
        return settings
    }

    /// An archive written by version 1 of the schema comes out of the later
    /// migrations with the same rows: migration 2 re-made the search index from
    /// leaf text, migration 3 re-keyed usage and tool call links.
    @Test func aVersion1ArchiveIsMigratedWithNothingLost() throws {
        let path = folder.path("v1.db")
        do {
            let database = try Database(path: path)
            try Migrator([EmbeddedMigrations.all[0]]).migrate(database) { "2026-05-01T00:00:00.000000Z" }
            try database.execute("INSERT INTO sessions(session_key, session_id, last_updated_at, meta, first_synced_at, last_synced_at) VALUES (1, 'old', '2026-05-01T00:00:00.000000Z', '{}', '', '')")
            try database.execute("INSERT INTO event_types(type_id, type) VALUES (1, 'tool_call')")
            try database.execute(#"INSERT INTO event_rows(event_key, turn, type_id, call_id, payload) VALUES (16777216, 0, 1, 'c', '{"arguments":{"query":"renewal","top_k":150}}')"#)
            try database.execute("INSERT INTO search_index(rowid, body) SELECT event_id, body FROM search_source")
            #expect(try database.scalar("SELECT count(*) FROM search_index WHERE search_index MATCH 'query'", as: Int.self) == 1)
            try database.execute("""
                INSERT INTO usage(session_id, session_key, turn, seq, input_tokens, output_tokens, duration_ms, agent_turns,
                  is_error, error, occurred_at) VALUES ('old', 1, 0, 1, 10, NULL, 1.5, 2, 1, 'boom', '2026-05-01T00:00:00.000000Z')
                """)
            try database.execute("INSERT INTO tool_call_links(session_id, call_seq, result_seq, error_result) VALUES ('old', 0, NULL, 0)")
        }
        // A read-only command on it is the first to notice; it brings the schema up to date first.
        let migrated = try ArchiveReader(path: path)
        #expect(try migrated.appliedSchemaVersion() == ArchiveSchema.version)
        #expect(try migrated.database.first("SELECT * FROM usage") { row in try (0..<row.count).map { try row.isNull($0) ? "∅" : row.string($0) } }
                == ["old", "1", "0", "1", "10", "∅", "1.5", "2", "1", "boom", "2026-05-01T00:00:00.000000Z"])
        #expect(try migrated.database.first("SELECT * FROM tool_call_links") { row in try (0..<row.count).map { try row.isNull($0) ? "∅" : row.string($0) } }
                == ["old", "0", "∅", "0"])
        #expect(try migrated.database.first("SELECT session_id, call_id, arguments, call_seq FROM tool_calls") {
            row in try (0..<row.count).map { try row.string($0) } } == ["old", "c", #"{"query":"renewal","top_k":150}"#, "0"])
        #expect(try migrated.database.scalar("SELECT body FROM search_source", as: String.self) == "renewal 150")
        try folder.writer(at: path).database.execute("INSERT INTO search_index(search_index) VALUES ('integrity-check')")
        #expect(try migrated.database.scalar("SELECT count(*) FROM search_index WHERE search_index MATCH 'query'", as: Int.self) == 0)
        #expect(try migrated.database.scalar("SELECT count(*) FROM search_index WHERE search_index MATCH 'renewal 150'", as: Int.self) == 1)
        #expect(try Self.searchIndexMerges(migrated.database) == ["automerge|64", "crisismerge|128"])
    }

    /// A source's page size is its server's: kept while it syncs from the same
    /// base URL, found afresh once it moves to another.
    @Test func aSourceRemembersItsPageSizeUntilItMovesToAnotherServer() throws {
        let eu = try store.source(named: "eu", baseURL: "https://a.example", organizationID: "org")
        let again = try store.source(named: "eu")
        #expect(eu != .default && again == eu)
        #expect(try store.reader.acceptedPageSize(source: eu) == nil)
        try store.rememberAcceptedPageSize(250, source: eu)
        #expect(try store.reader.acceptedPageSize(source: store.source(named: "eu", baseURL: "https://a.example")) == 250)
        #expect(try store.reader.acceptedPageSize(source: .default) == nil)
        _ = try store.source(named: "eu", baseURL: "https://b.example")
        #expect(try store.reader.acceptedPageSize(source: eu) == nil)
        #expect(try store.reader.sources().map(\.name) == ["default", "eu"])
        #expect(try store.reader.sources().last?.baseURL == "https://b.example" && store.reader.sources().last?.organizationID == "org")
    }

    @Test func embeddedMigrationsEqualTheFilesInMigrations() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let folder = root.appendingPathComponent("Migrations")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sql") }.sorted()
        #expect(files.count == EmbeddedMigrations.all.count)
        for (file, migration) in zip(files, EmbeddedMigrations.all) {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            #expect(file == String(format: "%04d_%@.sql", migration.version, migration.name))
            #expect(text == migration.sql + "\n", "Migrations/\(file) differs from the embedded copy: run scripts/embed-migrations")
        }
    }

    @Test func richSessionIsNormalisedIntoEveryTable() throws {
        #expect(try save(Fixtures.richSession) == .new)
        #expect(try strings("SELECT project_id, title, last_updated_at, shared_access, index_ids, job_input_tokens, job_output_tokens, job_turns, job_is_error, event_count, unknown_fields FROM sessions")
                == [#"proj-1|Q3 renewal clause?|2026-04-22T12:34:41.342245Z|read_only|["idx-a","idx-b"]|300|40|2|0|15|{"future_field":{"n":9007199254740993}}"#])
        #expect(try strings("SELECT seq, turn, coalesce(type,'∅'), kind FROM events ORDER BY seq") == [
            "0|0|user_input|user_input", "1|0|thinking_delta|thinking_delta", "2|0|thinking|thinking",
            "3|0|tool_call|tool_call", "4|0|tool_result|tool_result", "5|0|tool_call|tool_call",
            "6|0|text_delta|text_delta", "7|0|text|text", "8|0|citation|citation", "9|0|stop|stop",
            "10|1|user_input|user_input", "11|1|∅|tool_call", "12|1|∅|tool_result", "13|1|∅|untyped", "14|1|∅|stop",
        ])
        #expect(try strings("SELECT payload FROM events WHERE seq IN (1, 8, 9) ORDER BY seq") == [
            "∅", #"{"ref":"src-9"}"#,
            #"{"error":null,"is_error":false,"usage":{"duration_ms":800,"total_input_tokens":100,"total_output_tokens":20,"turns":1},"skipped_index_ids":["idx-b"]}"#,
        ])
        #expect(try store.database.scalar("SELECT content FROM events WHERE seq = 7", as: String.self) == "It auto-renews 👩‍👩‍👧 yearly\u{0}.")
        #expect(try strings("SELECT call_id, turn, name, arguments, result, call_seq, result_seq, image_attachment_name, image_source_id FROM tool_calls ORDER BY call_seq") == [
            #"c1|0|search|{"query":"renewal clause","top_k":5,"filters":{"year":[2026],"exact":true,"x":null}}|[{"text":"The renewal clause auto-renews.","score":0.91}]|3|4|page-3.png|src-9"#,
            "c2|0|lookup|{}|∅|5|∅|∅|∅",
            #"c3|1|search|{"query":"termination"}|"no match"|11|12|∅|∅"#,
        ])
        #expect(try strings("SELECT turn, seq, coalesce(input_tokens,'∅'), coalesce(output_tokens,'∅'), duration_ms, agent_turns, is_error, coalesce(error,'∅'), occurred_at FROM usage ORDER BY seq") == [
            "0|9|100|20|800.0|1|0|∅|2026-04-22T12:34:41.342245Z",
            "1|14|∅|∅|400.0|1|1|model overloaded|2026-04-22T12:34:41.342245Z",
        ])
    }

    @Test func exportGivesBackExactlyWhatWasSaved() throws {
        try save(Fixtures.richSession)
        let exported = try #require(try store.reader.sessionJSON(sessionID: "ses-rich"))
        #expect(try JSONParser.parse(exported) == JSONParser.parse(Fixtures.richSession))
        #expect(exported.contains("9007199254740993"))
        #expect(try store.reader.sessionJSON(sessionID: "nope") == nil)
    }

    @Test func appendedHistoryInsertsOnlyTheNewEvents() throws {
        let first = Fixtures.session(id: "s1", updated: "2026-05-01T10:00:00Z",
                                     events: [Fixtures.userInput("hello"), Fixtures.text("hi"), Fixtures.stop(input: 10, output: 2)])
        try save(first)
        let ids = try strings("SELECT event_id FROM events ORDER BY seq")
        let second = Fixtures.session(id: "s1", updated: "2026-05-02T10:00:00+02:00",
                                      events: [Fixtures.userInput("hello"), Fixtures.text("hi"), Fixtures.stop(input: 10, output: 2),
                                               Fixtures.userInput("again"), Fixtures.text("sure"), Fixtures.stop(input: 5, output: 1)])
        #expect(try save(second) == .appended(events: 3))
        #expect(try Array(strings("SELECT event_id FROM events ORDER BY seq").prefix(3)) == ids)
        #expect(try strings("SELECT seq, turn, occurred_at FROM usage ORDER BY seq") == [
            "2|0|2026-05-01T10:00:00.000000Z", "5|1|2026-05-02T08:00:00.000000Z",
        ])
        #expect(try strings("SELECT count(*) FROM session_revisions") == ["0"])
        #expect(try save(second) == .unchanged)
    }

    @Test func rewrittenHistoryKeepsThePreviousOneAsARevision() throws {
        let first = Fixtures.session(id: "s1", updated: "2026-05-01T10:00:00Z",
                                     events: [Fixtures.userInput("hello"), Fixtures.text("first answer about zebras"), Fixtures.stop(input: 10, output: 2)])
        try save(first)
        let rewritten = Fixtures.session(id: "s1", updated: "2026-05-03T10:00:00Z",
                                         events: [Fixtures.userInput("hello"), Fixtures.text("second answer about lions")])
        #expect(try save(rewritten, at: "2026-05-03T11:00:00.000000Z") == .rewritten(revision: 1))
        let revision = try #require(try store.database.scalar("SELECT payload FROM session_revisions WHERE session_id = 's1' AND revision = 1", as: String.self))
        #expect(try JSONParser.parse(revision) == JSONParser.parse(first))
        #expect(try JSONParser.parse(#require(try store.reader.sessionJSON(sessionID: "s1"))) == JSONParser.parse(rewritten))
        #expect(try strings("SELECT count(*) FROM usage") == ["0"])
        #expect(try strings("SELECT count(*) FROM search_index WHERE search_index MATCH 'zebras'") == ["0"])
        #expect(try strings("SELECT count(*) FROM search_index WHERE search_index MATCH 'lions'") == ["1"])
        try store.database.execute("INSERT INTO search_index(search_index) VALUES ('integrity-check')")
    }

    @Test func searchIndexCoversInputsFinalTextAndToolData() throws {
        try save(Fixtures.richSession)
        #expect(try strings("SELECT e.seq FROM search_index JOIN events e ON e.event_id = search_index.rowid WHERE search_index MATCH 'renewal' ORDER BY e.seq")
                == ["0", "3", "4", "7"])  // porter stemming: "auto-renews" matches "renewal"
        #expect(try strings("SELECT count(*) FROM search_index WHERE search_index MATCH 'auto'") == ["2"])  // not the text_delta
        #expect(try strings("SELECT count(*) FROM search_index WHERE search_index MATCH 'termination'") == ["2"])
        try store.database.execute("INSERT INTO search_index(search_index) VALUES ('integrity-check')")
    }

    /// The writer indexes the text it computes; FTS5 deletes and checks with the
    /// text the view computes. Any difference would corrupt the index silently.
    @Test func writerSearchTextIsWhatTheViewGivesBack() throws {
        let events = [
            #"{"type":"user_input","content":"caf\u00e9 \ud83d\ude00 tab\tend"}"#,
            #"{"type":"user_input","content":42}"#,
            #"{"type":"tool_call","call_id":"c1","name":"f","arguments":"plain \"quoted\" string"}"#,
            #"{"type":"tool_call","call_id":"c2","name":"f","arguments":{"q":"caf\u00e9","n":9007199254740993,"big":1e400,"r":1.50,"neg":-0,"z":null,"t":true,"a":["x",{"y":"\u2028"}]}}"#,
            #"{"type":"tool_call","call_id":"c3","name":"f","arguments":1.50}"#,
            #"{"type":"tool_call","call_id":"c4","name":"f","arguments":true}"#,
            #"{"type":"tool_call","call_id":"c5","name":"f","arguments":null}"#,
            #"{"type":"tool_call","call_id":"c6","name":"f"}"#,
            #"{"type":"tool_result","call_id":"c1","result":"error: \u00e9"}"#,
            #"{"type":"tool_result","call_id":"c2","result":{"rows":[1,2.0,"three"],"dup":1,"dup":2}}"#,
            #"{"type":"tool_result","call_id":"c3","result":null}"#,
            #"{"type":"tool_result","call_id":"c4"}"#,
            #"{"call_id":"c5","arguments":{"untyped":"call"}}"#,
            #"{"call_id":"c5","result":["untyped result"]}"#,
            #"{"type":"thinking","content":""}"#,
            #"{"type":"text_delta","delta":"not indexed"}"#,
            #"{"type":"text","content":"done"}"#,
        ]
        let json = #"{"session_id":"edge","last_updated_at":"2026-05-01T10:00:00Z","events":["# + events.joined(separator: ",") + "]}"
        let session = try Normalizer.normalize(JSONParser.parse(json))
        try store.save(session, projectID: nil, organizationID: nil, syncedAt: "2026-05-01T10:00:00.000000Z")
        var written: [String] = []
        for event in session.events {
            guard case .indexed(let text) = event.search else { continue }
            written.append("\(event.seq)|\(text ?? "∅")")
        }
        #expect(written.count == 16)
        #expect(try strings("SELECT event_id & 16777215, body FROM search_source ORDER BY event_id") == written)
        try store.database.execute("INSERT INTO search_index(search_index) VALUES ('integrity-check')")
        // A rewritten history deletes these entries through the view, then the index must still check out.
        try save(Fixtures.session(id: "edge", updated: "2026-05-02T10:00:00Z", events: [Fixtures.userInput("fresh start")]))
        try store.database.execute("INSERT INTO search_index(search_index) VALUES ('integrity-check')")
        #expect(try strings("SELECT count(*) FROM search_index WHERE search_index MATCH 'untyped OR quoted OR three OR café'") == ["0"])
        #expect(try strings("SELECT count(*) FROM search_index WHERE search_index MATCH 'fresh'") == ["1"])
    }

    @Test func deletedSessionsKeepTheirDataAndComeBack() throws {
        try save(Fixtures.session(id: "a", updated: "2026-05-01T10:00:00Z", events: [Fixtures.userInput("x")]))
        try save(Fixtures.session(id: "b", updated: "2026-05-01T10:00:00Z", events: [Fixtures.userInput("y")]))
        try save(Fixtures.session(id: "c", updated: "2026-05-01T10:00:00Z", events: []), project: "other")
        #expect(try store.markMissingDeleted(projectID: "proj-1", listed: ["a"], at: "2026-05-02T00:00:00.000000Z") == 1)
        #expect(try strings("SELECT session_id, coalesce(deleted_at, '∅') FROM sessions ORDER BY session_id") ==
                ["a|∅", "b|2026-05-02T00:00:00.000000Z", "c|∅"])
        #expect(try strings("SELECT count(*) FROM events WHERE session_id = 'b'") == ["1"])
        #expect(try save(Fixtures.session(id: "b", updated: "2026-05-01T10:00:00Z", events: [Fixtures.userInput("y")])) == .metadataChanged)
        #expect(try strings("SELECT coalesce(deleted_at, '∅') FROM sessions WHERE session_id = 'b'") == ["∅"])
        #expect(try store.markDeleted(sessionID: "c", at: "2026-05-03T00:00:00.000000Z"))
        #expect(try !store.markDeleted(sessionID: "c", at: "2026-05-04T00:00:00.000000Z"))
    }

    @Test func importingWithoutProjectKeepsTheSyncedProject() throws {
        try save(Fixtures.session(id: "a", updated: "2026-05-01T10:00:00Z", events: []))
        try save(Fixtures.session(id: "a", updated: "2026-05-02T10:00:00Z", events: []), project: nil)
        #expect(try strings("SELECT project_id FROM sessions") == ["proj-1"])
    }

    @Test func invalidSessionsAreRefusedNamingTheSession() throws {
        #expect(throws: NormalizationError(sessionID: "x", reason: "unreadable last_updated_at \"yesterday\"")) {
            try Normalizer.normalize(JSONParser.parse(#"{"session_id":"x","last_updated_at":"yesterday","events":[]}"#))
        }
        #expect(throws: NormalizationError(sessionID: nil, reason: "missing session_id")) {
            try Normalizer.normalize(JSONParser.parse(#"{"last_updated_at":"2026-01-01T00:00:00","events":[]}"#))
        }
        #expect(throws: NormalizationError(sessionID: "x", reason: "event 1 is not a JSON object")) {
            try Normalizer.normalize(JSONParser.parse(#"{"session_id":"x","last_updated_at":"2026-01-01T00:00:00","events":[{},3]}"#))
        }
    }

    @Test func refusesAnArchiveWithANewerSchema() throws {
        try store.database.execute("INSERT INTO schema_migrations(version, name, applied_at) VALUES (999, 'future', 'x')")
        let error = #expect(throws: ArchiveError.self) { try folder.writer(at: store.path) }
        #expect(error?.description.contains("newer than this binary knows") == true)
        #expect(error?.description.contains(store.path) == true)
    }

    @Test func deltasAreStoredOnceAsSlicesOfTheirBlock() throws {
        let delta = { (text: String) in #"{"type":"text_delta","content":"\#(text)"}"# }
        let deltas = [delta("Hé"), delta("llo 👩‍👩‍👧 wo"), delta("rld\\u0000!")]
        let json = Fixtures.session(id: "d", updated: "2026-05-01T10:00:00Z",
                                    events: [Fixtures.userInput("q")] + deltas + [Fixtures.text("Héllo 👩‍👩‍👧 world\\u0000!"),
                                             Fixtures.userInput("again"), delta("no block follows")])
        try save(json)
        #expect(try strings("SELECT event_key & 16777215, coalesce(content, '∅'), coalesce(content_ref, '∅') FROM event_rows WHERE content_ref IS NOT NULL ORDER BY event_key").count == 3)
        #expect(try strings("SELECT content FROM events WHERE session_id = 'd' AND kind = 'text_delta' ORDER BY seq")
                == ["Hé", "llo 👩‍👩‍👧 wo", "rld\u{0}!", "no block follows"])
        #expect(try JSONParser.parse(#require(try store.reader.sessionJSON(sessionID: "d"))) == JSONParser.parse(json))
        // The block changes while the deltas stay: the kept deltas get their text back.
        let rewritten = Fixtures.session(id: "d", updated: "2026-05-02T10:00:00Z",
                                         events: [Fixtures.userInput("q")] + deltas + [Fixtures.text("something else")])
        #expect(try save(rewritten) == .rewritten(revision: 1))
        #expect(try strings("SELECT count(*) FROM event_rows WHERE content_ref IS NOT NULL") == ["0"])
        #expect(try JSONParser.parse(#require(try store.reader.sessionJSON(sessionID: "d"))) == JSONParser.parse(rewritten))
        let revision = try #require(try store.database.scalar("SELECT payload FROM session_revisions", as: String.self))
        #expect(try JSONParser.parse(revision) == JSONParser.parse(json))
    }

    @Test func deltasThatDoNotSpellTheirBlockKeepTheirText() throws {
        let json = Fixtures.session(id: "m", updated: "2026-05-01T10:00:00Z", events: [
            Fixtures.userInput("q"), #"{"type":"text_delta","content":"abc"}"#, Fixtures.text("abx"),
            #"{"type":"thinking_delta","content":"th"}"#, #"{"type":"thinking_delta","content":"ink"}"#,
            #"{"type":"thinking","content":"think"}"#,
        ])
        try save(json)
        #expect(try strings("SELECT event_key & 16777215 FROM event_rows WHERE content_ref IS NOT NULL ORDER BY event_key") == ["3", "4"])
        #expect(try JSONParser.parse(#require(try store.reader.sessionJSON(sessionID: "m"))) == JSONParser.parse(json))
    }
}
