import Foundation
import LlamaCloudClient
import LosslessJSON
import SQLiteCore

/// `archive import OTHER.db`: another archive's sessions merged into this one
/// by the rules of a JSONL import (the newer history wins, a rewritten one is
/// kept as a revision, usage and rollups move with the rows), with their
/// projects, organizations, deletion marks and revisions. The other file is
/// only read: one instant of it is copied beside this archive and the copy,
/// upgraded to this binary's schema, is what is read.
public struct ArchiveMerge {
    /// The other archive's sessions, and what saving them came to (`older`:
    /// this archive holds a newer history; `forgotten`: forgotten in this one).
    @dynamicMemberLookup
    public struct Report: CountsSaves, Sendable, Equatable {
        public var sessions = 0
        public var saved = SaveCounts()
        /// The other archive's revisions this one did not hold.
        public var revisions = 0
        public var markedDeleted = 0

        private enum Keys: String, CodingKey { case sessions, revisions, markedDeleted }

        public func encode(to encoder: any Encoder) throws {
            try saved.encode(to: encoder)
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(sessions, forKey: .sessions)
            try container.encode(revisions, forKey: .revisions)
            try container.encode(markedDeleted, forKey: .markedDeleted)
        }
    }

    /// Whether the file starts as an SQLite database does (then it is merged, not read as JSON).
    public static func isArchive(path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: 16)) == Data("SQLite format 3\u{0}".utf8)
    }

    let store: ArchiveWriter
    let redactor: Redactor
    let onFailure: (String) -> Void

    /// `redactor`: this archive's `[[redact]]` rules, applied to the other's sessions as to any import.
    public init(store: ArchiveWriter, redactor: Redactor = Redactor(), onFailure: @escaping (String) -> Void) {
        self.store = store
        self.redactor = redactor
        self.onFailure = onFailure
    }

    public func merge(_ otherPath: String) throws -> Report {
        let source = try ArchiveSchema.openFromElsewhere(otherPath)
        return try TemporaryFiles.withCopy(beside: store.path, tag: "merging") { copyPath in
            do {
                try ArchiveReader.copyPages(of: source, to: copyPath)
                try source.close()
            } catch {
                throw ArchiveError.unusableArchive(path: otherPath, reason: "\(error)")
            }
            return try merge(copy: copyPath, named: otherPath)
        }
    }

    /// The copy, upgraded to this binary's schema, merged.
    private func merge(copy copyPath: String, named otherPath: String) throws -> Report {
        let other: ArchiveWriter
        do { other = try ArchiveWriter(path: copyPath) } catch {
            throw ArchiveError.unusableArchive(path: otherPath, reason: "\(error)".replacingOccurrences(of: copyPath, with: otherPath))
        }
        return try other.closing { other in try merge(from: other.reader, named: otherPath) }
    }

    private struct Entry {
        let id: String, project: String?, organization: String?, updated: String, deleted: String?
        /// Its source here, and its key in the other archive.
        let source: SourceKey, otherKey: Int64
    }

    /// The other archive's sources as this archive's (added here by name on first sight).
    private func sourceMap(from other: ArchiveReader) throws -> [Int64: SourceKey] {
        var map: [Int64: SourceKey] = [:]
        for source in try other.sources() {
            map[source.key.rawValue] = try store.source(named: source.name, baseURL: source.baseURL, organizationID: source.organizationID)
        }
        return map
    }

    private func merge(from other: ArchiveReader, named otherPath: String) throws -> Report {
        var report = Report()
        var entries: [Entry] = []
        let sources = try sourceMap(from: other)
        try other.database.forEachRow("""
            SELECT session_id, project_id, organization_id, last_updated_at, deleted_at, source_key, session_key FROM sessions
            ORDER BY last_updated_at, session_id, source_key
            """) { row in
            entries.append(Entry(id: try row.string(0), project: try row.optionalString(1), organization: try row.optionalString(2),
                                 updated: try row.string(3), deleted: try row.optionalString(4),
                                 source: sources[try row.int64(5)] ?? .default, otherKey: try row.int64(6)))
        }
        let hashKey = try store.reader.sourceHashKey()
        try store.prepareForBulkWrites()
        var deletedLater: [Entry] = []
        let saver = SessionSaver<Entry>(
            writer: store, organizationID: nil, keepingNewer: true, batchSize: Importer.batchSize,
            onSaved: { entry, outcome in if entry.origin.deleted != nil, outcome == .new { deletedLater.append(entry.origin) } },
            onFailed: { [onFailure] entry, error in
                onFailure("\(otherPath): session \(Printable.clean(entry.origin.id, limit: 200)): \(error)")
            })
        let archived = try store.database.prepare("SELECT last_updated_at FROM sessions WHERE session_id = ? AND source_key = ?")
        for entry in entries {
            // A history the other archive saw deleted: when we hold the same one it is marked here too; it is
            // never saved over ours (which would make it live) only to be marked again.
            if let deleted = entry.deleted, let ours = try archived.scalar([entry.id, entry.source.rawValue], as: String.self) {
                if ours != entry.updated {
                    report.older += 1
                } else if try store.markDeleted(sessionID: entry.id, source: entry.source, at: deleted) {
                    report.markedDeleted += 1
                } else {
                    report.unchanged += 1
                }
                continue
            }
            guard let json = try other.sessionJSON(sessionKey: entry.otherKey) else { continue }
            let bytes = Array(json.utf8)
            do {
                let session = try Normalizer.normalize(body: bytes, sourceHash: SourceHash.of(bytes, key: hashKey), redactor: redactor)
                try saver.add(session, projectID: entry.project, organizationID: entry.organization, source: entry.source, origin: entry)
            } catch let error as ArchiveError {
                throw error
            } catch {
                report.failed += 1
                onFailure("\(otherPath): session \(Printable.clean(entry.id, limit: 200)): \(error)")
            }
        }
        try saver.commit()
        report.saved += saver.counts
        for entry in deletedLater where try store.markDeleted(sessionID: entry.id, source: entry.source, at: entry.deleted!) {
            report.markedDeleted += 1
        }
        report.sessions = entries.count
        try other.database.forEachRow("""
            SELECT session_id, superseded_at, payload, source_key FROM session_revisions ORDER BY session_id, source_key, revision
            """) { row in
            if try store.addRevision(sessionID: row.string(0), source: sources[try row.int64(3)] ?? .default, supersededAt: row.string(1),
                                     payload: row.string(2)) { report.revisions += 1 }
        }
        return report
    }
}

extension ArchiveWriter {
    /// Keeps a superseded history of a session this archive holds, unless
    /// one with the same bytes is kept already; whether it was added.
    func addRevision(sessionID: String, source: SourceKey, supersededAt: String, payload: String) throws -> Bool {
        try atomically {
            guard try database.cached("SELECT 1 FROM sessions WHERE session_id = ? AND source_key = ?")
                    .scalar([sessionID, source.rawValue], as: Int.self) != nil,
                  try database.cached("SELECT 1 FROM session_revisions WHERE session_id = ? AND source_key = ? AND payload = ?")
                    .scalar([sessionID, source.rawValue, payload], as: Int.self) == nil else { return false }
            try database.cached("""
                INSERT INTO session_revisions(session_id, source_key, revision, superseded_at, payload)
                SELECT ?1, ?4, coalesce(max(revision), 0) + 1, ?2, ?3 FROM session_revisions WHERE session_id = ?1 AND source_key = ?4
                """).execute([sessionID, supersededAt, payload, source.rawValue])
            addToCounts(ArchiveCounts.Delta(revisions: 1))
            return true
        }
    }
}
