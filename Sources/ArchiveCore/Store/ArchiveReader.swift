import Foundation
import SQLiteCore

/// The archive opened for reading: reports, show, export, status and
/// `archive sql` ask through it. It cannot write (its connection is
/// read-only, or a writer's own, whose reads it offers). Not Sendable.
public final class ArchiveReader {
    let database: Database
    public let path: String

    /// Opens an existing archive for reading only; refuses a newer schema. An
    /// archive of an earlier schema is first brought up to date by `upgrade`
    /// (`Archive`'s, under the writers' lock; by default a writer of its own,
    /// for copies no other process knows), which takes a moment of writing
    /// the first time only.
    @_spi(Testing) public init(path: String, onUpgrade: (_ from: Int, _ to: Int) -> Void = { _, _ in }, upgrade: (() throws -> Void)? = nil) throws {
        database = try ArchiveSchema.opening(path) { () throws -> Database in
            var database = try Database(path: path, mode: .readOnly)
            let applied = try ArchiveSchema.migrator.appliedVersion(of: database)
            if applied == 0 { throw ArchiveError.unusableArchive(path: path, reason: ArchiveSchema.foreignReason) }
            if applied < ArchiveSchema.version {
                if let upgrade { try upgrade() } else { try ArchiveWriter.upgrade(path: path, onUpgrade: onUpgrade) }
                database = try Database(path: path, mode: .readOnly)
            }
            try ArchiveSchema.migrator.checkNotNewer(database)
            return database
        }
        self.path = path
    }

    init(sharing database: Database, path: String) {
        self.database = database
        self.path = path
    }

    /// Ends the connection; using the reader afterwards fails.
    func close() { try? database.close() }

    public func appliedSchemaVersion() throws -> Int {
        try ArchiveSchema.migrator.appliedVersion(of: database)
    }
}
