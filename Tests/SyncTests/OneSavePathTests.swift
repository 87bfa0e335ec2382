import TestSupport
@_spi(Testing) @testable import ArchiveCore
import ChatSimulator
import Foundation
import LosslessJSON
import SQLiteCore
import Testing

/// Sync and import save through one path: a session the archive refuses is
/// one failed session, recorded, and every other session is kept; only a
/// failure of the environment ends the run.
@Suite struct OneSavePathTests {
    /// A trigger refuses one session as the store would refuse bad data (a
    /// constraint), without touching the others.
    static func poison(_ path: String, sessionID: String) throws {
        try ArchiveWriter(path: path).closing { _ in }
        try Database(path: path).execute("""
            CREATE TRIGGER refuse_one BEFORE INSERT ON sessions WHEN NEW.session_id = '\(sessionID)'
            BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END
            """)
    }

    @Test func aSessionTheArchiveRefusesIsOneFailureOfASyncThatGoesOn() async throws {
        let harness = try await SyncHarness()
        let ids = harness.service.populate(project: nil, count: 30)
        try Self.poison(harness.archivePath, sessionID: ids[7])
        let summary = try await harness.sync()
        #expect(summary.status == .partial && summary.failed == 1 && summary.new == 29, "\(summary)")
        #expect(try harness.int("SELECT count(*) FROM sessions") == 29)
        let failures = try harness.strings("SELECT session_id, message FROM sync_failures")
        #expect(failures.count == 1 && failures[0].hasPrefix("\(ids[7])|cannot archive it: ") && failures[0].contains("refused by a test trigger"))
        // The next sync retries it (it is still not archived) and fails it again, keeping the rest.
        let again = try await harness.sync()
        #expect(again.failed == 1 && again.unchanged == 29, "\(again)")
    }

    @Test func aSessionTheArchiveRefusesIsOneFailureOfAnImportThatGoesOn() throws {
        let folder = try TemporaryDirectory()
        let path = folder.path("a.db")
        try Self.poison(path, sessionID: "s-3")
        let lines = (1...8).map { #"{"session_id":"s-\#($0)","last_updated_at":"2026-03-01T10:00:0\#($0)Z","events":[]}"# }
        try lines.joined(separator: "\n").write(toFile: folder.path("in.jsonl"), atomically: true, encoding: .utf8)
        var failures: [String] = []
        let report = try ArchiveWriter(path: path).closing { writer in
            try Importer(store: writer, onFailure: { failures.append($0) }).run(paths: [folder.path("in.jsonl")])
        }
        #expect(report.new == 7 && report.failed == 1)
        #expect(failures.count == 1 && failures[0].hasPrefix("\(folder.path("in.jsonl")):3: session s-3: "))
        #expect(try ArchiveReader(path: path).sessionIDs(project: nil, window: .unbounded).count == 7)
    }
}
