import Foundation
import LosslessJSON
import SQLiteCore

/// The archive opened for writing: sync, import and deletion marks go
/// through it (saving, deletion and the run log live in the extensions
/// beside this file). It owns its connection: `close()` ends it, and a
/// writer must be closed before it is released. One writer per connection;
/// not Sendable. Its `reader` reads through the same connection.
public final class ArchiveWriter {
    let database: Database
    public let path: String
    /// The reads a writer needs (what is archived already), on its own connection.
    public let reader: ArchiveReader
    private(set) var isClosed = false
    /// Event type codes known to be committed; those written by the session or
    /// batch in progress join them only once it commits.
    var typeCodes = InternedCodes<EventShape>()
    /// Codes of `rollup_groups`, known like the type codes.
    var groupCodes = InternedCodes<RollupGroup>()
    /// Rollup and count changes of the transaction in progress, written just
    /// before it commits (see `PendingRollups`).
    var pending = PendingRollups()
    /// Takes the tokens of `NormalizedSession.searchTokens` instead of tokenizing again.
    let searchTokenReplay: FTS5TokenReplay?
    /// Checkpoints are left to an external replicator (Litestream): no
    /// automatic checkpoints, no checkpointer thread.
    public let externalCheckpoints: Bool

    /// Opens the archive, creating and migrating it when needed. `onUpgrade`
    /// hears of an archive of an earlier schema (its version, the new one)
    /// before it is upgraded, which can take seconds for a large one.
    /// Not public: a writer is made by `Archive.write`, under the writers'
    /// lock. Tests and fuzz targets, the only process on their files, reach
    /// it as SPI (`@_spi(Testing) import ArchiveCore`).
    @_spi(Testing) public init(path: String, externalCheckpoints: Bool = false, onUpgrade: (_ from: Int, _ to: Int) -> Void = { _, _ in }) throws {
        // The token replay wraps the search tokenizer before anything (a
        // migration) connects the search index, which binds its tokenizer once.
        (database, searchTokenReplay) = try ArchiveSchema.opening(path) { () throws -> (Database, FTS5TokenReplay?) in
            try ArchiveSchema.refuseForeignDatabase(at: path)
            try ArchiveLocation.prepare(path: path)
            let database = try Database(path: path, pageSize: ArchiveSchema.pageSize)
            let replay = try FTS5TokenReplay(database: database, name: String(ArchiveSchema.searchTokenizer.prefix { $0 != " " }))
            let applied = try ArchiveSchema.migrator.appliedVersion(of: database)
            if applied > 0 && applied < ArchiveSchema.version { onUpgrade(applied, ArchiveSchema.version) }
            let upgraded = try ArchiveSchema.migrator.migrate(database) { Timestamp.now() }
            if externalCheckpoints {
                try database.execute("PRAGMA wal_autocheckpoint = 0")
            } else if applied > 0 && !upgraded.isEmpty {
                // An upgrade that rebuilt tables leaves a WAL of hundreds of MB;
                // left there, every later process would first read it whole
                // (WAL recovery) whenever it opens the archive alone.
                _ = try database.scalar("PRAGMA wal_checkpoint(TRUNCATE)", as: Int.self)
            }
            // What a writer deletes (a rewritten history, a forgotten session) is
            // overwritten with zeros, not left in free space (see ArchiveWriter+Forgetting).
            try database.execute("PRAGMA secure_delete = ON")
            return (database, replay)
        }
        self.externalCheckpoints = externalCheckpoints
        self.path = path
        reader = ArchiveReader(sharing: database, path: path)
    }

    /// Runs `body` with the archive open for writing, and closes it after,
    /// whether `body` returns or throws.
    public func closing<T>(after body: (ArchiveWriter) throws -> T) throws -> T {
        let result: T
        do { result = try body(self) } catch {
            try? close()
            throw error
        }
        try close()
        return result
    }

    /// `closing(after:)` for an asynchronous `body`.
    public func closing<T>(after body: (ArchiveWriter) async throws -> T) async throws -> T {
        let result: T
        do { result = try await body(self) } catch {
            try? close()
            throw error
        }
        try close()
        return result
    }

    /// Brings an archive of an earlier schema up to date, and closes it again.
    static func upgrade(path: String, onUpgrade: (_ from: Int, _ to: Int) -> Void) throws {
        let writer = try ArchiveWriter(path: path, onUpgrade: onUpgrade)
        try writer.close()
    }

    /// Ends the connection: a transaction still open is rolled back, and the
    /// WAL is checkpointed by SQLite as the last connection closes. Using the
    /// writer (or its reader) afterwards fails.
    public func close() throws {
        guard !isClosed else { return }
        isClosed = true
        try database.close()
    }

    deinit {
        assert(isClosed, "an ArchiveWriter of \(path) was released without close()")
    }
}
