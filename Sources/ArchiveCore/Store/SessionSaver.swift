import SQLiteCore

/// What saving sessions came to, counted one way for sync and import.
public struct SaveCounts: Sendable, Codable, Equatable {
    public var new = 0
    public var updated = 0
    public var unchanged = 0
    /// Not saved: the archive holds a newer history (import only).
    public var older = 0
    /// Not saved: forgotten on purpose (`archive forget`).
    public var forgotten = 0
    public var failed = 0

    public init() {}

    static func += (total: inout SaveCounts, more: SaveCounts) {
        total.new += more.new
        total.updated += more.updated
        total.unchanged += more.unchanged
        total.older += more.older
        total.forgotten += more.forgotten
        total.failed += more.failed
    }

    mutating func count(_ outcome: ArchiveWriter.SaveOutcome) {
        switch outcome {
        case .new: new += 1
        case .unchanged: unchanged += 1
        case .appended, .rewritten, .metadataChanged, .contentRestored: updated += 1
        case .olderThanArchived: older += 1
        case .forgotten: forgotten += 1
        }
    }
}

/// A report that counts saves (an import's, a merge's): `SaveCounts`'
/// members read as its own, and in its JSON as its own keys.
public protocol CountsSaves: Encodable {
    var saved: SaveCounts { get set }
}

extension CountsSaves {
    public subscript<T>(dynamicMember member: WritableKeyPath<SaveCounts, T>) -> T {
        get { saved[keyPath: member] }
        set { saved[keyPath: member] = newValue }
    }
}

/// The one path from normalised sessions to the archive, for sync and
/// import. Sessions are saved in batches, one transaction each. A batch that
/// fails on one session's data is saved again one session at a time, so
/// that only that session fails (`onFailed`) and the others are kept. A
/// failure of the environment (disk full, I/O error, a corrupt or read-only
/// file, a closed connection) ends the write: `ArchiveError.cannotWrite`.
final class SessionSaver<Origin> {
    struct Pending {
        let session: NormalizedSession
        let projectID: String?
        /// Its own organization (a merged archive's), else the saver's.
        var organizationID: String? = nil
        var source = SourceKey.default
        /// Where it came from, for the caller's messages (a file and line, or nothing).
        let origin: Origin
    }

    private let writer: ArchiveWriter
    private let organizationID: String?
    private let keepingNewer: Bool
    let batchSize: Int
    private var pending: [Pending] = []
    private(set) var counts = SaveCounts()
    private let onSaved: (Pending, ArchiveWriter.SaveOutcome) -> Void
    private let onFailed: (Pending, any Error) -> Void
    private let afterCommit: () -> Void

    init(writer: ArchiveWriter, organizationID: String?, keepingNewer: Bool, batchSize: Int,
         onSaved: @escaping (Pending, ArchiveWriter.SaveOutcome) -> Void = { _, _ in },
         onFailed: @escaping (Pending, any Error) -> Void, afterCommit: @escaping () -> Void = {}) {
        self.writer = writer
        self.organizationID = organizationID
        self.keepingNewer = keepingNewer
        self.batchSize = batchSize
        self.onSaved = onSaved
        self.onFailed = onFailed
        self.afterCommit = afterCommit
    }

    var hasPending: Bool { !pending.isEmpty }

    /// Queues a session; commits the batch once it is full.
    func add(_ session: NormalizedSession, projectID: String?, organizationID: String? = nil, source: SourceKey = .default,
             origin: Origin) throws(ArchiveError) {
        pending.append(Pending(session: session, projectID: projectID, organizationID: organizationID, source: source, origin: origin))
        if pending.count >= batchSize { try commit() }
    }

    /// Commits what is queued.
    func commit() throws(ArchiveError) {
        guard !pending.isEmpty else { return }
        let batch = pending
        pending.removeAll(keepingCapacity: true)
        do {
            let outcomes = try writer.batch { try batch.map(save) }
            zip(batch, outcomes).forEach(record)
        } catch {
            try Self.stopIfFatal(error, path: writer.path)
            guard batch.count > 1 else { return fail(batch[0], error) }
            for entry in batch {
                do { record(entry, try save(entry)) } catch {
                    try Self.stopIfFatal(error, path: writer.path)
                    fail(entry, error)
                }
            }
        }
        afterCommit()
    }

    private func save(_ entry: Pending) throws -> ArchiveWriter.SaveOutcome {
        try writer.save(entry.session, projectID: entry.projectID, organizationID: entry.organizationID ?? organizationID,
                        source: entry.source, syncedAt: Timestamp.now(), keepingNewer: keepingNewer)
    }

    private func record(_ entry: Pending, _ outcome: ArchiveWriter.SaveOutcome) {
        counts.count(outcome)
        onSaved(entry, outcome)
    }

    private func fail(_ entry: Pending, _ error: any Error) {
        counts.failed += 1
        onFailed(entry, error)
    }

    /// The rule for what ends a write, shared by every writer of the archive.
    static func stopIfFatal(_ error: any Error, path: String) throws(ArchiveError) {
        if let error = error as? ArchiveError { throw error }
        guard let error = error as? SQLiteError else { return }
        if error.isEnvironmental || error.resultCode == .misuse { throw .cannotWrite(path: path, reason: error.message) }
    }
}
