import Foundation
import LosslessJSON
import SQLiteCore

/// The archive file: opening and migrating it (writing, reading back and
/// deletion marks live in the extensions beside this file). One store per
/// connection; not Sendable.
public final class ArchiveStore {
    let database: Database
    public var path: String { database.path }
    static let migrator = try! Migrator(EmbeddedMigrations.all)
    /// Event type codes known to be committed; those written by the session or
    /// batch in progress join them only once it commits.
    var typeCodes = InternedCodes<EventShape>()
    /// Codes of `rollup_groups`, known like the type codes.
    var groupCodes = InternedCodes<RollupGroup>()
    /// Rollup and count changes of the transaction in progress, written just
    /// before it commits (see `PendingRollups`).
    var pending = PendingRollups()

    /// Pages of 16 KB rather than 4 KB: search index segments and event rows
    /// fill them with less waste (about 3% of the file) and bulk writes touch fewer pages.
    static let pageSize = 16384

    /// The tokenizer of `search_index` (Migrations/0002): snippets and tokens
    /// made ahead of the writer must use the same.
    public static let searchTokenizer = "porter unicode61 remove_diacritics 2"
    /// Takes the tokens of `NormalizedSession.searchTokens` instead of tokenizing again.
    let searchTokenReplay: FTS5TokenReplay?

    public static var schemaVersion: Int { migrator.latestVersion }

    /// Opens the archive, creating and migrating it when needed. `onUpgrade`
    /// hears of an archive of an earlier schema (its version, the new one)
    /// before it is upgraded, which can take seconds for a large one.
    public init(path: String, onUpgrade: (_ from: Int, _ to: Int) -> Void = { _, _ in }) throws {
        do {
            try Self.refuseForeignDatabase(at: path)
            try ArchiveLocation.prepare(path: path)
            database = try Database(path: path, pageSize: Self.pageSize)
            searchTokenReplay = try FTS5TokenReplay(database: database, name: String(Self.searchTokenizer.prefix { $0 != " " }))
            let applied = try Self.migrator.appliedVersion(of: database)
            if applied > 0 && applied < Self.migrator.latestVersion { onUpgrade(applied, Self.migrator.latestVersion) }
            try Self.migrator.migrate(database) { Timestamp.now() }
        } catch let error as SQLiteError {
            throw ArchiveError.unusableArchive(path: path, reason: error.message)
        } catch let error as MigrationError {
            throw ArchiveError.unusableArchive(path: path, reason: error.description)
        }
    }

    /// Opens an existing archive for reading only; refuses a newer schema. An
    /// archive of an earlier schema is first brought up to date, which takes
    /// a moment of writing the first time only.
    public init(readingFrom path: String, onUpgrade: (_ from: Int, _ to: Int) -> Void = { _, _ in }) throws {
        do {
            var database = try Database(path: path, mode: .readOnly)
            let applied = try Self.migrator.appliedVersion(of: database)
            if applied == 0 { throw ArchiveError.unusableArchive(path: path, reason: Self.foreignReason) }
            if applied > 0 && applied < Self.migrator.latestVersion {
                _ = try ArchiveStore(path: path, onUpgrade: onUpgrade)
                database = try Database(path: path, mode: .readOnly)
            }
            try Self.migrator.checkNotNewer(database)
            self.database = database
            searchTokenReplay = nil
        } catch let error as SQLiteError {
            throw ArchiveError.unusableArchive(path: path, reason: error.message)
        } catch let error as MigrationError {
            throw ArchiveError.unusableArchive(path: path, reason: error.description)
        }
    }

    static let foreignReason = "it is a SQLite file of another program (it has no schema_migrations), left as it is"

    /// A SQLite file that holds tables but is no archive belongs to another
    /// program: refused before anything (not even the journal mode) changes it.
    static func refuseForeignDatabase(at path: String) throws {
        guard let size = try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int, size > 0 else { return }
        let database = try Database(path: path, mode: .readOnly)
        let tables = try database.scalar("SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'", as: Int.self) ?? 0
        if tables > 0, try migrator.appliedVersion(of: database) == 0 {
            throw ArchiveError.unusableArchive(path: path, reason: foreignReason)
        }
    }

    public func appliedSchemaVersion() throws -> Int {
        try Self.migrator.appliedVersion(of: database)
    }

}
