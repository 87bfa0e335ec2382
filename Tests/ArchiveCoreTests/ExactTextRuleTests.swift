import Foundation
import Testing

/// The rule of `ExactText`, kept by a lint over the code that ingests and
/// stores API text: no dictionary or set keyed by `String`, and no Hashable
/// struct with a `String` field (either would merge NFC and NFD spellings).
/// A line that keys by our own names says so with `// our own names`.
@Suite struct ExactTextRuleTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let folders = ["Sources/ArchiveCore/Ingest", "Sources/ArchiveCore/Store", "Sources/ArchiveCore/Sync",
                          "Sources/ArchiveCore/Import", "Sources/ArchiveCore/Reports"]

    static func violations(in text: String, file: String) -> [String] {
        var found: [String] = []
        var hashableStruct: (name: String, depth: Int)? = nil
        var depth = 0
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let code = line.components(separatedBy: "//").first ?? ""
            let allowed = line.contains("// our own names")
            if !allowed, code.contains("[String:") || code.contains("Set<String>") || code.contains("Dictionary<String") {
                found.append("\(file):\(number + 1): keyed by String: \(line.trimmingCharacters(in: .whitespaces))")
            }
            if code.contains("struct "), code.contains("Hashable"), let name = code.components(separatedBy: "struct ").last?.split(separator: ":").first {
                hashableStruct = (String(name), depth)
            }
            if let current = hashableStruct, !allowed, code.range(of: #"(let|var) \w+: String\??\s*(=|$|;)"#, options: .regularExpression) != nil
                || (hashableStruct != nil && code.range(of: #"(let|var) \w+: String\??\s*[;}]"#, options: .regularExpression) != nil) {
                found.append("\(file):\(number + 1): Hashable \(current.name) has a String field: \(line.trimmingCharacters(in: .whitespaces))")
            }
            depth += code.filter { $0 == "{" }.count - code.filter { $0 == "}" }.count
            if let current = hashableStruct, depth <= current.depth, code.contains("}") { hashableStruct = nil }
        }
        return found
    }

    @Test func noTextFromTheAPIIsKeyedOrHashedAsAString() throws {
        var found: [String] = []
        var files = 0
        for folder in Self.folders {
            let url = Self.root.appendingPathComponent(folder)
            for name in try FileManager.default.contentsOfDirectory(atPath: url.path) where name.hasSuffix(".swift") {
                files += 1
                found += Self.violations(in: try String(contentsOf: url.appendingPathComponent(name), encoding: .utf8), file: "\(folder)/\(name)")
            }
        }
        #expect(files > 30)
        #expect(found.isEmpty, "\(found.joined(separator: "\n"))")
    }

    @Test func theLintSeesWhatItForbids() {
        #expect(Self.violations(in: "var byProject: [String: Int] = [:]", file: "x").count == 1)
        #expect(Self.violations(in: "let names = Set<String>()", file: "x").count == 1)
        #expect(Self.violations(in: "struct Key: Hashable {\n    let project: String\n}", file: "x").count == 1)
        #expect(Self.violations(in: "struct Slot: Hashable { let quarterHour: Int64; let name: String }", file: "x").count == 1)
        #expect(Self.violations(in: "var byName: [ExactText: Int] = [:]", file: "x").isEmpty)
        #expect(Self.violations(in: "var columns: [String: Int] = [:]  // our own names", file: "x").isEmpty)
        #expect(Self.violations(in: "struct Row {\n    let title: String\n}", file: "x").isEmpty)
    }
}
