@testable import archive
@_spi(Testing) @testable import ArchiveCore
import Foundation
import LlamaCloudClient
@testable import LosslessJSON
import SQLiteCore
import Testing
@testable import TOML

/// Every error type this program can throw has its words in `ErrorWords`:
/// the walk finds each public error type of the libraries and each of the
/// command line in the sources, and an error of each must be worded, never
/// shown as its raw description.
@Suite struct ErrorWordsTests {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources")

    /// One error of each type, as the program makes them.
    static let samples: [any Error] = [
        ArchiveError.noArchive(path: "a.db"),
        SettingsFileError.unreadable(path: "config.toml", kind: .config),
        DatasetExport.ExportError.notAFolder(path: "ds"),
        Importer.ImportError.noSuchPath("x.jsonl"),
        NormalizationError(sessionID: "s-1", reason: "no events"),
        ReadOnlySQL.QueryError.parameterCount(expected: 2, given: 1),
        SearchQuery.SearchError.nothingToSearch("--"),
        TokensReport.GroupingError(text: "weekday"),
        BackupCheckError(path: "b.db", problems: ["page 3"]),
        ArchiveLock.LockError.held(path: "a.db", holder: "archive import (pid 7) since 12:00:00 UTC"),
        SelectionError.noSuchSession("s-9"),
        GzipError(path: "ds/x.gz", reason: "disk full"),
        PrivateFiles.FileError(path: "out.jsonl", reason: "read-only folder"),
        TimeWindowError.unknownZone("Mars/Base"),
        APIKeyError.none,
        SyncError(.invalidBaseURL("ftp://x")),
        APIError.notFound(path: "/api/v1/chat"),
        TransportError.connectionRefused,
        JSONParseError(message: "unexpected end", offset: 3, line: 1),
        MigrationError.duplicateVersion(3),
        SQLiteError(.busy, message: "database is locked"),
        TOMLError(line: 2, message: "expected a value"),
        ExitError(exitCode: 64, message: "bad arguments"),
        ToolError("unknown tool"),
        MCPError.invalidParams("missing id"),
        ReadingLimitError(limit: .time(seconds: 10)),
    ]

    /// The error types the sources declare that can reach a user: public ones, and the command line's own.
    static func declaredErrorTypes() throws -> Set<String> {
        let declaration = try NSRegularExpression(
            pattern: #"^\s*((?:public |private |fileprivate |internal |final |indirect )*)(?:struct|enum|class) (\w+)\s*:[^{]*\bError\b"#,
            options: .anchorsMatchLines)
        var found = Set<String>()
        let walker = FileManager.default.enumerator(atPath: sources.path)
        while let relative = walker?.nextObject() as? String {
            guard relative.hasSuffix(".swift") else { continue }
            let text = try String(contentsOf: sources.appendingPathComponent(relative), encoding: .utf8)
            for match in declaration.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                let modifiers = String(text[Range(match.range(at: 1), in: text)!])
                guard modifiers.contains("public") || (relative.hasPrefix("archive/") && !modifiers.contains("private")) else { continue }
                found.insert(String(text[Range(match.range(at: 2), in: text)!]))
            }
        }
        return found
    }

    @Test func everyErrorTypeThisProgramThrowsHasItsWords() throws {
        let declared = try Self.declaredErrorTypes()
        let sampled = Set(Self.samples.map { String(describing: type(of: $0)) })
        #expect(declared.count >= 20, "the walk found \(declared.sorted())")
        #expect(declared.subtracting(sampled).isEmpty, "no sample (and so perhaps no words) for \(declared.subtracting(sampled).sorted())")
        for sample in Self.samples {
            let words = ErrorWords.words(sample)
            #expect(words != nil, "\(type(of: sample)) reaches a user as its raw description")
            #expect(words.map { !$0.isEmpty && !$0.contains("\n") } == true, "\(type(of: sample)): \(words ?? "")")
        }
    }

    @Test func flagsAreNamedHereNotInTheCore() {
        #expect(ErrorWords.line(APIKeyError.none) == "no API key: LLAMA_CLOUD_API_KEY is not set; set it or pass --api-key-file")
        #expect(!APIKeyError.none.description.contains("--"))
        #expect(ErrorWords.line(ArchiveLock.LockError.held(path: "a.db", holder: "archive forget (pid 9) since 10:00:00 UTC"))
                == "a.db is held by archive forget (pid 9) since 10:00:00 UTC; leaving it be")
    }

    @Test func anErrorOfAnUnknownTypeIsNotShownRaw() {
        struct Stray: Error, CustomStringConvertible { var description: String { "SELECT secret FROM inner_workings" } }
        let line = ErrorWords.line(Stray())
        #expect(!line.contains("secret") && line.hasPrefix("an unexpected error ("), "\(line)")
    }
}
