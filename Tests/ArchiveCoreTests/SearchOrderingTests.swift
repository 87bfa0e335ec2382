import TestSupport
import Foundation
import Testing
import LosslessJSON
import SQLiteCore
@_spi(Testing) @testable import ArchiveCore

/// How search orders what it finds, on a labelled set: common words in every
/// session, and a few sessions planted with a rare word (the oldest, one in
/// the middle, the newest). At every size, the words that name the planted
/// sessions find them first (newest first, or by relevance), and the newest
/// matches that `NewestMatches` finds, both ways racing, are the ones a plain
/// SQL query over every match would give.
@Suite struct SearchOrderingTests {
    static let planted: Set<String> = ["planted-old", "planted-mid", "planted-new"]
    static let plantedIDs = ["planted-old", "planted-mid", "planted-new"]

    static func ids(_ table: QueryTable) -> Set<String> {
        Set(table.column("session_id").compactMap { cell -> String? in if case .text(let id) = cell { id } else { nil } })
    }

    static func archive(sessions count: Int) throws -> QueryFixture {
        let fixture = try QueryFixture()
        for index in 0..<count {
            let id = index == 0 ? plantedIDs[0] : index == count / 2 ? plantedIDs[1] : index == count - 1 ? plantedIDs[2] : String(format: "s-%05d", index)
            let isPlanted = planted.contains(id)
            let day = String(format: "2026-%02d-%02dT10:00:00Z", 1 + index % 12, 1 + index % 28)
            let words = isPlanted ? "the zyzzogeton renewal clause of \(id)" : "the renewal clause and the revenue forecast, run \(index)"
            let json = Fixtures.session(id: id, updated: day, events: [
                Fixtures.userInput(words), Fixtures.text("about the renewal clause: it renews"), Fixtures.stop(input: 10, output: 2),
            ])
            try fixture.store.save(Normalizer.normalize(JSONParser.parse(json)), projectID: index % 7 == 0 ? "proj-a" : "proj-b",
                                   organizationID: nil, syncedAt: "x")
        }
        return fixture
    }

    @Test(arguments: [30, 400, 2_500])
    func aRareWordFindsItsSessionsFirstAtEverySize(sessions: Int) throws {
        let fixture = try Self.archive(sessions: sessions)
        let rare = try SearchQuery(text: "zyzzogeton").run(on: fixture.database)
        #expect(Self.ids(rare) == Self.planted)
        // With a common word beside it, only they match; with the common word alone, the page is full and ranked.
        let named = try SearchQuery(text: "renewal zyzzogeton").run(on: fixture.database)
        #expect(Self.ids(named) == Self.planted)
        // A common word alone: a full page, newest first (the planted newest session leads it).
        var common = SearchQuery(text: "renewal")
        common.limit = 10
        let page = try common.run(on: fixture.database)
        #expect(page.rows.count == 10)
        #expect(page.column("session").first == .text("planted-new"), "newest first")
        // By relevance, over every match: a rare word beside a common one ranks its sessions first.
        var mixed = SearchQuery(text: "zyzzogeton OR forecast")
        (mixed.rawFTS, mixed.byRelevance, mixed.limit) = (true, true, 3)
        let ranked = try mixed.run(on: fixture.database)
        #expect(Self.ids(ranked) == Self.planted)
        let ranks = ranked.column("rank").compactMap { cell -> Double? in if case .number(let value) = cell { value } else { nil } }
        #expect(ranks.count == 3 && ranks == ranks.sorted(), "best by bm25 first")
    }

    /// Both ways of `NewestMatches` give exactly the filtered matches, newest
    /// first, as one SQL query over every match would: with no filter, with a
    /// filter that keeps most sessions, few, or none.
    @Test(arguments: [30, 1_200])
    func theNewestMatchesAreThoseOfAPlainQuery(sessions: Int) throws {
        let fixture = try Self.archive(sessions: sessions)
        let filters: [(projects: [String], since: String?, until: String?)] = [
            ([], nil, nil), (["proj-b"], nil, nil), (["proj-a"], nil, nil), (["proj-none"], nil, nil),
            ([], "2026-12-01", nil), (["proj-a"], "2026-03-01", "2026-03-31"),
        ]
        for match in ["\"renewal\"", "\"zyzzogeton\"", "\"forecast\" OR \"zyzzogeton\"", "NEAR(\"renewal\" \"clause\", 2)"] {
            for filter in filters {
                let window = try TimeWindow(since: filter.since, until: filter.until, zone: "UTC")
                var expected: [Int64] = []
                try fixture.database.forEachRow("""
                    SELECT f.rowid FROM search_index f JOIN sessions s ON s.session_key = \(EventKey.sessionSQL("f.rowid"))
                    WHERE search_index MATCH ?1 AND (?2 IS NULL OR s.project_id IN (SELECT value FROM json_each(?2)))
                      AND s.last_updated_at >= ?3 AND s.last_updated_at < ?4
                    ORDER BY f.rowid DESC
                    """, match, TimeWindow.jsonList(filter.projects), window.since ?? "", window.until ?? "9999") { expected.append(try $0.int64(0)) }
                for cut in [1, 5, expected.count + 1] {
                    var found: [Int64] = []
                    try NewestMatches(match: match, projects: filter.projects, sources: [], window: window).find(in: fixture.database) { rowid in
                        found.append(rowid)
                        return found.count < cut
                    }
                    #expect(found == Array(expected.prefix(cut)), "\(match) \(filter) cut \(cut)")
                }
            }
        }
    }
}
