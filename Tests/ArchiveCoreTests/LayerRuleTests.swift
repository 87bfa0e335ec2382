import Foundation
import Testing

/// ArchiveCore's folders are layers, and this test holds them: a file may
/// name the types of the folders below its own, not above or beside. Reports
/// read; they never name the writer. (One module with a checked rule costs
/// less on two cores than six modules with `package` access; see ARCHITECTURE.md.)
@Suite struct LayerRuleTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/ArchiveCore")

    /// The layers, bottom to top, as ARCHITECTURE.md draws them: a folder
    /// names only types of the layers below its own.
    static let layers: [[String]] = [["Support"], ["Ingest"], ["Store"], ["Reports", "Sync", "Export", "Import"], ["Config"], ["Archive"]]
    /// Reports read: they never name the writer's side of the store.
    static let writersSide = ["ArchiveWriter", "SessionSaver", "SaveCounts", "PendingRollups", "InternedCodes"]

    static func layer(of folder: String) -> Int? { layers.firstIndex { $0.contains(folder) } }

    static func violations(files: [(folder: String, name: String, text: String)]) -> [String] {
        let declaration = try! NSRegularExpression(
            pattern: #"^(?:(?:public|private|fileprivate|internal|final|indirect|package)\s+)*(?:struct|class|enum|protocol|typealias|actor)\s+(\w+)"#,
            options: .anchorsMatchLines)
        var home: [String: String] = [:]  // our own names
        for file in files {
            let range = NSRange(file.text.startIndex..., in: file.text)
            for match in declaration.matches(in: file.text, range: range) {
                home[String(file.text[Range(match.range(at: 1), in: file.text)!])] = file.folder
            }
        }
        var found: [String] = []
        for file in files {
            guard let own = layer(of: file.folder) else { continue }
            // Words in comments and in multi-line literals without interpolation (SQL) are not names.
            let code = file.text.replacingOccurrences(of: #"\"\"\"(?:(?!\\\()[\s\S])*?\"\"\""#, with: "\"\"", options: .regularExpression)
                .split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.components(separatedBy: "//").first ?? "" }.joined(separator: "\n")
            let words = Set(code.split { !($0.isLetter || $0.isNumber || $0 == "_") }.map(String.init))  // our own names
            for word in words.sorted() {
                if let folder = home[word], folder != file.folder, let theirs = layer(of: folder), theirs >= own {
                    found.append("\(file.folder)/\(file.name) names \(word) of \(folder)/")
                } else if file.folder == "Reports" && writersSide.contains(word) {
                    found.append("\(file.folder)/\(file.name) names \(word), the writer's")
                }
            }
        }
        return found
    }

    @Test func eachFolderNamesOnlyTheTypesOfTheFoldersBelowIt() throws {
        var files: [(folder: String, name: String, text: String)] = []
        for folder in try FileManager.default.contentsOfDirectory(atPath: Self.root.path).sorted() {
            let url = Self.root.appendingPathComponent(folder)
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: url.path) else { continue }
            for name in names where name.hasSuffix(".swift") {
                files.append((folder, name, try String(contentsOf: url.appendingPathComponent(name), encoding: .utf8)))
            }
        }
        #expect(Set(files.map(\.folder)) == Set(Self.layers.joined()))
        let found = Self.violations(files: files)
        #expect(found.isEmpty, "\(found.joined(separator: "\n"))")
    }

    @Test func theRuleSeesWhatItForbids() {
        let files: [(folder: String, name: String, text: String)] = [
            ("Store", "Writer.swift", "public final class ArchiveWriter {}\nstruct Saver { let t: TokensReport }"),
            ("Reports", "TokensReport.swift", "public struct TokensReport { func run(_ w: ArchiveWriter) {} }"),
            ("Sync", "Engine.swift", "final class SyncEngine { let w: ArchiveWriter }  // TokensReport in a comment is fine"),
            ("Export", "Exporter.swift", "struct Exporter { let s: SyncEngine }"),
            ("Config", "Config.swift", "struct Settings { let p: Pricing }"),
            ("Store", "Schema.swift", "let sql = \"\"\"\n  -- Settings in SQL\n  \"\"\"\nlet m = \"\"\"\n  \\(Pricing.x)\n  \"\"\""),
            ("Reports", "Pricing.swift", "public struct Pricing { let f: Settings }"),
        ]
        #expect(Self.violations(files: files) == [
            "Store/Writer.swift names TokensReport of Reports/",
            "Reports/TokensReport.swift names ArchiveWriter, the writer's",
            "Export/Exporter.swift names SyncEngine of Sync/",
            "Store/Schema.swift names Pricing of Reports/",
            "Reports/Pricing.swift names Settings of Config/",
        ])
    }
}
