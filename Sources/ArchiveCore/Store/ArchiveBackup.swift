import Foundation
import SQLiteCore

/// What `archive backup` made.
public struct BackupResult: Sendable, Codable, Equatable {
    public let path: String
    public let bytes: Int
    public let sessions: Int
    public let seconds: Double
    /// Older backups removed to keep the number asked for.
    public let removed: [String]
}

/// What `archive restore` did.
/// A backup rewritten without the forgotten sessions.
public struct PurgedBackup: Sendable, Codable, Equatable {
    public let path: String
    /// Sessions removed from it (or whose text was, where usage was kept).
    public let removed: Int
    public let sessions: Int
    public let bytes: Int
}

public struct RestoreResult: Sendable, Codable, Equatable {
    public let restoredFrom: String
    /// The archive as it was before, kept beside it.
    public let previous: String
    public let sessions: Int
    public let seconds: Double
}

/// A copy that fails its check: no backup is made, no restore happens.
/// (A file that cannot be written is `PrivateFiles.FileError`.)
public struct BackupCheckError: Error, Equatable, CustomStringConvertible {
    public let path: String
    public let problems: [String]

    public var description: String { "\(path) fails its check: \(problems.prefix(3).joined(separator: "; "))" }
}

/// Backups are copies of one instant, made with SQLite's backup API in one
/// step: in WAL mode that is a read transaction, so a sync writing at the same
/// time is never held up, and what it commits meanwhile is in the next backup.
/// A copy is made under a temporary name beside its destination, checked
/// (SQLite's integrity check, the kept totals against the rows, the search
/// index's own check), turned into one self-contained file (no WAL), put on
/// disk and only then renamed into place, mode 0600: a backup that exists is
/// whole and checked.
extension ArchiveReader {
    public func backup(to destination: String, keep: Int? = nil, now: Date = Date()) throws -> BackupResult {
        let started = Date()
        var isFolder: ObjCBool = false
        let intoFolder = FileManager.default.fileExists(atPath: destination, isDirectory: &isFolder) && isFolder.boolValue
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        let target = intoFolder ? (destination as NSString).appendingPathComponent("\(stem)-\(Self.stamp(now)).db") : destination
        Self.removeAbandonedPartials(beside: target, stem: stem, olderThan: now.addingTimeInterval(-3600))
        let partial = try PrivateFiles.makeFreshFile(beside: target, tag: "partial")
        defer { for suffix in ["", "-wal", "-shm"] { unlink(partial + suffix) } }
        let sessions = try ArchiveReader.copy(database, to: partial)
        try PrivateFiles.commit(partial, to: target)
        let removed = intoFolder ? try Self.removeOlderBackups(in: destination, stem: stem, keeping: keep) : []
        let size = (try? FileManager.default.attributesOfItem(atPath: target)[.size] as? Int) ?? 0
        return BackupResult(path: target, bytes: size, sessions: sessions, seconds: Date().timeIntervalSince(started),
                            removed: removed)
    }

    /// `database` copied into the empty file at `file`, checked and made one
    /// self-contained file; throws (leaving `file` to the caller) if it fails
    /// its check. Returns the copy's sessions.
    @discardableResult
    static func copy(_ database: Database, to file: String) throws -> Int {
        try copyPages(of: database, to: file)
        return try checkAndSettle(file)
    }

    /// Checks the archive at `file` (throwing if it fails) and makes it one
    /// self-contained file; returns its sessions.
    static func checkAndSettle(_ file: String) throws -> Int {
        // The check's connection ends before the copy leaves WAL mode (which takes the file alone).
        let (problems, sessions) = try { () throws -> ([String], Int) in
            let copied = try ArchiveReader(path: file)
            return (try copied.integrityProblems(), try copied.counts().sessions)
        }()
        guard problems.isEmpty else { throw BackupCheckError(path: file, problems: problems) }
        let settle = try Database(path: file, mode: .readWrite)
        try settle.execute("PRAGMA journal_mode = DELETE")
        try settle.close()
        return sessions
    }

    /// Rewrites each backup without the sessions this archive has forgotten
    /// (whole, or their text where usage was kept), and with its `forgotten`
    /// records: a backup restored later still skips them. Each is rewritten
    /// in a staged copy beside it, checked, then renamed over it; the old
    /// file's blocks are released, not overwritten (see docs/backups.md).
    public func purgeForgotten(inBackups paths: [String]) throws -> [PurgedBackup] {
        let records = try forgottenRecords()
        return try paths.map { backup in
            let partial = try PrivateFiles.makeFreshFile(beside: backup, tag: "partial")
            defer { for suffix in ["", "-wal", "-shm"] { unlink(partial + suffix) } }
            do {
                let source = try ArchiveSchema.openFromElsewhere(backup)
                defer { try? source.close() }
                try Self.copyPages(of: source, to: partial)
            } catch let error as SQLiteError {
                throw PrivateFiles.FileError(path: backup, reason: error.message)
            }
            let removed = try ArchiveWriter(path: partial).closing { try $0.applyForgotten(records) }
            let sessions = try Self.checkAndSettle(partial)
            try PrivateFiles.commit(partial, to: backup)
            let size = (try? FileManager.default.attributesOfItem(atPath: backup)[.size] as? Int) ?? 0
            return PurgedBackup(path: backup, removed: removed.sessions, sessions: sessions, bytes: size)
        }
    }

