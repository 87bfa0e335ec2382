import ChatSimulator
import Foundation
import LosslessJSON
import SQLiteCore
import Testing
import TestSupport

/// A team's archive: two regions (two simulators with their own keys and
/// overlapping session ids) synced in one run from `[[sources]]`, kept apart
/// in the reports, and a source that fails fails alone.
@Suite struct SourcesTests {
    let folder: TemporaryDirectory
    init() throws { folder = try TemporaryDirectory() }

    /// Two regions: `eu` holds its own sessions and four with ids `na` uses too (other content).
    func regions() throws -> (na: SimulatedChatService, eu: SimulatedChatService, shared: [String]) {
        let na = SimulatedChatService(apiKey: "na-key", seed: 1)
        let naIDs = na.populate(project: nil, count: 12)
        let eu = SimulatedChatService(apiKey: "eu-key", seed: 2)
        eu.populate(project: nil, count: 8)
        let shared = Array(naIDs.prefix(4))
        for id in shared { eu.put(ArchiveMergeTests.later(try #require(na.session(id)), rewritten: true), project: nil) }
        return (na, eu, shared)
    }

    /// A config of the two sources: `na`'s key in a file of `mode`, `eu`'s in the variable EU_KEY.
    func environment(na: ChatSimulatorServer, eu: ChatSimulatorServer, keyMode: Int = 0o600, euKey: String = "eu-key",
                     extra: String = "") throws -> [String: String] {
        let home = folder.path("config")
        try FileManager.default.createDirectory(atPath: home + "/llamacloud-archive", withIntermediateDirectories: true)
        let keyFile = folder.path("na.key")
        try "na-key\n".write(toFile: keyFile, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: keyMode], ofItemAtPath: keyFile)
        try """
            [[sources]]
            name = "na"
            base_url = "\(na.baseURL.absoluteString)"
            api_key_file = "\(keyFile)"

            [[sources]]
            name = "eu"
            base_url = "\(eu.baseURL.absoluteString)"
            api_key_env = "EU_KEY"

            [[rates]]
            input = 1.0
            output = 2.0
            \(extra)
            """.write(toFile: home + "/llamacloud-archive/config.toml", atomically: true, encoding: .utf8)
        return ["XDG_CONFIG_HOME": home, "EU_KEY": euKey]
    }

    func rows(_ db: String, _ sql: String) throws -> [String] {
        var rows: [String] = []
        try Database(path: db, mode: .readOnly).forEachRow(sql) { rows.append(try $0.string(0)) }
        return rows
    }

    func json(_ arguments: [String], _ environment: [String: String]) async throws -> JSONValue {
        let result = try await ArchiveProcess.run(arguments + ["--format", "json"], environment: environment)
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
        return try JSONParser.parse(result.stdout)
    }

    @Test func twoRegionsWithTheSameIDsAreKeptApartInEveryReport() async throws {
        let (na, eu, shared) = try regions()
        let naServer = try ChatSimulatorServer.start(service: na), euServer = try ChatSimulatorServer.start(service: eu)
        let budget = "\n[[budgets]]\nname = \"eu-only\"\nperiod = \"month\"\nlimit = 1000000.0\nsources = [\"eu\"]\n"
        let environment = try environment(na: naServer, eu: euServer, extra: budget)
        // This month's spend: 1M input tokens in eu (1.0), 3M in na (3.0), which the eu budget leaves out.
        eu.put(BudgetCommandTests.session("ses-now", tokens: 1_000_000), project: nil)
        na.put(BudgetCommandTests.session("ses-now", tokens: 3_000_000), project: nil)
        let db = folder.path("team.db")
        let synced = try await ArchiveProcess.run(["sync", "--db", db], environment: environment)
        #expect(synced.status == 0, "\(synced.stderr)")
        #expect(synced.stdout.contains("na: synced: 13 new") && synced.stdout.contains("eu: synced: 13 new"), "\(synced.stdout)")
        #expect(try rows(db, "SELECT count(*) || ' ' || count(DISTINCT session_id) FROM sessions") == ["26 21"])
        #expect(try rows(db, "SELECT name || ' ' || coalesce(base_url, '-') FROM sources ORDER BY source_key")
                == ["default -", "na \(naServer.baseURL.absoluteString)", "eu \(euServer.baseURL.absoluteString)"])

        // Each source's sessions are what its region sent, the shared ids included.
        for id in shared {
            let fromEU = try await ArchiveProcess.run(["show", "--db", db, "eu:\(id)", "--json"], environment: environment)
            #expect(fromEU.status == 0, "\(fromEU.stderr)")
            #expect(try JSONParser.parse(fromEU.stdout) == (try #require(eu.session(id))))
            let fromNA = try await ArchiveProcess.run(["show", "--db", db, "na:\(id)", "--json"], environment: environment)
            #expect(try JSONParser.parse(fromNA.stdout) == (try #require(na.session(id))))
            let ambiguous = try await ArchiveProcess.run(["show", "--db", db, id], environment: environment)
            #expect(ambiguous.status == 1 && ambiguous.stderr.contains("is in several sources") && ambiguous.stderr.contains("eu:\(id)") && ambiguous.stderr.contains("na:\(id)"), "\(ambiguous.stderr)")
        }

        // Tokens by source: each row is its source's runs, as the rows say.
        let bySource = try await json(["tokens", "--db", db, "--by", "source"], environment)
        let expected = try rows(db, """
            SELECT so.name || ' ' || sum(s.input_tokens) || ' ' || sum(s.output_tokens) FROM sessions s JOIN sources so USING (source_key)
            GROUP BY so.name ORDER BY so.name
            """)
        let reported = try #require(bySource["rows"]?.arrayValue).map { row in
            "\(row["source"]?.stringValue ?? "?") \(row["input_tokens"]?.serialized ?? "?") \(row["output_tokens"]?.serialized ?? "?")"
        }.sorted()
        #expect(reported == expected)
        let euOnly = try await json(["tokens", "--db", db, "--by", "month", "--source", "eu"], environment)
        let euInput = try rows(db, "SELECT sum(input_tokens) FROM sessions WHERE source_key = (SELECT source_key FROM sources WHERE name = 'eu')")
        #expect(euOnly["totals"]?["input_tokens"]?.serialized == euInput.first)
        let sessions = try await json(["sessions", "--db", db, "--source", "eu", "--limit", "0"], environment)
        #expect(sessions.arrayValue?.count == 13)
        // `session` as people type it; `session_id` as the API sent it, joinable with `sessions`; `source` beside it.
        #expect(sessions.arrayValue?.allSatisfy { row in
            row["session"]?.stringValue == "eu:" + (row["session_id"]?.stringValue ?? "?") && row["source"] == "eu"
        } == true, "\(sessions)")
        let apiIDs = Set(try rows(db, "SELECT session_id FROM sessions WHERE source_key = (SELECT source_key FROM sources WHERE name = 'eu')"))
        #expect(Set(sessions.arrayValue?.compactMap { $0["session_id"]?.stringValue } ?? []) == apiIDs)
        let budgetStatus = try await ArchiveProcess.run(["budget", "--db", db, "--json"], environment: environment)
        let spend = try #require(try JSONParser.parse(budgetStatus.stdout).arrayValue?.first?["spend"]?.serialized, "\(budgetStatus.stdout)")
        #expect(Double(spend) == 1.0, "\(budgetStatus.stdout)")
        // Search names sessions as show takes them; the shared ids' eu histories ask "and then?".
        let found = try await json(["search", "--db", db, "and then", "--source", "eu"], environment)
        let foundIDs = Set(found.arrayValue?.compactMap { $0["session"]?.stringValue } ?? [])
        #expect(foundIDs == Set(shared.map { "eu:" + $0 }), "\(found)")
        #expect(Set(found.arrayValue?.compactMap { $0["session_id"]?.stringValue } ?? []) == Set(shared), "\(found)")
        let html = try await ArchiveProcess.run(["report", "--db", db, "--out", "-"], environment: environment)
        #expect(html.status == 0 && html.stdout.contains("by source</h2>"), "\(html.stderr)")
        let euReport = try await ArchiveProcess.run(["report", "--db", db, "--out", "-", "--source", "eu"], environment: environment)
        #expect(euReport.stdout.contains("sources: eu") && euReport.stdout.contains("eu:") && !euReport.stdout.contains(">na:"), "\(euReport.stderr)")
        let tools = try await json(["tools", "--db", db, "--source", "eu"], environment)
        let euCalls = try rows(db, """
            SELECT count(*) FROM tool_calls t JOIN sessions s USING (session_key) WHERE s.source_key = (SELECT source_key FROM sources WHERE name = 'eu')
            """)
        #expect(String(tools.arrayValue?.reduce(0) { $0 + Int($1["calls"]?.serialized ?? "0")! } ?? -1) == euCalls.first, "\(tools)")
        let status = try await ArchiveProcess.run(["status", "--db", db, "--check"], environment: environment)
        #expect(status.status == 0 && status.stdout.contains("na 13 from") && status.stdout.contains("eu 13 from"), "\(status.stdout)\(status.stderr)")

        // Forgetting names one source's session; the other region's session of the same id stays, and a sync skips only the forgotten one.
        let both = try await ArchiveProcess.run(["forget", "--db", db, shared[0]], environment: environment)
        #expect(both.status == 1 && both.stderr.contains("is in several sources"), "\(both.stderr)")
        let forgot = try await ArchiveProcess.run(["forget", "--db", db, "eu:\(shared[0])"], environment: environment)
        #expect(forgot.status == 0, "\(forgot.stderr)")
        let identity = "SELECT so.name FROM sessions s JOIN sources so USING (source_key) WHERE s.session_id = '\(shared[0])'"
        #expect(try rows(db, identity) == ["na"])
        let again = try await ArchiveProcess.run(["sync", "--db", db, "--full"], environment: environment)
        #expect(again.stdout.contains("eu: synced: 0 new") && again.stdout.contains("1 forgotten (skipped)"), "\(again.stdout)")
        #expect(try rows(db, identity) == ["na"])
        let undone = try await ArchiveProcess.run(["forget", "--db", db, "--undo", "eu:\(shared[0])"], environment: environment)
        #expect(undone.status == 0, "\(undone.stderr)")
        _ = try await ArchiveProcess.run(["sync", "--db", db, "--source", "eu"], environment: environment)
        #expect(try rows(db, identity + " ORDER BY 1") == ["eu", "na"])
    }

    @Test func aSourceThatFailsFailsAloneAndNoneOfItsSessionsIsMarkedDeleted() async throws {
        let (na, eu, _) = try regions()
        let naServer = try ChatSimulatorServer.start(service: na), euServer = try ChatSimulatorServer.start(service: eu)
        let db = folder.path("team.db")
        let first = try await ArchiveProcess.run(["sync", "--db", db], environment: try environment(na: naServer, eu: euServer))
        #expect(first.status == 0, "\(first.stderr)")

        // eu's key is now wrong; na deleted a session and added one.
        let gone = try #require(na.sessionIDs(project: nil).last)
        na.delete(gone)
        na.populate(project: nil, count: 1)
        let second = try await ArchiveProcess.run(["sync", "--db", db], environment: try environment(na: naServer, eu: euServer, euKey: "wrong"))
        #expect(second.status == 2, "\(second.stdout)\(second.stderr)")
        #expect(second.stdout.contains("na: synced: 1 new, 0 updated, 11 unchanged, 1 deleted"), "\(second.stdout)")
        let failures = second.stderr.split(separator: "\n").filter { $0.hasPrefix("archive: source ") }
        #expect(failures.count == 1 && failures[0].contains("source eu failed") && failures[0].contains("401"), "\(second.stderr)")
        #expect(try rows(db, """
            SELECT so.name || ' ' || count(*) || ' ' || count(s.deleted_at) FROM sessions s JOIN sources so USING (source_key)
            GROUP BY so.name ORDER BY so.name
            """) == ["eu 12 0", "na 13 1"])

        // eu's server answers every listing 503: eu fails alone, and still none of its sessions is marked deleted.
        eu.inject(.init(.list, status: 503, times: 100))
        let storm = try await ArchiveProcess.run(["sync", "--db", db, "--max-retries", "0"], environment: try environment(na: naServer, eu: euServer))
        let stormLines = storm.stderr.split(separator: "\n").filter { $0.hasPrefix("archive: source ") }
        #expect(storm.status == 2 && stormLines.count == 1 && stormLines[0].contains("source eu failed") && stormLines[0].contains("503"),
                "\(storm.stderr)")
        #expect(storm.stdout.contains("na: synced: 0 new, 0 updated, 12 unchanged"), "\(storm.stdout)")
        #expect(try rows(db, "SELECT count(deleted_at) FROM sessions WHERE source_key = (SELECT source_key FROM sources WHERE name = 'eu')") == ["0"])
        let stormJSON = try await ArchiveProcess.run(["sync", "--db", db, "--max-retries", "0", "--json"],
                                                     environment: try environment(na: naServer, eu: euServer))
        let euSummary = try JSONParser.parse(stormJSON.stdout)["sources"]?.arrayValue?.first { $0["source"] == "eu" }
        #expect(stormJSON.status == 2 && euSummary?["message"]?.stringValue?.contains("503") == true, "\(stormJSON.stdout)")
        eu.clearFaults()

        // A key file others can read is refused for its source alone; --source syncs one.
        let loose = try await ArchiveProcess.run(["sync", "--db", db],
                                                 environment: try environment(na: naServer, eu: euServer, keyMode: 0o644))
        #expect(loose.status == 2 && loose.stderr.contains("source na failed") && loose.stderr.contains("readable by others"), "\(loose.stderr)")
        #expect(loose.stdout.contains("eu: synced: 0 new"), "\(loose.stdout)")
        let one = try await ArchiveProcess.run(["sync", "--db", db, "--source", "eu"], environment: try environment(na: naServer, eu: euServer))
        #expect(one.status == 0 && one.stdout.hasPrefix("eu: synced:") && !one.stdout.contains("na:"), "\(one.stdout)\(one.stderr)")
        let unknown = try await ArchiveProcess.run(["sync", "--db", db, "--source", "apac"], environment: try environment(na: naServer, eu: euServer))
        #expect(unknown.status == 64 && unknown.stderr.contains("no source apac"), "\(unknown.stderr)")
        #expect(!second.stderr.contains("na-key") && !second.stdout.contains("eu-key"))
    }

    @Test func archivesOfEachRegionMergedEqualTheArchiveThatSyncedBoth() async throws {
        let (na, eu, _) = try regions()
        let naServer = try ChatSimulatorServer.start(service: na), euServer = try ChatSimulatorServer.start(service: eu)
        let environment = try environment(na: naServer, eu: euServer)
        let here = folder.path("na.db"), there = folder.path("eu.db"), both = folder.path("both.db")
        for (db, sources) in [(here, ["--source", "na"]), (there, ["--source", "eu"]), (both, [])] {
            let result = try await ArchiveProcess.run(["sync", "--db", db] + sources, environment: environment)
            #expect(result.status == 0, "\(result.stderr)")
        }
        let merged = try await ArchiveProcess.run(["import", "--db", here, there], environment: environment)
        #expect(merged.status == 0 && merged.stdout.hasPrefix("merged \(there): 12 new"), "\(merged.stdout)\(merged.stderr)")
        func export(_ db: String) async throws -> [JSONValue] {
            let result = try await ArchiveProcess.run(["export", "--db", db])
            return try result.stdout.split(separator: "\n").map { try JSONParser.parse(String($0)) }
        }
        let mergedExport = try await export(here), bothExport = try await export(both)
        #expect(mergedExport == bothExport && mergedExport.count == 24)
        let identity = "SELECT so.name || ' ' || s.session_id || ' ' || s.input_tokens FROM sessions s JOIN sources so USING (source_key) ORDER BY 1"
        #expect(try rows(here, identity) == (try rows(both, identity)))
        let check = try await ArchiveProcess.run(["status", "--db", here, "--check"])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
    }
}
