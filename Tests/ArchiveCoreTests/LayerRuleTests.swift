import Foundation
import Testing

/// ArchiveCore's folders are layers, and this test holds them: a file may
/// name the types of the folders below its own, not above or beside. Reports
/// read; they never name the writer. (One module with a checked rule costs
/// less on two cores than six modules with `package` access; see ARCHITECTURE.md.)
@Suite struct LayerRuleTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/ArchiveCore")

    /// What each folder may not name: the folders above it, and for reports the writer's side of the store.
    static let forbidden: [String: (folders: [String], names: [String])] = [  // our own names
        "Support": (["Ingest", "Store", "Reports", "Sync", "Import", "Config"], []),
        "Ingest": (["Store", "Reports", "Sync", "Import", "Config"], []),
        "Store": (["Reports", "Sync", "Import", "Config"], []),
        "Reports": (["Sync", "Import"], ["ArchiveWriter", "SessionSaver", "SaveCounts", "PendingRollups", "InternedCodes"]),
        "Sync": (["Reports", "Import", "Config"], []),
        "Import": (["Sync", "Config"], []),
        "Config": (["Sync", "Import"], []),
    ]

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
            guard let rule = forbidden[file.folder] else { continue }
            let code = file.text.split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.components(separatedBy: "//").first ?? "" }.joined(separator: "\n")
            let words = Set(code.split { !($0.isLetter || $0.isNumber || $0 == "_") }.map(String.init))  // our own names
            for word in words.sorted() {
                if let folder = home[word], rule.folders.contains(folder) {
                    found.append("\(file.folder)/\(file.name) names \(word) of \(folder)/")
                } else if rule.names.contains(word) {
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
        #expect(Set(files.map(\.folder)) == Set(Self.forbidden.keys))
        let found = Self.violations(files: files)
        #expect(found.isEmpty, "\(found.joined(separator: "\n"))")
    }

    @Test func theRuleSeesWhatItForbids() {
        let files: [(folder: String, name: String, text: String)] = [
            ("Store", "Writer.swift", "public final class ArchiveWriter {}\nstruct Saver { let t: TokensReport }"),
            ("Reports", "TokensReport.swift", "public struct TokensReport { func run(_ w: ArchiveWriter) {} }"),
            ("Sync", "Engine.swift", "final class SyncEngine { let w: ArchiveWriter }  // TokensReport in a comment is fine"),
        ]
        #expect(Self.violations(files: files) == [
            "Store/Writer.swift names TokensReport of Reports/",
            "Reports/TokensReport.swift names ArchiveWriter, the writer's",
        ])
    }
}
