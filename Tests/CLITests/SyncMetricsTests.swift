import TestSupport
import ChatSimulator
import Foundation
import Testing

/// `sync --metrics-file` and `[metrics] textfile`: after every sync, good or
/// failed, a file in Prometheus' text exposition format, written whole,
/// readable by a collector of another user; a failed sync shows as failed and
/// leaves the last success time where it was.
@Suite struct SyncMetricsTests {
    let folder: TemporaryDirectory
    let key = "sk-\(UUID().uuidString)"
    var db: String { folder.path("archive.db") }
    var metrics: String { folder.path("node-exporter/archive.prom") }

    init() throws { folder = try TemporaryDirectory() }

    /// The samples of the file, `name{labels}` to value; fails on a line the format does not allow.
    func samples() throws -> [String: String] {
        let text = try String(contentsOfFile: metrics, encoding: .utf8)
        var found: [String: String] = [:]
        var described = Set<String>()
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") {
                described.insert(String(line.split(separator: " ")[2]))
                continue
            }
            let valid = line.range(of: #"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\\n])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\\n])*")*\})? (-?[0-9.e+]+|NaN|[+-]Inf)$"#,
                                   options: .regularExpression) != nil
            #expect(valid, "not a sample line: \(line)")
            let parts = line.split(separator: " ")
            let name = String(parts[0])
            #expect(described.contains(String(name.prefix { $0 != "{" })), "\(name) has no HELP and TYPE before it")
            found[name] = String(parts.last!)
        }
        return found
    }

    @Test func aSyncWritesItsMetricsAndAFailedOneKeepsTheLastSuccess() async throws {
        let service = SimulatedChatService(apiKey: key, seed: 3)
        _ = service.populate(project: "proj-a", count: 6)
        _ = service.populate(project: "proj-b", count: 2)
        _ = service.populate(project: "we\"ird\\pro\nject", count: 1)
        // Two answers of 503 the client tries again: the retries show.
        service.inject(.init(.list, status: 503, times: 2))
        let server = try ChatSimulatorServer.start(service: service)
        let config = folder.path("config/llamacloud-archive")
        try FileManager.default.createDirectory(atPath: config, withIntermediateDirectories: true)
        try """
            [metrics]
            max_projects = 2

            [[rates]]
            input = 3.0
            output = 15.0

            [[budgets]]
            name = "team"
            period = "month"
            limit = 500
            """.write(toFile: config + "/config.toml", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: folder.path("node-exporter"), withIntermediateDirectories: true)
        let env = ["LLAMA_CLOUD_API_KEY": key, "LLAMA_CLOUD_BASE_URL": server.baseURL.absoluteString,
                   "XDG_CONFIG_HOME": folder.path("config")]
        let sync = ["sync", "--db", db, "--metrics-file", metrics, "--project-id", "proj-a", "--project-id", "proj-b",
                    "--project-id", "we\"ird\\pro\nject", "--max-retries", "2"]
        let first = try await ArchiveProcess.run(sync, environment: env)
        #expect(first.status == 0, "\(first.stderr)")
        let good = try samples()
        #expect(good[#"llamacloud_archive_sync_last_run_success{source="default"}"#] == "1")
        #expect(good[#"llamacloud_archive_sync_sessions{source="default",state="new"}"#] == "9")
        #expect(good[#"llamacloud_archive_sync_retries{source="default"}"#] == "2")
        let success = try #require(good[#"llamacloud_archive_sync_last_success_timestamp_seconds{source="default"}"#].flatMap(Double.init))
        #expect(abs(success - Date().timeIntervalSince1970) < 600)
        #expect((good["llamacloud_archive_archive_size_bytes"].flatMap(Int.init) ?? 0) > 0)
        // Three projects, two labels of their own: the costliest two; the third folds into `other`.
        let projects = Set(good.keys.filter { $0.hasPrefix("llamacloud_archive_sessions{") })
        #expect(projects.count == 3 && projects.contains(#"llamacloud_archive_sessions{source="default",project="other"}"#), "\(projects)")
        #expect(good[#"llamacloud_archive_sessions{source="default",project="proj-a"}"#] == "6", "\(projects)")
        #expect(good.keys.contains { $0.hasPrefix("llamacloud_archive_cost_dollars{source=\"default\",project=\"proj-a\"}") })
        #expect(good[#"llamacloud_archive_budget_limit_dollars{budget="team"}"#] == "500")
        #expect(good.keys.contains(#"llamacloud_archive_budget_spend_dollars{budget="team"}"#))
        let mode = try FileManager.default.attributesOfItem(atPath: metrics)[.posixPermissions] as? Int
        #expect(mode == 0o644, "a collector of another user must read it")
        // An odd project's name, escaped as the format wants, when it has a label of its own.
        let wide = try await ArchiveProcess.run(sync, environment: env.merging(["XDG_CONFIG_HOME": "/nonexistent"]) { $1 })
        #expect(wide.status == 0, "\(wide.stderr)")
        let wideSamples = try samples()
        #expect(wideSamples.keys.contains(#"llamacloud_archive_sessions{source="default",project="we\"ird\\pro\nject"}"#))
        let lastGood = try #require(wideSamples[#"llamacloud_archive_sync_last_success_timestamp_seconds{source="default"}"#])
        // The key refused from now on: the run fails whole; the last success stays.
        // (The server stays up: a stopped one's port may be another test's server by then.)
        service.inject(.init(.list, status: 401, times: 1000))
        let failed = try await ArchiveProcess.run(sync, environment: env)
        #expect(failed.status == 1, "\(failed.stderr)")
        let after = try samples()
        #expect(after[#"llamacloud_archive_sync_last_run_success{source="default"}"#] == "0")
        #expect(after[#"llamacloud_archive_sync_failures{source="default",kind="fatal_key"}"#] == "1", "\(after.keys.sorted())")
        // Exactly where the last good sync put it, however slow the machine.
        #expect(after[#"llamacloud_archive_sync_last_success_timestamp_seconds{source="default"}"#] == lastGood,
                "the last success moved on a failed sync")
        server.stop()
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path("node-exporter"))
        #expect(leftovers == ["archive.prom"], "a temporary file was left beside it: \(leftovers)")
    }

    /// A sync that cannot run (the writers' lock held) still says so.
    @Test func aSyncThatCannotRunWritesItsFailure() async throws {
        try FileManager.default.createDirectory(atPath: folder.path("node-exporter"), withIntermediateDirectories: true)
        let env = ["LLAMA_CLOUD_API_KEY": key, "LLAMA_CLOUD_BASE_URL": "http://127.0.0.1:9"]
        let result = try await ArchiveProcess.run(["sync", "--db", db, "--metrics-file", metrics, "--max-retries", "0"], environment: env)
        #expect(result.status == 1)
        let after = try samples()
        #expect(after[#"llamacloud_archive_sync_last_run_success{source="default"}"#] == "0", "\(after)")
        #expect(after.keys.contains { $0.hasPrefix("llamacloud_archive_sync_failures{source=\"default\",kind=\"fatal_") }, "\(after)")
    }
}