    /// Copies a killed backup left under a hidden temporary name (an hour
    /// untouched: no backup still writes them), removed.
    static func removeAbandonedPartials(beside target: String, stem: String, olderThan cut: Date) {
        let folder = (target as NSString).deletingLastPathComponent
        let name = (target as NSString).lastPathComponent
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder)) ?? []
        where entry.hasPrefix(".") && entry.contains(".partial-") && (entry.hasPrefix("." + stem + "-") || entry.hasPrefix("." + name + ".")) {
            let path = ((folder.isEmpty ? "." : folder) as NSString).appendingPathComponent(entry)
            guard let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date, modified < cut else { continue }
            unlink(path)
        }
    }

    /// The newest dated backup of the archive at `archivePath` in `folder`: its path and size.
    public static func latestBackup(of archivePath: String, in folder: String) -> (path: String, bytes: Int)? {
        guard let path = backups(of: archivePath, in: folder).last else { return nil }
        return (path, (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
    }

    /// The dated backups of the archive at `archivePath` in `folder`, oldest first.
    public static func backups(of archivePath: String, in folder: String) -> [String] {
        let stem = ((archivePath as NSString).lastPathComponent as NSString).deletingPathExtension
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter {
            isDatedBackup($0, stem: stem)
        }.sorted().map { (folder as NSString).appendingPathComponent($0) }
    }

    static func isDatedBackup(_ name: String, stem: String) -> Bool {
        name.hasPrefix(stem + "-") && name.hasSuffix("Z.db") && name.dropFirst(stem.count + 1).first?.isNumber == true
    }

    /// `database`'s pages in the empty file at `file`, as they are at one instant.
    static func copyPages(of database: Database, to file: String) throws {
        do {
            // A copy in WAL mode takes pages of its source's size only.
            let copy = try Database(path: file, mode: .readWrite, pageSize: try database.scalar("PRAGMA page_size", as: Int.self))
            try database.copy(into: copy)
            try copy.close()
        } catch let error as SQLiteError {
            throw PrivateFiles.FileError(path: file, reason: error.message)
        }
    }

    /// `2026-12-03T201500Z`: sorts as time does, and is a file name everywhere.
    static func stamp(_ date: Date) -> String {
        let text = Timestamp.format(date: date)  // 2026-12-03T20:15:00.000000Z
        return String(text.prefix(19)).replacingOccurrences(of: ":", with: "") + "Z"
    }

    /// The dated backups of this archive in `folder` beyond the newest `keep`, removed.
    static func removeOlderBackups(in folder: String, stem: String, keeping keep: Int?) throws -> [String] {
        guard let keep else { return [] }
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { isDatedBackup($0, stem: stem) }.sorted()
        return names.dropLast(keep).map { name in
            let path = (folder as NSString).appendingPathComponent(name)
            unlink(path)
            return path
        }
    }
}

extension ArchiveWriter {
    /// Replaces the archive's content with a checked copy of `source`; the
    /// archive as it was is kept first as `ARCHIVE.before-restore-STAMP`.
    /// The content goes in through SQLite's backup API, in one write
    /// transaction on the archive's own file: readers that have it open see
    /// the old archive or the restored one, never a deleted file or half of
    /// either, and its WAL and shared memory stay SQLite's to keep. The
    /// caller holds the writers' lock.
    public func restore(from source: String, now: Date = Date()) throws -> RestoreResult {
        let started = Date()
        // The source is read, never written: a checked copy of it goes beside the archive first.
        let sourceDatabase = try ArchiveSchema.openFromElsewhere(source)
        return try TemporaryFiles.withCopy(beside: path, tag: "restore") { staged in
            try restore(from: source, database: sourceDatabase, staged: staged, started: started, now: now)
        }
    }

    private func restore(from source: String, database sourceDatabase: Database, staged: String, started: Date,
                         now: Date) throws -> RestoreResult {
        // An archive of an earlier schema is brought up to date in the copy, then checked.
        try ArchiveReader.copyPages(of: sourceDatabase, to: staged)
        try ArchiveWriter.upgrade(path: staged, onUpgrade: { _, _ in })
        let problems = try ArchiveReader(path: staged).integrityProblems()
        guard problems.isEmpty else { throw BackupCheckError(path: source, problems: problems) }

        let previous = path + ".before-restore-" + ArchiveReader.stamp(now)
        let keptCopy = try PrivateFiles.makeFreshFile(beside: previous, tag: "partial")
        defer { for suffix in ["", "-wal", "-shm"] { unlink(keptCopy + suffix) } }
        try ArchiveReader.copy(database, to: keptCopy)
        try PrivateFiles.commit(keptCopy, to: previous)

        let restored = try Database(path: staged, mode: .readOnly)
        let sizes = (try restored.scalar("PRAGMA page_size", as: Int.self), try database.scalar("PRAGMA page_size", as: Int.self))
        guard sizes.0 == sizes.1 else {
            throw PrivateFiles.FileError(path: path, reason: "the backup's pages are of \(sizes.0 ?? 0) bytes, the archive's of \(sizes.1 ?? 0); "
                                          + "restore it to a new archive path instead")
        }
        do { try restored.copy(into: database) } catch let error as SQLiteError {
            throw PrivateFiles.FileError(path: path, reason: error.message)
        }
        try restored.close()
        typeCodes = InternedCodes()
        groupCodes = InternedCodes()
        return RestoreResult(restoredFrom: source, previous: previous, sessions: try reader.counts().sessions,
                             seconds: Date().timeIntervalSince(started))
    }
}
