import TestSupport
import Foundation
import LosslessJSON
import ChatSimulator
import Testing

/// Reading at a terminal: a pager like git's, ids by their start, whole results when asked.
@Suite struct PagerAndReadingTests {
    func archive() async throws -> (TemporaryDirectory, String) {
        let folder = try TemporaryDirectory()
        let db = folder.path("r.db")
        let long = String(repeating: "0123456789", count: 150)
        let sessions = ["ses-4a1b", "ses-4a2c", "ses-9f00"].map { id in
            #"{"session_id":"\#(id)","last_updated_at":"2026-03-01T09:00:00Z","generated_title":"About \#(id)","events":[{"type":"user_input","content":"q"},{"type":"tool_call","call_id":"c","name":"read","arguments":{}},{"type":"tool_result","call_id":"c","result":"\#(long)"},{"type":"stop","error":null,"is_error":false,"usage":{"total_input_tokens":12345678,"total_output_tokens":1234567,"turns":1}}]}"#
        }
        try sessions.joined(separator: "\n").write(toFile: folder.path("s.jsonl"), atomically: true, encoding: .utf8)
        #expect(try await ArchiveProcess.run(["import", "--db", db, folder.path("s.jsonl")]).status == 0)
        return (folder, db)
    }

    @Test func longOutputGoesThroughThePagerOnlyOnATerminal() async throws {
        let (folder, db) = try await archive()
        let pager = folder.path("pager.sh")
        try "#!/bin/sh\necho PAGED-BY-TEST\ncat\n".write(toFile: pager, atomically: true, encoding: .utf8)
        chmod(pager, 0o755)
        let terminal = TerminalRenderingTests()
        let environment = ["TERM": "xterm", "NO_COLOR": "1", "ARCHIVE_PAGER": pager]
        for arguments in [["show", "ses-9f00"], ["sessions"], ["search", "q"], ["tokens"], ["sql", "SELECT 1"]] {
            let paged = try await terminal.onTerminal(arguments + ["--db", db], environment: environment)
            #expect(paged.contains("PAGED-BY-TEST"), "\(arguments): \(paged)")
            let unpaged = try await terminal.onTerminal(arguments + ["--db", db, "--no-pager"], environment: environment)
            #expect(!unpaged.contains("PAGED-BY-TEST"), "\(arguments)")
        }
        let piped = try await ArchiveProcess.run(["show", "ses-9f00", "--db", db], environment: ["ARCHIVE_PAGER": pager])
        #expect(!piped.stdout.contains("PAGED-BY-TEST"))
        // The table is laid out for the terminal the pager shows it on.
        let wide = try await terminal.onTerminal(["sessions", "--db", db], environment: environment)
        #expect(wide.split(separator: "\n").allSatisfy { $0.count <= 64 })
    }

    @Test func aUniqueStartOfAnIdIsEnoughAndOthersListCandidates() async throws {
        let (folder, db) = try await archive()
        let unique = try await ArchiveProcess.run(["show", "ses-9", "--db", db])
        #expect(unique.status == 0 && unique.stdout.hasPrefix("About ses-9f00"))
        let ambiguous = try await ArchiveProcess.run(["show", "ses-4a", "--db", db])
        #expect(ambiguous.status == 1)
        #expect(ambiguous.stderr == "archive: session id ses-4a is the start of several: ses-4a1b, ses-4a2c; give more of it\n")
        let unknown = try await ArchiveProcess.run(["show", "ses-4ax", "--db", db])
        #expect(unknown.status == 1)
        #expect(unknown.stderr == "archive: no session ses-4ax in the archive; closest: ses-4a1b, ses-4a2c\n")
        let export = try await ArchiveProcess.run(["export", "--db", db, "--session", "ses-4a2"])
        #expect(try JSONParser.parse(export.stdout.trimmingCharacters(in: .newlines))["session_id"] == "ses-4a2c")
        withExtendedLifetime(folder) {}
    }

    @Test func resultsAreWholeWithFullAndMarkdownBlocksStayClosed() async throws {
        let (folder, db) = try await archive()
        let cut = try await ArchiveProcess.run(["show", "ses-9f00", "--db", db])
        #expect(cut.stdout.contains("… (1202 more characters; --full shows all)"))
        let full = try await ArchiveProcess.run(["show", "ses-9f00", "--db", db, "--full"])
        #expect(full.stdout.contains(String(repeating: "0123456789", count: 150)))
        let markdown = try await ArchiveProcess.run(["show", "ses-9f00", "--db", db, "--format", "markdown"])
        #expect(markdown.stdout.components(separatedBy: "```").count % 2 == 1, "every code block is closed")
        #expect(markdown.stdout.contains("*502 more characters not shown; `--full` shows all.*"))
        withExtendedLifetime(folder) {}
    }

    @Test func tokensBySessionFitsAnEightyColumnTerminalWithWholeIds() async throws {
        let (folder, db) = try await archive()
        let terminal = TerminalRenderingTests()
        let screen = try await terminal.onTerminal(["tokens", "--by", "session", "--db", db, "--price-input", "3", "--price-output", "15"],
                                                   environment: ["TERM": "xterm", "NO_COLOR": "1", "COLUMNS": "80"])
        let lines = screen.split(separator: "\n")
        #expect(lines.allSatisfy { $0.count <= 64 }, "\(lines)")  // the test terminal is 64 columns
        #expect(screen.contains("ses-4a1b") && screen.contains("ses-9f00"))
        withExtendedLifetime(folder) {}
    }
}

@Suite struct ImportProgressTests {
    @Test func importShowsProgressOnATerminalOnly() async throws {
        let folder = try TemporaryDirectory()
        var lines: [String] = []
        ChatSimulator.SimulatedChatService.writeCorpus(count: 3_000, seed: 4) { lines.append($0) }
        try lines.joined(separator: "\n").write(toFile: folder.path("c.jsonl"), atomically: true, encoding: .utf8)
        let screen = try await TerminalRenderingTests().onTerminal(["import", "--db", folder.path("a.db"), folder.path("c.jsonl")],
                                                                   environment: ["TERM": "xterm", "NO_COLOR": "1"])
        #expect(screen.contains("\u{1B}[2Kimporting… ") && screen.contains(" MB/s"), "\(screen.debugDescription.prefix(300))")
        #expect(screen.contains("imported: 3,000 new"))
        let piped = try await ArchiveProcess.run(["import", "--db", folder.path("b.db"), folder.path("c.jsonl")])
        #expect(piped.status == 0 && piped.stderr.isEmpty)
    }
}
