import TestSupport
import ChatSimulator
import Foundation
import Testing

/// `ARCHIVE_PROFILE=1 archive import`: where the import's time went, phase by
/// phase, on standard error after it; nothing of it without the variable.
@Suite struct ImportProfileTests {
    @Test func theProfileNamesEveryPhaseAndAddsUpToTheWallTime() async throws {
        let folder = try TemporaryDirectory()
        var lines: [String] = []
        SimulatedChatService.writeCorpus(count: 300, seed: 4) { lines.append($0) }
        try lines.joined(separator: "\n").write(toFile: folder.path("in.jsonl"), atomically: true, encoding: .utf8)
        let plain = try await ArchiveProcess.run(["import", "--db", folder.path("a.db"), folder.path("in.jsonl")])
        #expect(plain.status == 0 && plain.stderr.isEmpty, "\(plain.stderr)")
        let profiled = try await ArchiveProcess.run(["import", "--db", folder.path("b.db"), folder.path("in.jsonl")],
                                                    environment: ["ARCHIVE_PROFILE": "1"])
        #expect(profiled.status == 0, "\(profiled.stderr)")
        let report = profiled.stderr.split(separator: "\n").map(String.init)
        #expect(report.first?.hasPrefix("profile (ARCHIVE_PROFILE): 300 records in ") == true, "\(profiled.stderr)")
        let wall = try #require(report.first?.split(separator: " ").dropLast(4).last.flatMap { Double($0) })
        for thread in ["reading thread", "writing thread (this one)"] {
            let start = try #require(report.firstIndex(of: thread), "\(profiled.stderr)")
            let rows = report[(start + 1)...].prefix { $0.hasPrefix("  ") }
            let seconds = rows.compactMap { row in row.split(separator: " ").reversed().dropFirst(2).first.flatMap { Double($0) } }
            #expect(seconds.count == rows.count && rows.count >= 6, "\(rows)")
            #expect(abs(seconds.reduce(0, +) - wall) < 0.05, "\(thread): the phases and the rest add up to the wall time")
        }
        for phase in ["parse JSON", "event rows", "search index (FTS5)", "rollups", "commit"] {
            let row = report.first { $0.hasPrefix("  " + phase) }
            // Its seconds, not its share: a loaded machine (a sanitizer) stretches the wall time, not the work.
            let seconds = row.flatMap { $0.split(separator: " ").reversed().dropFirst(2).first.flatMap { Double($0) } } ?? 0
            #expect(seconds > 0, "\(phase) took no time: \(row ?? "missing")")
        }
    }
}
