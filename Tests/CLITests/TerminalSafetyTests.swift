import TestSupport
import Foundation
import Testing

/// Chat text is someone else's: it never drives the terminal it is read on.
@Suite struct TerminalSafetyTests {
    static let hostile = "\u{1B}]52;c;cHduZWQ=\u{07}\u{1B}]0;pwned\u{07}\u{1B}[2J\u{1B}[1A\u{9B}31m\u{0}end"

    func archiveWithHostileText() async throws -> (TemporaryDirectory, String) {
        let folder = try TemporaryDirectory()
        let db = folder.path("t.db")
        let text = LosslessJSONString(Self.hostile)
        let session = #"{"session_id":"ses-evil","last_updated_at":"2026-03-01T09:00:00Z","generated_title":\#(text),"events":[{"type":"user_input","content":\#(text)},{"type":"thinking","content":\#(text)},{"type":"tool_call","call_id":"c","name":\#(text),"arguments":{"q":\#(text)}},{"type":"tool_result","call_id":"c","result":\#(text)},{"type":"odd","content":\#(text)},{"type":"text","content":\#(LosslessJSONString("clause " + Self.hostile.dropLast(3) + "clause"))},{"type":"stop","error":\#(text),"is_error":true,"usage":{"total_input_tokens":1,"total_output_tokens":1,"turns":1}}]}"#
        try session.write(toFile: folder.path("s.json"), atomically: true, encoding: .utf8)
        let imported = try await ArchiveProcess.run(["import", "--db", db, folder.path("s.json")])
        #expect(imported.status == 0, "\(imported.stderr)")
        return (folder, db)
    }

    static func controlBytes(in text: String) -> [UInt32] {
        text.unicodeScalars.map(\.value).filter { ($0 < 0x20 && $0 != 0x0A && $0 != 0x09 && $0 != 0x0D) || (0x7F...0x9F).contains($0) }
    }

    @Test func showSessionsSearchAndErrorsPrintNoControlCharacters() async throws {
        let (folder, db) = try await archiveWithHostileText()
        let terminal = TerminalRenderingTests()
        for arguments in [["show", "ses-evil", "--thinking"], ["show", "ses-evil", "--format", "markdown", "--thinking"],
                          ["sessions"], ["search", "clause"], ["tools"], ["sql", "SELECT title, payload FROM sessions JOIN events USING (session_id)"],
                          ["sql", "SELECT title FROM sessions", "--format", "csv"], ["show", "ses-\u{1B}[2J"]] {
            let screen = try await terminal.onTerminal(arguments + ["--db", db], environment: ["TERM": "xterm", "NO_COLOR": "1"])
            #expect(Self.controlBytes(in: screen).isEmpty, "\(arguments): \(screen.debugDescription)")
            #expect(!screen.contains("\u{E000}") && !screen.contains("\u{E001}"))
        }
        // Piped, too: no NUL for grep to take the output for binary.
        let piped = try await ArchiveProcess.run(["show", "ses-evil", "--db", db])
        #expect(!piped.stdout.contains("\u{0}") && !piped.stdout.contains("\u{1B}"))
        #expect(piped.stdout.contains("␀end"))
        withExtendedLifetime(folder) {}
    }

    @Test func searchHighlightsAreColourOnATerminalAndAbsentOtherwise() async throws {
        let (folder, db) = try await archiveWithHostileText()
        let terminal = TerminalRenderingTests()
        let coloured = try await terminal.onTerminal(["search", "clause", "--db", db], environment: ["TERM": "xterm"])
        #expect(coloured.contains("\u{1B}[1;33mclause\u{1B}[0m"), "\(coloured.debugDescription)")
        #expect(!coloured.contains(" [1;33m"))
        let plain = try await terminal.onTerminal(["search", "clause", "--db", db], environment: ["TERM": "xterm", "NO_COLOR": "1"])
        #expect(!plain.contains("\u{1B}") && plain.contains("clause"))
        let piped = try await ArchiveProcess.run(["search", "clause", "--db", db])
        #expect(!piped.stdout.contains("\u{1B}") && !piped.stdout.contains("\u{E000}") && piped.stdout.contains("clause"))
        withExtendedLifetime(folder) {}
    }
}

/// A JSON string literal for `text`.
func LosslessJSONString(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value): out += String(format: "\\u%04x", scalar.value)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}
