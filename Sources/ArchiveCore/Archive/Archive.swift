import Foundation
import SQLiteCore

/// The archive file's one owner: its path, the writers' lock, and the
/// settings the config file gives (checkpoints, redaction, retention,
/// budgets, backups, sources). Every command opens the file through it:
/// `read` for a reader, `write` for a writer under the lock (no writer
/// exists without it), `sync` for a run and what follows it.
///
/// Each connection it opens is closed before `read` or `write` returns, the
/// writer's last, so that SQLite's last close checkpoints the WAL into the
/// file and removes it (unless checkpoints are left to a replicator).
public struct Archive: Sendable {
    public let path: String
    public let settings: ArchiveConfig
    /// Who opens it, as the lock file names its holder: `archive sync`.
    public let holder: String
    /// Hears of an archive of an earlier schema (its version, the new one)
    /// before it is upgraded, which can take seconds for a large one.
    public let onUpgrade: @Sendable (_ from: Int, _ to: Int) -> Void

    public init(path: String, settings: ArchiveConfig = ArchiveConfig(), holder: String = "archive",
                onUpgrade: @escaping @Sendable (_ from: Int, _ to: Int) -> Void = { _, _ in }) {
        self.path = path
        self.settings = settings
        self.holder = holder
        self.onUpgrade = onUpgrade
    }

    public var exists: Bool { FileManager.default.fileExists(atPath: path) }

    /// Runs `body` on a reader of the archive, which must exist (and hold a
    /// session, unless `allowEmpty`). An archive of an earlier schema is
    /// first upgraded, under the writers' lock.
    public func read<T>(allowEmpty: Bool = true, _ body: (ArchiveReader) throws -> T) throws -> T {
        let reader = try openReader(allowEmpty: allowEmpty)
        defer { closeReader(reader) }
        return try body(reader)
    }

    /// `read` for an asynchronous `body`.
    public func read<T>(allowEmpty: Bool = true, _ body: (ArchiveReader) async throws -> T) async throws -> T {
        let reader = try openReader(allowEmpty: allowEmpty)
        defer { closeReader(reader) }
        return try await body(reader)
    }

    /// Closes a reader's connection. A read-only connection cannot checkpoint,
    /// so the WAL it opened (empty) or found (a writer killed before its last
    /// close) would stay beside the file; when no writer holds the lock, a
    /// connection that can is opened and closed, and SQLite's last close folds
    /// the WAL into the file and removes it. Not when a replicator owns the
    /// checkpoints, nor when another process still reads (SQLite then leaves it).
    private func closeReader(_ reader: ArchiveReader) {
        reader.close()
        guard !settings.backup.externalCheckpoints, FileManager.default.fileExists(atPath: path + "-wal"), !isBeingWritten,
              access(path, W_OK) == 0 else { return }
        try? Database(path: path, mode: .readWrite).close()
    }

    private func openReader(allowEmpty: Bool) throws -> ArchiveReader {
        guard exists else { throw ArchiveError.noArchive(path: path) }
        let reader = try ArchiveReader(path: path, onUpgrade: onUpgrade, upgrade: { try write { _ in } })
        if !allowEmpty, (try? reader.isEmpty) ?? true { throw ArchiveError.emptyArchive(path: path) }
        return reader
    }

    /// Runs `body` on the archive's writer, under the writers' lock (held by
    /// another: `ArchiveLock.LockError.held`, naming it), creating and
    /// migrating the archive when needed; then closes the writer and lets go.
    public func write<T>(mustExist: Bool = false, _ body: (ArchiveWriter) throws -> T) throws -> T {
        let (lock, writer) = try openWriter(mustExist: mustExist)
        defer { withExtendedLifetime(lock) {} }
        return try writer.closing(after: body)
    }

    /// `write` for an asynchronous `body`.
    public func write<T>(mustExist: Bool = false, _ body: (ArchiveWriter) async throws -> T) async throws -> T {
        let (lock, writer) = try openWriter(mustExist: mustExist)
        defer { withExtendedLifetime(lock) {} }
        return try await writer.closing(after: body)
    }

    private func openWriter(mustExist: Bool) throws -> (ArchiveLock, ArchiveWriter) {
        if mustExist && !exists { throw ArchiveError.noArchive(path: path) }
        let lock = try ArchiveLock(archivePath: path, holder: holder)
        let writer = try ArchiveWriter(path: path, externalCheckpoints: settings.backup.externalCheckpoints, onUpgrade: onUpgrade)
        return (lock, writer)
    }

    /// Whether a writer holds the lock now (found out without taking it).
    public var isBeingWritten: Bool { ArchiveLock.isHeld(archivePath: path) }
}
