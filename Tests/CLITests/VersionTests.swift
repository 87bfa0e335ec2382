import Foundation
import Testing

/// One version: what `archive --version` says is the newest release of
/// CHANGELOG.md and the version in the README's install lines (the package
/// file names come from the same constant).
@Suite struct VersionTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func theVersionIsTheSameEverywhere() async throws {
        let version = try await ArchiveProcess.run(["--version"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let changelog = try String(contentsOf: Self.root.appendingPathComponent("CHANGELOG.md"), encoding: .utf8)
        let newest = changelog.split(separator: "\n").first { $0.hasPrefix("## [") }.map { $0.dropFirst(4).prefix { $0 != "]" } }
        #expect(newest.map(String.init) == version, "CHANGELOG.md's newest release against --version \(version)")
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let named = readme.split(separator: "\n").filter { ($0.contains("llamacloud-archive_") || $0.contains("llamacloud-archive-0")) && !$0.contains("VERSION") }
        #expect(!named.isEmpty && named.allSatisfy { $0.contains("_\(version)_") || $0.contains("-\(version)-") }, "\(named)")
    }
}
