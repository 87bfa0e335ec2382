import ChatSimulator
import Foundation
import LosslessJSON
import Testing
import TestSupport

/// `[[budgets]]` after real syncs from the loopback simulator: a threshold
/// reached is one line on standard error and one run of `notify_command`
/// per period, `--fail-on-budget` exits 3, `archive budget` shows them.
@Suite struct BudgetCommandTests {
    let folder: TemporaryDirectory
    let key = "budget-key"
    var db: String { folder.path("archive.db") }
    init() throws { folder = try TemporaryDirectory() }

    /// A session of one run of `tokens` input tokens, updated now.
    static func session(_ id: String, tokens: Int) -> JSONValue {
        var parts = tm()
        var seconds = time(nil)
        gmtime_r(&seconds, &parts)
        let now = String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                         Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
        return try! JSONParser.parse(#"""
            {"session_id":"\#(id)","last_updated_at":"\#(now)","events":[{"type":"user_input","content":"q"},
             {"type":"stop","usage":{"total_input_tokens":\#(tokens),"total_output_tokens":0}}]}
            """#)
    }

    /// Writes `XDG_CONFIG_HOME`'s config: a rate of 1 a million tokens and a
    /// monthly budget "team" of 2.0, with `team` lines added to that budget
    /// and `after` appended; returns the folder.
    static func writeConfig(in folder: TemporaryDirectory, thresholds: String = "[0.5]", team: String = "", after: String = "",
                            before: String = "") throws -> String {
        let home = folder.path("config")
        try FileManager.default.createDirectory(atPath: home + "/llamacloud-archive", withIntermediateDirectories: true)
        try """
            \(before)
            [[rates]]
            input = 1.0
            output = 1.0

            [[budgets]]
            name = "team"
            period = "month"
            limit = 2.0
            thresholds = \(thresholds)
            \(team)
            \(after)
            """.write(toFile: home + "/llamacloud-archive/config.toml", atomically: true, encoding: .utf8)
        return home
    }

    func environment(server: ChatSimulatorServer, notified: String) throws -> [String: String] {
        let home = try Self.writeConfig(in: folder, thresholds: "[0.5, 1.0]", team: "notify_command = \"cat >> '\(notified)'\"", after: """
            [[budgets]]
            name = "unheard"
            period = "month"
            limit = 100.0
            thresholds = [0.01]
            notify_command = "cat > /dev/null; exit 7"
            """, before: #"tz = "Asia/Kathmandu""#)
        return ["XDG_CONFIG_HOME": home, "LLAMA_CLOUD_API_KEY": key, "LLAMA_CLOUD_BASE_URL": server.baseURL.absoluteString]
    }

    func budgetLines(_ stderr: String) -> [Substring] { stderr.split(separator: "\n").filter { $0.hasPrefix("archive: budget ") } }

    @Test func thresholdsAlertOncePerPeriodAcrossSyncsAndANotifyFailureIsTriedAgain() async throws {
        let service = SimulatedChatService(apiKey: key, seed: 9)
        service.put(Self.session("ses-a", tokens: 1_200_000), project: nil)
        let server = try ChatSimulatorServer.start(service: service)
        let notified = folder.path("notified.jsonl")
        let env = try environment(server: server, notified: notified)

        let first = try await ArchiveProcess.run(["sync", "--db", db], environment: env)
        #expect(first.status == 0, "\(first.stderr)")
        let lines = budgetLines(first.stderr)
        #expect(lines.count == 3, "\(first.stderr)")  // team reached 50%; unheard reached 1%, its command failed
        #expect(lines.contains { $0.hasPrefix("archive: budget team: 1.20 of 2.00 (60%) this month from ") && $0.hasSuffix("reached 50%") },
                "\(first.stderr)")
        #expect(lines.contains { $0.contains("unheard: notify_command exited with status 7; the next sync tries again") })
        var sent = try String(contentsOfFile: notified, encoding: .utf8).split(separator: "\n")
        #expect(sent.count == 1)
        let status = try JSONParser.parse(String(sent[0]))
        #expect(status["budget"]?.stringValue == "team" && status["thresholds_reached"] == [0.5] && status["limit"] == 2)

        // Nothing new: team is quiet; unheard, never delivered, tries again.
        let second = try await ArchiveProcess.run(["sync", "--db", db], environment: env)
        #expect(second.status == 0)
        #expect(budgetLines(second.stderr).count == 2 && !budgetLines(second.stderr).contains { $0.contains("team") }, "\(second.stderr)")

        // More spend: the next threshold, once; and over the limit.
        service.put(Self.session("ses-b", tokens: 1_000_000), project: nil)
        let third = try await ArchiveProcess.run(["sync", "--db", db, "--fail-on-budget"], environment: env)
        #expect(third.status == 3, "\(third.stderr)")
        #expect(budgetLines(third.stderr).contains { $0.hasPrefix("archive: budget team: 2.20 of 2.00 (110%)") && $0.hasSuffix("reached 100%") })
        #expect(third.stderr.contains("archive: budget team is over its limit"))
        sent = try String(contentsOfFile: notified, encoding: .utf8).split(separator: "\n")
        #expect(sent.count == 2)
        let fourth = try await ArchiveProcess.run(["sync", "--db", db], environment: env)
        #expect(fourth.status == 0 && !budgetLines(fourth.stderr).contains { $0.contains("team") })

        let shown = try await ArchiveProcess.run(["budget", "--db", db, "--json"], environment: env)
        #expect(shown.status == 0, "\(shown.stderr)")
        let budgets = try JSONParser.parse(shown.stdout).arrayValue ?? []
        #expect(budgets.count == 2 && budgets[0]["budget"]?.stringValue == "team")
        #expect(budgets[0]["spend"]?.doubleValue.map { abs($0 - 2.2) < 1e-9 } == true)
        #expect((budgets[0]["forecast"]?.doubleValue ?? 0) >= 2.2)
        let text = try await ArchiveProcess.run(["budget", "--db", db, "--fail-on-budget"], environment: env)
        #expect(text.status == 3 && text.stdout.hasPrefix("team: 2.20 of 2.00 (110%) this month from "), "\(text.stdout)")
        let none = try await ArchiveProcess.run(["budget", "--db", db])
        #expect(none.status == 64 && none.stderr.contains("no [[budgets]] in"), "\(none.stderr)")
    }

    /// A `notify_command` that never returns: it holds no lock while it
    /// waits (the next cron sync runs as usual), it and its children are
    /// killed at `notify_timeout_seconds`, the sync still exits 0, and the
    /// alert it did not deliver is tried again at the next sync.
    @Test func aNotifierThatNeverReturnsStopsNothing() async throws {
        let service = SimulatedChatService(apiKey: key, seed: 10)
        service.put(Self.session("ses-a", tokens: 1_200_000), project: nil)
        let server = try ChatSimulatorServer.start(service: service)
        let started = folder.path("started"), pids = folder.path("pids"), delivered = folder.path("delivered")
        func configure(_ command: String) throws -> String {
            try Self.writeConfig(in: folder, team: "notify_command = \"\(command)\"\nnotify_timeout_seconds = 4")
        }
        // The shell and a child of its own, both of which would sleep for two minutes.
        let home = try configure("echo $$ >> '\(pids)'; sleep 120 & echo $! >> '\(pids)'; touch '\(started)'; wait")
        let env = ["XDG_CONFIG_HOME": home, "LLAMA_CLOUD_API_KEY": key, "LLAMA_CLOUD_BASE_URL": server.baseURL.absoluteString]

        let hanging = try ArchiveProcess.start(["sync", "--db", db], environment: env)
        while !FileManager.default.fileExists(atPath: started) && hanging.process.isRunning { try await Task.sleep(nanoseconds: 10_000_000) }
        #expect(FileManager.default.fileExists(atPath: started), "the notifier never ran")
        // While it waits on its notifier, the next cron sync runs (it used to exit 75: "another sync is running").
        service.put(Self.session("ses-b", tokens: 10), project: nil)
        let next = try await ArchiveProcess.run(["sync", "--db", db], environment: env)
        #expect(next.status == 0, "\(next.status): \(next.stderr)")
        #expect(next.stdout.contains("1 new"), "\(next.stdout)")
        let first = await hanging.wait()
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("archive: budget team: notify_command did not finish within 4 s and was killed with its children; "
                                      + "the next sync tries again"), "\(first.stderr)")
        // Every process the command started is gone.
        let started_pids = try String(contentsOfFile: pids, encoding: .utf8).split(separator: "\n").compactMap { Int32($0) }
        #expect(started_pids.count >= 2)
        // (A killed child waits as a zombie until whoever adopted it reaps it: that is not running.)
        func running(_ pid: Int32) -> Bool {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let state = stat.split(separator: ")").last?.split(separator: " ").first else { return false }
            return state != "Z"
        }
        for pid in started_pids { #expect(!running(pid), "process \(pid) outlived its limit") }

        // Not delivered, so not recorded: the next sync, with a notifier that works, alerts again, once.
        _ = try configure("cat >> '\(delivered)'")
        let again = try await ArchiveProcess.run(["sync", "--db", db], environment: env)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try String(contentsOfFile: delivered, encoding: .utf8).split(separator: "\n").count == 1)
        let quiet = try await ArchiveProcess.run(["sync", "--db", db], environment: env)
        #expect(budgetLines(quiet.stderr).isEmpty, "\(quiet.stderr)")
    }
}
