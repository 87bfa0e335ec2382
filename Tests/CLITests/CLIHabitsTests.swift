import TestSupport
import Foundation
import LosslessJSON
import Testing

/// The everyday habits of gh, git and llm users.
@Suite struct CLIHabitsTests {
    func archive(runs: Int = 3) async throws -> (TemporaryDirectory, String) {
        let folder = try TemporaryDirectory()
        let db = folder.path("h.db")
        var events: [String] = []
        for run in 1...runs {
            events.append(#"{"type":"user_input","content":"question \#(run) about the renewal clause"}"#)
            events.append(#"{"type":"text","content":"answer \#(run)"}"#)
            events.append(#"{"type":"stop","error":null,"is_error":false,"usage":{"total_input_tokens":1203,"total_output_tokens":407,"turns":1}}"#)
        }
        let sessions = (1...3).map { #"{"session_id":"ses-\#($0)","last_updated_at":"2026-03-0\#($0)T09:00:00Z","events":[\#(events.joined(separator: ","))]}"# }
        try sessions.joined(separator: "\n").write(toFile: folder.path("s.jsonl"), atomically: true, encoding: .utf8)
        let imported = try await ArchiveProcess.run(["import", "--db", db, folder.path("s.jsonl")])
        #expect(imported.status == 0)
        return (folder, db)
    }

    @Test func runsAreNumberedFromOneEverywhere() async throws {
        let (folder, db) = try await archive()
        let search = try await ArchiveProcess.run(["search", "renewal", "--db", db, "--json", "-n", "0"])
        let hits = try #require(try JSONParser.parse(search.stdout).arrayValue)
        #expect(hits.count == 9)
        #expect(Set(hits.compactMap { $0["run"]?.int64Value }) == [1, 2, 3])
        #expect(hits.allSatisfy { $0["turn"] == nil })
        let show = try await ArchiveProcess.run(["show", "ses-1", "--db", db, "--run", "2"])
        #expect(show.status == 0)
        #expect(show.stdout.contains("── Run 2") && show.stdout.contains("question 2") && !show.stdout.contains("question 1"))
        let missing = try await ArchiveProcess.run(["show", "ses-1", "--db", db, "--run", "4"])
        #expect(missing.status == 1 && missing.stderr == "archive: session ses-1 has no run 4 (it has 3)\n")
        withExtendedLifetime(folder) {}
    }

    /// `archive --help` groups its nineteen subcommands by what they are for, each listed once.
    @Test func helpGroupsTheSubcommands() async throws {
        let help = try await ArchiveProcess.run(["--help"]).stdout
        let groups = ["DATA IN AND OUT", "READING AND REPORTS", "CARE OF THE ARCHIVE", "INTEGRATIONS", "TRY IT"]
        #expect(groups.allSatisfy { help.contains("\($0) SUBCOMMANDS:") }, "\(help)")
        let names = ["sync", "import", "export", "sessions", "show", "search", "tokens", "tools", "budget", "report", "sql",
                     "status", "backup", "restore", "forget", "prune", "redact", "mcp", "demo"]
        let listed = help.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("  "), !line.hasPrefix("   "), let word = line.split(separator: " ").first else { return nil }
            return word.hasPrefix("-") || word == "See" ? nil : String(word)  // not "  See 'archive help <subcommand>'"
        }
        #expect(listed.sorted() == names.sorted(), "\(listed)")
    }

    @Test func versionJSONShorthandsAndLimits() async throws {
        let (folder, db) = try await archive()
        let version = try await ArchiveProcess.run(["--version"])
        #expect(version.status == 0 && version.stdout.range(of: #"^\d+\.\d+\.\d+\n$"#, options: .regularExpression) != nil)
        for arguments in [["sessions"], ["tokens"], ["tools"], ["search", "answer"], ["sql", "SELECT 1 AS one"]] {
            let json = try await ArchiveProcess.run(arguments + ["--db", db, "--json"])
            #expect(json.status == 0 && (try? JSONParser.parse(json.stdout)) != nil, "\(arguments): \(json.stderr)")
        }
        let conflicting = try await ArchiveProcess.run(["sessions", "--db", db, "--json", "--format", "csv"])
        #expect(conflicting.status == 64)
        let status = try await ArchiveProcess.run(["status", "--db", db, "--json"])
        #expect(try JSONParser.parse(status.stdout)["sessions"] == 3)
        let show = try await ArchiveProcess.run(["show", "ses-1", "--db", db, "--json"])
        #expect(try JSONParser.parse(show.stdout)["session_id"] == "ses-1")
        let two = try await ArchiveProcess.run(["sessions", "--db", db, "-n", "2", "--json"])
        #expect(try JSONParser.parse(two.stdout).arrayValue?.count == 2)
        let all = try await ArchiveProcess.run(["sessions", "--db", db, "--limit", "0", "--json"])
        #expect(try JSONParser.parse(all.stdout).arrayValue?.count == 3)
        withExtendedLifetime(folder) {}
    }

    @Test func numbersPrintAsPeopleReadThem() async throws {
        let (folder, db) = try await archive()
        let csv = try await ArchiveProcess.run(["tokens", "--db", db, "--format", "csv", "--price-input", "3", "--price-output", "15"])
        let costs = csv.stdout.split(separator: "\r\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).last.map(String.init) ?? "" }
        #expect(!costs.isEmpty && costs.allSatisfy { $0.split(separator: ".").last.map { $0.count <= 6 } ?? true }, "\(csv.stdout)")
        #expect(costs.first == "0.029142", "\(costs)")  // 3 runs × (1,203 × 3 + 407 × 15) / 10^6
        let json = try await ArchiveProcess.run(["tokens", "--db", db, "--json", "--price-input", "3", "--price-output", "15"])
        #expect(json.stdout.contains(#""cost_usd":0.029142"#), "\(json.stdout)")
        // Summary lines group thousands as the tables do.
        var lines: [String] = []
        for n in 0..<1_001 { lines.append(#"{"session_id":"bulk-\#(n)","last_updated_at":"2026-03-01T09:00:00Z","events":[]}"#) }
        try lines.joined(separator: "\n").write(toFile: folder.path("bulk.jsonl"), atomically: true, encoding: .utf8)
        let imported = try await ArchiveProcess.run(["import", "--db", db, folder.path("bulk.jsonl")])
        #expect(imported.stdout.hasPrefix("imported: 1,001 new, 0 updated, 0 unchanged, 0 failed from 1,001 records"), "\(imported.stdout)")
    }

    @Test func demoRefusesAnArchiveItDidNotMake() async throws {
        let (folder, db) = try await archive()
        let before = try Data(contentsOf: URL(fileURLWithPath: db))
        let demo = try await ArchiveProcess.run(["demo", "--db", db, "--sessions", "3"])
        #expect(demo.status == 64)
        #expect(demo.stderr.contains("holds 3 sessions the demo did not make"), "\(demo.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == before)
        // Its own archive it may fill again.
        let own = folder.path("demo.db")
        #expect(try await ArchiveProcess.run(["demo", "--db", own, "--sessions", "3"]).status == 0)
        #expect(try await ArchiveProcess.run(["demo", "--db", own, "--sessions", "3"]).status == 0)
    }
}
