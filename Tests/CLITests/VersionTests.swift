import Foundation
import Testing

/// One version: what `archive --version` says is the newest release of
/// CHANGELOG.md, the version in the install lines of the README and the guide,
/// and the command reference's (the package file names and the man page take
/// it from the binary; Tests/package/check_package.sh checks those).
@Suite struct VersionTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func theVersionIsTheSameEverywhere() async throws {
        let version = try await ArchiveProcess.run(["--version"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let changelog = try String(contentsOf: Self.root.appendingPathComponent("CHANGELOG.md"), encoding: .utf8)
        let newest = changelog.split(separator: "\n").first { $0.hasPrefix("## [") }.map { $0.dropFirst(4).prefix { $0 != "]" } }
        #expect(newest.map(String.init) == version, "CHANGELOG.md's newest release against --version \(version)")
        var pages = ["README.md"]
        if let walker = FileManager.default.enumerator(atPath: Self.root.appendingPathComponent("docs").path) {
            pages += walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".md") }.map { "docs/" + $0 }
        }
        var named: [String] = []
        for page in pages {
            let text = try String(contentsOf: Self.root.appendingPathComponent(page), encoding: .utf8)
            named += text.split(separator: "\n").filter { ($0.contains("llamacloud-archive_") || $0.contains("llamacloud-archive-0"))
                && !$0.contains("VERSION") }.map { "\(page): \($0)" }
        }
        #expect(!named.isEmpty && named.allSatisfy { $0.contains("_\(version)_") || $0.contains("-\(version)-") }, "\(named)")
        let reference = try String(contentsOf: Self.root.appendingPathComponent("docs/reference/cli.md"), encoding: .utf8)
        #expect(reference.hasPrefix("# Command reference (version \(version))"), "docs/reference/cli.md against --version \(version)")
    }
}
