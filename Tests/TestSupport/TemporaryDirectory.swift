@_spi(Testing) import ArchiveCore
import Foundation
import Testing

/// A fresh folder under the system temporary directory, removed on deinit.
/// Before it goes, every archive in it is checked as `archive status --check`
/// checks it (rollups and counts against a recomputation from the rows): a store, sync or import test whose writes
/// left a rollup or count drifting from its rows fails, whoever forgot to ask.
public final class TemporaryDirectory {
    public let url: URL
    /// Off only for tests that damage an archive on purpose.
    public var checksArchivesWhenRemoved = true
    /// Writers opened through `writer(at:)`: closed before the folder goes.
    private var writers: [ArchiveWriter] = []

    public init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("sqlitecore-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// An archive opened for writing, which lives as long as this folder:
    /// the folder closes it (a writer must be closed before it is released).
    public func writer(at path: String) throws -> ArchiveWriter {
        let writer = try ArchiveWriter(path: path)
        writers.append(writer)
        return writer
    }

    deinit {
        for writer in writers {
            do { try writer.close() } catch { Issue.record("closing \(writer.path): \(error)") }
        }
        if checksArchivesWhenRemoved {
            for problem in ArchiveConsistency.problems(in: url) { Issue.record(Comment(rawValue: problem)) }
        }
        try? FileManager.default.removeItem(at: url)
    }
}

public enum ArchiveConsistency {
    /// One line per archive below `folder` whose rollups or counts differ
    /// from its rows (`status --check`'s `keptTotalsProblems`). In-process, read-only: a
    /// subprocess per folder would hold one of the task pool's few threads
    /// far longer, and the timing tests beside it would feel that.
    public static func problems(in folder: URL) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: folder.path) else { return [] }
        var problems: [String] = []
        for case let relative as String in walker where relative.hasSuffix(".db") {
            let path = folder.appendingPathComponent(relative).path
            guard isArchive(path) else { continue }
            // Only a failed check counts: a file another test made unreadable on purpose is its business.
            guard let store = try? ArchiveReader(path: path), let found = try? store.keptTotalsProblems() else { continue }
            problems += found.map { "archive \(relative) left inconsistent: \($0)" }
        }
        return problems
    }

    /// A SQLite file with the archive's tables (read as bytes: no SQLite here).
    static func isArchive(_ path: String) -> Bool {
        let head = { (file: String) -> Data in
            guard let handle = FileHandle(forReadingAtPath: file) else { return Data() }
            defer { try? handle.close() }
            return (try? handle.read(upToCount: 1 << 17)) ?? Data()
        }
        let main = head(path)
        guard main.starts(with: Array("SQLite format 3\0".utf8)) || main.isEmpty else { return false }
        // A schema not yet checkpointed is still in the write-ahead log.
        return main.range(of: Data("usage_rollup".utf8)) != nil || head(path + "-wal").range(of: Data("usage_rollup".utf8)) != nil
    }
}
